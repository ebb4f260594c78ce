"""Benchmark: the cost of one calibration evaluation (issue 12, item 4) at scale 20, by phase.

One evaluation = log prior + simulate (one seed) + observation operators over every used figure + likelihood,
exactly as :class:`emigre.calibrate.objective.Objective` does it in a worker. The benchmark builds the default
objective, draws ``--n`` parameter vectors from the prior (fixed seed), warms up (Numba compile or cache load,
the objective's caches), then times the evaluations: CPU seconds (``time.process_time``, what counts on a shared
machine) and wall seconds, and the same work split into phases with manual timers:

- ``world``: loading the scenario with the draw's parameters and building the ruleset (compiled world, routes,
  cells, tables) - what a draw redoes before its first day;
- ``days``: the day loop, per plan step (``decide``, ``capacity``, ``choice``, ``act``, ``record``, the guard),
  wall seconds from the plan's own timers;
- ``result``: the run's result arrays;
- ``predict``: the observation operators over every used figure;
- ``loglik``: the likelihood of the predictions.

    .venv/bin/python benchmarks/bench_evaluation.py [--n 12] [--scale 20] [--profile 25]

Prints the figures and the ratio to the 0.67 CPU s baseline (measured before this work) and to the
0.15 CPU s goal; does not gate anything. ``--profile K`` adds cProfile's K most expensive functions.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

BASELINE_CPU = 0.67  # CPU s per evaluation at scale 20 before this work (issue 12)
GOAL_CPU = 0.15


def _phases(obj, x) -> dict[str, float]:
    """The evaluation of ``x`` split by phase (wall seconds; the process is single-threaded, so CPU ~ wall
    on an idle core). Mirrors Objective._run without changing what it computes."""
    from emigre.behaviour import exodus
    from emigre.engine.simulation import run_days

    s = obj.spec
    out: dict[str, float] = {}
    t = time.perf_counter()
    obj.space.log_prior(x)
    params, _ = obj.space.split(x)
    prepare = getattr(obj, "prepare", None)
    t1 = time.perf_counter()
    if prepare is not None:  # the objective builds its own run set-up (cached world) when it has one
        rs_list = [prepare(params, seed) for seed in s.sim_seeds]
    else:
        caches = obj._caches
        rs_list = []
        for seed in s.sim_seeds:
            world = exodus.load_scenario(s.scenario, params=params, params_cache=caches["params_cache"])
            rs_list.append(exodus.ExodusRuleset(world, seed=seed, scale=s.scale, end=s.end,
                                                route_cache=caches["route_cache"]))
    out["world"] = time.perf_counter() - t1 + (t1 - t)
    results = []
    steps: dict[str, float] = {}
    t = time.perf_counter()
    for rs in rs_list:
        plan, _ = run_days(rs)
        for k, v in plan.seconds.items():
            steps[k] = steps.get(k, 0.0) + v
        t2 = time.perf_counter()
        results.append(rs.result(0.0, plan.seconds))
        out["result"] = out.get("result", 0.0) + time.perf_counter() - t2
    days = time.perf_counter() - t - out["result"]
    out["days"] = days
    for k, v in steps.items():
        out[f"  {k}"] = v
    out["  (loop overhead)"] = days - sum(steps.values())
    t = time.perf_counter()
    pred = obj.predict(results, x)
    out["predict"] = time.perf_counter() - t
    t = time.perf_counter()
    obj.loglik_of(pred, obj.error_factor_of(x))
    out["loglik"] = time.perf_counter() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=12, help="timed evaluations (draws)")
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=1, help="seed of the prior draws")
    ap.add_argument("--profile", type=int, default=0, help="print cProfile's top K functions (cumulative)")
    ap.add_argument("--posterior", nargs="?", const="", default=None, metavar="PATH",
                    help="time draws of a posterior.parquet (no PATH: the packaged one) instead of prior draws: "
                         "what a calibration evaluates once it has reached the posterior")
    args = ap.parse_args()

    import numpy as np

    from emigre.calibrate.objective import Objective
    from emigre.calibrate.space import default_space

    t = time.perf_counter()
    c = time.process_time()
    space = default_space()
    obj = Objective.build(space, scale=args.scale, sim_seeds=(0,))
    print(f"objective built: {len(obj.obs_ids)} figures, {space.dim} parameters, "
          f"{time.perf_counter() - t:.2f} s wall, {time.process_time() - c:.2f} s CPU")
    rng = np.random.default_rng(args.seed)
    if args.posterior is None:
        X = space.sample(rng, args.n)
        what = "prior draws"
    else:
        from emigre.calibrate.posterior import calibrated_matrix, load_posterior, pick_rows

        post = load_posterior(args.posterior or None)
        if post is None:
            raise SystemExit("no posterior: give --posterior PATH (no packaged posterior.parquet)")
        X, missing = calibrated_matrix(post, space)
        if missing:
            print(f"the posterior lacks {', '.join(missing)}: at the default value")
        X = X[pick_rows(len(post), args.n)]
        what = "posterior draws"
    t = time.perf_counter()
    obj(space.defaults)  # Numba compile or cache load, the objective's caches
    obj(X[0])
    print(f"warm-up (2 evaluations): {time.perf_counter() - t:.2f} s wall")

    cpu, wall, fails = [], [], 0
    for x in X:
        c, t = time.process_time(), time.perf_counter()
        ev = obj(x)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - t)
        fails += ev.error is not None
    cpu_a, wall_a = np.array(cpu), np.array(wall)
    med = float(np.median(cpu_a))
    print(f"\n{args.n} evaluations of {what} at scale {args.scale:g} ({fails} scored -inf by the model's refusals):")
    print(f"  CPU s per evaluation: median {med:.3f}, mean {cpu_a.mean():.3f}, min {cpu_a.min():.3f}, "
          f"max {cpu_a.max():.3f}")
    print(f"  wall s per evaluation: median {np.median(wall_a):.3f}, mean {wall_a.mean():.3f}")
    print(f"  median CPU / baseline {BASELINE_CPU} s = {med / BASELINE_CPU:.2f}; "
          f"median CPU / goal {GOAL_CPU} s = {med / GOAL_CPU:.2f}")

    tot: dict[str, float] = {}
    for x in X:
        for k, v in _phases(obj, x).items():
            tot[k] = tot.get(k, 0.0) + v
    whole = sum(v for k, v in tot.items() if not k.startswith("  "))
    print(f"\nby phase (wall s per evaluation, mean of {args.n}; sum {whole / args.n:.3f}):")
    for k, v in tot.items():
        share = "" if k.startswith("  ") else f"  {100 * v / whole:5.1f}%"
        print(f"  {k:<20}{v / args.n:8.4f}{share}")

    if args.profile:
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        for x in X:
            obj(x)
        pr.disable()
        print()
        pstats.Stats(pr).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
