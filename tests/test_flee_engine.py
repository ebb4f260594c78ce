"""The Flee ruleset on the engine: invariants, closures, spawning, capacity, paths, reproducibility."""

from __future__ import annotations

import csv
import io

import numba
import numpy as np
import pytest
from conftest import write_flee_scenario, write_settings

from emigre.behaviour.flee import enumerate_paths
from emigre.engine.network import Network
from emigre.flee.output import ard, out_csv_text
from emigre.flee.reader import read_scenario, read_settings
from emigre.jobs.flee_run import run_flee

LOCS = [
    "A,r,X,0,0,conflict_zone,0,5000",
    "B,r,X,0,1,town,,1000",
    "C,r,X,0,2,camp,,0",
    "D,r,Y,1,0,camp,,0",
]
ROUTES = ["A,B,100,0", "B,C,100,0", "A,D,150,0"]
RISING = {"C": [("2020-01-01", 0), ("2020-01-21", 1000)], "D": [("2020-01-01", 0), ("2020-01-21", 1000)]}


def build(tmp_path, *, closures=(), locs=LOCS, routes=ROUTES, camps=RISING, length=20, awareness=1, **kw):
    root = write_flee_scenario(tmp_path / "sc", locations=locs, routes=routes, closures=list(closures),
                               conflicts={"A": [1.0]}, length=length, camps=camps, **kw)
    return read_scenario(root), read_settings(write_settings(tmp_path / "simsetting.yml", awareness))


def counts(res, name):
    return res.place_count[:, res.place_names.index(name)]


def test_people_are_conserved_every_day(tmp_path):
    sc, st = build(tmp_path)
    res = run_flee(sc, st, seed=3)
    assert np.array_equal(res.place_count.sum(axis=1) + res.on_links, res.agents)
    # spawning follows the rise of the summed camp series: 2000 agents over 20 days, linearly
    assert res.agents[-1] == 1900  # day 19 of a 20-day ramp to 2000 (day 0 inserted as 0)
    assert np.all(np.diff(res.agents) == 100)


def test_link_closure_really_closes(tmp_path):
    open_run = run_flee(*build(tmp_path / "o"), seed=1)
    closed = run_flee(*build(tmp_path / "c", closures=["link,A,D,0,-1"]), seed=1)
    assert counts(open_run, "D").max() > 100
    assert counts(closed, "D").max() == 0
    assert counts(closed, "C")[-1] > counts(open_run, "C")[-1]


def test_country_closure_ends_on_its_end_day(tmp_path):
    res = run_flee(*build(tmp_path, closures=["country,X,Y,0,10"]), seed=1)
    d = counts(res, "D")
    assert d[:10].max() == 0  # closed on days 0..9
    assert d[-1] > 50  # open again from day 10


def test_location_closure_closes_links_in_and_out(tmp_path):
    res = run_flee(*build(tmp_path, closures=["location,B,,0,-1"]), seed=1)
    assert counts(res, "B").max() == 0 and counts(res, "C").max() == 0
    assert counts(res, "D")[-1] > 1000


def test_camp_closure_makes_a_town(tmp_path):
    base = run_flee(*build(tmp_path / "o"), seed=2)
    res = run_flee(*build(tmp_path / "c", closures=["camp,C,,0,-1"]), seed=2)
    # as a town, C keeps only about half its arrivals each day (move chance 0.5 back to B)
    assert counts(res, "C")[-1] < 0.7 * counts(base, "C")[-1]


def test_decreases_are_kept_as_debt(tmp_path):
    camps = {"C": [("2020-01-01", 0), ("2020-01-05", 400), ("2020-01-09", 200), ("2020-01-21", 400)]}
    res = run_flee(*build(tmp_path, camps=camps), seed=0)
    new = np.diff(res.agents)
    assert res.agents[4] == 400  # 100 a day up to the peak of 400 on day 4
    # the fall of 200 (days 5-8) removes no agent and becomes a debt; the rise after it (200 over 12 days)
    # repays the debt before any new agent is created, so none is
    assert np.all(new[4:] == 0) and res.agents[-1] == 400
    assert res.debt[8] == 200 and np.all(np.diff(res.debt[8:]) < 0) and 0 < res.debt[-1] < 20


