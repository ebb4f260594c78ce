"""Estimates with honest intervals, and the checks that they are honest.

- :func:`estimate`: median, 50% and 90% intervals over the runs of an ensemble store (posterior draws x seeds)
  of departed, abroad, returned, present, arrivals, crossings and composition shares;
- :func:`validate`: the posterior predictive of figures held out of the calibration, through the same
  observation operators and with the same observation noise as the likelihood;
- :func:`leave_one_source_out`: the same check on the public evidence, one source at a time, by
  Pareto-smoothed importance re-weighting of the posterior.

>>> from emigre import estimate          # the package, callable as emigre.estimate.estimate
>>> [e] = estimate("abroad", "out/russia-2022", at="2022-12-31")
>>> round(e.median), round(e.lo90), round(e.hi90)

See docs/estimate.md.
"""

from emigre.callable_package import make_callable
from emigre.estimate.loso import LosoResult, leave_one_source_out, psis, source_key
from emigre.estimate.posterior import load_posterior, predictive_draws, simulate_draws, stand_in_posterior
from emigre.estimate.quantities import QUANTITIES, Estimate, describe_runs, estimate, open_store, quantiles
from emigre.estimate.validation import Validation, load_holdout, validate

__all__ = [
    "QUANTITIES",
    "Estimate",
    "LosoResult",
    "Validation",
    "describe_runs",
    "estimate",
    "leave_one_source_out",
    "load_holdout",
    "load_posterior",
    "open_store",
    "predictive_draws",
    "psis",
    "quantiles",
    "simulate_draws",
    "source_key",
    "stand_in_posterior",
    "validate",
]

make_callable(__name__)  # `from emigre import estimate; estimate(...)` (see emigre.callable_package)
