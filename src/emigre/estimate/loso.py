"""Leave-one-source-out cross-validation over the public evidence, by importance re-weighting.

The posterior was fitted to every used observation. Leaving out one source s (all the figures it published)
changes the posterior by the factor 1 / L_s(theta): the draws are re-weighted by
``w_i ∝ exp(-sum_{o in s} ll_o(theta_i))`` (times their own weights, if the sample has any). Raw weights of
that form can be dominated by a few draws, so they are Pareto-smoothed (PSIS, Vehtari, Simpson, Gelman, Yao &
Gabry 2024): the largest ones are replaced by the expected order statistics of a generalised Pareto
distribution fitted to them; ``k_hat`` (the fitted shape) above 0.7 says the leave-one-out posterior is too far
from the full one for the weights to be trusted. The effective sample size is ``1 / sum w_i^2``.

For each observation of s, the predictive interval of the published figure comes from the re-weighted draws
with the observation noise of its likelihood (:mod:`emigre.estimate.predictive`), and is judged as in
``emigre validate``. Summaries: coverage of the 90% intervals overall, per kind and per source, and the median
|log error|.

The log-likelihoods are the posterior's ``ll.<id>`` columns when it has them (those the calibration fitted
with); otherwise they are computed from this module's simulations. Sources are publishers normalised by
:func:`source_key`: the producer of the number, not the outlet that relayed it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from emigre.errors import EmigreError
from emigre.estimate.posterior import (
    load_posterior,
    log_weights,
    predictive_draws,
    simulate_draws,
    stand_in_posterior,
)
from emigre.estimate.predictive import summarise
from emigre.estimate.validation import row_of
from emigre.evidence.records import Observation
from emigre.observe import (
    ERROR_FACTOR,
    default_context,
    error_factor,
    error_scale,
    loglik,
    predict_parts,
    read_observation,
)
from emigre.observe.likelihood import source_of
from emigre.observe.operators import ResultStack, usable

K_HAT_OK = 0.7

# (pattern on the publisher, source): the producer of the figure wins over the outlet, and one producer's
# press releases, statements and tables are one source
_ALIASES: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(p, re.I), s)
    for p, s in (
        (r"eurostat", "Eurostat"),
        (r"\bFSB\b", "FSB Border Service"),
        (r"^wikipedia", "Wikipedia"),
        (r"frontex", "Frontex"),
        (r"^georgian (?:mvd|authorities)", "Georgian MVD"),
        (r"^kazakh\b.*(?:mvd|interior)", "Kazakh MVD"),
        (r"finnish border guard", "Finnish Border Guard"),
        (r"^forbes russia", "Forbes Russia"),
        (r"vucic", "President Vucic"),
        (r"argentin\w* (?:national )?migration", "Argentine National Migration Directorate"),
        (r"turkish migration", "Turkish Migration Directorate"),
        (r"^the bell\b", "The Bell"),
        (r"zavadskaya", "Zavadskaya (OutRush / PONARS)"),
        (r"\bCBP\b", "US CBP"),
        (r"^verstka", "Verstka"),
        (r"^meduza", "Meduza"),
    )
)


def source_key(obs: Observation) -> str:
    """The source of a figure: the publisher up to " via ", mapped by the alias table (the data producer
    named in brackets wins: "Verstka (Eurostat)" is Eurostat), else without its bracketed remarks."""
    src = source_of(obs)
    for pattern, name in _ALIASES:
        if pattern.search(src):
            return name
    bare = re.sub(r"\s*\([^)]*\)", "", src).strip(" ;,.")
    return re.sub(r"\s+", " ", bare) or src


# ---------------------------------------------------------------------------------------------- PSIS
def _gpd_fit(x: np.ndarray) -> tuple[float, float]:
    """Shape k and scale sigma of a generalised Pareto fitted to sorted exceedances ``x`` (Zhang & Stephens
    2009, with the weakly informative prior on k of Vehtari et al.)."""
    n = len(x)
    m = 30 + int(math.sqrt(n))
    b = 1.0 - np.sqrt(m / (np.arange(1, m + 1) - 0.5))
    b /= 3.0 * x[int(n / 4 + 0.5) - 1]
    b += 1.0 / x[-1]
    k = np.log1p(-b[:, None] * x[None, :]).mean(axis=1)
    len_scale = n * (np.log(-(b / k)) - k - 1.0)
    weights = 1.0 / np.exp(len_scale - len_scale[:, None]).sum(axis=1)
    ok = weights >= 10 * np.finfo(float).eps
    b, weights = b[ok], weights[ok] / weights[ok].sum()
    b_post = float((b * weights).sum())
    k_post = float(np.log1p(-b_post * x).mean())
    sigma = -k_post / b_post
    k_post = (n * k_post + 10 * 0.5) / (n + 10)
    return k_post, sigma


def _gpd_quantile(p: np.ndarray, k: float, sigma: float) -> np.ndarray:
    if abs(k) < 1e-12:
        return -sigma * np.log1p(-p)
    return sigma * np.expm1(-k * np.log1p(-p)) / k


def psis(log_w: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smoothed normalised weights and k_hat (inf when the tail is too short to fit)."""
    lw = np.asarray(log_w, dtype=np.float64).copy()
    n = len(lw)
    finite = np.isfinite(lw)
    if not finite.any():
        raise EmigreError("importance weights: every log weight is infinite")
    lw[~finite] = -np.inf
    lw -= lw[finite].max()
    tail = int(math.ceil(min(0.2 * n, 3.0 * math.sqrt(n))))
    order = np.argsort(lw)
    k_hat = math.inf
    if tail >= 5 and n > tail + 1:
        cutoff = max(lw[order[-tail - 1]], math.log(np.finfo(float).tiny))
        idx = np.flatnonzero(lw > cutoff)
        if len(idx) == 0:  # the largest weights are all equal: no tail at all
            k_hat = 0.0
        elif len(idx) >= 5:
            idx = idx[np.argsort(lw[idx])]
            exceed = np.exp(lw[idx]) - math.exp(cutoff)
            k_hat, sigma = _gpd_fit(exceed)
            if np.isfinite(k_hat) and sigma > 0:
                p = (np.arange(len(idx)) + 0.5) / len(idx)
                smoothed = np.log(_gpd_quantile(p, k_hat, sigma) + math.exp(cutoff))
                lw[idx] = np.minimum(smoothed, 0.0)  # truncated at the largest raw weight
    w = np.exp(lw - lw.max())
    return w / w.sum(), float(k_hat)


