"""Fit stage: the maximum a posteriori parameters by Optuna's TPE, seeded, in batches, then a compass-search
polish.

The search runs over the unconstrained coordinates ``u`` within each prior's central 99.8% (a box TPE can
sample), and maximises the log-posterior of the natural parameters. The first trial is the scenario's
default values, so the fit never ends worse than the defaults. Trials are asked and told in fixed batches
(``batch``, independent of the number of workers) in a fixed order, so the search is deterministic.

TPE finds the right region in 56 dimensions but not its top: the posterior is a long ridge (the totals fix
``baseline x pushes`` and the destination constants together), and from TPE's best point a coordinate search
still gains several log units (:func:`polish_map`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from emigre.calibrate.space import ParameterSpace

BATCH = 8


@dataclass
class FitResult:
    """The best parameters a MAP fit found, with their log posterior and log likelihood."""

    x: np.ndarray  # best parameters (natural units)
    logpost: float
    loglik: float
    trials: int
    default_logpost: float
    history: list[float]  # log-posterior of every trial, in order
    best: object = None  # the best Evaluation
    U: np.ndarray | None = None  # [trials, d] every trial in unconstrained coordinates
    polish_evaluations: int = 0  # evaluations of the compass-search polish (polish_map)
    tpe_logpost: float | None = None  # the best of TPE alone, before the polish


def fit_map(
    space: ParameterSpace,
    evaluate: Callable[[np.ndarray, str], list],
    *,
    trials: int,
    seed: int = 0,
    batch: int = BATCH,
    start: np.ndarray | None = None,
    progress: Callable[[dict], None] | None = None,
) -> FitResult:
    """Maximise the log posterior over ``space`` with Optuna, ``batch`` trials at a time."""
    import optuna
    from optuna.distributions import FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    boxes = [p.box_u() for p in space.priors]
    dists = {n: FloatDistribution(lo, hi) for n, (lo, hi) in zip(space.names, boxes, strict=True)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # multivariate / constant_liar are flagged experimental
        sampler = optuna.samplers.TPESampler(
            seed=seed, multivariate=True, constant_liar=True, n_startup_trials=max(10, min(40, trials // 5)),
        )
    study = optuna.create_study(direction="maximize", sampler=sampler)
    # start: the defaults, then prior draws (TPE's own start would draw uniformly in the box, i.e. far more
    # often in the prior's tails, where runs are implausible and slow)
    n_startup = max(10, min(40, trials // 5))
    u0 = space.to_u(space.defaults if start is None else start)
    starts = np.vstack([u0[None, :], space.to_u(space.sample(np.random.default_rng(seed), n_startup - 1))])
    for u in starts[: max(1, min(trials, n_startup))]:
        study.enqueue_trial({n: float(np.clip(v, lo, hi)) for n, v, (lo, hi) in zip(space.names, u, boxes, strict=True)})
    history: list[float] = []
    rows: list[np.ndarray] = []
    best_ev, best_x, best_v = None, None, -math.inf
    done = 0
    while done < trials:
        k = min(batch, trials - done)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            asked = [study.ask(dists) for _ in range(k)]
        U = np.array([[t.params[n] for n in space.names] for t in asked])
        X = space.from_u(U)
        rows.extend(U)
        evs = evaluate(X, "fit")
        for t, x, ev in zip(asked, X, evs, strict=True):
            v = ev.logpost
            history.append(v)
            study.tell(t, v if math.isfinite(v) else -1e12)
            if best_x is None or v > best_v:
                best_v, best_x, best_ev = v, x, ev
        done += k
        if progress:
            progress({"trials": done, "of": trials, "best_logpost": best_v})
    assert best_x is not None
    return FitResult(np.asarray(best_x), best_v, best_ev.loglik, done, history[0], history, best_ev, np.array(rows))


def prior_sd_u(space: ParameterSpace) -> np.ndarray:
    """The prior's standard deviation of each coordinate in ``u`` (from 4,000 draws of a fixed seed)."""
    return space.to_u(space.sample(np.random.default_rng(20240224), 4000)).std(axis=0)


