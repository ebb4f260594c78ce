"""Leave-one-source-out cross-validation: sources are producers of figures, the weights are Pareto-smoothed
importance weights exp(-ll of the left-out source), and the intervals come from the re-weighted draws."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from emigre.estimate import leave_one_source_out, psis, source_key, stand_in_posterior
from emigre.estimate.loso import ess
from emigre.estimate.predictive import mixture_quantiles, untransform
from emigre.evidence import load_evidence
from emigre.observe import OBS_PARAMS, default_theta, error_scale, reading, transform


def test_sources_are_the_producers_of_the_figures():
    ev = load_evidence()
    key = {o.id: source_key(o) for o in ev.observations}
    assert key["OBS037"] == key["OBS045"] == key["OBS033"] == "Eurostat"  # Verstka, DW, Meduza relaying it
    assert key["OBS050"] == key["OBS064"] == "FSB Border Service"  # FSB data cited by AP
    assert key["OBS069"] == key["OBS070"] == key["OBS066"] == "Georgian MVD"
    assert key["OBS092"] == key["OBS095"] == "Kazakh MVD"
    assert key["OBS001"] == key["OBS002"] == "Wikipedia"
    assert key["OBS008"] == key["OBS009"] == "Forbes Russia"
    assert key["OBS080"] == "Geostat" and key["OBS082"] == "President Salome Zourabichvili"
    assert key["OBS012"] == key["OBS013"] == "The Bell"


def test_psis_weights():
    w, k = psis(np.zeros(50))
    np.testing.assert_allclose(w, 1 / 50)
    assert ess(w) == pytest.approx(50) and k < 0.5
    rng = np.random.default_rng(1)
    lw = 2.5 * rng.standard_normal(200)  # heavy-tailed raw weights
    raw = np.exp(lw - lw.max())
    raw /= raw.sum()
    w, k = psis(lw)
    assert w.sum() == pytest.approx(1.0) and np.all(w >= 0)
    assert k > 0.7  # the fit says so: these weights are not to be trusted
    assert ess(w) > ess(raw)  # smoothing the largest weights spreads the mass a little
    # the order of the draws is kept: smoothing only replaces the largest weights by Pareto quantiles
    top = np.argsort(raw)[-40:]  # the tail: min(20% of the draws, 3 sqrt(draws)) = 40
    np.testing.assert_array_equal(np.argsort(w, kind="stable")[-40:-1], top[:-1])
    rest = np.setdiff1d(np.arange(200), top)
    np.testing.assert_allclose(w[rest] / w[rest].sum(), raw[rest] / raw[rest].sum())
    small = np.log(rng.uniform(0.5, 1.0, 100))  # light tails: k well below 0.5
    assert psis(small)[1] < 0.5


def _stored_posterior(n: int = 40) -> pd.DataFrame:
    """A posterior in the calibration's format with stored predictions: half the draws put 100k people in
    Georgia on 10 Nov 2022, the other half 300k; OBS082 (the President of Georgia: ~100k) favours the first
    half, OBS013 (The Bell: more than 500k abroad at the end of 2022) is indifferent."""
    half = np.arange(n) < n // 2
    df = pd.DataFrame({"draw": np.arange(n)})
    for k, v in default_theta().items():
        df[k] = v
    df["push_mobilization_intensity"] = 2200.0
    df["pred.OBS082"] = np.where(half, 100_000.0, 300_000.0)
    df["ll.OBS082"] = np.where(half, 0.0, -4.0)
    df["pred.OBS013"] = 700_000.0
    df["ll.OBS013"] = 0.0
    df["loglik"] = df["ll.OBS082"] + df["ll.OBS013"]
    df["logprior"] = 0.0
    df["logpost"] = df["loglik"]
    return df


def test_leaving_a_source_out_reweights_the_draws():
    post = _stored_posterior()
    res = leave_one_source_out(post)  # stored predictions: nothing is simulated
    assert not res.stand_in and res.draws == 40 and set(res.rows["id"]) == {"OBS082", "OBS013"}
    row = res.rows.set_index("id").loc["OBS082"]
    assert row["source"] == "President Salome Zourabichvili"
    # leaving the President out weights the 300k draws e^4 times more than the 100k ones
    w = np.where(np.arange(40) < 20, 1.0, math.exp(4.0))
    w /= w.sum()
    assert row["ess"] == pytest.approx(1 / np.sum(w**2), rel=0.05)
    obs = load_evidence().observation("OBS082")
    sigma = error_scale(obs, reading(obs))
    expect = untransform(mixture_quantiles(transform(post["pred.OBS082"].to_numpy()), sigma, [0.5], w))[0]
    assert row["median"] == pytest.approx(expect, rel=0.05)
    assert row["median"] > 250_000  # far from the 100k the source said
    assert abs(row["log_error_all"]) < abs(row["log_error"])  # in-sample it looked better: that is the point
    s = res.summary()
    assert s["observations"] == 2 and s["sources"] == 2
    assert s["coverage90"] == pytest.approx(res.rows["inside"].mean())
    assert s["median_abs_log_error"] == pytest.approx(res.rows["log_error"].abs().median())
    kinds = res.kinds.set_index("kind")
    assert kinds.loc["stock_in_destination", "observations"] == 2


def test_leave_one_source_out_uses_each_draws_error_factor():
    """Draws with their own multiplier of the observation errors (error_scale_factor): the leave-out interval
    mixes each draw's prediction with its own scale, not the assumed one."""
    post = _stored_posterior()
    post["error_scale_factor"] = np.where(np.arange(40) % 2 == 0, 0.5, 2.0)  # both halves of OBS082's draws
    res = leave_one_source_out(post)
    row = res.rows.set_index("id").loc["OBS082"]
    w = np.where(np.arange(40) < 20, 1.0, math.exp(4.0))
    w /= w.sum()
    obs = load_evidence().observation("OBS082")
    sigma = error_scale(obs, reading(obs))
    centres = transform(post["pred.OBS082"].to_numpy())
    q = [0.05, 0.5, 0.95]
    mixed = untransform(mixture_quantiles(centres, sigma * post["error_scale_factor"].to_numpy(), q, w))
    assumed = untransform(mixture_quantiles(centres, sigma, q, w))
    assert row["lo90"] == pytest.approx(mixed[0], rel=1e-6) and row["hi90"] == pytest.approx(mixed[2], rel=1e-6)
    # half the draws at twice the assumed error: the 90% interval is wider than with the assumed scale
    assert math.log(mixed[2] / mixed[0]) > math.log(assumed[2] / assumed[0]) + 0.3
    assert sigma * 0.5 <= row["sigma"] <= sigma * 2.0  # the draws' (weighted) median scale


