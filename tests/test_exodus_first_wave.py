"""The first wave's rush before the exits closed (push_events.csv P08, push_closing_exits_intensity): an extra
departure hazard from the invasion until Russian carriers stopped international flights on 8 March 2022."""

from __future__ import annotations

import numpy as np
import pytest

from emigre.behaviour.exodus import simulate

END = "2022-06-30"


@pytest.fixture(scope="module")
def runs():
    return {i: simulate("russia-2022", seed=6, scale=50.0, end=END, params={"push_closing_exits_intensity": i})
            for i in (0.0, 20.0)}


def _by_reason(r, reason):
    return r.dep_by[:, r.groups.index(f"reason={reason}")].astype(np.int64) * r.scale


def test_nobody_leaves_for_the_rush_without_it(runs):
    assert _by_reason(runs[0.0], "closing_exits").sum() == 0


def test_the_rush_ends_when_the_flights_stop(runs):
    r = runs[20.0]
    d = [str(x)[:10] for x in r.dates]
    rush = _by_reason(r, "closing_exits")
    assert rush.sum() > 20_000  # a real wave at intensity 20
    # decisions stop on 8 March; the last of those travellers cross within the patience of a queue
    late = d.index("2022-03-25")
    assert rush[late:].sum() == 0
    assert rush[: d.index("2022-03-09")].sum() >= 0.8 * rush.sum()


def test_the_rush_speeds_up_the_first_weeks_more_than_the_total(runs):
    dep = {i: r.national("departed_cum") for i, r in runs.items()}
    d = [str(x)[:10] for x in runs[0.0].dates]
    j = d.index("2022-03-13")
    gain_early = dep[20.0][j] / dep[0.0][j]
    gain_total = dep[20.0][-1] / dep[0.0][-1]
    assert gain_early > 1.3 and gain_early > gain_total + 0.2
