"""Log-likelihood of an observation given what the simulation predicts its source would have counted.

The comparison is on the log scale: the error of log(observed) - log(predicted) follows a Student-t with 3
degrees of freedom (heavy tails: a figure 10 times off costs a few log units, not hundreds, so no single
outlier decides the fit) and a scale set by the quality of the source (:func:`quality_class`) and, added in
quadrature, the model error of the operator (``Reading.extra_sigma``: ordinary travel, proxies).

To take zeros and net (possibly negative) figures, "log" is ``T(x) = asinh(x / 2f) + log f``: equal to log(x)
for x well above the floor ``f`` (1 person for counts, 1 point for percentages) and linear through zero;
net flows use f = 1000 persons, so a net of -31,000 vs +17,000 is a large error and +-500 vs 0 a small one.

- point value: log density of the t error (including -log sigma);
- "more than X" (lower bound): log P(true > X) - flat (about 0) once the prediction is well above X;
- "less than X" (upper bound): log P(true < X);
- range [low, high]: log P(low < true < high).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np

from emigre.evidence.records import Observation
from emigre.observe.context import ObservationContext
from emigre.observe.readings import Reading, read_observation

#: error scale (log units, before the t tails) of each source-quality class
QUALITY_SCALES: dict[str, float] = {
    "official": 0.2,  # statistical office, ministry data, border service, migration agency, Eurostat
    "estimate": 0.5,  # press, think tanks, researchers, demographers: estimates with a method
    "weak": 0.75,  # flagged weak: tertiary (Wikipedia), very rough, biased sample, paraphrased, ambiguous
    "statement": 1.0,  # political statements, anonymous or unverified sources, outliers, no method
}
NU = 3.0  # degrees of freedom of the Student-t error

_STATEMENT_FLAGS = frozenset({"anonymous_source", "political_statement", "unverified", "outlier", "no_method"})
_WEAK_FLAGS = frozenset(
    {"weak", "tertiary_source", "rough_estimate", "biased_sample", "low_reliability", "paraphrased_quote",
     "ambiguous"}
)
_STATEMENT_SOURCE = re.compile(r"\bPresident\b|\bConsul|\bPutin\b|\bsources? (?:in|close)|close to (?:the )?Kremlin")
_OFFICIAL_SOURCE = re.compile(
    r"\bFSB\b|Border (?:Service|Guard)|\bMVD\b|\bMUP\b|Minist|Migration|Statistic|Rosstat|Geostat|Eurostat|"
    r"\bBAMF\b|\bMigri\b|Frontex|\bCBP\b|Central Bank|Public Service|Agency|Directorate|authorit|Interior|"
    r"Justice"
)


def source_of(obs: Observation) -> str:
    """Who produced the figure: the publisher up to " via " (the outlet that relayed it is not the source)."""
    return obs.publisher.split(" via ")[0]


def quality_class(obs: Observation) -> str:
    """The source-quality class, by the first rule that matches:
    1. a statement flag in the notes (anonymous, political statement, unverified, outlier, no method) or a
       head of state / consul / anonymous insiders as the source -> ``statement``;
    2. a weakness flag (weak, tertiary source, very rough, biased sample, low reliability, paraphrase,
       ambiguous) -> ``weak``;
    3. an official producer (statistics office, ministry, border service, migration agency, Eurostat, ...)
       -> ``official``;
    4. otherwise (press, think tanks, researchers) -> ``estimate``."""
    flags = set(obs.quality_flags)
    src = source_of(obs)
    if flags & _STATEMENT_FLAGS or _STATEMENT_SOURCE.search(src):
        return "statement"
    if flags & _WEAK_FLAGS:
        return "weak"
    if _OFFICIAL_SOURCE.search(src):
        return "official"
    return "estimate"


#: model discrepancy of the wave's part of a figure for one destination or a group of destinations (not all of
#: them): the share of the emigrants a country gets rests on a destination choice with nine regional constants,
#: sourced routes and capacities, and on stay, return and onward rules common to all countries - its error is
#: larger than its parameters' uncertainty says. Without it the many small-country figures (Argentina, Israel
#: in 2023, US border encounters) can only be met by inflating the whole exodus, against every national total.
#: It is scaled by the wave's expected share of the figure (``Reading.wave_share``): on the log scale an error
#: d on the wave's part moves the count by about d x wave / count, and the part outside the wave (ordinary
#: trips, pre-war permits) has its own error (the operator's); a border queue, the excess of arrivals over the
#: crossing's throughput, moves several times as much as the wave (``operators.QUEUE_ELASTICITY``)
DESTINATION_SIGMA = 0.5


#: the observation parameter that multiplies every figure's error scale (:data:`emigre.observe.OBS_PARAMS`)
ERROR_FACTOR = "error_scale_factor"


def error_factor(theta) -> float | np.ndarray:
    """The multiplier of the observation errors in ``theta`` (a mapping of observation parameters: a number, or
    one value per draw), 1 where it has none (a posterior calibrated before the factor existed)."""
    if theta is None or ERROR_FACTOR not in theta:
        return 1.0
    v = np.asarray(theta[ERROR_FACTOR], dtype=np.float64)
    return float(v) if v.ndim == 0 else v


def error_scale(obs: Observation, reading: Reading | None = None) -> float:
    """Scale of the log error: the source class's, with the operator's model error and, for figures of some
    destinations only, the destination model's discrepancy (``DESTINATION_SIGMA`` x the wave's expected
    share of the figure) added in quadrature."""
    s = QUALITY_SCALES[quality_class(obs)]
    extra = reading.extra_sigma if reading is not None else 0.0
    dest = DESTINATION_SIGMA * reading.wave_share if reading is not None and reading.fsb_area != "ALL" else 0.0
    return math.sqrt(s * s + extra * extra + dest * dest)


# ---------------------------------------------------------------------- Student-t (nu = 3), closed form
_LOG_C = math.log(2.0 / (math.pi * math.sqrt(3.0)))


def t3_logpdf(z):
    """Log density of Student's t with 3 degrees of freedom at ``z``."""
    z = np.asarray(z, dtype=np.float64)
    return _LOG_C - 2.0 * np.log1p(z * z / 3.0)


