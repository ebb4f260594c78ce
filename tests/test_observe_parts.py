"""The whole count of a figure: each operator's prediction split into the wave's emigrants and what the source
counted beside them (ordinary trips and visitors, pre-war permits and holders, pre-war US encounters), each
non-wave part at its destination's sourced level, checked against numbers computed by hand from the packaged
baselines."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest

from emigre.behaviour.exodus import simulate
from emigre.evidence import load_evidence
from emigre.observe import (
    PART_DOCS,
    default_context,
    predict_all,
    predict_many,
    predict_parts,
    read_observation,
    resolve_theta,
    usable,
)

SCALE = 50.0


@pytest.fixture(scope="module")
def ctx():
    return default_context()


@pytest.fixture(scope="module")
def ev():
    return load_evidence()


@pytest.fixture(scope="module")
def run():
    return simulate("russia-2022", seed=3, scale=SCALE)


def test_parts_add_up_to_the_prediction_for_every_used_figure(run, ev, ctx):
    th = {"travel_level_2022": 0.7, "permits_prewar_level": 1.3, "prewar_holders_level": 0.6}
    total = predict_all(ev.observations, [run], ctx, th)
    assert len(total) == 141
    seen = set()
    for oid, value in total.items():
        parts = predict_parts(ev.observation(oid), [run], ctx, th)
        assert "wave" in parts and set(parts) <= set(PART_DOCS), oid
        assert sum(v[0] for v in parts.values()) == pytest.approx(value[0], rel=1e-12, abs=1e-9), oid
        seen |= set(parts)
    # every kind of part shows up somewhere in the packaged evidence
    assert seen == set(PART_DOCS)


def test_new_rows_are_read_as_their_sources_counted(ev, ctx):
    op = {o.id: read_observation(o, ctx) for o in ev.observations}
    assert op["OBS242"].operator == op["OBS243"].operator == "returns_crossings"  # Frontex returns
    # Armenia's UNWTO tourists (< 1 year) are entries, not 12-month immigrants
    assert (op["OBS248"].operator, op["OBS248"].threshold) == ("entries", None)
    assert op["OBS251"].operator == "permits_held" and op["OBS251"].prewar  # pre-war residents included
    assert op["OBS263"].operator == "asylum" and not op["OBS263"].prewar  # CBP One opened in 2023
    assert op["OBS129"].operator == "permits_held" and not op["OBS129"].prewar  # permits since the war
    for oid in ("OBS233", "OBS234", "OBS235", "OBS236"):
        assert not op[oid].used and "tourism-purpose" in op[oid].reason
    assert not op["OBS238"].used and "Ritsa" in op["OBS238"].reason
    assert not op["OBS209"].used and "UKR" in op["OBS209"].reason
    # every row from OBS201 on is read or skipped with its reason
    new = [o for o in ev.observations if o.id >= "OBS201"]
    assert len(new) == 62
    assert sum(usable(o, ctx) is None for o in new) == 51


def test_visitors_at_the_destination_at_its_own_pre_war_level(run, ev, ctx):
    obs = ev.observation("OBS262")  # Mexico: air arrivals of Russians Jan-Nov 2022
    th = resolve_theta({"travel_level_2022": 0.8}, 1)
    parts = predict_parts(obs, [run], ctx, th)
    fsb = ctx.ordinary_trips("MEX", obs.period_start, obs.period_end, th, closures=False)[0]
    # Mexico counted 75,446 Russians in 2021, more than the FSB's 50,513 trips there in 2019 (trips through
    # hubs are counted at the hub): the destination's level, with the FSB's season
    assert parts["ordinary_visitors"][0] == pytest.approx(fsb * 75446 / 50513)
    # without the FSB's pattern the level is spread evenly over the year, at the year's travel level
    no_fsb = dataclasses.replace(ctx, fsb={k: v for k, v in ctx.fsb.items() if k != "MEX"})
    flat = predict_parts(obs, [run], no_fsb, th)["ordinary_visitors"][0]
    days = (obs.period_end - obs.period_start).days + 1
    assert flat == pytest.approx(75446 / 365 * days * 0.8 * no_fsb.travel_scale(th, 2022)[0])
    # Armenia's own count is from 2021 (COVID) and below the FSB's 2019 trips there: the FSB pattern stands
    arm = predict_parts(ev.observation("OBS248"), [run], ctx, th)
    assert "ordinary_trips" in arm and "ordinary_visitors" not in arm
    # Georgia's own count covers Q3 2019 only: compared with the FSB's Q3 2019
    geo = predict_parts(ev.observation("OBS075"), [run], ctx, th)  # entries, September 2022
    fsb_geo = ctx.ordinary_trips("GEO", dt.date(2022, 9, 1), dt.date(2022, 9, 30), th, closures=False)[0]
    q3 = ctx.fsb["GEO"][2].sum()
    assert geo["ordinary_visitors"][0] == pytest.approx(fsb_geo * 378200 / q3)


def test_egypt_travels_at_its_level_before_the_flight_ban(ctx):
    """Egypt's ordinary trips follow 2014 (the last full year before Russia's 2015-2021 flight ban), every other
    destination 2019: with the levels at 1 Q1 2022 is Q1 2014's 623,207 trips, 89 times Q1 2019's."""
    from emigre.baselines import ORDINARY_REFERENCE_YEARS, fsb_ordinary_pattern, fsb_quarterly

    assert ORDINARY_REFERENCE_YEARS == {"EGY": 2014}
    pattern, y2019, y2014 = fsb_ordinary_pattern(), fsb_quarterly(2019), fsb_quarterly(2014)
    assert np.array_equal(pattern["EGY"], y2014["EGY"])
    assert all(np.array_equal(pattern[k], v) for k, v in y2019.items() if k != "EGY")
    th = resolve_theta({"travel_level_2022": 1.0, "travel_level_EGY": 1.0}, 1)
    q1 = ctx.ordinary_trips("EGY", dt.date(2022, 1, 1), dt.date(2022, 3, 31), th, closures=False)[0]
    assert q1 == pytest.approx(623207 * ctx.travel_scale(th, 2022)[0])
    assert q1 / ctx.travel_scale(th, 2022)[0] / y2019["EGY"][0].sum() == pytest.approx(89.3, abs=0.1)
    # at the prior's level of all trips in 2022 (0.55) and a level of its own that gives back the trips the
    # closed EU sent elsewhere, the FSB's Q1 2022 count (351,926, OBS208) is met
    th = resolve_theta({"travel_level_2022": 0.55}, 1)
    th["travel_level_EGY"] = 1.0 / ctx.travel_scale(th, 2022)
    assert ctx.ordinary_trips("EGY", dt.date(2022, 1, 1), dt.date(2022, 3, 31), th, closures=False)[0] \
        == pytest.approx(351926, rel=0.03)


def test_abkhazia_counts_tourists_not_crossings(run, ev, ctx):
    """The de facto Abkhazian ministry's tourists (1.5 million in 2021) stand for its own figures although they
    are below the FSB's 2019 crossings there (4.8 million, residents with Russian passports included): a count
    by another definition, not the pandemic. Armenia's 2021 count stays a pandemic low (FSB pattern)."""
    th = resolve_theta({"travel_level_2023": 0.7, "travel_level_XAB": 1.0}, 1)
    obs = ev.observation("OBS237")  # tourists in Abkhazia, 2023
    parts = predict_parts(obs, [run], ctx, th)
    fsb = ctx.ordinary_trips("XAB", obs.period_start, obs.period_end, th, closures=False)[0]
    scale = ctx.travel_scale(th, 2023)[0]
    assert fsb == pytest.approx(0.7 * scale * ctx.fsb["XAB"].sum())  # a whole year at the 2023 level
    assert ctx.fsb["XAB"].sum() == pytest.approx(4802475)
    assert parts["ordinary_visitors"][0] == pytest.approx(fsb * 1500000 / 4802475)
    assert parts["ordinary_visitors"][0] == pytest.approx(0.7 * scale * 1500000)
    assert "ordinary_trips" not in parts
    arm = predict_parts(ev.observation("OBS248"), [run], ctx, th)
    assert "ordinary_trips" in arm and "ordinary_visitors" not in arm


