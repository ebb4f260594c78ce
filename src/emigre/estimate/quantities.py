"""Estimates of named quantities from an ensemble store: median, 50% and 90% intervals over its runs.

Every number is computed per run first (a value on a day, a sum over a window, a ratio), then the median and
the intervals are quantiles over the runs (NumPy's linear interpolation, as the store's bands): a 90% interval
runs from the 5th to the 95th percentile. The runs of the main job are posterior draws x seeds, so the
intervals carry both the parameter uncertainty and the randomness of the simulation.

>>> from emigre.estimate import estimate
>>> [e] = estimate("departed", "out/russia-2022", at="2022-12-31")
>>> e.median, e.lo90, e.hi90

Quantities (:data:`QUANTITIES`), with their time semantics:

- stocks, read on one day (``at``, default the last simulated day): ``abroad``, ``present``;
- counts to a date (``at``; cumulative since the start) or in a window (``date_from``/``date_to``):
  ``departed``, ``returned``;
- flows in a window (``date_from``/``date_to``; ``at`` = from the start to that day; default the whole
  period): ``arrivals``, ``crossings``;
- ``share``: percent of the departures (to a date or in a window) in each category of ``by``.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from emigre.errors import EmigreError
from emigre.results.bands import RunSeries
from emigre.results.schema import BREAKDOWNS, NATIONAL, group_key
from emigre.results.store import ResultStore

DEFAULT_STORE = Path("out/russia-2022")
#: quantile levels of the reported numbers
LEVELS = {"median": 0.5, "lo50": 0.25, "hi50": 0.75, "lo90": 0.05, "hi90": 0.95}


@dataclass(frozen=True)
class Quantity:
    """A quantity ``emigre estimate`` can report: its name, kind, unit, description and breakdowns."""

    name: str
    kind: str  # stock | cumulative | flow | share
    unit: str  # persons | percent
    doc: str
    by: tuple[str, ...] = ()  # breakdown dimensions it accepts
    destination: str = "no"  # no | required | optional


QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in (
        Quantity("departed", "cumulative", "persons",
                 "people who left Russia since the start, each once, to a date (--at, default the end) or in a "
                 "window (--from/--to: departures in it, a returnee leaving again counted again)",
                 by=tuple(BREAKDOWNS)),
        Quantity("abroad", "stock", "persons", "people abroad on a date (--at, default the end)",
                 by=tuple(BREAKDOWNS)),
        Quantity("returned", "cumulative", "persons",
                 "people who came back and were at home on a date (--at: returns less those who left again), "
                 "or returns in a window (--from/--to)"),
        Quantity("present", "stock", "persons", "people present in a destination on a date (needs --destination)",
                 by=("reason",), destination="required"),
        Quantity("arrivals", "flow", "persons",
                 "entries into a destination (or into any country abroad) in a window", destination="optional"),
        Quantity("crossings", "flow", "persons",
                 "crossings of the exit links out of Russia in a window (to one country: links whose far end is "
                 "in it)", destination="optional"),
        Quantity("share", "share", "percent",
                 "percent of the departures (to a date or in a window) in each category of --by (needs --by)",
                 by=tuple(BREAKDOWNS)),
    )
}


@dataclass(frozen=True)
class Estimate:
    """One estimated number: quantiles over the store's runs of the per-run ``values``."""

    quantity: str
    destination: str | None
    by: str | None
    category: str | None
    at: dt.date | None
    date_from: dt.date | None
    date_to: dt.date | None
    unit: str
    runs: int
    median: float
    lo50: float
    hi50: float
    lo90: float
    hi90: float
    values: np.ndarray = field(repr=False, compare=False)

    @property
    def when(self) -> str:
        """The estimate's date or period as text."""
        if self.at is not None:
            return f"on {self.at}" if QUANTITIES[self.quantity].kind == "stock" else f"to {self.at}"
        return f"{self.date_from}..{self.date_to}"

    def to_dict(self) -> dict:
        """The JSON record: quantity, destination, by, category, at | from + to, the quantiles, runs, unit."""
        d: dict = {"quantity": self.quantity, "destination": self.destination, "by": self.by,
                   "category": self.category}
        if self.at is not None:
            d["at"] = self.at.isoformat()
        else:
            d["from"] = self.date_from.isoformat() if self.date_from else None
            d["to"] = self.date_to.isoformat() if self.date_to else None
        d |= {k: _num(getattr(self, k)) for k in LEVELS}
        d["runs"] = self.runs
        d["unit"] = self.unit
        return d


