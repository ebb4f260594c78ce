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
    failed = {f["quantity"] for f in conv["failed"]}
    for name, q in conv["quantities"].items():
        assert q["ess"] > 0 and q["disjoint_pairs"] in (0, 1)
        # an infinite R-hat (each run constant, the runs apart: a count of a few travellers at scale 500) is
        # written as null - JSON has no infinity - and fails the gate
        assert q["rhat"] >= 0.9 if q["rhat"] is not None else name in failed
    # 52 evaluations per run cannot converge: the verdict says so and names what to raise
    assert not conv["converged"] and conv["failed"]
    assert "--budget" in fit["advice"]
    assert "did not pass the convergence gates" in r.output and "raise --budget" in r.output
    assert json.loads(r.stdout[r.stdout.index("{"):])["converged"] is False


def _start(tmp_path, runs=2, n=5, drop=None):
    """A starting posterior: ``runs`` runs of ``n`` draws of the packaged posterior's first runs (every
    calibrated parameter)."""
    import pandas as pd

    from emigre.calibrate.posterior import calibrated_matrix

    sp = default_space()
    packaged = load_posterior()
    every, _ = calibrated_matrix(packaged, sp)  # a parameter newer than the packaged posterior: its default
    run = packaged["run"].to_numpy()
    X = np.vstack([every[run == k][:n] for k in range(runs)])
    df = pd.DataFrame(X, columns=sp.names)
    df.insert(0, "run", np.repeat(np.arange(runs), n))
    if drop:
        df = df.drop(columns=[drop])
    p = tmp_path / f"start-{drop or 'all'}.parquet"
    df.to_parquet(p)
    return p, X


def test_extend_continues_every_run_keeps_their_rows_and_resumes(tmp_path):
    from emigre.cli import main

    start, X = _start(tmp_path)
    out = tmp_path / "ext"
    args = ["calibrate", "--extend", str(start), "--budget", "10", "--scale", "500", "--workers", "1",
            "--out", str(out), "--seed", "4"]
    assert main(args) == 0
    post = load_posterior(out)
    assert post["run"].tolist() == [0] * 5 + [1] * 5 and post["draw"].tolist() == list(range(10))
    names = default_space().names
    # one move of the 10 particles: each row is its start or the state it accepted, never another row's
    moved = ~np.isclose(post[names].to_numpy(), X, rtol=1e-9, atol=0).all(1)
    assert 0 < moved.sum() < 10
    for i in np.flatnonzero(moved):
        assert not np.isclose(post[names].to_numpy()[i], X, rtol=1e-9, atol=0).all(1).any()
    fit = json.loads((out / "fit.json").read_text())
    assert fit["extended_from"] == str(start) and fit["settings"]["runs"] == 2 and fit["settings"]["particles"] == 5
    assert fit["evaluations"]["requested"] == 20 and fit["evaluations"]["run"] == 20
    assert len(fit["smc"]["stages"]) == 1 and fit["smc"]["stages"][0]["moves"] == 1
    assert set(fit["convergence"]["quantities"]) >= set(names)
    assert not fit["convergence"]["converged"] and "--budget" in fit["advice"]
    first = (out / "posterior.parquet").read_bytes()
    # --resume replays every evaluation from the journal and writes the same posterior
    assert main(args + ["--resume"]) == 0
    fit2 = json.loads((out / "fit.json").read_text())
    assert fit2["evaluations"]["run"] == 0 and fit2["evaluations"]["reused"] == 20
    assert load_posterior(out).equals(post) and len(first) > 0


def test_extend_refuses_a_posterior_of_another_model_and_its_own_output(tmp_path, capsys):
    from emigre.cli import main

    bad, _ = _start(tmp_path, drop="choice_hours")
    assert main(["calibrate", "--extend", str(bad), "--budget", "10", "--scale", "500", "--workers", "1",
                 "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "lacks 1 calibrated parameter(s): choice_hours" in err and str(bad) in err and "--draw-missing" in err
    assert not (tmp_path / "x" / "posterior.parquet").exists()
    good, _ = _start(tmp_path)
    assert main(["calibrate", "--extend", str(tmp_path), "--budget", "20", "--out", str(tmp_path)]) == 2
    assert "write the extension to another --out" in capsys.readouterr().err
    assert main(["calibrate", "--extend", str(good), "--budget", "9", "--scale", "500", "--out",
                 str(tmp_path / "y")]) == 2
    assert "--budget 9 is too small to extend runs of 5 particles: at least 10" in capsys.readouterr().err


def test_extend_draws_the_parameters_a_posterior_lacks_from_their_priors(tmp_path, capsys):
    """A parameter added to the model since the posterior was made: --draw-missing starts it from prior draws
    (seeded, so the extension is reproducible) and fit.json names it; without the flag the error says how."""
    from emigre.calibrate.extend import draw_missing_seed, starting_particles
    from emigre.cli import main

    sp = default_space()
    bad, X = _start(tmp_path, drop="choice_hours")
    j = sp.names.index("choice_hours")
    prior = sp.priors[j]
    table = load_posterior(bad)
    columns = list(table.columns)
    a = starting_particles(table, sp, "t", fill=np.random.default_rng(draw_missing_seed(4)))
    assert list(table.columns) == columns  # the caller's table is left as it was
    b = starting_particles(load_posterior(bad), sp, "t", fill=np.random.default_rng(draw_missing_seed(4)))
    c = starting_particles(load_posterior(bad), sp, "t", fill=np.random.default_rng(draw_missing_seed(5)))
    assert not np.array_equal(a[0], c[0])  # another seed, other draws
    for ua, ub, k in zip(a, b, (0, 1), strict=True):
        np.testing.assert_array_equal(ua, ub)  # the same seed, the same starting draws
        xa = sp.from_u(ua)
        np.testing.assert_allclose(np.delete(xa, j, axis=1), np.delete(X[5 * k : 5 * k + 5], j, axis=1), rtol=1e-9)
        assert np.isfinite(prior.log_pdf(xa[:, j])).all()  # inside the prior's support
    assert not np.allclose(sp.from_u(a[0])[:, j], X[:5, j])  # drawn, not the dropped values
    out = tmp_path / "ext"
    assert main(["calibrate", "--extend", str(bad), "--draw-missing", "--budget", "10", "--scale", "500",
                 "--workers", "1", "--out", str(out), "--seed", "4"]) == 0
    fit = json.loads((out / "fit.json").read_text())
    assert fit["settings"]["drawn_from_prior"] == ["choice_hours"]
    post = load_posterior(out)
    assert post["choice_hours"].notna().all() and len(post) == 10
    assert "start from their priors: choice_hours" in capsys.readouterr().err
    assert main(["calibrate", "--draw-missing", "--budget", "10", "--out", str(tmp_path / "z")]) == 2
    assert "give --extend" in capsys.readouterr().err
