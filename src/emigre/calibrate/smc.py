"""Likelihood-tempered sequential Monte Carlo on an unconstrained space.

Targets ``pi_b(u) ~ q(u)^(1-b) (prior(u) L(u))^b`` for ``0 = b_0 < b_1 < ... < b_T = 1``, where ``q`` is the
prior (plain likelihood tempering, ``prior L^b``) or a given reference distribution (e.g. a defensive mixture
around the fit stage's optimum; then the tempered potential is ``log prior + log L - log q``):

1. ``n`` particles from ``q``; their log-likelihoods (one batch);
2. the next temperature by bisection, so the effective sample size of the incremental weights is ``ess`` x n
   (adaptive steps: large where the potential is flat across the cloud, small where it bites);
3. systematic resampling to equal weights;
4. random-walk Metropolis moves (one batch per move, all particles at once) with a Gaussian proposal whose
   covariance is the weighted covariance of the cloud, scaled ``2.38^2 / d`` and adapted towards 25%
   acceptance; as many moves as needed for each particle to have moved with probability ~90% (at least
   ``min_moves``, at most ``max_moves``), within what the budget allows for the stages still to come
   (extrapolated from the slowest of the last three steps of log temperature);
5. at ``b = 1`` the rest of the budget (at least 3 moves' worth is kept for it, up to ``final_moves``)
   decorrelates the cloud; the particles are then an equal-weight posterior sample.

Every draw comes from one ``numpy.random.Generator`` in a fixed order, so given the same likelihood values
the run is identical: with a journal of evaluations a killed run replays to where it stopped.

``budget`` caps the likelihood evaluations: when the budget left could not pay for another tempering stage
and the final one, the next stage jumps to ``b = 1``; ``SMCResult.complete`` is False when that jump had an
effective sample size below the target (the sample is then less reliable; raise the budget).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

LoglikFn = Callable[[np.ndarray, str], tuple[np.ndarray, list]]


@dataclass
class SMCResult:
    U: np.ndarray  # [n, d] final particles (equal weight), unconstrained
    loglik: np.ndarray  # [n]
    logprior: np.ndarray  # [n] log prior density of u
    payload: list  # per particle: what the likelihood returned with it
    stages: list[dict] = field(default_factory=list)
    log_evidence: float = 0.0
    evaluations: int = 0
    complete: bool = True  # False when the budget forced the last jump to b = 1 with a low ESS


def _tempered(beta: float, lp: np.ndarray, ll: np.ndarray, lq: np.ndarray, from_prior: bool) -> np.ndarray:
    """log of q^(1-b) (prior L)^b (from the prior: prior L^b); -inf where L is -inf and b > 0."""
    with np.errstate(invalid="ignore"):
        lik = np.where(np.isfinite(ll), beta * ll, -np.inf if beta > 0 else 0.0)
        if from_prior:
            return lp + lik
        return (1.0 - beta) * lq + beta * lp + lik


def ess_of(logw: np.ndarray) -> float:
    w = logw - np.max(logw)
    e = np.exp(w)
    return float(e.sum() ** 2 / (e * e).sum())


def systematic_resample(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of a systematic resample of normalised ``weights`` (one uniform)."""
    n = len(weights)
    positions = (rng.random() + np.arange(n)) / n
    c = np.cumsum(weights)
    c[-1] = 1.0
    return np.searchsorted(c, positions, side="left").clip(0, n - 1)


def _next_beta(beta: float, ll: np.ndarray, target: float) -> float:
    finite = np.isfinite(ll)
    if not finite.any():
        return 1.0
    lf = np.where(finite, ll, -np.inf)

    def ess(b):
        lw = (b - beta) * np.where(finite, lf, 0.0) + np.where(finite, 0.0, -np.inf)
        return ess_of(lw)

    if ess(1.0) >= target:
        return 1.0
    lo, hi = beta, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if ess(mid) >= target:
            lo = mid
        else:
            hi = mid
    return max(lo, beta + 1e-12)


