"""Validation on figures held out of the calibration: the posterior predictive of each published figure,
through the same observation operator and with the same observation noise as in the likelihood.

    from emigre.estimate import validate
    v = validate("holdout.csv", draws=40, scale=10)
    v.to_json()   # {"rows": [...], "coverage90": ..., "median_abs_log_error": ..., "skipped": [...]}

For every row of the hold-out file (the evidence schema of ``observations.csv``): ``draws`` posterior draws
(1 seed each) are simulated at ``scale`` persons per traveller (cached in the process), the row's operator is
applied with each draw's observation parameters, and the predictive interval of the published figure is the
mixture of the draws' values with the likelihood's Student-t error (:mod:`emigre.estimate.predictive`). A row
that has no operator, or whose period lies outside the simulated period, is listed in ``skipped`` with the
reason - never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from emigre.errors import EmigreError
from emigre.estimate.posterior import Draws, load_posterior, predictive_draws, simulate_draws
from emigre.estimate.predictive import judge, observed_value, predictive_interval, summarise
from emigre.evidence.records import Observation
from emigre.observe import default_context, error_factor, error_scale, read_observation
from emigre.observe.operators import ResultStack, predict_parts, usable

JSON_ROW_KEYS = ("id", "observed", "median", "lo50", "hi50", "lo90", "hi90", "inside", "log_error", "model_median",
                 "parts")


def load_holdout(path: str | Path) -> tuple[Observation, ...]:
    """Observations of a hold-out file in the evidence schema; a bad file fails naming file, line, column."""
    from emigre.evidence.schema import parse_rows, read_table

    p = Path(path)
    if not p.exists():
        raise EmigreError(f"no hold-out file {p}")
    return tuple(parse_rows(read_table(p, what="hold-out file"), "observations"))


@dataclass
class Validation:
    """Rows (with more detail than the JSON: kind, bound, low, high, unit, sigma, 50% interval), skipped rows,
    the summary and notes (how the draws were chosen, rows that were not hold-outs)."""

    rows: list[dict]
    skipped: list[dict]
    notes: list[str] = field(default_factory=list)
    draws: int = 0
    scale: float = 0.0

    @property
    def coverage90(self) -> float | None:
        """Share of held-out figures inside their 90% band."""
        return summarise(self.rows)["coverage90"]

    @property
    def median_abs_log_error(self) -> float | None:
        """Median absolute log error of the held-out figures."""
        return summarise(self.rows)["median_abs_log_error"]

    def to_json(self) -> dict:
        """Exactly ``{"rows": [{id, observed, median, lo50, hi50, lo90, hi90, inside, log_error, model_median,
        parts}], "coverage90", "median_abs_log_error", "skipped": [{id, reason}]}``: the interval keys are the
        published figure's predictive quantiles (observation noise included); ``model_median`` the median of
        the operator's value over the draws, ``parts`` its split (:data:`emigre.observe.operators.PART_DOCS`):
        ``{part: {"median", "lo90", "hi90"}}`` over the draws, without observation noise."""
        return {
            "rows": [{k: r[k] for k in JSON_ROW_KEYS} for r in self.rows],
            **summarise(self.rows),
            "skipped": [{"id": s["id"], "reason": s["reason"]} for s in self.skipped],
        }

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame."""
        return pd.DataFrame(self.rows)


def predictive_rows(
    observations: Sequence[Observation],
    results: Sequence,
    draws: Draws,
    ctx,
    weights=None,
) -> tuple[list[dict], list[dict]]:
    """(rows, skipped) of ``observations`` against simulations ``results`` (one per draw) with the draws'
    observation parameters; ``weights`` re-weight the draws (leave-one-source-out)."""
    rows, skipped = [], []
    stack = ResultStack(results, ctx) if results else None
    end = stack.end if stack is not None else ctx.end
    for obs in observations:
        why = usable(obs, ctx, end)
        if why is not None:
            skipped.append({"id": obs.id, "kind": obs.kind, "reason": why})
            continue
        rd = read_observation(obs, ctx)
        try:
            parts = predict_parts(obs, results, ctx, draws.theta, stack=stack)
        except EmigreError as exc:
            skipped.append({"id": obs.id, "kind": obs.kind, "reason": f"the operator failed: {exc}"})
            continue
        pred = np.sum(list(parts.values()), axis=0)
        sigma = error_scale(obs, rd) * error_factor(draws.theta)
        rows.append(row_of(obs, pred, sigma, rd.floor, rd.operator, weights, parts=parts))
    return rows, skipped