def test_loso_on_a_stand_in_posterior_simulates_the_draws():
    ev = load_evidence()
    ids = ["OBS003", "OBS013", "OBS014", "OBS050", "OBS051", "OBS068", "OBS081", "OBS164"]
    post = stand_in_posterior(6, seed=3)
    assert set(OBS_PARAMS) <= set(post.columns) and not any(c.startswith("ll.") for c in post.columns)
    res = leave_one_source_out(post, observations=[ev.observation(i) for i in ids], draws=6, scale=50)
    assert res.draws == 6 and res.scale == 50
    assert [s["id"] for s in res.skipped] == ["OBS164"]  # no operator: listed, not dropped
    assert sorted(res.rows["id"]) == sorted(i for i in ids if i != "OBS164")
    src = res.sources.set_index("source")
    assert src.loc["FSB Border Service", "observations"] == 2 and src.loc["Georgian MVD", "observations"] == 2
    assert (res.sources["ess"] <= 6 + 1e-9).all() and (res.sources["ess"] >= 1 - 1e-9).all()
    for r in res.rows.itertuples():
        assert r.lo90 <= r.median <= r.hi90
    # simulated draws carry the parts of each prediction: FSB trips to Armenia = the wave + ordinary trips
    parts = res.rows.set_index("id").loc["OBS051", "parts"]
    assert set(parts) == {"wave", "ordinary_trips"} and parts["ordinary_trips"]["median"] > 0
    by_kind = res.rows.groupby("kind")["inside"].mean()
    for k in res.kinds.itertuples():
        assert k.coverage90 == pytest.approx(by_kind[k.kind])
