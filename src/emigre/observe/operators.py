"""Observation operators: what each source counted, computed from simulation results.

``predict_many(obs, results)`` gives one value per result (persons, or percent for percentage rows), so an
ensemble (parameter draws x seeds) is evaluated in one call; observation-model parameters
(:mod:`emigre.observe.params`) may be one value or one value per result. ``predict`` is the one-result case.
``coverage`` lists every observation with its operator, or with the reason it is not used.

Result arrays count travellers; ``scale`` persons each. Day 0 is the scenario start (24 Feb 2022): a period
starting earlier is clipped to it for the emigrant part (nobody in the simulation left before), while the
ordinary-travel part of border counts runs over the whole period on the calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache

import numpy as np

from emigre.behaviour.measures import NAT, STAY_THRESHOLDS
from emigre.errors import EmigreError
from emigre.evidence.records import Observation
from emigre.observe.context import ObservationContext, days_by_year_quarter
from emigre.observe.params import resolve_theta, travel_level
from emigre.observe.prewar import Level, packaged_prewar
from emigre.observe.readings import INCLUDES_PREWAR, Reading, immigrants_level, read_observation

#: a decomposed prediction: part name -> one value per result; the parts add up to the prediction
Parts = dict[str, np.ndarray]
#: the names of the parts (wave = the simulated emigrants; the others are what the source counted beside them)
PART_DOCS: dict[str, str] = {
    "wave": "the simulated emigrants (departures, arrivals, entries, permits of the wave)",
    "border_runs": "re-entries of emigrants after a border run",
    "ordinary_trips": "ordinary trips of Russians (FSB pre-war pattern by country, quarter and mode x travel level)",
    "ordinary_visitors": "ordinary visitors counted by the destination (its own pre-war count x travel level)",
    "prewar_permits": "permits to Russians outside the wave at the destination's pre-war level",
    "prewar_holders": "Russians holding a permit there before the war (pre-war stock)",
    "background_share": "permits outside the wave from the global permits_background_share (no sourced "
                        "pre-war level for this destination)",
    "prewar_encounters": "CBP encounters of Russians at the pre-war (FY2021) rate",
    "prewar_immigrants": "immigrants outside the wave at the destination's pre-war level (Israel: aliyah from "
                         "Russia 2018-2021)",
}

# columns of a result's ``nat`` array, from the one vocabulary (behaviour/measures.py)
N_DEP, N_RET, N_DEPCUM, N_ABROAD, N_TRANSIT, N_RETCUM = (
    NAT.index(k) for k in ("departures", "returns", "departed_cum", "abroad", "in_transit", "returned_cum")
)
_CENSOR_REFERENCE_DAYS = 90  # cohorts used to estimate censored stay shares (see _stays)


def _date(x) -> dt.date:
    return dt.date.fromisoformat(str(np.datetime64(x, "D")))


class ResultStack:
    """Several results of one scenario (same days, countries, links) read together by the operators."""

    def __init__(self, results: Sequence, ctx: ObservationContext) -> None:
        if not results:
            raise EmigreError("no simulation results to observe")
        self.results = list(results)
        r0 = self.results[0]
        self.n = len(self.results)
        self.n_days = len(r0.dates)
        self.start = _date(r0.dates[0])
        if self.start != ctx.start:
            raise EmigreError(f"results start on {self.start}, the observation context on {ctx.start}")
        for r in self.results:
            if len(r.dates) != self.n_days or _date(r.dates[0]) != self.start:
                raise EmigreError("results of one ensemble must cover the same days")
            if list(r.countries) != ctx.countries or list(r.link_ids) != ctx.link_ids:
                raise EmigreError(f"a result's countries or links differ from scenario {ctx.scenario}")
        self.end = self.start + dt.timedelta(days=self.n_days - 1)
        self.scale = np.array([float(r.scale) for r in self.results])
        self.groups = list(r0.groups)

    def each(self, f: Callable) -> np.ndarray:
        """``f(result, i)`` for every result, as a float array (not yet in persons)."""
        return np.array([float(f(r, i)) for i, r in enumerate(self.results)])

    def group(self, name: str) -> int:
        """The index of a breakdown group (an error naming the groups if unknown)."""
        try:
            return self.groups.index(name)
        except ValueError:
            raise EmigreError(f"no group {name!r} in the results (groups: {', '.join(self.groups)})") from None


# ---------------------------------------------------------------------- helpers
class _Window:
    """Day indices of an observation's period in the results: ``lo..hi`` inclusive, clipped to day 0."""

    def __init__(self, obs: Observation, S: ResultStack) -> None:
        self.a, self.b = obs.period_start, obs.period_end
        if self.b > S.end:
            raise EmigreError(
                f"{obs.id}: the period ends on {self.b}, after the simulated period ({S.start}..{S.end}); "
                f"run the simulation to at least that date"
            )
        self.lo = max((self.a - S.start).days, 0)
        self.hi = (self.b - S.start).days
        self.days = (self.b - self.a).days + 1

    @property
    def empty(self) -> bool:
        return self.hi < self.lo


def _cidx(ctx: ObservationContext, area: tuple[str, ...]) -> np.ndarray:
    return np.array([ctx.country_index(c) for c in area], dtype=np.int64)


