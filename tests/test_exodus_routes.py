"""Routes into a country that admits some documents by one mode only: kept even when faster routes by other
modes exist (the US: flights to New York need a visa, asylum seekers cross by road from Tijuana; Armenia:
the internal passport by air only)."""

from __future__ import annotations

import numpy as np
import pytest

from emigre.behaviour.exodus import simulate
from emigre.scenario import load_scenario
from emigre.scenario.routes import ROUTES_PER_DESTINATION, enumerate_paths


@pytest.fixture(scope="module")
def world():
    w = load_scenario("russia-2022")
    return w, w.compile()


def test_the_us_border_route_survives_the_time_window(world):
    w, cw = world
    p = enumerate_paths(cw)
    usa = cw.countries.index("USA")
    last = p.links[np.arange(len(p.length)), p.length.astype(np.int64) - 1]
    via = (p.dest == usa) & (last == cw.link_ids.index("road:Tijuana-San-Ysidro"))
    assert via.sum() >= 1
    for o in np.unique(p.origin[via]):
        to_us = (p.dest == usa) & (p.origin == o)
        for h in p.hours[via & (p.origin == o)]:
            # the common window alone drops it: slower than twice the fastest (visa-bound) flight plus 6 hours,
            # or behind the ROUTES_PER_DESTINATION faster ones
            faster = int((p.hours[to_us] < h).sum())
            assert h > 2.0 * p.hours[to_us].min() + 6.0 or faster >= ROUTES_PER_DESTINATION
    # and the only entry the US rules leave open is by road: a document admitted at all is admitted by road only
    adm = np.asarray(cw.entry_admitted[:, usa, :], dtype=bool)
    assert adm.any() and (cw.entry_modes[:, usa, :][adm] == 1 << cw.modes.index("road")).all()


def test_asylum_seekers_reach_the_us_through_mexico():
    r = simulate("russia-2022", seed=2, scale=50, params={"choice_region_americas": 4.0})
    usa, mex = r.countries.index("USA"), r.countries.index("MEX")
    assert r.arrivals[:, usa].sum() > 0
    # every US arrival entered Mexico first (the only way in): Mexico's entries include them
    assert r.entries[:, mex].sum() >= r.arrivals[:, usa].sum()
