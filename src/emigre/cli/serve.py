"""CLI verb ``emigre serve``: the API and dashboard over the main job's store (made first when absent)."""

from __future__ import annotations

from pathlib import Path

import typer

from emigre.errors import EmigreError


def serve_cmd(
    store: Path = typer.Option(Path("out/russia-2022"), "--store", help="Ensemble store written by `emigre run`."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default: this machine only)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    cluster: str = typer.Option(None, "--cluster", help="Dask scheduler (tcp://HOST:PORT or local:N) for what-ifs."),
    runs: int = typer.Option(20, "--runs", min=1, help="Ensemble size when the store has to be made first."),
    scale: float = typer.Option(1.0, "--scale", help="Persons per traveller when the store has to be made first."),
) -> None:
    """Serve the HTTP API (/api, OpenAPI at /openapi.json, docs at /docs) and the dashboard (/) on HOST:PORT."""
    from rich.console import Console

    from emigre.results import ResultStore

    err = Console(stderr=True)
    if not store.is_dir() or not ResultStore(store).shard_paths():
        err.print(f"no ensemble in {store}: running the main job first (emigre run russia-2022 --out {store})")
        from emigre.cli import main

        rc = main(["run", "russia-2022", "--out", str(store), "--runs", str(runs), "--scale", str(scale)])
        if rc:
            raise EmigreError(f"the main job failed (exit {rc}); no store to serve in {store}")
    try:
        import uvicorn
    except ImportError:
        raise EmigreError("uvicorn is not installed: pip install 'emigre' (it is a dependency)") from None
    from emigre.serve.app import create_app

    app = create_app(store, cluster=cluster)
    app.state.data.store  # noqa: B018 - open it now: an incomplete store fails at start, with its own message
    err.print(f"serving {store} on http://{host}:{port}/ (API: /api, docs: /docs); Ctrl-C stops")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``emigre`` app."""
    app.command("serve")(serve_cmd)


__all__ = ["register", "serve_cmd"]