def test_capacity_limits_a_camp(tmp_path):
    locs = LOCS[:2] + ["C,r,X,0,2,camp,,100", "D,r,Y,1,0,camp,,0"]
    camps = {"C": [("2020-01-01", 0), ("2020-01-21", 100)], "D": [("2020-01-01", 0), ("2020-01-21", 3000)]}
    res = run_flee(*build(tmp_path, locs=locs, camps=camps, length=20), seed=5)
    cap = 100 * 1.25
    c = counts(res, "C")
    # a route to a camp past 95% of its (scaled) capacity is dropped: the camp only grows on days that
    # begin below that mark (counts change on arrival, so one day's choices can overshoot, as in Flee)
    rises = np.nonzero(np.diff(c) > 0)[0]
    assert rises.size > 0 and np.all(c[rises] <= 0.95 * cap + 2)
    assert c[-1] < 0.15 * counts(res, "D")[-1] and counts(res, "D")[-1] > 2000


def test_day0_residents_are_deducted_from_capacity_before_scaling(tmp_path):
    # camp C (capacity 100) starts with 40 residents (insert_day0): its scaled capacity is (100 - 40) x 1.25
    # = 75, so it stops taking new routes past 0.95 x 75 = 71 - not at 0.95 x 125 = 119 (see docs/flee.md)
    locs = LOCS[:2] + ["C,r,X,0,2,camp,,100", "D,r,Y,1,0,camp,,0"]
    camps = {"C": [("2020-01-01", 40), ("2020-01-21", 140)], "D": [("2020-01-01", 0), ("2020-01-21", 3000)]}
    res = run_flee(*build(tmp_path / "a", locs=locs, camps=camps, length=20), seed=5)
    c = counts(res, "C")
    assert c[0] == 40
    rises = np.nonzero(np.diff(c) > 0)[0]
    assert rises.size > 0 and np.all(c[rises] <= 0.95 * 75 + 2)
    assert c.max() < 0.95 * 125 - 20  # well below what the undeducted capacity allows
    # a camp whose day-0 count reaches its capacity is full (capacity 1), not unlimited
    full = {"C": [("2020-01-01", 120), ("2020-01-21", 220)], "D": camps["D"]}
    res = run_flee(*build(tmp_path / "b", locs=locs, camps=full, length=20), seed=5)
    assert counts(res, "C").max() <= 120 and counts(res, "D")[-1] > 2000


def test_paths_up_to_awareness_with_markers():
    #   0 - 1 - 2 - 3, and 0 - M(4) - 3 ; M is a marker
    net = Network.from_undirected(5, [(0, 1), (1, 2), (2, 3), (0, 4), (4, 3)], [1, 1, 1, 1, 1])
    marker = np.array([0, 0, 0, 0, 1], dtype=np.uint8)
    p1 = enumerate_paths(net, marker, 1)
    ends0 = sorted(p1.end[p1.ptr[0]:p1.ptr[1]].tolist())
    assert ends0 == [1, 3]  # 0->1, and 0->M->3 (a marker is not a hop and not a destination)
    p2 = enumerate_paths(net, marker, 2)
    ends0 = sorted(p2.end[p2.ptr[0]:p2.ptr[1]].tolist())
    assert ends0 == [1, 2, 2, 3]  # 0-1, 0-1-2, 0-M-3, 0-M-3-2 (0-1-2-3 is three hops)
    dists = sorted(p2.dist[p2.ptr[0]:p2.ptr[1]].tolist())
    assert dists == [1, 2, 2, 3]


def test_awareness_two_runs_and_conserves(tmp_path):
    res = run_flee(*build(tmp_path, awareness=2), seed=4)
    assert np.array_equal(res.place_count.sum(axis=1) + res.on_links, res.agents)
    assert counts(res, "C")[-1] > 0 and counts(res, "D")[-1] > 0


def test_ard_by_hand():
    sim = np.array([[10, 30], [0, 0], [5, 5]])
    data = np.array([[20, 20], [4, 6], [0, 10]])
    # day 0: U=40, S=40 -> |10-20|+|30-20| = 20 / 40 = 0.5 ; day 1: S=0 -> (4+6)/10 = 1 ;
    # day 2: U=10, S=10 -> |5-0|+|5-10| = 10 / 10 = 1
    assert ard(sim, data) == pytest.approx((0.5 + 1 + 1) / 3)


def test_out_csv_layout_and_dates(tmp_path):
    sc, st = build(tmp_path)
    text = out_csv_text(run_flee(sc, st, seed=0))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["Day", "Date", "C sim", "C data", "C error"]
    assert rows[0][-6:] == ["Total error", "refugees in camps (UNHCR)", "total refugees (simulation)",
                            "raw UNHCR refugee count", "refugees in camps (simulation)", "refugee_debt"]
    assert len(rows) == 21 and rows[1][:2] == ["0", "2020-01-01"] and rows[20][:2] == ["19", "2020-01-20"]


