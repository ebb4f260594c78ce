"""The FastAPI application: the JSON API under ``/api`` and the dashboard (``emigre/web``) at ``/``.

Errors are answered, never raised to the client as a 500: an :class:`EmigreError` (a bad argument, a missing
or incomplete store) is a 400 (or 503 for the store) with ``{"detail": message}``; unknown ids are 404;
requests with an oversized URL or body are refused before any work (414/413).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Body, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from emigre import __version__
from emigre.errors import EmigreError
from emigre.serve.data import ServeData, StoreUnavailableError
from emigre.serve.jobs import MAX_RUNS, MAX_SCALE, MIN_SCALE, JobQueue, QueueFullError

MAX_URL = 2048
MAX_BODY = 16 * 1024

Text = Annotated[str | None, Query(max_length=80)]
DateText = Annotated[str | None, Query(max_length=10, pattern=r"^\d{4}-\d{2}(-\d{2})?$")]


class ClosureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    link: str = Field(max_length=80)
    from_: str = Field(alias="from", max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$")
    to: str | None = Field(default=None, max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$")


class ScenarioIn(BaseModel):
    """A what-if: parameter values and/or dated link closures, ``runs`` pairs at ``scale`` persons per traveller."""

    model_config = ConfigDict(extra="forbid")
    params: dict[Annotated[str, Field(max_length=80)], float] = Field(default_factory=dict, max_length=100)
    closures: list[ClosureIn] = Field(default_factory=list, max_length=10)
    runs: int = Field(default=4, ge=1, le=MAX_RUNS)
    scale: float = Field(default=200.0, ge=MIN_SCALE, le=MAX_SCALE)


class Limits:
    """Plain ASGI middleware (cheaper per request than Starlette's BaseHTTPMiddleware): refuses oversized URLs
    (414) and bodies (413, counted as they arrive when there is no Content-Length) and paths that try to climb
    out of a folder (400), before any route runs."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        refuse = None
        if len(raw) + len(query) > MAX_URL:
            refuse = (414, f"URL longer than {MAX_URL} characters")
        else:
            lowered = (raw + b"?" + query).lower()
            path = scope["path"]
            if ".." in path or "\\" in path or b"%2e%2e" in lowered or b"%5c" in raw.lower():
                refuse = (400, "path traversal refused")
            else:
                size = dict(scope["headers"]).get(b"content-length")
                if size is not None and (not size.isdigit() or int(size) > MAX_BODY):
                    refuse = (413, f"request body larger than {MAX_BODY} bytes")
        if refuse:
            await JSONResponse({"detail": refuse[1]}, status_code=refuse[0])(scope, receive, send)
            return
        seen = 0
        too_large = False

        async def counted():
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > MAX_BODY:  # a chunked body with no Content-Length: stop reading, answer 413 below
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def send_checked(message):
            if too_large:
                return  # the route's own answer to the cut body is dropped
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [(b"x-content-type-options", b"nosniff")]
            await send(message)

        await self.app(scope, counted, send_checked)
        if too_large:
            await JSONResponse({"detail": f"request body larger than {MAX_BODY} bytes"}, status_code=413)(
                scope, receive, send)


def web_dir() -> Path:
    """The directory of the packaged dashboard (HTML, scripts, vendored libraries)."""
    return Path(str(resources.files("emigre") / "web"))


def create_app(store: str | Path = "out/russia-2022", *, cluster: str | None = None,
               max_queued: int | None = None) -> FastAPI:
    """The FastAPI app of ``emigre serve`` over a result store."""
    data = ServeData(store)
    jobs = JobQueue(data, cluster=cluster, **({"max_queued": max_queued} if max_queued else {}))
    app = FastAPI(title="emigre", version=__version__,
                  description="Estimates of emigration from Russia after 24 February 2022 (median, 50% and 90% "
                              "intervals over an ensemble of simulations), the evidence behind them, the scenario "
                              "world, and paired what-if runs. All figures are model estimates and may be revised.")
    app.state.data = data
    app.state.jobs = jobs

    app.add_middleware(Limits)

    @app.exception_handler(QueueFullError)
    async def _queue_full(request: Request, exc: QueueFullError):
        return JSONResponse({"detail": str(exc)}, status_code=429)

    @app.exception_handler(EmigreError)
    async def _emigre_error(request: Request, exc: EmigreError):
        status = 503 if isinstance(exc, StoreUnavailableError) else 400
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(LookupError)
    async def _not_found(request: Request, exc: LookupError):
        return JSONResponse({"detail": str(exc.args[0] if exc.args else exc)}, status_code=404)

    @app.exception_handler(ValueError)
    async def _bad_value(request: Request, exc: ValueError):
        return JSONResponse({"detail": f"bad value: {exc}"}, status_code=400)

    # ------------------------------------------------------------------ API
    @app.get("/api/health")
    def health() -> dict:
        """Liveness: ``{"status": "ok"}``."""
        return {"status": "ok"}

    @app.get("/api/meta")
    def meta() -> dict:
        """The served ensemble (runs, period, countries), the quantities and measures with their definitions,
        the breakdowns and the pushes (waves)."""
        return data.meta()

    @app.get("/api/params")
    def params() -> list[dict]:
        """The scenario's parameters: value (default), unit, doc and valid range where declared."""
        return data.params()

    @app.get("/api/evidence")
    def evidence(kind: Text = None, destination: Text = None) -> list[dict]:
        """Sourced figures (with citation) and, where the report compares them, the model's band."""
        return data.evidence_rows(kind, destination)

    @app.get("/api/evidence/{record_id}")
    def evidence_one(record_id: Annotated[str, PathParam(max_length=80)]) -> dict:
        """One evidence record (observation, event or survey share)."""
        return data.evidence_record(record_id)

    @app.get("/api/scenario/{name}/day/{date}")
    def scenario_day(name: Annotated[str, PathParam(max_length=40)],
                     date: Annotated[str, PathParam(max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$")]) -> dict:
        """What was open on a day (the same JSON as ``emigre scenario show --json``)."""
        return data.scenario_day(name, date)

    @app.get("/api/scenario/{name}/routes")
    def scenario_routes(
        name: Annotated[str, PathParam(max_length=40)],
        from_: Annotated[str, Query(alias="from", max_length=80)] = "RUS:Moscow",
        to: Annotated[str, Query(max_length=3, min_length=3)] = "GEO",
        date: Annotated[str, Query(max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$")] = "2022-09-25",
        document: Literal["internal_passport", "foreign_passport", "schengen_visa"] = "foreign_passport",
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> dict:
        """Feasible routes on a day (the same JSON as ``emigre scenario routes --json``)."""
        return data.scenario_routes(name, from_, to, date, document, limit)

    async def fast_json(key, make) -> Response:
        """A cached answer straight from the event loop; a new one is computed in a worker thread."""
        body = data._json.get(key)
        if body is None:
            body = await run_in_threadpool(data.json_bytes, key, make)
        return Response(body, media_type="application/json")

    @app.get("/api/estimate", response_model=list[dict])
    async def estimate(
        quantity: Annotated[str, Query(max_length=20)] = "departed",
        at: DateText = None,
        from_: Annotated[str | None, Query(alias="from", max_length=10, pattern=r"^\d{4}-\d{2}(-\d{2})?$")] = None,
        to: DateText = None,
        destination: Annotated[str | None, Query(max_length=3)] = None,
        by: Annotated[str | None, Query(max_length=60)] = None,
    ) -> list[dict]:
        """Median, 50% and 90% intervals over the runs (the same JSON as ``emigre estimate --json``)."""
        args = (quantity, at, from_, to, destination or None, by or None)
        return await fast_json(("estimate", *args), lambda: data.estimate(*args))

    @app.get("/api/series", response_model=dict)
    async def series(
        measure: Annotated[str, Query(max_length=40)] = "departures",
        place: Annotated[str, Query(max_length=80)] = "ALL",
        group: Annotated[str, Query(max_length=60)] = "",
        step: Literal["day", "week"] = "day",
    ) -> dict:
        """Median with 50% and 90% bands over the runs of one measure at one place (and group), per day or
        per week (flows summed over the week in each run; stocks read on the week's last day)."""
        return await fast_json(("series", measure, place, group, step),
                               lambda: data.series(measure, place, group, step))

    @app.get("/api/map")
    def map_(date: DateText = None,
             from_: Annotated[str | None, Query(alias="from", max_length=10,
                                                pattern=r"^\d{4}-\d{2}(-\d{2})?$")] = None) -> dict:
        """People present per country on ``date`` and crossings per exit link in [from, date] (flow map)."""
        return data.map(date, from_)

    @app.get("/api/download/{table}.{fmt}")
    def download(
        table: Literal["series", "evidence", "destinations"],
        fmt: Literal["csv", "parquet"],
        measure: Annotated[str | None, Query(max_length=40)] = None,
        place: Annotated[str, Query(max_length=80)] = "ALL",
        group: Annotated[str, Query(max_length=60)] = "",
    ):
        """CSV (citation on its first line) or Parquet (citation in the metadata) of a series or a table."""
        body, media = data.download(table, fmt, measure, place, group)
        name = f"emigre-{table}" + (f"-{measure}-{place}" if table == "series" else "") + f".{fmt}"
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{safe}"'})

    @app.post("/api/scenarios", status_code=202)
    def submit(body: Annotated[ScenarioIn, Body()]) -> dict:
        """Queue a what-if; poll ``GET /api/scenarios/{id}``."""
        closures = [{"link": c.link, "from": c.from_, "to": c.to} for c in body.closures]
        job = jobs.submit(body.params, body.runs, body.scale, closures)
        return {"id": job.id, "status": job.status}

    @app.get("/api/scenarios/{job_id}")
    def job_status(job_id: Annotated[str, PathParam(max_length=32)]) -> dict:
        """Status, progress (0..1) and, when done, the paired result."""
        job = jobs.get(job_id)
        if job is None:
            raise LookupError(f"no what-if job {job_id[:40]!r} (finished jobs are kept for an hour)")
        return job.to_json()

    # ------------------------------------------------------------------ dashboard
    web = web_dir()

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(web / "index.html", media_type="text/html")

    @app.get("/basemap.geojson", include_in_schema=False)
    def basemap():
        path = Path(str(resources.files("emigre") / "data" / "basemap" / "ne_110m_countries.geojson"))
        return FileResponse(path, media_type="application/geo+json")

    app.mount("/static", StaticFiles(directory=web), name="static")
    app.router.on_shutdown.append(jobs.close)
    return app


__all__ = ["create_app", "web_dir"]
