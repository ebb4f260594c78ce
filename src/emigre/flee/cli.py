"""CLI verbs of emigre.flee."""

from __future__ import annotations

import typer

app = typer.Typer(help="flee commands", no_args_is_help=True)
