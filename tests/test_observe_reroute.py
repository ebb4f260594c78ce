"""Ordinary trips rerouted by road when the flights to the EU/Schengen area closed (27 Feb 2022): a share
(``ordinary_reroute_share``) of the trips that had flown to an EU/Schengen destination crosses the road border of
Finland, Estonia, Latvia or Norway instead, each by its share of the 2019 land trips (FSB). The FSB counts them as
trips to that gateway, Frontex as entries at its land border. Each case is computed by hand from the FSB's 2019
pattern."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from emigre.baselines import FSB_MODES
from emigre.observe import default_context
from emigre.observe.context import EU27, EU_SCHENGEN, LAND_GATEWAYS, LAND_MODES
from emigre.observe.params import resolve_theta

Q4 = (dt.date(2022, 10, 1), dt.date(2022, 12, 31))  # every day of the quarter: EU flights closed, roads open
LEVELS = {"travel_level_2022": 0.6, "travel_level_eu": 0.4, "travel_level_FIN": 1.0, "travel_level_EST": 1.0,
          "travel_level_LVA": 1.0, "travel_level_LTU": 1.0}


@pytest.fixture(scope="module")
def ctx():
    return default_context()


def _trips(ctx, code, a, b, share, modes=None, closures=True):
    th = resolve_theta({**LEVELS, "ordinary_reroute_share": share}, 1)
    return float(ctx.ordinary_trips(code, a, b, th, modes, closures=closures)[0])


def _air_q4(ctx, iso):
    return float(ctx.fsb[iso][3, FSB_MODES.index("Air")])


def test_the_gateway_shares_are_the_2019_land_trips(ctx):
    cols = [FSB_MODES.index(m) for m in LAND_MODES]
    land = {g: ctx.fsb[g][:, cols].sum() for g in LAND_GATEWAYS}
    shares = ctx._gateway_shares()
    assert sum(shares.values()) == pytest.approx(1.0)
    for g in LAND_GATEWAYS:
        assert shares[g] == pytest.approx(land[g] / sum(land.values()))
    assert shares["FIN"] > 0.6 and shares["EST"] > 0.3  # Finland's and Estonia's roads carry nearly all


def test_finland_gets_its_own_flights_and_its_share_of_the_others(ctx):
    a, b = Q4
    added = _trips(ctx, "FIN", a, b, 0.7) - _trips(ctx, "FIN", a, b, 0.0)
    others = sum(_air_q4(ctx, d) for d in EU_SCHENGEN & set(ctx.fsb) if d not in LAND_GATEWAYS)
    want = 0.7 * 0.6 * 0.4 * (_air_q4(ctx, "FIN") + ctx._gateway_shares()["FIN"] * others)
    assert want > 100_000 and added == pytest.approx(want, rel=1e-9)
    # linear in the share
    assert _trips(ctx, "FIN", a, b, 0.35) - _trips(ctx, "FIN", a, b, 0.0) == pytest.approx(added / 2, rel=1e-9)


def test_all_trips_grow_by_the_rerouted_flights_of_every_eu_destination(ctx):
    a, b = Q4
    added = _trips(ctx, "ALL", a, b, 1.0) - _trips(ctx, "ALL", a, b, 0.0)
    flown = sum(_air_q4(ctx, d) for d in EU_SCHENGEN & set(ctx.fsb))
    assert added == pytest.approx(0.6 * 0.4 * flown, rel=1e-9)


def test_nothing_is_rerouted_before_the_flights_closed_or_elsewhere(ctx):
    jan = (dt.date(2022, 1, 1), dt.date(2022, 2, 26))
    assert _trips(ctx, "FIN", *jan, 1.0) == _trips(ctx, "FIN", *jan, 0.0)
    for iso in ("DEU", "TUR", "GEO", "LTU"):  # not a gateway: its own count does not change
        assert _trips(ctx, iso, *Q4, 1.0) == _trips(ctx, iso, *Q4, 0.0), iso
    # a count by air only carries no road trip
    assert _trips(ctx, "FIN", *Q4, 1.0, modes=("Air",)) == _trips(ctx, "FIN", *Q4, 0.0, modes=("Air",))


def test_where_the_demand_stands_whatever_the_route_nothing_is_counted_twice(ctx):
    a, b = Q4
    # entries into the EU by any mode keep each destination's 2019 demand: only the Schengen associates'
    # travellers (Norway, Switzerland, ...) who now cross Finland, Estonia or Latvia enter the EU in addition
    added = _trips(ctx, "EUU", a, b, 1.0, closures=False) - _trips(ctx, "EUU", a, b, 0.0, closures=False)
    gates = [g for g in LAND_GATEWAYS if g in EU27]
    assoc = sum(_air_q4(ctx, d) for d in (EU_SCHENGEN - EU27) & set(ctx.fsb) if d not in LAND_GATEWAYS)
    share = sum(ctx._gateway_shares()[g] for g in gates)
    assert added == pytest.approx(0.6 * 0.4 * assoc * share, rel=1e-9)  # Norway's own: through Norway
    # entries at Finland's border by any mode: Finland's own demand stands, the others' rerouted trips add
    fin = _trips(ctx, "FIN", a, b, 1.0, closures=False) - _trips(ctx, "FIN", a, b, 0.0, closures=False)
    others = sum(_air_q4(ctx, d) for d in EU_SCHENGEN & set(ctx.fsb) if d not in LAND_GATEWAYS)
    assert fin == pytest.approx(0.6 * 0.4 * ctx._gateway_shares()["FIN"] * others, rel=1e-9)


def test_the_land_border_count_of_the_eu_carries_the_rerouted_trips(ctx):
    a, b = Q4
    land = _trips(ctx, "EUU", a, b, 1.0, modes=LAND_MODES) - _trips(ctx, "EUU", a, b, 0.0, modes=LAND_MODES)
    gates = [g for g in LAND_GATEWAYS if g in EU27]
    sh = ctx._gateway_shares()
    flown_other = sum(_air_q4(ctx, d) for d in EU_SCHENGEN & set(ctx.fsb) if d not in LAND_GATEWAYS)
    own = sum(_air_q4(ctx, g) for g in gates)
    want = 0.6 * 0.4 * (own + flown_other * sum(sh[g] for g in gates))
    assert land == pytest.approx(want, rel=1e-9)
    assert np.isfinite(land) and land > 0
