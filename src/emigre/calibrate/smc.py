"""Likelihood-tempered sequential Monte Carlo on an unconstrained space, with a move phase that runs until the
particles have decorrelated.

Targets ``pi_b(u) ~ q(u)^(1-b) (prior(u) L(u))^b`` for ``0 = b_0 < b_1 < ... < b_T = 1``, where ``q`` is the
prior (plain likelihood tempering, ``prior L^b``) or a given reference distribution (e.g. a defensive mixture
around the fit stage's optimum; then the tempered potential is ``log prior + log L - log q``):

1. ``n`` particles from ``q``; their log-likelihoods (one batch);
2. the next temperature by bisection, so the effective sample size of the incremental weights is ``ess`` x n;
3. proposals fitted to the weighted cloud, then systematic resampling to equal weights;
4. Metropolis-Hastings moves (one batch of ``n`` evaluations per move) until the cloud has **decorrelated**
   from where the stage started (see below), at most ``max_moves`` per stage (``final_moves`` at ``b = 1``).
   Each particle's move is drawn from one of two kernels (a state-independent choice, so the mixture kernel
   keeps ``pi_b`` invariant):

   - a Gaussian random walk with the weighted covariance of the cloud scaled ``2.38^2 / d`` and adapted
     towards 23% acceptance (Roberts-Gelman-Gilks: the optimal rate for a d-dimensional random walk);
   - an independent Metropolis-Hastings proposal from a Gaussian mixture fitted to the weighted cloud (EM,
     covariances shrunk towards the cloud's diagonal for the estimate's noise when the cloud is small for
     its dimension, widened by 10%). Where the target is close to the mixture one accepted move is a fresh,
     independent draw, which a random walk in 56 dimensions needs hundreds of moves for.

   The share of each kernel follows its measured expected squared jump per evaluation (at least 20% each), so
   the sampler spends its evaluations on whichever decorrelates the cloud faster here.

**Decorrelation criterion.** Per coordinate ``j`` the cumulative squared jump ``sum_moves mean_i (du_ij)^2``
relative to ``2 var_j`` (the expected squared distance between two independent draws); the stage's moves stop
when, for every coordinate, that ratio is at least ``jumps`` (default ``ln 10 = 2.3``) and at most ``stuck``
(10%) of the particles have not moved at all in the stage. Why both: for an independence proposal with
acceptance ``a`` the ratio grows by ``2a`` per move and a particle is still at its start with probability
``(1 - a)^k``, so ratio ``ln 10`` leaves about 10% stuck (correlation ~0.1 with the start); for a random walk
the ratio is the diffusion's squared displacement. Both are averages over particles, so unlike a per-coordinate
correlation with 56 noisy estimates they do not need a noise allowance. The stage also records the largest
absolute correlation of any coordinate with its start value (``max_corr``, informative).

**Tempering stages mix, the last stage decorrelates.** The stages before ``b = 1`` stop at a looser criterion
(``mid_jumps``, default 1: a correlation of about ``e^-1`` with the stage's start for an independence kernel;
at most ``mid_stuck`` = 50% of the particles unmoved); the stage at ``b = 1`` keeps ``jumps`` and ``stuck``. A
tempering stage's cloud only has to re-spread after its resampling; its moves carry over into the next stage,
which starts from them, and only the last stage's draws are the posterior. Measured on the known target in 89
dimensions (60 informed; 400 particles, no budget cap; docs/calibrate.md): every stage to ``ln 10`` takes 219,000
evaluations for 0.912 coverage of the 90% intervals; the tempering stages to 1 take 74,000 for 0.900, with no
parameter below 0.80 over 50 replicates (to 0.5: 31,000 for 0.846, too loose).

Budget semantics: ``budget`` is a cap on likelihood evaluations, not a target. A run that decorrelates every
stage within it stops early. When the budget runs out before a stage has decorrelated, the stage records
``decorrelated: False`` and ``SMCResult.converged`` is False; when it cannot pay for another tempering stage
the next one jumps to ``b = 1`` and ``SMCResult.complete`` is False if that jump's effective sample size was
below target. A few moves (``final_reserve``) are always kept for the last stage, and while the budget could
not pay for decorrelating every stage to come, each stage takes only its share of what is left (spread over
the stages still to come, extrapolated from the growth of ``b``).

Every draw comes from one ``numpy.random.Generator`` in a fixed order, so given the same likelihood values
the run is identical: with a journal of evaluations a killed run replays to where it stopped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

LoglikFn = Callable[[np.ndarray, str], tuple[np.ndarray, list]]

#: target acceptance of the random walk (optimal for a Gaussian target in many dimensions)
RW_TARGET_ACCEPTANCE = 0.234
#: widening of the independence proposal's components (its tails must not be lighter than the target's)
IMH_WIDEN = 1.1


@dataclass
class SMCResult:
    """The final particles of tempered SMC: likelihoods, priors, payloads, per-stage diagnostics."""

    U: np.ndarray  # [n, d] final particles (equal weight), unconstrained
    loglik: np.ndarray  # [n]
    logprior: np.ndarray  # [n] log prior density of u
    payload: list  # per particle: what the likelihood returned with it
    stages: list[dict] = field(default_factory=list)
    log_evidence: float = 0.0
    evaluations: int = 0
    complete: bool = True  # False when the budget forced the last jump to b = 1 with a low ESS
    converged: bool = True  # False when some stage's moves stopped (budget or cap) before meeting its criterion


def _tempered(beta: float, lp: np.ndarray, ll: np.ndarray, lq: np.ndarray, from_prior: bool) -> np.ndarray:
    """Log of q^(1-b) (prior L)^b (from the prior: prior L^b); -inf where L is -inf and b > 0."""
    with np.errstate(invalid="ignore"):
        lik = np.where(np.isfinite(ll), beta * ll, -np.inf if beta > 0 else 0.0)
        if from_prior:
            return lp + lik
        return (1.0 - beta) * lq + beta * lp + lik


def ess_of(logw: np.ndarray) -> float:
    """Effective sample size of log weights (Kish)."""
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


# ---------------------------------------------------------------------- proposals
def _weighted_cov(U: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = w @ U
    X = U - mu
    C = (X * w[:, None]).T @ X
    return mu, 0.5 * (C + C.T)


def _chol(C: np.ndarray) -> np.ndarray:
    d = len(C)
    jitter = 1e-10 * max(float(np.mean(np.diag(C))), 1e-12)
    for _ in range(8):
        try:
            return np.linalg.cholesky(C + jitter * np.eye(d))
        except np.linalg.LinAlgError:
            jitter *= 100.0
    return np.diag(np.sqrt(np.maximum(np.diag(C), 1e-12)))


@dataclass
class GaussianMixture:
    """A Gaussian mixture in ``d`` dimensions: weights, means, Cholesky factors of the covariances."""

    weights: np.ndarray  # [k]
    means: np.ndarray  # [k, d]
    chols: np.ndarray  # [k, d, d] lower triangular

    def component_logpdf(self, U: np.ndarray) -> np.ndarray:
        """[k, n]: log(weight_k) + log N(U | component k)."""
        U = np.atleast_2d(U)
        d = U.shape[1]
        out = np.empty((len(self.weights), len(U)))
        for k, (w, m, L) in enumerate(zip(self.weights, self.means, self.chols, strict=True)):
            Z = (U - m) @ np.linalg.inv(L).T  # inverse of a d x d triangle: cheaper than a solve per batch
            logdet = 2.0 * np.log(np.diag(L)).sum()
            out[k] = math.log(w) - 0.5 * (Z * Z).sum(1) - 0.5 * logdet - 0.5 * d * math.log(2 * math.pi)
        return out

    def logpdf(self, U: np.ndarray) -> np.ndarray:
        """Log density of the mixture at each row of ``U``."""
        out = self.component_logpdf(U)
        m = out.max(0)
        return m + np.log(np.exp(out - m).sum(0))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws from the mixture."""
        d = self.means.shape[1]
        comp = rng.choice(len(self.weights), size=n, p=self.weights)
        Z = rng.standard_normal((n, d))
        out = np.empty((n, d))
        for k in range(len(self.weights)):
            sel = comp == k
            out[sel] = self.means[k] + Z[sel] @ self.chols[k].T
        return out


