"""The hop and link primitives of the two route searches (:func:`emigre.scenario.routes.enumerate_paths`, the
simulator's candidates, and :meth:`emigre.scenario.world.World.routes`, one day's feasible routes): which
links leave a place, whether a step may be taken on a route out of Russia, and whether it enters a country.
Both searches walk the same graph by these rules; they differ in what they keep (see docs/architecture.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


def adjacency(ends: Iterable[tuple[N, N]]) -> defaultdict[N, list[tuple[int, N]]]:
    """Per place, ``(link index, place at the other end)`` of every link touching it, in link order: links
    are travelled both ways (a scenario stores each link once)."""
    adj: defaultdict[N, list[tuple[int, N]]] = defaultdict(list)
    for k, (a, b) in enumerate(ends):
        adj[a].append((k, b))
        adj[b].append((k, a))
    return adj


def comes_back(c_here: Hashable, c_next: Hashable, home: Hashable) -> bool:
    """A step from abroad into the home country: a route out never takes it."""
    return c_here != home and c_next == home


def enters(c_here: Hashable, c_next: Hashable, home: Hashable) -> bool:
    """A step that crosses into a foreign country (a border entry, where entry rules apply)."""
    return c_next != c_here and c_next != home
