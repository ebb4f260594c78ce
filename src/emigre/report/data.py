"""The numbers behind the report, computed from a result store: every figure is a per-run quantity first
(a sum, a share, a value on a day), and its band is taken over runs last, so a share's band is the band
of the share, not a ratio of medians."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from emigre.errors import EmigreError
from emigre.results.bands import RunSeries, summarize
from emigre.results.schema import (
    BREAKDOWNS,
    CATEGORY_LABELS,
    COUNTRY_MEASURES,
    DIMENSION_LABELS,
    LINK_MEASURES,
    NATIONAL,
    NATIONAL_MEASURES,
    OPTIONAL_MEASURES,
    link_mode,
)
from emigre.results.store import ResultStore

TOP_DESTINATIONS = 12
TOP_DESTINATION_SERIES = 6
TOP_LINKS = 15
TOP_LAND_CROSSINGS = 4
LAND_BIN_DAYS = 2
YEAR_END = dt.date(2022, 12, 31)
WAVE_GAP_DAYS = 30  # push events starting within this many days of each other make one wave


def band(values) -> dict[str, float]:
    return summarize(np.asarray(values, dtype=np.float64))


@dataclass
class WorldInfo:
    """What the report needs from the scenario: names, geometry, events (all optional)."""

    country_names: dict[str, str] = field(default_factory=dict)
    place_xy: dict[str, tuple[float, float]] = field(default_factory=dict)  # place id -> (lon, lat)
    country_xy: dict[str, tuple[float, float]] = field(default_factory=dict)  # iso3 -> (lon, lat)
    place_country: dict[str, str] = field(default_factory=dict)
    place_names: dict[str, str] = field(default_factory=dict)
    links: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # id -> (from place, to place, mode)
    exits: dict[str, str] = field(default_factory=dict)  # exit link id -> ISO3 of its far end (the scenario's)
    pushes: list[dict] = field(default_factory=list)
    timeline: list[dict] = field(default_factory=list)
    name: str = ""

    def link_countries(self, link_id: str) -> tuple[str, str] | None:
        """ISO3 of a link's two ends, or None for an unknown link."""
        if link_id not in self.links:
            return None
        a, b, _ = self.links[link_id]
        return self.place_country.get(a, ""), self.place_country.get(b, "")

    def is_exit(self, link_id: str) -> bool:
        """A link out of Russia, as the scenario defines it (``CompiledWorld.link_exit``); unknown links count
        as exits: the simulator only reports what it moves."""
        return link_id not in self.links or link_id in self.exits

    def mode(self, link_id: str) -> str:
        """A link's mode (from its id where the world does not know it)."""
        if link_id in self.links:
            return self.links[link_id][2]
        return link_mode(link_id) or "other"

    def link_label(self, link_id: str) -> str:
        """A link as ``from -> to`` place names."""
        if link_id not in self.links:
            return link_id
        a, b, _ = self.links[link_id]
        return f"{self.place_names.get(a, a)} \u2192 {self.place_names.get(b, b)}"


def world_info(world) -> WorldInfo:
    """Read names, coordinates and events from a World (or a CompiledWorld, or None)."""
    from emigre.evidence.codes import SPECIAL_CODES, iso3_names

    info = WorldInfo()
    info.country_names = {**iso3_names(), **{k: v for k, v in SPECIAL_CODES.items() if k.startswith("X")}}
    if world is None:
        return info
    compiled = world.compile() if hasattr(world, "compile") else world
    if hasattr(world, "countries") and isinstance(world.countries, dict):
        info.country_names.update({k: c.name for k, c in world.countries.items()})
    info.name = getattr(world, "name", "")
    places = getattr(world, "places", None)
    best: dict[str, tuple[int, float, float]] = {}
    for i, pid in enumerate(compiled.place_ids):
        country = compiled.countries[int(compiled.place_country[i])]
        lon, lat = float(compiled.place_lon[i]), float(compiled.place_lat[i])
        info.place_xy[pid] = (lon, lat)
        info.place_country[pid] = country
        info.place_names[pid] = places[pid].name if places and pid in places else pid.split(":", 1)[-1]
        pop = compiled.place_population[i]
        rank = (1 if compiled.place_kind[i] == "city" else 0, float(pop) if np.isfinite(pop) else 0.0)
        if country not in best or rank > best[country][:2]:
            best[country] = (*rank, i)
    for country, (_, _, i) in best.items():
        info.country_xy[country] = (float(compiled.place_lon[i]), float(compiled.place_lat[i]))
    for j, lid in enumerate(compiled.link_ids):
        info.links[lid] = (
            compiled.place_ids[int(compiled.link_from[j])],
            compiled.place_ids[int(compiled.link_to[j])],
            compiled.modes[int(compiled.link_mode[j])],
        )
    info.exits = dict(compiled.exit_links())
    for p in getattr(world, "pushes", []) or []:
        info.pushes.append(
            {
                "id": p.id,
                "name": p.name,
                "kind": p.kind,
                "start": p.date_start,
                "end": p.date_end,
                "description": p.description,
                "source": p.source,
            }
        )
    for e in getattr(world, "timeline", []) or []:
        info.timeline.append(
            {
                "id": e.id,
                "effect": e.effect,
                "start": e.date_start,
                "end": e.date_end,
                "links": len(e.link_ids),
                "selector": e.selector,
                "description": e.description,
                "source": e.source,
            }
        )
    return info


