"""Calibration: the model and observation parameters inferred from the evidence, with their uncertainty.

    from emigre.calibrate import calibrate, load_posterior, posterior_params, posterior_theta

    res = calibrate("russia-2022", budget=3600, workers=2, out="out/calibrate-russia-2022")
    post = load_posterior("out/calibrate-russia-2022")      # one row per posterior draw
    simulate("russia-2022", seed=1, params=posterior_params(post, 0), scale=20)

Two stages: a fit (Optuna TPE -> MAP) and a posterior sample (likelihood-tempered SMC), every evaluation
committed to a SQLite journal so a killed run resumes without losing or repeating simulations.
See docs/calibrate.md.
"""

from __future__ import annotations

from emigre.calibrate.calibration import (
    DEFAULT_BUDGET,
    DEFAULT_OUT,
    CalibrationResult,
    calibrate,
    split_budget,
)
from emigre.calibrate.objective import Evaluation, Objective, read_exclude, select_observations
from emigre.calibrate.posterior import (
    draw_order,
    load_posterior,
    packaged_posterior_path,
    posterior_params,
    posterior_theta,
)
from emigre.calibrate.smc import tempered_smc
from emigre.calibrate.space import CALIBRATED, ParameterSpace, Prior, default_space

__all__ = [
    "CALIBRATED",
    "DEFAULT_BUDGET",
    "DEFAULT_OUT",
    "CalibrationResult",
    "Evaluation",
    "Objective",
    "ParameterSpace",
    "Prior",
    "calibrate",
    "default_space",
    "draw_order",
    "load_posterior",
    "packaged_posterior_path",
    "posterior_params",
    "posterior_theta",
    "read_exclude",
    "select_observations",
    "split_budget",
    "tempered_smc",
]
