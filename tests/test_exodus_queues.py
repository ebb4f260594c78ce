"""The border queues' waiting lines (queue wake, behaviour/exodus_queues.py) on a synthetic world where the answer
is known: one origin (Vladikavkaz) and one exit link (Upper Lars -> Tbilisi, 4 hours) of known capacity, Georgia
the only destination and admitting every document. Travellers are put in on chosen days (not drawn from the
hazards) and nobody balks, so every day's crossings, queue, waits and each ticket's crossing day follow from
FIFO service at ``open_capacity``'s whole travellers per day. A waiting traveller is off the day buckets and acts
only when its ticket is served, or on a day the link shuts/reopens or Georgia's entry rules change - then at once,
as under the old daily check.

The world is written here (tests/synthetic.py is a synthetic *output* ensemble, not a world for the simulator).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

import emigre
from emigre.behaviour import exodus_bundles
from emigre.behaviour import exodus_kernels as K
from emigre.behaviour.exodus import ExodusRuleset, queue_wake_days, rule_epochs
from emigre.scenario import load_scenario

PACKAGED = Path(emigre.__file__).resolve().parent / "data" / "russia-2022"
LINK = "road:Upper-Lars-Tbilisi"
END = "2022-03-31"  # day 0 is 24 Feb 2022 (the packaged params.yaml's start)
OPEN_RULES = [f"GEO,{d},visa_free,365,,,,EV044," for d in ("foreign_passport", "internal_passport", "schengen_visa")]


def _world(root: Path, *, cap_persons: float, timeline=(), rules=OPEN_RULES):
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(PACKAGED / "params.yaml", root / "params.yaml")
    shutil.copy(PACKAGED / "population.csv", root / "population.csv")
    (root / "countries.csv").write_text(
        "iso3,name,eu,schengen,source,notes\nRUS,Russia,no,no,EV056,\nGEO,Georgia,no,no,EV056,\n")
    (root / "destinations.csv").write_text(
        "iso3,russian_speaking,status,region,source,notes,permit_route,permit_source\n"
        "GEO,yes,state,caucasus,EV056,,none,EV056\n")
    (root / "places.csv").write_text(
        "id,name,kind,country,lat,lon,population,iata,geonameid,coord_source,source,notes\n"
        "RUS:Vladikavkaz,Vladikavkaz,origin,RUS,43.04101,44.66986,306258,,,test,OR31,\n"
        "GEO:Tbilisi,Tbilisi,hub,GEO,41.69143,44.83412,,TBS,,test,AR092,\n")
    (root / "origins.csv").write_text(
        "place,weight_group,millionplus,census2021_population,census_source,source,notes\n"
        "RUS:Vladikavkaz,other,no,,,OR31,\n")
    (root / "links.csv").write_text(
        "id,from,to,mode,distance_km,travel_hours,capacity_per_day,capacity_source,cost_rub,cost_source,source,notes\n"
        f"{LINK},RUS:Vladikavkaz,GEO:Tbilisi,road,200,4,{cap_persons},CR013,1000,CR013,CR009,\n")
    (root / "timeline.csv").write_text(
        "id,date_start,date_end,effect,links,value,source,description\n" + "".join(t + "\n" for t in timeline))
    (root / "entry_rules.csv").write_text(
        "country,document,rule,max_stay_days,modes,valid_from,valid_to,source,notes\n" + "\n".join(rules) + "\n")
    (root / "push_events.csv").write_text(
        "id,name,kind,date_start,date_end,targets,intensity,decay_days,source,description\n")
    return load_scenario(root)


def _inject(rs: ExodusRuleset, day: int, n: int) -> None:
    """``n`` travellers decide today (the ruleset's own creation kernel, with the count fixed instead of drawn)."""
    rs.counts[:] = 0
    rs.counts[0] = n
    n0 = rs.pop.n
    rs.pop.add(n, fill=False)
    rs._t = rs._travellers()  # the arrays may have been reallocated
    rs._k_create(*rs._create_args(day, n0))


def _drive(world, *, scale: float, inflow: dict[int, int], probe=None, seed: int = 3) -> ExodusRuleset:
    """The day plan with ``decide`` replaced by ``inflow``; nobody balks at a queue (patience without end), so
    the only rules at work are FIFO service, closures and entry rules."""
    rs = ExodusRuleset(world, seed=seed, scale=scale, end=END, log_events=10_000)
    rs._prm = exodus_bundles.replace(rs._prm, patience_days=1e12)
    for day in range(rs.n_days):
        if inflow.get(day):
            _inject(rs, day, inflow[day])
        rs.capacity(day)
        rs.choice(day)
        rs.act(day)
        rs.record(day)
        if probe is not None:
            probe(rs, day)
    return rs


def _line(rs: ExodusRuleset, lk: int = 0) -> list[int]:
    out, x = [], int(rs.qhead[lk])
    while x >= 0:
        out.append(x)
        x = int(rs.pop.arrays["qnext"][x])
    return out


def _line_probe(seen: dict):
    """After every day: the line holds exactly the ticket holders still waiting, in ticket order, none of them in
    a day bucket (not revisited every day)."""

    def probe(rs: ExodusRuleset, day: int) -> None:
        a = rs.pop.arrays
        n = rs.pop.n
        line = _line(rs)
        waiting = np.flatnonzero((a["qlink"][:n] == 0) & (a["ticket"][:n] >= rs.served[0]))
        assert sorted(line) == waiting.tolist(), day
        tickets = a["ticket"][line]
        assert (np.diff(tickets) > 0).all(), (day, tickets)
        assert (a["due"][line] == -1).all(), day
        in_buckets = set()
        for d in range(day + 1, rs.n_days + 1):
            x = int(rs.head[d])
            while x >= 0:
                in_buckets.add(x)
                x = int(a["nxt"][x])
        assert not (in_buckets & set(line)), day
        seen[day] = len(line)

    return probe


def _whole_per_day(cap: float, day: int) -> int:
    """open_capacity's rule: the integer part, plus one on the days the carried fraction completes a traveller."""
    whole = math.floor(cap)
    frac = cap - whole
    return int(whole) + (1 if math.floor((day + 1) * frac) - math.floor(day * frac) > 0 else 0)


def _fifo(cap: float, inflow: dict[int, int], n_days: int):
    """The expected books of one FIFO queue: per day crossings, queue and wait days; per ticket the day it was
    issued and the day it is served."""
    out, queue, wait = np.zeros(n_days, np.int64), np.zeros(n_days, np.int64), np.zeros(n_days, np.int64)
    issued, served_on = [], []
    line: list[int] = []  # tickets waiting
    for d in range(n_days):
        ncap = _whole_per_day(cap, d)
        take = min(len(line), ncap)
        for tk in line[:take]:
            served_on[tk] = d
            wait[d] += d - issued[tk]
        line = line[take:]
        rem = ncap - take
        new = inflow.get(d, 0)
        direct = min(new, rem) if not line else 0
        for _ in range(new - direct):
            line.append(len(issued))
            issued.append(d)
            served_on.append(-1)
        out[d] = take + direct
        queue[d] = len(line)
    return out, queue, wait, np.array(issued), np.array(served_on)


# ---------------------------------------------------------------------- 1 FIFO service at a known capacity
CASES = {
    # 23 travellers on day 2 at 5 a day: 5 cross at once, tickets 0..17 cross on day 3 + ticket // 5
    "burst_5_per_day": (5.0, 1.0, {2: 23}),
    # 5 persons a day at 2 persons a traveller: 2.5 travellers, served 2 on even days, 3 on odd ones
    "burst_fractional": (5.0, 2.0, {2: 11}),
    # a daily inflow above and below the capacity of 4
    "daily_inflow": (4.0, 1.0, {1: 9, 2: 3, 3: 6, 5: 1, 9: 2}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fifo_service_at_a_known_capacity(tmp_path, case):
    cap_persons, scale, inflow = CASES[case]
    seen: dict = {}
    rs = _drive(_world(tmp_path / case, cap_persons=cap_persons), scale=scale, inflow=inflow,
                probe=_line_probe(seen))
    cap = cap_persons / scale
    if case == "burst_fractional":
        assert [_whole_per_day(cap, d) for d in range(2, 8)] == [2, 3, 2, 3, 2, 3]
    n = sum(inflow.values())
    out, queue, wait, issued, served_on = _fifo(cap, inflow, rs.n_days)
    assert len(issued) > 0 and queue.max() > cap  # a queue longer than a day's throughput formed
    np.testing.assert_array_equal(rs.link_out[:, 0], out)
    np.testing.assert_array_equal(rs.queue[:, 0], queue)
    np.testing.assert_array_equal(rs.wait_sum[:, 0], wait)
    assert int(rs.link_out[:, 0].sum()) == n and int(rs.nat[-1, K.N_DEPARTED]) == n
    assert [seen[d] for d in range(rs.n_days)] == queue.tolist()  # the line is the queue, every day

    # every traveller crossed once; a ticket holder on the day FIFO serves its ticket, after waiting from its issue
    log = rs.log[: int(rs.nlog[0])]
    cross = log[log[:, 2] == K.EV_CROSS]
    assert len(np.unique(cross[:, 1])) == len(cross) == n
    a = rs.pop.arrays
    queued = cross[a["qsince"][cross[:, 1]] > 0]  # travellers are put in from day 1: qsince 0 = never queued
    tk = a["ticket"][queued[:, 1]]
    assert sorted(tk.tolist()) == list(range(len(issued)))
    np.testing.assert_array_equal(queued[:, 0], served_on[tk])
    np.testing.assert_array_equal(a["qsince"][queued[:, 1]], issued[tk])
    if case == "burst_5_per_day":
        np.testing.assert_array_equal(queued[:, 0], 3 + tk // 5)
        assert out[:7].tolist() == [0, 0, 5, 5, 5, 5, 3] and queue[:7].tolist() == [0, 0, 18, 13, 8, 3, 0]
        assert int(rs.wait_sum.sum()) == 5 * (1 + 2 + 3) + 3 * 4  # total wait days
    # nothing woke them but service: no state or rule change on this world
    assert not rs.wake.any()


# ---------------------------------------------------------------------- 2 the link shuts mid-queue
def test_a_link_shut_mid_queue_sends_every_waiting_traveller_back_that_day(tmp_path):
    # shut on day 4 (28 Feb) only; 23 travellers on day 2 at 5 a day
    world = _world(tmp_path / "shut", cap_persons=5,
                   timeline=[f"T1,2022-02-28,2022-02-28,closed,id={LINK},,CR009,test closure"])
    state: dict = {}

    def probe(rs, day):
        a, n = rs.pop.arrays, rs.pop.n
        if day in (3, 4, 5):
            leaving = a["state"][:n] == K.LEAVING
            state[day] = {
                "leaving": int(leaving.sum()),
                "tries1": int((leaving & (a["tries"][:n] == 1)).sum()),
                "qlink": int((a["qlink"][:n] >= 0).sum()),
                "due_next": int((leaving & (a["due"][:n] == day + 1)).sum()),
                "line": len(_line(rs)),
                "crossed": int(rs.nat[day, K.N_DEPARTED]),
            }

    rs = _drive(world, scale=1.0, inflow={2: 23}, probe=probe)
    wake = rs.wake[:, 0]
    assert np.flatnonzero(wake).tolist() == [4, 5]  # shuts, reopens
    np.testing.assert_array_equal(queue_wake_days(rs.cw), rs.wake)
    # the choice tables' feasibility is kept per rule epoch: a new epoch the day it shuts and the day it reopens
    assert rule_epochs(rs.wake)[:8].tolist() == [0, 0, 0, 0, 1, 2, 2, 2]
    assert rs.feas_epoch.max() == 2  # the day-5 retries chose with the reopened link's feasibility
    # day 2: 5 cross, 18 queue; day 3: 5 cross; day 4 shut: the 13 still waiting all go back to choose again
    # (none crosses, queue 0); day 5 they retry: 5 cross at once, 8 queue anew; days 6, 7: 5 and 3 cross
    assert rs.link_out[:9, 0].tolist() == [0, 0, 5, 5, 0, 5, 5, 3, 0]
    assert rs.queue[:9, 0].tolist() == [0, 0, 18, 13, 0, 8, 3, 0, 0]
    assert rs.wait_sum[:9, 0].tolist() == [0, 0, 0, 5, 0, 0, 5, 6, 0]
    assert state[3] == {"leaving": 13, "tries1": 0, "qlink": 13, "due_next": 0, "line": 13, "crossed": 10}
    # that same day: crossed 10 + queued 0 + sent back 13 = 23, each back home with one more try, due tomorrow
    assert state[4] == {"leaving": 13, "tries1": 13, "qlink": 0, "due_next": 13, "line": 0, "crossed": 10}
    assert state[4]["crossed"] + state[4]["line"] + state[4]["tries1"] == 23
    assert state[5]["crossed"] == 15 and state[5]["line"] == 8
    # nobody crossed the shut link, nobody twice; all 23 crossed in the end
    log = rs.log[: int(rs.nlog[0])]
    cross = log[log[:, 2] == K.EV_CROSS]
    assert 4 not in cross[:, 0].tolist()
    assert len(np.unique(cross[:, 1])) == len(cross) == 23
    retried = np.flatnonzero(rs.pop.arrays["tries"][: rs.pop.n] == 1)
    assert len(retried) == 13 and (cross[np.isin(cross[:, 1], retried), 0] >= 5).all()


# ---------------------------------------------------------------------- 3 the destination stops admitting
def test_an_entry_rule_change_turns_the_waiting_travellers_back_that_day(tmp_path):
    # Georgia admits every document to 27 Feb (day 3), refuses them from 28 Feb (day 4); the link stays open
    rules = [f"GEO,{d},visa_free,365,,,2022-02-27,EV044," for d in ("foreign_passport", "internal_passport",
                                                                    "schengen_visa")]
    rules += [f"GEO,{d},banned,,,2022-02-28,,EV056," for d in ("foreign_passport", "internal_passport",
                                                               "schengen_visa")]
    world = _world(tmp_path / "rules", cap_persons=5, rules=rules)
    tries: dict = {}

    def probe(rs, day):
        a, n = rs.pop.arrays, rs.pop.n
        tries[day] = np.bincount(a["tries"][:n], minlength=2)[:2].tolist() if n else [0, 0]

    rs = _drive(world, scale=1.0, inflow={2: 23}, probe=probe)
    geo = rs.cw.countries.index("GEO")
    assert rs.cw.entry_admitted[3, geo].all() and not rs.cw.entry_admitted[4, geo].any()
    assert rs.cw.link_open[:, 0].all()
    assert np.flatnonzero(rs.wake[:, 0]).tolist() == [4]
    # days 2 and 3 as before (5 + 5 cross); on day 4 the 13 waiting - 5 of them served that day - all find
    # Georgia shut to them: none crosses, the queue is empty (the 8 unserved tickets are left behind)
    assert rs.link_out[:, 0].tolist() == [0, 0, 5, 5] + [0] * (rs.n_days - 4)
    assert rs.queue[:6, 0].tolist() == [0, 0, 18, 13, 0, 0]
    assert int(rs.queue[4:, 0].sum()) == 0
    assert tries[3] == [23, 0] and tries[4] == [10, 13]  # the same day, not later
    assert len(_line(rs)) == 0
    # no route any more: they retry daily and give up give_up_days after deciding (day 2)
    give_up = int(rs.p["give_up_days"])
    a, n = rs.pop.arrays, rs.pop.n
    assert rs.nat[2 + give_up - 1, K.N_STAYED] == 0 and rs.nat[2 + give_up, K.N_STAYED] == 13
    assert int((a["state"][:n] == K.STAYED).sum()) == 13
    # crossed 10 + stayed 13 = 23, and none counted twice
    assert int(rs.nat[-1, K.N_DEPARTED]) + int(rs.nat[-1, K.N_STAYED]) == 23 == rs.pop.n
    log = rs.log[: int(rs.nlog[0])]
    cross = log[log[:, 2] == K.EV_CROSS]
    assert len(np.unique(cross[:, 1])) == len(cross) == 10 and (cross[:, 0] <= 3).all()
