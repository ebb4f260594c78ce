"""Typed, immutable evidence records. Validation happens in :mod:`emigre.evidence.schema`, which knows the
file, line and column of every value; the records only hold what passed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from emigre.evidence.dates import Precision, format_date


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a figure was published: publisher, date (with its precision) and URL."""

    publisher: str
    publication_date: date | None
    publication_date_precision: Precision | None
    url: str
    quote: str

    def as_text(self) -> str:
        """The citation as one line of text."""
        when = format_date(self.publication_date, self.publication_date_precision) or "n.d."
        return f'{self.publisher} ({when}). "{self.quote}" {self.url}'


class _Cited:
    """A record with its own publisher, publication date, URL and quote."""

    __slots__ = ()

    @property
    def citation(self) -> Citation:
        """Where the record was published, as one :class:`Citation`."""
        return Citation(
            self.publisher, self.publication_date, self.publication_date_precision, self.url, self.quote
        )


@dataclass(frozen=True, slots=True)
class Observation(_Cited):
    """One sourced figure. ``bound``/``qualifier``/``unit``/``quality_flags`` are derived (see bounds.py)."""

    id: str
    quantity: int | None
    low: int | None
    high: int | None
    kind: str
    origin: str  # as written in the file (``RU``)
    destination: str  # ISO3, ``ALL`` or ``EUU``
    period_start: date
    period_end: date
    period_start_precision: Precision
    period_end_precision: Precision
    publisher: str
    publication_date: date | None
    publication_date_precision: Precision | None
    url: str
    quote: str
    notes: str
    bound: str  # point | lower | upper | range
    qualifier: str | None
    unit: str  # persons | percent
    quality_flags: tuple[str, ...] = ()
    origin_iso3: str = ""
    line: int = field(default=0, compare=False)

    @property
    def weak(self) -> bool:
        """True when the notes or publisher flag a source-quality problem (anonymous, unverified, ...)."""
        return bool(self.quality_flags)

    @property
    def value(self) -> int:
        """A single representative number: the quantity, or the midpoint of a range without one."""
        if self.quantity is not None:
            return self.quantity
        assert self.low is not None and self.high is not None
        return (self.low + self.high) // 2

    @property
    def period_text(self) -> str:
        """The period as text at its precision."""
        a = format_date(self.period_start, self.period_start_precision)
        b = format_date(self.period_end, self.period_end_precision)
        return a if a == b else f"{a}..{b}"

    def to_dict(self) -> dict[str, Any]:
        """The observation as JSON-ready fields, with its weak flag and value text."""
        d = asdict(self)
        d.pop("line")
        d["weak"] = self.weak
        d["value_text"] = format_value(self)
        return _jsonable(d)


@dataclass(frozen=True, slots=True)
class Event:
    """A dated policy, route or push event. ``date_start`` is None for standing rules of unknown start."""

    id: str
    date_start: date | None
    date_end: date | None
    date_start_precision: Precision | None
    date_end_precision: Precision | None
    kind: str
    actors: tuple[str, ...]
    affects: str
    description: str
    url: str
    publisher: str
    publication_date: date | None
    publication_date_precision: Precision | None
    line: int = field(default=0, compare=False)

    def active_on(self, day: date) -> bool:
        """Whether the event is in force on ``day`` (open-ended when no end; standing when no start)."""
        if self.date_start is not None and day < self.date_start:
            return False
        return self.date_end is None or day <= self.date_end

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-ready fields."""
        d = asdict(self)
        d.pop("line")
        return _jsonable(d)


@dataclass(frozen=True, slots=True)
class SurveyShare(_Cited):
    """One row of reasons.csv: a share (or a median age) from a survey or an administrative count."""

    id: str
    survey: str
    fieldwork_start: date
    fieldwork_end: date
    fieldwork_precision: Precision
    sample_n: str  # as written ("853 (GEO) + 801 (ARM)", "~1500-2000")
    sample_size: int | None  # only when sample_n is a plain integer
    sample_frame: str
    variable: str
    category: str
    value: float | None  # None for categorical rows
    unit: str  # as written ("percent (more than)")
    unit_kind: str  # percent | years | categorical
    bound: str
    qualifier: str | None
    publisher: str
    publication_date: date | None
    publication_date_precision: Precision | None
    url: str
    quote: str
    notes: str
    line: int = field(default=0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The survey share as JSON-ready fields."""
        d = asdict(self)
        d.pop("line")
        return _jsonable(d)


@dataclass(frozen=True, slots=True)
class VisaRequirement:
    """What a Russian passport holder needed for one destination in one passport-index snapshot."""

    snapshot: str  # the date as written, or ``current``
    date: date | None  # None for the ``current`` snapshot
    destination: str
    raw: str
    requirement: str  # visa_free | visa_on_arrival | e_visa | eta | visa_required | covid_ban
    days: int | None  # visa-free days when the source gives a number
    legacy: bool  # from a 0-3 coded snapshot (2019); code 1 cannot tell an e-visa from an eTA
    line: int = field(default=0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The visa requirement as JSON-ready fields."""
        d = asdict(self)
        d.pop("line")
        return _jsonable(d)


def _fmt_int(n: int) -> str:
    return f"{n:,}"


def format_value(obs: Observation) -> str:
    """The figure with its bound: ">300,000", "<62,000", "200,000-300,000", "600,000 (500,000-700,000)"."""
    pct = "%" if obs.unit == "percent" else ""
    if obs.bound == "range":
        assert obs.low is not None and obs.high is not None
        span = f"{_fmt_int(obs.low)}{pct}-{_fmt_int(obs.high)}{pct}"
        return f"{_fmt_int(obs.quantity)}{pct} ({span})" if obs.quantity is not None else span
    assert obs.quantity is not None
    prefix = {"lower": ">", "upper": "<"}.get(obs.bound, "~" if obs.qualifier else "")
    return f"{prefix}{_fmt_int(obs.quantity)}{pct}"
