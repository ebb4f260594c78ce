"""Scale: ukraine2022 at hasten 1 (23.6 million agents, 554 days) on emigre's Flee ruleset.

    .venv/bin/python benchmarks/bench_ukraine_full.py [--hasten 1] [--seed 0] [--scenario DIR] [--json FILE]

Prints wall time (whole process, the ``run_flee`` call, and the day loop alone), peak memory (the
process's peak resident set: ``ru_maxrss``, and the peak RSS sampled once per simulated day from
``/proc/self/statm``; no tracemalloc, which would slow the run and miss NumPy/Numba memory), agent-steps and
agent-steps per second, and the seconds spent in each step of the day plan - against the targets
(<= 300 s, <= 6 GB) and Flee's own estimate for this run (about 50 hours and 15 GB). Try ``--hasten 100``
first for a quick look. Numba compiles (or loads its on-disk cache) inside the first run; that time is part
of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

T_PROCESS = time.perf_counter()

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fmt_int, rate, suite_dir  # noqa: E402

TARGET_SECONDS = 300.0
TARGET_BYTES = 6 * 10**9
FLEE_ESTIMATE_SECONDS = 50 * 3600.0
FLEE_ESTIMATE_BYTES = 15 * 10**9
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Current resident set size of this process (0 where /proc is unavailable)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except OSError:
        return 0


def maxrss_bytes() -> int:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb * 1024 if sys.platform != "darwin" else kb  # KiB on Linux, bytes on macOS


def gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB"


def main(argv: list[str] | None = None) -> int:
    suite = suite_dir()
    ap = argparse.ArgumentParser(description="ukraine2022 at full scale: wall time and peak memory")
    ap.add_argument("--scenario", default=str(suite / "scenarios" / "ukraine2022"))
    ap.add_argument("--settings", default=str(suite / "simsetting.yml"))
    ap.add_argument("--hasten", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--every", type=int, default=50, help="print progress every N days (0: never)")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args(argv)

    from emigre.jobs.flee_run import load, result_ard, run_flee

    rss_start = rss_bytes()
    t_load = time.perf_counter()
    sc, st = load(args.scenario, args.settings)
    load_s = time.perf_counter() - t_load
    print(f"scenario {Path(args.scenario).name}  hasten {args.hasten}  seed {args.seed}  days {sc.length}")
    print("note: shared 2-core machine, other work may run concurrently - timings are noisy", flush=True)

    peak = {"rss": rss_bytes()}
    t_run = time.perf_counter()

    def progress(done: int, total: int) -> None:
        r = rss_bytes()
        if r > peak["rss"]:
            peak["rss"] = r
        if args.every and (done % args.every == 0 or done == total):
            print(f"  day {done:4d}/{total}  {time.perf_counter() - t_run:8.1f} s  RSS {gb(r)}", flush=True)

    res = run_flee(sc, st, seed=args.seed, hasten=args.hasten, progress=progress)
    run_s = time.perf_counter() - t_run
    process_s = time.perf_counter() - T_PROCESS
    maxrss = maxrss_bytes()
    steps = res.agent_steps
    agents = int(res.agents[-1]) if res.n_days else 0
    a = result_ard(res)

    print()
    print(f"agents (final)          {fmt_int(agents)}")
    print(f"agent-steps             {fmt_int(steps)}")
    print(f"day loop                {res.seconds:10.1f} s   {fmt_int(rate(steps, res.seconds))} agent-steps/s")
    print(f"run_flee call           {run_s:10.1f} s   (setup + day loop; includes Numba compile/cache load)")
    print(f"whole process           {process_s:10.1f} s   (imports, reading the scenario {load_s:.1f} s, run)")
    print(f"peak memory ru_maxrss   {gb(maxrss)}")
    print(f"peak RSS (daily sample) {gb(peak['rss'])}   (RSS before reading the scenario {gb(rss_start)})")
    print(f"ARD                     {a:.4f}")
    print("seconds per step of the day plan:")
    for name, s in (res.step_seconds or {}).items():
        print(f"  {name:22s} {s:10.2f} s  {100 * s / res.seconds if res.seconds else 0:5.1f}%")
    print()
    ok_t = process_s <= TARGET_SECONDS
    ok_m = maxrss <= TARGET_BYTES
    print(f"target wall <= {TARGET_SECONDS:.0f} s: {'met' if ok_t else 'NOT met'} ({process_s:.1f} s whole process)")
    print(f"target peak <= {gb(TARGET_BYTES)}: {'met' if ok_m else 'NOT met'} ({gb(maxrss)})")
    if args.hasten == 1:
        print(f"Flee's estimate for this run: {FLEE_ESTIMATE_SECONDS / 3600:.0f} h and {gb(FLEE_ESTIMATE_BYTES)} "
              f"-> {FLEE_ESTIMATE_SECONDS / process_s:,.0f}x faster, {FLEE_ESTIMATE_BYTES / maxrss:.1f}x less memory")

    if args.json:
        from emigre.fileio import atomic_write_text

        payload = {
            "scenario": Path(args.scenario).name, "hasten": args.hasten, "seed": args.seed, "days": res.n_days,
            "agents": agents, "agent_steps": steps, "loop_seconds": res.seconds, "run_seconds": run_s,
            "process_seconds": process_s, "agent_steps_per_s": rate(steps, res.seconds),
            "max_rss_bytes": maxrss, "peak_rss_sampled_bytes": peak["rss"], "ard": a,
            "step_seconds": res.step_seconds,
        }
        atomic_write_text(args.json, json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