def fit_mixture(U: np.ndarray, w: np.ndarray, rng: np.random.Generator, *, components: int,
                widen: float = IMH_WIDEN, defensive: float = 0.0,
                iterations: int = 20) -> GaussianMixture:
    """A Gaussian mixture fitted to the weighted cloud ``(U, w)`` by EM from a k-means++ start.

    Each component's covariance is shrunk towards the cloud's diagonal by ``d / (d + n_k)`` (``n_k`` its
    effective count): a covariance estimated from ``n_k`` points in ``d`` dimensions has eigenvalues spread far
    beyond the truth's (Marchenko-Pastur), which an independence proposal pays for in acceptance. Then widened
    by ``widen`` (sds), so its tails are not lighter than the target's."""
    n, d = U.shape
    w = w / w.sum()
    ess = 1.0 / float((w * w).sum())
    mu, C = _weighted_cov(U, w)
    diag = np.diag(np.diag(C))

    def shrink(Ck, nk):
        lam = d / (d + nk)
        return (1 - lam) * Ck + lam * diag

    k = int(max(1, min(components, ess // (2 * d + 2))))
    # a defensive component: the whole cloud's covariance, widened by half; it keeps the proposal's tails
    # heavier than the target's wherever the fitted components are too narrow
    wide = _chol(shrink(C, ess) * (1.5 * widen) ** 2)
    if k == 1:
        L = _chol(shrink(C, ess) * widen**2)
        if defensive <= 0:
            return GaussianMixture(np.ones(1), mu[None], L[None])
        return GaussianMixture(np.array([1 - defensive, defensive]), np.array([mu, mu]), np.array([L, wide]))
    # k-means++ start in standardised coordinates (weighted by w)
    sd = np.sqrt(np.maximum(np.diag(C), 1e-300))
    Z = (U - mu) / sd
    centres = [Z[rng.choice(n, p=w)]]
    for _ in range(k - 1):
        d2 = np.min([((Z - c) ** 2).sum(1) for c in centres], axis=0)
        p = w * d2
        p = p / p.sum() if p.sum() > 0 else w
        centres.append(Z[rng.choice(n, p=p)])
    resp = np.eye(k)[np.argmin([((Z - c) ** 2).sum(1) for c in centres], axis=0)]  # [n, k]
    mix = None
    for _ in range(iterations):
        rw = resp * w[:, None]
        nk = rw.sum(0)
        keep = nk > 1e-9
        rw, nk = rw[:, keep], nk[keep]
        weights = nk / nk.sum()
        means = (rw.T @ U) / nk[:, None]
        chols = []
        for j in range(len(nk)):
            X = U - means[j]
            Cj = (X * rw[:, j:j + 1]).T @ X / nk[j]
            chols.append(_chol(shrink(0.5 * (Cj + Cj.T), nk[j] * ess)))
        mix = GaussianMixture(weights, means, np.array(chols))
        # E step: responsibilities from each component's log density
        lps = mix.component_logpdf(U).T
        lps -= lps.max(1, keepdims=True)
        new = np.exp(lps)
        new /= new.sum(1, keepdims=True)
        if new.shape == resp.shape and np.abs(new - resp).max() < 1e-3:
            break
        resp = new
    assert mix is not None
    if defensive <= 0:
        return GaussianMixture(mix.weights, mix.means, mix.chols * widen)
    return GaussianMixture(np.append(mix.weights * (1 - defensive), defensive), np.vstack([mix.means, mu]),
                           np.concatenate([mix.chols * widen, wide[None]]))


@dataclass
class _Cloud:
    """The particles of one stage and what is known at each: log-likelihood, log prior, log reference, payload."""

    U: np.ndarray
    LL: np.ndarray
    LP: np.ndarray
    LQ: np.ndarray
    payload: list


@dataclass
class _Kernel:
    """What the move kernels carry from stage to stage: the random walk's scale, the independence share."""

    scale: float
    imh_share: float


def _move_stage(cloud: _Cloud, kern: _Kernel, logw: np.ndarray, beta: float, *, rng: np.random.Generator,
                log_prior_u, log_q, loglik: LoglikFn, label: str, cap: int, share_cap: int, budget_left: int,
                min_moves: int, jumps: float, stuck: float, components: int, independence: bool,
                defensive: float = 0.0, resample: bool = True) -> dict:
    """One stage: proposals fitted to the cloud weighted by ``logw``, resampling to equal weights, then
    Metropolis-Hastings moves at temperature ``beta`` until the cloud has decorrelated (module doc), at most
    ``cap`` and ``share_cap`` moves and ``budget_left`` evaluations. Updates ``cloud`` and ``kern`` in place;
    returns the stage's diagnostics with ``used``, the evaluations it spent."""
    U, LL, LP, LQ, payload = cloud.U, cloud.LL, cloud.LP, cloud.LQ, cloud.payload
    n, d = U.shape
    used = 0
    w = np.exp(logw - np.max(logw))
    w /= w.sum()
    # proposals from the weighted cloud (before resampling: every distinct particle informs them)
    _, C = _weighted_cov(U, w)
    L_rw = _chol(C)
    var = np.maximum(np.diag(C), 1e-300)
    mix = fit_mixture(U, w, rng, components=components, defensive=defensive)
    if resample:
        idx = systematic_resample(w, rng)
        U, LL, LP, LQ = U[idx], LL[idx], LP[idx], LQ[idx]
        payload = [payload[i] for i in idx]
    LM = mix.logpdf(U)  # the independence proposal's density at the current particles
    U0 = U.copy()
    moved = np.zeros(n, dtype=bool)
    jump = np.zeros(d)  # cumulative mean squared jump per coordinate
    moves = 0
    acc_rw, acc_imh = [], []
    decorrelated = False
    stop = "cap"
    while moves < cap:
        if budget_left - used < n or moves >= share_cap:
            stop = "budget"
            break
        use_imh = rng.random(n) < kern.imh_share
        Z = rng.standard_normal((n, d))
        Up = np.where(use_imh[:, None], mix.sample(rng, n), U + kern.scale * Z @ L_rw.T)
        LPp = np.asarray(log_prior_u(Up), dtype=np.float64)
        LQp = LPp if log_q is None else np.asarray(log_q(Up), dtype=np.float64)
        LMp = mix.logpdf(Up)
        LLp, pay_p = loglik(Up, f"{label}-move-{moves + 1}")
        LLp = np.asarray(LLp, dtype=np.float64)
        used += n
        moves += 1
        num = _tempered(beta, LPp, LLp, LQp, log_q is None)
        den = _tempered(beta, LP, LL, LQ, log_q is None)
        # independence proposal: Hastings correction q(u)/q(u')
        corr = np.where(use_imh, LM - LMp, 0.0)
        with np.errstate(invalid="ignore"):
            log_a = np.where(np.isfinite(num), num - np.where(np.isfinite(den), den, -1e300) + corr, -np.inf)
        ok = np.log(rng.random(n)) < log_a
        sq = np.where(ok[:, None], (Up - U) ** 2, 0.0)
        jump += sq.mean(0)
        moved |= ok & (sq.sum(1) > 0)
        U = np.where(ok[:, None], Up, U)
        LL = np.where(ok, LLp, LL)
        LP = np.where(ok, LPp, LP)
        LQ = np.where(ok, LQp, LQ)
        LM = np.where(ok, LMp, LM)
        payload = [pay_p[i] if ok[i] else payload[i] for i in range(n)]
        # adapt: the walk's scale towards its target acceptance; the kernels' shares to their squared jump
        # per evaluation (whitened by the cloud's variances)
        rw = ~use_imh
        esj = (sq / var).sum(1)
        if rw.any():
            a = float(ok[rw].mean())
            acc_rw.append(a)
            kern.scale *= math.exp(a - RW_TARGET_ACCEPTANCE)
        if use_imh.any():
            acc_imh.append(float(ok[use_imh].mean()))
        if independence and rw.any() and use_imh.any():
            e_imh, e_rw = float(esj[use_imh].mean()), float(esj[rw].mean())
            if e_imh + e_rw > 0:
                kern.imh_share = 0.8 * kern.imh_share + 0.2 * min(0.8, max(0.2, e_imh / (e_imh + e_rw)))
        if moves >= min_moves and (jump / (2 * var)).min() >= jumps and 1.0 - moved.mean() <= stuck:
            decorrelated = True
            stop = "decorrelated"
            break
    with np.errstate(invalid="ignore", divide="ignore"):
        s0, s1 = U0.std(0), U.std(0)
        cc = ((U0 - U0.mean(0)) * (U - U.mean(0))).mean(0) / (s0 * s1)
    cc = cc[np.isfinite(cc)]
    acc = (float(np.mean(acc_rw + acc_imh)) if acc_rw or acc_imh else None)
    cloud.U, cloud.LL, cloud.LP, cloud.LQ, cloud.payload = U, LL, LP, LQ, payload
    return {"moves": moves, "acceptance": acc,
            "acceptance_rw": float(np.mean(acc_rw)) if acc_rw else None,
            "acceptance_imh": float(np.mean(acc_imh)) if acc_imh else None,
            "imh_share": kern.imh_share, "mixture_components": len(mix.weights), "scale": kern.scale,
            "jump_ratio_min": float((jump / (2 * var)).min()), "stuck": float(1.0 - moved.mean()),
            "max_corr": float(np.abs(cc).max()) if len(cc) else None,
            "decorrelated": decorrelated, "stopped_by": stop, "used": used}


# ---------------------------------------------------------------------- the sampler
def tempered_smc(
    log_prior_u: Callable[[np.ndarray], np.ndarray],
    sample_prior_u: Callable[[np.random.Generator, int], np.ndarray] | None,
    loglik: LoglikFn,
    *,
    n: int = 200,
    rng: np.random.Generator,
    budget: int | None = None,
    ess: float = 0.5,
    min_moves: int = 1,
    max_moves: int = 100,
    final_moves: int | None = None,
    final_reserve: int = 3,
    jumps: float = math.log(10.0),
    stuck: float = 0.1,
    mid_jumps: float = 1.0,
    mid_stuck: float = 0.5,
    components: int = 4,
    independence: bool = True,
    reference: tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.random.Generator, int], np.ndarray]]
    | None = None,
    progress: Callable[[dict], None] | None = None,
) -> SMCResult:
    """Run the sampler. ``loglik(U, stage) -> (loglik array, payload list)`` evaluates a batch of rows.

    ``reference = (log_q, sample_q)``: start from the distribution ``q`` instead of the prior and temper along
    ``q^(1-b) (prior L)^b``. ``max_moves`` caps the moves of one tempering stage, ``final_moves`` (default
    ``max_moves``) those at ``b = 1``; ``jumps`` and ``stuck`` set the decorrelation criterion of the stage at
    ``b = 1``, ``mid_jumps`` and ``mid_stuck`` that of the tempering stages before it (module doc);
    ``components`` the most components of the independence proposal's mixture; ``independence=False`` moves by
    the random walk alone (a baseline for measurements)."""
    budget = budget if budget is not None else 10**12
    final_moves = max_moves if final_moves is None else final_moves
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
    final_reserve = max(min_moves, final_reserve)
    beta, logz = 0.0, 0.0
    betas = [0.0]
    kern = _Kernel(2.38 / math.sqrt(max(d, 1)), 0.5 if independence else 0.0)
    stages: list[dict] = []
    complete = converged = True
    while True:
        remaining = budget - used
        PHI = LP + LL - LQ  # the tempered potential (= LL when starting from the prior)
        if beta < 1.0:
            forced = remaining < n * (min_moves + final_reserve)
            nb = 1.0 if forced else _next_beta(beta, PHI, ess * n)
            logw = (nb - beta) * np.where(np.isfinite(PHI), PHI, 0.0) + np.where(np.isfinite(PHI), 0.0, -np.inf)
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
        cap = final_moves if beta >= 1.0 else max_moves
        reserve = 0 if beta >= 1.0 else n * final_reserve
        share_cap = cap
        if beta < 1.0:
            # a budget too small to decorrelate every stage is spread over the stages still to come (their
            # number extrapolated from the slowest of the last three steps of log b, 10 before there are
            # steps) and the last one, so that a short run still reaches b = 1 with some moves per stage
            # instead of spending everything early and jumping to b = 1 with a degenerate cloud
            to_come = 10.0
            if len(betas) >= 3 and betas[-2] > 0:
                last = betas[-4:]
                recent = [math.log(b1 / b0) for b0, b1 in zip(last[:-1], last[1:], strict=True) if b0 > 0]
                to_come = math.log(1.0 / beta) / max(min(recent), 1e-3)
            affordable = max(0, (budget - used - reserve) // n)
            share_cap = max(min_moves, int(affordable // (max(1.0, to_come) + 1.0)))
        cloud = _Cloud(U, LL, LP, LQ, payload)
        # the last stage decorrelates, the tempering stages before it mix (module doc)
        stage_jumps = jumps if beta >= 1.0 else min(jumps, mid_jumps)
        stage_stuck = stuck if beta >= 1.0 else max(stuck, mid_stuck)
        info = _move_stage(cloud, kern, logw, beta, rng=rng, log_prior_u=log_prior_u, log_q=log_q, loglik=loglik,
                           label=f"smc-{len(stages) + 1}", cap=cap, share_cap=share_cap,
                           budget_left=budget - used - reserve, min_moves=min_moves, jumps=stage_jumps,
                           stuck=stage_stuck,
                           components=components, independence=independence)
        U, LL, LP, LQ, payload = cloud.U, cloud.LL, cloud.LP, cloud.LQ, cloud.payload
        used += info.pop("used")
        if not info["decorrelated"]:
            converged = False
        info = {"stage": len(stages) + 1, "beta": beta, "ess": stage_ess, **info,
                "jumps_target": stage_jumps, "evaluations": used,
                "best_loglik": float(np.max(LL)),
                "mean_loglik": float(np.mean(LL[np.isfinite(LL)])) if np.isfinite(LL).any() else -math.inf}
        stages.append(info)
        if progress:
            progress(info)
        if beta >= 1.0:
            break
    return SMCResult(U, LL, LP, payload, stages, logz, used, complete, converged)


def extend_smc(
    U: np.ndarray,
    log_prior_u: Callable[[np.ndarray], np.ndarray],
    loglik: LoglikFn,
    *,
    rng: np.random.Generator,
    budget: int,
    stages: int | None = None,
    min_moves: int = 1,
    max_moves: int = 100,
    jumps: float = math.log(10.0),
    stuck: float = 0.1,
    components: int = 4,
    defensive: float = 0.0,
    groups: np.ndarray | None = None,
    progress: Callable[[dict], None] | None = None,
) -> SMCResult:
    """More moves at the posterior (``b = 1``) for particles ``U`` [n, d] that already approximate it - the
    equal-weight draws of an earlier run: one batch to evaluate them, then stages of Metropolis-Hastings moves
    (the kernels of :func:`tempered_smc`, refitted to the cloud at each stage's start) that each run until the
    cloud has decorrelated from where the stage began, until ``stages`` stages have decorrelated or ``budget``
    evaluations are spent. Every kernel leaves the posterior invariant, so the particles can only come closer to
    it, whatever their start; independent runs extended apart let R-hat show whether they have.

    ``groups`` (the run of each particle, runs of equal size): each stage's diagnostics add the largest R-hat
    over the coordinates across the runs (``rhat_max``; rank-based, so the same as over the parameters), how
    many exceed 1.05 (``rhat_above``) and how many have two runs with disjoint 90% intervals (``disjoint``).

    ``SMCResult.converged``: at least one stage decorrelated (the cloud no longer remembers its start)."""
    U = np.asarray(U, dtype=np.float64)
    n, d = U.shape
    if budget < 2 * n:
        raise ValueError(f"extending {n} particles needs a budget of at least {2 * n} evaluations (their "
                         "evaluation and one move)")
    LP = np.asarray(log_prior_u(U), dtype=np.float64)
    if not np.isfinite(LP).all():
        raise ValueError(f"{int((~np.isfinite(LP)).sum())} of the particles lie outside the prior's support")
    LL, payload = loglik(U, "extend-init")
    cloud = _Cloud(U, np.asarray(LL, dtype=np.float64), LP, LP, payload)
    used = n
    kern = _Kernel(2.38 / math.sqrt(max(d, 1)), 0.5)
    infos: list[dict] = []
    done = 0
    while budget - used >= n and (stages is None or done < stages):
        info = _move_stage(cloud, kern, np.zeros(n), 1.0, rng=rng, log_prior_u=log_prior_u, log_q=None,
                           loglik=loglik, label=f"extend-{len(infos) + 1}", cap=max_moves, share_cap=max_moves,
                           budget_left=budget - used, min_moves=min_moves, jumps=jumps, stuck=stuck,
                           components=components, independence=True, defensive=defensive, resample=False)
        used += info.pop("used")
        done += bool(info["decorrelated"])
        LL = cloud.LL
        info = {"stage": len(infos) + 1, "beta": 1.0, "ess": float(n), **info, "evaluations": used,
                "best_loglik": float(np.max(LL)),
                "mean_loglik": float(np.mean(LL[np.isfinite(LL)])) if np.isfinite(LL).any() else -math.inf}
        if groups is not None:
            info.update(_across_runs(cloud.U, np.asarray(groups)))
        infos.append(info)
        if progress:
            progress(info)
        if info["moves"] == 0:
            break
    return SMCResult(cloud.U, cloud.LL, cloud.LP, cloud.payload, infos, 0.0, used, True, done > 0)


def _across_runs(U: np.ndarray, groups: np.ndarray) -> dict:
    """R-hat and disjoint 90% intervals of every coordinate of ``U`` across the runs ``groups``."""
    from emigre.calibrate.diagnostics import RHAT_MAX, disjoint_pairs, split_rhat

    labels = np.unique(groups)
    sizes = {int((groups == g).sum()) for g in labels}
    if len(labels) < 2 or len(sizes) != 1 or min(sizes) < 4:
        return {}
    rh, dj = [], 0
    for j in range(U.shape[1]):
        x = np.array([U[groups == g, j] for g in labels])
        rh.append(split_rhat(x))
        dj += disjoint_pairs(x) > 0
    return {"rhat_max": float(max(rh)), "rhat_above": int(sum(r > RHAT_MAX for r in rh)), "disjoint": int(dj)}