def _num(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def quantiles(values) -> dict[str, float]:
    """median, lo50, hi50, lo90, hi90 of one number per run (linear interpolation)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return dict.fromkeys(LEVELS, float("nan"))
    q = np.quantile(v, list(LEVELS.values()))
    return {k: float(q[i]) for i, k in enumerate(LEVELS)}


# ---------------------------------------------------------------------------------------------- the store
def open_store(store: ResultStore | str | Path | None = None) -> ResultStore:
    """The ensemble store (default ``out/russia-2022``); a clear error with the command that makes it when
    there is none."""
    if isinstance(store, ResultStore):
        return store
    path = Path(store) if store is not None else DEFAULT_STORE
    s = ResultStore(path)
    if not path.is_dir() or not s.shard_paths():
        hint = "emigre run russia-2022" + ("" if path == DEFAULT_STORE else f" --out {path}")
        raise EmigreError(f"no ensemble results in {path}: make them with `{hint}`")
    s.verify()  # an interrupted or mixed store is refused, saying what is missing
    return s


def describe_runs(store: ResultStore) -> tuple[str, bool]:
    """("N runs (D parameter draws x S seeds)", whether the runs span several parameter draws)."""
    runs = store.runs()
    n = len(store.run_ids())
    draws = int(runs["draw"].nunique()) if "draw" in runs.columns else 1
    seeds = int(runs["seed"].nunique()) if "seed" in runs.columns else n
    text = f"{n} run{'s' if n != 1 else ''} ({draws} parameter draw{'s' if draws != 1 else ''} x " \
           f"{seeds} seed{'s' if seeds != 1 else ''})"
    return text, draws > 1


# ---------------------------------------------------------------------------------------------- arguments
def parse_date(value, option: str, *, end: bool = False) -> dt.date | None:
    """A date argument: a date, ``YYYY-MM-DD``, or ``YYYY-MM`` (its first day, or its last when ``end``)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    from emigre.evidence.store import parse_query_date

    return parse_query_date(str(value).strip(), end=end, option=option)


def parse_by(by: str | None, quantity: Quantity) -> tuple[str | None, tuple[str, ...]]:
    """``--by DIM`` or ``--by DIM=CATEGORY`` -> (dimension, categories)."""
    if by is None or by == "":
        if quantity.kind == "share":
            raise EmigreError(f"share needs --by, one of {', '.join(BREAKDOWNS)}")
        return None, ()
    dim, _, cat = str(by).partition("=")
    dim, cat = dim.strip(), cat.strip()
    if dim not in BREAKDOWNS:
        close = difflib.get_close_matches(dim, BREAKDOWNS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise EmigreError(f"unknown --by {dim!r}{hint}; expected one of {', '.join(BREAKDOWNS)}")
    if dim not in quantity.by:
        if not quantity.by:
            raise EmigreError(f"{quantity.name} has no breakdown: --by applies to departed, abroad, present "
                              "(reason) and share")
        raise EmigreError(f"{quantity.name} is broken down by {', '.join(quantity.by)} only, not {dim}")
    cats = BREAKDOWNS[dim]
    if cat:
        if cat not in cats:
            close = difflib.get_close_matches(cat, cats, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise EmigreError(f"unknown category {cat!r} of {dim}{hint}; expected one of {', '.join(cats)}")
        return dim, (cat,)
    return dim, cats


@lru_cache(maxsize=4)
def _exit_links(scenario: str) -> tuple[tuple[str, str], ...]:
    """(link id, country at its far end) of every exit link of the scenario (``CompiledWorld.exit_links``)."""
    from emigre.scenario import load_scenario

    return tuple(load_scenario(scenario).compile().exit_links())


@lru_cache(maxsize=4)
def _scenario_countries(scenario: str) -> tuple[str, ...]:
    from emigre.scenario import load_scenario
    from emigre.scenario.model import HOME

    return tuple(c for c in load_scenario(scenario).compile().countries if c != HOME)


def _destinations(store: ResultStore) -> list[str]:
    got = store.query("SELECT DISTINCT place FROM daily WHERE measure IN ('present', 'arrivals') ORDER BY place")
    return got["place"].tolist()


def _check_destination(dest: str, store: ResultStore, scenario: str) -> str:
    d = dest.strip().upper()
    if d in ("ALL", "EUU"):
        raise EmigreError(f"--destination takes one country (ISO3), not {d}; leave it out for all countries")
    if d == "RUS":
        raise EmigreError("--destination RUS is the country people leave: give a destination abroad")
    have = _destinations(store)
    if d in have:
        return d
    if d in _scenario_countries(scenario):  # a 0 here would read as a finding; say why there is no series
        raise EmigreError(f"the store {store.directory} has no results for {d}: no traveller of its runs reached "
                          f"it (a rare destination at a large --scale); the store has: {', '.join(have)}")
    close = difflib.get_close_matches(d, have, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise EmigreError(f"unknown destination {dest!r}{hint}; the store has: {', '.join(have)}")


# ---------------------------------------------------------------------------------------------- reading
def _zeros(store: ResultStore) -> RunSeries:
    dates, runs = store.grid()
    return RunSeries(dates, runs, np.zeros((len(runs), len(dates))))


def _series(store: ResultStore, measure: str, place: str = NATIONAL, group: str = "") -> RunSeries:
    """One quantity on the store's grid; all-zero series are not written, so a missing one is zeros."""
    got = store.series_many(measure, [place], [group], required=False)
    return got.get((place, group)) or _zeros(store)


def _sum_places(store: ResultStore, measure: str, places: list[str] | None) -> RunSeries:
    total = _zeros(store)
    if places is not None and not places:
        return total
    for s in store.series_many(measure, places, [""], required=False).values():
        total = total + s
    return total


def _resolve_time(q: Quantity, at, date_from, date_to, first: dt.date, last: dt.date):
    """-> (at, date_from, date_to) with exactly one of at / (from, to) set."""
    a = parse_date(at, "--at", end=True)
    f = parse_date(date_from, "--from")
    t = parse_date(date_to, "--to", end=True)
    window = f is not None or t is not None
    if a is not None and window:
        raise EmigreError("--at gives one date, --from/--to a window: give one or the other")
    period = f"the simulated period {first}..{last}"
    for name, d in (("--at", a), ("--from", f), ("--to", t)):
        if d is not None and not first <= d <= last:
            raise EmigreError(f"{name} {d} is outside {period}")
    if window:
        f, t = f or first, t or last
        if f > t:
            raise EmigreError(f"--from {f} is after --to {t}")
        if q.kind == "stock":
            raise EmigreError(f"{q.name} is a stock (people on a date): use --at, not --from/--to")
        return None, f, t
    a = a or last
    if q.kind == "flow":
        return None, first, a
    return a, None, None


def estimate(
    quantity: str,
    store: ResultStore | str | Path | None = None,
    *,
    at=None,
    date_from=None,
    date_to=None,
    destination: str | None = None,
    by: str | None = None,
    scenario: str = "russia-2022",
) -> list[Estimate]:
    """Median, 50% and 90% intervals over the runs of ``store`` of one quantity (one estimate per category
    with ``by``). ``scenario`` maps exit links to countries (``crossings``) and names the destinations
    nobody reached. Raises :class:`EmigreError` with the reason on any bad argument."""
    q = QUANTITIES.get(quantity)
    if q is None:
        close = difflib.get_close_matches(str(quantity), QUANTITIES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise EmigreError(f"unknown quantity {quantity!r}{hint}; expected one of {', '.join(QUANTITIES)}")
    s = open_store(store)
    dim, cats = parse_by(by, q)
    dest = None
    if destination:
        if q.destination == "no":
            hint = " (people in a country: `present --destination ISO3`)" if q.name == "abroad" else ""
            raise EmigreError(f"--destination does not apply to {q.name}{hint}; it applies to present, arrivals "
                              "and crossings")
        dest = _check_destination(destination, s, scenario)
    elif q.destination == "required":
        raise EmigreError(f"{q.name} needs --destination ISO3 (e.g. GEO)")
    at_, f, t = _resolve_time(q, at, date_from, date_to, s.start, s.end)
    n = len(s.run_ids())

    def make(values, category=None) -> Estimate:
        v = np.asarray(values, dtype=np.float64)
        return Estimate(q.name, dest, dim, category, at_, f, t, q.unit, n, **quantiles(v), values=v)

    first = s.start
    if q.name in ("departed", "returned"):
        flow = "departures" if q.name == "departed" else "returns"
        stock = "departed_cum" if q.name == "departed" else "returned_cum"
        if dim is None:
            if at_ is not None:
                return [make(_series(s, stock).at(at_))]
            return [make(_series(s, flow).total(f, t))]
        lo, hi = (first, at_) if at_ is not None else (f, t)
        return [make(_series(s, flow, group=group_key(dim, c)).total(lo, hi), c) for c in cats]
    if q.name == "abroad":
        if dim is None:
            return [make(_series(s, "abroad").at(at_))]
        return [make(_series(s, "abroad", group=group_key(dim, c)).at(at_), c) for c in cats]
    if q.name == "present":
        if dim is None:
            return [make(_series(s, "present", dest).at(at_))]
        return [make(_series(s, "present", dest, group_key(dim, c)).at(at_), c) for c in cats]
    if q.name == "arrivals":
        places = [dest] if dest else None
        return [make(_sum_places(s, "arrivals", places).total(f, t))]
    if q.name == "crossings":
        links = [lid for lid, c in _exit_links(scenario) if dest is None or c == dest]
        return [make(_sum_places(s, "crossings_out", links).total(f, t))]
    # share: percent of departures in the window (to date: from the start)
    lo, hi = (first, at_) if at_ is not None else (f, t)
    den = _series(s, "departures").total(lo, hi)
    out = []
    for c in cats:
        num = _series(s, "departures", group=group_key(dim, c)).total(lo, hi)
        out.append(make(np.where(den > 0, 100.0 * num / np.where(den > 0, den, 1.0), 0.0), c))
    return out


__all__ = ["DEFAULT_STORE", "QUANTITIES", "Estimate", "Quantity", "describe_runs", "estimate", "open_store",
           "quantiles"]
