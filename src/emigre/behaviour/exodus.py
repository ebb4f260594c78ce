"""The exodus ruleset: who leaves Russia, why, how, to where, for how long (docs/exodus.md).

The day plan:
1. ``decide``   - daily departure hazards per population cell (origin x age x sex x higher education x IT x
                  reservist) from the baseline and the push events of the timeline; competing hazards give every
                  traveller a reason; travellers are created when they decide (stayers are counts, not agents).
2. ``capacity`` - every exit link opens its daily throughput: queued travellers first (FIFO), then newcomers.
3. ``choice``   - per origin x document x special-grounds x urgency class, a nested logit over the
                  (destination, route) pairs feasible today under closures and entry rules.
4. ``act``      - travellers due today choose, travel (queue or balk at the border, exit rules), arrive (some
                  seek a permit on arrival where the destination grants them and apply a fixed delay later), and
                  abroad act at their stay limit (permit, border run, onward move, return) or return.
5. ``record``   - snapshot of the stocks into the day x ... result arrays.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np

from emigre.baselines import fsb_departures
from emigre.behaviour import exodus_kernels as K
from emigre.behaviour.measures import NAT, STAY_THRESHOLDS, group_names, reasons_of
from emigre.engine.plan import Plan, Step
from emigre.engine.population import Population
from emigre.engine.simulation import ExtraStep, run_days
from emigre.errors import EmigreError
from emigre.scenario import World, load_scenario
from emigre.scenario.model import HOME, MODES
from emigre.scenario.routes import cached_paths
from emigre.scenario.tables import AGES, SEXES, read_destinations, read_population

_AGE_PARAM = ("propensity_age_18_24", "propensity_age_25_34", "propensity_age_35_44", "propensity_age_45_54",
              "propensity_age_55_plus")
# exit restrictions (push_events.csv kind exit_restriction) by their share parameter: where they act
_EXIT_RESTRICTIONS = {"exit_refusal_share_reservists": "land", "exit_ban_share_summoned": "all"}
_URGENT_TARGETS = {"men_conscription_age"}


@dataclass
class ExodusResult:
    """Day x ... arrays of one run, in travellers (times ``scale`` = persons; ``national`` and ``to_frame`` convert),
    and its bookkeeping."""

    dates: np.ndarray
    reasons: list[str]
    groups: list[str]
    countries: list[str]
    place_ids: list[str]
    link_ids: list[str]
    nat: np.ndarray
    dep_by: np.ndarray
    abroad_by: np.ndarray
    present_country: np.ndarray
    present_cr: np.ndarray
    arrivals: np.ndarray
    present_place: np.ndarray
    link_out: np.ndarray
    link_in: np.ndarray
    queue: np.ndarray
    wait_sum: np.ndarray
    visa_runs: np.ndarray
    regularised: np.ndarray
    onward: np.ndarray
    scale: float
    seed: int
    travellers: int
    seconds: float
    agent_steps: int
    step_seconds: dict[str, float] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)
    #: day x link throughput in persons: exit links only (other links have no limit and show 0); 0 on an exit
    #: link's shut days
    capacity: np.ndarray | None = None
    log: np.ndarray | None = None  # event log (tests)
    #: [threshold (STAY_THRESHOLDS days), arrival day, country]: stays begun that day that lasted at least the
    #: threshold (completed, or still running at the end and already that long); shorter running stays are
    #: censored - an observation operator must not use arrivals within a threshold of the end.
    stay_hist: np.ndarray | None = None
    #: [threshold, day, country]: stays that ended that day having lasted at least the threshold
    stay_end_hist: np.ndarray | None = None
    #: [day, country]: every entry of an emigrant into a country (first entry, transit, onward move; not
    #: border runs, see ``visa_runs``) and every exit from it (transit, onward move, return)
    entries: np.ndarray | None = None
    exits: np.ndarray | None = None
    stay_thresholds: tuple[int, ...] = STAY_THRESHOLDS

    NAT = NAT

    def national(self, measure: str) -> np.ndarray:
        """A national measure per day, in persons."""
        return self.nat[:, self.NAT.index(measure)] * self.scale

    def summary(self) -> dict:
        """The run's headline totals (to the end of 2022 and of the run), JSON-ready."""
        n = self.nat[-1]
        last_2022 = int(np.searchsorted(self.dates, np.datetime64("2022-12-31"), side="right")) - 1
        return {
            "seed": self.seed,
            "scale": self.scale,
            "travellers": int(self.travellers),
            "departed": float(n[2] * self.scale),
            "departed_2022": float(self.nat[last_2022, 2] * self.scale) if last_2022 >= 0 else 0.0,
            "abroad_end": float(n[3] * self.scale),
            "in_transit_end": float(n[4] * self.scale),
            "returned_end": float(n[5] * self.scale),
            "leaving_end": float(n[6] * self.scale),
            "stayed_end": float(n[8] * self.scale),
            "start": str(self.dates[0]),
            "end": str(self.dates[-1]),
            "seconds": round(self.seconds, 3),
            "agent_steps": int(self.agent_steps),
        }

    def to_frame(self):
        """The long table ``date, place, measure, group, value`` (persons); all-zero series are left out."""
        import pandas as pd

        s = self.scale
        dates = self.dates.astype("datetime64[ns]")
        parts = []

        def add(place, measure, group, values):
            v = np.asarray(values, dtype=np.float64) * s
            if not v.any():
                return
            parts.append((place, measure, group, v))

        for j, m in enumerate(self.NAT):
            add("ALL", m, "", self.nat[:, j])
        for g, name in enumerate(self.groups):
            add("ALL", "departures", name, self.dep_by[:, g])
            add("ALL", "abroad", name, self.abroad_by[:, g])
        for c, iso in enumerate(self.countries):
            if iso == HOME:
                continue
            add(iso, "present", "", self.present_country[:, c])
            add(iso, "arrivals", "", self.arrivals[:, c])
            add(iso, "onward_departures", "", self.onward[:, c])
            add(iso, "visa_runs", "", self.visa_runs[:, c])
            add(iso, "regularised", "", self.regularised[:, c])
            for r, reason in enumerate(self.reasons):
                add(iso, "present", f"reason={reason}", self.present_cr[:, c, r])
        for p, pid in enumerate(self.place_ids):
            add(pid, "present_place", "", self.present_place[:, p])
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_wait = np.where(self.link_out > 0, self.wait_sum / np.maximum(self.link_out, 1), 0.0)
        for k, lid in enumerate(self.link_ids):
            add(lid, "crossings_out", "", self.link_out[:, k])
            add(lid, "crossings_in", "", self.link_in[:, k])
            add(lid, "queue", "", self.queue[:, k])
            if self.link_out[:, k].any() and self.wait_sum[:, k].any():
                parts.append((lid, "wait_days", "", mean_wait[:, k]))
        n = len(dates)
        return pd.DataFrame(
            {
                "date": np.tile(dates, len(parts)),
                "place": np.repeat([p[0] for p in parts], n),
                "measure": np.repeat([p[1] for p in parts], n),
                "group": np.repeat([p[2] for p in parts], n),
                "value": np.concatenate([p[3] for p in parts]) if parts else np.empty(0),
            }
        )