def _t3_tail(y):
    """P(Z > z) for z = y * sqrt(3) >= 0, accurate far out (series for large y)."""
    y = np.asarray(y, dtype=np.float64)
    big = y > 1e3
    yy = np.where(big, 1.0, y)
    direct = (np.arctan2(1.0, yy) - yy / (1.0 + yy * yy)) / math.pi
    yb = np.where(big, y, 1.0)
    series = (2.0 / (3.0 * yb**3) - 4.0 / (5.0 * yb**5)) / math.pi
    return np.where(big, series, direct)


def t3_cdf(z):
    """Distribution function of Student's t with 3 degrees of freedom at ``z``."""
    z = np.asarray(z, dtype=np.float64)
    tail = _t3_tail(np.abs(z) / math.sqrt(3.0))
    return np.where(z >= 0, 1.0 - tail, tail)


def t3_logcdf(z):
    """Log of the t3 distribution function, accurate far into the lower tail."""
    z = np.asarray(z, dtype=np.float64)
    tail = _t3_tail(np.abs(z) / math.sqrt(3.0))
    with np.errstate(divide="ignore"):
        return np.where(z >= 0, np.log1p(-tail), np.log(np.maximum(tail, 1e-300)))


# ---------------------------------------------------------------------- the likelihood
def transform(x, floor: float = 1.0):
    """``asinh(x / 2 floor) + log(floor)``: log(x) above the floor, linear through zero (negatives allowed)."""
    return np.arcsinh(np.asarray(x, dtype=np.float64) / (2.0 * floor)) + math.log(floor)


