"""The multiplier of the observation errors (``error_scale_factor``): how the objective, the likelihood and the
predictive intervals use it, and that the likelihood reads the scatter of the figures (a synthetic case with a
known answer)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from emigre.calibrate import Objective, default_space
from emigre.calibrate.space import ParameterSpace
from emigre.estimate.predictive import mixture_quantiles
from emigre.evidence import load_evidence
from emigre.observe import ERROR_FACTOR, OBS_PARAMS, error_factor, loglik, total_loglik, transform
from emigre.observe.likelihood import t3_logpdf

T3_95 = 2.3533634348018264  # 95% quantile of Student's t with 3 degrees of freedom


def test_the_factor_is_a_calibrated_observation_parameter_with_median_one():
    p = OBS_PARAMS[ERROR_FACTOR]
    assert p.default == 1.0 and p.prior == "lognormal" and p.args == (1.0, 0.5)
    assert ERROR_FACTOR in default_space().names
    assert error_factor(None) == 1.0 and error_factor({}) == 1.0
    assert error_factor({ERROR_FACTOR: 0.6}) == 0.6
    np.testing.assert_array_equal(error_factor({ERROR_FACTOR: np.array([0.5, 2.0])}), [0.5, 2.0])


def test_objective_scales_the_observation_error_not_the_simulation_noise():
    space = default_space(names=["baseline_emigration_per_year"], obs=[ERROR_FACTOR])
    obj = Objective.build(space, scale=100.0, end="2022-04-30")
    i = space.names.index(ERROR_FACTOR)
    x = space.defaults.copy()
    assert x[i] == 1.0
    ev1 = obj(x)
    # at 1 the scales are the assumed ones: the source's error and the simulation's, in quadrature
    assert obj.sigmas(1.0) == obj.sigma
    for o, s, s_obs, v in zip(obj.observations, obj.sigma, obj.sigma_obs, obj.sim_var, strict=True):
        assert s == pytest.approx(math.sqrt(s_obs**2 + v)) and v >= 0, o.id
    x[i] = 0.5
    ev2 = obj(x)
    np.testing.assert_array_equal(ev1.pred, ev2.pred)  # an observation parameter: the same simulation
    half = obj.sigmas(0.5)
    for k, o in enumerate(obj.observations):
        assert half[k] == pytest.approx(math.sqrt((0.5 * obj.sigma_obs[k]) ** 2 + obj.sim_var[k]))
        want = obj.weights[k] * loglik(o, ev1.pred[k], sigma=half[k], floor=obj.floor[k], world_ctx=obj.ctx)
        assert ev2.ll[k] == pytest.approx(want), o.id
    assert ev2.loglik != ev1.loglik
    assert ev2.logprior - ev1.logprior == pytest.approx(-math.log(0.5) - 0.5 * (math.log(0.5) / 0.5) ** 2)


def test_the_likelihood_reads_the_scatter_of_the_figures():
    """Synthetic: 300 figures with the evidence's error scales, published with t3 errors 0.6 times those scales
    around the truth. The total log-likelihood over the factor peaks near 0.6 (the figures' scatter, not the
    assumed scale), and a figure's likelihood with an array of factors is that of each factor."""
    ev = load_evidence()
    base = [o for o in ev.observations if o.unit == "persons" and o.bound == "point" and o.quantity and o.quantity > 0]
    rng = np.random.default_rng(7)
    true_factor, figures, truths, sigmas = 0.6, [], [], []
    for k in range(300):
        o = base[k % len(base)]
        sigma = [0.2, 0.5, 0.75][k % 3]
        truth = float(o.quantity)
        published = truth * math.exp(true_factor * sigma * rng.standard_t(3))
        figures.append(replace(o, id=f"SYN{k:03d}", quantity=published))
        truths.append(truth)
        sigmas.append(sigma)
    grid = np.exp(np.linspace(math.log(0.2), math.log(2.0), 47))
    ll = [sum(loglik(o, t, sigma=s * f, floor=1.0) for o, t, s in zip(figures, truths, sigmas, strict=True))
          for f in grid]
    best = grid[int(np.argmax(ll))]
    assert 0.5 < best < 0.72, best  # 300 t3 figures: the maximum within +-20% of the truth
    assert ll[int(np.argmin(abs(grid - 1.0)))] < max(ll) - 10  # the assumed scales (factor 1) fit far worse
    # vectorised over draws: one sigma per prediction
    o, t, s = figures[0], truths[0], sigmas[0]
    arr = loglik(o, np.array([t, t]), sigma=np.array([s * 0.5, s * 2.0]), floor=1.0)
    assert arr[0] == pytest.approx(loglik(o, t, sigma=s * 0.5, floor=1.0))
    assert arr[1] == pytest.approx(loglik(o, t, sigma=s * 2.0, floor=1.0))
    z = (transform(o.quantity) - transform(t)) / (s * 0.5)
    assert arr[0] == pytest.approx(float(t3_logpdf(z)) - math.log(s * 0.5))


def test_total_loglik_takes_the_factor_from_theta():
    ev = load_evidence()
    obs = [o for o in ev.observations if o.unit == "persons" and o.bound == "point" and o.quantity][:5]
    preds = {o.id: 1.3 * o.quantity for o in obs}
    assert total_loglik(obs, preds) == pytest.approx(total_loglik(obs, preds, theta={ERROR_FACTOR: 1.0}))
    sharper = total_loglik(obs, preds, theta={ERROR_FACTOR: 0.5})
    assert sharper != pytest.approx(total_loglik(obs, preds))


def test_predictive_intervals_mix_the_draws_error_scales():
    c = [math.log(1e5)] * 4
    one = mixture_quantiles(c, 0.5, [0.05, 0.95])
    same = mixture_quantiles(c, np.full(4, 0.5), [0.05, 0.95])
    np.testing.assert_allclose(one, same)
    assert one[1] - one[0] == pytest.approx(2 * T3_95 * 0.5, rel=1e-6)
    # two draws at 0.25, two at 1.0: the mixture's 90% interval lies between theirs
    mixed = mixture_quantiles(c, np.array([0.25, 0.25, 1.0, 1.0]), [0.05, 0.95])
    assert 2 * T3_95 * 0.25 < mixed[1] - mixed[0] < 2 * T3_95 * 1.0


def test_space_without_the_factor_keeps_the_assumed_scales():
    space = default_space(names=["baseline_emigration_per_year"], obs=["travel_level_2022"])
    assert ERROR_FACTOR not in space.names and isinstance(space, ParameterSpace)
    obj = Objective.build(space, scale=100.0, end="2022-04-30")
    assert obj.error_factor_of(space.defaults) == 1.0
