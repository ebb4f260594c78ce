"""Predictive intervals of a published figure, and whether the figure falls inside.

What a source publishes is its count measured with an error: the likelihood of :mod:`emigre.observe` says the
error of ``T(published) - T(operator value)`` is Student-t (3 degrees of freedom) with the observation's
error scale ``sigma`` (source quality, operator model error), ``T`` the asinh-log transform with the
observation's floor. So the predictive distribution of the figure is the mixture over the draws i (weights
``w_i``, equal for a posterior sample) of ``T_i + sigma * t3``; its quantiles are found by bisection on the
mixture's CDF (exact: no Monte Carlo noise) and mapped back through ``T``. The interval is therefore the
interval of the *published figure*, not of the simulated quantity: as wide as the source is noisy.

Judging a figure against its 90% interval [lo90, hi90]:

- a point value: inside when lo90 <= value <= hi90;
- "more than X": consistent when hi90 >= X (the figure can exceed X with at least 5% probability);
- "up to X": consistent when lo90 <= X;
- a range [low, high]: consistent when the two intervals overlap (lo90 <= high and hi90 >= low).

The log error is ``T(observed) - T(median)`` for a point (observed = the value) and a range (observed = its
quantity, or the geometric middle of low and high, as :func:`emigre.observe.log_error`); for a bound it is 0
when the median lies on the side the bound allows, else ``T(X) - T(median)``.
"""

from __future__ import annotations

import math

import numpy as np

from emigre.evidence.records import Observation
from emigre.observe.likelihood import t3_cdf, transform

PROBS = {"median": 0.5, "lo50": 0.25, "hi50": 0.75, "lo90": 0.05, "hi90": 0.95}
_NET_OPERATORS = frozenset({"net_present", "net_183"})


def untransform(y, floor: float = 1.0):
    """The inverse of :func:`emigre.observe.transform`."""
    return 2.0 * floor * np.sinh(np.asarray(y, dtype=np.float64) - math.log(floor))


def mixture_quantiles(centres, sigma, probs, weights=None, *, iterations: int = 80) -> np.ndarray:
    """Quantiles of the mixture sum_i w_i * (centres_i + sigma_i * t3) (bisection on its CDF); ``sigma`` is one
    scale for all components or one per component (a draw's own observation error)."""
    c = np.asarray(centres, dtype=np.float64)
    s = np.broadcast_to(np.asarray(sigma, dtype=np.float64), c.shape)
    w = np.full(c.size, 1.0 / c.size) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = np.isfinite(c) & (w > 0)
    c, s, w = c[keep], s[keep], w[keep] / w[keep].sum()
    p = np.asarray(probs, dtype=np.float64)
    # t3 has a 0.1% tail beyond 10.2 sigma: 60 sigma brackets every quantile used here
    lo = np.full(p.shape, c.min() - 60.0 * s.max())
    hi = np.full(p.shape, c.max() + 60.0 * s.max())
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        cdf = (w[None, :] * t3_cdf((mid[:, None] - c[None, :]) / s[None, :])).sum(axis=1)
        below = cdf < p
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def predictive_interval(obs: Observation, predicted, sigma, floor: float = 1.0, weights=None,
                        operator: str | None = None) -> dict[str, float]:
    """median, lo50, hi50, lo90, hi90 of the figure ``obs``'s source would publish, given the operator's
    value in each draw (``predicted``) and the observation's error scale ``sigma`` (one, or one per draw). Counts are kept >= 0
    (net flows may be negative) and percentages within [0, 100]."""
    centres = transform(np.asarray(predicted, dtype=np.float64), floor)
    q = untransform(mixture_quantiles(centres, sigma, list(PROBS.values()), weights), floor)
    if obs.unit == "percent":
        q = np.clip(q, 0.0, 100.0)
    elif operator not in _NET_OPERATORS:
        q = np.maximum(q, 0.0)
    return {k: float(q[i]) for i, k in enumerate(PROBS)}


def observed_value(obs: Observation) -> float:
    """The number a figure is compared by: its quantity, else the geometric middle of its range."""
    if obs.quantity is not None:
        return float(obs.quantity)
    return math.sqrt(max(obs.low, 1) * max(obs.high, 1))


def judge(obs: Observation, interval: dict[str, float], floor: float = 1.0) -> tuple[bool, float]:
    """(inside or consistent, log error) of ``obs`` against its predictive interval (rules in the module
    docstring)."""
    lo, hi, med = interval["lo90"], interval["hi90"], interval["median"]
    t_med = float(transform(med, floor))
    if obs.bound == "range":
        inside = lo <= obs.high and hi >= obs.low
        err = float(transform(observed_value(obs), floor)) - t_med
    elif obs.bound == "lower":
        x = float(obs.quantity)
        inside = hi >= x
        err = 0.0 if med >= x else float(transform(x, floor)) - t_med
    elif obs.bound == "upper":
        x = float(obs.quantity)
        inside = lo <= x
        err = 0.0 if med <= x else float(transform(x, floor)) - t_med
    else:
        x = float(obs.quantity)
        inside = lo <= x <= hi
        err = float(transform(x, floor)) - t_med
    return bool(inside), err


def summarise(rows: list[dict]) -> dict[str, float | None]:
    """coverage90 (share of rows inside) and median_abs_log_error over ``rows`` (None when empty)."""
    if not rows:
        return {"coverage90": None, "median_abs_log_error": None}
    inside = np.array([bool(r["inside"]) for r in rows])
    err = np.abs(np.array([float(r["log_error"]) for r in rows]))
    return {"coverage90": float(inside.mean()), "median_abs_log_error": float(np.median(err))}


__all__ = ["PROBS", "judge", "mixture_quantiles", "observed_value", "predictive_interval", "summarise",
           "untransform"]
