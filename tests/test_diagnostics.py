"""Convergence diagnostics across runs, on synthetic draws with known answers (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emigre.calibrate.diagnostics import convergence, disjoint_pairs, ess, intervals90, split_rhat


def test_runs_of_one_distribution_give_rhat_near_one_and_full_ess():
    x = np.random.default_rng(0).standard_normal((4, 500))
    assert split_rhat(x) == pytest.approx(1.0, abs=0.01)
    # independent draws: the effective sample size is about the number of draws (2,000)
    assert 1600 < ess(x) < 2400
    assert disjoint_pairs(x) == 0


def test_shifted_runs_give_large_rhat_and_disjoint_pairs():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 500)) + np.array([0.0, 0.0, 4.0, 8.0])[:, None]
    assert split_rhat(x) > 1.5
    # 90% intervals are ~3.3 wide: run pairs (0,3), (1,3) and (2,3)? 4 and 8 apart -> (0,2), (1,2), (0,3),
    # (1,3), (2,3) disjoint; (0,1) overlap
    assert disjoint_pairs(x) == 5


def test_a_small_shift_is_caught_by_rhat_before_the_intervals_separate():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 1000)) + np.array([0.0, 0.0, 0.0, 0.8])[:, None]
    assert split_rhat(x) > 1.05
    assert disjoint_pairs(x) == 0


def test_runs_that_agree_on_the_centre_but_not_the_spread_fail_on_the_folded_rhat():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 1000)) * np.array([1.0, 1.0, 1.0, 3.0])[:, None]
    assert split_rhat(x) > 1.05


def test_autocorrelated_draws_have_a_smaller_ess():
    rng = np.random.default_rng(4)
    e = rng.standard_normal((4, 2000))
    x = np.empty_like(e)
    x[:, 0] = e[:, 0]
    for t in range(1, 2000):  # AR(1), phi 0.9: ESS ~ N (1 - phi) / (1 + phi) = 8000 / 19 ~ 420
        x[:, t] = 0.9 * x[:, t - 1] + e[:, t]
    assert 250 < ess(x) < 700


def test_intervals90_are_the_5_and_95_percent_quantiles():
    x = np.arange(101, dtype=float)[None, :]
    np.testing.assert_allclose(intervals90(x), [[5.0, 95.0]])


def test_convergence_over_a_posterior_table():
    rng = np.random.default_rng(5)
    rows = []
    for r in range(3):
        rows.append(pd.DataFrame({"run": r, "a": rng.standard_normal(400),
                                  "pred.X": rng.standard_normal(400) + (6.0 if r == 2 else 0.0)}))
    df = pd.concat(rows, ignore_index=True)
    c = convergence(df, ["a", "pred.X"])
    assert c["runs"] == 3 and c["draws_per_run"] == 400
    assert c["quantities"]["a"]["rhat"] < 1.05 and c["quantities"]["a"]["disjoint_pairs"] == 0
    assert c["quantities"]["pred.X"]["disjoint_pairs"] == 2
    assert [f["quantity"] for f in c["failed"]] == ["pred.X"]
    assert not c["converged"]
    ok = convergence(df[df["run"] < 2], ["a", "pred.X"])
    assert ok["converged"] and ok["failed"] == []
    # one run proves nothing
    assert not convergence(df[df["run"] == 0], ["a"])["converged"]
