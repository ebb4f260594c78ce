"""emigre validate: the posterior predictive of held-out figures through their operators, with the observation
noise of the likelihood; rows without an operator are listed as skipped; the summary is computed from the
rows; a bad file fails naming its line and column."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from test_estimate import cli

from emigre.errors import EmigreError
from emigre.estimate import posterior as post_mod
from emigre.estimate import stand_in_posterior, validate
from emigre.estimate.posterior import predictive_draws
from emigre.estimate.predictive import judge, mixture_quantiles, predictive_interval, untransform
from emigre.evidence import data_dir, load_evidence
from emigre.observe import default_context, error_scale, read_observation, transform
from emigre.observe.likelihood import DESTINATION_SIGMA

HOLDOUT = ("OBS013", "OBS014", "OBS050", "OBS068")  # a lower bound, a range, FSB trips, Georgian MVD
NO_OPERATOR = "OBS164"  # citizenship grants: the simulation has no naturalisation
T3_95 = 2.3533634348018264  # 95% quantile of Student-t with 3 degrees of freedom


def write_holdout(path, ids) -> None:
    with open(data_dir() / "observations.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(r for r in rows if r["id"] in ids)


@pytest.fixture(scope="module")
def holdout(tmp_path_factory):
    path = tmp_path_factory.mktemp("holdout") / "holdout.csv"
    write_holdout(path, {*HOLDOUT, NO_OPERATOR})
    return path


@pytest.fixture(scope="module")
def prior_validation(holdout):
    """4 prior-predictive draws at 50 persons per traveller (no posterior)."""
    mp = pytest.MonkeyPatch()
    mp.setattr("emigre.estimate.validation.load_posterior", lambda path=None: None)
    try:
        yield validate(holdout, draws=4, scale=50)
    finally:
        mp.undo()


def test_mixture_quantiles_are_student_t():
    # one draw: the interval of the published figure is the t3 interval around it, on the log scale
    q = mixture_quantiles([math.log(1e5)], 0.5, [0.05, 0.5, 0.95])
    np.testing.assert_allclose(q, math.log(1e5) + 0.5 * np.array([-T3_95, 0.0, T3_95]), atol=1e-9)
    # two equal-weight draws far apart: the median lies between them, each holds half the mass
    q = mixture_quantiles([0.0, 100.0], 1.0, [0.25, 0.5, 0.75])
    assert q[0] < 1 and q[2] > 99 and 1 < q[1] < 99
    # weights move the mass
    q = mixture_quantiles([0.0, 100.0], 1.0, [0.5], weights=[0.9, 0.1])
    assert abs(q[0]) < 2
    obs = load_evidence().observation("OBS068")
    iv = predictive_interval(obs, np.full(5, 80_000.0), 0.2)
    assert iv["median"] == pytest.approx(80_000, rel=1e-6)
    assert iv["hi90"] == pytest.approx(80_000 * math.exp(0.2 * T3_95), rel=1e-4)
    assert untransform(transform(-3000.0, 1000.0), 1000.0) == pytest.approx(-3000.0)


def test_judging_bounds_and_ranges():
    ev = load_evidence()
    lower, rng, point = ev.observation("OBS013"), ev.observation("OBS014"), ev.observation("OBS068")
    iv = {"median": 400_000, "lo90": 200_000, "hi90": 800_000}
    assert judge(lower, iv) == (True, pytest.approx(math.log(500_000 / 400_000)))  # can exceed 500k
    assert judge(lower, {**iv, "median": 600_000}) == (True, 0.0)  # on the allowed side: no error
    assert judge(lower, {**iv, "hi90": 450_000})[0] is False
    assert judge(rng, iv)[0] is True  # 500k-700k overlaps 200k-800k
    assert judge(rng, {**iv, "hi90": 450_000})[0] is False
    assert judge(rng, iv)[1] == pytest.approx(math.log(600_000 / 400_000))  # the range's own quantity
    assert judge(point, iv)[0] is False and judge(point, {**iv, "lo90": 100_000})[0] is True


def test_json_structure_and_summary(prior_validation):
    v = prior_validation
    out = v.to_json()
    assert list(out) == ["rows", "coverage90", "median_abs_log_error", "skipped"]
    assert [r["id"] for r in out["rows"]] == list(HOLDOUT)
    for r in out["rows"]:
        assert list(r) == ["id", "observed", "median", "lo50", "hi50", "lo90", "hi90", "inside", "log_error",
                           "model_median", "parts"]
        assert r["lo90"] <= r["lo50"] <= r["median"] <= r["hi50"] <= r["hi90"] and isinstance(r["inside"], bool)
        for p in r["parts"].values():
            assert p["lo90"] <= p["median"] <= p["hi90"]
    # the FSB's trips are the wave's emigrants plus ordinary trips, and say so
    fsb = next(r for r in out["rows"] if r["id"] == "OBS050")
    assert set(fsb["parts"]) == {"wave", "ordinary_trips"}
    assert fsb["parts"]["ordinary_trips"]["median"] > 10 * fsb["parts"]["wave"]["median"] > 0
    assert out["skipped"] == [{"id": NO_OPERATOR, "reason": out["skipped"][0]["reason"]}]
    assert "naturalisation" in out["skipped"][0]["reason"]
    inside = [r["inside"] for r in out["rows"]]
    assert out["coverage90"] == pytest.approx(sum(inside) / len(inside))
    assert out["median_abs_log_error"] == pytest.approx(np.median([abs(r["log_error"]) for r in out["rows"]]))
    json.dumps(out)  # plain JSON types
    assert "prior predictive" in v.notes[0] and v.draws == 4


def test_intervals_carry_the_observation_noise(prior_validation):
    rows = {r["id"]: r for r in prior_validation.rows}
    ev = load_evidence()
    # the prior predictive's draws carry their own multiplier of the observation errors (error_scale_factor,
    # drawn from its prior): a row's sigma is the median over the draws of its source's error x the multiplier
    factor = predictive_draws(4, None).theta["error_scale_factor"]
    assert factor.min() < 1 < factor.max() and np.ptp(factor) > 0.2
    ctx = default_context()
    for oid in HOLDOUT:
        r = rows[oid]
        base = error_scale(ev.observation(oid), read_observation(ev.observation(oid), ctx))
        assert r["sigma"] == pytest.approx(base * np.median(factor)), oid
        # at least as wide as the source's own error: the t3 90% interval of the smallest draw's sigma
        width = math.log(max(r["hi90"], 1)) - math.log(max(r["lo90"], 1))
        assert width >= 2 * T3_95 * base * factor.min() * 0.95, oid
        point = ev.observation(oid)
        if point.bound == "point":
            assert r["inside"] == (r["lo90"] <= point.quantity <= r["hi90"])
            assert r["log_error"] == pytest.approx(math.log(point.quantity) - math.log(r["median"]), abs=1e-6)
    # the Georgian MVD's count (official, sigma 0.2) is compared with what stayed in Georgia
    # (plus the destination model's discrepancy, in quadrature)
    assert rows["OBS068"]["operator"] == "present" and rows["OBS068"]["sigma"] == pytest.approx(
        math.hypot(0.2, DESTINATION_SIGMA) * np.median(factor))
    # the FSB counts trips: emigrants + ordinary travel (several millions a quarter)
    assert rows["OBS050"]["median"] > 1_000_000


def test_repeated_calls_reuse_the_simulations(holdout, prior_validation, monkeypatch):
    calls = []
    real = post_mod._simulate_one
    monkeypatch.setattr(post_mod, "_simulate_one", lambda *a: calls.append(a) or real(*a))
    monkeypatch.setattr("emigre.estimate.validation.load_posterior", lambda path=None: None)
    again = validate(holdout, draws=4, scale=50)
    assert not calls
    assert again.to_json() == prior_validation.to_json()


def test_posterior_draws_and_hold_out_honesty(holdout):
    post = stand_in_posterior(3, seed=5)
    post["ll.OBS050"] = -1.0  # pretend the calibration used this figure
    v = validate(holdout, draws=3, scale=50, posterior=post)
    assert v.notes[0].startswith("posterior predictive: 3 of 3 posterior draws")
    assert any("not hold-outs: OBS050" in n for n in v.notes)
    assert len(v.rows) == 4 and len(v.skipped) == 1


def test_cli_json_and_table(holdout, prior_validation, capsys, monkeypatch):
    monkeypatch.setattr("emigre.estimate.validation.load_posterior", lambda path=None: None)
    rc, out, err = cli(["validate", "--holdout", str(holdout), "--draws", "4", "--scale", "50", "--json"], capsys)
    assert rc == 0, err
    assert json.loads(out) == prior_validation.to_json()
    assert "prior predictive" in err
    rc, out, err = cli(["validate", "--holdout", str(holdout), "--draws", "4", "--scale", "50"], capsys)
    assert rc == 0 and "OBS068" in out and "coverage90" in out and f"skipped {NO_OPERATOR}:" in out


def test_cli_explains_one_figure(holdout, prior_validation, capsys, monkeypatch):
    monkeypatch.setattr("emigre.estimate.validation.load_posterior", lambda path=None: None)
    rc, out, err = cli(["validate", "--holdout", str(holdout), "--explain", "OBS050", "--draws", "4", "--scale",
                        "50"], capsys)
    assert rc == 0, err
    row = next(r for r in prior_validation.rows if r["id"] == "OBS050")
    assert "OBS050 border_crossings_exit" in out and "operator exits" in out
    assert "ordinary_trips" in out and "wave" in out
    assert f"{row['parts']['ordinary_trips']['median']:,.0f}" in out
    assert f"{row['median']:,.0f}" in out
    # an unknown id fails with one line naming the close ids
    rc, out, err = cli(["validate", "--holdout", str(holdout), "--explain", "OBS51", "--draws", "4"], capsys)
    assert rc == 2 and "OBS051" not in out and "no evidence record with id 'OBS51'" in err


def test_bad_file_names_line_and_column(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    write_holdout(bad, set(HOLDOUT))
    lines = bad.read_text("utf-8").splitlines()
    lines[2] = lines[2].replace(lines[2].split(",")[1], "lots", 1)  # OBS014's quantity
    bad.write_text("\n".join(lines) + "\n", "utf-8")
    rc, out, err = cli(["validate", "--holdout", str(bad)], capsys)
    assert rc == 2 and not out
    assert f"{bad}, line 3, column quantity" in err, err
    missing = tmp_path / "missing-column.csv"
    missing.write_text("id,quantity\nX1,5\n", "utf-8")
    with pytest.raises(EmigreError, match=r"missing-column.csv, line 1"):
        validate(missing)
    with pytest.raises(EmigreError, match="no hold-out file"):
        validate(tmp_path / "nope.csv")
