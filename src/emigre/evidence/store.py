"""Load the packaged evidence (cached) or a user's files, and query them."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from emigre.errors import EmigreError
from emigre.evidence import codes
from emigre.evidence.dates import DATE_FORMATS, parse_partial_date
from emigre.evidence.records import Event, Observation, SurveyShare, VisaRequirement
from emigre.evidence.schema import parse_rows, read_table

FILES = {
    "observations": "observations.csv",
    "events": "events.csv",
    "survey_shares": "reasons.csv",
    "visa_history": "passport_index_RUS_history.csv",
}


def data_dir() -> Path:
    """Folder of the packaged evidence files (``emigre/data/evidence``)."""
    return Path(str(resources.files("emigre").joinpath("data/evidence")))


def _load(schema: str, path: str | Path | None) -> tuple:
    if path is None:
        return _load_packaged(schema)
    return tuple(parse_rows(read_table(path, what=f"{schema.replace('_', ' ')} file"), schema))


@cache
def _load_packaged(schema: str) -> tuple:
    # Records are frozen, so one shared tuple per packaged file is safe to hand out.
    path = data_dir() / FILES[schema]
    return tuple(parse_rows(read_table(path, what=f"packaged {schema.replace('_', ' ')} file"), schema))


def load_observations(path: str | Path | None = None) -> tuple[Observation, ...]:
    """Observations from ``path`` (observations.csv schema) or, by default, the packaged file."""
    return _load("observations", path)


def load_events(path: str | Path | None = None) -> tuple[Event, ...]:
    """Events from ``path`` (events.csv schema) or, by default, the packaged timeline."""
    return _load("events", path)


def load_survey_shares(path: str | Path | None = None) -> tuple[SurveyShare, ...]:
    """Survey and administrative shares from ``path`` (reasons.csv schema) or the packaged file."""
    return _load("survey_shares", path)


def load_visa_history(path: str | Path | None = None) -> tuple[VisaRequirement, ...]:
    """Visa requirements per snapshot and destination (passport-index history) or the packaged file."""
    return _load("visa_history", path)


def parse_query_date(text: str, *, end: bool = False, option: str = "date") -> date:
    """A query date (``YYYY-MM-DD`` or ``YYYY-MM``); a month means its first day, or its last when ``end``."""
    try:
        pd = parse_partial_date(text)
    except ValueError as exc:
        raise EmigreError(f"{option}: bad date {text!r} ({exc}); expected {DATE_FORMATS}") from None
    return pd.last if end else pd.first


def _as_date(value: date | str | None, *, end: bool, option: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return parse_query_date(value, end=end, option=option)


@dataclass(frozen=True)
class Evidence:
    """All four evidence tables with lookups by id and a filter over observations."""

    observations: tuple[Observation, ...]
    events: tuple[Event, ...]
    survey_shares: tuple[SurveyShare, ...]
    visa_history: tuple[VisaRequirement, ...]
    _by_id: dict[str, Observation | Event | SurveyShare] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Observation | Event | SurveyShare] = {}
        for rec in (*self.observations, *self.events, *self.survey_shares):
            if rec.id in by_id:
                raise EmigreError(f"id {rec.id!r} is used in two evidence tables")
            by_id[rec.id] = rec
        object.__setattr__(self, "_by_id", by_id)

    def ids(self) -> list[str]:
        """Every record id."""
        return list(self._by_id)

    def get(self, record_id: str) -> Observation | Event | SurveyShare:
        """The observation, event or survey share with this id; unknown ids fail with close matches."""
        rec = self._by_id.get(record_id) or self._by_id.get(record_id.upper())
        if rec is not None:
            return rec
        close = difflib.get_close_matches(record_id.upper(), self._by_id, n=3, cutoff=0.6)
        # "OBS1" most likely means "OBS001": offer the zero-padded id first.
        m = re.match(r"^([A-Za-z]+)0*(\d+)$", record_id)
        padded = f"{m.group(1).upper()}{int(m.group(2)):03d}" if m else None
        if padded in self._by_id:
            close = [padded, *(c for c in close if c != padded)][:3]
        hint = f"; did you mean {', '.join(close)}?" if close else " (ids look like OBS001, EV001, RS001)"
        raise EmigreError(f"no evidence record with id {record_id!r}{hint}")

    def observation(self, record_id: str) -> Observation:
        """The observation ``record_id`` (an error if it is another kind of record)."""
        rec = self.get(record_id)
        if not isinstance(rec, Observation):
            raise EmigreError(f"{record_id!r} is not an observation (it is a {type(rec).__name__})")
        return rec

    def event(self, record_id: str) -> Event:
        """The event ``record_id`` (an error if it is another kind of record)."""
        rec = self.get(record_id)
        if not isinstance(rec, Event):
            raise EmigreError(f"{record_id!r} is not an event (it is a {type(rec).__name__})")
        return rec

    def filter(
        self,
        kind: str | Iterable[str] | None = None,
        destination: str | Iterable[str] | None = None,
        date_from: date | str | None = None,
        date_to: date | str | None = None,
    ) -> list[Observation]:
        """Observations of these kinds/destinations whose period overlaps [date_from, date_to].

        Unknown kinds, unknown codes and bad dates fail (a typo must not return an empty, plausible answer).
        """
        kinds = _vocab_set(kind, codes.OBSERVATION_KINDS, "kind")
        dests = None
        if destination is not None:
            dests = {destination} if isinstance(destination, str) else set(destination)
            dests = {d.upper() for d in dests}
            for d in sorted(dests):
                if not codes.is_area_code(d):
                    raise EmigreError(
                        f"unknown destination {d!r}; expected an ISO 3166-1 alpha-3 code (e.g. GEO) or ALL, EUU"
                    )
        lo = _as_date(date_from, end=False, option="date_from")
        hi = _as_date(date_to, end=True, option="date_to")
        if lo is not None and hi is not None and lo > hi:
            raise EmigreError(f"date_from {lo} is after date_to {hi}")
        out = []
        for obs in self.observations:
            if kinds is not None and obs.kind not in kinds:
                continue
            if dests is not None and obs.destination not in dests:
                continue
            if lo is not None and obs.period_end < lo:
                continue
            if hi is not None and obs.period_start > hi:
                continue
            out.append(obs)
        return out

    def events_on(self, day: date | str) -> list[Event]:
        """Events in force on ``day`` (standing rules without a start date included)."""
        d = _as_date(day, end=False, option="day")
        assert d is not None
        return [e for e in self.events if e.active_on(d)]

    def visa_requirement(self, destination: str, day: date | str) -> VisaRequirement | None:
        """The passport-index entry for ``destination`` in the latest dated snapshot on or before ``day``."""
        d = _as_date(day, end=False, option="day")
        assert d is not None
        best: VisaRequirement | None = None
        for rec in self.visa_history:
            if (
                rec.destination == destination
                and rec.date is not None
                and rec.date <= d
                and (best is None or rec.date > best.date)  # type: ignore[operator]
            ):
                best = rec
        return best


def _vocab_set(value: str | Iterable[str] | None, vocabulary: tuple[str, ...], what: str) -> set[str] | None:
    if value is None:
        return None
    values = {value} if isinstance(value, str) else set(value)
    for v in sorted(values):
        if v not in vocabulary:
            close = difflib.get_close_matches(v, vocabulary, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise EmigreError(f"unknown {what} {v!r}{hint}; expected one of {', '.join(vocabulary)}")
    return values


@lru_cache(maxsize=1)
def _packaged_evidence() -> Evidence:
    return Evidence(load_observations(), load_events(), load_survey_shares(), load_visa_history())


def load_evidence() -> Evidence:
    """The packaged evidence base, validated once per process and cached."""
    return _packaged_evidence()