def queue_wake_days(cw) -> np.ndarray:
    """[day, link]: the days on which a traveller waiting at the link may find its route changed - the link
    opens, shuts or changes restriction, or the entry rules (admitted, modes) of the country it enters change
    for any document. Waiting travellers are looked at only then and when served (kernels' ``wake_queues``)."""
    c_to = cw.place_country[cw.link_to]
    ch = np.zeros(cw.link_open.shape, dtype=np.bool_)
    ch[1:] = (cw.link_open[1:] != cw.link_open[:-1]) | (cw.link_restricted[1:] != cw.link_restricted[:-1])
    adm, modes = cw.entry_admitted, cw.entry_modes  # [day, country, document]: changes per country, then per link
    ch[1:] |= ((adm[1:] != adm[:-1]) | (modes[1:] != modes[:-1])).any(axis=2)[:, c_to]
    return ch


def rule_epochs(wake: np.ndarray) -> np.ndarray:
    """[day]: the index of the day's state of the routes' rules, counted from 0 and raised on each day on which
    any link wakes its queue (``queue_wake_days``: the link opens, shuts or changes restriction, or the entry
    rules of the country it enters change). A route's feasibility for a choice class depends on nothing else, so
    the choice tables compute it once per class and epoch (``choice_tables``), not daily."""
    return np.cumsum(wake.any(axis=1)).astype(np.int64)