def test_stocks_that_include_pre_war_residents(run, ev, ctx):
    base = ev.observation("OBS082")  # Georgia, 10 Nov 2022: the wave only
    assert set(predict_parts(base, [run], ctx)) == {"wave"}
    tur = dataclasses.replace(base, id="TST082", destination="TUR",
                              notes="Stock of Russians present, includes pre-war residents.")
    parts = predict_parts(tur, [run], ctx, {"prewar_holders_level": 0.5})
    assert parts["prewar_holders"][0] == pytest.approx(0.5 * 26967)  # UN DESA 2019, born in Russia
    day = (base.period_end - dt.date(2022, 2, 24)).days
    assert parts["wave"][0] == pytest.approx(run.present_country[day, run.countries.index("TUR")] * SCALE)
    # the pre-war part lowers the wave's expected share of the figure, so its destination discrepancy
    rd = read_observation(dataclasses.replace(tur, quantity=100_000), ctx)
    assert rd.wave_share == pytest.approx(1 - 0.8 * 26967 / 100_000)


def test_argentine_permits_at_their_pre_war_level(run, ev, ctx):
    obs = ev.observation("OBS259")  # residence permits to Russians, 2022: 919; 2021: 320 (2020 COVID left out)
    parts = predict_parts(obs, [run], ctx, {"permits_prewar_level": 1.0})
    assert parts["prewar_permits"][0] == pytest.approx(320.0)
    # per draw: one level per result
    many = predict_parts(obs, [run, run], ctx, {"permits_prewar_level": np.array([0.5, 2.0])})
    np.testing.assert_allclose(many["prewar_permits"], [160.0, 640.0])
    np.testing.assert_allclose(predict_many(obs, [run, run], ctx, {"permits_prewar_level": np.array([0.5, 2.0])}),
                               many["wave"] + many["prewar_permits"])


