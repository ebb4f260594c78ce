"""CLI verbs of emigre.evidence: ``list``, ``show`` and ``load``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from emigre.errors import EmigreError
from emigre.evidence.dates import format_date
from emigre.evidence.records import Event, Observation, SurveyShare, VisaRequirement, format_value
from emigre.evidence.schema import detect_schema, parse_rows, read_table
from emigre.evidence.store import load_evidence, parse_query_date

app = typer.Typer(
    help="The sourced evidence base: list, show and validate observations.", no_args_is_help=True
)


def _console() -> Console:
    console = Console()
    # Piped output (files, tests) gets a wide fixed width, so ids and figures are never folded.
    return console if console.is_terminal else Console(width=200)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command("list")
def list_cmd(
    kind: str | None = typer.Option(None, "--kind", help="Observation kind, e.g. stock_in_destination."),
    destination: str | None = typer.Option(None, "--destination", help="ISO3 code, ALL or EUU."),
    date_from: str | None = typer.Option(
        None, "--from", help="Periods ending on/after this date (YYYY-MM[-DD])."
    ),
    date_to: str | None = typer.Option(
        None, "--to", help="Periods starting on/before this date (YYYY-MM[-DD])."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
) -> None:
    """List observations, filtered by kind, destination and period overlap."""
    lo = parse_query_date(date_from, option="--from") if date_from else None
    hi = parse_query_date(date_to, end=True, option="--to") if date_to else None
    if lo is not None and hi is not None and lo > hi:
        raise EmigreError(f"--from {date_from} is after --to {date_to}")
    rows = load_evidence().filter(kind=kind, destination=destination, date_from=lo, date_to=hi)
    if as_json:
        _echo_json([o.to_dict() for o in rows])
        return
    table = Table(title=f"{len(rows)} observations", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("destination", no_wrap=True)
    table.add_column("period", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("publisher", overflow="fold")
    for o in rows:
        table.add_row(o.id, o.kind, o.destination, o.period_text, format_value(o), o.publisher)
    _console().print(table)


def _kv_table(title: str, items: list[tuple[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in items:
        if isinstance(value, tuple | list):
            value = ", ".join(str(v) for v in value) or "-"
        table.add_row(key, "" if value is None else str(value))
    return table


def _pub(rec: Observation | Event | SurveyShare) -> str:
    return format_date(rec.publication_date, rec.publication_date_precision) or "(not given)"


def _show_items(rec: Observation | Event | SurveyShare) -> tuple[str, list[tuple[str, Any]]]:
    if isinstance(rec, Observation):
        return f"observation {rec.id}", [
            ("value", format_value(rec)),
            ("quantity", rec.quantity),
            ("low", rec.low),
            ("high", rec.high),
            ("bound", rec.bound),
            ("qualifier", rec.qualifier),
            ("unit", rec.unit),
            ("kind", rec.kind),
            ("origin", f"{rec.origin} ({rec.origin_iso3})"),
            ("destination", rec.destination),
            ("period", f"{rec.period_start}..{rec.period_end}"),
            ("period as given", rec.period_text),
            ("weak", rec.weak),
            ("quality flags", rec.quality_flags),
            ("notes", rec.notes),
            ("publisher", rec.publisher),
            ("publication date", _pub(rec)),
            ("url", rec.url),
            ("quote", rec.quote),
        ]
    if isinstance(rec, Event):
        start = format_date(rec.date_start, rec.date_start_precision) or "(standing rule, no start date)"
        end = format_date(rec.date_end, rec.date_end_precision) or "(open)"
        return f"event {rec.id}", [
            ("kind", rec.kind),
            ("date start", start),
            ("date end", end),
            ("actors", rec.actors),
            ("affects", rec.affects),
            ("description", rec.description),
            ("publisher", rec.publisher),
            ("publication date", _pub(rec)),
            ("url", rec.url),
        ]
    value = "-" if rec.value is None else f"{rec.value:g}"
    return f"survey share {rec.id}", [
        ("survey", rec.survey),
        ("fieldwork", f"{rec.fieldwork_start}..{rec.fieldwork_end}"),
        ("sample n", rec.sample_n or "(not given)"),
        ("sample frame", rec.sample_frame),
        ("variable", rec.variable),
        ("category", rec.category),
        ("value", value),
        ("unit", rec.unit),
        ("bound", rec.bound),
        ("notes", rec.notes),
        ("publisher", rec.publisher),
        ("publication date", _pub(rec)),
        ("url", rec.url),
        ("quote", rec.quote),
    ]


@app.command("show")
def show_cmd(
    record_id: str = typer.Argument(..., metavar="ID", help="OBS..., EV... or RS... id."),
    as_json: bool = typer.Option(False, "--json", help="Print the record as JSON."),
) -> None:
    """Show every field of one observation, event or survey share, with its citation."""
    rec = load_evidence().get(record_id)
    if as_json:
        _echo_json({"type": type(rec).__name__, **rec.to_dict()})
        return
    title, items = _show_items(rec)
    console = _console()
    console.print(_kv_table(title, items))
    if not isinstance(rec, Event):
        console.print(f"Source: {rec.citation.as_text()}", soft_wrap=True, markup=False, highlight=False)


def _summary(schema: str, records: list[Any]) -> tuple[str, Counter[str]]:
    if schema == "observations":
        return "kind", Counter(r.kind for r in records)
    if schema == "events":
        return "kind", Counter(r.kind for r in records)
    if schema == "survey_shares":
        return "variable", Counter(r.variable for r in records)
    return "requirement", Counter(r.requirement for r in records)


@app.command("load")
def load_cmd(
    file: Path = typer.Argument(
        ..., help="A CSV file in the observations, events, reasons or visa-history schema."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the parsed records as JSON."),
) -> None:
    """Validate a user's evidence file (schema detected from its header) and summarise it."""
    table = read_table(file, what="evidence file")
    schema = detect_schema(table)
    records = parse_rows(table, schema)
    if as_json:
        _echo_json({"file": str(file), "schema": schema, "records": [r.to_dict() for r in records]})
        return
    what, counts = _summary(schema, records)
    label = schema.replace("_", " ")
    console = _console()
    if schema == "visa_history":
        snaps = {r.snapshot for r in records if isinstance(r, VisaRequirement)}
        dests = {r.destination for r in records}
        console.print(
            f"{file}: valid {label}, {len(snaps)} snapshots x {len(dests)} destinations "
            f"= {len(records)} entries",
            markup=False,
            highlight=False,
        )
    else:
        n = len(records)
        console.print(
            f"{file}: valid {label}, {n} record{'' if n == 1 else 's'}", markup=False, highlight=False
        )
    out = Table(show_header=True)
    out.add_column(what, no_wrap=True)
    out.add_column("records", justify="right")
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        out.add_row(key, str(n))
    console.print(out)
