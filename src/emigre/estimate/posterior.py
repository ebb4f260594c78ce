"""The posterior sample as the estimate layer uses it, and the posterior predictive simulations.

The calibration (``emigre.calibrate``) stores ``posterior.parquet``: one row per draw with the columns
``draw``, the model parameters (scenario parameter names), the observation parameters
(:data:`emigre.observe.OBS_PARAMS`), ``logprior``, ``loglik``, ``logpost``, ``ll.<OBS id>`` (each fitted
observation's log-likelihood) and ``pred.<OBS id>`` (what its operator gave in that draw).
:func:`load_posterior` returns it, or None while no calibration has been run; the callers then fall back
to the prior and say so (:class:`Draws.note`).

:func:`simulate_draws` runs one simulation per (parameter set, seed) and keeps the results in a module-level
cache, so repeated validations in one process simulate nothing twice. Results are slimmed to what the
observation operators read (int32 arrays, no per-place or per-reason stocks): about 3.5 MB per run at 10 persons
per traveller.
"""

from __future__ import annotations

import dataclasses
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from emigre.calibrate.posterior import (  # the one reader of the posterior; re-exported for this layer's callers
    load_posterior,
    log_weights,
    model_param_names,
    pick_rows,
    posterior_params,
    posterior_theta,
)
from emigre.errors import EmigreError
from emigre.observe.params import OBS_PARAMS, default_theta, sample_prior

#: model parameters the stand-in posterior perturbs (the push intensities and the fates of those abroad)
STAND_IN_PARAMS = (
    "push_invasion_intensity",
    "push_economic_intensity",
    "push_mobilization_intensity",
    "push_repression_intensity",
    "baseline_emigration_per_year",
    "return_per_year",
    "return_mobilization_per_year",
    "onward_per_year",
    "regularise_share",
)


# ---------------------------------------------------------------------------------------------- posterior
def stand_in_posterior(n: int = 16, *, seed: int = 0, spread: float = 0.2, scenario: str = "russia-2022"
                       ) -> pd.DataFrame:
    """A made-up posterior in the calibration's format, for tests and for leave-one-source-out while no
    calibration exists: ``n`` draws with the :data:`STAND_IN_PARAMS` scattered around their scenario values
    (x lognormal(0, ``spread``); shares kept in (0.02, 0.98)) and the observation parameters drawn from their
    priors. ``logpost``/``loglik`` are NaN and there are no ``ll.`` columns: callers compute the
    log-likelihoods from their own simulations."""
    from emigre.scenario import load_scenario

    world = load_scenario(scenario)
    rng = np.random.default_rng([seed, 7_356])
    cols: dict[str, np.ndarray] = {"draw": np.arange(n)}
    for name in STAND_IN_PARAMS:
        p = world.params[name]
        v = p.value * np.exp(spread * rng.standard_normal(n))
        if p.prior.get("dist") == "beta":
            v = np.clip(v, 0.02, 0.98)
        cols[name] = v
    cols |= sample_prior(rng, n)
    cols["logprior"] = np.full(n, np.nan)
    cols["loglik"] = np.full(n, np.nan)
    cols["logpost"] = np.full(n, np.nan)
    return pd.DataFrame(cols)


@dataclass
class Draws:
    """Parameter sets of a posterior predictive: ``params[k]`` (model) and ``theta[name][k]`` (observation)
    for draw k, the posterior row each came from (``rows``; None for the prior) and how they were chosen."""

    params: list[dict[str, float]]
    theta: dict[str, np.ndarray]
    rows: np.ndarray | None
    posterior: pd.DataFrame | None
    note: str

    def __len__(self) -> int:
        return len(self.params)


