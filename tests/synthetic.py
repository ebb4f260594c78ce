"""A synthetic ensemble in the exact per-run output schema: a fixture of the tests (not shipped with the package).

It is NOT a model of the emigration: wave shapes, shares and capacities are made up to look like the
output of a simulator (two large waves, returns after months, queues at land crossings when a wave
exceeds capacity). It is fully determined by ``seed`` and the run number, and internally consistent:
breakdowns sum to their totals, ``present`` over destinations sums to ``abroad``, ``departed_cum`` is the
running sum of ``departures``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from emigre.results.schema import BREAKDOWNS, NATIONAL, group_key

# start offset (days after 24 Feb 2022), gamma shape, scale (days), people -- per reason
_WAVES = {
    "invasion": ("2022-02-24", 2.0, 5.0, 260_000),
    "economic_shock": ("2022-02-27", 1.6, 18.0, 120_000),
    "fake_news_law": ("2022-03-04", 2.0, 6.0, 60_000),
    "mobilization": ("2022-09-21", 1.8, 3.5, 420_000),
    "electronic_summons_law": ("2023-04-14", 1.5, 14.0, 35_000),
    "closing_exits": ("2022-02-24", 1.5, 3.0, 60_000),
}
_BASELINE_PER_DAY = 220.0

# destination weights per reason group (the mobilization wave goes over land, the first by air)
_DEST_FIRST = {
    "TUR": 14,
    "GEO": 12,
    "ARM": 12,
    "KAZ": 8,
    "ARE": 8,
    "SRB": 6,
    "ISR": 6,
    "UZB": 4,
    "KGZ": 3,
    "MNE": 3,
    "FIN": 3,
    "DEU": 3,
    "CYP": 2,
    "THA": 2,
    "ARG": 1.5,
    "USA": 1.5,
    "EST": 1,
    "LVA": 1,
    "POL": 1,
    "FRA": 1,
    "ESP": 1,
    "AZE": 1,
    "MNG": 0.5,
    "BLR": 1,
    "XAB": 0.5,
    "GRC": 0.5,
    "BGR": 0.5,
    "KOR": 0.5,
    "IND": 0.5,
}
_DEST_MOB = {
    "KAZ": 30,
    "GEO": 22,
    "MNG": 4,
    "FIN": 6,
    "TUR": 6,
    "ARM": 6,
    "UZB": 4,
    "KGZ": 4,
    "SRB": 3,
    "ARE": 3,
    "AZE": 2,
    "BLR": 3,
    "XAB": 2,
    "ISR": 1,
    "EST": 1,
    "LVA": 1,
    "NOR": 0.5,
    "TJK": 1,
}

# share of each category by reason group ("first" = every reason but mobilization/summons)
_PROFILE = {
    "age": {"first": (0.14, 0.38, 0.28, 0.12, 0.08), "mob": (0.22, 0.42, 0.27, 0.08, 0.01)},
    "sex": {"first": (0.55, 0.45), "mob": (0.88, 0.12)},
    "education": {"first": (0.80, 0.20), "mob": (0.55, 0.45)},
    "it": {"first": (0.30, 0.70), "mob": (0.15, 0.85)},
    "document": {"first": (0.15, 0.60, 0.25), "mob": (0.45, 0.45, 0.10)},
}

_FALLBACK_LINKS = (  # id, destination, hub (None = leaves Russia)
    ("road:Upper-Lars-Tbilisi", "GEO", None),
    ("road:Petukhovo-Petropavl", "KAZ", None),
    ("road:Samara-Oral", "KAZ", None),
    ("road:Torfyanovka-Helsinki", "FIN", None),
    ("road:Kyakhta-Ulaanbaatar", "MNG", None),
    ("air:SVO-IST", "TUR", None),
    ("air:SVO-EVN", "ARM", None),
    ("air:SVO-DXB", "ARE", None),
    ("air:SVO-BEG", "SRB", None),
    ("air:SVO-TLV", "ISR", None),
    ("rail:Moscow-Tashkent", "UZB", None),
    ("air:IST-EZE", "ARG", "TUR"),
)


def _kernel(days: int, offset: int, shape: float, scale: float) -> np.ndarray:
    t = np.arange(days, dtype=np.float64) - offset + 0.5
    k = np.where(t > 0, np.power(np.clip(t, 0, None), shape - 1) * np.exp(-np.clip(t, 0, None) / scale), 0.0)
    s = k.sum()
    return k / s if s > 0 else k


def _world_geometry(world) -> tuple[list[str], list[tuple[str, str, str | None]]]:
    """Destinations and (link, destination, hub) from a World or CompiledWorld."""
    cw = world.compile() if hasattr(world, "compile") else world
    home = "RUS"
    country_of = [cw.countries[i] for i in cw.place_country]
    links = []
    for i, lid in enumerate(cw.link_ids):
        a, b = country_of[cw.link_from[i]], country_of[cw.link_to[i]]
        if a == b:
            continue
        links.append((lid, b, None if a == home else a))
    dests = [c for c in cw.countries if c != home]
    return dests, links


def synthetic_run(
    run: int,
    *,
    seed: int = 2022,
    start: str | dt.date = "2022-02-24",
    end: str | dt.date = "2023-12-31",
    destinations: list[str] | None = None,
    links: list[tuple[str, str, str | None]] | None = None,
    scale: float = 1.0,
) -> pd.DataFrame:
    """One run in the output schema (date, place, measure, group, value)."""
    rng = np.random.default_rng([seed, run])
    dates = pd.date_range(start, end, freq="D")
    n = len(dates)
    t0 = pd.Timestamp("2022-02-24")
    reasons = BREAKDOWNS["reason"]
    dests = list(destinations) if destinations is not None else sorted(set(_DEST_FIRST) | set(_DEST_MOB))
    link_rows = list(links) if links is not None else list(_FALLBACK_LINKS)

    # departures by reason
    dep_r = np.zeros((len(reasons), n))
    for i, r in enumerate(reasons):
        if r == "baseline":
            dep_r[i] = _BASELINE_PER_DAY * scale
        else:
            when, shape, sc, total = _WAVES[r]
            offset = (pd.Timestamp(when) - pd.Timestamp(dates[0])).days
            total_run = total * scale * rng.lognormal(0.0, 0.18)
            dep_r[i] = total_run * _kernel(n, offset, shape, sc * rng.lognormal(0.0, 0.1))
    dep_r *= rng.gamma(40.0, 1 / 40.0, size=dep_r.shape)
    dep_r = np.round(dep_r)
    # returns: a share of each cohort comes back after a few months
    p_ret = np.clip(rng.normal(0.32, 0.05), 0.1, 0.6)
    g = _kernel(n, 20, 2.0, rng.uniform(60, 110))
    ret_r = np.round(p_ret * np.array([np.convolve(d, g)[:n] for d in dep_r]))
    transit_r = np.round(
        0.45 * dep_r + 0.15 * np.concatenate([np.zeros((len(reasons), 1)), dep_r[:, :-1]], 1)
    )
    abroad_r = np.cumsum(dep_r, 1) - np.cumsum(ret_r, 1) - transit_r

    dep = dep_r.sum(0)
    series: dict[tuple[str, str, str], np.ndarray] = {}

    def put(place: str, measure: str, group: str, values: np.ndarray) -> None:
        series[(place, measure, group)] = np.asarray(values, dtype=np.float64)

    put(NATIONAL, "departures", "", dep)
    put(NATIONAL, "returns", "", ret_r.sum(0))
    put(NATIONAL, "departed_cum", "", np.cumsum(dep))
    put(NATIONAL, "abroad", "", abroad_r.sum(0))
    put(NATIONAL, "in_transit", "", transit_r.sum(0))
    put(NATIONAL, "returned_cum", "", np.cumsum(ret_r.sum(0)))
    ahead = np.concatenate([dep[1:], [dep[-1]]]) + np.concatenate([dep[2:], [dep[-1]] * 2])
    put(NATIONAL, "leaving", "", np.round(0.8 * ahead))
    season = 1 + 0.3 * np.sin(2 * np.pi * (np.arange(n) + (dates[0] - t0).days - 60) / 365.25)
    put(NATIONAL, "travellers_cum", "", np.cumsum(np.round(45_000 * scale * season)))
    for i, r in enumerate(reasons):
        put(NATIONAL, "departures", group_key("reason", r), dep_r[i])
        put(NATIONAL, "abroad", group_key("reason", r), abroad_r[i])
    mob = np.array([r in ("mobilization", "electronic_summons_law") for r in reasons])
    for dim, shares in _PROFILE.items():
        first = rng.dirichlet(np.array(shares["first"]) * 300)
        second = rng.dirichlet(np.array(shares["mob"]) * 300)
        weight = np.where(mob[:, None], second[None, :], first[None, :])  # reasons x categories
        for j, cat in enumerate(BREAKDOWNS[dim]):
            put(NATIONAL, "departures", group_key(dim, cat), dep_r.T @ weight[:, j])
            put(NATIONAL, "abroad", group_key(dim, cat), abroad_r.T @ weight[:, j])

    # destinations: shares per reason group
    def shares(table: dict[str, float]) -> np.ndarray:
        w = np.array([table.get(c, 0.05) for c in dests], dtype=np.float64)
        return rng.dirichlet(w / w.sum() * 400 + 1e-3)

    dest_first, dest_mob = shares(_DEST_FIRST), shares(_DEST_MOB)
    dshare = np.where(mob[:, None], dest_mob[None, :], dest_first[None, :])  # reasons x dests
    arrive_r = np.concatenate([np.zeros((len(reasons), 1)), dep_r[:, :-1]], 1)
    for k, c in enumerate(dests):
        present_rc = abroad_r * dshare[:, k : k + 1]
        put(c, "present", "", np.round(present_rc.sum(0)))
        put(c, "arrivals", "", np.round(arrive_r.T @ dshare[:, k]))
        for i, r in enumerate(reasons):
            put(c, "present", group_key("reason", r), np.round(present_rc[i]))

    # links: departures to a destination spread over the exit links into it (or via a hub)
    dep_c = dep_r.T @ dshare  # days x dests
    ret_c = ret_r.T @ dshare
    index = {c: k for k, c in enumerate(dests)}
    exits_to: dict[str, list[int]] = {}
    onward_to: dict[str, list[int]] = {}
    for j, (_, dest, hub) in enumerate(link_rows):
        (exits_to if hub is None else onward_to).setdefault(dest, []).append(j)
    demand = np.zeros((len(link_rows), n))
    back = np.zeros((len(link_rows), n))
    hub_exit = [j for j, (_, dest, hub) in enumerate(link_rows) if hub is None and dest in ("TUR", "ARE")]
    for c, k in index.items():
        direct = exits_to.get(c) or []
        via = onward_to.get(c) or []
        targets = direct or hub_exit
        if targets:
            w = rng.dirichlet(np.ones(len(targets)) * 3)
            demand[targets] += w[:, None] * dep_c[:, k]
            back[targets] += w[:, None] * ret_c[:, k]
        if via and not direct:
            w = rng.dirichlet(np.ones(len(via)) * 3)
            demand[via] += w[:, None] * np.concatenate([[0.0], dep_c[:-1, k]])
    for j, (lid, _, _) in enumerate(link_rows):
        mode = lid.partition(":")[0]
        d = demand[j]
        if mode in ("road", "rail") and d.sum() > 0:
            cap = max(50.0, 0.4 * float(d.max()))  # the big waves overflow for a few days, then queues drain
            out, queue, wait = np.zeros(n), np.zeros(n), np.zeros(n)
            q = 0.0
            for t in range(n):
                avail = q + d[t]
                crossed = min(avail, cap)
                wait[t] = q / cap if crossed > 0 else np.nan
                q = avail - crossed
                out[t], queue[t] = crossed, q
        else:
            out, queue, wait = d, np.zeros(n), np.where(d > 0, 0.0, np.nan)
        put(lid, "crossings_out", "", np.round(out))
        put(lid, "crossings_in", "", np.round(back[j]))
        put(lid, "queue", "", np.round(queue))
        put(lid, "wait_days", "", np.round(wait, 2))

    keys = list(series)
    k = len(keys)
    frame = pd.DataFrame(
        {
            "date": np.tile(dates.to_numpy(), k),
            "place": np.repeat(np.array([x[0] for x in keys], dtype=object), n),
            "measure": np.repeat(np.array([x[1] for x in keys], dtype=object), n),
            "group": np.repeat(np.array([x[2] for x in keys], dtype=object), n),
            "value": np.concatenate([series[x] for x in keys]),
        }
    )
    frame.attrs["params"] = {"return_share": round(float(p_ret), 4)}
    return frame


def synthetic_ensemble(
    runs: int = 3,
    *,
    seed: int = 2022,
    world=None,
    start: str | dt.date = "2022-02-24",
    end: str | dt.date = "2023-12-31",
    max_destinations: int | None = None,
    max_links: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``runs`` synthetic runs as one frame (with ``run``) and a runs table (run, seed, draw, parameters).

    With ``world`` (a World or CompiledWorld) destinations and links are the world's; ``max_destinations``
    / ``max_links`` keep the first ones (by the synthetic weights) to size a benchmark.
    """
    dests, links = _world_geometry(world) if world is not None else (None, None)
    if dests is not None and max_destinations is not None:
        weight = {c: _DEST_FIRST.get(c, 0) + _DEST_MOB.get(c, 0) for c in dests}
        dests = sorted(dests, key=lambda c: -weight[c])[:max_destinations]
    if links is not None:
        keep = set(dests or [])
        links = [x for x in links if x[1] in keep and (x[2] is None or x[2] in keep)]
        if max_links is not None:
            links = links[:max_links]
    frames, table = [], []
    for r in range(runs):
        f = synthetic_run(r, seed=seed, start=start, end=end, destinations=dests, links=links)
        f.insert(0, "run", r)
        frames.append(f)
        table.append({"run": r, "seed": seed, "draw": r, **f.attrs["params"]})
    return pd.concat(frames, ignore_index=True), pd.DataFrame(table)
