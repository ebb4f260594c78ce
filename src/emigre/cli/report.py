"""CLI verb ``emigre report``: (re)write the HTML report of a finished store without running anything."""

from __future__ import annotations

from pathlib import Path

import typer


def report_cmd(
    store: Path = typer.Argument(..., help="Ensemble store written by `emigre run` (its --out directory)."),
    out: Path = typer.Option(None, "--out", help="Report file to write (default: STORE/report.html)."),
) -> None:
    """Write the self-contained HTML report of a complete store (checked against its manifest), with the
    scenario and --param values its run recorded: the page `emigre run` wrote, rebuilt from the stored runs."""
    from emigre.jobs.main_job import rewrite_report

    typer.echo(f"report: {rewrite_report(store, out)}")


def register(app: typer.Typer) -> None:
    """Add ``report`` to the ``emigre`` app."""
    app.command("report")(report_cmd)


__all__ = ["register", "report_cmd"]