@dataclass
class ReportData:
    """Every number the report shows, as bands over runs, with the world it was simulated on."""

    title: str
    start: dt.date
    end: dt.date
    n_runs: int
    runs: pd.DataFrame
    summary: list[dict]
    waves: list[dict]
    weekly: pd.DataFrame  # measure, date, bands (weekly departures and returns)
    cumulative: pd.DataFrame  # measure, date, bands (daily stocks)
    reasons: pd.DataFrame  # category, label, people bands, share bands
    reasons_weekly: pd.DataFrame  # category, label, date, median
    modes: pd.DataFrame  # mode, bands of exits, share
    links: pd.DataFrame  # link, label, mode, dest, crossings bands, peak queue, max wait
    land: dict[str, dict[str, pd.DataFrame]]  # link -> {"crossings_out": bands, "queue": bands}
    destinations: pd.DataFrame  # country, name, present_end bands, present_2022 bands, arrivals bands
    destination_series: pd.DataFrame  # country, name, date, bands (weekly)
    profile: pd.DataFrame  # dimension, category, label, share of departures / of abroad at end
    map_links: pd.DataFrame  # link, mode, lon, lat, lon2, lat2, crossings
    map_places: pd.DataFrame  # country, name, lon, lat, present
    world: WorldInfo
    per_run: dict[str, RunSeries] = field(default_factory=dict, repr=False)


def _required(store: ResultStore) -> pd.DataFrame:
    cat = store.catalogue()
    have = set(cat["measure"])
    needed = [m for m in (*NATIONAL_MEASURES, *COUNTRY_MEASURES, *LINK_MEASURES) if m not in OPTIONAL_MEASURES]
    missing = [m for m in needed if m not in have]
    if missing:
        raise EmigreError(
            f"the results lack measure(s) {', '.join(missing)}; the report needs every measure of the output "
            f"schema ({', '.join(needed)}; see emigre.results.schema)"
        )
    national = cat[cat["place"] == NATIONAL]
    at_all = set(national["measure"])
    lost = [m for m in NATIONAL_MEASURES if m not in at_all and m not in OPTIONAL_MEASURES]
    if lost:
        raise EmigreError(f"the results lack national (place ALL) series of {', '.join(lost)}")
    groups = set(national.loc[national["measure"] == "departures", "group"])
    dims = [d for d in BREAKDOWNS if not any(g.startswith(d + "=") for g in groups)]
    if dims:
        raise EmigreError(
            f"the results lack the departures breakdown by {', '.join(dims)} (groups like "
            f"{dims[0]}={BREAKDOWNS[dims[0]][0]} at place ALL)"
        )
    return cat


def _categories(groups: set[str], dimension: str) -> list[str]:
    found = [g.split("=", 1)[1] for g in groups if g.startswith(dimension + "=")]
    known = [c for c in BREAKDOWNS.get(dimension, ()) if c in found]
    return known + sorted(c for c in found if c not in known)


