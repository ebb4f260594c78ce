"""Calibration: the model and observation parameters inferred from the evidence, with their uncertainty.

>>> from emigre import calibrate          # the package, callable as emigre.calibrate.calibrate
>>> res = calibrate("russia-2022", budget=3600, workers=2, out="out/calibrate-russia-2022")
>>> res.posterior                           # one row per posterior draw (also out/.../posterior.parquet)

Then ``emigre.simulate("russia-2022", seed=1, params=posterior_params(res.posterior, 0), scale=20)`` runs a
draw (:func:`posterior_params`, :func:`load_posterior` and the other readers are in
:mod:`emigre.calibrate.posterior`).

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
from emigre.callable_package import make_callable

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

make_callable(__name__)  # `from emigre import calibrate; calibrate(...)` (see emigre.callable_package)