def ess(w: np.ndarray) -> float:
    """Effective sample size of importance weights (Kish)."""
    w = np.asarray(w, dtype=np.float64)
    return float(1.0 / np.sum((w / w.sum()) ** 2))


# ---------------------------------------------------------------------------------------------- LOSO
@dataclass
class LosoResult:
    """Leave-one-source-out results per observation, source and kind, and what was skipped and why."""

    rows: pd.DataFrame  # one row per observation: id, source, kind, observed, median, lo90, hi90, inside, ...
    sources: pd.DataFrame  # one row per source: observations, ess, k_hat, coverage90, median_abs_log_error
    kinds: pd.DataFrame  # one row per kind: observations, coverage90, median_abs_log_error
    skipped: list[dict]
    draws: int
    scale: float
    note: str
    stand_in: bool

    def summary(self) -> dict:
        """Coverage and errors over every observation, JSON-ready."""
        recs = self.rows.to_dict("records")
        s = summarise(recs)
        ins = summarise([{**r, "inside": r["inside_all"], "log_error": r["log_error_all"]} for r in recs])
        return {
            "observations": len(recs),
            "sources": len(self.sources),
            "coverage90": s["coverage90"],
            "median_abs_log_error": s["median_abs_log_error"],
            "coverage90_in_sample": ins["coverage90"],
            "median_abs_log_error_in_sample": ins["median_abs_log_error"],
            "sources_k_hat_above_0.7": int((self.sources["k_hat"] > K_HAT_OK).sum()),
            "median_ess": float(self.sources["ess"].median()) if len(self.sources) else None,
            "draws": self.draws,
            "scale": self.scale,
            "stand_in_posterior": self.stand_in,
        }


