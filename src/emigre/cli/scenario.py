"""CLI verbs of emigre.scenario: check, show, routes."""

from __future__ import annotations

import json

import typer

from emigre.errors import InputError
from emigre.scenario.load import load_scenario
from emigre.scenario.model import DOCUMENTS, HOME

app = typer.Typer(help="The scenario world: check it, show a day, find routes.", no_args_is_help=True)


@app.command()
def check(scenario: str = typer.Argument("russia-2022", help="packaged scenario name or directory")) -> None:
    """Validate a scenario (referential integrity, sources, dates) and print a summary; exit 2 on problems."""
    try:
        world = load_scenario(scenario, strict=False)
        tables = _ruleset_tables(world)
    except InputError as exc:  # a file that cannot be read at all
        typer.echo(f"FAILED: {exc}")
        raise SystemExit(2) from None
    report = world.check()
    typer.echo(f"{world.name}: {report}{tables}")
    if not report.ok:
        raise SystemExit(2)  # emigre.cli.main drops typer.Exit codes (standalone_mode=False)


def _ruleset_tables(world) -> str:
    """The exodus ruleset's own tables, when the scenario has them: ``population.csv`` (age x sex counts) and
    ``destinations.csv`` (one row per destination country), read as the ruleset reads them (InputError on a
    bad row). Returns a summary suffix."""
    from emigre.scenario.tables import read_destinations, read_population

    d = world.directory
    parts = []
    if (d / "population.csv").exists():
        pop = read_population(d / "population.csv")
        parts.append(f"population {sum(pop.values()):,.0f} adults in {len(pop)} age/sex groups")
    if (d / "destinations.csv").exists():
        dest = read_destinations(d / "destinations.csv", {c.iso3 for c in world.countries.values()})
        parts.append(f"{len(dest)} destination profiles")
    return "".join(f", {x}" for x in parts)


def _check_date(date: str, world) -> None:
    """A day inside the scenario's period: outside it the timeline says nothing, and rules would read as open."""
    from emigre.limits import check_end

    check_end(date, world, option="--date")


@app.command()
def show(
    scenario: str = typer.Argument("russia-2022", help="packaged scenario name or directory"),
    date: str = typer.Option(..., "--date", help="day to show, YYYY-MM-DD"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """What was open on a day: international links and entry rules by document."""
    world = load_scenario(scenario)
    _check_date(date, world)
    data = world.show(date)
    if as_json:
        typer.echo(json.dumps(data, indent=1, ensure_ascii=False))
        return
    n_open = sum(x["open"] for x in data["links"])
    typer.echo(f"{world.name} on {data['date']}: {n_open} of {len(data['links'])} international links open")
    for lk in world.links.values():
        if not lk.international:
            continue
        st = world.link_status(lk, date)
        if not st.open:
            typer.echo(
                f"  {st.state:<10} {lk.id:<36} {lk.from_place} - {lk.to_place}  [{', '.join(st.sources)}]"
            )
    typer.echo("entry (internal passport | foreign passport | foreign passport + Schengen visa):")
    for c in world.countries:
        if c == HOME:
            continue
        cells = []
        for doc in DOCUMENTS:
            r = world.entry_rule(c, doc, date)
            if r is None:
                cells.append("?")
                continue
            stay = f" {r.max_stay_days}d" if r.max_stay_days else ""
            mode = f" ({'/'.join(r.modes)} only)" if r.modes else ""
            cells.append(f"{'+' if r.admitted else '-'}{r.rule}{stay}{mode}")
        typer.echo(f"  {c}  " + " | ".join(f"{x:<26}" for x in cells).rstrip())


@app.command()
def routes(
    scenario: str = typer.Argument("russia-2022", help="packaged scenario name or directory"),
    from_place: str = typer.Option(..., "--from", help="start place id (e.g. RUS:Moscow) or name"),
    to: str = typer.Option(..., "--to", help="destination country, ISO3"),
    date: str = typer.Option(..., "--date", help="day of travel, YYYY-MM-DD"),
    document: str = typer.Option(
        "foreign_passport", "--document", help="internal_passport | foreign_passport | schengen_visa"
    ),
    max_hops: int = typer.Option(4, "--max-hops", min=1, max=6),
    limit: int = typer.Option(10, "--limit", min=1, help="most routes to list (fastest first)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Feasible routes on a day, or the reasons why there are none (exit 1)."""
    world = load_scenario(scenario)
    _check_date(date, world)
    found = world.routes(from_place, to, date, document=document, max_hops=max_hops)
    total = len(found.routes)
    found.routes = found.routes[:limit]
    if as_json:
        typer.echo(json.dumps(found.as_json() | {"total_routes": total}, indent=1, ensure_ascii=False))
    elif found:
        typer.echo(
            f"{total} feasible route(s) from {found.origin} to {found.destination} on {found.date} "
            f"with a {document}; fastest {len(found.routes)}:"
        )
        for r in found.routes:
            typer.echo(f"  {r.describe()}")
            typer.echo(f"      sources: {', '.join(r.sources)}")
    else:
        typer.echo(
            f"no feasible route from {found.origin} to {found.destination} on {found.date} with a {document}:"
        )
        for reason in found.reasons:
            typer.echo(f"  - {reason}")
    if not found:
        raise SystemExit(1)