def tempered_smc(
    log_prior_u: Callable[[np.ndarray], np.ndarray],
    sample_prior_u: Callable[[np.random.Generator, int], np.ndarray],
    loglik: LoglikFn,
    *,
    n: int = 200,
    rng: np.random.Generator,
    budget: int | None = None,
    ess: float = 0.5,
    min_moves: int = 1,
    max_moves: int = 10,
    final_moves: int = 20,
    reference: tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.random.Generator, int], np.ndarray]]
    | None = None,
    progress: Callable[[dict], None] | None = None,
) -> SMCResult:
    """Run the sampler. ``loglik(U, stage) -> (loglik array, payload list)`` evaluates a batch of rows.

    ``reference = (log_q, sample_q)``: start from the distribution ``q`` instead of the prior and temper along
    ``q^(1-b) (prior L)^b`` (the same sampler with the potential ``log prior + log L - log q``): far fewer
    stages when ``q`` is near the posterior (e.g. a defensive mixture around the fit stage's optimum)."""
    budget = budget if budget is not None else 10**12
    if budget < n:
        raise ValueError(f"the posterior stage needs a budget of at least {n} evaluations (one per particle)")
    log_q, sample_q = reference if reference is not None else (None, sample_prior_u)
    U = sample_q(rng, n)
    d = U.shape[1]
    LP = np.asarray(log_prior_u(U), dtype=np.float64)
    LQ = LP if log_q is None else np.asarray(log_q(U), dtype=np.float64)
    LL, payload = loglik(U, "smc-init")
    LL = np.asarray(LL, dtype=np.float64)
    used = n
    betas = [0.0]
    final_reserve = max(min_moves, 3)  # moves kept for the last stage (at b = 1)
    beta, logz = 0.0, 0.0
    scale = 2.38 / math.sqrt(max(d, 1))
    stages: list[dict] = []
    complete = True
    logw = np.zeros(n)
    acc = 0.25
    while True:
        remaining = budget - used
        PHI = LP + LL - LQ  # the tempered potential (= LL when starting from the prior)
        if beta < 1.0:
            forced = remaining < n * (min_moves + final_reserve)
            nb = 1.0 if forced else _next_beta(beta, PHI, ess * n)
            inc = (nb - beta) * np.where(np.isfinite(PHI), PHI, 0.0) + np.where(np.isfinite(PHI), 0.0, -np.inf)
            logw = inc
            m = np.max(logw)
            logz += float(m + math.log(np.mean(np.exp(logw - m)))) if np.isfinite(m) else -math.inf
            stage_ess = ess_of(logw) if np.isfinite(m) else 0.0
            if forced and nb > beta and stage_ess < ess * n:
                complete = False
            beta = nb
            betas.append(beta)
        else:
            stage_ess = float(n)
            logw = np.zeros(n)
        w = np.exp(logw - np.max(logw))
        w /= w.sum()
        # proposal covariance from the weighted cloud (before resampling)
        mu = w @ U
        C = ((U - mu) * w[:, None]).T @ (U - mu)
        C = 0.5 * (C + C.T) + 1e-10 * np.eye(d)
        idx = systematic_resample(w, rng)
        U, LL, LP, LQ = U[idx], LL[idx], LP[idx], LQ[idx]
        payload = [payload[i] for i in idx]
        try:
            L = np.linalg.cholesky(C)
        except np.linalg.LinAlgError:
            L = np.diag(np.sqrt(np.maximum(np.diag(C), 1e-12)))
        # moves
        remaining = budget - used
        reserve = 0 if beta >= 1.0 else n * final_reserve
        affordable = max(0, (remaining - reserve) // n)
        if beta >= 1.0:
            want = max(min_moves, min(final_moves, affordable))
        else:
            want = max(min_moves, min(max_moves, math.ceil(math.log(0.1) / math.log(max(1e-9, 1 - acc)))))
            # budget-aware: spread what is left over the stages still to come - extrapolated from the last
            # step's growth of log b, or taken as 10 while there is no step to go by - and the final stage
            to_come = 10.0
            if len(betas) >= 3 and betas[-2] > 0:
                # the slowest of the last three steps of log b: conservative, as steps slow down mid-way
                last = betas[-4:]
                recent = [math.log(b1 / b0) for b0, b1 in zip(last[:-1], last[1:], strict=True) if b0 > 0]
                growth = max(min(recent), 1e-3)
                to_come = math.log(1.0 / beta) / growth
            want = min(want, max(min_moves, int(affordable // (max(1.0, to_come) + 1.0))))
        moves = int(min(want, affordable))
        accs = []
        for mv in range(moves):
            Z = rng.standard_normal((n, d))
            Up = U + scale * Z @ L.T
            LPp = np.asarray(log_prior_u(Up), dtype=np.float64)
            LQp = LPp if log_q is None else np.asarray(log_q(Up), dtype=np.float64)
            LLp, pay_p = loglik(Up, f"smc-{len(stages) + 1}-move-{mv + 1}")
            LLp = np.asarray(LLp, dtype=np.float64)
            used += n
            num = _tempered(beta, LPp, LLp, LQp, log_q is None)
            den = _tempered(beta, LP, LL, LQ, log_q is None)
            with np.errstate(invalid="ignore"):
                log_a = np.where(np.isfinite(num), num - np.where(np.isfinite(den), den, -1e300), -np.inf)
            ok = np.log(rng.random(n)) < log_a
            U = np.where(ok[:, None], Up, U)
            LL = np.where(ok, LLp, LL)
            LP = np.where(ok, LPp, LP)
            LQ = np.where(ok, LQp, LQ)
            payload = [pay_p[i] if ok[i] else payload[i] for i in range(n)]
            a = float(ok.mean())
            accs.append(a)
            scale *= math.exp(a - 0.25)
        if accs:
            acc = float(np.mean(accs))
        info = {"stage": len(stages) + 1, "beta": beta, "ess": stage_ess, "moves": moves,
                "acceptance": acc if accs else None, "scale": scale, "evaluations": used,
                "best_loglik": float(np.max(LL)), "mean_loglik": float(np.mean(LL[np.isfinite(LL)]))
                if np.isfinite(LL).any() else -math.inf}
        stages.append(info)
        if progress:
            progress(info)
        if beta >= 1.0:
            break
    return SMCResult(U, LL, LP, payload, stages, logz, used, complete)