def _settings(obs: Observation, sigma, floor, world_ctx) -> tuple[float, float]:
    if sigma is None or floor is None:
        from emigre.observe.operators import default_context

        rd = read_observation(obs, world_ctx or default_context())
        sigma = error_scale(obs, rd) if sigma is None else sigma
        floor = rd.floor if floor is None else floor
    s = np.asarray(sigma, dtype=np.float64)
    return (float(s) if s.ndim == 0 else s), float(floor)


def loglik(
    obs: Observation,
    predicted,
    *,
    sigma: float | None = None,
    floor: float | None = None,
    world_ctx: ObservationContext | None = None,
):
    """Log-likelihood of ``obs`` given ``predicted`` (a number, or an array: one value per result).

    ``sigma`` (a number, or one per result) and ``floor`` default to the observation's error scale and
    transform floor (from its reading)."""
    sigma, floor = _settings(obs, sigma, floor, world_ctx)
    p = transform(predicted, floor)
    if obs.bound == "range":
        lo = (transform(obs.low, floor) - p) / sigma
        hi = (transform(obs.high, floor) - p) / sigma
        # the mass between lo and hi, from the side where it is not a difference of two numbers near 1
        upper_side = lo > 0
        mass = np.where(upper_side, t3_cdf(-lo) - t3_cdf(-hi), t3_cdf(hi) - t3_cdf(lo))
        out = np.log(np.maximum(mass, 1e-300))
    else:
        z = (transform(obs.quantity, floor) - p) / sigma
        if obs.bound == "lower":
            out = t3_logcdf(-z)  # P(true > X): the prediction above X is on the safe side
        elif obs.bound == "upper":
            out = t3_logcdf(z)
        else:
            log_sigma = np.log(sigma) if isinstance(sigma, np.ndarray) else math.log(sigma)
            out = t3_logpdf(z) - log_sigma
    out = np.asarray(out, dtype=np.float64)
    return float(out) if out.ndim == 0 else out


def log_error(obs: Observation, predicted, floor: float = 1.0):
    """log(observed) - log(predicted) on the transform scale (the value, or the middle of a range)."""
    value = obs.quantity if obs.quantity is not None else math.sqrt(max(obs.low, 1) * max(obs.high, 1))
    return transform(value, floor) - transform(predicted, floor)


def figure_key(obs: Observation) -> tuple:
    """The number a row gives and what for: kind, unit, area, period and the value or range - not who relayed
    it, nor how they qualified it ("more than" or "about" the same 300,000 is one estimate relayed twice)."""
    return (obs.kind, obs.origin, obs.destination, obs.period_start, obs.period_end, obs.quantity, obs.low,
            obs.high, obs.unit)


def figure_weights(observations: Iterable[Observation]) -> dict[str, float]:
    """Weight of each observation's log-likelihood in a total: 1, or 1/n for each of n rows that state the same
    figure (:func:`figure_key`: the same number for the same quantity and period, relayed by several
    publishers, e.g. 300,000 by mid-March 2022 in OBS001 ("more than") and OBS004 ("around")) - one estimate
    counted once."""
    obs = list(observations)
    n = Counter(figure_key(o) for o in obs)
    return {o.id: 1.0 / n[figure_key(o)] for o in obs}


def total_loglik(
    observations: Iterable[Observation],
    predictions: Mapping[str, float | np.ndarray],
    *,
    world_ctx: ObservationContext | None = None,
    theta: Mapping[str, float | np.ndarray] | None = None,
):
    """Sum of :func:`loglik` over the observations that have a prediction (by id), each weighted by
    :func:`figure_weights` over those observations; the others are left out (use
    :func:`emigre.observe.coverage` to see which and why). ``theta`` (observation parameters) scales the error
    scales by its ``error_scale_factor``."""
    from emigre.observe.operators import default_context

    ctx = world_ctx or default_context()
    factor = error_factor(theta)
    used = [o for o in observations if o.id in predictions]
    w = figure_weights(used)
    total = 0.0
    for obs in used:
        sigma = None if theta is None else error_scale(obs, read_observation(obs, ctx)) * factor
        total = total + w[obs.id] * loglik(obs, predictions[obs.id], sigma=sigma, world_ctx=ctx)
    return total
