"""The engine's building blocks: counter-based RNG, SoA population, CSR network, the day plan."""

from __future__ import annotations

import numpy as np
import pytest

from emigre.engine.network import Network
from emigre.engine.plan import Plan, Step
from emigre.engine.population import Population
from emigre.engine.rng import uniforms


def test_rng_is_a_pure_function_of_its_keys():
    ids = np.arange(1000)
    a = uniforms(7, ids, 3, 0)
    assert np.array_equal(a, uniforms(7, ids, 3, 0))
    # a draw does not depend on which other agents are drawn with it
    assert np.array_equal(a[500:], uniforms(7, ids[500:], 3, 0))
    for other in (uniforms(8, ids, 3, 0), uniforms(7, ids, 4, 0), uniforms(7, ids, 3, 1)):
        assert np.mean(a == other) < 0.001


def test_rng_is_uniform_and_uncorrelated():
    n = 200_000
    u = uniforms(1, np.arange(n), 0, 0)
    assert u.min() >= 0.0 and u.max() < 1.0
    # mean 1/2 (sd of the mean 0.00065), variance 1/12; tolerance ~5 standard errors
    assert abs(u.mean() - 0.5) < 0.0033
    assert abs(u.var() - 1 / 12) < 0.002
    counts = np.histogram(u, bins=20, range=(0, 1))[0]
    chi2 = ((counts - n / 20) ** 2 / (n / 20)).sum()
    assert chi2 < 45  # 19 degrees of freedom: p ~ 0.0007
    for other in (uniforms(1, np.arange(1, n + 1), 0, 0), uniforms(1, np.arange(n), 1, 0), uniforms(2, np.arange(n), 0, 0)):
        assert abs(np.corrcoef(u, other)[0, 1]) < 0.012


def test_population_grows_in_chunks_and_keeps_data():
    pop = Population({"loc": (np.int32, -1), "x": (np.float64, 0.5)}, chunk=4)
    assert pop.capacity == 0 and len(pop) == 0
    s = pop.add(3)
    assert (s.start, s.stop) == (0, 3) and pop.capacity == 4
    pop["loc"][s] = [7, 8, 9]
    s2 = pop.add(6)
    assert (s2.start, s2.stop) == (3, 9) and pop.capacity >= 9 and pop.capacity % 4 == 0
    assert pop.view("loc").tolist() == [7, 8, 9, -1, -1, -1, -1, -1, -1]
    assert np.all(pop.view("x") == 0.5)
    pop.reserve(100)
    assert pop.capacity == 100 and pop.view("loc")[:3].tolist() == [7, 8, 9]
    with pytest.raises(ValueError):
        pop.add(-1)


def test_network_csr_from_undirected_edges():
    net = Network.from_undirected(4, [(0, 1), (1, 2), (0, 3)], [10.0, 20.0, 5.0])
    assert net.n_links == 6
    assert sorted(net.dst[net.out(0)].tolist()) == [1, 3]
    assert net.dst[net.out(1)].tolist() == [0, 2]
    assert net.out(2).size == 1 and net.out(3).size == 1
    for k in range(net.n_links):
        r = net.reverse[k]
        assert net.src[r] == net.dst[k] and net.dst[r] == net.src[k] and net.length_km[r] == net.length_km[k]
    with pytest.raises(ValueError):
        Network.from_directed(2, [0], [5], [1.0])


def test_plan_runs_named_steps_in_order_and_times_them():
    seen = []
    plan = Plan([Step("a", lambda d: seen.append(("a", d))), Step("b", lambda d: seen.append(("b", d)))])
    plan.run_day(0)
    plan.run_day(1)
    assert seen == [("a", 0), ("b", 0), ("a", 1), ("b", 1)]
    assert plan.names == ["a", "b"] and set(plan.seconds) == {"a", "b"}
    assert all(v >= 0 for v in plan.seconds.values())
    with pytest.raises(ValueError):
        Plan([Step("a", print), Step("a", print)])


def test_plan_insert_adds_a_named_step_where_asked():
    seen = []
    plan = Plan([Step("a", lambda d: seen.append(("a", d))), Step("b", lambda d: seen.append(("b", d)))])
    plan.insert(lambda d: seen.append(("x", d)), "x", after="a")
    plan.insert(lambda d: seen.append(("z", d)), "z")
    plan.run_day(3)
    assert seen == [("a", 3), ("x", 3), ("b", 3), ("z", 3)]
    assert plan.names == ["a", "x", "b", "z"] and set(plan.seconds) == {"a", "x", "b", "z"}
    with pytest.raises(ValueError):
        plan.insert(print, "a")
    with pytest.raises(ValueError):
        plan.insert(print, "y", after="nope")


def test_run_days_runs_extra_steps_and_progress_through_the_plan():
    from emigre.engine.simulation import run_days

    class Toy:
        name, n_days = "toy", 4

        def __init__(self):
            self.total = 0

        def plan(self):
            return Plan([Step("add", lambda d: setattr(self, "total", self.total + d))])

    seen, done = [], []
    plan, _ = run_days(Toy(), lambda k, n: done.append((k, n)), [("probe", lambda rs, d: seen.append((rs.total, d)))])
    assert plan.names == ["add", "probe", "progress"]
    assert seen == [(0, 0), (1, 1), (3, 2), (6, 3)]  # the probe sees the day's own step done
    assert done == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_random_streams_are_declared_once_without_overlap():
    from emigre.engine import streams

    for ruleset in ("exodus", "flee"):
        own = sorted((s for s in streams.STREAMS if s.ruleset == ruleset), key=lambda s: s.first)
        assert all(a.first + a.width <= b.first for a, b in zip(own, own[1:], strict=False))
    assert streams.S_CHOICE == 100 and streams.STREAM_WAKE_FRESH == 1_000_007  # ids the golden outputs depend on
    bad = streams.STREAMS + (streams.Stream("flee", "clash", 5),)
    with pytest.raises(AssertionError, match="overlap"):
        streams._check(bad)
