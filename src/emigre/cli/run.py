"""CLI verbs ``emigre simulate`` (one run) and ``emigre run`` (the main job: ensemble, store, report)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from emigre.ensemble.run import parse_params, write_single_run

_PARAM_HELP = "Override a scenario parameter, NAME=VALUE (repeatable); see `emigre scenario show`/params.yaml."


def _bar(console: Console, unit: str) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
        TimeElapsedColumn(), console=console, transient=True,
    )


def simulate_cmd(
    scenario: str = typer.Argument("russia-2022", help="Packaged scenario name or scenario directory."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same result)."),
    param: list[str] = typer.Option(None, "--param", help=_PARAM_HELP),
    scale: float = typer.Option(1.0, "--scale", help="Persons per simulated traveller (1 = one agent per person)."),
    out: Path = typer.Option(Path("out/simulate"), "--out", help="Output directory."),
    end: str = typer.Option(None, "--end", help="Last day to simulate, YYYY-MM-DD (default: the scenario's)."),
) -> None:
    """Run the exodus ruleset once: DIR/daily.parquet (date, place, measure, group, value) and DIR/summary.json."""
    from emigre.behaviour.exodus import simulate
    from emigre.fileio import check_output_dir
    from emigre.limits import check_end, check_scale, check_seed
    from emigre.scenario import load_scenario

    check_seed(seed)
    check_scale(scale)
    check_output_dir(out)  # before the simulation, not after it
    world = load_scenario(scenario, params=parse_params(param))
    check_end(end, world)
    err = Console(stderr=True)
    with _bar(err, "days") as bar:
        task = bar.add_task(f"{world.name} seed {seed}", total=None)
        result = simulate(world, seed=seed, scale=scale, end=end,
                          progress=lambda done, total: bar.update(task, completed=done, total=total))
    summary = write_single_run(result, out)
    typer.echo(json.dumps(summary, indent=2))
    typer.echo(f"wrote {out / 'daily.parquet'} and {out / 'summary.json'}", err=True)


def run_cmd(
    scenario: str = typer.Argument("russia-2022", help="Packaged scenario name or scenario directory."),
    out: Path = typer.Option(Path("out/russia-2022"), "--out", help="Output directory (report, store, shards)."),
    runs: int = typer.Option(20, "--runs", min=1, help="Ensemble size (seeds x parameter sets)."),
    seed: int = typer.Option(0, "--seed", min=0, help="First seed; run i uses seed + i."),
    param: list[str] = typer.Option(None, "--param", help=_PARAM_HELP),
    scale: float = typer.Option(1.0, "--scale", help="Persons per simulated traveller."),
    workers: int = typer.Option(0, "--workers", min=0, help="Worker processes (0 = one per CPU)."),
    cluster: str = typer.Option(
        None, "--cluster", help="Run on a Dask cluster: tcp://HOST:PORT (a running `dask scheduler`) or local:N "
        "(N local Dask workers); default $EMIGRE_CLUSTER, else --workers local processes."),
    resume: bool = typer.Option(
        False, "--resume", help="Continue a killed run into the same --out with the same arguments: the runs it "
        "finished are kept (same bytes as an uninterrupted run)."),
    posterior: str = typer.Option(
        "default", "--posterior",
        help="Posterior sample (posterior.parquet of `emigre calibrate`): run i uses draw i. 'default' = the "
        "packaged posterior if there is one, else the prior defaults; 'none' = the defaults of params.yaml.",
    ),
) -> None:
    """The main job: an ensemble of simulations (posterior draws x seeds), stored (Parquet shards + DuckDB),
    a self-contained DIR/report.html and a summary table."""
    from emigre.jobs.main_job import run_main_job
    from emigre.limits import MAX_RUNS, MAX_WORKERS, check_int, check_scale, check_seed
    from emigre.observe.ranges import check_params

    check_int("--runs", runs, 1, MAX_RUNS)
    check_int("--workers", workers, 0, MAX_WORKERS)
    check_seed(seed, runs=runs)
    check_scale(scale, parallel=min(runs, workers or (os.cpu_count() or 1)))
    check_params(parse_params(param), scenario)  # before the job prints or writes anything
    err = Console(stderr=True)
    with _bar(err, "runs") as bar:
        task = bar.add_task(f"{scenario}: simulating", total=runs)
        run_main_job(scenario, out, runs=runs, seed=seed, params=parse_params(param), scale=scale,
                     workers=workers or None, posterior=posterior, console=Console(), err=err,
                     cluster=cluster, resume=resume,
                     progress=lambda done, total, s: bar.update(task, completed=done))


def register(app: typer.Typer) -> None:
    """Add ``simulate`` and ``run`` to the ``emigre`` app."""
    app.command("simulate")(simulate_cmd)
    app.command("run")(run_cmd)


__all__ = ["register"]