class ExodusRuleset:
    """The emigration rules on the engine. Build with a loaded world (``load_scenario``) or use
    :func:`simulate`."""

    name = "exodus"

    def __init__(self, world: World, *, seed: int = 0, scale: float = 1.0, end: str | dt.date | None = None,
                 log_events: int = 0, route_cache: dict | None = None) -> None:
        if not scale > 0:
            raise EmigreError(f"scale must be a positive number of persons per traveller, got {scale}")
        self.world = world
        self.seed = int(seed)
        self.scale = float(scale)
        self.cw = world.compile(end=end)
        self.n_days = self.cw.n_days
        self.p = {k: v.value for k, v in world.params.items()}
        self._setup_cells()
        self._setup_pushes()
        self.paths = cached_paths(self.cw, route_cache)
        self._setup_links_and_countries()
        self._setup_choice()
        self._setup_state(log_events)
        self._setup_kernels()

    # ------------------------------------------------------------------ set-up
    def _setup_cells(self) -> None:
        p, cw = self.p, self.cw
        pop = read_population(self.world.directory / "population.csv")
        n_o = len(cw.origin_place)
        origin_pop = cw.place_population[cw.origin_place].astype(np.float64)
        if n_o == 0 or origin_pop.sum() <= 0:
            raise EmigreError(f"scenario {self.world.name} has no origins with a population (origins.csv)")
        pop_share = origin_pop / origin_pop.sum()
        origin_mult = cw.origin_weight / pop_share
        age_sex = np.array([[pop[(a, s)] for s in SEXES] for a in AGES], dtype=np.float64)
        age_sex *= p["adult_population"] / age_sex.sum()
        he = [p["higher_education_share_18_24"]] + [p["higher_education_share_25_54"]] * 3 + [
            p["higher_education_share_55_plus"]]
        it = p["it_share_of_higher_educated"]
        res = p["reservist_share_men_18_54"]
        # the cells in the order origin, age, sex, education (1, 0), IT (1, 0), reservist (1, 0); each cell's
        # share multiplied in the same order as one product per cell would (so the same bits)
        o, a, sx, e, i, r = (g.ravel() for g in np.meshgrid(
            np.arange(n_o), np.arange(5), np.arange(2), [1, 0], [1, 0], [1, 0], indexing="ij"))
        he_a = np.asarray(he, dtype=np.float64)[a]
        pe = np.where(e == 1, he_a, 1.0 - he_a)
        pi = np.where((e == 1) & (a < 4), np.where(i == 1, it, 1.0 - it), np.where(i == 1, 0.0, 1.0))
        pr = np.where((sx == 0) & (a < 4), np.where(r == 1, res, 1.0 - res), np.where(r == 1, 0.0, 1.0))
        self.cell_origin_idx = o.astype(np.int32)
        self.cell_age = a.astype(np.int8)
        self.cell_sex = sx.astype(np.int8)
        self.cell_edu = e.astype(np.int8)
        self.cell_it = i.astype(np.int8)
        self.cell_reservist = r.astype(np.int8)
        self.stock = pop_share[o] * age_sex[a, sx] * pe * pi * pr
        self.cell_origin_place = cw.origin_place[self.cell_origin_idx].astype(np.int32)
        ages = np.array([p[n] for n in _AGE_PARAM])
        edu = np.where(self.cell_edu == 1, p["propensity_higher_education"], 1.0)
        itm = np.where(self.cell_it == 1, p["propensity_it"], 1.0)
        male = np.where(self.cell_sex == 0, p["propensity_male"], 1.0)
        om = origin_mult[self.cell_origin_idx]
        self.prop_general = ages[self.cell_age] * edu * itm * male * om
        target = (self.cell_sex == 0) & (self.cell_age < 4)
        w_age = np.where(self.cell_age == 3, p["mobilization_weight_45_54"], 1.0)
        w_res = np.where(self.cell_reservist == 1, p["mobilization_reservist_factor"], 1.0)
        x = p["mobilization_education_factor"]
        self.prop_conscription = target * w_age * w_res * (edu * itm) ** x * om
        # hazard per person per day at the baseline, so the average cell gives baseline_emigration_per_year
        norm = float((self.stock * self.prop_general).sum())
        self.h0 = p["baseline_emigration_per_year"] / 365.0 / norm

    def _setup_pushes(self) -> None:
        cw, p = self.cw, self.p
        days = np.arange(self.n_days)
        self.reasons = reasons_of(self.world)  # the baseline, then every push event (not the exit restrictions)
        intens = [np.ones(self.n_days)]
        targets = ["all"]
        self.land_refusal_on = np.zeros(self.n_days, dtype=np.bool_)
        self.exit_ban_on = np.zeros(self.n_days, dtype=np.bool_)
        self.land_refusal_share = 0.0
        self.exit_ban_share = 0.0
        for pe in self.world.pushes:
            start = (pe.date_start - cw.start).days
            stop = self.n_days - 1 if pe.date_end is None else (pe.date_end - cw.start).days
            active = (days >= start) & (days <= stop)
            if pe.kind == "exit_restriction":
                where = _EXIT_RESTRICTIONS.get(pe.intensity)
                if where is None:
                    raise EmigreError(
                        f"push_events.csv line {pe.line}: exit restriction {pe.id} uses parameter {pe.intensity!r}; "
                        f"the exodus ruleset knows {', '.join(_EXIT_RESTRICTIONS)}"
                    )
                if where == "land":
                    self.land_refusal_on |= active
                    self.land_refusal_share = p[pe.intensity]
                else:
                    self.exit_ban_on |= active
                    self.exit_ban_share = p[pe.intensity]
                continue
            value = p[pe.intensity]
            decay = p[pe.decay_days] if pe.decay_days else math.inf
            curve = np.where(active, value * np.exp(-np.maximum(days - start, 0) / decay), 0.0)
            intens.append(curve)
            targets.append(pe.targets)
        self.intensity = np.array(intens)  # [R, days]
        self.reason_targets = targets
        self.reason_urgent = np.array([t in _URGENT_TARGETS for t in targets], dtype=np.int8)
        # cell x reason propensities (per person per day at intensity 1)
        self.prop = np.stack(
            [self.prop_conscription if t in _URGENT_TARGETS else self.prop_general for t in targets], axis=1
        ) * self.h0
        # [day, cell] probability per person of deciding to leave: the summed hazard of every day at once (bits
        # as NumPy's per-day sum) and one vectorised expm1, instead of array work on every day
        totals = np.empty((self.n_days, len(self.stock)))
        K.hazard_totals(self.prop, self.intensity, totals)
        # -expm1(-totals) in place (the same ufuncs, so the same bits): no three arrays of days x cells
        np.negative(totals, out=totals)
        np.expm1(totals, out=totals)
        self.prob = np.negative(totals, out=totals)
        self.groups = group_names(self.reasons)

    def _setup_links_and_countries(self) -> None:
        cw, p, w = self.cw, self.p, self.world
        rus = cw.countries.index(HOME)
        if rus != 0:
            raise EmigreError(f"countries.csv of {w.name} must list {HOME} first (the kernels take country 0 as home)")
        self.link_exit = cw.link_exit
        cap = np.zeros(len(cw.link_ids))
        defaults = {
            "road": p["default_land_crossing_capacity_per_day"],
            "air": p["air_seats_per_link_per_day"],
            "rail": p["rail_sea_seats_per_link_per_day"],
            "sea": p["rail_sea_seats_per_link_per_day"],
        }
        for k in np.flatnonzero(self.link_exit):
            known = cw.link_capacity[k]
            cap[k] = known if np.isfinite(known) else defaults[MODES[cw.link_mode[k]]]
        self.link_cap = cap
        n_c = len(cw.countries)
        main = np.full(n_c, -1, dtype=np.int32)
        rank = {"city": 0, "hub": 1, "airport": 2, "crossing": 3, "origin": 4}
        best = np.full(n_c, 99)
        for i, kind in enumerate(cw.place_kind):
            c = cw.place_country[i]
            if c != rus and rank.get(kind, 9) < best[c]:
                best[c], main[c] = rank.get(kind, 9), i
        self.country_main_place = main
        self.country_lat = np.where(main >= 0, cw.place_lat[np.maximum(main, 0)], 0.0)
        self.country_lon = np.where(main >= 0, cw.place_lon[np.maximum(main, 0)], 0.0)
        dest = read_destinations(w.directory / "destinations.csv", set(cw.countries))
        trips = fsb_departures(2019)
        self.familiarity = np.array([math.log(1000.0 + trips.get(c, 0.0)) for c in cw.countries])
        static = np.zeros(n_c)
        for i, c in enumerate(cw.countries):
            if c in dest:
                d = dest[c]
                static[i] = (
                    p["choice_russian_language"] * (d["russian_speaking"] == "yes")
                    + p["choice_unrecognised_state"] * (d["status"] == "unrecognised")
                    + p[f"choice_region_{d['region']}"]
                )
        self.dest_static = static + p["choice_familiarity"] * self.familiarity
        # what an emigrant does at the end of a stay, per destination: in an unrecognised state (Abkhazia, South
        # Ossetia) a short stay within Russia's reach, no permit, a border run only back through Russia
        unrec = np.array([c in dest and dest[c]["status"] == "unrecognised" for c in cw.countries])
        self.permit_share = np.where(unrec, p["unrecognised_permit_share"], p["regularise_share"])
        self.run_share = np.where(unrec, p["unrecognised_run_share"], p["visa_run_share"])
        # and whether an emigrant seeks a permit on arrival, per destination by how the country grants them
        # (destinations.csv permit_route): applied for in the country, through a consulate's long-stay visa, or none
        route = [dest[c]["permit_route"] if c in dest else "none" for c in cw.countries]
        seek = {"in_country": p["permit_seek_share"], "visa": p["permit_seek_share_visa"], "none": 0.0}
        self.seek_share = np.array([seek[r] for r in route], dtype=np.float64)
        self.unknown_stay = np.where(unrec, int(p["unrecognised_stay_days"]),
                                     int(p["unknown_stay_limit_days"])).astype(np.int64)
        # and no refuge from the draft: only a share of those fleeing it would consider one
        self.draft_share = np.where(unrec, p["unrecognised_draft_share"], 1.0)
        self.net_base = np.ones(n_c)
        # fares: sourced where the link has one, per km otherwise
        cost = np.empty(len(cw.link_ids))
        for k, lid in enumerate(cw.link_ids):
            lk = w.links[lid]
            if lk.cost_rub is not None:
                cost[k] = lk.cost_rub
            else:
                rate = p["air_cost_rub_per_km"] if lk.mode == "air" else p["surface_cost_rub_per_km"]
                cost[k] = lk.distance_km * rate
        pl = self.paths
        total = np.where(pl.links >= 0, cost[np.maximum(pl.links, 0)], 0.0).sum(axis=1)
        pl.logcost = np.log(np.maximum(total, 100.0))

    def _setup_choice(self) -> None:
        n_o = len(self.cw.origin_place)
        self.class_index = np.arange(n_o * 3 * 2 * 2, dtype=np.int32).reshape(n_o, 3, 2, 2)
        self.n_classes = self.class_index.size
        o, d, s, u = np.unravel_index(np.arange(self.n_classes), self.class_index.shape)
        self.class_origin = o.astype(np.int32)
        self.class_doc = d.astype(np.int8)
        self.class_special = s.astype(np.int8)
        self.class_urgent = u.astype(np.int8)
        widest = int(np.diff(self.paths.origin_start).max()) if len(self.paths.length) else 1
        self.cum = np.zeros((self.n_classes, max(widest, 1)))
        self.class_ok = np.zeros(self.n_classes, dtype=np.bool_)
        self.need = np.zeros(self.n_classes, dtype=np.bool_)
        # a class's route utilities and exponentials, by place in its list of feasible routes
        self.util = np.empty(max(widest, 1))
        self.expu = np.empty(max(widest, 1))
        # per class: its origin's routes that are feasible (their places, the first n_feas), as of the rule epoch
        # in feas_epoch (-1: none yet)
        self.feas = np.zeros((self.n_classes, max(widest, 1)), dtype=np.int32)
        self.n_feas = np.zeros(self.n_classes, dtype=np.int32)
        self.feas_epoch = np.full(self.n_classes, -1, dtype=np.int64)

    def _setup_state(self, log_events: int) -> None:
        cw = self.cw
        D, C, P, L, R = self.n_days, len(cw.countries), len(cw.place_ids), len(cw.link_ids), len(self.reasons)
        G = len(self.groups)
        self.pop = Population(
            {
                "key": (np.int64, 0), "cell": (np.int32, 0), "reason": (np.int8, 0), "doc": (np.int8, 0),
                "special": (np.int8, 0), "state": (np.int8, 0), "place": (np.int32, 0), "path": (np.int32, -1),
                "step": (np.int8, 0), "dest": (np.int16, -1), "country": (np.int16, 0), "due": (np.int32, 0),
                "nxt": (np.int32, -1), "decided": (np.int32, 0), "tries": (np.int16, 0), "qlink": (np.int32, -1),
                "ticket": (np.int64, 0), "qsince": (np.int32, 0), "exit_link": (np.int32, -1),
                "departed_day": (np.int32, -1), "arrived": (np.int32, -1), "limit_day": (np.int32, -1),
                "ret_day": (np.int32, -1), "onw_day": (np.int32, -1), "regular": (np.int8, 0),
                "nevent": (np.int16, 0), "qprev": (np.int32, -1), "qnext": (np.int32, -1), "legs": (np.int8, 0),
            },
            chunk=1 << 18,
        )
        self.head = np.full(D + 1, -1, dtype=np.int32)
        self.cnt = np.zeros(8, dtype=np.int64)
        self.counts = np.zeros(len(self.stock), dtype=np.int64)
        self.enq = np.zeros(L, dtype=np.int64)
        self.served = np.zeros(L, dtype=np.int64)
        self.remaining = np.zeros(L, dtype=np.int64)
        self.cap_today = np.zeros(L)
        self.cap_n = np.zeros(L, dtype=np.int64)
        self.ghost = np.zeros(L, dtype=np.int64)  # tickets of travellers who left a queue
        self.qhead = np.full(L, -1, dtype=np.int32)
        self.qtail = np.full(L, -1, dtype=np.int32)
        self.wake = queue_wake_days(cw)
        self.rule_epoch = rule_epochs(self.wake)
        self.present_place = np.zeros(P, dtype=np.int64)
        self.present_country = np.zeros(C, dtype=np.int64)
        self.present_cr = np.zeros((C, R), dtype=np.int64)
        self.abroad_by_now = np.zeros(G, dtype=np.int64)
        self.arrivals_cum = np.zeros(C, dtype=np.int64)
        z = np.zeros
        self.nat = z((D, K.N_NAT), dtype=np.int64)
        self.dep_by = z((D, G), dtype=np.int64)
        self.abroad_by = z((D, G), dtype=np.int64)
        self.out_country = z((D, C), dtype=np.int64)
        self.out_cr = z((D, C, R), dtype=np.int64)
        self.arrivals = z((D, C), dtype=np.int64)
        self.out_place = z((D, P), dtype=np.int64)
        self.link_out = z((D, L), dtype=np.int64)
        self.link_in = z((D, L), dtype=np.int64)
        self.queue = z((D, L), dtype=np.int64)
        self.wait_sum = z((D, L), dtype=np.int64)
        self.visa_runs = z((D, C), dtype=np.int64)
        self.regularised = z((D, C), dtype=np.int64)
        self.onward = z((D, C), dtype=np.int64)
        self.cstat = z((2 * len(K.STAY_THRESHOLDS) + 2, D, C), dtype=np.int64)
        self.log = np.zeros((max(log_events, 0), 7), dtype=np.int64)
        self.nlog = np.zeros(1, dtype=np.int64)
        self.agent_steps = 0
        p = self.p
        self.return_rate = np.array(
            [(p["return_mobilization_per_year"] if u else p["return_per_year"]) / 365.0 for u in self.reason_urgent]
        )
        self.fp_share = np.array([p["foreign_passport_share_other"], p["foreign_passport_share_higher_ed"]])

    # ------------------------------------------------------------------ steps
    def plan(self) -> Plan:
        """The exodus day as named steps: decide, capacity, choice, act, record."""
        return Plan(
            [
                Step("decide", self.decide, "departure hazards per cell; create today's travellers with reasons"),
                Step("capacity", self.capacity, "exit links open today's throughput: queue first, then newcomers"),
                Step("choice", self.choice, "nested logit over feasible (destination, route) pairs per class"),
                Step("act", self.act, "due travellers choose, travel, queue, cross, arrive, stay, move on, return"),
                Step("record", self.record, "snapshot stocks into the day x ... result arrays"),
            ]
        )

    # ------------------------------------------------------------------ kernel bundles
    def _setup_kernels(self) -> None:
        """The bundles, built once per run (the travellers' again when their arrays grow), and each day
        kernel's compiled entry point for their types.

        Numba's dispatcher types every argument on every call: for the bundles (~120 arrays) that is ~30 us a
        call, more than a day's work at calibration scales. The types do not change during a run, so each
        kernel is resolved once (``Dispatcher.compile(signature)``: Numba's cache, or a compilation) and called
        directly; every call passes arguments of the types it was resolved with."""
        self._t, self._cl, self._w = self._travellers(), self._cells(), self._world()
        self._ch, self._q, self._prm, self._out = self._choice(), self._queues(), self._params(), self._outputs()
        self._sch_share = float(self.p["schengen_visa_share"])
        self._special_share = float(self.p["special_grounds_share"])
        # typing a bundle costs ~1 ms: each is typed once (they live as long as the run, so ids are unique)
        bundle_types = {id(b): numba.typeof(b) for b in (self._t, self._cl, self._w, self._ch, self._q, self._prm,
                                                         self._out)}

        def entry(kernel, args):
            return kernel.compile(tuple(bundle_types[id(a)] if id(a) in bundle_types else numba.typeof(a)
                                        for a in args))

        self._k_create = entry(K.create_travellers, self._create_args(0, 0))
        self._k_decide = entry(K.decide, self._decide_args(0))
        self._k_capacity = entry(K.open_capacity, self._capacity_args(0))
        self._k_choose = entry(K.choose, (0, self._t, self._cl, self._w, self._ch, self._q, self._prm))
        self._k_act = entry(K.act, self._act_args(0))
        self._k_record = entry(K.record, self._record_args(0))

    def _travellers(self) -> K.Travellers:
        a = self.pop.arrays  # rebuilt when the population grows: its arrays are reallocated
        return K.Travellers(**{f: a[f] for f in K.Travellers._fields if f != "head"}, head=self.head)

    def _cells(self) -> K.Cells:
        return K.Cells(
            self.cell_origin_idx, self.cell_origin_place, self.cell_age, self.cell_sex, self.cell_edu, self.cell_it,
            self.cell_reservist, self.reason_urgent, len(self.reasons),
        )

    def _world(self) -> K.World:
        cw, pl = self.cw, self.paths
        return K.World(
            pl.origin_start, pl.links, pl.length, pl.entry, pl.dest, pl.next_place, pl.hours, pl.logcost,
            pl.exit_link, pl.borders, cw.link_international, cw.link_hours, cw.link_mode, self.link_exit,
            cw.link_open, cw.link_restricted, cw.place_country, cw.entry_admitted, cw.entry_modes, cw.entry_max_stay,
            self.unknown_stay, self.country_main_place, self.dest_static, self.net_base, self.arrivals_cum,
            self.scale, len(cw.countries), self.draft_share, self.rule_epoch,
            *K.onward_tables(self.country_lat, self.country_lon, float(self.p["air_cost_rub_per_km"])),
            np.zeros(len(cw.countries)),
        )

    def _choice(self) -> K.Choice:
        return K.Choice(
            self.n_classes, self.class_index, self.class_origin, self.class_doc, self.class_special,
            self.class_urgent, self.cum, self.class_ok, self.need, self.util, self.expu, self.feas, self.n_feas,
            self.feas_epoch,
        )

    def _queues(self) -> K.Queues:
        return K.Queues(self.enq, self.served, self.remaining, self.cap_today, self.cap_n, self.ghost, self.qhead,
                        self.qtail, self.wake)

    def _params(self) -> K.Params:
        p = self.p
        return K.Params(
            p["patience_days"], int(p["give_up_days"]), self.land_refusal_share, self.land_refusal_on,
            self.exit_ban_share, self.exit_ban_on, self.permit_share, self.run_share,
            p["onward_share_at_limit"], p["onward_per_year"] / 365.0, self.return_rate, p["choice_hours"],
            p["choice_urgency_time_factor"], p["choice_log_cost"], p["choice_log_stay"], p["choice_network"],
            p["choice_extra_border"], p["choice_route_scale"], self.seek_share,
            int(round(p["permit_apply_days"])), p["return_temporary_share"],
            1.0 / max(p["return_temporary_days"], 1e-9), p["again_share"], p["again_days"],
        )

    def _outputs(self) -> K.Outputs:
        return K.Outputs(
            self.cnt, self.present_place, self.present_country, self.present_cr, self.abroad_by_now, self.arrivals,
            self.dep_by, self.nat, self.link_out, self.link_in, self.wait_sum, self.visa_runs, self.regularised,
            self.onward, self.log, self.nlog, self.cstat,
        )

    # the day kernels' arguments (one place each: the entry points are resolved with the same builders)
    def _create_args(self, day: int, n0: int) -> tuple:
        return (self.seed, day, self.counts, self.prop, self.intensity, self.fp_share, self._sch_share,
                self._special_share, n0, self._t, self._cl, self._out)

    def _decide_args(self, day: int) -> tuple:
        return (self.seed, day, self.scale, self.stock, self.prob[day], self.prop, self.intensity, self.counts,
                self.fp_share, self._sch_share, self._special_share, self.pop.n, self._t, self._cl, self._out)

    def _capacity_args(self, day: int) -> tuple:
        cw = self.cw
        return (day, self.link_cap, cw.link_capacity_factor, cw.link_open, cw.link_restricted, self.scale,
                self.enq, self.served, self.remaining, self.cap_today, self.cap_n, self.ghost)

    def _act_args(self, day: int) -> tuple:
        return (self.seed, day, self.n_days, self._t, self._cl, self._w, self._ch, self._q, self._prm, self._out)

    def _record_args(self, day: int) -> tuple:
        return (day, self.cnt, self.nat, self.present_place, self.present_country, self.present_cr,
                self.abroad_by_now, self.enq, self.served, self.ghost, self.out_place, self.out_country,
                self.out_cr, self.abroad_by, self.queue)

    # ------------------------------------------------------------------ steps (continued)
    def decide(self, day: int) -> None:
        """Day step: who decides to leave today, created as travellers with their reasons."""
        n0 = self.pop.n
        n_new = self._k_decide(*self._decide_args(day))  # counts, and creates them when the arrays have room
        if n_new == 0:
            return
        grow = n0 + n_new > self.pop.capacity
        self.pop.add(n_new, fill=False)  # the kernel writes every field of a new traveller
        if grow:
            self._t = self._travellers()
            self._k_create(*self._create_args(day, n0))

    def capacity(self, day: int) -> None:
        """Day step: today's throughput of the exit links, queue first."""
        self._k_capacity(*self._capacity_args(day))

    def choice(self, day: int) -> None:
        """Day step: route choice of the travellers who choose today."""
        self._k_choose(day, self._t, self._cl, self._w, self._ch, self._q, self._prm)

    def act(self, day: int) -> None:
        """Day step: travellers queue, cross, travel, arrive, move on or return."""
        self._k_act(*self._act_args(day))

    def record(self, day: int) -> None:
        """Day step: record the day's counts."""
        self.agent_steps += int(self.cnt[K.C_LEAVING] + self.cnt[K.C_TRANSIT] + self.cnt[K.C_ABROAD])
        self._k_record(*self._record_args(day))

    def result(self, seconds: float, step_seconds: dict[str, float]) -> ExodusResult:
        """What the run recorded, as an ExodusResult."""
        cw = self.cw
        # stays still running at the end count under the thresholds they have already reached
        nk = len(K.STAY_THRESHOLDS)
        stay_hist = self.cstat[:nk].copy()
        a = self.pop.arrays
        n = self.pop.n
        abroad = np.flatnonzero(a["state"][:n] == K.ABROAD)
        start = a["arrived"][abroad]
        dur = (self.n_days - 1) - start
        for k, thr in enumerate(K.STAY_THRESHOLDS):
            sel = dur >= thr
            np.add.at(stay_hist[k], (start[sel], a["country"][abroad][sel]), 1)
        return ExodusResult(
            dates=cw.dates, reasons=self.reasons, groups=self.groups, countries=cw.countries,
            place_ids=cw.place_ids, link_ids=cw.link_ids, nat=self.nat, dep_by=self.dep_by,
            abroad_by=self.abroad_by, present_country=self.out_country, present_cr=self.out_cr,
            arrivals=self.arrivals, present_place=self.out_place, link_out=self.link_out, link_in=self.link_in,
            queue=self.queue, wait_sum=self.wait_sum, visa_runs=self.visa_runs, regularised=self.regularised,
            onward=self.onward, scale=self.scale, seed=self.seed, travellers=self.pop.n, seconds=seconds,
            agent_steps=self.agent_steps, step_seconds=dict(step_seconds), params=dict(self.p),
            capacity=self.link_cap[None, :] * cw.link_capacity_factor * (cw.link_open | cw.link_restricted),
            log=self.log[: min(int(self.nlog[0]), len(self.log))] if len(self.log) else None,
            stay_hist=stay_hist, stay_end_hist=self.cstat[nk:2 * nk], entries=self.cstat[K.CS_ENTRIES],
            exits=self.cstat[K.CS_EXITS],
        )