def predictive_draws(n: int = 40, posterior: pd.DataFrame | None = None, *, seed: int = 0) -> Draws:
    """``n`` parameter sets from ``posterior`` (a table in the calibration's format), or - when it is None -
    from the prior: model parameters at their scenario values, observation parameters sampled from their
    priors (with a note saying so)."""
    if posterior is None:
        theta = sample_prior(np.random.default_rng([seed, 4_242]), n)
        note = (f"no posterior sample yet (run `emigre calibrate russia-2022`): prior predictive with the model "
                f"parameters at their scenario values and the observation parameters drawn from their priors, "
                f"{n} draws x 1 seed")
        return Draws([{} for _ in range(n)], theta, None, None, note)
    rows = pick_rows(len(posterior), n)
    params = [posterior_params(posterior, int(i)) for i in rows]
    thetas = [posterior_theta(posterior, int(i)) for i in rows]
    theta = {k: np.array([t.get(k, default_theta()[k]) for t in thetas], dtype=np.float64) for k in OBS_PARAMS}
    note = f"posterior predictive: {len(rows)} of {len(posterior)} posterior draws x 1 seed"
    return Draws(params, theta, rows, posterior, note)


# ---------------------------------------------------------------------------------------------- simulations
_CACHE: OrderedDict[tuple, object] = OrderedDict()
CACHE_SIZE = 160
#: ExodusResult fields the observation operators do not read (dropped from cached results)
_DROP = ("present_cr", "present_place", "wait_sum", "capacity", "log")


def slim(result):
    """The result with only what the observation operators read, counts as int32."""
    changes = {}
    for f in dataclasses.fields(result):
        v = getattr(result, f.name)
        if f.name in _DROP:
            changes[f.name] = None if f.name in ("capacity", "log") else np.zeros((0,), dtype=np.int32)
        elif isinstance(v, np.ndarray) and v.dtype == np.int64 and (v.size == 0 or np.abs(v).max() < 2**31):
            changes[f.name] = v.astype(np.int32)
    return dataclasses.replace(result, **changes)


def _key(scenario: str, params: dict, seed: int, scale: float) -> tuple:
    return (str(scenario), float(scale), int(seed), tuple(sorted((k, float(v)) for k, v in params.items())))


def _simulate_one(scenario: str, params: dict, seed: int, scale: float):
    from emigre.behaviour.exodus import simulate

    return slim(simulate(scenario, seed=seed, params=params or None, scale=scale))


def simulate_draws(
    params: Sequence[dict[str, float]],
    *,
    seeds: Sequence[int] | None = None,
    scale: float = 10.0,
    scenario: str = "russia-2022",
    workers: int = 1,
    cluster: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list:
    """One simulation per parameter set (seed ``seeds[k]``, default k), from the cache where it has been run
    before in this process; the missing ones run on :mod:`emigre.ensemble.executor` (``workers`` local
    processes, 1 = in this process; or the Dask ``cluster``, default ``$EMIGRE_CLUSTER``)."""
    if not scale > 0:
        raise EmigreError(f"--scale must be > 0, got {scale}")
    seeds = list(range(len(params))) if seeds is None else list(seeds)
    keys = [_key(scenario, p, s, scale) for p, s in zip(params, seeds, strict=True)]
    todo = [k for k in dict.fromkeys(keys) if k not in _CACHE]
    done = len(keys) - len(todo)
    if progress:
        progress(done, len(keys))
    spec = {k: (params[keys.index(k)], seeds[keys.index(k)]) for k in todo}
    from emigre.ensemble.executor import run_many

    workers = max(1, min(int(workers or os.cpu_count() or 1), len(todo))) if todo else 1
    results = run_many(_simulate_one, [(scenario, spec[k][0], spec[k][1], scale) for k in todo], workers=workers,
                       cluster=cluster,
                       progress=(lambda d, _n: progress(done + d, len(keys))) if progress else None)
    got: dict[tuple, object] = dict(zip(todo, results, strict=True))
    out = [got[k] if k in got else _CACHE[k] for k in keys]
    for k in keys:  # most recently used last
        if k in _CACHE:
            _CACHE.move_to_end(k)
    for k, r in got.items():
        _CACHE[k] = r
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return out


def clear_cache() -> None:
    """Forget the simulations kept by :func:`simulate_draws`."""
    _CACHE.clear()


__all__ = [
    "Draws",
    "clear_cache",
    "load_posterior",
    "log_weights",
    "model_param_names",
    "pick_rows",
    "posterior_params",
    "posterior_theta",
    "predictive_draws",
    "simulate_draws",
    "slim",
    "stand_in_posterior",
]