def weighted_quantiles(values, probs, weights=None) -> np.ndarray:
    """Quantiles of ``values`` (one per draw) with draw ``weights`` (equal when None): the inverse of the
    weighted empirical CDF, interpolated between the draws' midpoints."""
    v = np.asarray(values, dtype=np.float64)
    w = np.full(v.size, 1.0) if weights is None else np.asarray(weights, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cw = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.asarray(probs, dtype=np.float64), cw, v)


def parts_summary(parts: dict[str, np.ndarray] | None, weights=None) -> dict[str, dict[str, float]]:
    """Median and 5-95% of each part of a prediction over the draws (no observation noise)."""
    out: dict[str, dict[str, float]] = {}
    for name, vals in (parts or {}).items():
        lo, med, hi = weighted_quantiles(vals, [0.05, 0.5, 0.95], weights)
        out[name] = {"median": float(med), "lo90": float(lo), "hi90": float(hi)}
    return out


def _median_sigma(sigma, pred, weights=None) -> float:
    """The error scale a row reports: its draws' (weighted) median over the draws with a prediction."""
    s = np.broadcast_to(np.asarray(sigma, dtype=np.float64), np.shape(pred))
    ok = np.isfinite(np.asarray(pred, dtype=np.float64))
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[ok]
    return float(weighted_quantiles(s[ok], [0.5], w)[0]) if ok.any() else float(np.median(s))


def row_of(obs: Observation, pred, sigma, floor: float, operator: str, weights=None, *,
           parts: dict[str, np.ndarray] | None = None) -> dict:
    """One row of a predictive check; ``sigma`` the observation's error scale (one, or one per draw: the draws'
    ``error_scale_factor``), ``parts`` (part -> one value per draw) split the prediction."""
    iv = predictive_interval(obs, pred, sigma, floor, weights, operator)
    inside, err = judge(obs, iv, floor)
    return {
        "id": obs.id,
        "observed": observed_value(obs),
        "median": iv["median"],
        "lo90": iv["lo90"],
        "hi90": iv["hi90"],
        "inside": inside,
        "log_error": err,
        "lo50": iv["lo50"],
        "hi50": iv["hi50"],
        "kind": obs.kind,
        "destination": obs.destination,
        "period": obs.period_text,
        "bound": obs.bound,
        "low": obs.low,
        "high": obs.high,
        "unit": obs.unit,
        "operator": operator,
        "sigma": _median_sigma(sigma, pred, weights),
        "model_median": float(weighted_quantiles(pred, [0.5], weights)[0]),
        "parts": parts_summary(parts, weights),
    }


def validate(
    holdout: str | Path | Sequence[Observation],
    *,
    draws: int = 40,
    scale: float = 10.0,
    workers: int = 1,
    cluster: str | None = None,
    posterior: pd.DataFrame | str | Path | None = None,
    scenario: str = "russia-2022",
    progress: Callable[[int, int], None] | None = None,
) -> Validation:
    """Posterior predictive check of every row of ``holdout`` (a file in the evidence schema, or
    observations). ``posterior``: a table in the calibration's format, its file, or None for the stored
    posterior (:func:`emigre.estimate.posterior.load_posterior`; the prior when there is none)."""
    if isinstance(holdout, str | Path):
        observations = load_holdout(holdout)
    else:
        observations = tuple(holdout)
    if draws < 1:
        raise EmigreError(f"--draws must be >= 1, got {draws}")
    post = posterior if isinstance(posterior, pd.DataFrame) else load_posterior(posterior)
    ctx = default_context() if scenario == "russia-2022" else _context(scenario)
    d = predictive_draws(draws, post)
    notes = [d.note]
    if post is not None:
        fitted = [o.id for o in observations if f"ll.{o.id}" in post.columns]
        if fitted:
            notes.append(f"not hold-outs: {', '.join(fitted)} took part in the calibration (ll.<id> in the "
                         "posterior); their coverage says little about new figures")
    need = any(usable(o, ctx) is None for o in observations)
    results = (simulate_draws(d.params, seeds=range(len(d)), scale=scale, scenario=scenario, workers=workers,
                              cluster=cluster, progress=progress) if need else [])
    rows, skipped = predictive_rows(observations, results, d, ctx)
    return Validation(rows, skipped, notes, draws=len(d), scale=scale)


def _context(scenario: str):
    from emigre.observe import ObservationContext

    return ObservationContext.from_scenario(scenario)


__all__ = ["JSON_ROW_KEYS", "Validation", "load_holdout", "predictive_rows", "row_of", "validate"]