def polish_map(
    space: ParameterSpace,
    evaluate: Callable[[np.ndarray, str], list],
    fit: FitResult,
    *,
    evaluations: int,
    step: float = 0.4,
    min_step: float = 0.02,
    progress: Callable[[dict], None] | None = None,
) -> FitResult:
    """Polish the fit's best point by a parallel compass search in ``u`` (within the TPE box).

    One iteration evaluates, in one batch, a step up and a step down along every coordinate (``step`` times
    the prior's standard deviation in ``u``), then the point that takes every improving step at once; it
    moves to the better of that point and the best single step. Without an improving step, the step halves.
    Each iteration costs ``2 d + 1`` evaluations; it stops when the next would exceed ``evaluations`` or the
    step falls below ``min_step``. Deterministic; the result is never worse than ``fit``."""
    d = space.dim
    boxes = np.array([p.box_u() for p in space.priors])
    prior_sd = prior_sd_u(space)
    u, best_v, best_ev = space.to_u(fit.x), fit.logpost, fit.best
    used = 0
    s = float(step)
    while used + 2 * d + 1 <= evaluations and s >= min_step:
        delta = s * prior_sd
        cand = np.repeat(u[None, :], 2 * d, axis=0)
        cand[np.arange(d), np.arange(d)] += delta
        cand[d + np.arange(d), np.arange(d)] -= delta
        cand = np.clip(cand, boxes[:, 0], boxes[:, 1])
        evs = evaluate(space.from_u(cand), "polish")
        vals = np.array([e.logpost for e in evs])
        used += 2 * d
        gain = np.where(np.isfinite(vals), vals - best_v, -np.inf)
        up, down = gain[:d], gain[d:]
        move = np.where((up > 0) & (up >= down), delta, np.where(down > 0, -delta, 0.0))
        if not np.any(move):
            s *= 0.5
            if progress:
                progress({"evaluations": used, "of": evaluations, "best_logpost": best_v, "step": s})
            continue
        combined = np.clip(u + move, boxes[:, 0], boxes[:, 1])
        ev_c = evaluate(space.from_u(combined[None, :]), "polish")[0]
        used += 1
        k = int(np.argmax(gain))
        if math.isfinite(ev_c.logpost) and ev_c.logpost >= vals[k]:
            u, best_v, best_ev = combined, ev_c.logpost, ev_c
        else:
            u, best_v, best_ev = cand[k], vals[k], evs[k]
        if progress:
            progress({"evaluations": used, "of": evaluations, "best_logpost": best_v, "step": s})
    # history and U stay the TPE trials': the starting distribution of the sampler takes its spread from them
    # (the polish steps are axis-aligned around one point)
    return FitResult(space.from_u(u), best_v, best_ev.loglik if best_ev is not None else fit.loglik,
                     fit.trials, fit.default_logpost, fit.history, best_ev, fit.U, polish_evaluations=used,
                     tpe_logpost=fit.logpost)


def reference_from_fit(space: ParameterSpace, fit: FitResult, *, prior_weight: float = 0.2, inflate: float = 2.0,
                       top: float = 0.25):
    """The starting distribution of the posterior sampler: a defensive mixture
    ``q = prior_weight x prior + (1 - prior_weight) x Normal(u_MAP, S)`` in unconstrained coordinates.

    ``S``: the covariance of the best ``top`` share of the fit's trials (at least 2d + 2 of them), standard
    deviations times ``inflate``, each kept between 0.1 and 1 times the prior's (TPE's best trials cluster, so
    their spread understates the posterior's). The prior component keeps q's tails at least as heavy as the
    prior's: no region of the posterior is unreachable, only cheaper or dearer to reach.

    Returns ``(log_q, sample_q, summary)``."""
    d = space.dim
    vals = np.asarray(fit.history)
    ok = np.flatnonzero(np.isfinite(vals))
    prior_sd = prior_sd_u(space)
    m = space.to_u(fit.x)
    k = int(min(len(ok), max(2 * d + 2, math.ceil(top * len(ok)))))
    if k >= 3 and fit.U is not None:
        best = ok[np.argsort(vals[ok])[::-1][:k]]
        C = np.cov(fit.U[best].T).reshape(d, d) * inflate**2
    else:
        C = np.diag(prior_sd**2)
    sd = np.sqrt(np.maximum(np.diag(C), 1e-300))
    target = np.clip(sd, 0.1 * prior_sd, prior_sd)
    f = target / sd
    C = C * np.outer(f, f) + 1e-9 * np.eye(d)
    L = np.linalg.cholesky(C)
    logdet = 2.0 * np.log(np.diag(L)).sum()
    w = float(prior_weight)

    def log_q(U: np.ndarray) -> np.ndarray:
        U = np.atleast_2d(U)
        z = np.linalg.solve(L, (U - m).T)
        lg = -0.5 * (z * z).sum(axis=0) - 0.5 * logdet - 0.5 * d * math.log(2 * math.pi)
        lp = np.asarray(space.log_prior_u(U), dtype=np.float64)
        if w <= 0:
            return lg
        return np.logaddexp(math.log(w) + lp, math.log1p(-w) + lg)

    def sample_q(rng: np.random.Generator, n: int) -> np.ndarray:
        from_prior = rng.random(n) < w
        G = m + rng.standard_normal((n, d)) @ L.T
        P = space.to_u(space.sample(rng, n))
        return np.where(from_prior[:, None], P, G)

    summary = {"prior_weight": w, "inflate": inflate, "trials_used": k,
               "sd_over_prior_sd": {n: float(v) for n, v in zip(space.names, target / prior_sd, strict=True)}}
    return log_q, sample_q, summary