def simulate(
    scenario: str | Path | World = "russia-2022",
    *,
    seed: int = 0,
    params: dict[str, float] | None = None,
    scale: float = 1.0,
    end: str | dt.date | None = None,
    progress=None,
    log_events: int = 0,
    steps: Sequence[ExtraStep] = (),
    route_cache: dict | None = None,
    params_cache: dict | None = None,
) -> ExodusResult:
    """Run the exodus ruleset once. ``params`` override scenario parameters (what-ifs); ``scale`` persons per
    traveller (1 = one agent per person).

    The one way to run it: ``progress(days done, days in all)`` and ``steps`` (``(label, fn(ruleset, day))``,
    e.g. a calibration's guard or a test's probe) are steps added to the day plan; ``route_cache`` and
    ``params_cache`` (dicts the caller keeps) reuse the route search and the parsed params.yaml between runs."""
    if isinstance(scenario, World):
        if params:
            scenario = load_scenario(scenario.directory, params=params, params_cache=params_cache)
        world = scenario
    else:
        world = load_scenario(scenario, params=params, params_cache=params_cache)
    t0 = time.perf_counter()
    rs = ExodusRuleset(world, seed=seed, scale=scale, end=end, log_events=log_events, route_cache=route_cache)
    plan, _ = run_days(rs, progress, steps)
    if rs.log.shape[0] and rs.nlog[0] > rs.log.shape[0]:
        raise EmigreError(f"event log overflow: {int(rs.nlog[0])} events for {rs.log.shape[0]} rows")
    return rs.result(time.perf_counter() - t0, plan.seconds)
