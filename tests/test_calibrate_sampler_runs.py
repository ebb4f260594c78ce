"""`emigre calibrate --runs K`: K independent calibrations in one posterior with a `run` column, and the
diagnostics across them in fit.json (a tiny budget: the gates must fail and say what to raise)."""

from __future__ import annotations

import json

import numpy as np
import typer
from typer.testing import CliRunner

from emigre.calibrate import default_space, load_posterior
from emigre.calibrate.calibration import run_seed
from emigre.cli.calibrate import calibrate_cmd


def test_runs_are_combined_with_diagnostics_and_a_verdict(tmp_path):
    app = typer.Typer()
    app.command("calibrate")(calibrate_cmd)
    app.command("other")(lambda: None)
    out = tmp_path / "cal"
    r = CliRunner().invoke(app, ["calibrate", "russia-2022", "--budget", "52", "--particles", "10", "--scale", "500",
                                 "--workers", "1", "--out", str(out), "--seed", "3", "--runs", "2"])
    assert r.exit_code == 0, r.output
    post = load_posterior(out)
    assert sorted(post["run"].unique()) == [0, 1] and (post["run"].value_counts() == 10).all()
    assert post["draw"].tolist() == list(range(20))
    for k in (0, 1):  # each run keeps its own outputs (and journal, for --resume)
        assert (out / f"run-{k}" / "journal.sqlite").exists()
        one = load_posterior(out / f"run-{k}")
        np.testing.assert_array_equal(one["baseline_emigration_per_year"],
                                      post.loc[post["run"] == k, "baseline_emigration_per_year"])
    fit = json.loads((out / "fit.json").read_text())
    assert [x["seed"] for x in fit["runs"]] == [run_seed(3, 0), run_seed(3, 1)] and run_seed(3, 0) != run_seed(3, 1)
    assert fit["settings"]["sim_seeds"] == [3]  # the same simulations: both runs sample one posterior
    conv = fit["convergence"]
    preds = [c for c in post.columns if c.startswith("pred.")]
    assert len(preds) > 50
    assert set(conv["quantities"]) == set(fit["settings"]["calibrated"]) | set(preds)
    assert fit["settings"]["calibrated"] == default_space().names  # every calibrated parameter
    for q in conv["quantities"].values():
        assert q["rhat"] >= 0.9 and q["ess"] > 0 and q["disjoint_pairs"] in (0, 1)
    # 52 evaluations per run cannot converge: the verdict says so and names what to raise
    assert not conv["converged"] and conv["failed"]
    assert "--budget" in fit["advice"]
    assert "did not pass the convergence gates" in r.output and "raise --budget" in r.output
    assert json.loads(r.stdout[r.stdout.index("{"):])["converged"] is False