def _male_share(S: ResultStack, w: _Window) -> np.ndarray:
    """Share of men among emigrants departing in the window (0.5 where nobody left)."""
    g = S.group("sex=male")
    num = S.each(lambda r, i: r.dep_by[w.lo : w.hi + 1, g].sum())
    den = S.each(lambda r, i: r.nat[w.lo : w.hi + 1, N_DEP].sum())
    return np.where(den > 0, num / np.maximum(den, 1), 0.5)


def _area_links(ctx: ObservationContext, cidx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Links whose crossings may enter the area from outside it, and the share of crossings that do."""
    inside = np.isin(ctx.link_countries, cidx)
    w = ctx.entry_weight[:, cidx].sum(axis=1)
    w = np.where(inside.all(axis=1), 0.0, w)  # a link within the area enters it from nowhere
    keep = np.flatnonzero(w > 0)
    return keep, w[keep]


def _entries_window(r, ctx: ObservationContext, cidx: np.ndarray, lo: int, hi: int, peak: bool) -> float:
    """Emigrant entries into the area on days lo..hi (travellers; the highest day when ``peak``): the
    ``entries`` array where the result has one, else the larger of the link crossings into the area and the
    arrivals there (both count entries: the first misses onward arrivals, the second transits)."""
    ent = getattr(r, "entries", None)
    if ent is not None:
        d = np.asarray(ent[lo : hi + 1][:, cidx], dtype=np.float64).sum(axis=1)
        return float(d.max(initial=0.0)) if peak else float(d.sum())
    links, wt = _area_links(ctx, cidx)
    via = r.link_out[lo : hi + 1][:, links].astype(np.float64) @ wt
    arr = r.arrivals[lo : hi + 1][:, cidx].astype(np.float64).sum(axis=1)
    if peak:
        return float(np.maximum(via, arr).max(initial=0.0))
    return max(float(via.sum()), float(arr.sum()))


def _exit_links(ctx: ObservationContext, rd: Reading, cidx: np.ndarray) -> np.ndarray:
    if rd.links:
        missing = [lk for lk in rd.links if lk not in ctx.link_ids]
        if missing:
            raise EmigreError(f"links {missing} are not in scenario {ctx.scenario}")
        return np.array([ctx.link_ids.index(lk) for lk in rd.links], dtype=np.int64)
    return np.flatnonzero(np.isin(ctx.exit_country, cidx))


def _stays(r, k: int, thr: int, cidx: np.ndarray, lo: int, hi: int) -> float:
    """Arrivals on days lo..hi whose stay lasted at least ``thr`` days. Stays begun within ``thr`` days of
    the end of the run cannot show it yet: for those days the share of the latest uncensored cohorts
    (_CENSOR_REFERENCE_DAYS of them) is applied to the arrivals."""
    hist = r.stay_hist[k][:, cidx].astype(np.float64).sum(axis=1)
    arr = r.arrivals[:, cidx].astype(np.float64).sum(axis=1)
    last_ok = len(arr) - 1 - thr
    top = min(hi, last_ok)
    total = float(hist[lo : top + 1].sum()) if top >= lo else 0.0
    if hi > last_ok:
        ref_lo = max(0, last_ok - _CENSOR_REFERENCE_DAYS + 1)
        den = arr[ref_lo : last_ok + 1].sum() if last_ok >= 0 else 0.0
        q = hist[ref_lo : last_ok + 1].sum() / den if den > 0 else 0.0
        total += q * float(arr[max(lo, last_ok + 1) : hi + 1].sum())
    return total


def _present(r, cidx: np.ndarray, day: int) -> float:
    return float(r.present_country[day, cidx].sum()) if day >= 0 else 0.0


# ---------------------------------------------------------------------- operators
# each: (obs, reading, stack, context, theta arrays) -> persons (or percent) per result

def op_departed(obs, rd, S, ctx, th):
    """People who left in the period (each once: ``departed_cum``), or departures of one group, or the change
    of those abroad (net of returns) where the reading says so."""
    w = _Window(obs, S)
    if w.empty:
        return np.zeros(S.n)
    if rd.group:
        g = S.group(rd.group)
        if rd.net:
            v = S.each(lambda r, i: r.abroad_by[w.hi, g] - (r.abroad_by[w.lo - 1, g] if w.lo > 0 else 0))
        else:
            v = S.each(lambda r, i: r.dep_by[w.lo : w.hi + 1, g].sum())
    elif rd.net:
        v = S.each(lambda r, i: r.nat[w.lo : w.hi + 1, N_DEP].sum() - r.nat[w.lo : w.hi + 1, N_RET].sum())
    else:  # people who left in the period (a returnee leaving again is not one more)
        v = S.each(lambda r, i: r.nat[w.hi, N_DEPCUM] - (r.nat[w.lo - 1, N_DEPCUM] if w.lo > 0 else 0))
    return v * S.scale


def op_abroad(obs, rd, S, ctx, th):
    """Emigrants abroad or in transit on the period end (of one group where the reading says so)."""
    w = _Window(obs, S)
    if w.hi < 0:
        return np.zeros(S.n)
    if rd.group:
        g = S.group(rd.group)
        return S.each(lambda r, i: r.abroad_by[w.hi, g]) * S.scale
    return S.each(lambda r, i: r.nat[w.hi, N_ABROAD] + r.nat[w.hi, N_TRANSIT]) * S.scale


def op_present(obs, rd, S, ctx, th):
    """Emigrants present on the period end; where the source counts the Russians who lived there before the
    war too (notes: "includes pre-war ..."), plus the pre-war residents (:meth:`Prewar.permit_holders` x
    ``prewar_holders_level``; the global share where no level is sourced)."""
    w = _Window(obs, S)
    c = _cidx(ctx, rd.area)
    wave = S.each(lambda r, i: _present(r, c, w.hi)) * S.scale
    if not INCLUDES_PREWAR.search(obs.notes):
        return {"wave": wave}
    return _held_background(obs, rd, wave, th)


def op_arrivals(obs, rd, S, ctx, th):
    """Arrivals in the area in the period (those whose stay reached the reading's threshold, if any); where
    the destination counts its immigrants on arrival and their pre-war level is sourced (Israel's olim,
    :meth:`Prewar.immigrants_on_arrival`), plus those outside the wave: that level x the period's length x
    ``permits_prewar_level`` (aliyah is Israel's first long-term status, as a first permit is elsewhere)."""
    w = _Window(obs, S)
    c = _cidx(ctx, rd.area)
    if w.empty:
        wave = np.zeros(S.n)
    elif rd.threshold is None:
        wave = S.each(lambda r, i: r.arrivals[w.lo : w.hi + 1, c].sum()) * S.scale
    else:
        k = STAY_THRESHOLDS.index(rd.threshold)
        wave = S.each(lambda r, i: _stays(r, k, rd.threshold, c, w.lo, w.hi)) * S.scale
    lv = immigrants_level(obs, rd)
    if lv is None:
        return wave
    return {"wave": wave, "prewar_immigrants": lv.value * w.days / 365.0 * th["permits_prewar_level"]}


def _ordinary(obs, rd, ctx, th, w: _Window, *, russian_side: bool) -> np.ndarray:
    """Ordinary trips for a crossing count. At the Russian border (FSB, by first destination) closures
    move trips to other countries; at the destination's border the demand stands whatever the route,
    except for counts at one kind of border (land borders), where the closures of that kind apply."""
    closures = russian_side or rd.modes is not None
    if rd.peak:
        return ctx.ordinary_daily_peak(rd.fsb_area, w.a, w.b, th, rd.modes, closures=closures)
    return ctx.ordinary_trips(rd.fsb_area, w.a, w.b, th, rd.modes, closures=closures)


def _finish_crossings(rd, S, w, emigrants, ordinary, th, *, group_done: bool = False,
                      runs: np.ndarray | None = None, ordinary_name: str = "ordinary_trips") -> Parts:
    """Emigrant + ordinary crossings (parts: wave, border_runs, ordinary); for men only, the emigrants' male
    share in the window (unless the emigrant part is already the group's: ``group_done``) and
    ``ordinary_male_share``; per day if asked."""
    if rd.group == "sex=male":
        if not group_done and not w.empty:
            male = _male_share(S, w)
            emigrants = emigrants * male
            runs = None if runs is None else runs * male
        ordinary = ordinary * th["ordinary_male_share"]
    elif rd.group:
        raise EmigreError(f"crossing counts know the group sex=male only, not {rd.group}")
    parts: Parts = {"wave": emigrants}
    if runs is not None:
        parts["border_runs"] = runs
    parts[ordinary_name] = ordinary
    return {k: v / w.days for k, v in parts.items()} if rd.per_day else parts


def _single(rd: Reading, obs: Observation) -> str | None:
    """The one destination code a per-destination baseline is looked up for (None for ALL)."""
    if obs.destination == "ALL":
        return None
    return obs.destination


#: destination counts of visitors whose definition, not the pandemic, puts them below the FSB's 2019 trips: the
#: de facto Abkhazian ministry counts tourists (1.5 million in 2021: prewar_and_context.csv), while the FSB
#: counts every crossing of a Russian citizen at the Psou, Abkhazia's residents with Russian passports and
#: same-day trips included (4.8 million trips in 2019; the evidence's note on OBS237). The ministry's own
#: figures after the war sit at its pre-war level, not the FSB's: 1.3 million tourists in 2023 (OBS237), and 2022
#: "about 500,000 below 2021" (the note on OBS238), while the FSB counted 5.4 million trips there in 2022 (OBS214)
_OWN_DEFINITION_SERIES = frozenset({"tourists_in_abkhazia"})


def _visitor_factor(ctx: ObservationContext, iso: str) -> tuple[float, Level] | None:
    """Destination-counted visitors a year / FSB pre-war (2019) trips there: the destination's own pre-war count
    replaces the FSB pattern's level at its border (the FSB counts a trip by the first country entered,
    so a destination reached through a hub - Mexico, Thailand - is under-counted; and a destination counts
    by its own definition - Abkhazia's tourists, Armenia's UNWTO tourists)."""
    lv = packaged_prewar().visitors(iso)
    if lv is None:
        return None
    fsb = ctx.fsb.get(iso)
    # the FSB's trips in the quarters the destination's figure covers (Georgia: Q3 2019, the high season)
    total = float(fsb[list(lv.quarters)].sum()) if fsb is not None else 0.0
    if total <= 0:
        return float("nan"), lv  # no FSB pattern: the destination's level evenly over the year
    count = lv.count if len(lv.quarters) < 4 else lv.value
    # a count from the COVID years (2020-2021) below the FSB's 2019 level is the pandemic, not a better
    # definition: the FSB pattern stands; above it (Mexico 2021), the FSB missed trips routed through hubs.
    # A count by a narrower definition stands either way (_OWN_DEFINITION_SERIES)
    if lv.year > 2019 and count <= total and lv.series not in _OWN_DEFINITION_SERIES:
        return None
    return count / total, lv


def _destination_ordinary(obs, rd, ctx, th, w: _Window) -> tuple[np.ndarray, str]:
    """Ordinary visitors at a destination's border: the destination's own pre-war level where the baseline
    has one (with the FSB seasonal pattern where the FSB has the country, else evenly over the year, x the
    travel level of the year and the destination's own), else the FSB pre-war demand (2019; Egypt 2014)."""
    base = _ordinary(obs, rd, ctx, th, w, russian_side=False)
    iso = obs.destination if isinstance(rd.fsb_area, str) else None
    got = _visitor_factor(ctx, iso) if iso and rd.modes is None else None
    if got is None:
        return base, "ordinary_trips"
    f, lv = got
    if np.isfinite(f):
        return base * f, "ordinary_visitors"
    by_year: dict[int, int] = {}
    for (year, _q), n in days_by_year_quarter(w.a, w.b).items():
        by_year[year] = by_year.get(year, 0) + n
    total = np.zeros_like(base)
    for year, n in by_year.items():
        total = total + lv.value / 365.0 * n * travel_level(th, year, iso) * ctx.travel_scale(th, year)
    return total, "ordinary_visitors"


def op_entries(obs, rd, S, ctx, th):
    """Entries into the destination: emigrant entries (first crossings, transits, onward arrivals), one
    re-entry per border run, and ordinary visitors (the destination's own pre-war count where the baselines
    have one, else the FSB pre-war trips there, x travel level)."""
    w = _Window(obs, S)
    c = _cidx(ctx, rd.area)
    if w.empty:
        em = runs = np.zeros(S.n)
    else:
        em = S.each(lambda r, i: _entries_window(r, ctx, c, w.lo, w.hi, rd.peak)) * S.scale
        runs = S.each(lambda r, i: r.visa_runs[w.lo : w.hi + 1, c].sum(axis=1).max(initial=0) if rd.peak
                      else r.visa_runs[w.lo : w.hi + 1, c].sum()) * S.scale
    if rd.peak:
        ordinary, name = _ordinary(obs, rd, ctx, th, w, russian_side=False), "ordinary_trips"
    else:
        ordinary, name = _destination_ordinary(obs, rd, ctx, th, w)
    return _finish_crossings(rd, S, w, em, ordinary, th, runs=runs, ordinary_name=name)


def op_exits(obs, rd, S, ctx, th):
    """Trips out of Russia to the destination (the FSB count): emigrants crossing an exit link to it and
    ordinary trips. Men only to ALL destinations: the male departures (exact, dep_by)."""
    w = _Window(obs, S)
    c = _cidx(ctx, rd.area)
    links = _exit_links(ctx, rd, c)
    exact_group = bool(rd.group) and obs.destination == "ALL" and not rd.links and not rd.peak
    if w.empty:
        em = np.zeros(S.n)
    elif exact_group:
        g = S.group(rd.group)
        em = S.each(lambda r, i: r.dep_by[w.lo : w.hi + 1, g].sum()) * S.scale
    elif rd.peak:
        em = S.each(lambda r, i: r.link_out[w.lo : w.hi + 1][:, links].sum(axis=1).max(initial=0)) * S.scale
    else:
        em = S.each(lambda r, i: r.link_out[w.lo : w.hi + 1][:, links].sum()) * S.scale
    ordinary = _ordinary(obs, rd, ctx, th, w, russian_side=True)
    return _finish_crossings(rd, S, w, em, ordinary, th, group_done=exact_group)


def op_returns_crossings(obs, rd, S, ctx, th):
    """Crossings back into Russia from the destination: emigrant returns by links to it (a return is
    counted on the exit link used) and ordinary trips coming back (as many as went out, trip lengths
    being short against the period)."""
    w = _Window(obs, S)
    c = _cidx(ctx, rd.area)
    links = np.flatnonzero(np.isin(ctx.exit_country, c))
    em = np.zeros(S.n) if w.empty else S.each(lambda r, i: r.link_in[w.lo : w.hi + 1][:, links].sum()) * S.scale
    return _finish_crossings(rd, S, w, em, _ordinary(obs, rd, ctx, th, w, russian_side=False), th)


def op_net_present(obs, rd, S, ctx, th):
    """Entries minus exits of emigrants in the window = change of the emigrants present (exact: a person
    enters by arrival and leaves by onward move or return only)."""
    w = _Window(obs, S)
    c = _cidx(ctx, rd.area)
    return S.each(lambda r, i: _present(r, c, w.hi) - _present(r, c, w.lo - 1)) * S.scale


def op_net_183(obs, rd, S, ctx, th):
    """183-day immigrants minus 183-day emigrants in the window. Exact with a ``stay_end_hist`` array
    (stays ending each day that lasted >= the threshold); otherwise the change of the stock present, which
    equals it up to short stays straddling the window's ends."""
    w = _Window(obs, S)
    c = _cidx(ctx, rd.area)
    k = STAY_THRESHOLDS.index(183)

    def one(r, i):
        end_hist = getattr(r, "stay_end_hist", None)
        if end_hist is None or w.empty:
            return _present(r, c, w.hi) - _present(r, c, w.lo - 1)
        return _stays(r, k, 183, c, w.lo, w.hi) - float(end_hist[k, w.lo : w.hi + 1][:, c].sum())

    return S.each(one) * S.scale


def _returns_by_country(r) -> np.ndarray:
    """Returns to Russia per day and country of departure: arrivals - onward departures - change of the
    people present (a person leaves a country only by an onward move or a return)."""
    p = r.present_country.astype(np.float64)
    prev = np.vstack([np.zeros((1, p.shape[1])), p[:-1]])
    return r.arrivals.astype(np.float64) - r.onward.astype(np.float64) - (p - prev)


def op_returns_from(obs, rd, S, ctx, th):
    """Returns to Russia in the period from the area's countries."""
    w = _Window(obs, S)
    c = _cidx(ctx, rd.area)
    if w.empty:
        return np.zeros(S.n)
    return S.each(lambda r, i: _returns_by_country(r)[w.lo : w.hi + 1][:, c].sum()) * S.scale


def op_return_share(obs, rd, S, ctx, th):
    """Percent of those who left (since the war) that had returned by the period end."""
    w = _Window(obs, S)

    def one(r, i):
        dep = r.nat[w.hi, N_DEPCUM]
        return 100.0 * r.nat[w.hi, N_RETCUM] / dep if dep > 0 else 0.0

    return S.each(one)


def op_return_share_travellers(obs, rd, S, ctx, th):
    """Percent of every traveller who left in the period (emigrants and ordinary trips) that was back by
    its end: ordinary trips still abroad at the end = the daily rate then x the mean trip length."""
    w = _Window(obs, S)
    dep = S.each(lambda r, i: r.nat[w.lo : w.hi + 1, N_DEP].sum()) * S.scale
    ret = S.each(lambda r, i: r.nat[w.lo : w.hi + 1, N_RET].sum()) * S.scale
    trips = ctx.ordinary_trips("ALL", w.a, w.b, th)
    out_at_end = ctx.ordinary_trips("ALL", w.b, w.b, th) * th["ordinary_trip_days"]
    back = np.maximum(trips - out_at_end, 0.0)
    return 100.0 * (ret + back) / np.maximum(dep + trips, 1.0)


def _with_background(wave, th) -> Parts:
    """Where no pre-war level is sourced: permits counted = the wave's permits / (1 -
    ``permits_background_share``): the rest went to Russians outside the simulated wave (family, work,
    study at the pre-war level)."""
    share = np.minimum(th["permits_background_share"], 0.95)
    return {"wave": wave, "background_share": wave * share / (1.0 - share)}


def _issued_background(obs, rd, wave, th, days: int) -> Parts:
    """The wave's permits plus those issued outside it: the destination's pre-war first permits a year
    (:meth:`Prewar.first_permits`) x the period's length x ``permits_prewar_level``; the global share where
    the baselines have no level for the destination."""
    code = _single(rd, obs)
    lv = packaged_prewar().first_permits(code) if code else None
    if lv is None:
        return _with_background(wave, th)
    return {"wave": wave, "prewar_permits": lv.value * days / 365.0 * th["permits_prewar_level"]}


def _held_background(obs, rd, wave, th) -> Parts:
    """The wave's holders plus the Russians who held a permit there before the war
    (:meth:`Prewar.permit_holders`) x ``prewar_holders_level``, or as many as the source itself says
    (``Reading.prewar_count``); none when the source counts only permits granted since the war
    (``Reading.prewar`` False); the global share where no level is sourced."""
    if not rd.prewar:
        return {"wave": wave}
    if rd.prewar_count is not None:  # the source's own count of its pre-war holders
        return {"wave": wave, "prewar_holders": np.full(len(wave), float(rd.prewar_count))}
    code = _single(rd, obs)
    lv = packaged_prewar().permit_holders(code) if code else None
    if lv is None:
        return _with_background(wave, th)
    return {"wave": wave, "prewar_holders": lv.value * th["prewar_holders_level"]}


def op_permits_issued(obs, rd, S, ctx, th):
    """Permits issued in the period = simulated decisions to regularise ``permit_lag_days`` earlier (or, for
    applications, in the period itself), plus those outside the wave (:func:`_issued_background`)."""
    c = _cidx(ctx, rd.area)
    w = _Window(obs, S)
    lags = np.rint(th["permit_lag_days"]).astype(np.int64) if rd.lag else np.zeros(S.n, dtype=np.int64)

    def one(r, i):
        lo = max((w.a - S.start).days - int(lags[i]), 0)
        hi = w.hi - int(lags[i])
        return r.regularised[lo : hi + 1, c].sum() if hi >= lo else 0.0

    return _issued_background(obs, rd, S.each(one) * S.scale, th, w.days)


def op_permits_held(obs, rd, S, ctx, th):
    """Permits held on the period end: permits issued by then (decision + lag) whose holder is still in the
    country, the holder leaving at the return + onward rates of the run (a permit holder has no stay
    limit; exponential clocks, so the survival from the decision day is exp(-rate x days)), plus the holders
    from before the war (:func:`_held_background`)."""
    c = _cidx(ctx, rd.area)
    w = _Window(obs, S)
    lags = np.rint(th["permit_lag_days"]).astype(np.int64)

    def one(r, i):
        hi = w.hi - int(lags[i])
        if hi < 0:
            return 0.0
        rate = (float(r.params.get("return_per_year", 0.0)) + float(r.params.get("onward_per_year", 0.0))) / 365
        reg = r.regularised[: hi + 1, c].astype(np.float64).sum(axis=1)
        age = w.hi - np.arange(hi + 1)
        return float((reg * np.exp(-rate * age)).sum())

    return _held_background(obs, rd, S.each(one) * S.scale, th)


def op_asylum(obs, rd, S, ctx, th):
    """Asylum applications = propensity x the emigrant arrivals in the destination whose application falls in
    the period: an emigrant applies a delay after arriving, exponential with mean ``asylum_lag_days`` (some
    at the border on arrival - Finland, autumn 2022 -, others when a visa's stay runs out or when going home
    had become the danger), so a day's arrivals spread their applications over the following months
    (:func:`_lagged_weights`); for men only, x the men's share of the departures of those days, weighted
    alike. For the USA, border encounters on arrival in Mexico or the USA (no delay), plus encounters at the
    pre-war rate (:meth:`Prewar.usa_encounters`, x ``asylum_prewar_level_usa``): Russians crossed from
    Mexico before the war (FY2021: 13,240 encounters nationwide)."""
    w = _Window(obs, S)
    area = rd.area
    usa = "USA" in area
    if usa and "MEX" in ctx.countries:
        area = (*area, "MEX")
    c = _cidx(ctx, area)
    means = np.zeros(S.n) if usa else np.asarray(th["asylum_lag_days"], dtype=np.float64)
    g = S.group("sex=male") if rd.group == "sex=male" else None
    start = (w.a - S.start).days

    def one(r, i):
        if w.hi < 0:
            return 0.0
        wt = _lagged_weights(start, w.hi, float(means[i]))
        arr = float(r.arrivals[: w.hi + 1, c].sum(axis=1) @ wt)
        if g is not None:  # the men's share of the departures of the days counted, weighted alike
            dep = float(r.nat[: w.hi + 1, N_DEP] @ wt)
            arr *= float(r.dep_by[: w.hi + 1, g] @ wt) / dep if dep > 0 else 0.5
        return arr

    arr = S.each(one) * S.scale
    parts: Parts = {"wave": arr * th["asylum_propensity_usa" if usa else "asylum_propensity_eu"]}
    lv = packaged_prewar().usa_encounters() if usa and rd.prewar else None
    if lv is not None:
        bg = lv.value * w.days / 365.0 * th["asylum_prewar_level_usa"]
        parts["prewar_encounters"] = bg * (th["ordinary_male_share"] if rd.group == "sex=male" else 1.0)
    return parts


def _lagged_weights(lo: int, hi: int, mean: float) -> np.ndarray:
    """For each arrival day 0..``hi``, the probability that an application made a whole number of days k >= 0
    after it falls on a day in [``lo``, ``hi``], with P(k) = exp(-k / mean) (1 - exp(-1 / mean)) (geometric: the
    days of an exponential delay of e-folding time ``mean``); a mean below half a day counts the arrivals of
    the period themselves."""
    s = np.arange(hi + 1, dtype=np.float64)
    if mean < 0.5:
        return (s >= lo).astype(np.float64)
    return np.exp(-np.maximum(lo - s, 0.0) / mean) - np.exp(-(hi - s + 1.0) / mean)


def op_group_share(obs, rd, S, ctx, th):
    """Percent of a group among those who left up to the period end (departures by group)."""
    w = _Window(obs, S)
    g = S.group(rd.group)
    lo = 0 if obs.period_start <= S.start else w.lo

    def one(r, i):
        den = r.nat[lo : w.hi + 1, N_DEP].sum()
        return 100.0 * r.dep_by[lo : w.hi + 1, g].sum() / den if den > 0 else 0.0

    return S.each(one)


def op_queue_vehicles(obs, rd, S, ctx, th):
    """Vehicles queuing at a crossing at the period end: everyone in the line over persons per vehicle. The
    line holds the simulated emigrants queued at the link (``wave``) and the ordinary travellers who joined it
    with them (``ordinary_trips``): by Little's law the ordinary road trips through the crossing that day
    (:meth:`ObservationContext.ordinary_trips` with the reading's modes) times the line's wait in days, the
    emigrants' line over the link's throughput that day (its crossings: with a line, the capacity). Ordinary
    travellers are not simulated, so they do not take capacity from the emigrants; the line they join is the
    emigrants'."""
    w = _Window(obs, S)
    links = _exit_links(ctx, rd, _cidx(ctx, rd.area))
    ppv = th["persons_per_vehicle"]
    queued = S.each(lambda r, i: r.queue[w.hi, links].sum()) * S.scale
    through = S.each(lambda r, i: r.link_out[w.hi, links].sum()) * S.scale
    wait = np.where(through > 0, queued / np.maximum(through, 1e-12), 0.0)
    per_day = ctx.ordinary_trips(rd.fsb_area, w.b, w.b, th, rd.modes, closures=True)
    return {"wave": queued / ppv, "ordinary_trips": per_day * wait / ppv}


def nonwave_estimate(obs: Observation, rd: Reading, ctx: ObservationContext) -> float | None:
    """The part of a figure outside the wave at the observation parameters' prior centres, computed from the
    sourced baselines alone (no simulation): ordinary trips or visitors of a crossing count, the pre-war
    permits, holders or US encounters. None for operators without such a part. Used to scale the destination
    discrepancy to the wave's expected share of the figure (:func:`expected_wave_share`)."""
    th = resolve_theta(None, 1)
    a, b = obs.period_start, obs.period_end
    days = (b - a).days + 1
    if rd.operator in ("entries", "exits", "returns_crossings") and not rd.peak:
        closures = rd.operator == "exits" or rd.modes is not None
        v = float(ctx.ordinary_trips(rd.fsb_area, a, b, th, rd.modes, closures=closures)[0])
        if rd.operator == "entries" and isinstance(rd.fsb_area, str) and rd.modes is None:
            got = _visitor_factor(ctx, obs.destination)
            if got is not None:
                f, lv = got
                v = v * f if np.isfinite(f) else (lv.value * days / 365.0 * float(th["travel_level_2022"][0])
                                                  * float(ctx.travel_scale(th, 2022)[0]))
        if rd.group == "sex=male":
            v *= float(th["ordinary_male_share"][0])
        return v / days if rd.per_day else v
    code = None if obs.destination == "ALL" else obs.destination
    pw = packaged_prewar()
    if rd.operator == "permits_issued" and code:
        lv = pw.first_permits(code)
        return None if lv is None else lv.value * days / 365.0 * float(th["permits_prewar_level"][0])
    if rd.operator == "permits_held" and rd.prewar and rd.prewar_count is not None:
        return float(rd.prewar_count)
    if (rd.operator == "permits_held" and rd.prewar or rd.operator == "present"
            and INCLUDES_PREWAR.search(obs.notes)) and code:
        lv = pw.permit_holders(code)
        return None if lv is None else lv.value * float(th["prewar_holders_level"][0])
    if rd.operator == "arrivals":
        lv = immigrants_level(obs, rd)
        return None if lv is None else lv.value * days / 365.0 * float(th["permits_prewar_level"][0])
    if rd.operator == "asylum" and "USA" in rd.area and rd.prewar:
        lv = pw.usa_encounters()
        return None if lv is None else lv.value * days / 365.0 * float(th["asylum_prewar_level_usa"][0])
    return None


#: the smallest share of the wave in a figure, for the destination discrepancy: a figure the baselines alone
#: (at their prior centres) exceed still carries some of the wave's error
MIN_WAVE_SHARE = 0.1
#: how much a border queue moves with the wave (d log line / d log wave), in place of a count's wave share: a line
#: is what arrives beyond what the crossing passes, so an error d on the arrivals is an error d x inflow /
#: (inflow - throughput) on the line. From the sources of the one such figure (OBS074: 4,900 vehicles at Upper
#: Lars on 27 Sep 2022, about 12,250 persons at 2.5 a vehicle, built in the 6 days from 21 Sep, +2,040 a day;
#: throughput about 10,100 a day, OBS071's 10,808 and 9,440 in the 24 hours to 26 and 27 Sep): inflow ~12,150 a
#: day, 12,150 / 2,040 = 6.0. The model's own line moves ~2.8 times as much as its wave (session 19: halving the
#: mobilization push at 16 posterior draws took it from 8,200 to 1,200 vehicles), also far above 1.
QUEUE_ELASTICITY = 6.0


@lru_cache(maxsize=8192)
def expected_wave_share(obs: Observation, rd: Reading, ctx: ObservationContext) -> float:
    """The wave's expected share of the figure: 1 - (the part outside the wave at the prior centres) / (the
    published value), within [MIN_WAVE_SHARE, 1]; 1 when the operator has no part outside the wave; for a border
    queue, how much more than the wave the line moves (:data:`QUEUE_ELASTICITY`). It depends
    on the data only (the figure and its sourced baselines), so the error scale stays fixed during a
    calibration."""
    if not rd.used or obs.unit == "percent":
        return 1.0
    if rd.operator == "queue_vehicles":
        return QUEUE_ELASTICITY
    nonwave = nonwave_estimate(obs, rd, ctx)
    if nonwave is None:
        return 1.0
    vals = [float(v) for v in (obs.quantity, obs.low, obs.high) if v is not None]
    observed = float(np.sqrt(max(vals[0], 1.0) * max(vals[-1], 1.0))) if obs.quantity is None else vals[0]
    if observed <= 0:
        return 1.0
    return float(min(1.0, max(MIN_WAVE_SHARE, 1.0 - nonwave / observed)))


OPERATORS: dict[str, Callable] = {
    "departed": op_departed,
    "abroad": op_abroad,
    "present": op_present,
    "arrivals": op_arrivals,
    "entries": op_entries,
    "exits": op_exits,
    "returns_crossings": op_returns_crossings,
    "net_present": op_net_present,
    "net_183": op_net_183,
    "returns_from": op_returns_from,
    "return_share": op_return_share,
    "return_share_travellers": op_return_share_travellers,
    "permits_issued": op_permits_issued,
    "permits_held": op_permits_held,
    "asylum": op_asylum,
    "group_share": op_group_share,
    "queue_vehicles": op_queue_vehicles,
}


# ---------------------------------------------------------------------- public API
def default_context() -> ObservationContext:
    """The observation context of the packaged russia-2022 scenario."""
    return ObservationContext.from_scenario("russia-2022")


def reading(obs: Observation, world_ctx: ObservationContext | None = None) -> Reading:
    """How ``obs`` is read (operator and options, or the reason it is skipped)."""
    return read_observation(obs, world_ctx or default_context())


def predict_parts(
    obs: Observation,
    results: Sequence,
    world_ctx: ObservationContext | None = None,
    theta: Mapping[str, float | np.ndarray] | None = None,
    *,
    stack: ResultStack | None = None,
) -> Parts:
    """What the source of ``obs`` would have counted in each result, split into its parts (:data:`PART_DOCS`:
    the wave's emigrants and what the source counted beside them); the parts add up to
    :func:`predict_many`. Raises for observations that have no operator (see :func:`coverage`) or whose
    period ends after the results."""
    ctx = world_ctx or default_context()
    rd = read_observation(obs, ctx)
    if not rd.used:
        raise EmigreError(f"{obs.id} has no observation operator: {rd.reason}")
    S = stack if stack is not None else ResultStack(results, ctx)
    return _parts(obs, rd, S, ctx, resolve_theta(theta, S.n))


def _parts(obs: Observation, rd: Reading, S: ResultStack, ctx: ObservationContext,
           th: dict[str, np.ndarray]) -> Parts:
    """:func:`predict_parts` with the reading and the observation parameters (one array each) at hand."""
    got = OPERATORS[rd.operator](obs, rd, S, ctx, th)
    if not isinstance(got, dict):
        got = {"wave": got}
    return {k: np.broadcast_to(np.asarray(v, dtype=np.float64), (S.n,)).copy() for k, v in got.items()}


def predict_many(
    obs: Observation,
    results: Sequence,
    world_ctx: ObservationContext | None = None,
    theta: Mapping[str, float | np.ndarray] | None = None,
    *,
    stack: ResultStack | None = None,
) -> np.ndarray:
    """What the source of ``obs`` would have counted in each result: an array, one value per result (the sum
    of :func:`predict_parts`).

    ``theta`` holds observation-model parameters (one value, or one per result). Raises for observations
    that have no operator (see :func:`coverage`) or whose period ends after the results."""
    return _total(predict_parts(obs, results, world_ctx, theta, stack=stack))


def _total(parts: Parts) -> np.ndarray:
    """The prediction: the sum of its parts."""
    return np.sum(list(parts.values()), axis=0).astype(np.float64)


def predict(
    obs: Observation, result, world_ctx: ObservationContext | None = None,
    theta: Mapping[str, float] | None = None,
) -> float:
    """What the source of ``obs`` would have counted in one simulation result (persons, or percent)."""
    return float(predict_many(obs, [result], world_ctx, theta)[0])


def predict_all(
    observations: Iterable[Observation],
    results: Sequence,
    world_ctx: ObservationContext | None = None,
    theta: Mapping[str, float | np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Predictions for every observation that has an operator and lies within the results' period."""
    ctx = world_ctx or default_context()
    S = ResultStack(results, ctx)
    th = resolve_theta(theta, S.n)  # once for every figure (operators do not change it)
    out: dict[str, np.ndarray] = {}
    for obs in observations:
        if usable(obs, ctx, S.end) is None:
            out[obs.id] = _total(_parts(obs, read_observation(obs, ctx), S, ctx, th))
    return out


def usable(obs: Observation, ctx: ObservationContext, end: dt.date | None = None) -> str | None:
    """None when ``obs`` is measured by an operator within [scenario start, end]; else the reason not."""
    rd = read_observation(obs, ctx)
    if not rd.used:
        return rd.reason
    end = end or ctx.end
    if obs.period_end < ctx.start:
        return f"the period ends before the simulation starts ({ctx.start}): pre-war context"
    if obs.period_end > end:
        return f"the period ends after the simulated horizon ({end}); run the simulation to {obs.period_end}"
    return None


def coverage(evidence=None, world_ctx: ObservationContext | None = None, *, end: dt.date | str | None = None):
    """Every observation with its operator and options, or with the reason it is not used.

    Columns: id, kind, destination, period_start, period_end, bound, unit, used, operator, reason, quality,
    sigma. ``evidence``: an Evidence, an iterable of observations, or None for the packaged evidence."""
    import pandas as pd

    from emigre.evidence import load_evidence
    from emigre.observe.likelihood import error_scale, quality_class

    ctx = world_ctx or default_context()
    if evidence is None:
        evidence = load_evidence()
    observations = getattr(evidence, "observations", evidence)
    horizon = dt.date.fromisoformat(str(end)) if end is not None else ctx.end
    rows = []
    for obs in observations:
        rd = read_observation(obs, ctx)
        why_not = usable(obs, ctx, horizon)
        rows.append(
            {
                "id": obs.id,
                "kind": obs.kind,
                "destination": obs.destination,
                "period_start": obs.period_start,
                "period_end": obs.period_end,
                "bound": obs.bound,
                "unit": obs.unit,
                "used": why_not is None,
                "operator": rd.operator or "",
                "reason": rd.reason if why_not is None else why_not,
                "quality": quality_class(obs),
                "sigma": error_scale(obs, rd),
            }
        )
    return pd.DataFrame(rows)
