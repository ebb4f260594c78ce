"""CLI verb ``emigre serve``: the API and dashboard over the main job's store (made first when absent)."""

from __future__ import annotations

import errno
import os
import socket
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

    from emigre.ensemble.executor import parse_cluster
    from emigre.fileio import check_output_dir
    from emigre.limits import MAX_RUNS, check_int, check_scale

    # every option is checked before any work: a bad one is one line now, not after the main job's minutes
    check_int("--runs", runs, 1, MAX_RUNS)
    cluster = parse_cluster(cluster)
    make = _needs_main_job(store)
    # the memory estimate only when the main job is to run here
    check_scale(scale, parallel=min(runs, os.cpu_count() or 1), memory=make)
    if make:  # not a file, a special file or a loop, and writable; an existing store is only read
        check_output_dir(store, option="--store")
    err = Console(stderr=True)
    if make:
        _bind(host, port).close()  # a busy port or a wrong host fails now, not after the main job's minutes
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
    sock = _bind(host, port)  # bound here and handed to uvicorn: its own bind error is a log line, not ours
    try:
        err.print(f"serving {store} on http://{_url_host(host)}:{port}/ (API: /api, docs: /docs); Ctrl-C stops")
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run(sockets=[sock])
    finally:
        sock.close()


def _needs_main_job(store: Path) -> bool:
    """Whether the main job has to make the store first: nothing there, or an empty directory. Anything else
    that is not a directory (a file, a special file, a loop) is what check_output_dir refuses by name."""
    if not store.is_dir():
        return True
    try:
        return not any(store.iterdir())
    except OSError as exc:
        raise EmigreError(f"--store {store}: cannot be read ({exc.strerror or exc})") from None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _bind(host: str, port: int) -> socket.socket:
    """A socket bound to HOST:PORT for uvicorn to serve on, or one line saying why it cannot be."""
    if not host.strip():
        raise EmigreError("--host is empty: give an address of this machine (127.0.0.1; 0.0.0.0 for all of them)")
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                          flags=socket.AI_PASSIVE)[0]
    except (OSError, UnicodeError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a valid host name"
        raise EmigreError(f"--host {host!r}: not an address or a name this machine can resolve ({why})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a restart need not wait
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise EmigreError(f"--port {port}: already in use on {host} (another server listens there; choose "
                              "another --port)") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise EmigreError(f"--host {host}: not an address of this machine (127.0.0.1 serves this machine "
                              "only, 0.0.0.0 every interface)") from None
        if exc.errno == errno.EACCES:
            raise EmigreError(f"--port {port}: permission denied (ports below 1024 need administrator rights; "
                              "choose a higher --port)") from None
        raise EmigreError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``emigre`` app."""
    app.command("serve")(serve_cmd)


__all__ = ["register", "serve_cmd"]
