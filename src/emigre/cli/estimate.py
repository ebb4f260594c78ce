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
    holdout: Path = typer.Option(None, "--holdout", help="Observations (evidence schema) not used in calibration "
                                 "(default: the packaged evidence, calibration figures included)."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows (with their parts) and the summary as JSON."),
    explain: str = typer.Option(None, "--explain", metavar="ID", help="Only this figure, with its prediction "
                                "split into its parts (wave emigrants / what the source counted beside them)."),
    draws: int = typer.Option(40, "--draws", min=1, help="Posterior draws (1 seed each)."),
    scale: float = typer.Option(10.0, "--scale", help="Persons per simulated traveller."),
    workers: int = typer.Option(1, "--workers", min=0, help="Worker processes (1 = in this process; 0 = one per CPU)."),
    cluster: str = typer.Option(None, "--cluster", help="Simulate on a Dask cluster: tcp://HOST:PORT or local:N "
                                "(default $EMIGRE_CLUSTER, else --workers local processes)."),
    posterior: Path = typer.Option(None, "--posterior", help="Posterior file (default: the calibration's)."),
) -> None:
    """Check the posterior predictive against figures held out of the calibration: observed value, median,
    50% and 90% intervals of the published figure (observation noise included), inside or not, log error,
    and the prediction's parts; coverage and median |log error|."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from emigre.estimate.validation import load_holdout, validate
    from emigre.evidence import load_evidence
    from emigre.limits import MAX_DRAWS, MAX_WORKERS, check_int, check_scale

    check_int("--draws", draws, 1, MAX_DRAWS)
    check_int("--workers", workers, 0, MAX_WORKERS)
    check_scale(scale, parallel=workers or (os.cpu_count() or 1))
    if holdout is not None:
        observations = load_holdout(holdout)  # a bad file fails before any simulation
        label = str(holdout)
    else:
        observations = load_evidence().observations
        label = "packaged evidence"
    if explain is not None:
        from emigre.evidence.store import Evidence

        by_id = {o.id: o for o in observations}
        if explain not in by_id and explain.upper() not in by_id:
            # the evidence's own lookup names close ids
            Evidence(tuple(observations), (), (), ()).observation(explain)
        observations = (by_id.get(explain) or by_id[explain.upper()],)
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
    if explain is not None:
        _print_explain(console, observations[0], v)
        return
    console.print(f"{label}: {len(v.rows)} rows checked, {len(v.skipped)} skipped ({v.draws} draws, "
                  f"{v.scale:g} persons per traveller)", markup=False, highlight=False)
    table = Table()
    for name, justify in (("id", "left"), ("kind", "left"), ("place", "left"), ("period", "left"),
                          ("observed", "right"), ("median", "right"), ("90% interval", "right"),
                          ("inside", "left"), ("log error", "right"), ("wave share", "right")):
        table.add_column(name, justify=justify)
    for r in v.rows:
        unit = r["unit"]
        table.add_row(r["id"], r["kind"], r["destination"], r["period"], _observed(r), _fmt(r["median"], unit),
                      _span(r["lo90"], r["hi90"], unit), "yes" if r["inside"] else "NO", f"{r['log_error']:+.2f}",
                      _wave_share(r))
    console.print(table)
    if v.rows:
        console.print(f"coverage90 {v.coverage90:.2f} ({sum(r['inside'] for r in v.rows)}/{len(v.rows)}), "
                      f"median |log error| {v.median_abs_log_error:.2f}", markup=False, highlight=False)
    for s in v.skipped:
        console.print(f"skipped {s['id']}: {s['reason']}", markup=False, highlight=False)


def _observed(r: dict) -> str:
    unit = r["unit"]
    if r["bound"] == "range":
        return _span(r["low"], r["high"], unit)
    return {"lower": "> ", "upper": "< "}.get(r["bound"], "") + _fmt(r["observed"], unit)


def _wave_share(r: dict) -> str:
    """The wave's part of the model's median (medians of parts need not add up: a share, rounded)."""
    parts = r.get("parts") or {}
    total = sum(p["median"] for p in parts.values())
    if "wave" not in parts or not total or r["unit"] == "percent":
        return "-"
    return f"{100 * parts['wave']['median'] / total:.0f}%"


def _print_explain(console: Console, obs, v) -> None:
    """One figure: what the source counted, the prediction and its parts."""
    from emigre.observe import default_context, read_observation
    from emigre.observe.operators import PART_DOCS

    say = lambda text: console.print(text, markup=False, highlight=False)  # noqa: E731
    say(f"{obs.id} {obs.kind} {obs.destination} {obs.period_text}: {obs.publisher}")
    if not v.rows:
        say(f"not predicted: {v.skipped[0]['reason'] if v.skipped else 'no operator'}")
        return
    r = v.rows[0]
    unit = r["unit"]
    rd = read_observation(obs, default_context())
    say(f"operator {r['operator']}: {rd.reason}")
    say(f"observed {_observed(r)}; predicted median {_fmt(r['median'], unit)}, 50% "
        f"{_span(r['lo50'], r['hi50'], unit)}, 90% {_span(r['lo90'], r['hi90'], unit)} (observation error "
        f"sigma {r['sigma']:.2f}); {'inside' if r['inside'] else 'OUTSIDE'} the 90% interval, log error "
        f"{r['log_error']:+.2f}")
    say(f"the model's value over {v.draws} draws (no observation error): median {_fmt(r['model_median'], unit)}")
    table = Table()
    for name, justify in (("part", "left"), ("median", "right"), ("5-95% over draws", "right"), ("what", "left")):
        table.add_column(name, justify=justify)
    for name, p in r["parts"].items():
        table.add_row(name, _fmt(p["median"], unit), _span(p["lo90"], p["hi90"], unit), PART_DOCS.get(name, ""))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``estimate`` and ``validate`` to the ``emigre`` app."""
    app.command("estimate")(estimate_cmd)
    app.command("validate")(validate_cmd)


__all__ = ["estimate_cmd", "register", "validate_cmd"]
