"""What-if jobs: a scenario (parameter changes, dated link closures) against the baseline, run by run.

Run ``i`` of a job takes the seed and the posterior draw of run ``i`` of the served ensemble and simulates
both the baseline and the what-if with them (common random numbers): the paired difference then holds only
the effect of the change, not the noise between two unrelated runs. Both sides run at the job's scale, so
they are comparable with each other (not necessarily with the stored ensemble's scale).

Jobs are bounded: :data:`MAX_RUNS` runs, a scale in [:data:`MIN_SCALE`, :data:`MAX_SCALE`], at most
:data:`MAX_QUEUED` jobs waiting, and :data:`JOB_WORKERS` jobs running at once (each a single process of
numeric work, so one per core). Past a bound the request is refused (HTTP 4xx) before anything runs.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import tempfile
import threading
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emigre.errors import EmigreError
from emigre.scenario.edit import scenario_with_timeline

MAX_RUNS = 20
MIN_SCALE = 20.0
MAX_SCALE = 5000.0
MAX_QUEUED = 4
MAX_CLOSURES = 10
JOB_WORKERS = max(1, (os.cpu_count() or 1) // 2)
#: a finished job is kept this long for GET /api/scenarios/{id}
KEEP_SECONDS = 3600.0
#: headline numbers of a run summary compared between baseline and what-if
HEADLINES = {
    "departed_2022": "left Russia by 31 Dec 2022",
    "departed": "left Russia by the end",
    "abroad_end": "abroad at the end",
    "returned_end": "came back to stay by the end",
}
_RUN_COLUMNS = {"run", "seed", "draw"}
#: absolute bound on any parameter value when params.yaml declares no range (keeps the engine's numbers sane)
_ABS_LIMIT = 1e6


def param_range(p, scenario: str = "russia-2022") -> tuple[float | None, float | None]:
    """The valid range of a parameter: the scenario's (``range:`` in params.yaml, read by
    :func:`emigre.scenario.ranges.model_ranges`), else [0, 1] for probabilities and shares, else none."""
    try:
        from emigre.scenario.ranges import model_ranges
    except ImportError:  # a build without declared ranges
        model_ranges = None
    if model_ranges is not None:
        r = model_ranges(scenario).get(p.name)
        if r is not None:
            return float(r.low), float(r.high)
    lo = getattr(p, "min", None)
    hi = getattr(p, "max", None)
    rng = getattr(p, "range", None) or getattr(p, "valid_range", None)
    if rng is not None and lo is None and hi is None:
        lo, hi = rng[0], rng[1]
    if lo is None and hi is None and (p.unit or "").strip().lower() in ("probability", "share", "fraction"):
        lo, hi = 0.0, 1.0
    return (None if lo is None else float(lo)), (None if hi is None else float(hi))


@dataclass(frozen=True)
class Closure:
    link: str
    start: dt.date
    end: dt.date | None = None


@dataclass
class JobSpec:
    params: dict[str, float]
    runs: int
    scale: float
    closures: tuple[Closure, ...] = ()


def validate_spec(world, params: dict, runs: int, scale: float, closures: list[dict] | None) -> JobSpec:
    """Check a what-if request against the scenario and the bounds; :class:`EmigreError` names the field."""
    if not isinstance(params, dict):
        raise EmigreError("params: expected an object {NAME: VALUE}")
    if len(params) > len(world.params):
        raise EmigreError(f"params: {len(params)} entries, the scenario has {len(world.params)} parameters")
    clean: dict[str, float] = {}
    for name, value in params.items():
        if name not in world.params:
            import difflib

            close = difflib.get_close_matches(str(name), list(world.params), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise EmigreError(f"params.{str(name)[:60]}: unknown parameter{hint}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise EmigreError(f"params.{name}: expected a finite number, got {str(value)[:40]!r}")
        lo, hi = param_range(world.params[name], str(world.directory))
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise EmigreError(f"params.{name}: {value:g} is outside the valid range "
                              f"[{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]")
        if abs(value) > _ABS_LIMIT:
            raise EmigreError(f"params.{name}: {value:g} is beyond +-{_ABS_LIMIT:g}")
        clean[name] = float(value)
    if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= MAX_RUNS:
        raise EmigreError(f"runs: expected an integer from 1 to {MAX_RUNS}, got {str(runs)[:20]}")
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not MIN_SCALE <= scale <= MAX_SCALE:
        raise EmigreError(f"scale: expected persons per simulated traveller from {MIN_SCALE:g} to "
                          f"{MAX_SCALE:g}, got {str(scale)[:20]}")
    out: list[Closure] = []
    for i, c in enumerate(closures or []):
        if i >= MAX_CLOSURES:
            raise EmigreError(f"closures: at most {MAX_CLOSURES}")
        if not isinstance(c, dict) or not isinstance(c.get("link"), str):
            raise EmigreError(f"closures[{i}]: expected {{\"link\": ID, \"from\": YYYY-MM-DD, \"to\": YYYY-MM-DD?}}")
        link = c["link"]
        if link not in world.links or not world.links[link].international:
            raise EmigreError(f"closures[{i}].link: {link[:60]!r} is not an international link of the scenario")
        try:
            start = dt.date.fromisoformat(str(c.get("from")))
            end = dt.date.fromisoformat(str(c["to"])) if c.get("to") else None
        except ValueError:
            raise EmigreError(f"closures[{i}]: from/to must be dates YYYY-MM-DD") from None
        if end is not None and end < start:
            raise EmigreError(f"closures[{i}]: to {end} is before from {start}")
        out.append(Closure(link, start, end))
    if not clean and not out:
        raise EmigreError("nothing to change: give params and/or closures")
    return JobSpec(clean, runs, float(scale), tuple(out))


def scenario_with_closures(scenario_dir: Path, closures: tuple[Closure, ...], into: Path) -> Path:
    """A copy of the scenario with one timeline row per closure (effect ``closed`` on the link's id)."""
    return scenario_with_timeline(
        scenario_dir,
        [("closed", f"id={c.link}", "", c.start, c.end, "what-if closure requested through the API") for c in closures],
        into,
    )


def paired_run(scenario: str, seed: int, base: dict, change: dict, scale: float, alt_scenario: str | None) -> dict:
    """One pair: baseline and what-if with the same seed and parameter draw. Returns both runs' summaries and
    their weekly cumulative departures (for the difference chart). Module-level: it may run in a worker."""
    from emigre.behaviour.exodus import simulate

    b = simulate(scenario, seed=seed, params=base or None, scale=scale)
    w = simulate(alt_scenario or scenario, seed=seed, params={**base, **change} or None, scale=scale)
    week = slice(None, None, 7)
    return {
        "seed": seed,
        "baseline": b.summary(),
        "scenario": w.summary(),
        "dates": [str(d) for d in b.dates[week]],
        "base_cum": b.national("departed_cum")[week].tolist(),
        "alt_cum": w.national("departed_cum")[week].tolist(),
    }


def _q(values) -> dict[str, float]:
    v = np.asarray(values, dtype=float)
    q = np.quantile(v, [0.5, 0.25, 0.75, 0.05, 0.95])
    return dict(zip(("median", "lo50", "hi50", "lo90", "hi90"), map(float, q), strict=True))


def summarise(pairs: list[dict], spec: JobSpec) -> dict:
    """Per headline: baseline, what-if and paired difference (median, 50% and 90% over runs); per week: the
    paired difference of cumulative departures."""
    headlines = []
    for key, label in HEADLINES.items():
        b = np.array([p["baseline"][key] for p in pairs])
        w = np.array([p["scenario"][key] for p in pairs])
        headlines.append({"quantity": key, "label": label, "baseline": _q(b), "scenario": _q(w),
                          "difference": _q(w - b)})
    diff = np.array([np.subtract(p["alt_cum"], p["base_cum"]) for p in pairs])
    series = [{"date": d, **_q(diff[:, i])} for i, d in enumerate(pairs[0]["dates"])]
    runs = [{"run": i, "seed": p["seed"], **{f"baseline_{k}": p["baseline"][k] for k in HEADLINES},
             **{f"scenario_{k}": p["scenario"][k] for k in HEADLINES}} for i, p in enumerate(pairs)]
    d = headlines[1]["difference"]
    summary = (f"Across {len(pairs)} paired runs, the what-if changes the number who left by the end by "
               f"{d['median']:+,.0f} (90% interval {d['lo90']:+,.0f} to {d['hi90']:+,.0f}).")
    return {"runs": len(pairs), "scale": spec.scale, "params": spec.params,
            "closures": [{"link": c.link, "from": c.start.isoformat(), "to": c.end.isoformat() if c.end else None}
                         for c in spec.closures],
            "headlines": headlines, "difference_series": series, "pairs": runs, "summary": summary}


@dataclass
class Job:
    """A what-if job of the dashboard: its spec, status, progress and result."""

    id: str
    spec: JobSpec
    status: str = "queued"  # queued | running | done | failed
    progress: float = 0.0
    result: dict | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None

    def to_json(self) -> dict:
        """The job's state and request, JSON-ready."""
        return {"id": self.id, "status": self.status, "progress": round(self.progress, 4),
                "result": self.result, "error": self.error,
                "request": {"params": self.spec.params, "runs": self.spec.runs, "scale": self.spec.scale}}


class JobQueue:
    """Bounded what-if jobs on :data:`JOB_WORKERS` threads (each job runs its pairs through
    :func:`emigre.ensemble.executor.run_many`: in this process, or on a Dask cluster when one is given)."""

    def __init__(self, data, *, workers: int = JOB_WORKERS, max_queued: int = MAX_QUEUED,
                 cluster: str | None = None) -> None:
        self.data = data
        self.cluster = cluster
        self.max_queued = max_queued
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emigre-job")

    def submit(self, params: dict, runs: int, scale: float, closures: list[dict] | None = None) -> Job:
        """Check and queue a what-if job (an error when the queue is full)."""
        spec = validate_spec(self.data.world, params, runs, scale, closures)
        store_runs = self.data.store.runs()
        if spec.runs > len(store_runs):
            raise EmigreError(f"runs: the served ensemble has {len(store_runs)} runs to pair with; ask for at most "
                              f"{len(store_runs)}")
        with self._lock:
            self._expire()
            waiting = sum(j.status in ("queued", "running") for j in self._jobs.values())
            if waiting >= self.max_queued:
                raise QueueFullError(f"{waiting} what-if jobs are queued or running (at most {self.max_queued}); "
                                "try again when one has finished")
            job = Job(uuid.uuid4().hex[:16], spec)
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, store_runs.head(spec.runs))
        return job

    def get(self, job_id: str) -> Job | None:
        """The job ``job_id``, or None."""
        with self._lock:
            return self._jobs.get(job_id)

    def _expire(self) -> None:
        now = time.time()
        for k in [k for k, j in self._jobs.items() if j.finished and now - j.finished > KEEP_SECONDS]:
            del self._jobs[k]

    def _run(self, job: Job, runs) -> None:
        job.status = "running"
        tmp = None
        try:
            from emigre.scenario.load import resolve_dir

            alt = None
            if job.spec.closures:
                tmp = Path(tempfile.mkdtemp(prefix="emigre-whatif-"))
                alt = str(scenario_with_closures(resolve_dir(self.data.scenario), job.spec.closures, tmp))
            columns = [c for c in runs.columns if c not in _RUN_COLUMNS]
            args = []
            for row in runs.to_dict(orient="records"):
                base = {c: float(row[c]) for c in columns if row[c] is not None and np.isfinite(row[c])}
                args.append((self.data.scenario, int(row.get("seed", row["run"])), base, job.spec.params,
                             job.spec.scale, alt))

            def progress(done: int, total: int) -> None:
                job.progress = done / max(total, 1)

            pairs = _run_many(paired_run, args, progress, self.cluster)
            job.result = summarise(pairs, job.spec)
            job.progress = 1.0
            job.status = "done"
        except EmigreError as exc:
            job.error, job.status = str(exc), "failed"
        except Exception as exc:  # a job must report, not vanish; the server log keeps the trace
            traceback.print_exc()
            job.error, job.status = f"{type(exc).__name__}: {exc}", "failed"
        finally:
            job.finished = time.time()
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)

    def close(self) -> None:
        """Stop taking jobs and cancel the queued ones."""
        self._pool.shutdown(wait=False, cancel_futures=True)


class QueueFullError(EmigreError):
    """Too many what-if jobs waiting (HTTP 429)."""


def _run_many(fn, args, progress, cluster):
    """The project's executor when it is there (in-process for one worker, or a Dask cluster), else a loop."""
    try:
        from emigre.ensemble.executor import run_many
    except ImportError:
        out = []
        for i, a in enumerate(args):
            out.append(fn(*a))
            progress(i + 1, len(args))
        return out
    return run_many(fn, args, workers=1, cluster=cluster, progress=progress)


__all__ = ["HEADLINES", "MAX_QUEUED", "MAX_RUNS", "MAX_SCALE", "MIN_SCALE", "Job", "JobQueue", "QueueFullError",
           "paired_run", "param_range", "summarise", "validate_spec"]
