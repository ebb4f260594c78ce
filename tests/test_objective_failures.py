"""Only expected failures of a draw score -inf; programming errors propagate (issue 14)."""

from __future__ import annotations

import math

import pytest

from emigre.calibrate.objective import EXPECTED_FAILURES, GridlockError, Objective
from emigre.calibrate.space import default_space


def _small():
    sp = default_space()
    return sp, Objective.build(sp, scale=200.0, end="2022-03-15")


def test_expected_failures_score_minus_inf_and_are_counted(monkeypatch):
    sp, obj = _small()

    def overflow(x):
        raise OverflowError("math range error")

    monkeypatch.setattr(obj, "simulate", overflow)
    ev = obj(sp.defaults)
    assert ev.loglik == -math.inf and ev.error == "OverflowError: math range error"
    assert obj.failures == {"OverflowError": 1}
    assert issubclass(GridlockError, EXPECTED_FAILURES)


def test_a_programming_error_propagates(monkeypatch):
    sp, obj = _small()

    def bug(x):
        raise KeyError("typo")

    monkeypatch.setattr(obj, "simulate", bug)
    with pytest.raises(KeyError):
        obj(sp.defaults)
    assert not obj.failures