def find_waves(pushes: list[dict], start: dt.date, end: dt.date) -> list[dict]:
    """Periods opened by push events (those starting within WAVE_GAP_DAYS of each other share one)."""
    starts = sorted(
        (p for p in pushes if p["kind"] == "push" and p["start"] is not None and p["start"] <= end),
        key=lambda p: p["start"],
    )
    clusters: list[list[dict]] = []
    for p in starts:
        if clusters and (p["start"] - clusters[-1][-1]["start"]).days <= WAVE_GAP_DAYS:
            clusters[-1].append(p)
        else:
            clusters.append([p])
    if not clusters:
        return [{"name": "whole period", "start": start, "end": end, "pushes": []}]
    out = []
    for i, cl in enumerate(clusters):
        a = max(start, cl[0]["start"]) if i else start
        b = clusters[i + 1][0]["start"] - dt.timedelta(days=1) if i + 1 < len(clusters) else end
        out.append(
            {"name": ", ".join(p["name"].replace("_", " ") for p in cl), "start": a, "end": b, "pushes": cl}
        )
    return out


def _nanmax_rows(values: np.ndarray) -> np.ndarray:
    """Row maxima ignoring NaN (a run where nobody crossed has no wait: NaN)."""
    filled = np.where(np.isnan(values), -np.inf, values).max(axis=1)
    return np.where(np.isinf(filled), np.nan, filled)


def _to_date(x) -> dt.date:
    return pd.Timestamp(x).date()


def _band_rows(series: RunSeries, **extra) -> pd.DataFrame:
    b = series.bands()
    for k, v in extra.items():
        b.insert(0, k, v)
    return b


