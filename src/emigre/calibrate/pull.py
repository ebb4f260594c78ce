"""Which figures pull a headline quantity up, and which hold it down, at the posterior.

At a posterior the log-likelihood's pulls on any quantity balance (with the prior's): a figure whose
log-likelihood grows with the quantity pulls it up, one whose log-likelihood falls holds it down. Around the
posterior the evaluations of a calibration (the journal of its moves at temperature 1: accepted and rejected
proposals alike) spread over the quantity's plausible range, so the least-squares slope of each figure's
log-likelihood on the quantity's log, over those evaluations, measures that figure's pull:
``d ll_i / d log Q``, in log-likelihood units per e-fold of Q. A slope is a correlation, not a cause: figures
that the same parameters drive move together.

The same question for a parameter (:func:`parameter_pulls`): the slope of each figure's log-likelihood on the
parameter, the other parameters held (a multiple regression on all of them, each standardised over the
evaluations), in log-likelihood units per standard deviation of the parameter over the evaluations; it says
which figures hold a parameter where it is (say the baseline emigration twice its prior median).

Used by ``benchmarks/bench_pull.py`` on the packaged calibration's journal; issue 11 asks why the model's
totals sit above the national estimates, and the table names the figures that ask for a larger exodus.
"""

from __future__ import annotations

import numpy as np

from emigre.errors import EmigreError


def pulls(ll: np.ndarray, pred: np.ndarray, j: int, *, floor: float = 1.0) -> np.ndarray:
    """Per figure ``i``: the least-squares slope of ``ll[:, i]`` on ``log(max(pred[:, j], floor))`` over the
    evaluations (rows) whose log-likelihoods are all finite. ``ll`` and ``pred`` are ``[evaluations, figures]``."""
    ll = np.asarray(ll, dtype=float)
    pred = np.asarray(pred, dtype=float)
    if ll.ndim != 2 or ll.shape != pred.shape:
        raise EmigreError(f"ll and pred must be [evaluations, figures] arrays of one shape, got {ll.shape} and "
                          f"{pred.shape}")
    if not 0 <= j < ll.shape[1]:
        raise EmigreError(f"figure index {j} outside 0..{ll.shape[1] - 1}")
    ok = np.isfinite(ll).all(axis=1) & np.isfinite(pred[:, j])
    if ok.sum() < 3:
        raise EmigreError(f"need at least 3 evaluations with finite log-likelihoods, got {int(ok.sum())}")
    x = np.log(np.maximum(pred[ok, j], floor))
    x = x - x.mean()
    sxx = float(x @ x)
    if sxx <= 0.0:
        raise EmigreError("the quantity does not vary over the evaluations: no slope")
    y = ll[ok] - ll[ok].mean(axis=0)
    return (x @ y) / sxx


def parameter_pulls(ll: np.ndarray, z: np.ndarray, j: int) -> np.ndarray:
    """Per figure ``i``: the coefficient of parameter ``j`` in the least-squares regression of ``ll[:, i]`` on
    every parameter's column of ``z`` (``[evaluations, parameters]``, on the scale the prior is symmetric in:
    the log for lognormal priors), each standardised over the evaluations whose log-likelihoods are all
    finite - log-likelihood per standard deviation of the parameter, the others held. Columns that do not vary
    are left out of the regression."""
    ll = np.asarray(ll, dtype=float)
    z = np.asarray(z, dtype=float)
    if ll.ndim != 2 or z.ndim != 2 or len(ll) != len(z):
        raise EmigreError(f"ll and z must be [evaluations, figures] and [evaluations, parameters] arrays with "
                          f"one row per evaluation, got {ll.shape} and {z.shape}")
    if not 0 <= j < z.shape[1]:
        raise EmigreError(f"parameter index {j} outside 0..{z.shape[1] - 1}")
    ok = np.isfinite(ll).all(axis=1) & np.isfinite(z).all(axis=1)
    zz = z[ok] - z[ok].mean(axis=0)
    sd = zz.std(axis=0)
    if not sd[j] > 0:
        raise EmigreError("the parameter does not vary over the evaluations: no slope")
    keep = sd > 0
    if ok.sum() <= keep.sum() + 1:
        raise EmigreError(f"need more evaluations with finite log-likelihoods than parameters ({int(keep.sum())}), "
                          f"got {int(ok.sum())}")
    a = zz[:, keep] / sd[keep]
    y = ll[ok] - ll[ok].mean(axis=0)
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    return coef[int(np.flatnonzero(keep).tolist().index(j))]