def test_same_seed_same_bytes_different_seed_differs(tmp_path):
    sc, st = build(tmp_path)
    a = out_csv_text(run_flee(sc, st, seed=11))
    assert a == out_csv_text(run_flee(sc, st, seed=11))
    assert a != out_csv_text(run_flee(sc, st, seed=12))


def test_thread_count_does_not_change_results(flee_mali):
    sc, st = flee_mali
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = out_csv_text(run_flee(sc, st, seed=5, hasten=2))
        numba.set_num_threads(max(2, before) if numba.config.NUMBA_NUM_THREADS >= 2 else 1)
        two = out_csv_text(run_flee(sc, st, seed=5, hasten=2))
    finally:
        numba.set_num_threads(before)
    assert one == two


def test_parallel_kernels_match_the_serial_ones(flee_mali, monkeypatch):
    # a population this small decides on one thread; forcing the parallel kernels (many small chunks)
    # must give the same bytes, on one thread and on two
    from emigre.behaviour import flee as flee_mod

    sc, st = flee_mali
    serial = out_csv_text(run_flee(sc, st, seed=7, hasten=4))
    monkeypatch.setattr(flee_mod, "PARALLEL_MIN_AGENTS", 0)
    monkeypatch.setattr(flee_mod, "CHUNK", 1 << 12)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = out_csv_text(run_flee(sc, st, seed=7, hasten=4))
        numba.set_num_threads(max(2, before) if numba.config.NUMBA_NUM_THREADS >= 2 else 1)
        two = out_csv_text(run_flee(sc, st, seed=7, hasten=4))
    finally:
        numba.set_num_threads(before)
    assert serial == one == two


def test_geometric_waits_have_the_daily_chance():
    from emigre.engine.rng import GEOMETRIC_NEVER, geometric, geometric_scale, geometric_scaled, uniforms

    u = uniforms(3, np.arange(200_000), 0, 0)
    for p in (0.001, 0.1, 0.5, 0.9):
        k = np.array([geometric(x, p) for x in u[:50_000]])
        scale = float(geometric_scale(np.array([p]))[0])
        assert np.array_equal(k, [geometric_scaled(x, scale) for x in u[:50_000]])
        # P(wait >= j) = (1 - p)^j: the same as one draw with chance p on each day
        for j in (1, 2, 5):
            expect = (1 - p) ** j
            assert abs((k >= j).mean() - expect) < 5 * np.sqrt(expect * (1 - expect) / k.size) + 1e-9
    assert geometric(0.7, 1.0) == 0 and geometric(0.7, 0.0) == GEOMETRIC_NEVER
    inf_scale, zero_scale = geometric_scale(np.array([0.0, 1.0]))
    assert geometric_scaled(0.0, inf_scale) == GEOMETRIC_NEVER and geometric_scaled(0.3, zero_scale) == 0


def test_resting_agents_leave_with_the_move_chance_of_their_place(tmp_path):
    # 5,000 agents start in camp C, whose only link is 2,000 km long (nobody can come back within the
    # run); each day about camp_movechance of those still there leave. From day 5 a camp closure
    # makes C a town (move chance 0.5): the waiting agents draw again and leave at the new rate.
    import dataclasses

    locs = ["A,r,X,0,0,conflict_zone,0,5000", "C,r,X,0,2,camp,,0", "X,r,X,0,3,camp,,0"]
    routes = ["A,X,3000,0", "C,X,2000,0"]
    camps = {"C": [("2020-01-01", 5000), ("2020-01-21", 5000)]}
    sc, st = build(tmp_path, locs=locs, routes=routes, camps=camps, closures=["camp,C,,5,-1"], length=9)
    st = dataclasses.replace(st, camp_movechance=0.05)
    res = run_flee(sc, st, seed=2)
    c = counts(res, "C").astype(float)
    stay = np.array([0.95] * 5 + [0.5] * 4)
    for d in range(9):
        n_before = 5000.0 if d == 0 else c[d - 1]
        expect = n_before * stay[d]
        sd = np.sqrt(n_before * stay[d] * (1 - stay[d]))
        assert abs(c[d] - expect) < 5 * sd + 1, (d, c[d], expect)
    assert res.agents[-1] == 5000 and counts(res, "X")[4] == 0  # the first leavers reach X on day 5
