"""Benchmark: a fixed batch of calibration evaluations on 1 and on 2 Dask workers (LocalCluster, one thread
each), and the scheduler's overhead per task.

The batch: ``--tasks`` parameter vectors drawn from the prior (fixed seed) of the default calibration space,
each evaluated at ``--scale`` persons per traveller with the default observations - what one SMC stage sends
to the executor. Each cluster is warmed first (one evaluation per worker: imports, Numba cache, the world) so
the timing is the batch alone. Prints the wall time on 1 and 2 workers, the speed-up, the CPU seconds per
evaluation, whether the two runs gave identical evaluations, and the round trip of an empty task
(submission to result, per task, in a batch of ``--noop`` tasks) on the 2-worker cluster. Does not gate.

    .venv/bin/python benchmarks/bench_dask.py [--tasks 24] [--scale 20] [--noop 400] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def _noop(i: int) -> int:
    return i


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=24)
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--noop", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()

    import numpy as np

    from emigre.calibrate import default_space
    from emigre.calibrate.objective import Objective, evaluate_in_worker
    from emigre.ensemble.executor import DaskExecutor, run_many

    space = default_space()
    obj = Objective.build(space, scale=a.scale)
    X = space.sample(np.random.default_rng(a.seed), a.tasks)
    tasks = [(obj.spec, obj.fingerprint, x) for x in X]
    warm = space.sample(np.random.default_rng(a.seed + 1), 4)
    figures: dict = {"tasks": a.tasks, "scale": a.scale, "cores": os.cpu_count()}
    results = {}
    for n in (1, 2):
        ex = DaskExecutor(f"local:{n}")
        try:
            run_many(evaluate_in_worker, [(obj.spec, obj.fingerprint, x) for x in warm[: 2 * n]], executor=ex)
            t0 = time.perf_counter()
            evs = run_many(evaluate_in_worker, tasks, executor=ex)
            wall = time.perf_counter() - t0
            results[n] = evs
            figures[f"wall_{n}"] = wall
            figures[f"cpu_per_eval_{n}"] = float(np.mean([e.cpu for e in evs]))
            print(f"{n} worker{'s' if n > 1 else ' '}: {a.tasks} evaluations in {wall:6.1f} s "
                  f"({a.tasks / wall:.2f}/s, {figures[f'cpu_per_eval_{n}']:.3f} CPU s per evaluation)")
            if n == 2:
                client = ex.client
                t0 = time.perf_counter()
                futs = client.map(_noop, range(a.noop), pure=False)
                client.gather(futs)
                per = (time.perf_counter() - t0) / a.noop
                figures["overhead_per_task_ms"] = per * 1000
                t0 = time.perf_counter()
                client.submit(_noop, -1, pure=False).result()
                figures["round_trip_ms"] = (time.perf_counter() - t0) * 1000
        finally:
            ex.close()
    same = all(np.array_equal([getattr(e, f) for e in results[1]], [getattr(e, f) for e in results[2]],
                              equal_nan=True) for f in ("logpost", "loglik"))
    figures["identical"] = bool(same)
    figures["speedup"] = figures["wall_1"] / figures["wall_2"]
    print(f"speed-up 1 -> 2 workers: {figures['speedup']:.2f}x (identical evaluations: {same})")
    print(f"scheduler overhead: {figures['overhead_per_task_ms']:.2f} ms per task in a batch of {a.noop} empty "
          f"tasks; {figures['round_trip_ms']:.1f} ms for one task alone")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(figures, fh, indent=2)


if __name__ == "__main__":
    main()
