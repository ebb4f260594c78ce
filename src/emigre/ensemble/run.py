"""Running the exodus ruleset once (``emigre simulate``) or as an ensemble (``emigre run``).

Every run is a pure function of (scenario, parameters, seed), so runs can go to any worker process in any
order and the stored ensemble is the same. Results are written run by run (atomic shards), so an interrupted
ensemble loses at most the runs in flight.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
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
    run: int
    seed: int
    draw: int
    params: dict[str, float]


def _one(scenario: str, spec: RunSpec, scale: float, store_dir: str) -> dict:
    """Worker: simulate one run and write its shard into the store; returns its summary."""
    from emigre.behaviour.exodus import simulate
    from emigre.results import ResultStore

    result = simulate(scenario, seed=spec.seed, params=spec.params, scale=scale)
    ResultStore(Path(store_dir)).write_run(spec.run, result.to_frame())
    return result.summary() | {"run": spec.run, "draw": spec.draw}


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
    progress: Callable[[int, int, dict], None] | None = None,
) -> list[dict]:
    """Run ``runs`` simulations (seed ``seed + i``; parameter set ``draws[i % len(draws)]`` over ``params``)
    on ``workers`` processes; shards go to ``DIR/runs/run-NNNN.parquet``. Returns the run summaries in run
    order."""
    if runs < 1:
        raise EmigreError(f"--runs must be >= 1, got {runs}")
    if not scale > 0:
        raise EmigreError(f"--scale must be > 0, got {scale}")
    from emigre.scenario import load_scenario

    load_scenario(scenario, params=params)  # fail early on a bad scenario or parameter name
    draws = draws or [{}]
    specs = [RunSpec(i, seed + i, i % len(draws), {**draws[i % len(draws)], **(params or {})}) for i in range(runs)]
    from emigre.results import ResultStore

    store = ResultStore(out_dir)
    for old in store.shard_paths():
        old.unlink()
    workers = max(1, min(workers or os.cpu_count() or 1, runs))
    out: dict[int, dict] = {}
    t0 = time.perf_counter()
    if workers == 1:
        for s in specs:
            out[s.run] = _one(scenario, s, scale, str(out_dir))
            if progress:
                progress(len(out), runs, out[s.run])
    else:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futs = [pool.submit(_one, scenario, s, scale, str(out_dir)) for s in specs]
            for f in as_completed(futs):
                summary = f.result()
                out[summary["run"]] = summary
                if progress:
                    progress(len(out), runs, summary)
    _ = time.perf_counter() - t0
    return [out[i] for i in range(runs)]