def leave_one_source_out(
    posterior: pd.DataFrame | None = None,
    *,
    observations: Sequence[Observation] | None = None,
    draws: int = 40,
    scale: float = 10.0,
    workers: int = 1,
    cluster: str | None = None,
    scenario: str = "russia-2022",
    simulate: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LosoResult:
    """Leave-one-source-out predictive check of the used public observations (default: the packaged
    evidence) under ``posterior`` (default: the stored posterior; a stand-in posterior, flagged in the result,
    while there is none).

    The observations are those the calibration fitted (``ll.<id>`` columns) or, for a posterior without them,
    every observation with an operator in the simulated period. When the posterior stores every one's
    prediction (``pred.<id>``), all its draws are used as they are (``simulate=None`` or False); otherwise
    ``draws`` draws are simulated (1 seed each, ``scale`` persons per traveller)."""
    if observations is None:
        from emigre.evidence import load_evidence

        observations = load_evidence().observations
    stand_in = False
    if posterior is None:
        posterior = load_posterior()
    if posterior is None:
        posterior = stand_in_posterior(max(draws, 8), scenario=scenario)
        stand_in = True
    ctx = default_context()
    fitted = {c[3:] for c in posterior.columns if c.startswith("ll.")}
    if fitted:
        observations = [o for o in observations if o.id in fitted]
    stored = all(f"pred.{o.id}" in posterior.columns for o in observations) and bool(fitted)
    use_stored = stored and not simulate
    skipped: list[dict] = []
    used: list[tuple[Observation, np.ndarray, float, float, str, np.ndarray]] = []
    parts_of: dict[str, dict[str, np.ndarray]] = {}  # simulated draws only: the stored predictions have no parts
    if use_stored:
        rows_idx = np.arange(len(posterior))
        note = f"the posterior's {len(posterior)} draws with their stored predictions (pred.<id>)"
        n_draws, sim_scale = len(posterior), float("nan")
        factor = error_factor({ERROR_FACTOR: posterior[ERROR_FACTOR].to_numpy(dtype=np.float64)}
                              if ERROR_FACTOR in posterior.columns else None)
        for obs in observations:
            rd = read_observation(obs, ctx)
            pred = posterior[f"pred.{obs.id}"].to_numpy(dtype=np.float64)
            ll = posterior[f"ll.{obs.id}"].to_numpy(dtype=np.float64)
            used.append((obs, pred, error_scale(obs, rd) * factor, rd.floor, rd.operator, ll))
    else:
        d = predictive_draws(draws, posterior)
        rows_idx = d.rows
        note = d.note
        n_draws, sim_scale = len(d), scale
        results = simulate_draws(d.params, seeds=range(len(d)), scale=scale, scenario=scenario, workers=workers,
                                 cluster=cluster, progress=progress)
        stack = ResultStack(results, ctx)
        factor = error_factor(d.theta)
        for obs in observations:
            why = usable(obs, ctx, stack.end)
            if why is not None:
                skipped.append({"id": obs.id, "reason": why})
                continue
            rd = read_observation(obs, ctx)
            try:
                split = predict_parts(obs, results, ctx, d.theta, stack=stack)
            except EmigreError as exc:
                skipped.append({"id": obs.id, "reason": f"the operator failed: {exc}"})
                continue
            parts_of[obs.id] = split
            pred = np.sum(list(split.values()), axis=0)
            col = f"ll.{obs.id}"
            if col in posterior.columns and np.isfinite(posterior[col].to_numpy()[rows_idx]).all():
                ll = posterior[col].to_numpy(dtype=np.float64)[rows_idx]
            else:
                ll = np.asarray(loglik(obs, pred, sigma=error_scale(obs, rd) * factor, world_ctx=ctx),
                                dtype=np.float64)
            used.append((obs, pred, error_scale(obs, rd) * factor, rd.floor, rd.operator, ll))
    if not used:
        raise EmigreError("no observation could be predicted: nothing to cross-validate")
    base = log_weights(posterior)[rows_idx]
    groups: dict[str, list[int]] = {}
    for j, (obs, *_rest) in enumerate(used):
        groups.setdefault(source_key(obs), []).append(j)
    base_w = np.exp(base - base.max())
    base_w /= base_w.sum()
    rows, src_rows = [], []
    for source, idx in sorted(groups.items()):
        ll_s = np.sum([used[j][5] for j in idx], axis=0)
        w, k_hat = psis(base - ll_s)
        part = []
        for j in idx:
            obs, pred, sigma, floor, op, _ = used[j]
            r = row_of(obs, pred, sigma, floor, op, w, parts=parts_of.get(obs.id))
            full = row_of(obs, pred, sigma, floor, op, base_w)
            r |= {"source": source, "inside_all": full["inside"], "log_error_all": full["log_error"],
                  "ess": ess(w), "k_hat": k_hat}
            part.append(r)
        rows += part
        s = summarise(part)
        src_rows.append({"source": source, "observations": len(idx), "ess": ess(w), "k_hat": k_hat, **s})
    frame = pd.DataFrame(rows)
    kinds = [
        {"kind": kind, "observations": len(g), **summarise(g.to_dict("records"))}
        for kind, g in frame.groupby("kind", sort=True)
    ]
    note += " (a stand-in posterior: no calibration yet)" if stand_in else ""
    return LosoResult(frame, pd.DataFrame(src_rows), pd.DataFrame(kinds), skipped, n_draws, sim_scale, note,
                      stand_in)


__all__ = ["K_HAT_OK", "LosoResult", "ess", "leave_one_source_out", "psis", "source_key"]
