"""The route search of the simulator: every candidate path out of Russia from each origin, on the compiled world
(day-independent: closures and entry rules are applied per day by the ruleset). :meth:`World.routes` is the other
question - which routes are feasible on one day, and why not - asked by ``emigre scenario routes``; both take
their steps by the rules of :mod:`emigre.scenario.hops` (docs/architecture.md says why they are two searches).

The search is the scenario's (it reads only the network); a calibration reuses it between draws through
:func:`cached_paths`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np

from emigre.scenario.hops import adjacency, comes_back, enters
from emigre.scenario.model import HOME
from emigre.scenario.world import CompiledWorld

MAX_HOPS = 5
ROUTES_PER_DESTINATION = 8


@dataclass
class Paths:
    """Candidate routes from every origin: padded link/entry arrays sorted by (origin, destination, hours)."""

    links: np.ndarray  # [P, MAX_HOPS] link index, -1 padded
    next_place: np.ndarray  # [P, MAX_HOPS] place reached by each step
    entry: np.ndarray  # [P, MAX_HOPS] country entered by the step, -1 if none
    length: np.ndarray
    origin: np.ndarray  # origin index (into CompiledWorld.origin_place)
    dest: np.ndarray  # destination country index
    hours: np.ndarray
    logcost: np.ndarray
    exit_link: np.ndarray
    borders: np.ndarray  # countries entered, destination included
    origin_start: np.ndarray  # [O + 1]



def cached_paths(cw: CompiledWorld, cache: dict | None) -> Paths:
    """:func:`enumerate_paths` through ``cache`` (a dict the caller keeps, e.g. a calibration's worker), keyed on
    the content of the network arrays the search reads, so a cached result is the uncached one; each caller gets
    its own copy of the arrays (the ruleset writes ``logcost``)."""
    if cache is None:
        return enumerate_paths(cw)
    h = hashlib.sha1()
    for a in (cw.link_from, cw.link_to, cw.link_hours, cw.link_mode, cw.link_exit, cw.place_country,
              cw.origin_place, cw.entry_modes):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr(list(cw.countries)).encode())
    k = h.hexdigest()
    got = cache.get(k)
    if got is None:
        got = cache[k] = enumerate_paths(cw)
    return dataclasses.replace(got, **{f: np.array(getattr(got, f), copy=True) for f in got.__dataclass_fields__})


def enumerate_paths(
    cw: CompiledWorld, max_hops: int = MAX_HOPS, per_destination: int = ROUTES_PER_DESTINATION
) -> Paths:
    """Every simple path of at most ``max_hops`` links from each origin that never re-enters Russia and ends on
    entering a country not entered before; per (origin, destination) the ``per_destination`` fastest
    within twice the fastest time plus six hours, and as many again among the routes entering by a mode that an
    entry rule is limited to. Closures and entry rules are applied per day, not here."""
    rus = cw.countries.index(HOME)
    adj = adjacency(zip(cw.link_from.tolist(), cw.link_to.tolist(), strict=True))
    pc = cw.place_country
    hours = cw.link_hours
    found: list[tuple[int, int, float, list[int], list[int], list[int]]] = []
    for o, start in enumerate(cw.origin_place):
        stack = [(int(start), [], [], [], {int(start)}, frozenset())]
        while stack:
            here, links, places, entries, visited, entered = stack.pop()
            for k, nxt in adj[here]:
                if nxt in visited:
                    continue
                c_here, c_next = int(pc[here]), int(pc[nxt])
                if comes_back(c_here, c_next, rus):
                    continue
                crosses = enters(c_here, c_next, rus)
                if crosses and c_next in entered:
                    continue
                nl, npl, ne = links + [k], places + [nxt], entries + [c_next if crosses else -1]
                if crosses:
                    found.append((o, c_next, float(sum(hours[i] for i in nl)), nl, npl, ne))
                if len(nl) < max_hops:
                    stack.append((nxt, nl, npl, ne, visited | {nxt}, entered | {c_next} if crosses else entered))
    found.sort(key=lambda f: (f[0], f[1], f[2], f[3]))
    by_mode = _mode_restricted_entries(cw)
    keep = []
    i = 0
    while i < len(found):
        j = i
        while j < len(found) and found[j][:2] == found[i][:2]:
            j += 1
        group = _fastest(found[i:j], per_destination)
        bits = by_mode.get(found[i][1], 0)
        if bits:  # routes entering by a mode with its own entry rule compete among themselves as well
            extra = _fastest([f for f in found[i:j] if (1 << int(cw.link_mode[f[3][-1]])) & bits], per_destination)
            group = sorted({id(f): f for f in group + extra}.values(), key=lambda f: (f[2], f[3]))
        keep.extend(group)
        i = j
    P = len(keep)
    links = np.full((P, max_hops), -1, dtype=np.int32)
    nxtp = np.full((P, max_hops), -1, dtype=np.int32)
    entry = np.full((P, max_hops), -1, dtype=np.int16)
    exit_link = np.full(P, -1, dtype=np.int32)
    for q, (_, _, _, ls, ps, es) in enumerate(keep):
        links[q, : len(ls)] = ls
        nxtp[q, : len(ps)] = ps
        entry[q, : len(es)] = es
        for s, k in enumerate(ls):
            prev = int(cw.origin_place[keep[q][0]]) if s == 0 else ps[s - 1]
            if pc[prev] == rus and cw.link_exit[k]:  # the path's crossing out of Russia
                exit_link[q] = k
    origin = np.array([f[0] for f in keep], dtype=np.int32)
    n_o = len(cw.origin_place)
    return Paths(
        links=links, next_place=nxtp, entry=entry,
        length=np.array([len(f[3]) for f in keep], dtype=np.int8),
        origin=origin, dest=np.array([f[1] for f in keep], dtype=np.int16),
        hours=np.array([f[2] for f in keep]), logcost=np.zeros(P), exit_link=exit_link,
        borders=np.array([sum(e >= 0 for e in f[5]) for f in keep], dtype=np.int8),
        origin_start=np.searchsorted(origin, np.arange(n_o + 1)).astype(np.int64),
    )


def _fastest(routes: list, per_destination: int) -> list:
    """The ``per_destination`` fastest of routes sorted by time, within twice the fastest plus six hours."""
    if not routes:
        return []
    fastest = routes[0][2]
    return [f for f in routes if f[2] <= 2.0 * fastest + 6.0][:per_destination]


def _mode_restricted_entries(cw: CompiledWorld) -> dict[int, int]:
    """Country index -> bitmask of the entry modes some entry rule is limited to (entry_rules.csv ``modes``:
    Armenia admits the internal passport by air only; the USA admits asylum seekers by road from Mexico).
    Routes entering by those modes are kept even when faster routes by other modes exist: the fastest route
    to a country may be one that a rule closes (flights to New York need a US visa), so the time window of
    all routes together would drop the only way in."""
    all_modes = (1 << len(cw.modes)) - 1
    out: dict[int, int] = {}
    masks = np.asarray(cw.entry_modes)
    for c in range(masks.shape[1]):
        bits = 0
        for v in np.unique(masks[:, c, :]):
            if 0 < int(v) < all_modes:
                bits |= int(v)
        if bits:
            out[c] = bits
    return out
