"""``emigre calibrate``: register with ``app.command("calibrate")(calibrate_cmd)``."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from emigre.calibrate.calibration import DEFAULT_BUDGET, DEFAULT_OUT


def calibrate_cmd(
    scenario: str = typer.Argument("russia-2022", help="Packaged scenario name or scenario directory."),
    budget: int = typer.Option(
        DEFAULT_BUDGET, "--budget", min=1,
        help="Parameter sets to evaluate (simulations per seed): 25% to the fit (Optuna TPE, then a compass "
        "search -> MAP), the rest "
        "to the posterior (tempered SMC), as a cap: the sampler stops early once its particles have decorrelated "
        "and says so when the cap stopped it first. Measured (8 Dec 2026, 2 workers on a 2-core machine): about "
        "5 evaluations per second at scale 20, so the default takes about 12 minutes a run; at --scale 50 about "
        "10 a second (4 runs x 10,000: 67 minutes, not yet converged). The packaged posterior took 4 runs x "
        "6,000 at --scale 50, then --extend with 3,500 per run, to converge (docs/calibrate.md).",
    ),
    workers: int = typer.Option(0, "--workers", min=0, help="Worker processes (0 = one per CPU)."),
    cluster: str = typer.Option(
        None, "--cluster", help="Run the evaluations on a Dask cluster: tcp://HOST:PORT (a running `dask "
        "scheduler`) or local:N (N local Dask workers); default $EMIGRE_CLUSTER, else local processes."),
    resume: bool = typer.Option(
        False, "--resume", help="Continue a killed calibration in --out: finished evaluations come from its journal."
    ),
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="Output directory (posterior.parquet, fit.json, journal)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the algorithm and of the simulations."),
    exclude: Path = typer.Option(
        None, "--exclude",
        help="Observations CSV (evidence schema, or a list of ids) held out of the calibration, for `emigre validate`.",
    ),
    scale: float = typer.Option(20.0, "--scale", help="Persons per simulated traveller in every evaluation."),
    particles: int = typer.Option(200, "--particles", min=10, help="Posterior draws (SMC particles)."),
    runs: int = typer.Option(
        1, "--runs", min=1, max=64,
        help="Independent calibrations (algorithm seeds derived from --seed, same simulations; --budget and "
        "--particles per run) in DIR/run-K, combined into DIR/posterior.parquet with a `run` column; fit.json "
        "gets R-hat, ESS and disjoint 90% intervals across runs. Says 'converged' only when every R-hat <= 1.05 "
        "and no two runs have disjoint intervals."),
    extend: Path = typer.Option(
        None, "--extend",
        help="Continue an earlier calibration instead of starting one: each run of this posterior.parquet (or its "
        "folder) starts from its particles and spends --budget evaluations on moves at the posterior, stage after "
        "stage until each has decorrelated (--runs and --particles come from the file; use the --scale it was "
        "calibrated at). Writes the --runs layout to --out, which can be extended again."),
    draw_missing: bool = typer.Option(
        False, "--draw-missing",
        help="With --extend: calibrated parameters the posterior lacks (added to the model since it was made) "
        "start from draws of their priors (seeded by --seed) instead of stopping with an error."),
) -> None:
    """Calibrate the scenario on the evidence: a MAP fit, then a posterior sample (DIR/posterior.parquet)."""
    import json

    from rich.console import Console

    from emigre.calibrate.calibration import calibrate
    from emigre.calibrate.objective import read_exclude
    from emigre.errors import EmigreError
    from emigre.fileio import check_output_dir
    from emigre.limits import MAX_BUDGET, MAX_PARTICLES, MAX_WORKERS, check_int, check_scale, check_seed

    if draw_missing and extend is None:
        raise EmigreError("--draw-missing fills the parameters a posterior lacks when extending it: give --extend")
    check_int("--budget", budget, 1, MAX_BUDGET)
    check_int("--particles", particles, 10, MAX_PARTICLES)
    check_int("--workers", workers, 0, MAX_WORKERS)
    check_seed(seed)
    check_scale(scale, parallel=workers or (os.cpu_count() or 1))
    check_output_dir(out)  # before any evaluation
    held = read_exclude(exclude) if exclude is not None else []
    err = Console(stderr=True)
    if extend is not None:
        from emigre.calibrate.extend import extend as extend_runs

        if Path(extend).resolve() in (Path(out).resolve(), (Path(out) / "posterior.parquet").resolve()):
            raise EmigreError(f"--extend {extend}: write the extension to another --out (it would overwrite its "
                              "own start)")
        res = extend_runs(extend, scenario, budget=budget, workers=workers, cluster=cluster, resume=resume, out=out,
                          seed=seed, exclude=held, scale=scale, progress=True, draw_missing=draw_missing)
        runs = len(res.fit["runs"])
    elif runs > 1:
        from emigre.calibrate.calibration import calibrate_runs

        res = calibrate_runs(scenario, runs=runs, budget=budget, workers=workers, cluster=cluster, resume=resume,
                             out=out, seed=seed, exclude=held, scale=scale, particles=particles, progress=True)
    else:
        res = calibrate(scenario, budget=budget, workers=workers, cluster=cluster, resume=resume, out=out, seed=seed,
                        exclude=held, scale=scale, particles=particles, progress=True)
    multi = extend is not None or runs > 1  # the --runs layout: run-<k>/ and the diagnostics across runs
    f = res.fit
    ev = f["evaluations"]
    err.print(
        f"{len(f['observations']['used'])} observations used, {len(f['observations']['excluded'])} held out; "
        f"{ev['requested']} evaluations ({ev['run']} run, {ev['reused']} from the journal) in {f['seconds']:.0f} s"
    )
    if f["observations"]["excluded_unknown"]:
        err.print(f"[yellow]warning: --exclude lists ids that are not in the evidence: "
                  f"{', '.join(f['observations']['excluded_unknown'])}[/yellow]")
    if not f["smc"]["complete"]:
        err.print("[yellow]warning: the budget ran out before the sampler reached the posterior smoothly; the last "
                  "step had a low effective sample size - raise --budget[/yellow]")
    if not multi and not f["smc"]["decorrelated"]:
        err.print("[yellow]warning: the budget ran out before the sampler's particles decorrelated (fit.json: smc "
                  "stages, stopped_by) - raise --budget; --runs 2 or more checks convergence[/yellow]")
    if multi:
        conv = f["convergence"]
        if conv["converged"]:
            err.print(f"converged: {runs} runs, every R-hat <= {conv['rhat_max']} and no two runs with disjoint 90% "
                      f"intervals over {len(conv['quantities'])} parameters and predictions")
        else:
            bad = ", ".join(
                f"{x['quantity']} (R-hat {x['rhat']:.2f}, {x['disjoint_pairs']} disjoint)" if x.get("rhat") is not None
                else f"{x['quantity']} ({x['why']})" for x in conv["failed"][:12])
            more = len(conv["failed"]) - 12
            err.print(f"[yellow]did not pass the convergence gates: {len(conv['failed'])} of {len(conv['quantities'])} quantities fail "
                      f"(R-hat > {conv['rhat_max']} or disjoint 90% intervals): {bad}"
                      f"{f' and {more} more' if more > 0 else ''}. {f['advice']}[/yellow]")
    typer.echo(json.dumps({"out": str(out), "map_logpost": f["map"]["logpost"], "draws": len(res.posterior),
                           "evaluations": ev["requested"], "run": ev["run"], "reused": ev["reused"],
                           "seconds": round(f["seconds"], 1)}
                          | ({"runs": runs, "converged": f["convergence"]["converged"]} if multi else {}), indent=2))
    journals = out / "journal.sqlite" if not multi or extend is not None else out / "run-*" / "journal.sqlite"
    err.print(f"wrote {out / 'posterior.parquet'}, {out / 'fit.json'} and {journals}")
