"""The log-posterior of a parameter vector: log prior + the log-likelihoods of the used observations.

A vector ``x`` (natural units, in the order of a :class:`~emigre.calibrate.space.ParameterSpace`) sets the
calibrated model parameters; the simulation is run once per seed of ``sim_seeds`` (common random numbers:
every parameter set meets the same random numbers, so differences between sets are differences of the
parameters, not of the luck of the draw), each observation is predicted through its operator
(:func:`emigre.observe.predict_all`) with the observation parameters of ``x``, the prediction is the mean
over the seeds, and its log-likelihood is :func:`emigre.observe.loglik`.

Observations: the evidence rows that have an operator and lie within the simulated horizon, minus the
held-out ids (``exclude``): the calibration never sees a held-out figure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emigre.calibrate.space import ParameterSpace
from emigre.errors import EmigreError


@dataclass
class Evaluation:
    """One evaluated parameter vector."""

    logprior: float
    loglik: float
    ll: np.ndarray  # per used observation, in Objective.obs_ids order
    pred: np.ndarray  # mean prediction per used observation (persons, or percent)
    seconds: float = 0.0
    error: str | None = None
    cpu: float = 0.0  # CPU seconds of the evaluation (wall seconds inflate on a shared machine)

    @property
    def logpost(self) -> float:
        """Log posterior: log prior plus log likelihood."""
        return self.logprior + self.loglik


@dataclass(frozen=True)
class ObjectiveSpec:
    """Everything an evaluation depends on, picklable (sent to worker processes)."""

    space: ParameterSpace
    observations: tuple  # the used Observation records
    scenario: str = "russia-2022"
    sim_seeds: tuple[int, ...] = (0,)
    scale: float = 20.0
    end: str | None = None
    excluded: tuple[str, ...] = ()  # held-out ids (only recorded: they are not among ``observations``)
    fast: bool = True  # cache the scenario's routes and parameter file across evaluations (same results)
    #: person-days that would-be leavers may spend waiting (travelling to, queueing at or balking at the border)
    #: before the run is stopped and scored -inf: a prior bound on gridlock (see docs/calibrate.md)
    max_waiting_days: float | None = 3e7

    def fingerprint(self) -> str:
        """Hash of what an evaluation depends on besides ``x``: scenario files, observations, seeds, scale."""
        h = hashlib.sha256()
        h.update(json.dumps({"scenario": self.scenario, "seeds": list(self.sim_seeds), "scale": float(self.scale).hex(),
                             "end": self.end, "names": self.space.names, "cap": self.max_waiting_days,
                             "priors": [[p.dist, list(p.args)] for p in self.space.priors]},
                            sort_keys=True).encode())
        h.update(_scenario_digest(self.scenario).encode())
        for o in self.observations:
            h.update(repr((o.id, o.quantity, o.low, o.high, o.kind, o.destination, str(o.period_start),
                           str(o.period_end), o.bound, o.unit, o.notes, o.quote, o.publisher,
                           o.quality_flags)).encode())
        return h.hexdigest()


def _scenario_digest(scenario: str) -> str:
    from emigre.scenario.load import resolve_dir

    d = Path(resolve_dir(scenario))
    h = hashlib.sha256()
    for f in sorted(d.rglob("*")):
        # the packaged posterior is an output of calibration, not an input of a simulation
        if f.is_file() and f.name != "posterior.parquet":
            h.update(f.relative_to(d).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def eval_key(fingerprint: str, x: np.ndarray) -> str:
    """Journal key of one evaluation: hash of (x exactly, the objective's fingerprint)."""
    h = hashlib.sha256(fingerprint.encode())
    h.update(",".join(float(v).hex() for v in np.asarray(x, dtype=np.float64)).encode())
    return h.hexdigest()[:32]


def select_observations(
    observations: Iterable | None = None,
    *,
    scenario: str = "russia-2022",
    end: str | dt.date | None = None,
    exclude: Iterable[str] = (),
):
    """(used observations, excluded ids that were otherwise usable, DataFrame of the rest with the reason)."""
    import pandas as pd

    from emigre.evidence import load_evidence
    from emigre.observe import usable
    from emigre.observe.context import ObservationContext

    obs = tuple(load_evidence().observations if observations is None else observations)
    ctx = ObservationContext.from_scenario(scenario)
    horizon = dt.date.fromisoformat(str(end)) if end is not None else ctx.end
    held = set(exclude)
    used, excluded, rest = [], [], []
    for o in obs:
        why = usable(o, ctx, horizon)
        if o.id in held:
            excluded.append(o.id)
            rest.append({"id": o.id, "reason": "held out (--exclude)"})
        elif why is None:
            used.append(o)
        else:
            rest.append({"id": o.id, "reason": why})
    return tuple(used), tuple(excluded), pd.DataFrame(rest, columns=["id", "reason"])


def read_exclude(path: str | Path) -> list[str]:
    """Held-out ids from ``path``: an observations CSV in the evidence schema (validated), or any CSV/text
    file whose first column (``id``) lists observation ids."""
    from emigre.evidence import load_observations

    p = Path(path)
    if not p.exists():
        raise EmigreError(f"{p}: exclude file not found (expected observations in the evidence schema)")
    try:
        return [o.id for o in load_observations(p)]
    except EmigreError:
        pass
    import csv
    import io

    from emigre.fileio import read_text

    ids = []
    # read with emigre's checks: special files, loops and oversized files are refused by name
    for i, row in enumerate(csv.reader(io.StringIO(read_text(p, what="exclude file")))):
        if not row or not row[0].strip() or row[0].strip().startswith("#"):
            continue
        v = row[0].strip()
        if i == 0 and v.lower() == "id":
            continue
        if not v.startswith("OBS"):
            raise EmigreError(f"{p}: line {i + 1}, column 1: expected an observation id (OBSnnn), got {v!r}")
        ids.append(v)
    return ids


def simulation_noise(obs, sigma: float, floor: float, scale: float, n_seeds: int = 1) -> tuple[float, float]:
    """The likelihood's error scale and transform floor with the simulation's own Monte Carlo error added.

    A simulation at ``scale`` persons per traveller counts in steps of ``scale`` persons, and a count of n
    persons carries a Poisson-like error of about sqrt(scale x n) (over ``n_seeds`` seeds, divided by
    sqrt(n_seeds)). So, for counts of persons:
    - the floor of the asinh-log transform is at least ``scale`` (below one traveller the simulation cannot
      tell 0 from 300 persons at scale 100; the log scale would make that a huge error);
    - ``sigma^2 += scale / (n_seeds x max(|observed|, scale))`` (the relative error of the simulated count,
      taken at the observed value so that it does not depend on the parameters).
    Percentages are left as they are (their denominators are thousands of travellers)."""
    if obs.unit != "persons":
        return sigma, floor
    if obs.quantity is not None:
        v = abs(float(obs.quantity))
    elif obs.low is not None and obs.high is not None:
        v = math.sqrt(max(abs(float(obs.low)), 1.0) * max(abs(float(obs.high)), 1.0))
    else:
        v = abs(float(obs.low if obs.low is not None else obs.high or 0.0))
    extra = scale / (max(1, n_seeds) * max(v, scale))
    return math.sqrt(sigma * sigma + extra), max(floor, float(scale))


# ---------------------------------------------------------------------- expected failures
#: what a draw may raise and still be scored -inf (the parameter set is rejected, deterministically; the
#: evaluation's note names the exception): the model's own refusals (:class:`GridlockError` and every other
#: :class:`EmigreError`, e.g. a parameter value the scenario rejects) and numerical failures (``ArithmeticError``:
#: overflow, division by zero). Anything else is a programming error and propagates.
EXPECTED_FAILURES = (EmigreError, ArithmeticError)


# ---------------------------------------------------------------------- the objective
class Objective:
    """Evaluate ``x`` -> :class:`Evaluation` (build from an :class:`ObjectiveSpec`, or with :meth:`build`)."""

    def __init__(self, spec: ObjectiveSpec) -> None:
        from emigre.observe import error_scale, reading
        from emigre.observe.context import ObservationContext
        from emigre.observe.likelihood import figure_weights

        self.spec = spec
        self.space = spec.space
        self.ctx = ObservationContext.from_scenario(spec.scenario)
        self.observations = spec.observations
        self.obs_ids = [o.id for o in spec.observations]
        rds = [reading(o, self.ctx) for o in spec.observations]
        self.sigma, self.floor = [], []
        #: the observation error alone (source quality and operator), before the simulation's own
        self.sigma_obs = [error_scale(o, rd) for o, rd in zip(spec.observations, rds, strict=True)]
        self.floor_obs = [rd.floor for rd in rds]
        #: the simulation's own variance on the log scale (not scaled by ``error_scale_factor``)
        self.sim_var = []
        for o, rd, s_obs in zip(spec.observations, rds, self.sigma_obs, strict=True):
            sigma, floor = simulation_noise(o, s_obs, rd.floor, spec.scale, len(spec.sim_seeds))
            self.sigma.append(sigma)
            self.floor.append(floor)
            self.sim_var.append(sigma * sigma - s_obs * s_obs)
        #: each figure's weight in the total (1/n for n rows stating the same figure)
        weight = figure_weights(spec.observations)
        self.weights = [weight[o.id] for o in spec.observations]
        self.fingerprint = spec.fingerprint()
        self._caches = {"route_cache": {}, "params_cache": {}}
        #: draws scored -inf by an expected failure, by exception type
        self.failures: Counter[str] = Counter()

    @classmethod
    def build(
        cls,
        space: ParameterSpace,
        *,
        scenario: str = "russia-2022",
        observations: Iterable | None = None,
        exclude: Iterable[str] = (),
        sim_seeds: Sequence[int] = (0,),
        scale: float = 20.0,
        end: str | dt.date | None = None,
        fast: bool = True,
    ) -> Objective:
        """A calibration's objective over ``space``: the observations (less ``exclude``), seeds and scale."""
        if not scale > 0:
            raise EmigreError(f"scale must be a positive number of persons per traveller, got {scale}")
        if not len(sim_seeds):
            raise EmigreError("at least one simulation seed is needed")
        used, excluded, _ = select_observations(observations, scenario=scenario, end=end, exclude=exclude)
        if not used:
            raise EmigreError("no observation left to calibrate on (all excluded or outside the horizon)")
        return cls(ObjectiveSpec(space, used, scenario, tuple(int(s) for s in sim_seeds), float(scale),
                                 None if end is None else str(end), tuple(excluded), fast))

    def key(self, x) -> str:
        """The journal key of a parameter point under this objective."""
        return eval_key(self.fingerprint, x)

    def simulate(self, x) -> list:
        """The simulation results of ``x`` (one per seed); :class:`GridlockError` past the waiting cap.

        With ``spec.fast`` the runs reuse this objective's caches of the route search and of the parsed
        params.yaml (two thirds of a run's time at scale 20 that no calibrated parameter changes; keyed on
        content, so the results are those of uncached runs)."""
        params, _ = self.space.split(x)
        s = self.spec
        caches = self._caches if s.fast else {}
        return [_simulate_capped(s.scenario, seed, params, s.scale, s.end, s.max_waiting_days, **caches)
                for seed in s.sim_seeds]

    def predict(self, results, x) -> np.ndarray:
        """Every observation's prediction from simulation results at ``x``."""
        from emigre.observe import predict_all

        _, theta = self.space.split(x)
        preds = predict_all(self.observations, results, self.ctx, theta)
        return np.array([float(np.mean(preds[i])) if i in preds else np.nan for i in self.obs_ids])

    def sigmas(self, factor: float = 1.0) -> list[float]:
        """Each observation's error scale with the observation errors multiplied by ``factor``
        (``error_scale_factor``) and the simulation's own error added; at 1, :attr:`sigma`."""
        if factor == 1.0:
            return self.sigma
        return [math.sqrt((factor * s) ** 2 + v) for s, v in zip(self.sigma_obs, self.sim_var, strict=True)]

    def error_factor_of(self, x) -> float:
        """The observation errors' multiplier at ``x`` (its ``error_scale_factor``; 1 for a space without it)."""
        from emigre.observe import error_factor

        return float(error_factor(self.space.split(x)[1]))

    def loglik_of(self, pred: np.ndarray, factor: float = 1.0) -> np.ndarray:
        """Log likelihood of each observation given its prediction (-inf where none), weighted so that a figure
        stated by several rows counts once (:func:`emigre.observe.likelihood.figure_weights`); ``factor``
        multiplies the observation errors (the draw's ``error_scale_factor``)."""
        from emigre.observe import loglik

        return np.array([
            w * loglik(o, p, sigma=s, floor=f, world_ctx=self.ctx) if np.isfinite(p) else -np.inf
            for o, p, s, f, w in zip(self.observations, pred, self.sigmas(factor), self.floor, self.weights,
                                     strict=True)
        ])

    def __call__(self, x) -> Evaluation:
        """Evaluate the objective at ``x``."""
        return self._evaluate(x)

    def _evaluate(self, x) -> Evaluation:
        c0 = time.process_time()
        ev = self._run(x)
        ev.cpu = time.process_time() - c0
        return ev

    def _run(self, x) -> Evaluation:
        t0 = time.perf_counter()
        x = np.asarray(x, dtype=np.float64)
        lp = float(self.space.log_prior(x))
        n = len(self.obs_ids)
        if not math.isfinite(lp):
            return Evaluation(lp, -math.inf, np.full(n, -np.inf), np.full(n, np.nan), 0.0, "outside the prior")
        try:
            pred = self.predict(self.simulate(x), x)
        except EXPECTED_FAILURES as exc:  # a parameter set the model rejects scores -inf, deterministically
            self.failures[type(exc).__name__] += 1
            return Evaluation(lp, -math.inf, np.full(n, -np.inf), np.full(n, np.nan),
                              time.perf_counter() - t0, f"{type(exc).__name__}: {exc}")
        ll = self.loglik_of(pred, self.error_factor_of(x))
        total = float(ll.sum())
        return Evaluation(lp, total if math.isfinite(total) else -math.inf, ll, pred, time.perf_counter() - t0)


#: people deciding to leave (a sixth of the adults of the origin cities' catchment) past which a run is stopped
#: with the gridlock cap: the evidence puts the emigrants in the hundreds of thousands to low millions
MAX_TRAVELLERS = 2e7


class GridlockError(EmigreError):
    """The run's would-be leavers spent more person-days waiting than the cap (see ``max_waiting_days``)."""


def _simulate_capped(
    scenario: str, seed: int, params: dict, scale: float, end, cap: float | None, *,
    route_cache: dict | None = None, params_cache: dict | None = None,
):
    """``emigre.behaviour.exodus.simulate``, stopped once the person-days spent in the ``leaving`` state
    (decided, not yet across the border: travelling, queueing, balking and retrying) exceed ``cap``.

    The count is a deterministic function of the run (not of the wall clock), so a stopped run is the same on
    every machine and every replay. The guard is a step of the run's day plan."""
    from emigre.behaviour.exodus import ExodusResult, simulate

    col = ExodusResult.NAT.index("leaving")
    waited = [0.0]

    def guard(rs, day: int) -> None:
        done = day + 1
        waited[0] += float(rs.nat[day, col]) * scale
        if cap is not None and waited[0] > cap:
            raise GridlockError(f"more than {cap:.3g} person-days waiting to leave by day {done}")
        if cap is not None and rs.pop.n * scale > MAX_TRAVELLERS:
            raise GridlockError(f"more than {MAX_TRAVELLERS:.3g} people decided to leave by day {done}")

    return simulate(scenario, seed=seed, params=params, scale=scale, end=end, steps=[("gridlock_guard", guard)],
                    route_cache=route_cache, params_cache=params_cache)


# ---------------------------------------------------------------------- worker side
_WORKER: dict[str, Objective] = {}


def evaluate_in_worker(spec: ObjectiveSpec, fingerprint: str, x: np.ndarray) -> Evaluation:
    """Process-pool entry point: one Objective per spec per process, kept between tasks."""
    obj = _WORKER.get(fingerprint)
    if obj is None:
        _WORKER.clear()
        obj = _WORKER[fingerprint] = Objective(spec)
    return obj(x)
