"""Convergence diagnostics across independent calibration runs (pure NumPy).

``draws`` is an array ``[runs, draws]`` of one quantity (a parameter or a prediction): each row is one
independent calibration's equal-weight posterior sample.

- :func:`split_rhat`: the rank-normalised split potential scale reduction of Vehtari, Gelman, Simpson,
  Carpenter and Buerkner (2021, "Rank-normalization, folding, and localization: an improved R-hat", Bayesian
  Analysis 16(2)): each run is split in halves, draws are replaced by the normal scores of their pooled ranks
  (robust to heavy tails), and the reported value is the larger of the bulk R-hat and the R-hat of the folded
  draws ``|x - median|`` (which sees runs that agree on the centre but not on the spread). About 1 when the
  runs sample the same distribution; the usual gate is 1.01 for long MCMC chains, the issue asks 1.05.
- :func:`ess`: the bulk effective sample size of the same split, rank-normalised draws (Geyer's initial
  monotone sequence on the multi-run autocorrelation). Draws are taken in their row order: an SMC sample whose
  rows come grouped by ancestor and have not decorrelated shows it as autocorrelation.
- :func:`disjoint_pairs`: how many pairs of runs have central 90% intervals that do not overlap.
- :func:`convergence`: all three for every column of a posterior table with a ``run`` column, and the verdict.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

RHAT_MAX = 1.05
_INV = np.vectorize(NormalDist().inv_cdf, otypes=[float])


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) of the flattened ``x``, ties sharing their mean rank."""
    flat = x.ravel()
    order = np.argsort(flat, kind="stable")
    sorted_x = flat[order]
    r = np.empty(len(flat))
    r[order] = np.arange(1, len(flat) + 1, dtype=float)
    # ties: the mean rank of each run of equal values
    _, start, counts = np.unique(sorted_x, return_index=True, return_counts=True)
    if (counts > 1).any():
        cs = np.cumsum(np.arange(1, len(flat) + 1, dtype=float))
        for s, c in zip(start[counts > 1], counts[counts > 1], strict=True):
            total = cs[s + c - 1] - (cs[s - 1] if s > 0 else 0.0)
            r[order[s:s + c]] = total / c
    return r.reshape(x.shape)


def _normal_scores(x: np.ndarray) -> np.ndarray:
    s = x.size
    return _INV((_ranks(x) - 0.375) / (s + 0.25))


def _split(draws: np.ndarray) -> np.ndarray:
    draws = np.asarray(draws, dtype=np.float64)
    if draws.ndim != 2:
        raise ValueError(f"draws must be [runs, draws], got shape {draws.shape}")
    n = draws.shape[1] // 2
    if n < 2:
        raise ValueError("each run needs at least 4 draws")
    return np.concatenate([draws[:, :n], draws[:, -n:]], axis=0)


def _rhat_plain(chains: np.ndarray) -> float:
    m, n = chains.shape
    means = chains.mean(1)
    w = chains.var(1, ddof=1).mean()
    b = n * means.var(ddof=1)
    if w <= 0:
        return 1.0 if b <= 0 else float("inf")
    var_plus = (n - 1) / n * w + b / n
    return float(np.sqrt(var_plus / w))


def split_rhat(draws: np.ndarray) -> float:
    """Rank-normalised split R-hat (max of bulk and folded) of ``draws [runs, draws]``."""
    chains = _split(draws)
    if np.ptp(chains) == 0:
        return 1.0
    bulk = _rhat_plain(_normal_scores(chains))
    folded = np.abs(chains - np.median(chains))
    tail = _rhat_plain(_normal_scores(folded)) if np.ptp(folded) > 0 else 1.0
    return max(bulk, tail)


def ess(draws: np.ndarray) -> float:
    """Bulk effective sample size of ``draws [runs, draws]`` (rank-normalised, split runs)."""
    chains = _split(draws)
    m, n = chains.shape
    if np.ptp(chains) == 0:
        return float(m * n)
    z = _normal_scores(chains)
    z = z - z.mean(1, keepdims=True)
    # autocovariance of each chain by FFT (biased estimator, as in Geyer 1992)
    f = np.fft.rfft(z, n=2 * n, axis=1)
    acov = np.fft.irfft(f * np.conj(f), axis=1)[:, :n] / n
    w = (acov[:, 0] * n / (n - 1)).mean()
    means = _normal_scores(chains).mean(1)
    var_plus = (n - 1) / n * w + (means.var(ddof=1) if m > 1 else 0.0)
    if var_plus <= 0:
        return float(m * n)
    rho = 1.0 - (w - acov.mean(0)) / var_plus
    rho[0] = 1.0
    # Geyer's initial positive and monotone sequence over pairs of lags
    tau, prev = -1.0, np.inf
    for t in range(0, n - 1, 2):
        p = rho[t] + rho[t + 1]
        if p < 0:
            break
        p = min(p, prev)
        prev = p
        tau += 2.0 * p
    tau = max(tau, 1.0 / np.log10(m * n))
    return float(m * n / tau)


def intervals90(draws: np.ndarray) -> np.ndarray:
    """[runs, 2]: each run's central 90% interval (5% and 95% quantiles)."""
    return np.quantile(np.asarray(draws, dtype=np.float64), [0.05, 0.95], axis=1).T


def disjoint_pairs(draws: np.ndarray) -> int:
    """Number of pairs of runs whose central 90% intervals do not overlap."""
    iv = intervals90(draws)
    k = len(iv)
    return int(sum(iv[i, 1] < iv[j, 0] or iv[j, 1] < iv[i, 0] for i in range(k) for j in range(i + 1, k)))


def convergence(df, columns: list[str], *, run_column: str = "run", rhat_max: float = RHAT_MAX) -> dict:
    """Diagnostics of ``columns`` across the runs of a posterior table.

    Runs are truncated to the shortest one (R-hat needs equal lengths). Returns ``{"runs", "draws_per_run",
    "rhat_max", "quantities": {column: {"rhat", "ess", "disjoint_pairs"}}, "failed": [...], "converged"}``;
    ``converged`` is True only when every R-hat <= ``rhat_max`` and no pair of runs is disjoint (and there
    are at least two runs: one run proves nothing)."""
    runs = sorted(df[run_column].unique().tolist())
    groups = [df[df[run_column] == r] for r in runs]
    n = min(len(g) for g in groups)
    out: dict[str, dict] = {}
    failed = []
    for c in columns:
        x = np.array([g[c].to_numpy(dtype=np.float64)[:n] for g in groups])
        if len(runs) < 2 or not np.isfinite(x).all():
            out[c] = {"rhat": None, "ess": None, "disjoint_pairs": None}
            if len(runs) >= 2:
                failed.append({"quantity": c, "why": "non-finite draws"})
            continue
        rh, es, dj = split_rhat(x), ess(x), disjoint_pairs(x)
        out[c] = {"rhat": rh, "ess": es, "disjoint_pairs": dj}
        if rh > rhat_max or dj > 0:
            failed.append({"quantity": c, "rhat": rh, "disjoint_pairs": dj})
    return {"runs": len(runs), "draws_per_run": n, "rhat_max": rhat_max, "quantities": out,
            "failed": failed, "converged": len(runs) >= 2 and not failed}