def test_a_destination_travel_level_moves_its_ordinary_part_only(run, ev, ctx):
    """FSB trips to the UAE (Q3 2022) and entries into Georgia (2022): the destination's own travel level
    multiplies the ordinary part of its figures against the other destinations' (the year's scale); the wave's
    part stays, and another destination's figure moves by the year's scale alone."""
    base = {"travel_level_2022": 0.6}
    up = dict(base, travel_level_ARE=2.5, travel_level_GEO=0.5)
    ratio = (ctx.travel_scale(resolve_theta(up, 1), 2022) / ctx.travel_scale(resolve_theta(base, 1), 2022))[0]
    assert ratio < 1.0  # the UAE's 2.5 weighs more than Georgia's 0.5
    for oid, f in (("OBS064", 2.5), ("OBS078", 0.5), ("OBS063", 1.0)):  # UAE, Georgia, Turkey
        obs = ev.observation(oid)
        a = predict_parts(obs, [run], ctx, base)
        b = predict_parts(obs, [run], ctx, up)
        name = next(k for k in a if k.startswith("ordinary"))
        assert a[name][0] > 0, oid
        assert b[name][0] == pytest.approx(f * ratio * a[name][0], rel=1e-12), oid
        assert b["wave"][0] == a["wave"][0], oid


def test_the_queue_of_vehicles_holds_the_ordinary_travellers_who_joined_the_line(ctx, ev):
    """OBS074 (4,900 vehicles in line at Upper Lars on 27 Sep 2022) counts everyone in the line: the emigrants
    queued at the link and, by Little's law, the ordinary road travellers to Georgia of that day times the line's
    wait (the emigrants' line over the link's crossings that day), all over persons_per_vehicle. Checked by hand on a run
    whose mobilization push (8,000) forms a line there; without a line there are no ordinary travellers in it."""
    r = simulate("russia-2022", seed=3, scale=SCALE, end="2022-10-31", params={"push_mobilization_intensity": 8000})
    obs = ev.observation("OBS074")
    k = r.link_ids.index("road:Upper-Lars-Tbilisi")
    d = int((np.datetime64("2022-09-27") - r.dates[0]).astype(int))
    queued = r.queue[d, k] * r.scale
    assert queued > 1000
    th = resolve_theta(None, 1)
    day = dt.date(2022, 9, 27)
    ordinary_per_day = ctx.ordinary_trips("GEO", day, day, th, ("Car", "Walk"))[0]
    assert ordinary_per_day > 500  # road trips to Georgia in Q3 at the 2022 travel level
    wait = queued / (r.link_out[d, k] * r.scale)
    assert r.link_out[d, k] * r.scale == pytest.approx(r.capacity[d, k], rel=0.05)  # a line: crossing at capacity
    ppv = th["persons_per_vehicle"][0]
    parts = predict_parts(obs, [r], ctx)
    assert parts["wave"][0] == pytest.approx(queued / ppv)
    assert parts["ordinary_trips"][0] == pytest.approx(ordinary_per_day * wait / ppv)
    assert parts["ordinary_trips"][0] > 0.1 * parts["wave"][0]
    # no line that day (default parameters): nobody in it
    quiet = simulate("russia-2022", seed=3, scale=SCALE, end="2022-10-31")
    assert quiet.queue[d, k] == 0
    assert {k2: v[0] for k2, v in predict_parts(obs, [quiet], ctx).items()} == {"wave": 0.0, "ordinary_trips": 0.0}


def test_a_border_queue_carries_the_wave_error_times_its_elasticity(ctx, ev):
    """A line at a crossing is the arrivals beyond its throughput: an error d on the wave's arrivals is an error
    d x inflow / (inflow - throughput) on the line (6 from OBS074's and OBS071's sources), so the destination
    discrepancy of OBS074 is DESTINATION_SIGMA x 6, where a count's is DESTINATION_SIGMA x its wave share (<= 1)."""
    from emigre.observe import error_scale, read_observation
    from emigre.observe.likelihood import DESTINATION_SIGMA, QUALITY_SCALES
    from emigre.observe.operators import QUEUE_ELASTICITY

    # the elasticity from the sources: 4,900 vehicles x 2.5 persons built over 6 days on ~10,100 a day passing
    growth = 4_900 * 2.5 / 6
    through = (10_808 + 9_440) / 2
    assert pytest.approx((through + growth) / growth, rel=0.01) == QUEUE_ELASTICITY
    queue = ev.observation("OBS074")
    rd = read_observation(queue, ctx)
    assert rd.operator == "queue_vehicles" and rd.wave_share == QUEUE_ELASTICITY
    assert error_scale(queue, rd) == pytest.approx(
        math.sqrt(QUALITY_SCALES["official"] ** 2 + rd.extra_sigma**2 + (DESTINATION_SIGMA * QUEUE_ELASTICITY) ** 2))
    # a count of the same crossing keeps a share of at most 1
    count = ev.observation("OBS071")
    assert 0.1 <= read_observation(count, ctx).wave_share <= 1.0

