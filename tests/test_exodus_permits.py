"""Permits sought on arrival (issue 11, long-stay legal channels): where a destination grants Russians a permit
(destinations.csv ``permit_route``), a share of arrivals seeks one and applies ``permit_apply_days`` later, before
the stay limit. Each case sets the parameters so that the answer is known exactly."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from emigre.behaviour.exodus import simulate
from emigre.errors import InputError
from emigre.evidence import load_evidence
from emigre.observe import default_context, predict_parts
from emigre.scenario import load_scenario
from emigre.scenario.tables import read_destinations

END = "2022-12-31"
SCALE = 50.0
DELAY = 20
START = dt.date(2022, 2, 24)
# nobody leaves a destination before the stay limit: a seeker's application day is then known exactly
STAY_PUT = {"return_per_year": 0.0, "return_mobilization_per_year": 0.0, "return_temporary_share": 0.0,
            "onward_per_year": 0.0}


def _run(**params):
    return simulate("russia-2022", seed=7, scale=SCALE, end=END, params={**STAY_PUT, **params})


@pytest.fixture(scope="module")
def seek_all():
    # every arrival where permits are applied for in the country seeks one; none through a consulate; no permit
    # at the stay limit, so that every permit counted is a seeker's
    return _run(permit_seek_share=1.0, permit_seek_share_visa=0.0, permit_apply_days=DELAY, regularise_share=0.0)


@pytest.fixture(scope="module")
def seek_none():
    return _run(permit_seek_share=0.0, permit_seek_share_visa=0.0)


def test_every_seeker_applies_on_arrival_day_plus_the_delay(seek_all):
    r = seek_all
    for iso in ("GEO", "ARM", "KAZ"):  # stay limits of 90 days and more: the delay comes first
        k = r.countries.index(iso)
        arr = r.arrivals[:, k].astype(np.int64)
        reg = r.regularised[:, k].astype(np.int64)
        assert arr.sum() > 100, iso
        assert (reg[:DELAY] == 0).all(), iso
        np.testing.assert_array_equal(reg[DELAY:], arr[: len(arr) - DELAY], err_msg=iso)


def test_no_permit_where_none_is_sought_through_that_route(seek_all):
    r = seek_all
    routes = read_destinations(load_scenario("russia-2022").directory / "destinations.csv", set(r.countries))
    for iso in r.countries:
        if routes.get(iso, {}).get("permit_route", "none") != "in_country":
            assert int(r.regularised[:, r.countries.index(iso)].sum()) == 0, iso
    # Israel (repatriates become citizens) and the EU (a consulate's national visa) among them
    assert routes["ISR"]["permit_route"] == "none" and routes["DEU"]["permit_route"] == "visa"


def test_without_seekers_no_permit_before_the_stay_limit(seek_none):
    # Georgia's stay limit is a year: nobody arriving from 24 Feb 2022 reaches it in 2022
    k = seek_none.countries.index("GEO")
    assert int(seek_none.arrivals[:, k].sum()) > 100
    assert int(seek_none.regularised[:, k].sum()) == 0
    # where the limit is short (Serbia: 30 days) the permits at the limit remain
    assert int(seek_none.regularised[:, seek_none.countries.index("SRB")].sum()) > 0


def test_the_permit_operator_counts_the_seekers(seek_all, seek_none):
    obs = load_evidence().observation("OBS085")  # permits to Russians in Georgia, 1 Jan - 15 Aug 2022
    ctx = default_context()
    lag = 30  # the source counts applications (Reading.lag False): no issuing lag
    hi = (obs.period_end - START).days
    geo = seek_all.countries.index("GEO")
    # the seekers of the simulated wave: arrivals up to 15 Aug less the delay
    want = seek_all.arrivals[: hi - DELAY + 1, geo].sum() * seek_all.scale
    got = predict_parts(obs, [seek_all], ctx, {"permit_lag_days": lag})["wave"][0]
    assert want > 1000 and got == pytest.approx(want)
    assert predict_parts(obs, [seek_none], ctx, {"permit_lag_days": lag})["wave"][0] == 0.0


def test_an_unknown_permit_route_is_one_clear_error(tmp_path):
    p = tmp_path / "destinations.csv"
    p.write_text("iso3,russian_speaking,status,region,source,permit_route\nGEO,yes,state,caucasus,x,maybe\n")
    with pytest.raises(InputError) as e:
        read_destinations(p, {"GEO"})
    msg = str(e.value)
    assert "destinations.csv" in msg and "line 2" in msg and "permit_route" in msg and "maybe" in msg
