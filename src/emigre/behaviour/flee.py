"""Flee 3's rules (as the validation suite runs them) on the emigre engine.

The rules follow ``shared/flee/README.md``; where Flee 3 has a defect we do the intended thing
(see ``docs/flee.md`` for each deviation). Per day the plan is:
update_conflicts -> spawn -> apply_closures -> score_places -> decide_and_travel -> record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emigre.behaviour import flee_kernels as K
from emigre.engine.network import Network
from emigre.engine.plan import Plan, Step
from emigre.engine.population import Population
from emigre.engine.rng import GEOMETRIC_NEVER, geometric_scale
from emigre.errors import EmigreError
from emigre.flee.model import FleeScenario, FleeSettings
from emigre.flee.series import camp_daily_values

#: Agents handled per chunk by the parallel decision kernel (also the unit of output order; a multiple of
#: the wake-day index's block).
CHUNK = 1 << 16
#: Populations at least this large select and decide with parallel kernels (smaller: one thread).
PARALLEL_MIN_AGENTS = 1 << 18
#: Intensities at or below this count as "no conflict" (Flee's threshold).
CONFLICT_EPS = 1e-6


@dataclass
class Paths:
    """Every loop-free path of 1..awareness hops from each place (markers do not count as a hop and do
    not end a path), as CSR arrays. Weights are recomputed per place per day and shared by all agents."""

    ptr: np.ndarray  # int64 [n_places + 1]: paths of place p are ptr[p]..ptr[p+1]-1
    end: np.ndarray  # int32: final place
    dist: np.ndarray  # float64: total length km
    nlinks: np.ndarray  # int32: number of links
    link_ptr: np.ndarray  # int64 [n_paths + 1]
    links: np.ndarray  # int32: links of the path in order
    max_per_place: int


def enumerate_paths(net: Network, is_marker: np.ndarray, awareness: int) -> Paths:
    """Every path an agent on each location looks along: ``awareness`` links (markers uncounted)."""
    ends: list[int] = []
    dists: list[float] = []
    link_lists: list[list[int]] = []
    ptr = [0]

    def walk(origin_chain: list[int], links: list[int], dist: float, step: int) -> None:
        here = int(net.dst[links[-1]])
        if not is_marker[here]:
            ends.append(here)
            dists.append(dist)
            link_lists.append(list(links))
        else:
            step -= 1  # a marker is passed through and not counted as a hop
        if awareness > step:
            for lk in net.out(here):
                nxt = int(net.dst[lk])
                if nxt in origin_chain:
                    continue
                walk(origin_chain + [here], links + [int(lk)], dist + float(net.length_km[lk]), step + 1)

    for place in range(net.n_places):
        if awareness < 1:
            # awareness 0: any neighbour, uniformly (weights are all set to 1 below)
            for lk in net.out(place):
                ends.append(int(net.dst[lk]))
                dists.append(float(net.length_km[lk]))
                link_lists.append([int(lk)])
        else:
            for lk in net.out(place):
                walk([place], [int(lk)], float(net.length_km[lk]), 1)
        ptr.append(len(ends))
    link_ptr = np.zeros(len(link_lists) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in link_lists], out=link_ptr[1:])
    flat = np.array([lk for x in link_lists for lk in x], dtype=np.int32)
    ptr_a = np.asarray(ptr, dtype=np.int64)
    return Paths(
        ptr=ptr_a,
        end=np.asarray(ends, dtype=np.int32),
        dist=np.asarray(dists, dtype=np.float64),
        nlinks=np.asarray([len(x) for x in link_lists], dtype=np.int32),
        link_ptr=link_ptr,
        links=flat,
        max_per_place=int(np.diff(ptr_a).max()) if len(ptr_a) > 1 else 0,
    )


@dataclass
class FleeResult:
    """Daily results of one run: people (agents) at each place, on links, in total, and the spawn
    bookkeeping Flee prints in out.csv."""

    scenario: FleeScenario
    settings: FleeSettings
    seed: int
    hasten: int
    place_names: list[str]
    camp_names: list[str]  # located camps of data_layout.csv, in its order
    camp_index: np.ndarray  # place index of each camp
    place_count: np.ndarray  # int64 [days, places]
    on_links: np.ndarray  # int64 [days]
    agents: np.ndarray  # int64 [days]: agents created so far
    camp_data: np.ndarray  # float64 [days, camps]: UNHCR value (agents, truncated as Flee does)
    raw_total: np.ndarray  # int64 [days]: cumulative UNHCR increase (Flee's "raw UNHCR refugee count")
    debt: np.ndarray  # int64 [days]
    seconds: float = 0.0
    step_seconds: dict[str, float] | None = None

    @property
    def n_days(self) -> int:
        """Number of simulated days."""
        return int(self.place_count.shape[0])

    @property
    def camp_sim(self) -> np.ndarray:
        """Agents per camp per day [day, camp]."""
        return self.place_count[:, self.camp_index]

    @property
    def agent_steps(self) -> int:
        """Agent-days simulated: every agent alive on each day (Flee's agent-steps)."""
        return int(self.agents.sum())


class FleeRuleset:
    """Flee 3 behaviour on the engine. Build it from a scenario and settings, then ``run()``."""

    name = "flee"

    def __init__(self, scenario: FleeScenario, settings: FleeSettings, *, seed: int = 0, hasten: int | None = None):
        if not isinstance(seed, int) or seed < 0:
            raise EmigreError(f"seed must be a non-negative integer, got {seed!r}")
        self.scenario = scenario
        self.s = settings
        self.seed = int(seed)
        self.hasten = int(hasten if hasten is not None else settings.hasten)
        if self.hasten < 1:
            raise EmigreError(f"hasten must be >= 1, got {self.hasten}")
        self.n_days = int(scenario.length)
        self._build_places()
        self._build_network()
        self._build_spawning()
        self._build_population()

    # ------------------------------------------------------------------ setup
    def _build_places(self) -> None:
        sc, s = self.scenario, self.s
        locs = sc.locations
        P = len(locs)
        self.place_names = [loc.name for loc in locs]
        self.index = {name: i for i, name in enumerate(self.place_names)}
        home = locs[0].country
        self.country = [loc.country for loc in locs]
        self.foreign = np.array([loc.country != home for loc in locs], dtype=np.uint8)
        self.is_marker = np.array([loc.location_type == "marker" for loc in locs], dtype=np.uint8)
        self.base_type = [loc.location_type for loc in locs]
        # hasten: N times fewer agents, so populations and capacities are divided by N (floored, as Flee)
        self.pop = np.array([(loc.population // self.hasten) for loc in locs], dtype=np.float64)
        cap = np.full(P, -1.0)
        for i, loc in enumerate(locs):
            if loc.location_type in ("camp", "idpcamp"):
                cap[i] = (loc.population // self.hasten) * s.capacity_scaling
        self.capacity = cap
        self.movechance = np.zeros(P)
        self.is_camp = np.zeros(P, dtype=np.uint8)
        self.is_town = np.zeros(P, dtype=np.uint8)
        self.conflict = np.full(P, -1.0)
        # bumped whenever a place changes type or a conflict factor changes: daily steps whose inputs
        # did not change since they last ran keep their results
        self._version = 0
        self._decay_version = -1
        self._decay_next = np.inf
        self._spawn_version = -1
        self._score_version = -1
        self.time_of_conflict = np.full(P, -1, dtype=np.int64)
        for i, loc in enumerate(locs):
            t = loc.location_type
            if t == "conflict" and loc.conflict_date > 0:
                t = "town"  # a conflict zone with a later date starts as a town (activated by conflicts.csv)
            self._set_type(i, t)
            if t == "conflict":
                self.conflict[i] = 1.0
        self.score = np.ones(P)

    def _set_type(self, i: int, t: str) -> None:
        s = self.s
        self._mc_dirty = True  # resting agents' waits are checked against the new move chances
        self._version += 1  # scores and spawn weights are recomputed
        self.is_camp[i] = 0
        self.is_town[i] = 0
        if t in ("camp", "idpcamp"):
            self.is_camp[i] = 1
            self.movechance[i] = s.idpcamp_movechance if t == "idpcamp" else s.camp_movechance
        elif t == "conflict":
            self.movechance[i] = s.conflict_movechance
        elif t in ("forward", "marker"):
            self.movechance[i] = 1.0
        else:
            self.is_town[i] = 1
            self.movechance[i] = s.default_movechance
        if self.movechance[i] < 0.005 and not self.is_camp[i]:
            # Flee treats a place this sticky as a camp
            self.is_camp[i] = 1
            self.is_town[i] = 0

    def _build_network(self) -> None:
        sc = self.scenario
        ends = [(self.index[r.name1], self.index[r.name2]) for r in sc.routes]
        self.net = Network.from_undirected(len(self.place_names), ends, [r.distance_km for r in sc.routes])
        self.paths = enumerate_paths(self.net, self.is_marker, self.s.awareness_level)
        self.path_open = np.ones(self.paths.end.shape[0], dtype=np.uint8)
        self.path_w0 = np.zeros(self.paths.end.shape[0])
        self.link_open = np.ones(self.net.n_links, dtype=np.uint8)
        self.scratch = np.zeros(max(1, self.paths.max_per_place))
        self._scratch2 = np.zeros((1, self.scratch.shape[0]))
        self._dplace = np.zeros((0, 0), dtype=np.int64)
        self._dlink = np.zeros((0, 0), dtype=np.int64)
        n_paths = self.paths.end.shape[0]
        self._cum = np.zeros(n_paths)  # route-choice tables of the decision phase (K.prepare_choices)
        self._ptotal = np.zeros(len(self.place_names))
        self._plast = np.full(len(self.place_names), -1, dtype=np.int64)
        # for keeping those tables exact during travel: the count above which a place's capacity
        # multiplier can differ from 1 (counts are integers: n <= x iff n <= floor(x)), and for each
        # place the places with a path ending there
        self._set_full_from()
        origin = np.repeat(np.arange(len(self.place_names)), np.diff(self.paths.ptr))
        pairs = np.unique(np.stack([self.paths.end.astype(np.int64), origin]), axis=1)
        self._rev_ptr = np.zeros(len(self.place_names) + 1, dtype=np.int64)
        np.cumsum(np.bincount(pairs[0], minlength=len(self.place_names)), out=self._rev_ptr[1:])
        self._rev = pairs[1].astype(np.int32)
        self._stale = np.zeros(len(self.place_names), dtype=np.uint8)
        # closures -> the directed links each one closes (or the camp it turns into a town)
        link_of = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(self.net.src, self.net.dst, strict=True))}
        self._closures: list[tuple[str, int, int, np.ndarray]] = []
        for c in sc.closures:
            end = c.end if c.end >= 0 else np.iinfo(np.int64).max
            if c.kind == "country":
                a, b = c.name1, c.name2
                links = [k for k in range(self.net.n_links)
                         if {self.country[self.net.src[k]], self.country[self.net.dst[k]]} == {a, b} and a != b]
            elif c.kind == "location":
                x = self.index[c.name1]
                links = [k for k in range(self.net.n_links) if x in (self.net.src[k], self.net.dst[k])]
            elif c.kind == "link":
                x, y = self.index[c.name1], self.index[c.name2]
                links = [link_of[p] for p in ((x, y), (y, x)) if p in link_of]
            elif c.kind in ("camp", "idpcamp"):
                self._closures.append(("camp", c.start, end, np.array([self.index[c.name1]], dtype=np.int32)))
                continue
            else:  # remove_forced_redirection: Flee parses forced redirection and ignores it
                continue
            self._closures.append(("links", c.start, end, np.asarray(links, dtype=np.int32)))
        self._camp_closed = np.zeros(len(self.place_names), dtype=bool)
        self._closures_active: tuple[int, ...] | None = None  # none applied yet
        s = self.s
        self._path_den = (s.softening + self.paths.dist) ** s.distance_power

    def _deduct_day0_from_capacity(self) -> None:
        """A camp's day-0 residents (``insert_day0``) are deducted from its capacity before scaling:
        cap = (capacity - day-0 count) x ``capacity_scaling``. Not in the suite's README; inferred from Flee's
        reference results (docs/flee.md, "Capacity and the day-0 residents"). A camp left with less than 1 keeps a
        capacity of 1 (full), not less (which would mean unlimited)."""
        for place, k in self.day0.items():
            if self.capacity[place] >= 1.0 and k > 0:
                base = self.scenario.locations[place].population // self.hasten
                self.capacity[place] = max((base - k) * self.s.capacity_scaling, 1.0)
        self._set_full_from()

    def _set_full_from(self) -> None:
        limited = self.capacity >= 1.0
        full = np.floor(np.where(limited, float(self.s.capacity_buffer) * self.capacity, 0.0))
        self._full_from = np.where(limited, full, 2.0**62).astype(np.int64)

    def _build_spawning(self) -> None:
        sc, s, n = self.scenario, self.s, self.n_days
        # every layout row counts towards spawning; only rows naming a location are camps in the output
        everything = camp_daily_values(sc, hasten=self.hasten, include_unlocated=True)
        located = {k: v for k, v in everything.items() if k in self.index}
        self.camp_names = [name for name in sc.camp_series if name in self.index]
        self.camp_index = np.array([self.index[c] for c in self.camp_names], dtype=np.int64)
        self.camp_data = (np.stack([located[c] for c in self.camp_names], axis=1)
                          if self.camp_names else np.zeros((n, 0)))
        total = np.sum([everything[k] for k in everything], axis=0) if everything else np.zeros(n)
        total = total.astype(np.int64)
        # daily new agents from the increase of the summed camp series, decreases kept as a debt
        diff = np.empty(n, dtype=np.int64)
        diff[0] = total[0]
        diff[1:] = np.diff(total)
        self.raw_total = np.cumsum(diff)
        self.new_agents = np.zeros(n, dtype=np.int64)
        self.debt = np.zeros(n, dtype=np.int64)
        debt = 0
        for t in range(n):
            new = int(diff[t]) - debt
            if s.insert_day0 and t == 0:
                new = 0
            if new < 0:
                debt = -new
                new = 0
            elif debt > 0:
                debt = 0
            self.new_agents[t] = new
            self.debt[t] = debt
        self.day0 = {}
        if s.insert_day0:
            for c, name in zip(self.camp_index, self.camp_names, strict=True):
                self.day0[int(c)] = int(located[name][0])
            self._deduct_day0_from_capacity()
        decay = s.conflict_spawn_decay
        self._decay = np.asarray(decay if decay else [1.0], dtype=np.float64)
        self._decay_interval = max(1, int(s.conflict_spawn_decay_interval))
        names = sc.conflict_names
        self._conflict_cols = np.array([self.index[nm] for nm in names], dtype=np.int64)
        self._conflict_table = sc.conflict_table
        self._build_conflict_events()

    def _build_population(self) -> None:
        total = sum(self.day0.values()) + int(self.new_agents.sum())
        self.pop_agents = Population(
            {
                "loc": (np.int32, -1),
                "home": (np.int32, -1),
                "link": (np.int32, -1),
                "on_link": (np.float64, 0.0),
                "recent": (np.float64, 0.0),
                "recent_day": (np.int32, 0),
                "route": (np.int32, -1),
                "route_pos": (np.int16, 0),
                "arrived": (np.uint8, 0),
                # first day the agent is active: a drawn wake day while it rests at a place, ON_LINK while
                # it travels (set by the kernels whenever an agent is placed, stops or starts moving)
                "wake": (np.int32, 0),
            },
            capacity=max(total, 1),
            chunk=CHUNK,
        )
        P = len(self.place_names)
        self.count = np.zeros(P, dtype=np.int64)
        self.link_count = np.zeros(self.net.n_links, dtype=np.int64)
        cap = self.pop_agents.capacity
        self._travellers = np.empty(cap, dtype=np.int32)  # per chunk of agents: who arrives somewhere today
        self._counts = np.zeros(cap // CHUNK + 1, dtype=np.int64)
        n = self.n_days
        self.place_count = np.zeros((n, P), dtype=np.int64)
        self.on_links = np.zeros(n, dtype=np.int64)
        self.agents = np.zeros(n, dtype=np.int64)
        for place, k in self.day0.items():
            sl = self.pop_agents.add(k)
            self.pop_agents["loc"][sl] = place
            self.pop_agents["home"][sl] = place
            self.count[place] += k
        # lower bounds of the wake days per block of agents (the daily scan skips blocks resting past today)
        self._wake_min = np.full(cap // K.BLOCK + 1, GEOMETRIC_NEVER, dtype=np.int32)
        # move chances the resting agents' wake days were drawn with (a change redraws them), as the
        # scale of their geometric waits
        self._mc_seen = self.movechance.copy()
        self._wait_scale = geometric_scale(self.movechance)
        self._mc_dirty = False
        K.fresh_wake(self.seed, 0, 0, self.pop_agents.n, self.pop_agents["loc"], self.pop_agents["wake"],
                     self._wake_min, self._wait_scale)

    # ------------------------------------------------------------------ decay
    def _decay_at(self, day: int, place: int) -> float:
        since = day - int(self.time_of_conflict[place])
        i = min(int(since / self._decay_interval), len(self._decay) - 1)
        return float(self._decay[i])

    def _next_decay_change(self, day: int) -> float:
        """First day after ``day`` on which some active conflict zone's decay factor index moves on."""
        nxt = np.inf
        last = len(self._decay) - 1
        for p in np.nonzero(self.conflict > 0.0)[0]:
            toc = int(self.time_of_conflict[p])
            k = int((day - toc) / self._decay_interval)
            if k < last:
                nxt = min(nxt, toc + (k + 1) * self._decay_interval)
        return nxt

    def _build_conflict_events(self) -> None:
        """The days on which conflicts.csv activates (0 -> > 0, and every > 0 column on day 0) or
        deactivates (> 0 -> 0) a zone, in column order: the table is fixed, so the daily step only
        looks its day up."""
        table = self._conflict_table
        self._conflict_events: dict[int, list[tuple[int, bool, float]]] = {}
        if table.shape[0] == 0:
            return
        on = table > CONFLICT_EPS
        for day in range(min(self.n_days, table.shape[0])):
            if day == 0:
                cols = np.nonzero(on[0])[0]
            else:
                cols = np.nonzero(on[day] != on[day - 1])[0]
            if cols.size:
                self._conflict_events[day] = [
                    (int(self._conflict_cols[j]), bool(on[day, j]), float(table[day, j])) for j in cols
                ]

    # ------------------------------------------------------------------ steps
    def step_update_conflicts(self, day: int) -> None:
        """Day step: switch conflict zones on or off as conflicts.csv says for ``day``."""
        for place, active, now in self._conflict_events.get(day, ()):
            if active:
                self._set_type(place, "conflict")
                self.conflict[place] = now
                self.time_of_conflict[place] = day
            else:
                self._set_type(place, "town")
                self.conflict[place] = -1.0
        # conflict factors (spawn weights, scores) change with the zones and on decay boundaries
        if self._version != self._decay_version or day >= self._decay_next:
            self._decay_next = self._next_decay_change(day)
            self._version += 1
            self._decay_version = self._version

    def step_spawn(self, day: int) -> None:
        """Day step: add the day's new agents in the conflict zones."""
        k = int(self.new_agents[day])
        if k == 0:
            return
        if self._spawn_version != self._version:
            w = np.zeros(len(self.place_names))
            for p in np.nonzero(self.conflict > 0.0)[0]:
                w[p] = self.pop[p] * self.conflict[p] * self._decay_at(day, int(p))
            self._spawn_cum = np.cumsum(w)
            self._spawn_version = self._version
        cum = self._spawn_cum
        if cum[-1] <= 0:
            raise EmigreError(
                f"{self.scenario.name}: day {day} needs {k} new agents but no conflict zone with a population "
                "is active (check conflicts.csv and the populations in locations.csv)"
            )
        sl = self.pop_agents.add(k)
        if self.pop_agents.capacity // K.BLOCK + 1 > self._wake_min.shape[0]:  # the population grew
            grown = np.full(self.pop_agents.capacity // K.BLOCK + 1, GEOMETRIC_NEVER, dtype=np.int32)
            grown[: self._wake_min.shape[0]] = self._wake_min
            self._wake_min = grown
        K.place_new_agents(self.seed, day, sl.start, k, cum, self.pop_agents["loc"], self.pop_agents["home"],
                           self.pop_agents["wake"], self._wake_min, self._wait_scale, self.count)

    def step_apply_closures(self, day: int) -> None:
        """Day step: close and reopen links and places as closures.csv says for ``day``."""
        active = tuple(j for j, (_, start, end, _) in enumerate(self._closures) if start <= day < end)
        if active == self._closures_active:
            return  # the same closures as yesterday: links, paths and camp types stay as they are
        self._closures_active = active
        self.link_open[:] = 1
        camp_closed = np.zeros(len(self.place_names), dtype=bool)
        for j in active:
            kind, _, _, items = self._closures[j]
            if kind == "links":
                self.link_open[items] = 0
            else:
                camp_closed[items] = True
        # camps closed or reopened today change type (a closed camp is a town for the period)
        for p in np.nonzero(camp_closed != self._camp_closed)[0]:
            p = int(p)
            self._set_type(p, "town" if camp_closed[p] else self.base_type[p])
        self._camp_closed = camp_closed
        if self.paths.end.size:
            closed = self.link_open[self.paths.links] == 0
            bad = np.add.reduceat(closed.astype(np.int64), self.paths.link_ptr[:-1]) if closed.size else []
            self.path_open[:] = (np.asarray(bad) == 0).astype(np.uint8)

    def step_score_places(self, day: int) -> None:
        """Day step: rescore places and path weights when a place type or conflict changed."""
        if self._score_version == self._version:
            return  # no place changed type and no conflict factor changed: same scores, same weights
        s = self.s
        score = np.ones(len(self.place_names))
        score[self.foreign == 1] *= s.foreign_weight
        score[self.is_camp == 1] *= s.camp_weight
        for p in np.nonzero(self.conflict > 0.0)[0]:
            score[p] *= s.conflict_weight ** (self._decay_at(day, int(p)) * self.conflict[p])
        self.score = score
        if self.s.awareness_level < 1:
            self.path_w0[:] = 1.0
        else:
            self.path_w0[:] = (s.weight_softening + score[self.paths.end]) / self._path_den
        self._score_version = self._version

    def step_decide_and_travel(self, day: int) -> None:
        """Day step: agents decide to move and travel along their chosen paths."""
        pa, s, P = self.pop_agents, self.s, self.paths
        n = pa.n
        nchunks = (n + CHUNK - 1) // CHUNK
        # parallel kernels only where there is enough work to share (a parallel region costs more than a
        # small day's work, and much more on a busy machine); the output is the same either way
        wide = n >= PARALLEL_MIN_AGENTS
        if self._mc_dirty:
            changed = self.movechance != self._mc_seen
            if changed.any():
                # conflicts or camp closures changed some places' move chance today: new waits there
                self._mc_seen[:] = self.movechance
                self._wait_scale = geometric_scale(self.movechance)
                redraw = K.redraw_wake if wide else K.redraw_wake_serial
                redraw(n, CHUNK, self.seed, day, changed, pa["wake"], self._wake_min, pa["link"], pa["loc"],
                       pa["route"], self._wait_scale)
            self._mc_dirty = False
        if nchunks > self._dplace.shape[0]:
            self._dplace = np.zeros((nchunks, self.count.shape[0]), dtype=np.int64)
            self._dlink = np.zeros((nchunks, self.link_count.shape[0]), dtype=np.int64)
            self._scratch2 = np.zeros((nchunks, self.scratch.shape[0]))
        weight_power, buffer = float(s.weight_power), float(s.capacity_buffer)
        K.prepare_choices(P.ptr, P.end, self.path_open, self.path_w0, weight_power, self.count, self.capacity,
                          buffer, self._cum, self._ptotal, self._plast)
        select_decide = K.select_decide if wide else K.select_decide_serial
        ag = K.Agents(pa["wake"], self._wake_min, pa["loc"], pa["link"], pa["on_link"], pa["recent"],
                      pa["recent_day"], pa["route"], pa["route_pos"], pa["arrived"])
        net = K.Network(
            self.count, self.link_count, self.link_open, self.net.src, self.net.dst, self.net.length_km, P.ptr, P.end,
            P.nlinks, P.link_ptr, P.links, self.path_open, self.path_w0, self.capacity, self.is_camp, self.is_town,
            self.movechance, self._wait_scale,
        )
        rules = K.Rules(weight_power, buffer, float(s.max_move_speed), float(s.max_walk_speed), bool(s.start_on_foot),
                        bool(s.avoid_short_stints))
        tab = K.Tables(self._cum, self._ptotal, self._plast, self._full_from, self._rev_ptr, self._rev, self._stale)
        work = K.DayWork(self._travellers, self._counts, self._dplace, self._dlink)
        select_decide(self.seed, day, n, CHUNK, ag, net, rules, tab, work, self._scratch2)
        K.travel(self.seed, day, nchunks, CHUNK, ag, net, rules, tab, work, self.scratch)

    def step_record(self, day: int) -> None:
        """Day step: record the day's counts per place, on links and in total."""
        self.place_count[day] = self.count
        self.on_links[day] = int(self.link_count.sum())
        self.agents[day] = self.pop_agents.n

    def plan(self) -> Plan:
        """The day under Flee's rules as named steps."""
        return Plan([
            Step("update_conflicts", self.step_update_conflicts, "activate/deactivate conflict zones from conflicts.csv"),
            Step("spawn", self.step_spawn, "new agents from the rise of the camp series, at conflict zones"),
            Step("apply_closures", self.step_apply_closures, "close/reopen links, borders, places and camps"),
            Step("score_places", self.step_score_places, "place scores and the shared path weights"),
            Step("decide_and_travel", self.step_decide_and_travel, "movers choose routes, travellers move"),
            Step("record", self.step_record, "daily counts per place"),
        ])

    def result(self, seconds: float = 0.0, step_seconds: dict[str, float] | None = None) -> FleeResult:
        """What the run recorded, as a FleeResult."""
        return FleeResult(
            scenario=self.scenario, settings=self.s, seed=self.seed, hasten=self.hasten,
            place_names=self.place_names, camp_names=self.camp_names, camp_index=self.camp_index,
            place_count=self.place_count, on_links=self.on_links, agents=self.agents,
            camp_data=self.camp_data, raw_total=self.raw_total, debt=self.debt,
            seconds=seconds, step_seconds=step_seconds,
        )
