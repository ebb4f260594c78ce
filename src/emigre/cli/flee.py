"""CLI verbs of emigre.flee: ``run`` one Flee-format scenario, ``validate`` against UNHCR data (ARD)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from emigre.errors import EmigreError
from emigre.flee.output import write_out_csv
from emigre.jobs.flee_run import load, result_ard, run_flee

app = typer.Typer(help="Run Flee-format refugee scenarios on the emigre engine.", no_args_is_help=True)

_SETTINGS_HELP = "Flee 3 simsetting.yml (default: simsetting.yml in the scenario dir, its parent or grandparent)."


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("days"),
        TimeElapsedColumn(), console=console, transient=True,
    )


def _check_positive(name: str, value: int | None, minimum: int) -> None:
    if value is not None and value < minimum:
        raise EmigreError(f"{name} must be >= {minimum}, got {value}")


def _check_hasten(scenario, settings, hasten: int | None) -> None:
    """--hasten must leave at least one agent: the refugee total of the data, divided by it, reaches 1."""
    import numpy as np

    from emigre.flee.series import camp_daily_values

    h = hasten if hasten is not None else settings.hasten
    series = camp_daily_values(scenario, hasten=h, include_unlocated=True)
    if series and float(np.max(np.sum(list(series.values()), axis=0))) >= 1:
        return
    people = camp_daily_values(scenario, hasten=1, include_unlocated=True)
    top = int(np.max(np.sum(list(people.values()), axis=0))) if people else 0
    raise EmigreError(f"--hasten {h} leaves no agents in {scenario.name}: its largest refugee total is {top:,} "
                      f"people, so --hasten must be at most about {max(top, 1):,}")


@app.command("run")
def run_cmd(
    scenario_dir: Path = typer.Argument(..., help="Scenario directory (input_csv/ and source_data/)."),
    settings: Path | None = typer.Option(None, "--settings", help=_SETTINGS_HELP),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same out.csv)."),
    hasten: int | None = typer.Option(None, "--hasten", help="N times fewer agents (default: the settings')."),
    out: Path = typer.Option(Path("out.csv"), "--out", help="Where to write out.csv (Flee's layout)."),
) -> None:
    """Simulate one scenario and write out.csv; prints the ARD against the UNHCR data."""
    from emigre.fileio import check_output_file
    from emigre.limits import check_seed

    check_seed(seed)
    _check_positive("--hasten", hasten, 1)
    check_output_file(out)  # before the simulation, not after it
    scenario, s = load(scenario_dir, settings)
    _check_hasten(scenario, s, hasten)
    err = Console(stderr=True)
    with _progress(err) as bar:
        task = bar.add_task(f"{scenario.name} seed {seed}", total=scenario.length)
        result = run_flee(scenario, s, seed=seed, hasten=hasten,
                          progress=lambda done, total: bar.update(task, completed=done))
    write_out_csv(result, out)
    rate = result.agent_steps / result.seconds if result.seconds > 0 else float("inf")
    typer.echo(
        f"{scenario.name}: {result.n_days} days, {int(result.agents[-1]):,} agents, hasten {result.hasten}, "
        f"seed {seed}: ARD {result_ard(result):.4f}; {result.agent_steps:,} agent-steps in "
        f"{result.seconds:.2f} s ({rate:,.0f}/s); wrote {out}"
    )


@app.command("validate")
def validate_cmd(
    scenario_dirs: list[Path] = typer.Argument(..., help="One or more scenario directories."),
    settings: Path | None = typer.Option(None, "--settings", help=_SETTINGS_HELP),
    seeds: int = typer.Option(5, "--seeds", help="Number of seeds (0..N-1)."),
    hasten: int | None = typer.Option(None, "--hasten", help="N times fewer agents (default: the settings')."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
) -> None:
    """Run each scenario with several seeds; report mean and sd of ARD, agent-steps and speed."""
    from emigre.limits import MAX_RUNS, check_int

    check_int("--seeds", seeds, 1, MAX_RUNS)
    _check_positive("--hasten", hasten, 1)
    loaded = [load(d, settings) for d in scenario_dirs]  # validate every input before running anything
    for scenario, s in loaded:
        _check_hasten(scenario, s, hasten)
    err = Console(stderr=True)
    rows = []
    with _progress(err) as bar:
        for scenario, s in loaded:
            ards, steps, seconds = [], 0, 0.0
            task = bar.add_task(scenario.name, total=scenario.length * seeds)
            for seed in range(seeds):
                result = run_flee(
                    scenario, s, seed=seed, hasten=hasten,
                    progress=lambda done, total, k=seed, t=task: bar.update(t, completed=k * total + done),
                )
                ards.append(result_ard(result))
                steps += result.agent_steps
                seconds += result.seconds
            rows.append({
                "scenario": scenario.name,
                "hasten": hasten if hasten is not None else s.hasten,
                "seeds": seeds,
                "ard_mean": statistics.fmean(ards),
                "ard_sd": statistics.stdev(ards) if len(ards) > 1 else 0.0,
                "agent_steps": steps,
                "seconds": seconds,
                "agent_steps_per_s": steps / seconds if seconds > 0 else None,
            })
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="ARD against UNHCR data (rescaled, as Flee's validation)")
    for col in ("scenario", "hasten", "seeds", "ARD mean", "ARD sd", "agent-steps", "seconds", "agent-steps/s"):
        table.add_column(col, justify="left" if col == "scenario" else "right")
    for r in rows:
        rate = f"{r['agent_steps_per_s']:,.0f}" if r["agent_steps_per_s"] else "-"
        table.add_row(r["scenario"], str(r["hasten"]), str(r["seeds"]), f"{r['ard_mean']:.4f}",
                      f"{r['ard_sd']:.4f}", f"{r['agent_steps']:,}", f"{r['seconds']:.2f}", rate)
    Console(width=140).print(table)
