"""Typed records of a scenario world: countries, places, links, the timeline, entry rules, push events.

Records are frozen pydantic models built by :mod:`emigre.scenario.load` after row-level validation (which
is what gives file/line/column errors); ``line`` keeps the CSV line so a check can point back to the row.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

PLACE_KINDS = ("origin", "airport", "crossing", "city", "hub")
MODES = ("air", "road", "rail", "sea")
DOCUMENTS = ("internal_passport", "foreign_passport", "schengen_visa")
RULES = ("visa_free", "visa_on_arrival", "e_visa", "visa_required", "banned")
EFFECTS = ("closed", "restricted", "capacity")
PUSH_KINDS = ("push", "exit_restriction")
WEIGHT_GROUPS = ("moscow", "spb", "millionplus", "other")
HOME = "RUS"  # the country people leave; exit rules apply to links leaving it

#: rules under which a traveller holding only the document may enter (a visa they do not hold is needed otherwise)
_ADMITTING = frozenset({"visa_free", "visa_on_arrival", "e_visa"})


def admits(rule: str, document: str, schengen_member: bool) -> bool:
    """Whether ``rule`` lets a holder of ``document`` in; a Schengen visa satisfies a Schengen state's visa
    requirement (that is the whole point of holding one)."""
    if rule in _ADMITTING:
        return True
    return rule == "visa_required" and document == "schengen_visa" and schengen_member


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Country(_Record):
    """A row of countries.csv."""

    iso3: str
    name: str
    eu: bool
    schengen: bool
    source: str
    notes: str = ""
    line: int = 0


class Place(_Record):
    """A row of places.csv."""

    id: str
    name: str
    kind: str
    country: str
    lat: float
    lon: float
    population: int | None = None
    iata: str = ""
    coord_source: str = ""
    source: str
    notes: str = ""
    line: int = 0


class Link(_Record):
    """A two-way connection; stored from the Russian (or origin) side, status applies to both directions."""

    id: str
    from_place: str
    to_place: str
    from_country: str
    to_country: str
    mode: str
    distance_km: float
    travel_hours: float
    derived_geometry: bool  # True when distance/time come from coordinates and the travel parameters
    capacity_per_day: float | None = None
    capacity_source: str = ""
    cost_rub: float | None = None
    cost_source: str = ""
    source: str
    notes: str = ""
    line: int = 0

    @property
    def international(self) -> bool:
        """Whether the link crosses a border."""
        return self.from_country != self.to_country


class TimelineEntry(_Record):
    """A dated change of link status: ``closed``, ``restricted`` (exit only on special grounds) or a
    ``capacity`` factor; dates inclusive, ``None`` = open-ended."""

    id: str
    date_start: dt.date | None
    date_end: dt.date | None
    effect: str
    selector: str
    link_ids: tuple[str, ...]
    value: float | None = None
    value_ref: str = ""
    source: str
    description: str = ""
    line: int = 0

    def active(self, day: dt.date) -> bool:
        """Whether the entry applies on ``day``."""
        return (self.date_start is None or day >= self.date_start) and (
            self.date_end is None or day <= self.date_end
        )


class EntryRule(_Record):
    """A row of entry_rules.csv: how a document admits Russian citizens to a country over a period."""

    country: str
    document: str
    rule: str
    max_stay_days: int | None
    modes: tuple[str, ...] = ()  # modes by which the document is accepted; empty = any
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    admitted: bool
    source: str
    notes: str = ""
    line: int = 0

    def active(self, day: dt.date) -> bool:
        """Whether the rule applies on ``day``."""
        return (self.valid_from is None or day >= self.valid_from) and (
            self.valid_to is None or day <= self.valid_to
        )

    def as_json(self) -> dict:
        """The rule as JSON-ready fields."""
        return {
            "country": self.country,
            "document": self.document,
            "rule": self.rule,
            "max_stay_days": self.max_stay_days,
        }


class PushEvent(_Record):
    """A row of push_events.csv: an event that pushed people to leave."""

    id: str
    name: str
    kind: str
    date_start: dt.date
    date_end: dt.date | None
    targets: str
    intensity: str  # parameter name
    decay_days: str = ""  # parameter name or empty
    source: str
    description: str = ""
    line: int = 0

    def active(self, day: dt.date) -> bool:
        """Whether the event is under way on ``day``."""
        return day >= self.date_start and (self.date_end is None or day <= self.date_end)


class Param(_Record):
    """A parameter of params.yaml: its value, prior, unit and what it means."""

    name: str
    value: float
    prior: dict
    unit: str = ""
    doc: str


class Origin(_Record):
    """A row of origins.csv: a place people leave from and its weight group."""

    place: str
    weight_group: str
    millionplus: bool
    census2021_population: int | None = None
    census_source: str = ""
    source: str
    notes: str = ""
    line: int = 0


class LinkStatus(_Record):
    """A link on a day: open, closed or restricted, its capacity, and the timeline entries that say so."""

    link: str
    date: dt.date
    state: str  # open | closed | restricted
    capacity_factor: float = 1.0
    entries: tuple[str, ...] = ()  # timeline ids in force that day
    sources: tuple[str, ...] = ()

    @property
    def open(self) -> bool:
        """Open for an ordinary traveller."""
        return self.state == "open"