def collect(store: ResultStore, world=None, *, title: str = "") -> ReportData:
    """Compute every number and table of the report from ``store``."""
    cat = _required(store)
    info = world if isinstance(world, WorldInfo) else world_info(world)
    dates, runs = store.grid()
    start, end = _to_date(dates[0]), _to_date(dates[-1])
    n_runs = len(runs)

    national = store.load(NATIONAL_MEASURES, [NATIONAL])
    nat = {m: national[(m, NATIONAL, "")] for m in NATIONAL_MEASURES if (m, NATIONAL, "") in national}
    groups = store.load(["departures", "abroad"], [NATIONAL], None)

    # ---------------------------------------------------------------- how many
    dep_cum, abroad, ret_cum = nat["departed_cum"], nat["abroad"], nat["returned_cum"]
    summary = []
    if start <= YEAR_END <= end:
        summary.append(
            {"key": "departed_2022", "label": "Left by 31 December 2022", **band(dep_cum.at(YEAR_END))}
        )
    summary.append({"key": "departed_end", "label": f"Left by {end:%-d %B %Y}", **band(dep_cum.at())})
    summary.append({"key": "abroad_end", "label": f"Abroad on {end:%-d %B %Y}", **band(abroad.at())})
    summary.append({"key": "returned_end", "label": f"Came back by {end:%-d %B %Y}", **band(ret_cum.at())})
    with np.errstate(divide="ignore", invalid="ignore"):
        stayed = np.where(dep_cum.at() > 0, abroad.at() / dep_cum.at(), np.nan)
    summary.append(
        {
            "key": "stayed_share",
            "label": "Share of leavers abroad at the end",
            "unit": "share",
            **band(stayed),
        }
    )
    weekly_dep = nat["departures"].weekly("sum")
    med_week = np.median(weekly_dep.values, axis=0)
    peak = int(np.argmax(med_week))
    summary.append(
        {
            "key": "peak_week",
            "label": f"Busiest week (from {max(start, _to_date(weekly_dep.dates[peak])):%-d %b %Y})",
            **band(weekly_dep.values[:, peak]),
        }
    )

    waves = []
    for w in find_waves(info.pushes, start, end):
        total = nat["departures"].total(w["start"], w["end"])
        daily = nat["departures"].slice(w["start"], w["end"])
        peak_day = (
            _to_date(daily.dates[int(np.argmax(np.median(daily.values, axis=0)))])
            if len(daily.dates)
            else None
        )
        waves.append({**w, "peak_day": peak_day, **band(total)})

    weekly = pd.concat(
        [
            _band_rows(weekly_dep, measure="departures"),
            _band_rows(nat["returns"].weekly("sum"), measure="returns"),
        ],
        ignore_index=True,
    )
    first = pd.Timestamp(start)  # the first week starts on a Monday that may precede the first day
    weekly["date"] = weekly["date"].clip(lower=first)
    cumulative = pd.concat(  # stocks read at the end of each week: enough for a page, 7x lighter
        [
            _band_rows(nat[m].every(7), measure=m)
            for m in ("departed_cum", "abroad", "returned_cum", "in_transit", "leaving")
        ],
        ignore_index=True,
    )

    # ---------------------------------------------------------------- why and who
    dep_groups = {g for (m, _, g) in groups if m == "departures" and g}
    total_dep = nat["departures"].total()
    abroad_end = abroad.at()

    def share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(whole > 0, part / whole, np.nan)

    zero = RunSeries(dates, runs, np.zeros((n_runs, len(dates))))
    reason_rows, reason_weekly = [], []
    for c in _categories(dep_groups, "reason"):
        s = groups.get(("departures", NATIONAL, f"reason={c}"), zero)
        people = s.total()
        label = CATEGORY_LABELS.get(c, c)
        reason_rows.append(
            {
                "category": c,
                "label": label,
                **{f"people_{k}": v for k, v in band(people).items()},
                **{f"share_{k}": v for k, v in band(share(people, total_dep)).items()},
            }
        )
        wk = s.weekly("sum")
        reason_weekly.append(
            pd.DataFrame(
                {
                    "category": c,
                    "label": label,
                    "date": pd.to_datetime(wk.dates),
                    "median": np.median(wk.values, axis=0),
                }
            )
        )
    reasons = pd.DataFrame(reason_rows)
    reasons_weekly = pd.concat(reason_weekly, ignore_index=True)
    reasons_weekly["date"] = reasons_weekly["date"].clip(lower=first)

    profile_rows = []
    for dim in [d for d in BREAKDOWNS if d != "reason"] + sorted(
        {g.split("=", 1)[0] for g in dep_groups} - set(BREAKDOWNS)
    ):
        for c in _categories(dep_groups, dim):
            d = groups.get(("departures", NATIONAL, f"{dim}={c}"), zero).total()
            a = groups.get(("abroad", NATIONAL, f"{dim}={c}"), zero).at()
            profile_rows.append(
                {
                    "dimension": dim,
                    "dimension_label": DIMENSION_LABELS.get(dim, dim),
                    "category": c,
                    "label": CATEGORY_LABELS.get(c, c),
                    **{f"dep_{k}": v for k, v in band(share(d, total_dep)).items()},
                    **{f"abroad_{k}": v for k, v in band(share(a, abroad_end)).items()},
                }
            )
    profile = pd.DataFrame(profile_rows)

    # ---------------------------------------------------------------- how: links
    link_places = sorted(set(cat.loc[cat["measure"] == "crossings_out", "place"]))
    agg = store.totals(["crossings_out", "queue", "wait_days"], link_places)
    run_pos = {int(r): i for i, r in enumerate(runs)}

    def per_run(measure: str, column: str) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        sub = agg[agg["measure"] == measure]
        fill = np.nan if measure == "wait_days" else 0.0
        for lid, part in sub.groupby("place", sort=False):
            v = np.full(n_runs, fill)
            v[[run_pos[int(r)] for r in part["run"]]] = part[column].astype(float).to_numpy()
            out[lid] = v
        return out

    crossings, peak_queue, max_wait = (
        per_run("crossings_out", "total"),
        per_run("queue", "peak"),
        per_run("wait_days", "peak"),
    )
    link_rows, mode_totals = [], {}
    nothing = np.zeros(n_runs)
    for lid in link_places:
        total = np.nan_to_num(crossings.get(lid, nothing))
        mode = info.mode(lid)
        exit_link = info.is_exit(lid)
        if exit_link:
            mode_totals[mode] = mode_totals.get(mode, nothing) + total
        countries = info.link_countries(lid)
        link_rows.append(
            {
                "link": lid,
                "label": info.link_label(lid),
                "mode": mode,
                "exit": exit_link,
                "to_country": countries[1] if countries else "",
                **{f"crossings_{k}": v for k, v in band(total).items()},
                **{
                    f"peak_queue_{k}": v for k, v in band(np.nan_to_num(peak_queue.get(lid, nothing))).items()
                },
                **{f"max_wait_{k}": v for k, v in band(max_wait.get(lid, np.full(n_runs, np.nan))).items()},
            }
        )
    links = pd.DataFrame(link_rows).sort_values(
        ["crossings_median", "link"], ascending=[False, True], ignore_index=True
    )
    exits_all = sum(mode_totals.values()) if mode_totals else np.zeros(n_runs)
    modes = pd.DataFrame(
        [
            {
                "mode": m,
                **band(v),
                **{f"share_{k}": x for k, x in band(share(v, exits_all)).items()},
            }
            for m, v in mode_totals.items()
        ]
    )
    if not modes.empty:
        modes = modes.sort_values("median", ascending=False, ignore_index=True)
    land_ids = [
        r.link for r in links.itertuples() if r.exit and r.mode in ("road", "rail") and r.crossings_median > 0
    ][:TOP_LAND_CROSSINGS]
    land_daily = store.load(["crossings_out", "queue"], land_ids, [""])
    land = {
        lid: {
            # two-day bins: a 400-pixel chart cannot show 676 days, and the bands stay per run
            "crossings_out": land_daily.get(("crossings_out", lid, ""), zero)
            .bin(LAND_BIN_DAYS, "mean")
            .bands(),
            "queue": land_daily.get(("queue", lid, ""), zero).bin(LAND_BIN_DAYS, "max").bands(),
        }
        for lid in land_ids
    }

    # ---------------------------------------------------------------- where to
    country_places = sorted(set(cat.loc[cat["measure"] == "present", "place"]) - {NATIONAL})
    cdata = store.load(["present", "arrivals"], country_places, [""])
    dest_rows = []
    for c in country_places:
        pres = cdata.get(("present", c, ""), zero)
        arr = cdata.get(("arrivals", c, ""), zero)
        row = {"country": c, "name": info.country_names.get(c, c)}
        row.update({f"end_{k}": v for k, v in band(pres.at()).items()})
        if start <= YEAR_END <= end:
            row.update({f"y2022_{k}": v for k, v in band(pres.at(YEAR_END)).items()})
            row.update({f"share2022_{k}": v for k, v in band(share(pres.at(YEAR_END),
                                                                   abroad.at(YEAR_END))).items()})
        row.update({f"arrivals_{k}": v for k, v in band(arr.total()).items()})
        row.update({f"share_{k}": v for k, v in band(share(pres.at(), abroad_end)).items()})
        dest_rows.append(row)
    destinations = pd.DataFrame(dest_rows).sort_values("end_median", ascending=False, ignore_index=True)
    top_series = destinations["country"].head(TOP_DESTINATION_SERIES).tolist()
    destination_series = pd.concat(
        [
            _band_rows(cdata[("present", c, "")].every(7), country=c, name=info.country_names.get(c, c))
            for c in top_series
            if ("present", c, "") in cdata
        ],
        ignore_index=True,
    )

    # ---------------------------------------------------------------- map
    map_links = []
    for r in links.itertuples():
        if r.link not in info.links or r.crossings_median <= 0:
            continue
        a, b, _ = info.links[r.link]
        if a not in info.place_xy or b not in info.place_xy:
            continue
        ca, cb = info.place_country.get(a), info.place_country.get(b)
        if ca == cb:
            continue
        map_links.append(
            {
                "link": r.link,
                "label": r.label,
                "mode": r.mode,
                "lon": info.place_xy[a][0],
                "lat": info.place_xy[a][1],
                "lon2": info.place_xy[b][0],
                "lat2": info.place_xy[b][1],
                "crossings": r.crossings_median,
            }
        )
    map_places = [
        {
            "country": r.country,
            "name": r.name,
            "lon": info.country_xy[r.country][0],
            "lat": info.country_xy[r.country][1],
            "present": r.end_median,
            "rank": i + 1,
        }
        for i, r in enumerate(destinations.itertuples())
        if r.country in info.country_xy and r.end_median > 0
    ]

    return ReportData(
        title=title or "Emigration from Russia after 24 February 2022: simulated ensemble",
        start=start,
        end=end,
        n_runs=n_runs,
        runs=store.runs(),
        summary=summary,
        waves=waves,
        weekly=weekly,
        cumulative=cumulative,
        reasons=reasons,
        reasons_weekly=reasons_weekly,
        modes=modes,
        links=links,
        land=land,
        destinations=destinations,
        destination_series=destination_series,
        profile=profile,
        map_links=pd.DataFrame(map_links),
        map_places=pd.DataFrame(map_places),
        world=info,
        per_run={
            **{m: nat[m] for m in NATIONAL_MEASURES if m in nat},
            **{
                f"present:{c}": cdata[("present", c, "")]
                for c in country_places
                if ("present", c, "") in cdata
            },
            **{
                f"arrivals:{c}": cdata[("arrivals", c, "")]
                for c in country_places
                if ("arrivals", c, "") in cdata
            },
        },
    )


__all__ = ["ReportData", "WorldInfo", "collect", "find_waves", "world_info"]
