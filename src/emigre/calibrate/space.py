"""The calibrated parameters: which, their priors, and a bijection to an unconstrained space.

A parameter vector ``x`` (natural units) holds the calibrated model parameters of the scenario
(:data:`CALIBRATED`) followed by the observation-model parameters (:data:`emigre.observe.OBS_PARAMS`). Every
other model parameter stays at its value in ``params.yaml``.

The samplers work on ``u = T(x)``, unconstrained: identity for a normal prior, ``log`` for a lognormal one,
``logit`` of the position within the bounds for a uniform, a beta (bounds 0 and 1) and a truncated normal.
:meth:`ParameterSpace.log_prior_u` is the prior density of ``u`` (the density of ``x`` times the Jacobian
``|dx/du|``), so a random walk on ``u`` targets the right posterior.

Prior densities here are normalised (they integrate to one), unlike ``ObsParam.log_prior``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from emigre.errors import EmigreError

#: Model parameters the calibration sets, grouped by what informs them. All have a non-fixed prior in
#: russia-2022's params.yaml; the rest (travel geometry, population structure, exit rules, age profile, ...)
#: are either sourced, not informed by the counts of the evidence, or too weakly identified to move.
CALIBRATED: dict[str, str] = {
    # how many leave, and when: totals and the timing of the waves (cumulative outflows, FSB exits by quarter)
    "baseline_emigration_per_year": "the level of every departure hazard (totals)",
    "push_invasion_intensity": "size of the spring-2022 wave (FSB exits Q1/Q2 2022, early estimates)",
    "push_invasion_decay_days": "length of the spring-2022 wave",
    "push_economic_intensity": "departures through 2022 beyond the first weeks",
    "push_economic_decay_days": "length of the economic push",
    "push_repression_intensity": "March 2022 departures",
    "push_repression_decay_days": "length of the repression push",
    "push_mobilization_intensity": "size of the autumn-2022 wave (Georgia, Kazakhstan, Finland entries)",
    "push_mobilization_decay_days": "length of the mobilization wave",
    "push_summons_intensity": "2023 departures",
    "push_summons_decay_days": "length of the summons push",
    # who leaves (composition shares: IT specialists, higher education)
    "propensity_higher_education": "share with higher education",
    "propensity_it": "IT specialists who left",
    # documents: which borders are reachable (Armenia by internal passport, Georgia, the EU)
    "foreign_passport_share_higher_ed": "destination split (internal-passport routes)",
    "foreign_passport_share_other": "destination split (internal-passport routes)",
    "schengen_visa_share": "EU entries and permits",
    # where they go and by which route (arrivals, stocks and border counts by country)
    "choice_hours": "route choice: land vs air, queues",
    "choice_urgency_time_factor": "mobilization leavers' route choice",
    "choice_log_cost": "route choice: fares",
    "choice_log_stay": "destination choice: visa-free stay",
    "choice_russian_language": "destination choice: Russian-speaking countries",
    "choice_familiarity": "destination choice: pre-war travel",
    "choice_network": "destination choice: the wave's own pull",
    "choice_region_caucasus": "arrivals/stocks in Georgia and Armenia",
    "choice_region_middle_east": "arrivals/stocks in Turkey, the UAE",
    "choice_region_israel": "arrivals in Israel",
    "choice_region_eu": "EU entries, permits, asylum",
    "choice_region_balkans": "Serbia, Montenegro",
    "choice_region_central_asia": "Kazakhstan, Kyrgyzstan, Uzbekistan",
    "choice_region_belarus": "Belarus",
    "choice_region_americas": "Argentina, the USA border",
    "choice_region_asia": "Mongolia, Thailand, ...",
    "choice_unrecognised_state": "Abkhazia/South Ossetia",
    "choice_extra_border": "transit routes",
    "choice_route_scale": "route nest scale",
    # crossings and queues (Upper Lars queue, daily crossings, seats selling out)
    "air_seats_per_link_per_day": "air capacity: flights sold out in Sep 2022",
    "default_land_crossing_capacity_per_day": "land capacity: queues at land borders",
    "patience_days": "queueing vs balking",
    # stays, permits, onward moves and returns (permits, stocks after a year, return shares)
    "regularise_share": "residence permits",
    "permit_seek_share": "permits before the stay limit (Georgia, Kazakhstan, Serbia, Cyprus, ...)",
    "permit_seek_share_visa": "EU first permits beyond the pre-war level",
    "visa_run_share": "border runs (entries vs arrivals)",
    "onward_share_at_limit": "onward moves at the stay limit",
    "onward_per_year": "onward moves",
    "return_per_year": "returns (return shares, stocks)",
    "return_mobilization_per_year": "returns of mobilization leavers",
    "return_temporary_share": "early returns (return shares, net totals by Sep 2022)",
    "return_temporary_days": "early returns: how soon",
    "again_share": "returnees leaving again (flows of 2023, net entries)",
    "again_days": "returnees leaving again: how soon",
    "unknown_stay_limit_days": "stays where no entry rule gives a limit",
}

_Z999 = 3.090232306167813  # standard normal 0.999 quantile: the search box of the fit stage


def _norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


@dataclass(frozen=True)
class Prior:
    """One calibrated parameter: its prior and its transform.

    ``dist``: ``uniform`` (low, high), ``normal`` (mean, sd), ``truncnormal`` (mean, sd, low, high),
    ``lognormal`` (median, sigma: of the log), ``beta`` (a, b)."""

    name: str
    dist: str
    args: tuple[float, ...]
    default: float
    kind: str  # "model" (a scenario parameter) or "obs" (an observation-model parameter)
    unit: str = ""
    doc: str = ""

    def __post_init__(self) -> None:
        n = {"uniform": 2, "normal": 2, "truncnormal": 4, "lognormal": 2, "beta": 2}.get(self.dist)
        if n is None:
            raise EmigreError(f"parameter {self.name}: prior {self.dist!r} is not calibrated "
                              "(expected uniform, normal, truncnormal, lognormal or beta)")
        if len(self.args) != n:
            raise EmigreError(f"parameter {self.name}: prior {self.dist} needs {n} numbers, got {self.args}")
        a = self.args
        bad = (
            (self.dist in ("uniform",) and not a[0] < a[1])
            or (self.dist in ("normal", "truncnormal", "lognormal") and not a[1] > 0)
            or (self.dist == "truncnormal" and not a[2] < a[3])
            or (self.dist == "lognormal" and not a[0] > 0)
            or (self.dist == "beta" and not (a[0] > 0 and a[1] > 0))
        )
        if bad:
            raise EmigreError(f"parameter {self.name}: invalid {self.dist} prior {a}")

    # ------------------------------------------------------------------ bounds
    @property
    def bounds(self) -> tuple[float, float] | None:
        """(low, high) of a bounded support mapped by a logit, else None."""
        if self.dist == "uniform":
            return self.args[0], self.args[1]
        if self.dist == "beta":
            return 0.0, 1.0
        if self.dist == "truncnormal":
            return self.args[2], self.args[3]
        return None

    # ------------------------------------------------------------------ density
    def log_pdf(self, x) -> np.ndarray | float:
        """Normalised log density of the prior at ``x`` (natural units); -inf outside the support."""
        v = np.asarray(x, dtype=np.float64)
        a = self.args
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.dist == "uniform":
                out = np.where((v >= a[0]) & (v <= a[1]), -math.log(a[1] - a[0]), -np.inf)
            elif self.dist == "normal":
                z = (v - a[0]) / a[1]
                out = -0.5 * z * z - math.log(a[1]) - 0.5 * math.log(2 * math.pi)
            elif self.dist == "truncnormal":
                mean, sd, lo, hi = a
                mass = _norm_cdf((hi - mean) / sd) - _norm_cdf((lo - mean) / sd)
                z = (v - mean) / sd
                out = np.where((v >= lo) & (v <= hi),
                               -0.5 * z * z - math.log(sd) - 0.5 * math.log(2 * math.pi) - math.log(mass), -np.inf)
            elif self.dist == "lognormal":
                med, s = a
                pos = v > 0
                lv = np.log(np.where(pos, v, 1.0))
                z = (lv - math.log(med)) / s
                out = np.where(pos, -0.5 * z * z - lv - math.log(s) - 0.5 * math.log(2 * math.pi), -np.inf)
            else:  # beta
                al, be = a
                inside = (v > 0) & (v < 1)
                vv = np.where(inside, v, 0.5)
                lb = math.lgamma(al) + math.lgamma(be) - math.lgamma(al + be)
                out = np.where(inside, (al - 1) * np.log(vv) + (be - 1) * np.log1p(-vv) - lb, -np.inf)
        return float(out) if np.ndim(out) == 0 else out

    # ------------------------------------------------------------------ sampling
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws from the prior, in natural units."""
        a = self.args
        if self.dist == "uniform":
            return rng.uniform(a[0], a[1], n)
        if self.dist == "normal":
            return a[0] + a[1] * rng.standard_normal(n)
        if self.dist == "lognormal":
            return a[0] * np.exp(a[1] * rng.standard_normal(n))
        if self.dist == "beta":
            return rng.beta(a[0], a[1], n)
        # truncated normal by rejection: the calibrated ones keep >= 99% of the mass inside their bounds
        mean, sd, lo, hi = a
        out = np.empty(0)
        while len(out) < n:
            z = mean + sd * rng.standard_normal(2 * (n - len(out)) + 8)
            out = np.concatenate([out, z[(z >= lo) & (z <= hi)]])
        return out[:n]

    # ------------------------------------------------------------------ transform
    def to_u(self, x):
        """Natural -> unconstrained."""
        v = np.asarray(x, dtype=np.float64)
        if self.dist == "normal":
            return v.copy()
        if self.dist == "lognormal":
            return np.log(v)
        lo, hi = self.bounds  # type: ignore[misc]
        p = (v - lo) / (hi - lo)
        with np.errstate(divide="ignore"):
            return np.log(p) - np.log1p(-p)

    def from_u(self, u):
        """Unconstrained -> natural."""
        w = np.asarray(u, dtype=np.float64)
        if self.dist == "normal":
            return w.copy()
        if self.dist == "lognormal":
            return np.exp(w)
        lo, hi = self.bounds  # type: ignore[misc]
        return lo + (hi - lo) / (1.0 + np.exp(-w))

    def log_jacobian(self, u):
        """Log |dx/du| at ``u``."""
        w = np.asarray(u, dtype=np.float64)
        if self.dist == "normal":
            return np.zeros_like(w)
        if self.dist == "lognormal":
            return w.copy()
        lo, hi = self.bounds  # type: ignore[misc]
        # d/du sigmoid(u) = sigmoid(u) sigmoid(-u); stable form via softplus
        return math.log(hi - lo) - np.logaddexp(0.0, w) - np.logaddexp(0.0, -w)

    def box_u(self) -> tuple[float, float]:
        """Search box of the fit stage in ``u``: the prior's central 99.8% (closed form or, for a beta, from a
        fixed-seed sample)."""
        a = self.args
        if self.dist == "normal":
            return a[0] - _Z999 * a[1], a[0] + _Z999 * a[1]
        if self.dist == "lognormal":
            return math.log(a[0]) - _Z999 * a[1], math.log(a[0]) + _Z999 * a[1]
        if self.dist == "uniform":
            return float(self.to_u(a[0] + 0.001 * (a[1] - a[0]))), float(self.to_u(a[0] + 0.999 * (a[1] - a[0])))
        q = np.quantile(self.sample(np.random.default_rng(12345), 20000), [0.001, 0.999])
        lo, hi = self.bounds  # type: ignore[misc]
        q = np.clip(q, lo + 1e-9 * (hi - lo), hi - 1e-9 * (hi - lo))
        return float(self.to_u(q[0])), float(self.to_u(q[1]))


