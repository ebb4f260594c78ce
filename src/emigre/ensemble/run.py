"""Running the exodus ruleset once (``emigre simulate``) or as an ensemble (``emigre run``).

Every run is a pure function of (scenario, parameters, seed), so runs can go to any worker (local process or
Dask worker, :mod:`emigre.ensemble.executor`) in any order and the stored ensemble is the same. Results are
written run by run (atomic shards, each with its summary) into a staging directory beside the previous store
(:class:`emigre.results.writer.StoreWriter`), so an interrupted ensemble loses at most the runs in flight,
``--resume`` continues it with the same bytes, and the previous store is replaced only when the new one is
complete; its manifest is written last.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from emigre.errors import EmigreError
from emigre.fileio import atomic_write_text, atomic_writer


def parse_params(items: list[str] | None) -> dict[str, float]:
    """``["NAME=VALUE", ...]`` -> dict, with a clear error for anything else."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise EmigreError(f"--param expects NAME=VALUE, got {item!r}")
        try:
            v = float(value)
        except ValueError:
            raise EmigreError(f"--param {name}: expected a number, got {value!r}") from None
        if not math.isfinite(v):
            raise EmigreError(f"--param {name}: expected a finite number, got {value!r}")
        out[name] = v
    return out


def write_parquet(frame, path: Path) -> None:
    """Write a DataFrame as Parquet atomically (temp file, then rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    with atomic_writer(path, "wb") as fh:
        pq.write_table(table, fh, compression="zstd")


def write_single_run(result, out_dir: Path) -> dict:
    """``DIR/daily.parquet`` (long: date, place, measure, group, value) and ``DIR/summary.json``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = result.to_frame()
    write_parquet(frame, out_dir / "daily.parquet")
    summary = result.summary() | {"rows": int(len(frame))}
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


@dataclass(frozen=True)
class RunSpec:
    """One run of an ensemble: its index, seed, posterior draw, parameter values and the observation parameters
    of its draw (``theta``; None: their defaults), with which its predictions of the sourced figures are made."""

    run: int
    seed: int
    draw: int
    params: dict[str, float]
    theta: dict[str, float] | None = None


#: what a run's result is observed with: ``observe(scenario, result, theta)`` -> DataFrame (id, part, value),
#: written as the run's ``pred-NNNN.parquet``; a module-level function (pickled by reference to the workers)
Observer = Callable[[str, object, dict[str, float] | None], object]


#: per-run summaries beside the shards in a staging store (read back by --resume; not part of the store)
SUMMARIES = "summaries"
#: the arguments of a staged run (a --resume must match them)
PLAN = "plan.json"


def _summary_path(store_dir: Path, run: int) -> Path:
    return Path(store_dir) / SUMMARIES / f"run-{int(run):04d}.json"


def _one(scenario: str, spec: RunSpec, scale: float, store_dir: str, observe: Observer | None = None) -> dict:
    """Worker: simulate one run, write its shard and (with ``observe``) its predictions of the sourced figures
    on that same result, then its summary (the summary marks the run done)."""
    from emigre.behaviour.exodus import simulate
    from emigre.results import ResultStore

    result = simulate(scenario, seed=spec.seed, params=spec.params, scale=scale)
    store = ResultStore(Path(store_dir))
    store.write_run(spec.run, result.to_frame())
    if observe is not None:
        store.write_predictions(spec.run, observe(scenario, result, spec.theta))
    summary = result.summary() | {"run": spec.run, "draw": spec.draw}
    atomic_write_text(_summary_path(Path(store_dir), spec.run), json.dumps(summary) + "\n")
    return summary


def run_specs(runs: int, seed: int, params: dict[str, float] | None, draws: list[dict[str, float]] | None,
              thetas: list[dict[str, float]] | None = None) -> list[RunSpec]:
    """Run i: seed ``seed + i``, parameter set ``draws[i % len(draws)]`` overridden by ``params``, observation
    parameters ``thetas[i % len(draws)]`` (the same draw's; None: their defaults)."""
    draws = draws or [{}]
    if thetas is not None and len(thetas) != len(draws):
        raise EmigreError(f"{len(thetas)} sets of observation parameters for {len(draws)} parameter draws")
    return [RunSpec(i, seed + i, i % len(draws), {**draws[i % len(draws)], **(params or {})},
                    None if thetas is None else dict(thetas[i % len(draws)])) for i in range(runs)]


def _done_runs(store_dir: Path, specs: list[RunSpec], predictions: bool = False) -> dict[int, dict]:
    """Summaries of the runs already complete in ``store_dir`` (shard, summary and - when ``predictions`` - the
    prediction file present)."""
    from emigre.results import ResultStore

    store = ResultStore(store_dir)
    out = {}
    for s in specs:
        sp = _summary_path(store_dir, s.run)
        if predictions and not store.prediction_path(s.run).is_file():
            continue  # staged without predictions: run it again
        if store.shard_path(s.run).is_file() and sp.is_file():
            try:
                summary = json.loads(sp.read_text())
            except ValueError:  # cannot happen with atomic writes; recompute rather than trust it
                continue
            if summary.get("seed") == s.seed and summary.get("run") == s.run:
                out[s.run] = summary
    return out


