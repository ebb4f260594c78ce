"""What-ifs of the exodus ruleset: without mobilization the autumn wave disappears; closing Upper Lars on
22 Sept 2022 diverts the flow and lengthens queues elsewhere; paired runs (same seed, common random numbers)
are identical up to the day the scenarios start to differ.

All runs end on 31 Dec 2022, seed SEED, SCALE persons per traveller.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_exodus import SCALE, SEED, copy_scenario, day_index, exit_links, run_checked

from emigre.behaviour import exodus_kernels as K
from emigre.behaviour.exodus import simulate
from emigre.scenario import load_scenario

END = "2022-12-31"
UPPER_LARS = "road:Upper-Lars-Tbilisi"
CLOSED_FROM = "2022-09-22"
WAVE = ("2022-09-21", "2022-10-31")
ARRAYS = ("nat", "dep_by", "abroad_by", "present_country", "present_cr", "arrivals", "present_place", "link_out",
          "link_in", "queue", "wait_sum", "visa_runs", "regularised", "onward", "capacity")


def window(r, first: str, last: str) -> np.ndarray:
    return (r.dates >= np.datetime64(first)) & (r.dates <= np.datetime64(last))


@pytest.fixture(scope="module")
def base():
    return run_checked(load_scenario("russia-2022"), end=END)


@pytest.fixture(scope="module")
def no_mob():
    return simulate("russia-2022", seed=SEED, scale=SCALE, end=END, params={"push_mobilization_intensity": 0})


def closing_upper_lars(tmp, first_day: str):
    """The scenario with Upper Lars closed from ``first_day`` on (one timeline row more)."""
    d = copy_scenario(tmp)
    path = d / "timeline.csv"
    text = path.read_text(encoding="utf-8")
    header = text.splitlines()[0].split(",")
    assert header == ["id", "date_start", "date_end", "effect", "links", "value", "source", "description"]
    if not text.endswith("\n"):
        text += "\n"
    text += f"T999,{first_day},,closed,id={UPPER_LARS},,EV029,test closure\n"
    path.write_text(text, encoding="utf-8")
    world = load_scenario(d)
    assert [list(e.link_ids) for e in world.timeline if e.id == "T999"] == [[UPPER_LARS]]
    return world


@pytest.fixture(scope="module")
def lars(tmp_path_factory):
    """Upper Lars closed from 22 Sept 2022, run checked."""
    return run_checked(closing_upper_lars(tmp_path_factory.mktemp("upper-lars"), CLOSED_FROM), end=END)


# ---------------------------------------------------------------------- mobilization
def test_without_mobilization_the_autumn_wave_disappears(base, no_mob):
    b = base.result
    w = window(b, *WAVE)
    with_mob = b.nat[w, K.N_DEPARTURES].sum()
    without = no_mob.nat[w, K.N_DEPARTURES].sum()
    assert with_mob * SCALE > 100_000
    assert without < 0.2 * with_mob, (with_mob, without)  # falls by more than 80%
    g = no_mob.groups.index("reason=mobilization")
    assert int(no_mob.dep_by[:, g].sum()) == 0
    assert int(no_mob.abroad_by[:, g].sum()) == 0
    # nothing changes before mobilization was announced (paired runs)
    k = day_index(b, "2022-09-21")
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(b, name)[:k], getattr(no_mob, name)[:k], err_msg=name)


def test_mobilization_departures_are_an_autumn_wave_of_men(base):
    b, rs = base.result, base.rs
    g = b.groups.index("reason=mobilization")
    mob = b.dep_by[:, g]
    assert mob.sum() * SCALE > 100_000
    w = window(b, *WAVE)
    assert mob[w].sum() / mob.sum() > 0.9, (int(mob[w].sum()), int(mob.sum()))
    # traveller by traveller: who left for mobilization, and when
    n = rs.pop.n
    a = rs.pop.arrays
    left = a["departed_day"][:n] >= 0
    is_mob = a["reason"][:n] == b.reasons.index("mobilization")
    sel = left & is_mob
    assert sel.sum() == mob.sum()
    male = rs.cell_sex[a["cell"][:n][sel]] == 0
    assert male.mean() > 0.8, male.mean()
    days = a["departed_day"][:n][sel]
    lo, hi = day_index(b, WAVE[0]), day_index(b, WAVE[1])
    assert ((days >= lo) & (days <= hi)).mean() > 0.9
    # and the autumn departures as a whole are mostly men
    male_g = b.groups.index("sex=male")
    assert b.dep_by[w, male_g].sum() / b.nat[w, K.N_DEPARTURES].sum() > 0.8


# ---------------------------------------------------------------------- Upper Lars closed on 22 Sept 2022
def test_closing_upper_lars_stops_its_crossings(base, lars):
    b, v = base.result, lars.result
    ul = b.link_ids.index(UPPER_LARS)
    d0 = day_index(b, CLOSED_FROM)
    w = window(b, CLOSED_FROM, WAVE[1])
    assert b.link_out[w, ul].sum() > 200  # it mattered in the base run
    assert int(v.link_out[d0:, ul].sum()) == 0
    x = v.log[(v.log[:, 0] >= d0) & np.isin(v.log[:, 2], [K.EV_CROSS, K.EV_ENTER])]
    assert not (x[:, 3] == ul).any()
    assert (v.capacity[d0:, ul] == 0).all()


def test_closing_upper_lars_diverts_the_flow_to_other_routes(base, lars):
    b, v = base.result, lars.result
    cw = base.rs.cw
    ex = exit_links(cw)
    ul = b.link_ids.index(UPPER_LARS)
    w = window(b, CLOSED_FROM, WAVE[1])
    lost = b.link_out[w, ul].sum()
    others = ex.copy()
    others[ul] = False
    gain = v.link_out[w][:, others].sum() - b.link_out[w][:, others].sum()
    assert gain > 0.5 * lost, (int(gain), int(lost))
    gained_links = int((v.link_out[w][:, others].sum(axis=0) > b.link_out[w][:, others].sum(axis=0)).sum())
    assert gained_links >= 5
    # Georgia is still reached, over the other links into it (flights via Istanbul, Minsk, ...)
    geo = cw.countries.index("GEO")
    into_geo = cw.place_country[cw.link_to] == geo
    into_geo[ul] = False
    assert into_geo.any()
    before, after = b.link_out[w][:, into_geo].sum(), v.link_out[w][:, into_geo].sum()
    assert after > 1.2 * before, (int(before), int(after))
    # the people are not lost: departures in the window change by less than 10%
    db, dv = b.nat[w, K.N_DEPARTURES].sum(), v.nat[w, K.N_DEPARTURES].sum()
    assert abs(dv - db) < 0.1 * db, (int(db), int(dv))


def test_closing_upper_lars_lengthens_queues_and_waits_elsewhere(base, lars):
    b, v = base.result, lars.result
    ex = exit_links(base.rs.cw)
    ul = b.link_ids.index(UPPER_LARS)
    w = window(b, CLOSED_FROM, WAVE[1])
    others = ex.copy()
    others[ul] = False
    qb = b.queue[w][:, others].mean(axis=0)
    qv = v.queue[w][:, others].mean(axis=0)
    assert int((qv > qb).sum()) >= 3, (qv - qb)
    assert qv.sum() > qb.sum()
    wb = b.wait_sum[w][:, others].sum()
    wv = v.wait_sum[w][:, others].sum()
    assert wv > wb, (int(wb), int(wv))


def test_paired_runs_are_identical_until_the_closure(base, lars):
    b, v = base.result, lars.result
    d0 = day_index(b, CLOSED_FROM)
    for name in ARRAYS:
        x, y = getattr(b, name), getattr(v, name)
        np.testing.assert_array_equal(x[:d0], y[:d0], err_msg=name)
        if name in ("link_out", "capacity"):
            assert not np.array_equal(x[d0], y[d0]), name  # and they differ from the closure on
    lb, lv = b.log[b.log[:, 0] < d0], v.log[v.log[:, 0] < d0]
    assert len(lb) > 1000
    np.testing.assert_array_equal(lb, lv)


def test_a_closure_leaves_no_ghost_queue(base, tmp_path):
    """Travellers queued at Upper Lars when it closes (25 Sept 2022, the queue is long by then) give up their
    place; the queue must then be empty and stay empty while the link is closed - the tickets of those who left
    must not stay in the queue for ever (they would also eat the throughput if the link reopened)."""
    first = "2022-09-25"
    run = run_checked(closing_upper_lars(tmp_path, first), end="2022-10-31")
    v = run.result
    ul = v.link_ids.index(UPPER_LARS)
    d0 = day_index(v, first)
    assert v.queue[d0 - 1, ul] > 20  # people were waiting when it closed
    np.testing.assert_array_equal(v.queue[: d0, ul], base.result.queue[: d0, ul])
    assert int(v.link_out[d0:, ul].sum()) == 0
    assert int(v.queue[d0:, ul].max()) == 0, f"queue at Upper Lars from {first}: {v.queue[d0 : d0 + 5, ul].tolist()}"
    assert run.queue_mismatch == [], run.queue_mismatch[:3]


def test_a_capacity_factor_of_zero_is_honoured():
    """The what-if ``upper_lars_capacity_factor_ev029 = 0`` (timeline T039, 28 Sep - 28 Oct 2022) shuts the
    crossing's throughput; the timeline row must not be dropped because its value is 0."""
    world = load_scenario("russia-2022", params={"upper_lars_capacity_factor_ev029": 0.0})
    assert any(e.id == "T039" for e in world.timeline), "timeline row T039 dropped when its value is 0"
    r = simulate(world, seed=SEED, scale=SCALE, end="2022-10-31")
    ul = r.link_ids.index(UPPER_LARS)
    w = window(r, "2022-09-28", "2022-10-28")
    assert (r.capacity[w, ul] == 0).all()
    assert int(r.link_out[w, ul].sum()) == 0


