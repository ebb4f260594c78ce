"""CLI verbs ``emigre estimate`` and ``emigre validate`` (registered as top-level commands by
:func:`register`)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from emigre.results.schema import CATEGORY_LABELS


def _console(stderr: bool = False) -> Console:
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=200)


def _fmt(x: float | None, unit: str = "persons") -> str:
    if x is None or not math.isfinite(x):
        return "-"
    if unit == "percent":
        return f"{x:.1f}%"
    return f"{x:,.0f}"


def _span(lo, hi, unit="persons") -> str:
    return f"{_fmt(lo, unit)} - {_fmt(hi, unit)}"


def estimate_cmd(
    quantity: str = typer.Argument(
        ..., help="departed, abroad, returned, present, arrivals, crossings or share."
    ),
    at: str = typer.Option(None, "--at", help="A date, YYYY-MM-DD (stocks: on it; counts: to it). Default: the end."),
    date_from: str = typer.Option(None, "--from", help="Start of a window, YYYY-MM-DD (counts and flows)."),
    date_to: str = typer.Option(None, "--to", help="End of a window, YYYY-MM-DD (counts and flows)."),
    destination: str = typer.Option(
        None, "--destination", help="ISO3 country (present: required; arrivals, crossings: optional)."
    ),
    by: str = typer.Option(
        None, "--by", help="Breakdown: reason, age, sex, education, it or document (DIM=CATEGORY for one)."
    ),
    store: Path = typer.Option(
        Path("out/russia-2022"), "--store", help="Ensemble store written by `emigre run` (its --out)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
) -> None:
    """Median with 50% and 90% intervals over the ensemble's runs (posterior draws x seeds) of a quantity."""
    from emigre.estimate.quantities import describe_runs, estimate, open_store

    s = open_store(store)
    ests = estimate(quantity, s, at=at, date_from=date_from, date_to=date_to, destination=destination, by=by)
    runs_text, posterior = describe_runs(s)
    note = None if posterior else (
        "these runs vary by seed only (one parameter set): the intervals leave out the parameter uncertainty; "
        "calibrate (`emigre calibrate russia-2022`) and run `emigre run russia-2022` again for posterior draws"
    )
    if as_json:
        typer.echo(json.dumps([e.to_dict() for e in ests], indent=2))
        if note:
            typer.echo(f"note: {note}", err=True)
        return
    e0 = ests[0]
    title = f"{quantity}" + (f" in {e0.destination}" if e0.destination else "") + f" {e0.when}"
    table = Table()
    if e0.by:
        table.add_column(e0.by)
    table.add_column("median", justify="right")
    table.add_column("50% interval", justify="right")
    table.add_column("90% interval", justify="right")
    for e in ests:
        cells = [_fmt(e.median, e.unit), _span(e.lo50, e.hi50, e.unit), _span(e.lo90, e.hi90, e.unit)]
        if e.by:
            cells.insert(0, CATEGORY_LABELS.get(e.category, e.category) if e.by != "age" else e.category)
        table.add_row(*cells)
    console = _console()
    console.print(f"{title}: median and intervals over {runs_text}", markup=False, highlight=False)
    console.print(table)
    console.print(f"store: {s.directory}", markup=False, highlight=False)
    if note:
        console.print(f"note: {note}", markup=False, highlight=False)


def validate_cmd(
    holdout: Path = typer.Option(..., "--holdout", help="Observations (evidence schema) not used in calibration."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows and the summary as JSON."),
    draws: int = typer.Option(40, "--draws", min=1, help="Posterior draws (1 seed each)."),
    scale: float = typer.Option(10.0, "--scale", help="Persons per simulated traveller."),
    workers: int = typer.Option(1, "--workers", min=0, help="Worker processes (1 = in this process; 0 = one per CPU)."),
    cluster: str = typer.Option(None, "--cluster", help="Simulate on a Dask cluster: tcp://HOST:PORT or local:N "
                                "(default $EMIGRE_CLUSTER, else --workers local processes)."),
    posterior: Path = typer.Option(None, "--posterior", help="Posterior file (default: the calibration's)."),
) -> None:
    """Check the posterior predictive against figures held out of the calibration: observed value, median,
    90% interval of the published figure (observation noise included), inside or not, log error; coverage
    and median |log error|."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from emigre.estimate.validation import load_holdout, validate
    from emigre.limits import MAX_DRAWS, MAX_WORKERS, check_int, check_scale

    check_int("--draws", draws, 1, MAX_DRAWS)
    check_int("--workers", workers, 0, MAX_WORKERS)
    check_scale(scale, parallel=workers or (os.cpu_count() or 1))
    observations = load_holdout(holdout)  # a bad file fails before any simulation
    err = _console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("posterior predictive", total=draws)
        v = validate(observations, draws=draws, scale=scale, workers=workers, cluster=cluster, posterior=posterior,
                     progress=lambda done, total: bar.update(task, completed=done, total=total))
    for n in v.notes:
        err.print(f"note: {n}", markup=False, highlight=False)
    if as_json:
        typer.echo(json.dumps(v.to_json(), indent=2))
        return
    console = _console()
    console.print(f"{holdout}: {len(v.rows)} rows checked, {len(v.skipped)} skipped ({v.draws} draws, "
                  f"{v.scale:g} persons per traveller)", markup=False, highlight=False)
    table = Table()
    for name, justify in (("id", "left"), ("kind", "left"), ("place", "left"), ("period", "left"),
                          ("observed", "right"), ("median", "right"), ("90% interval", "right"),
                          ("inside", "left"), ("log error", "right")):
        table.add_column(name, justify=justify)
    for r in v.rows:
        unit = r["unit"]
        if r["bound"] == "range":
            observed = _span(r["low"], r["high"], unit)
        else:
            observed = {"lower": "> ", "upper": "< "}.get(r["bound"], "") + _fmt(r["observed"], unit)
        table.add_row(r["id"], r["kind"], r["destination"], r["period"], observed, _fmt(r["median"], unit),
                      _span(r["lo90"], r["hi90"], unit), "yes" if r["inside"] else "NO", f"{r['log_error']:+.2f}")
    console.print(table)
    if v.rows:
        console.print(f"coverage90 {v.coverage90:.2f} ({sum(r['inside'] for r in v.rows)}/{len(v.rows)}), "
                      f"median |log error| {v.median_abs_log_error:.2f}", markup=False, highlight=False)
    for s in v.skipped:
        console.print(f"skipped {s['id']}: {s['reason']}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("estimate")(estimate_cmd)
    app.command("validate")(validate_cmd)


__all__ = ["estimate_cmd", "register", "validate_cmd"]
