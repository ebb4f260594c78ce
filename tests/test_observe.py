"""Observation operators and likelihoods (docs/observe.md): each operator gives, on a small simulated run, the
quantity its source counted - checked by hand against the result arrays for one row of each kind -; bounds,
ranges and percentages; the likelihood's shape; every public observation covered or skipped with a reason.

One run (seed SEED, SCALE persons per traveller, the full scenario period) is shared by the module, and a
second seed for the ensemble checks.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math

import numpy as np
import pytest

from emigre.baselines import baseline_path as _baseline_path
from emigre.behaviour.exodus import simulate
from emigre.errors import EmigreError
from emigre.evidence import load_evidence
from emigre.observe import (
    OBS_PARAMS,
    OPERATORS,
    QUALITY_SCALES,
    coverage,
    default_context,
    default_theta,
    error_scale,
    loglik,
    predict,
    predict_all,
    predict_many,
    predict_parts,
    quality_class,
    read_observation,
    resolve_theta,
    sample_prior,
    total_loglik,
    transform,
)
from emigre.observe.context import EU_SCHENGEN, FSB_MODES, days_by_year_quarter
from emigre.observe.likelihood import DESTINATION_SIGMA, t3_cdf, t3_logcdf, t3_logpdf
from emigre.observe.readings import (
    NET_SIGMA,
    ORDINARY_SIGMA,
    ORDINARY_SIGMA_ALL,
    ORDINARY_SIGMA_DEST,
    PREWAR_IMMIGRANTS_SIGMA,
    PREWAR_ISSUED_SIGMA,
    ordinary_sigma,
)

_predict = predict

SEED = 11
SCALE = 20.0
START = dt.date(2022, 2, 24)


@pytest.fixture(scope="module")
def ctx():
    return default_context()


@pytest.fixture(scope="module")
def run():
    return simulate("russia-2022", seed=SEED, scale=SCALE)


@pytest.fixture(scope="module")
def run2():
    return simulate("russia-2022", seed=SEED + 1, scale=SCALE, params={"return_per_year": 0.6})


@pytest.fixture(scope="module")
def ev():
    return load_evidence()


def day(s: str) -> int:
    return (dt.date.fromisoformat(s) - START).days


def c(r, iso: str) -> int:
    return r.countries.index(iso)


def col(name: str) -> int:
    from emigre.behaviour.exodus import ExodusResult

    return ExodusResult.NAT.index(name)


def fake(ev, base: str, **changes):
    """A new observation in the evidence schema, made from a packaged row (a hold-out file's row)."""
    changes.setdefault("id", "TST" + base[3:])
    return dataclasses.replace(ev.observation(base), **changes)


def fsb_2019(iso: str, quarter: int, modes=FSB_MODES) -> float:
    """2019 FSB departures to ``iso`` in quarter 1-4, read straight from the packaged CSV."""
    total = 0.0
    ends = {1: "3/31/2019", 2: "6/30/2019", 3: "9/30/2019", 4: "12/31/2019"}
    with open(_baseline_path(), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["ISO_A3"] == iso and row["Date"] == ends[quarter] and row["Trans"] in modes:
                total += float(row["Value"].replace(",", "") or 0)
    return total


# ---------------------------------------------------------------------- coverage
def test_coverage_lists_every_public_observation(ev, ctx):
    cov = coverage(ev, ctx)
    assert len(cov) == len(ev.observations) == 174
    assert set(cov["id"]) == {o.id for o in ev.observations}
    assert cov["id"].is_unique
    used, skipped = cov[cov.used], cov[~cov.used]
    assert len(used) + len(skipped) == 174
    assert (skipped["reason"].str.len() > 20).all()  # every skip says why
    assert set(used["operator"]) <= set(OPERATORS)
    assert len(used) == 141
    per_kind = used.groupby("kind").size().to_dict()
    assert per_kind == {
        "arrivals_in_destination": 9, "asylum_applications": 5, "border_crossings_entry": 29,
        "border_crossings_exit": 49, "cumulative_outflow_total": 12, "net_arrivals": 6, "other": 9,
        "residence_permits": 17, "stock_in_destination": 5,
    }
    # no operator for naturalisation; pre-war rows and rows after the horizon are named as such
    assert not cov[cov.kind == "citizenship_grants"].used.any()
    reasons = dict(zip(cov["id"], cov["reason"], strict=True))
    assert "before the simulation starts" in reasons["OBS147"]
    assert "after the simulated horizon" in reasons["OBS138"]
    # a longer run would use the rows beyond 2023
    longer = coverage(ev, ctx, end="2026-12-31")
    assert set(longer[longer.used].id) - set(used.id) == {
        "OBS090", "OBS138", "OBS140", "OBS161", "OBS252", "OBS253", "OBS254", "OBS255", "OBS261"}


def test_unknown_destination_and_kind_are_skipped_not_dropped(ev, ctx):
    italy = fake(ev, "OBS082", destination="ITA")
    rd = read_observation(italy, ctx)
    assert not rd.used and "ITA" in rd.reason
    cov = coverage([italy], ctx)
    assert len(cov) == 1 and not cov.used.iloc[0]
    with pytest.raises(EmigreError, match="no observation operator"):
        predict(italy, None, ctx)  # raised before the result is looked at


# ---------------------------------------------------------------------- operators, by hand
def test_cumulative_outflow_gross_net_and_window(run, ev, ctx):
    s = run.scale
    # gross departures to the period end (OBS003, to 5 Oct 2022)
    assert predict(ev.observation("OBS003"), run, ctx) == pytest.approx(run.nat[day("2022-10-05"), col("departed_cum")] * s)
    # net of returns where the notes say so (OBS006: "net of returns implied", to 20 Sep 2022)
    d = day("2022-09-20")
    net = (run.nat[d, col("departed_cum")] - run.nat[d, col("returned_cum")]) * s
    assert predict(ev.observation("OBS006"), run, ctx) == pytest.approx(net)
    assert read_observation(ev.observation("OBS001"), ctx).net is False  # "not net of returns"
    # a window that starts after the war began: departures in the window (OBS008, 21 Sep - 4 Oct)
    w = run.nat[day("2022-09-21") : day("2022-10-04") + 1, col("departures")].sum() * s
    assert predict(ev.observation("OBS008"), run, ctx) == pytest.approx(w)
    assert w > 0


def test_stock_in_destination(run, ev, ctx):
    s = run.scale
    d = day("2022-12-31")
    abroad = (run.nat[d, col("abroad")] + run.nat[d, col("in_transit")]) * s
    assert predict(ev.observation("OBS013"), run, ctx) == pytest.approx(abroad)
    geo = run.present_country[day("2022-11-10"), c(run, "GEO")] * s
    assert predict(ev.observation("OBS082"), run, ctx) == pytest.approx(geo) and geo > 0
    # EUU = the scenario's EU members
    eu = fake(ev, "OBS082", destination="EUU")
    members = [c(run, x) for x in ctx.countries if x in ctx.eu_members]
    assert len(members) >= 10
    assert predict(eu, run, ctx) == pytest.approx(run.present_country[day("2022-11-10"), members].sum() * s)


def test_permit_holders_survive_at_the_return_and_onward_rates(run, ev, ctx):
    obs = ev.observation("OBS122")  # TUR residence-permit holders, 2 Nov 2023
    assert read_observation(obs, ctx).operator == "permits_held"
    lag = 30
    end = day("2023-11-02")
    rate = (run.params["return_per_year"] + run.params["onward_per_year"]) / 365
    reg = run.regularised[: end - lag + 1, c(run, "TUR")].astype(float)
    want = (reg * np.exp(-rate * (end - np.arange(end - lag + 1)))).sum() * run.scale
    parts = predict_parts(obs, [run], ctx, {"permit_lag_days": lag, "prewar_holders_level": 0.5})
    assert parts["wave"][0] == pytest.approx(want)
    assert 0 < want < run.regularised[:, c(run, "TUR")].sum() * run.scale
    # holders from before the war: UN DESA's 2019 stock born in Russia (26,967 in Turkey) x the level
    assert parts["prewar_holders"][0] == pytest.approx(0.5 * 26967)
    # where no pre-war stock is sourced (Kazakhstan: Soviet-era settlers are no permit holders) the global
    # background share stands in: the wave's holders are (1 - share) of the count
    kaz = fake(ev, "OBS122", destination="KAZ")
    wave = predict_parts(kaz, [run], ctx, {"permit_lag_days": lag})["wave"][0]
    assert predict(kaz, run, ctx, {"permit_lag_days": lag, "permits_background_share": 0.6}) == pytest.approx(
        wave / 0.4)


def test_arrivals_plain_and_under_a_duration_rule(run, ev, ctx):
    s = run.scale
    isr = c(run, "ISR")
    obs = ev.observation("OBS134")  # Israel CBS immigrants 2023
    assert read_observation(obs, ctx).threshold is None
    parts = predict_parts(obs, [run], ctx, {"permits_prewar_level": 0.8})
    assert parts["wave"][0] == pytest.approx(run.arrivals[day("2023-01-01") : day("2023-12-31") + 1, isr].sum() * s)
    # Israel counts its olim on arrival: beside the wave, aliyah from Russia at its pre-war level (2018 10,460,
    # 2019 16,060, 2021 7,500: 11,340 a year) x permits_prewar_level, over the year's 365 days
    assert parts["prewar_immigrants"][0] == pytest.approx(0.8 * (10460 + 16060 + 7500) / 3)
    jan_feb = ev.observation("OBS135")  # 59 days of 2023
    assert predict_parts(jan_feb, [run], ctx)["prewar_immigrants"][0] == pytest.approx(11340 * 59 / 365)
    rd = read_observation(obs, ctx)
    assert rd.extra_sigma == PREWAR_IMMIGRANTS_SIGMA and "aliyah" in rd.reason
    assert rd.wave_share == pytest.approx(1 - 11340 / 33116)  # the part outside the wave at the prior centre
    # no such level elsewhere (Georgia), nor under a duration rule (statistical immigrants), nor for all countries
    for other in (fake(ev, "OBS134", destination="GEO"), fake(ev, "OBS134", notes="12-month rule"),
                  fake(ev, "OBS134", destination="ALL")):
        assert set(predict_parts(other, [run], ctx)) == {"wave"}
        assert read_observation(other, ctx).extra_sigma == 0.0
    # a 12-month rule on a window far from the end of the run: the stay histogram, exactly
    geo = c(run, "GEO")
    stat = fake(ev, "OBS134", destination="GEO", notes="statistical immigrants (12-month rule)",
                period_start=dt.date(2022, 3, 1), period_end=dt.date(2022, 6, 30))
    rd = read_observation(stat, ctx)
    assert (rd.operator, rd.threshold) == ("arrivals", 365)
    lo, hi = day("2022-03-01"), day("2022-06-30")
    long_stays = run.stay_hist[2, lo : hi + 1, geo].sum() * s
    assert predict(stat, run, ctx) == pytest.approx(long_stays)
    assert 0 < long_stays < run.arrivals[lo : hi + 1, geo].sum() * s
    # a 183-day rule for arrivals within 183 days of the end: censored, the latest uncensored share applies
    late = fake(ev, "OBS134", destination="GEO", notes="183-day rule", period_start=dt.date(2023, 10, 1),
                period_end=dt.date(2023, 10, 31))
    last_ok = run.stay_hist.shape[1] - 1 - 183
    ref = slice(last_ok - 89, last_ok + 1)
    q = run.stay_hist[1, ref, geo].sum() / run.arrivals[ref, geo].sum()
    want = q * run.arrivals[day("2023-10-01") : day("2023-10-31") + 1, geo].sum() * s
    assert predict(late, run, ctx) == pytest.approx(want)


def test_net_arrivals_is_the_change_of_the_stock(run, ev, ctx):
    s = run.scale
    geo = c(run, "GEO")
    # window starting before day 0 of the run: nothing was there before
    assert predict(ev.observation("OBS067"), run, ctx) == pytest.approx(run.present_country[day("2022-03-16"), geo] * s)
    obs = ev.observation("OBS081")  # 2023, entries minus exits: negative in the source
    want = (run.present_country[day("2023-12-31"), geo] - run.present_country[day("2022-12-31"), geo]) * s
    assert predict(obs, run, ctx) == pytest.approx(want)
    # the change equals arrivals - onward departures - returns from the country, day by day
    lo, hi = day("2023-01-01"), day("2023-12-31")
    returns = ev.observation("OBS162")
    ret_geo = predict(dataclasses.replace(returns, destination="GEO", period_start=dt.date(2023, 1, 1),
                                          period_end=dt.date(2023, 12, 31)), run, ctx)
    flows = (run.arrivals[lo : hi + 1, geo].sum() - run.onward[lo : hi + 1, geo].sum()) * s - ret_geo
    assert flows == pytest.approx(want)


def test_returns_by_country_add_up_to_the_national_returns(run, ev, ctx):
    obs = ev.observation("OBS162")  # returns from Israel, 24 Feb - 25 Apr 2022
    assert read_observation(obs, ctx).operator == "returns_from"
    total = 0.0
    for iso in ctx.countries[1:]:
        total += predict(dataclasses.replace(obs, destination=iso, period_end=dt.date(2023, 12, 31)), run, ctx)
    assert total == pytest.approx(run.nat[:, col("returns")].sum() * run.scale)
    assert predict(obs, run, ctx) >= 0


def test_fsb_exits_are_emigrant_crossings_plus_ordinary_travel(run, ev, ctx):
    obs = ev.observation("OBS063")  # FSB: trips to Turkey, Q3 2022
    th = default_theta()
    # to Turkey: flights open all quarter, the sea link closed -> ordinary = 2019 Q3 flights x level 2022, x the
    # year's scale (trips that could not go to the closed destinations went to the open ones)
    scale = ctx.travel_scale(resolve_theta(None, 1), 2022)[0]
    assert scale > 1.0
    ordinary = fsb_2019("TUR", 3, ("Air",)) * th["travel_level_2022"] * scale
    tur = c(run, "TUR")
    links = [k for k, lid in enumerate(run.link_ids) if ctx.exit_country[k] == tur]
    assert {ctx.link_mode[k] for k in links} == {"air", "sea"}
    emigrants = run.link_out[day("2022-07-01") : day("2022-09-30") + 1][:, links].sum() * run.scale
    assert predict(obs, run, ctx) == pytest.approx(emigrants + ordinary, rel=1e-9)
    assert emigrants > 0
    # the travel level scales the ordinary part only
    p2 = predict(obs, run, ctx, {"travel_level_2022": 2 * th["travel_level_2022"]})
    assert p2 == pytest.approx(emigrants + 2 * ordinary, rel=1e-9)


def test_men_only_exits_use_the_male_departures(run, ev, ctx):
    obs = ev.observation("OBS011")  # men only, 21-24 Sep 2022, all destinations
    rd = read_observation(obs, ctx)
    assert rd.group == "sex=male"
    g = run.groups.index("sex=male")
    men = run.dep_by[day("2022-09-21") : day("2022-09-24") + 1, g].sum() * run.scale
    th = resolve_theta(None, 1)
    ordinary = ctx.ordinary_trips("ALL", dt.date(2022, 9, 21), dt.date(2022, 9, 24), th)[0] * 0.5
    assert predict(obs, run, ctx) == pytest.approx(men + ordinary)


def test_destination_entries(run, ev, ctx):
    s = run.scale
    geo = c(run, "GEO")
    th = default_theta()
    d = day("2022-09-25")
    obs = ev.observation("OBS070")  # Georgian MVD, entries on 25 Sep 2022
    # emigrant entries: the simulator's entries (first entries, transits, onward arrivals); one per border run
    assert run.entries is not None and run.entries[d, geo] >= run.arrivals[d, geo] > 0
    emigrants = (run.entries[d, geo] + run.visa_runs[d, geo]) * s
    # ordinary: the 2019 demand of the quarter, whatever the route (no direct flights in 2022)
    # at the level of Georgia's own count of visitors from Russia (GNTA, Q3 2019: 378,200) rather than the
    # FSB's trips there in the same quarter
    ordinary = (fsb_2019("GEO", 3) / 92 * th["travel_level_2022"] * (378200 / fsb_2019("GEO", 3))
                * ctx.travel_scale(resolve_theta(None, 1), 2022)[0])
    assert predict(obs, run, ctx) == pytest.approx(emigrants + ordinary, rel=1e-9)
    # a 24-hour window over two dates is a daily count: half the two-day total
    two = ev.observation("OBS072")
    assert read_observation(two, ctx).per_day
    both = fake(ev, "OBS072", notes="two days")
    assert predict(two, run, ctx) == pytest.approx(predict(both, run, ctx) / 2)
    # a peak daily count is at most the window's total and at least its mean
    peak = ev.observation("OBS096")
    assert read_observation(peak, ctx).peak and peak.bound == "upper"
    total = predict(fake(ev, "OBS096", notes="entries"), run, ctx)
    assert total / 9 <= predict(peak, run, ctx) <= total


def test_land_border_counts_follow_closures(run, ev, ctx):
    obs = ev.observation("OBS047")  # Frontex: entries by the EU's land borders
    rd = read_observation(obs, ctx)
    assert rd.modes == ("Car", "Rail", "Walk")
    th = resolve_theta(None, 1)
    a, b = obs.period_start, obs.period_end
    land = ctx.ordinary_trips("EUU", a, b, th, rd.modes, closures=True)[0]
    assert 0 < land < ctx.ordinary_trips("EUU", a, b, th, rd.modes, closures=False)[0]
    st = ctx.mode_state("FIN")
    car = FSB_MODES.index("Car")
    assert st[day("2022-04-01"), car] == 1 and st[day("2022-08-01"), car] == 2  # order 763-r until 15 Jul
    geo_air = ctx.mode_state("GEO")[:, FSB_MODES.index("Air")]
    assert geo_air[day("2022-06-01")] == 0 and geo_air[day("2023-06-01")] == 2  # flights back 15 May 2023
    ita_air = ctx.mode_state("ITA")[:, FSB_MODES.index("Air")]  # not routed: follows the EU airspace
    assert ita_air[0] == 2 and ita_air[day("2022-03-01")] == 0


def test_frontex_series_counts_land_crossings(run, ev, ctx):
    """Frontex's 2022 counts of Russians entering the EU are one land-border series (readings.LAND_SERIES):
    998,085 to 22 Aug (OBS239) and 1,303,000 "through its land borders" to 25 Sep (OBS047). Read as all modes,
    the shorter window predicted 2.5 times the longer one (the flights through hubs the series never counted)."""
    from emigre.observe.readings import LAND_SERIES

    assert {f"OBS{n:03d}" for n in (49, *range(239, 248))} == LAND_SERIES
    for oid in sorted(LAND_SERIES):
        assert read_observation(ev.observation(oid), ctx).modes == ("Car", "Rail", "Walk"), oid
    aug, sep = ev.observation("OBS239"), ev.observation("OBS047")
    p_aug, p_sep = predict_parts(aug, [run], ctx), predict_parts(sep, [run], ctx)
    assert p_aug["ordinary_trips"][0] < p_sep["ordinary_trips"][0]
    assert p_aug["wave"][0] <= p_sep["wave"][0]
    assert predict(aug, run, ctx) < predict(sep, run, ctx)
    # the same row read as all modes: the ordinary trips at the destination stand whatever the closures, and the
    # EU's arrivals through hubs more than double the count (the misreading, kept here as the contrast)
    every = dataclasses.replace(aug, id="OBS999", notes="Frontex entries, all modes")
    assert read_observation(every, ctx).modes is None
    assert predict_parts(every, [run], ctx)["ordinary_trips"][0] > 2 * p_aug["ordinary_trips"][0]
    # the EU states' rows of the same window sum to at most the EU's (Norway is not in the EU's area)
    states = sum(predict(ev.observation(f"OBS{n}"), run, ctx) for n in (240, 241, 244, 245, 246))
    assert 0.5 * predict(aug, run, ctx) < states <= predict(aug, run, ctx)


def test_ordinary_travel_by_hand_without_closures(ctx):
    th = resolve_theta({"travel_level_2022": 0.5, "travel_level_eu": 0.4}, 1)
    got = ctx.ordinary_trips("ALL", dt.date(2022, 1, 1), dt.date(2022, 3, 31), th, closures=False)[0]
    from emigre.baselines import fsb_quarterly

    fsb = ctx.fsb
    eu = sum(v[0].sum() for k, v in fsb.items() if k in EU_SCHENGEN)
    other = sum(v[0].sum() for k, v in fsb.items() if k not in EU_SCHENGEN)
    assert got == pytest.approx(0.5 * (other + 0.4 * eu) * ctx.travel_scale(th, 2022)[0])
    # FSB Q1 2019, all destinations, with Egypt's Q1 2014 (flights banned 2015-2021) in place of its Q1 2019
    assert fsb_quarterly(2019)["EGY"][0].sum() == 6976 and fsb["EGY"][0].sum() == 623207
    assert other + eu == pytest.approx(8375355 - 6976 + 623207)
    assert days_by_year_quarter(dt.date(2021, 12, 30), dt.date(2022, 4, 2)) == {(2021, 3): 2, (2022, 0): 90,
                                                                                 (2022, 1): 2}


def test_destination_travel_levels_scale_their_own_trips_and_sum_into_all(ctx):
    """A destination's own level multiplies its trips from 2022 (not before) against every other destination's:
    the year's trips to all destinations stay at the year's level (``travel_scale``), so a count for all
    destinations is the sum of its destinations at their levels and a higher level somewhere takes trips from
    the others."""
    a, b = dt.date(2022, 1, 1), dt.date(2022, 3, 31)
    base = resolve_theta({"travel_level_2022": 0.5}, 1)
    up = resolve_theta({"travel_level_2022": 0.5, "travel_level_ARE": 3.0, "travel_level_FIN": 0.25}, 1)
    fsb = ctx.fsb
    s_base, s_up = ctx.travel_scale(base, 2022)[0], ctx.travel_scale(up, 2022)[0]
    assert s_up < s_base  # the UAE's tripled trips weigh more than Finland's lost three quarters
    for iso, f in (("ARE", 3.0), ("TUR", 1.0)):
        got = ctx.ordinary_trips(iso, a, b, up, closures=False)[0]
        assert got == pytest.approx(f * s_up / s_base * ctx.ordinary_trips(iso, a, b, base, closures=False)[0])
        assert got == pytest.approx(0.5 * f * s_up * fsb[iso][0].sum())
    eu = base["travel_level_eu"][0]
    assert ctx.ordinary_trips("FIN", a, b, up, closures=False)[0] == pytest.approx(
        0.5 * eu * 0.25 * s_up * fsb["FIN"][0].sum())
    # ALL: every destination at its level
    others = sum(v[0].sum() for k, v in fsb.items() if k not in EU_SCHENGEN)
    eu_trips = sum(v[0].sum() for k, v in fsb.items() if k in EU_SCHENGEN)
    all_up = ctx.ordinary_trips("ALL", a, b, up, closures=False)[0]
    assert all_up == pytest.approx(0.5 * s_up * (others + 2.0 * fsb["ARE"][0].sum()
                                                  + eu * (eu_trips - 0.75 * fsb["FIN"][0].sum())))
    # before 2022 the pre-war pattern stands whatever the level
    q4 = dt.date(2021, 10, 1), dt.date(2021, 12, 31)
    assert ctx.ordinary_trips("ARE", *q4, up, closures=False)[0] == pytest.approx(fsb["ARE"][3].sum())


def test_the_years_level_is_the_level_of_all_trips(ctx):
    """Whatever the destination levels, the EU's level, the restricted modes and the closures, the year's trips
    to all destinations at the Russian border (the FSB's count, closures applied) are ``travel_level_<year>``
    x the 2019 trips (Egypt: 2014's), by hand from the FSB pattern; a closure moves trips to the destinations
    still open instead of losing them."""
    total_2019 = sum(v.sum() for v in ctx.fsb.values())
    for theta in ({"travel_level_2022": 0.5, "travel_level_2023": 0.7},
                  {"travel_level_2022": 0.4, "travel_level_2023": 0.9, "travel_level_eu": 0.1, "travel_level_ARE": 4.0,
                   "travel_level_TUR": 0.5, "travel_change_2023_TUR": 2.0, "ordinary_restricted_share": 0.05}):
        th = resolve_theta(theta, 1)
        for year in (2022, 2023):
            got = ctx.ordinary_trips("ALL", dt.date(year, 1, 1), dt.date(year, 12, 31), th)[0]
            assert got == pytest.approx(th[f"travel_level_{year}"][0] * total_2019, rel=1e-12)
    # 2021: no scale, the pattern itself
    th = resolve_theta(None, 1)
    assert ctx.travel_scale(th, 2021)[0] == 1.0
    # the EU's airspace closed from 28 Feb 2022: the FSB's trips to Turkey in Q3 2022 are more than the 2019
    # demand at the year's level (those who would have flown to the EU went elsewhere), by the year's scale
    q3 = dt.date(2022, 7, 1), dt.date(2022, 9, 30)
    tur = ctx.ordinary_trips("TUR", *q3, th)[0]
    assert tur == pytest.approx(th["travel_level_2022"][0] * ctx.travel_scale(th, 2022)[0]
                                * ctx.fsb["TUR"][2, FSB_MODES.index("Air")])
    assert ctx.travel_scale(th, 2022)[0] > 1.2


def test_a_destination_change_of_2023_scales_its_2023_trips_only(ctx):
    """``travel_change_2023_<ISO>`` multiplies that destination's trips from 2023 (on top of its own level and
    the year's) against the other destinations' 2023 trips, not its 2022 trips."""
    fsb = ctx.fsb
    base = resolve_theta({"travel_level_2023": 0.6, "travel_level_THA": 2.0}, 1)
    up = resolve_theta({"travel_level_2023": 0.6, "travel_level_THA": 2.0, "travel_change_2023_THA": 0.5}, 1)
    y23 = dt.date(2023, 1, 1), dt.date(2023, 3, 31)
    y22 = dt.date(2022, 1, 1), dt.date(2022, 3, 31)
    s_base, s_up = ctx.travel_scale(base, 2023)[0], ctx.travel_scale(up, 2023)[0]
    assert s_up > s_base  # Thailand's halved trips went elsewhere
    assert ctx.travel_scale(up, 2022)[0] == ctx.travel_scale(base, 2022)[0]
    got = ctx.ordinary_trips("THA", *y23, up, closures=False)[0]
    assert got == pytest.approx(0.6 * 2.0 * 0.5 * s_up * fsb["THA"][0].sum())
    assert got == pytest.approx(0.5 * s_up / s_base * ctx.ordinary_trips("THA", *y23, base, closures=False)[0])
    assert ctx.ordinary_trips("THA", *y22, up, closures=False)[0] == pytest.approx(
        ctx.ordinary_trips("THA", *y22, base, closures=False)[0])
    assert ctx.ordinary_trips("TUR", *y23, up, closures=False)[0] == pytest.approx(
        s_up / s_base * ctx.ordinary_trips("TUR", *y23, base, closures=False)[0])


def test_residence_permits_issued_with_a_lag(run, ev, ctx):
    obs = ev.observation("OBS039")  # Eurostat first permits, Germany, 2022
    predict = _wave_part
    deu = c(run, "DEU")
    lag = 60
    hi = day("2022-12-31") - lag
    want = run.regularised[: hi + 1, deu].sum() * run.scale
    assert predict(obs, run, ctx, {"permit_lag_days": lag}) == pytest.approx(want)
    assert predict(obs, run, ctx, {"permit_lag_days": 0}) == pytest.approx(
        run.regularised[: day("2022-12-31") + 1, deu].sum() * run.scale)
    # applications (OBS130, March 2023) have no issuing lag
    app = ev.observation("OBS130")
    assert read_observation(app, ctx).lag is False
    srb = c(run, "SRB")
    assert predict(app, run, ctx, {"permit_lag_days": 120}) == pytest.approx(
        run.regularised[day("2023-03-01") : day("2023-03-31") + 1, srb].sum() * run.scale)
    # EUU: all EU members of the scenario
    eu = [c(run, x) for x in ctx.countries if x in ctx.eu_members]
    assert predict(ev.observation("OBS038"), run, ctx, {"permit_lag_days": lag}) == pytest.approx(
        run.regularised[: hi + 1, eu].sum() * run.scale)


def _wave_part(obs, run, ctx, theta):
    """The permits of the simulated wave alone (no background outside it)."""
    return float(predict_parts(obs, [run], ctx, theta)["wave"][0])


def test_permits_issued_include_the_pre_war_level_where_sourced(run, ev, ctx):
    obs = ev.observation("OBS039")  # Germany 2022: Eurostat first permits 2018, 2019, 2021 in the baselines
    th = {"permit_lag_days": 60, "permits_prewar_level": 1.2}
    parts = predict_parts(obs, [run], ctx, th)
    assert set(parts) == {"wave", "prewar_permits"}
    assert parts["prewar_permits"][0] == pytest.approx(1.2 * (13248 + 12499 + 13354) / 3)
    assert predict(obs, run, ctx, th) == pytest.approx(parts["wave"][0] + parts["prewar_permits"][0])
    # the share parameter does not touch a destination with a sourced level
    assert predict(obs, run, ctx, {**th, "permits_background_share": 0.8}) == pytest.approx(
        predict(obs, run, ctx, th))
    # nor a count of permits granted since the war only (OBS129, Serbia)
    since = ev.observation("OBS129")
    assert set(predict_parts(since, [run], ctx)) == {"wave"}


def test_poland_permits_take_its_share_of_the_eu_level_with_that_key_s_error(run, ev, ctx):
    from emigre.observe.prewar import packaged_prewar

    obs = ev.observation("OBS041")  # Poland 2022: no Eurostat level of its own; its visa share of the EU's
    lv = packaged_prewar().first_permits("POL")
    th = {"permit_lag_days": 60, "permits_prewar_level": 0.9}
    parts = predict_parts(obs, [run], ctx, th)
    assert set(parts) == {"wave", "prewar_permits"}
    assert parts["prewar_permits"][0] == pytest.approx(0.9 * lv.value)  # a whole year
    rd = read_observation(obs, ctx)
    assert rd.extra_sigma == pytest.approx(lv.sigma) and lv.sigma > PREWAR_ISSUED_SIGMA
    # Germany keeps its own level and the year-to-year error
    assert read_observation(ev.observation("OBS039"), ctx).extra_sigma == PREWAR_ISSUED_SIGMA


def test_montenegro_residences_count_the_pre_war_holders_the_source_states(run, ev, ctx):
    obs = ev.observation("OBS251")  # 8,157 temporary + 4,269 extended temporary + 1,146 permanent (10 Oct 2022)
    for level in (0.5, 2.0):  # the source's own count, not the UN DESA proxy x prewar_holders_level
        parts = predict_parts(obs, [run], ctx, {"prewar_holders_level": level})
        assert set(parts) == {"wave", "prewar_holders"}
        assert parts["prewar_holders"][0] == 4269 + 1146
    assert parts["wave"][0] > 0


def test_permits_issued_include_a_background_outside_the_wave(run, ev, ctx):
    obs = ev.observation("OBS101")  # Kazakhstan 2022: no pre-war level sourced
    wave = _wave_part(obs, run, ctx, {"permit_lag_days": 60})
    assert wave > 0
    for share in (0.25, 0.5, 0.8):
        got = predict(obs, run, ctx, {"permit_lag_days": 60, "permits_background_share": share})
        assert got == pytest.approx(wave / (1 - share))
    # the default is the prior's centre: 40% of the permits outside the wave
    assert predict(obs, run, ctx, {"permit_lag_days": 60}) == pytest.approx(wave / 0.6)


def _lagged(arr: np.ndarray, lo: int, hi: int, mean: float) -> float:
    """Applications in days lo..hi from daily arrivals ``arr`` with a whole-day geometric delay of e-folding
    time ``mean``, summed the slow way: every arrival day, every delay."""
    q = 1.0 - math.exp(-1.0 / mean)
    total = 0.0
    for s_ in range(min(hi, len(arr) - 1) + 1):
        p = sum(math.exp(-k / mean) * q for k in range(max(lo - s_, 0), hi - s_ + 1))
        total += arr[s_] * p
    return total


def test_asylum_is_a_propensity_times_arrivals(run, ev, ctx):
    s = run.scale
    deu = c(run, "DEU")
    obs = ev.observation("OBS035")  # BAMF, Germany, Q1 2023
    lo, hi = day("2023-01-01"), day("2023-03-31")
    arr = run.arrivals[lo : hi + 1, deu].sum() * s
    # a mean delay below half a day: the arrivals of the period themselves
    assert predict(obs, run, ctx, {"asylum_propensity_eu": 0.3, "asylum_lag_days": 0}) == pytest.approx(0.3 * arr)
    # an exponential delay: every earlier day's arrivals apply in Q1 2023 with the chance their delay lands there
    daily = run.arrivals[:, deu].astype(float) * s
    want = _lagged(daily, lo, hi, 100.0)
    assert predict(obs, run, ctx, {"asylum_propensity_eu": 0.3, "asylum_lag_days": 100}) == pytest.approx(0.3 * want)
    assert want > arr  # the mobilization's arrivals (autumn 2022) still apply in 2023
    # one value per result: two draws of the delay on the same run give the two predictions
    both = predict_many(obs, [run, run], ctx, {"asylum_propensity_eu": 0.3, "asylum_lag_days": np.array([0.0, 100.0])})
    assert both == pytest.approx([0.3 * arr, 0.3 * want])
    # Finland's applications after the mobilization (OBS119, 21 Sep - 30 Nov 2022): those who came that autumn,
    # whatever the mean delay, and the share applying within the window falls as the delay grows
    fin = ev.observation("OBS119")
    f = c(run, "FIN")
    flo, fhi = day("2022-09-21"), day("2022-11-30")
    fdaily = run.arrivals[:, f].astype(float) * s
    short = predict(fin, run, ctx, {"asylum_propensity_eu": 1.0, "asylum_lag_days": 10})
    long = predict(fin, run, ctx, {"asylum_propensity_eu": 1.0, "asylum_lag_days": 150})
    assert short == pytest.approx(_lagged(fdaily, flo, fhi, 10.0)) and long == pytest.approx(_lagged(fdaily, flo, fhi, 150.0))
    assert fdaily[flo : fhi + 1].sum() > 0 and short > long
    # a period before the run's first arrivals counts nothing, and one starting before the war counts from day 0
    early = fake(ev, "OBS035", period_start=dt.date(2022, 1, 1), period_end=dt.date(2022, 3, 31))
    assert predict(early, run, ctx, {"asylum_propensity_eu": 1.0, "asylum_lag_days": 20}) == pytest.approx(
        _lagged(daily, 0, day("2022-03-31"), 20.0))
    assert read_observation(obs, ctx).group is None  # "64% male" is a composition, not "men only"
    men = ev.observation("OBS036")  # men 18-45 only: the men's share of the departures of the days counted
    assert read_observation(men, ctx).group == "sex=male"
    g = run.groups.index("sex=male")
    mhi = day("2023-04-30")
    for lag in (0.0, 45.0):
        wt = (np.arange(mhi + 1) >= 0).astype(float) if lag == 0 else np.array(
            [_lagged(np.eye(1, mhi + 1, k)[0], 0, mhi, lag) for k in range(mhi + 1)])
        share = (run.dep_by[: mhi + 1, g] @ wt) / (run.nat[: mhi + 1, col("departures")] @ wt)
        got = predict(men, run, ctx, {"asylum_lag_days": lag})
        assert got == pytest.approx(0.2 * (daily[: mhi + 1] @ wt) * share)
    # the default mean delay is the prior's centre, 90 days
    assert predict(obs, run, ctx) == pytest.approx(predict(obs, run, ctx, {"asylum_lag_days": 90}))
    usa = ev.observation("OBS152")  # CBP encounters at the Mexican border: arrivals in Mexico or the USA
    both = [c(run, "USA"), c(run, "MEX")]
    arr = run.arrivals[day("2023-01-01") : day("2023-01-31") + 1, both].sum() * s
    # encounters are on arrival: no lag whatever asylum_lag_days says
    parts = predict_parts(usa, [run], ctx, {"asylum_propensity_usa": 2.0, "asylum_prewar_level_usa": 0.5,
                                            "asylum_lag_days": 150})
    assert parts["wave"][0] == pytest.approx(2.0 * arr)
    # plus encounters at the pre-war rate: FY2021, 13,240 Russians nationwide, over January's 31 days
    assert parts["prewar_encounters"][0] == pytest.approx(0.5 * 13240 * 31 / 365)


def test_it_specialists_and_percentages(run, ev, ctx):
    s = run.scale
    g = run.groups.index("it=yes")
    hi = day("2022-12-31")
    it_left = fake(ev, "OBS003", kind="it_specialists_left", notes="IT specialists who left",
                   period_end=dt.date(2022, 12, 31))
    assert predict(it_left, run, ctx) == pytest.approx(run.dep_by[: hi + 1, g].sum() * s)
    it_share = dataclasses.replace(it_left, unit="percent", quantity=10, notes="PERCENT of IT specialists")
    want = 100 * run.dep_by[: hi + 1, g].sum() / run.nat[: hi + 1, col("departures")].sum()
    assert predict(it_share, run, ctx) == pytest.approx(want)
    assert 0 < want < 100
    # return shares (OBS158: "half have returned", June 2023)
    d = day("2023-06-16")
    share = 100 * run.nat[d, col("returned_cum")] / run.nat[d, col("departed_cum")]
    assert predict(ev.observation("OBS158"), run, ctx) == pytest.approx(share)
    # share of men among those who left, from a survey-like row
    men = dataclasses.replace(it_share, kind="other", notes="PERCENT men among emigrants")
    assert read_observation(men, ctx).group == "sex=male"
    # SIM cards back (all travellers): tourists come back, so the share is above the emigrants'
    sim = ev.observation("OBS157")
    d = day("2022-05-15")
    emig = 100 * run.nat[d, col("returned_cum")] / run.nat[d, col("departed_cum")]
    assert emig < predict(sim, run, ctx) < 100


def test_queue_in_vehicles(run, ev, ctx):
    obs = ev.observation("OBS074")
    k = run.link_ids.index("road:Upper-Lars-Tbilisi")
    want = run.queue[day("2022-09-27"), k] * run.scale / 2.5
    assert predict(obs, run, ctx) == pytest.approx(want)


def test_predict_many_is_one_value_per_result_with_theta_per_result(run, run2, ev, ctx):
    pair = [run, run2]
    th = {"travel_level_2022": np.array([0.4, 0.7]), "permit_lag_days": np.array([10.0, 90.0])}
    for oid in ("OBS003", "OBS050", "OBS070", "OBS039", "OBS122", "OBS081", "OBS158"):
        obs = ev.observation(oid)
        many = predict_many(obs, pair, ctx, th)
        assert many.shape == (2,)
        one = [predict(obs, r, ctx, {k: v[i] for k, v in th.items()}) for i, r in enumerate(pair)]
        assert many == pytest.approx(one), oid
    allp = predict_all(ev.observations, pair, ctx, th)
    assert len(allp) == 141 and all(v.shape == (2,) for v in allp.values())
    assert np.isfinite(np.concatenate(list(allp.values()))).all()
    with pytest.raises(EmigreError, match="one value or 2 values"):
        predict_many(ev.observation("OBS003"), pair, ctx, {"travel_level_2022": [1.0, 2.0, 3.0]})


def test_periods_after_the_run_are_refused(ev, ctx):
    short = simulate("russia-2022", seed=SEED, scale=200.0, end="2022-06-30")
    with pytest.raises(EmigreError, match="after the simulated period"):
        predict(ev.observation("OBS003"), short, ctx)
    assert set(predict_all(ev.observations, [short], ctx)) <= {
        o.id for o in ev.observations if o.period_end <= dt.date(2022, 6, 30)}


# ---------------------------------------------------------------------- likelihood
def test_t3_distribution():
    z = np.linspace(-60, 60, 240_001)
    pdf = np.exp(t3_logpdf(z))
    assert np.trapezoid(pdf, z) == pytest.approx(1.0, abs=2e-3)
    for x in (-3.0, -0.5, 0.0, 1.0, 4.0):
        m = z <= x
        assert t3_cdf(x) == pytest.approx(np.trapezoid(pdf[m], z[m]) + (1 - np.trapezoid(pdf, z)) / 2, abs=1e-4)
    # far tails: finite and continuous between the direct formula and the series
    assert np.isfinite(t3_logcdf(-1e6))
    assert t3_logcdf(-1731.0) == pytest.approx(t3_logcdf(-1733.0), abs=0.01)
    assert t3_logcdf(-1e4) == pytest.approx(math.log(2 * math.sqrt(3) / math.pi) - 3 * math.log(1e4), abs=1e-3)


def test_quality_classes(ev):
    assert quality_class(ev.observation("OBS050")) == "official"  # FSB Border Service
    assert quality_class(ev.observation("OBS092")) == "official"  # deputy interior minister quoting counts
    assert quality_class(ev.observation("OBS007")) == "estimate"  # PONARS memo
    assert quality_class(ev.observation("OBS001")) == "weak"  # Wikipedia
    assert quality_class(ev.observation("OBS008")) == "statement"  # anonymous sources
    assert quality_class(ev.observation("OBS082")) == "statement"  # political statement
    assert quality_class(ev.observation("OBS129")) == "statement"  # a president's figure
    assert QUALITY_SCALES["official"] < QUALITY_SCALES["estimate"] < QUALITY_SCALES["weak"] < QUALITY_SCALES[
        "statement"]


def test_ordinary_error_follows_the_area_for_rules_and_hand_readings(ev, ctx):
    # one rule for every reading whose own error is ordinary travel's: 0.4 where every destination of the
    # area has a travel level of its own, 0.8 otherwise; all destinations together keep the FSB totals' 0.3
    assert ordinary_sigma("GEO") == ORDINARY_SIGMA_DEST
    assert ordinary_sigma(("EST", "FIN")) == ORDINARY_SIGMA_DEST
    assert ordinary_sigma(("GEO", "ISR")) == ORDINARY_SIGMA  # Israel has no level: the area's error is 0.8
    assert ordinary_sigma("EUU") == ordinary_sigma(None) == ORDINARY_SIGMA
    expected = {
        "OBS242": ORDINARY_SIGMA_DEST,  # by hand: Frontex returns via Estonia (level of its own)
        "OBS048": ORDINARY_SIGMA,  # by hand: returns at all EU land borders (no level for the EU)
        "OBS010": ORDINARY_SIGMA,  # by hand: KAZ, GEO, FIN and Mongolia (no level)
        "OBS063": ORDINARY_SIGMA_DEST,  # by rule: FSB trips to Turkey
        "OBS205": ORDINARY_SIGMA,  # by rule: FSB trips to Tajikistan
        "OBS050": ORDINARY_SIGMA_ALL,  # by rule: FSB trips to all destinations
    }
    got = {i: read_observation(ev.observation(i), ctx).extra_sigma for i in expected}
    assert got == pytest.approx(expected)


def test_loglik_point_is_monotone_in_distance_with_heavy_tails(ev, ctx):
    obs = ev.observation("OBS050")  # official point value, 3.88 mln
    rd = read_observation(obs, ctx)
    # all destinations: the ordinary part's error is the season's, per-country shifts cancel
    assert error_scale(obs, rd) == pytest.approx(math.hypot(0.2, ORDINARY_SIGMA_ALL))
    one = ev.observation("OBS063")  # FSB trips to Turkey: its own travel level; the season's shift (and the
    # wave's share) count
    assert error_scale(one, read_observation(one, ctx)) == pytest.approx(math.sqrt(
        0.2**2 + ORDINARY_SIGMA_DEST**2 + (DESTINATION_SIGMA * read_observation(one, ctx).wave_share) ** 2))
    other = ev.observation("OBS205")  # FSB trips to Tajikistan: no level of its own, per-country shifts count
    assert error_scale(other, read_observation(other, ctx)) == pytest.approx(math.sqrt(
        0.2**2 + ORDINARY_SIGMA**2 + (DESTINATION_SIGMA * read_observation(other, ctx).wave_share) ** 2))
    x = obs.quantity
    up = [loglik(obs, x * f, world_ctx=ctx) for f in (1, 1.2, 1.5, 2, 4, 10, 100)]
    down = [loglik(obs, x / f, world_ctx=ctx) for f in (1, 1.2, 1.5, 2, 4, 10, 100)]
    assert all(a > b for a, b in zip(up, up[1:], strict=False))
    assert all(a > b for a, b in zip(down, down[1:], strict=False))
    assert up[1] == pytest.approx(down[1], abs=0.05)  # symmetric on the log scale
    # heavy tails: 100x off costs a few log units more than 10x off (a Gaussian: ~60)
    assert up[5] - up[6] < 5
    # vectorised over an ensemble
    arr = loglik(obs, np.array([x, 2 * x]), world_ctx=ctx)
    assert arr.shape == (2,) and arr[0] == pytest.approx(up[0]) and arr[1] == pytest.approx(up[3])


def test_figures_of_some_destinations_carry_the_destination_models_discrepancy(ev, ctx):
    """A national total has the source's error only; a figure for one country (or a group) adds the
    destination model's discrepancy, so small-country misfits do not outweigh the national totals."""
    total = ev.observation("OBS014")  # departures net of returns, all destinations: estimate class
    assert error_scale(total, read_observation(total, ctx)) == pytest.approx(QUALITY_SCALES["estimate"])
    usa = ev.observation("OBS152")  # US border encounters: official
    # the discrepancy is the wave's: scaled by its expected share of the figure, 1 - (encounters at the
    # FY2021 rate over January 2023: 13,240 x 31 / 365) / 4,509 published
    share = 1 - 13240 * 31 / 365 / 4509
    assert read_observation(usa, ctx).wave_share == pytest.approx(share)
    assert error_scale(usa, read_observation(usa, ctx)) == pytest.approx(
        math.hypot(QUALITY_SCALES["official"], DESTINATION_SIGMA * share))
    # German first permits 2022: the pre-war level (13,034 a year) is most of the 16,066; its own error is the
    # year-to-year spread of that level
    deu = ev.observation("OBS039")
    rd = read_observation(deu, ctx)
    share = 1 - (13248 + 12499 + 13354) / 3 / 16066
    assert rd.wave_share == pytest.approx(share) and rd.extra_sigma == PREWAR_ISSUED_SIGMA
    assert error_scale(deu, rd) == pytest.approx(
        math.sqrt(QUALITY_SCALES["official"] ** 2 + PREWAR_ISSUED_SIGMA**2 + (DESTINATION_SIGMA * share) ** 2))
    # a figure the baselines alone exceed keeps a tenth of the discrepancy
    assert read_observation(ev.observation("OBS210"), ctx).wave_share == pytest.approx(0.1)
    arm = ev.observation("OBS089")  # Armenia's net entries 2023: official + net-flow model error
    assert error_scale(arm, read_observation(arm, ctx)) == pytest.approx(
        math.sqrt(QUALITY_SCALES["official"] ** 2 + NET_SIGMA**2 + DESTINATION_SIGMA**2))
    # a 3x miss costs a national total more than the same miss of a one-country official count
    drop_total = loglik(total, 600_000, world_ctx=ctx) - loglik(total, 1_800_000, world_ctx=ctx)
    geo = ev.observation("OBS068")  # Georgian MVD: arrived and still there, all of it the wave's
    assert read_observation(geo, ctx).wave_share == 1.0
    drop_geo = loglik(geo, geo.quantity, world_ctx=ctx) - loglik(geo, geo.quantity / 3, world_ctx=ctx)
    assert drop_total > drop_geo > 0


def test_anonymous_sources_get_a_wider_error(ev, ctx):
    anon = ev.observation("OBS009")  # 1 mln, anonymous, outlier
    official = fake(ev, "OBS009", publisher="Rosstat", quality_flags=())
    assert quality_class(official) == "official"
    for f in (3, 10):  # far from the figure: the anonymous one costs less
        assert loglik(anon, 1e6 / f, world_ctx=ctx) > loglik(official, 1e6 / f, world_ctx=ctx) + 1
    assert loglik(official, 1e6, world_ctx=ctx) > loglik(anon, 1e6, world_ctx=ctx)  # and is sharper at it


def test_bounds_are_censored_and_ranges_are_intervals(ev, ctx):
    lower = ev.observation("OBS013")  # more than 500,000
    assert lower.bound == "lower"
    right = [loglik(lower, v, world_ctx=ctx) for v in (1e6, 5e6, 5e7)]
    # flat on the right side: it tends to 0 (t tails: slowly) and never penalises more than at the bound
    assert right[0] < right[1] < right[2] < 0
    assert right[1] > -0.02 and right[2] > -0.005
    left = [loglik(lower, v, world_ctx=ctx) for v in (5e5, 3e5, 1e5, 1e4)]
    assert left[0] == pytest.approx(math.log(0.5), abs=1e-9)
    assert all(a > b for a, b in zip(left, left[1:], strict=False))
    upper = ev.observation("OBS005")  # as many as 200,000
    assert upper.bound == "upper"
    assert loglik(upper, 1e3, world_ctx=ctx) > -0.01 and loglik(upper, 1e6, world_ctx=ctx) < -1
    rng = ev.observation("OBS014")  # 500,000-700,000
    assert rng.bound == "range"
    mid = loglik(rng, 6e5, world_ctx=ctx)
    assert mid > loglik(rng, 4e5, world_ctx=ctx) > loglik(rng, 2e5, world_ctx=ctx)
    assert mid > loglik(rng, 9e5, world_ctx=ctx) > loglik(rng, 2e6, world_ctx=ctx)
    assert mid < 0  # a probability
    # a wider range is flatter inside
    wide = dataclasses.replace(rng, id="TST014", low=100_000, high=3_000_000)
    assert loglik(wide, 2e5, world_ctx=ctx) > loglik(rng, 2e5, world_ctx=ctx)
    assert loglik(wide, 5.5e5, world_ctx=ctx) > -0.1  # the geometric middle of 100,000-3,000,000


def test_net_figures_may_be_negative(ev, ctx):
    obs = ev.observation("OBS081")  # -30,986
    rd = read_observation(obs, ctx)
    # a net of gross flows 60 times larger: linear up to half the observed magnitude
    assert rd.floor == pytest.approx(30_986 / 2)
    near = loglik(obs, -27_000, world_ctx=ctx)
    assert near > loglik(obs, 0, world_ctx=ctx) > loglik(obs, 27_000, world_ctx=ctx)
    assert np.isfinite(near)
    # the opposite sign at the same magnitude costs a few log units, not the ~14 of a log scale
    assert -8.0 < loglik(obs, 30_986, world_ctx=ctx) - loglik(obs, -30_986, world_ctx=ctx) < -1.0
    # small nets keep the 1,000-person floor
    small = dataclasses.replace(obs, id="TST081", quantity=-800.0)
    assert read_observation(small, ctx).floor == 1000.0
    assert transform(0.0) == 0.0 and transform(1e6) == pytest.approx(math.log(1e6), abs=1e-6)
    assert transform(-5000.0, 1000.0) == -transform(5000.0, 1000.0) + 2 * math.log(1000.0)


def test_total_loglik(run, ev, ctx):
    preds = predict_all(ev.observations, [run], ctx)
    total = total_loglik(ev.observations, preds, world_ctx=ctx)
    parts = {o.id: loglik(o, preds[o.id], world_ctx=ctx) for o in ev.observations if o.id in preds}
    assert len(parts) == 141
    # OBS001 and OBS004 state the same figure (more than 300,000 by 15 March 2022): counted once, half each
    assert total == pytest.approx(sum(parts.values()) - 0.5 * (parts["OBS001"] + parts["OBS004"]))
    assert np.isfinite(total).all()


def test_a_figure_relayed_by_several_rows_counts_once(ev):
    from emigre.observe.likelihood import figure_weights

    o1, o4 = ev.observation("OBS001"), ev.observation("OBS004")
    w = figure_weights(ev.observations)
    assert w["OBS001"] == w["OBS004"] == 0.5
    assert sum(w.values()) == pytest.approx(len(ev.observations) - 1)  # the only such pair in the evidence
    # different figures for the same quantity stay separate estimates (OBS008-010: 0.6-0.7, 1 and 0.3 million)
    assert w["OBS008"] == w["OBS009"] == w["OBS010"] == 1.0
    # three rows of one figure: a third each; without its twin a row counts fully
    o1b = dataclasses.replace(o1, id="X1")
    assert figure_weights([o1, o4, o1b])["X1"] == pytest.approx(1 / 3)
    assert figure_weights([o1])["OBS001"] == 1.0


# ---------------------------------------------------------------------- parameters
def test_observation_parameters(ctx):
    th = resolve_theta(None, 3)
    assert set(th) == set(OBS_PARAMS) and all(v.shape == (3,) for v in th.values())
    with pytest.raises(EmigreError, match="unknown observation parameter"):
        resolve_theta({"travel_level_2021": 1.0}, 1)
    draws = sample_prior(np.random.default_rng(0), 500)
    for name, p in OBS_PARAMS.items():
        assert np.isfinite(p.log_prior(p.default)), name
        assert np.isfinite(p.log_prior(draws[name])).all(), name
    assert np.median(draws["travel_level_2022"]) == pytest.approx(0.55, rel=0.15)
    assert (draws["permit_lag_days"] >= 0).all() and (draws["permit_lag_days"] <= 180).all()


def test_the_years_scale_is_remembered_by_its_parameters_values(ctx):
    """``travel_scale`` is asked for by every figure with ordinary travel: remembered by the values it depends on
    (another level gives another scale, the same values the same read-only array), and a context made from this
    one with other FSB trips (``dataclasses.replace``) does not reuse this one's."""
    base = resolve_theta({"travel_level_2022": 0.5}, 1)
    up = resolve_theta({"travel_level_2022": 0.5, "travel_level_ARE": 3.0}, 1)
    s_base, s_up = ctx.travel_scale(base, 2022), ctx.travel_scale(up, 2022)
    assert s_up[0] != s_base[0]
    assert s_up[0] == ctx._compute_travel_scale(up, 1)[0] and s_base[0] == ctx._compute_travel_scale(base, 1)[0]
    again = ctx.travel_scale(resolve_theta({"travel_level_2022": 0.5, "travel_level_ARE": 3.0}, 1), 2022)
    assert again is s_up and not again.flags.writeable
    no_tur = dataclasses.replace(ctx, fsb={k: v for k, v in ctx.fsb.items() if k != "TUR"})
    assert no_tur.travel_scale(base, 2022)[0] == pytest.approx(no_tur._compute_travel_scale(base, 1)[0])
    assert no_tur.travel_scale(base, 2022)[0] != s_base[0]
