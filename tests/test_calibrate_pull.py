"""The pull of each figure on a headline quantity (emigre.calibrate.pull) on a case with known slopes."""

import numpy as np
import pytest

from emigre.calibrate.pull import parameter_pulls, pulls
from emigre.errors import EmigreError


def test_pulls_recover_known_slopes_and_ignore_failed_evaluations():
    rng = np.random.default_rng(7)
    n = 4000
    q = np.exp(rng.normal(13.0, 0.3, n))  # the headline quantity, ~440,000
    lq = np.log(q)
    other = rng.normal(size=n)
    # figure 0 is the quantity itself, held down (slope -2); figure 1 asks for more (+0.8); figure 2 is unrelated
    ll = np.column_stack([-2.0 * lq, 0.8 * lq, 3.0 * other]) + rng.normal(0, 0.05, (n, 3))
    pred = np.column_stack([q, rng.uniform(1, 10, n), rng.uniform(1, 10, n)])
    ll[:50, 1] = -np.inf  # refused evaluations are left out, not averaged in
    s = pulls(ll, pred, 0)
    # tolerance: the slope's standard error is ~0.05 / (0.3 sqrt(n)) ~ 0.003; the unrelated figure's ~3 / (0.3
    # sqrt(n)) ~ 0.16
    assert s[0] == pytest.approx(-2.0, abs=0.02)
    assert s[1] == pytest.approx(0.8, abs=0.02)
    assert abs(s[2]) < 0.5
    # the balance: the sum of the pulls is the slope of the total log-likelihood
    ok = np.isfinite(ll).all(1)
    x = lq[ok] - lq[ok].mean()
    total = ll[ok].sum(1)
    assert s.sum() == pytest.approx(float(x @ (total - total.mean()) / (x @ x)), rel=1e-9)


def test_pulls_refuse_bad_input():
    with pytest.raises(EmigreError, match="one shape"):
        pulls(np.zeros((5, 2)), np.zeros((5, 3)), 0)
    with pytest.raises(EmigreError, match="outside"):
        pulls(np.zeros((5, 2)), np.ones((5, 2)), 2)
    with pytest.raises(EmigreError, match="does not vary"):
        pulls(np.zeros((5, 2)), np.ones((5, 2)), 0)
    with pytest.raises(EmigreError, match="at least 3"):
        pulls(np.full((5, 2), -np.inf), np.ones((5, 2)), 0)


def test_journal_arrays_give_each_evaluation_figures_in_order(tmp_path):
    from emigre.calibrate.journal import Journal
    from emigre.calibrate.objective import Evaluation

    j = Journal(tmp_path / "journal.sqlite", fresh=True)
    j.put("a", 0, "init", Evaluation(0.0, -3.0, np.array([-1.0, -2.0]), np.array([10.0, 20.0])))
    j.put("b", 1, "extend-1-move-1", Evaluation(0.0, -7.0, np.array([-3.0, -4.0]), np.array([30.0, 40.0])))
    j.put("c", 2, "extend-1-move-1", Evaluation(-np.inf, -np.inf, np.array([-np.inf, -np.inf]),
                                                np.array([0.0, 0.0]), error="refused"))
    ll, pred = j.arrays()
    assert ll.tolist() == [[-1.0, -2.0], [-3.0, -4.0]] and pred.tolist() == [[10.0, 20.0], [30.0, 40.0]]
    ll, pred = j.arrays("extend")
    assert ll.tolist() == [[-3.0, -4.0]] and pred.tolist() == [[30.0, 40.0]]
    # the evaluated points, where journalled, beside the same rows' log-likelihoods
    assert j.parameters()[0].shape == (0, 0)
    j.put("d", 3, "extend-1-move-2", Evaluation(0.0, -1.0, np.array([-0.5, -0.5]), np.array([1.0, 2.0])),
          x=np.array([7.0, 8.0, 9.0]))
    x, llx = j.parameters("extend")
    assert x.tolist() == [[7.0, 8.0, 9.0]] and llx.tolist() == [[-0.5, -0.5]]
    j.close()


def test_parameter_pulls_hold_the_other_parameters():
    """Two correlated parameters each moving some figures: the multiple regression separates them, where a
    slope on one alone would mix in the other's pull."""
    rng = np.random.default_rng(3)
    n = 5000
    a = rng.normal(0, 2.0, n)  # sd 2
    b = 0.8 * a / 2.0 + rng.normal(0, 0.6, n)  # correlated with a (r = 0.8)
    c = np.full(n, 1.5)  # a fixed parameter: left out of the regression
    z = np.column_stack([a, b, c])
    # figure 0 rises 1.5 per sd of a; figure 1 falls 2 per sd of b only; figure 2 is noise
    ll = np.column_stack([1.5 * a / 2.0, -2.0 * b / b.std(), rng.normal(0, 1, n)]) + rng.normal(0, 0.05, (n, 3))
    ll[:40, 2] = -np.inf  # refused evaluations are left out
    pa, pb = parameter_pulls(ll, z, 0), parameter_pulls(ll, z, 1)
    # tolerance: standard errors ~0.05 / sqrt(n (1 - r^2)) ~ 0.001 for figures 0-1, ~0.02 for the noise
    assert pa[0] == pytest.approx(1.5, abs=0.02) and abs(pa[1]) < 0.02 and abs(pa[2]) < 0.1
    assert pb[1] == pytest.approx(-2.0, abs=0.02) and abs(pb[0]) < 0.02
    # a slope on b alone would credit figure 0's rise to b: the regression does not
    alone = pulls(ll[:, :2], np.column_stack([np.exp(b), np.exp(b)]), 0)
    assert alone[0] > 0.5
    with pytest.raises(EmigreError, match="does not vary"):
        parameter_pulls(ll, z, 2)
    with pytest.raises(EmigreError, match="outside"):
        parameter_pulls(ll, z, 3)
    with pytest.raises(EmigreError, match="one row per evaluation"):
        parameter_pulls(ll, z[:10], 0)