def run_ensemble(
    scenario: str,
    out_dir: Path,
    *,
    runs: int = 20,
    seed: int = 0,
    params: dict[str, float] | None = None,
    draws: list[dict[str, float]] | None = None,
    scale: float = 1.0,
    workers: int | None = None,
    cluster: str | None = None,
    resume: bool = False,
    progress: Callable[[int, int, dict], None] | None = None,
    thetas: list[dict[str, float]] | None = None,
    observe: Observer | None = None,
) -> list[dict]:
    """Run ``runs`` simulations (seed ``seed + i``; parameter set ``draws[i % len(draws)]`` over ``params``)
    on the executor (``workers`` local processes, or the Dask ``cluster``); shards go to
    ``DIR/runs/run-NNNN.parquet`` and, with ``observe``, each run's predictions of the sourced figures (made with
    the observation parameters ``thetas[i % len(draws)]``) to ``DIR/runs/pred-NNNN.parquet``. ``resume`` keeps
    the runs already complete in ``DIR``. Returns the run summaries in run order."""
    if runs < 1:
        raise EmigreError(f"--runs must be >= 1, got {runs}")
    if not scale > 0:
        raise EmigreError(f"--scale must be > 0, got {scale}")
    from emigre.ensemble.executor import run_many
    from emigre.scenario import load_scenario

    load_scenario(scenario, params=params)  # fail early on a bad scenario or parameter name
    specs = run_specs(runs, seed, params, draws, thetas)
    from emigre.results import ResultStore

    out_dir = Path(out_dir)
    store = ResultStore(out_dir)
    if resume:
        out = _done_runs(out_dir, specs, predictions=observe is not None)
    else:
        for old in store.shard_paths() + store.prediction_paths():
            old.unlink()
        out = {}
    todo = [s for s in specs if s.run not in out]
    if progress and out:
        progress(len(out), runs, {})
    workers = max(1, min(workers or os.cpu_count() or 1, max(1, len(todo))))

    def arrived(_i: int, summary: dict) -> None:
        out[summary["run"]] = summary
        if progress:
            progress(len(out), runs, summary)

    run_many(_one, [(scenario, s, scale, str(out_dir), observe) for s in todo], workers=workers, cluster=cluster,
             on_result=arrived)
    return [out[i] for i in range(runs)]


def _plan(scenario: str, runs: int, seed: int, scale: float, params: dict, specs: list[RunSpec],
          parameter_source: str) -> dict:
    # a spec without observation parameters digests as before they existed (same plan, same manifest)
    rows = [{k: v for k, v in asdict(s).items() if k != "theta" or v is not None} for s in specs]
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
    return {"scenario": scenario, "runs": runs, "seed": seed, "scale": scale, "params": params,
            "parameters": parameter_source, "specs_sha256": digest}


def run_into_store(
    scenario: str,
    out: Path,
    *,
    runs: int,
    seed: int,
    params: dict[str, float],
    draws: list[dict[str, float]] | None,
    parameter_source: str,
    scale: float,
    finish: Callable[[Path, list[dict]], Path],
    workers: int | None = None,
    cluster: str | None = None,
    resume: bool = False,
    progress: Callable[[int, int, dict], None] | None = None,
    thetas: list[dict[str, float]] | None = None,
    observe: Observer | None = None,
) -> Path:
    """The store lifecycle of the main job: check and lock ``out``, run the ensemble into its staging directory
    (continuing a staged one with ``resume``; ``thetas``/``observe`` as in :func:`run_ensemble`), let
    ``finish(stage, summaries)`` build the store and report there (it returns the report's path), then replace
    the previous store and write the manifest. Returns the report's final path."""
    import datetime as dt

    from emigre import __version__
    from emigre.ensemble.executor import parse_cluster
    from emigre.results.writer import StoreWriter

    if runs < 1:
        raise EmigreError(f"--runs must be >= 1, got {runs}")
    if not scale > 0 or not math.isfinite(scale):
        raise EmigreError(f"--scale must be a finite number > 0, got {scale}")
    parse_cluster(cluster)  # a bad --cluster fails before any work
    params = dict(params or {})
    specs = run_specs(runs, seed, params, draws, thetas)
    plan = _plan(scenario, runs, seed, scale, params, specs, parameter_source)
    with StoreWriter(out) as w:
        if resume:
            if not (w.stage / PLAN).is_file():
                raise EmigreError(f"--resume: no interrupted run in {out} (no {w.stage.name}/{PLAN}); "
                                  "run without --resume")
            try:
                staged = json.loads((w.stage / PLAN).read_text())
            except ValueError:
                staged = {}
            diff = sorted(k for k in plan if staged.get(k) != plan[k])
            if len(diff) > 1:  # the digest of the run specs differs whenever an argument does
                diff.remove("specs_sha256")
            diff = ["parameter draws" if k == "specs_sha256" else k for k in diff]
            if diff:
                raise EmigreError(f"--resume: the interrupted run in {out} had other arguments "
                                  f"({', '.join(diff)} differ); give the same ones, or run without --resume")
        else:
            w.fresh_stage()
            atomic_write_text(w.stage / PLAN, json.dumps(plan, indent=2) + "\n")
        summaries = run_ensemble(scenario, w.stage, runs=runs, seed=seed, params=params, draws=draws,
                                 scale=scale, workers=workers, cluster=cluster, resume=resume, progress=progress,
                                 thetas=thetas, observe=observe)
        report = finish(w.stage, summaries)
        manifest = {
            "format": 1, "package": "emigre", "version": __version__, "command": "run",
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "arguments": {k: plan[k] for k in ("scenario", "runs", "seed", "scale", "params", "parameters")},
            "specs_sha256": plan["specs_sha256"],
            "runs": [{"run": s.run, "seed": s.seed, "draw": s.draw} for s in specs],
        }
        w.commit(manifest, keep=(PLAN, SUMMARIES))
    return Path(out) / Path(report).name