def test_a_capacity_what_if_row_multiplies_the_link_capacity_on_its_days_only(base, tmp_path):
    """``scenario_with_timeline`` (what-if requests, benchmarks/bench_surge.py) writes a capacity row: Upper Lars
    at 3.75 times its throughput from 21 Sept to 28 Oct 2022 (15,000 a day observed at peak, CR014, against the
    design 4,000, CR013). Its capacity is exactly 3.75 times the base run's on those days and equal elsewhere; the
    crossing carries more than the base run's capacity in the wave's first week and its queue is shorter; the
    runs are identical before."""
    import datetime as dt

    from emigre.scenario.edit import scenario_with_timeline
    from emigre.scenario.load import resolve_dir

    alt = scenario_with_timeline(
        resolve_dir("russia-2022"),
        [("capacity", f"id={UPPER_LARS}", "3.75", dt.date(2022, 9, 21), dt.date(2022, 10, 28), "test")],
        tmp_path,
    )
    r = simulate(load_scenario(alt), seed=SEED, scale=SCALE, end=END)
    b = base.result
    ul = r.link_ids.index(UPPER_LARS)
    w = window(r, "2022-09-21", "2022-10-28")
    np.testing.assert_allclose(r.capacity[w, ul], 3.75 * b.capacity[w, ul], rtol=1e-6)
    np.testing.assert_array_equal(r.capacity[~w, ul], b.capacity[~w, ul])
    assert b.capacity[w, ul].min() > 0
    first_week = window(r, "2022-09-21", "2022-09-27")
    # the base run is held at its capacity (agents a day) on some day of the first week; the what-if carries more
    cap_agents = b.capacity[first_week, ul] / SCALE
    assert (b.link_out[first_week, ul] >= np.floor(cap_agents)).any()
    assert r.link_out[first_week, ul].max() > cap_agents.max()
    assert r.link_out[first_week, ul].sum() >= b.link_out[first_week, ul].sum()
    assert r.queue[first_week, ul].mean() < b.queue[first_week, ul].mean()
    before = window(r, "2022-02-24", "2022-09-20")
    np.testing.assert_array_equal(r.nat[before], b.nat[before])
