"""Observation models: what each source counted, computed from the simulation, and how likely its figure is.

    from emigre.evidence import load_evidence
    from emigre.observe import coverage, loglik, predict_many

    ev = load_evidence()
    obs = ev.observation("OBS050")            # FSB: trips abroad of Russians, Q1 2022
    pred = predict_many(obs, results)         # one value per simulation result (persons)
    parts = predict_parts(obs, results)       # the same split: wave emigrants / pre-war and ordinary parts
    ll = loglik(obs, pred)                    # Student-t on the log scale, source-quality error
    coverage(ev)                              # every observation: its operator, or why it is not used

See docs/observe.md for the operators, their parameters and caveats, and the source-quality classes.
"""

from __future__ import annotations

from emigre.baselines import fsb_quarterly
from emigre.observe.context import ObservationContext
from emigre.observe.likelihood import (
    ERROR_FACTOR,
    QUALITY_SCALES,
    error_factor,
    error_scale,
    log_error,
    loglik,
    quality_class,
    total_loglik,
    transform,
)
from emigre.observe.operators import (
    OPERATORS,
    PART_DOCS,
    ResultStack,
    coverage,
    default_context,
    predict,
    predict_all,
    predict_many,
    predict_parts,
    reading,
    usable,
)
from emigre.observe.params import OBS_PARAMS, ObsParam, default_theta, resolve_theta, sample_prior
from emigre.observe.prewar import Prewar, load_prewar
from emigre.observe.readings import Reading, read_observation

__all__ = [
    "ERROR_FACTOR",
    "OBS_PARAMS",
    "OPERATORS",
    "PART_DOCS",
    "QUALITY_SCALES",
    "ObsParam",
    "ObservationContext",
    "Prewar",
    "Reading",
    "ResultStack",
    "coverage",
    "default_context",
    "default_theta",
    "error_factor",
    "error_scale",
    "fsb_quarterly",
    "load_prewar",
    "log_error",
    "loglik",
    "predict",
    "predict_all",
    "predict_many",
    "predict_parts",
    "quality_class",
    "read_observation",
    "reading",
    "resolve_theta",
    "sample_prior",
    "total_loglik",
    "transform",
    "usable",
]