def prior_from_yaml(name: str, value: float, prior: Mapping, kind: str = "model", unit: str = "",
                    doc: str = "") -> Prior:
    """A :class:`Prior` from a params.yaml prior mapping."""
    d = prior.get("dist")
    try:
        if d == "uniform":
            args = (float(prior["low"]), float(prior["high"]))
        elif d == "normal":
            args = (float(prior["mean"]), float(prior["sd"]))
            if "low" in prior or "high" in prior:
                d = "truncnormal"
                args = args + (float(prior.get("low", -np.inf)), float(prior.get("high", np.inf)))
        elif d == "lognormal":
            args = (float(prior["median"]), float(prior["sigma"]))
        elif d == "beta":
            args = (float(prior["a"]), float(prior["b"]))
        else:
            raise EmigreError(f"parameter {name}: prior {d!r} cannot be calibrated")
    except KeyError as exc:
        raise EmigreError(f"parameter {name}: {d} prior lacks {exc.args[0]!r}") from None
    return Prior(name, str(d), args, float(value), kind, unit, doc)


def obs_prior(p) -> Prior:
    """A :class:`Prior` from an :class:`emigre.observe.ObsParam`."""
    dist = "truncnormal" if p.prior == "normal" else p.prior
    return Prior(p.name, dist, tuple(float(a) for a in p.args), float(p.default), "obs", p.unit, p.doc)


