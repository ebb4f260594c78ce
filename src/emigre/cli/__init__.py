"""The ``emigre`` command line: one Typer app whose verbs follow the data flow.

One module per verb group: ``evidence``, ``scenario``, ``run`` (``simulate`` and ``run``, the main job),
``calibrate``, ``estimate`` (``estimate`` and ``validate``), ``flee``, ``report``, ``serve``. The commands are the
top floor: they parse options and call the floors and jobs below (docs/architecture.md). This module only assembles
them and turns every :class:`~emigre.errors.EmigreError` into one clear line on stderr.
"""

from __future__ import annotations

import sys

import typer

from emigre.errors import EmigreError

app = typer.Typer(
    name="emigre",
    help="Reconstruct, explain and forecast emigration waves (Russia 2022) with a fast agent-based simulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from emigre.cli.calibrate import calibrate_cmd
    from emigre.cli.estimate import register as register_estimate
    from emigre.cli.evidence import app as evidence_app
    from emigre.cli.flee import app as flee_app
    from emigre.cli.report import register as register_report
    from emigre.cli.run import register
    from emigre.cli.scenario import app as scenario_app
    from emigre.cli.serve import register as register_serve

    app.add_typer(evidence_app, name="evidence")
    app.add_typer(scenario_app, name="scenario")
    app.add_typer(flee_app, name="flee")
    register(app)
    register_estimate(app)
    app.command("calibrate")(calibrate_cmd)
    register_report(app)
    register_serve(app)


_register()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, print emigre errors as one line (exit 2), never a traceback."""
    try:
        rc = app(args=argv, standalone_mode=False)
    except EmigreError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except (typer.Exit, SystemExit) as exc:  # --help, explicit exits
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        return int(code or 0)
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            typer.echo("aborted", err=True)
            return 1
        raise
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
