"""The headline estimates of the report (from :func:`emigre.estimate.estimate` on the store) and the published
figures of the same quantity beside each.

A figure is "of the same quantity" when its observation operator (:func:`emigre.observe.read_observation`)
measures that quantity and its date lies within :data:`MATCH_DAYS` of the estimate's:

- departed to a date: cumulative outflows from Russia since the war (``departed``, not net of returns);
- abroad on a date: stocks of Russians in all countries abroad, and outflows counted net of returns;
- present in a country on a date: stocks in that country.

Where the figure's date differs from the estimate's by more than a week, the estimate on the figure's own date
is given with it. Figures are shown, not fitted here: the comparison is the reader's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from emigre.errors import EmigreError
from emigre.estimate.quantities import Estimate, describe_runs, estimate
from emigre.results.store import ResultStore

YEAR_END = dt.date(2022, 12, 31)
TOP = 5  # destinations shown
MATCH_DAYS = 62  # a published figure dated within two months of the estimate's date is set beside it
SAME_DAY = 7  # closer than this, the estimate's own date stands for the figure's
_FROM_START_DAYS = 7


@dataclass
class Figure:
    """A sourced figure placed beside a headline estimate."""

    obs: object  # emigre.evidence.Observation
    at_own_date: Estimate | None = None  # the estimate on the figure's date (None: same as the row's)


@dataclass
class Headline:
    """One headline estimate with the sourced figures it can be compared with."""

    key: str
    label: str
    estimate: Estimate
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Headlines:
    """The headline estimates and how many runs (and which posterior) they come from."""

    rows: list[Headline]
    runs_text: str
    posterior: bool


def _matches(obs, key: str, place: str | None, day: dt.date, start: dt.date, ctx) -> bool:
    from emigre.observe import read_observation

    if obs.unit != "persons" or abs((obs.period_end - day).days) > MATCH_DAYS:
        return False
    try:
        rd = read_observation(obs, ctx)
    except EmigreError:
        return False
    from_start = (obs.period_start - start).days <= _FROM_START_DAYS
    if key.startswith("departed"):
        return (obs.kind == "cumulative_outflow_total" and obs.destination == "ALL" and from_start
                and rd.operator == "departed" and not rd.net and not rd.group)
    if key.startswith("abroad"):
        stock = obs.kind == "stock_in_destination" and obs.destination == "ALL" and rd.operator == "abroad"
        net = (obs.kind == "cumulative_outflow_total" and obs.destination == "ALL" and from_start
               and rd.operator == "departed" and rd.net and not rd.group)
        return (stock or net) and not rd.group
    if key.startswith("present"):
        return obs.kind == "stock_in_destination" and obs.destination == place and rd.operator == "present"
    return False


def headlines(store: ResultStore, evidence=None, *, scenario: str = "russia-2022",
              country_names: dict[str, str] | None = None) -> Headlines:
    """Departed by 31 Dec 2022 and by the end, abroad on 31 Dec 2022 and at the end, returned by the end,
    and the people present in the largest destinations on 31 Dec 2022 (at the end when the run stops
    earlier) and in every other destination a published figure of the people present there counts (within
    ``MATCH_DAYS``), each with the published figures of the same quantity."""
    start, end = store.start, store.end
    year_end = YEAR_END if start <= YEAR_END <= end else None
    specs: list[tuple[str, str, dict]] = []
    if year_end:
        specs.append(("departed_2022", "left Russia by 31 Dec 2022", {"quantity": "departed", "at": year_end}))
    specs.append(("departed_end", f"left Russia by {end:%-d %b %Y}", {"quantity": "departed", "at": end}))
    if year_end:
        specs.append(("abroad_2022", "abroad on 31 Dec 2022", {"quantity": "abroad", "at": year_end}))
    specs.append(("abroad_end", f"abroad on {end:%-d %b %Y}", {"quantity": "abroad", "at": end}))
    specs.append(("returned_end", f"came back to stay by {end:%-d %b %Y}", {"quantity": "returned", "at": end}))
    day = year_end or end
    places = store.query("SELECT DISTINCT place FROM daily WHERE measure = 'present' AND \"group\" = ''")
    present = []
    for place in places["place"]:
        [e] = estimate("present", store, at=day, destination=place, scenario=scenario)
        present.append(e)
    present.sort(key=lambda e: -e.median)
    ctx = None
    if evidence is not None and evidence is not False:
        from emigre.observe import ObservationContext

        try:
            ctx = ObservationContext.from_scenario(scenario)
        except EmigreError:
            ctx = None
    rows = [Headline(key, label, estimate(store=store, scenario=scenario, **kw)[0]) for key, label, kw in specs]
    names = country_names or {}
    # every destination with people present, largest first; past the TOP largest only those that a published
    # figure counts (kept once the figures are attached below)
    places_rows = [
        Headline(f"present_{e.destination}",
                 f"present in {names.get(e.destination, e.destination)} ({e.destination}) on {day:%-d %b %Y}", e)
        for e in present if e.median > 0
    ]
    rows += places_rows
    if ctx is not None:
        for h in rows:
            e = h.estimate
            when = e.at
            for obs in evidence.observations:
                if when is None or not _matches(obs, h.key, e.destination, when, start, ctx):
                    continue
                own = None
                if abs((obs.period_end - when).days) > SAME_DAY and start <= obs.period_end <= end:
                    own = estimate(e.quantity, store, at=obs.period_end, destination=e.destination,
                                   scenario=scenario)[0]
                h.figures.append(Figure(obs, own))
            h.figures.sort(key=lambda f: (f.obs.period_end, f.obs.id))
    rows = rows[: len(rows) - len(places_rows)] + places_rows[:TOP] + [h for h in places_rows[TOP:] if h.figures]
    runs_text, posterior = describe_runs(store)
    return Headlines(rows, runs_text, posterior)


__all__ = ["Figure", "Headline", "Headlines", "MATCH_DAYS", "headlines"]