class ParameterSpace:
    """An ordered set of :class:`Prior`; vectors are float arrays in that order (rows = parameter sets)."""

    def __init__(self, priors: Iterable[Prior]) -> None:
        self.priors: tuple[Prior, ...] = tuple(priors)
        self.names: list[str] = [p.name for p in self.priors]
        if len(set(self.names)) != len(self.names):
            raise EmigreError("duplicate parameter names in the calibration space")
        self.model_names = [p.name for p in self.priors if p.kind == "model"]
        self.obs_names = [p.name for p in self.priors if p.kind == "obs"]

    def __len__(self) -> int:
        return len(self.priors)

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.priors)

    @property
    def defaults(self) -> np.ndarray:
        """Every parameter at its default value."""
        return np.array([p.default for p in self.priors])

    def restrict(self, names: Iterable[str]) -> ParameterSpace:
        """The space of the named parameters only (unknown names are an error)."""
        keep = set(names)
        missing = keep - set(self.names)
        if missing:
            raise EmigreError(f"not calibrated parameters: {', '.join(sorted(missing))}")
        return ParameterSpace(p for p in self.priors if p.name in keep)

    # ------------------------------------------------------------------ vectors
    def _cols(self, X, f) -> np.ndarray:
        A = np.asarray(X, dtype=np.float64)
        one = A.ndim == 1
        A2 = np.atleast_2d(A)
        if A2.shape[1] != self.dim:
            raise EmigreError(f"expected {self.dim} parameters per row, got {A2.shape[1]}")
        out = np.column_stack([f(p, A2[:, j]) for j, p in enumerate(self.priors)]) if self.dim else A2
        return out[0] if one else out

    def to_u(self, X) -> np.ndarray:
        """Natural units to the unconstrained space, column by column."""
        return self._cols(X, lambda p, c: p.to_u(c))

    def from_u(self, U) -> np.ndarray:
        """The unconstrained space to natural units, column by column."""
        return self._cols(U, lambda p, c: p.from_u(c))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent prior draws, shape (n, dim), natural units (one parameter after another)."""
        return np.column_stack([p.sample(rng, n) for p in self.priors]) if self.dim else np.zeros((n, 0))

    def log_prior(self, X) -> np.ndarray | float:
        """Normalised joint log prior density of natural-unit rows."""
        A = np.atleast_2d(np.asarray(X, dtype=np.float64))
        out = np.zeros(len(A))
        for j, p in enumerate(self.priors):
            out = out + p.log_pdf(A[:, j])
        return float(out[0]) if np.ndim(X) == 1 else out

    def log_prior_u(self, U) -> np.ndarray | float:
        """Log density of the prior pushed to ``u`` (log prior of x(u) + log |dx/du|)."""
        A = np.atleast_2d(np.asarray(U, dtype=np.float64))
        out = np.zeros(len(A))
        for j, p in enumerate(self.priors):
            out = out + p.log_pdf(p.from_u(A[:, j])) + p.log_jacobian(A[:, j])
        return float(out[0]) if np.ndim(U) == 1 else out

    def as_dict(self, x) -> dict[str, float]:
        """Parameter name -> value of one point."""
        return {n: float(v) for n, v in zip(self.names, np.asarray(x, dtype=np.float64), strict=True)}

    def split(self, x) -> tuple[dict[str, float], dict[str, float]]:
        """(model parameters for ``simulate``, observation parameters ``theta``) of one vector."""
        d = self.as_dict(x)
        return {n: d[n] for n in self.model_names}, {n: d[n] for n in self.obs_names}

    def describe(self):
        """DataFrame: name, kind, dist, args, default, unit, doc."""
        import pandas as pd

        return pd.DataFrame([
            {"name": p.name, "kind": p.kind, "dist": p.dist, "args": p.args, "default": p.default,
             "unit": p.unit, "doc": p.doc} for p in self.priors
        ])


def default_space(scenario: str = "russia-2022", *, names: Iterable[str] | None = None,
                  obs: bool | Iterable[str] = True) -> ParameterSpace:
    """The calibrated model parameters of ``scenario`` (:data:`CALIBRATED`, or the model parameters among
    ``names``) followed by the observation-model parameters: all (``obs=True``), none (``False``) or those
    named (a list; observation parameters among ``names`` are included too)."""
    from emigre.observe import OBS_PARAMS
    from emigre.scenario import load_scenario

    params = load_scenario(scenario).params
    wanted = list(CALIBRATED) if names is None else list(names)
    priors: list[Prior] = []
    for n in wanted:
        if n in OBS_PARAMS:
            continue
        if n not in params:
            raise EmigreError(f"scenario {scenario} has no parameter {n!r} to calibrate")
        p = params[n]
        if p.prior.get("dist") == "fixed":
            raise EmigreError(f"parameter {n} has a fixed prior in scenario {scenario}; it cannot be calibrated")
        priors.append(prior_from_yaml(n, p.value, p.prior, "model", p.unit, p.doc))
    if obs is True:
        obs_names = list(OBS_PARAMS)
    elif obs is False:
        obs_names = []
    else:
        obs_names = list(obs)
    obs_names += [n for n in wanted if n in OBS_PARAMS and n not in obs_names]
    for n in obs_names:
        if n not in OBS_PARAMS:
            raise EmigreError(f"unknown observation parameter {n!r}; expected one of {', '.join(OBS_PARAMS)}")
    priors.extend(obs_prior(OBS_PARAMS[n]) for n in OBS_PARAMS if n in obs_names)
    return ParameterSpace(priors)
