"""The exodus day loop's cheap paths give the bits of the plain ones (issue 12, cheaper evaluations).

- ``hazard_totals`` sums each cell's hazards in NumPy's order, so the per-run table of decision probabilities
  equals the per-day ``-expm1(-(prop * intensity[:, day]).sum(1))`` bit for bit, for any number of reasons
  (NumPy switches from one accumulator to eight at 8 terms and halves above 128);
- a run whose travellers' arrays must grow mid-run (the kernel then counts, the arrays grow, and the travellers
  are created in a second call) gives the same result as one with room from the start;
- ``Population.add(fill=False)`` claims slots without touching them.
"""

from __future__ import annotations

import numpy as np
import pytest

from emigre.behaviour import exodus
from emigre.behaviour import exodus_kernels as K
from emigre.engine.population import Population


@pytest.mark.parametrize("n_reasons", [1, 6, 7, 8, 9, 20, 129, 300])
def test_hazard_totals_are_numpys_per_day_sums_bit_for_bit(n_reasons):
    rng = np.random.default_rng(n_reasons)
    # magnitudes over eleven decades: any change of summation order shows in the last bits
    prop = rng.random((257, n_reasons)) * 10.0 ** rng.integers(-9, 2, (257, n_reasons))
    intensity = rng.random((n_reasons, 30)) * 10.0 ** rng.integers(-3, 3, (n_reasons, 30))
    intensity[:, ::4] = 0.0  # pushes outside their window
    intensity[0] = 1.0
    got = np.empty((30, 257))
    K.hazard_totals(prop, intensity, got)
    want = np.stack([(prop * intensity[:, d][None, :]).sum(axis=1) for d in range(30)])
    assert np.array_equal(got, want)
    # and the probabilities: one vectorised expm1 over every day = one per day
    per_day = np.stack([-np.expm1(-want[d]) for d in range(30)])
    assert np.array_equal(-np.expm1(-got), per_day)


def test_pairwise_sum_matches_numpy_for_every_length_up_to_1100():
    rng = np.random.default_rng(0)
    bad = []
    for n in range(1, 1100):
        v = rng.random(n) * 10.0 ** rng.integers(-8, 3, n)
        if K._pairwise_sum(v, 0, n) != v.sum():
            bad.append(n)
    assert bad == []


def test_the_ruleset_probabilities_are_the_per_day_numpy_ones():
    rs = exodus.ExodusRuleset(exodus.load_scenario("russia-2022"), seed=0, scale=50.0)
    for day in (0, 1, 30, 200, rs.n_days - 1):
        total = (rs.prop * rs.intensity[:, day][None, :]).sum(axis=1)
        assert np.array_equal(rs.prob[day], -np.expm1(-total)), day


def test_a_run_whose_traveller_arrays_grow_is_the_run_with_room(monkeypatch):
    kw = dict(seed=4, scale=40.0, end="2022-10-31")
    roomy = exodus.simulate(**kw)
    assert roomy.travellers > 5_000

    class Small(Population):  # chunks of 1000: the arrays grow a dozen times during the run
        def __init__(self, fields, capacity=0, chunk=65536):
            super().__init__(fields, capacity, chunk=1000)

    grows = []
    orig = Population.reserve

    def reserve(self, capacity):
        grows.append(capacity)
        orig(self, capacity)

    monkeypatch.setattr(exodus, "Population", Small)
    monkeypatch.setattr(Population, "reserve", reserve)
    tight = exodus.simulate(**kw)
    assert len(grows) >= 5
    for name in ("nat", "dep_by", "abroad_by", "present_country", "link_out", "link_in", "queue", "arrivals",
                 "stay_hist", "entries", "exits"):
        assert np.array_equal(getattr(tight, name), getattr(roomy, name)), name


def test_add_without_fill_keeps_the_slots_contents():
    pop = Population({"a": (np.int32, -1), "b": (np.float64, 0.5)}, capacity=10, chunk=10)
    pop.arrays["a"][:3] = [7, 8, 9]  # a kernel wrote the agents it is about to claim
    sl = pop.add(3, fill=False)
    assert (sl.start, sl.stop, pop.n) == (0, 3, 3)
    assert pop.view("a").tolist() == [7, 8, 9]
    pop.add(2)
    assert pop.view("a").tolist() == [7, 8, 9, -1, -1]
    assert pop.view("b")[3:].tolist() == [0.5, 0.5]
