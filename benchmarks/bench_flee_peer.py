"""Speed against the peer: emigre's Flee ruleset vs Flee 3.1 (from PyPI), same scenario, same machine, same run.

    .venv/bin/python benchmarks/bench_flee_peer.py [--scenario DIR] [--hasten 1] [--seeds 11] [--flee-runs 1]
                                                  [--flee-python PATH] [--json FILE]

Flee 3.1 runs in its own virtualenv (``.bench-venv/`` at the repository root, created with
``flee==3.1 mpich`` when absent, unless ``--flee-python`` names another interpreter) through
``flee31_runner.py``. Both sides time only the day loop; agent-steps are the sum over days of the agents
alive. The first emigre run includes Numba compilation (or loading its cache) and is reported apart; the
speed is measured on the warm runs. Prints a figure, never fails on a slow result.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO_ROOT, fmt_int, rate, read_summary, suite_dir  # noqa: E402

RUNNER = Path(__file__).resolve().parent / "flee31_runner.py"
BENCH_VENV = REPO_ROOT / ".bench-venv"
SPEED_TARGET = 300.0


def ensure_flee_python(explicit: str | None) -> Path:
    """The interpreter with Flee 3.1: ``explicit``, or ``.bench-venv`` (created when absent)."""
    if explicit:
        return Path(explicit)
    py = BENCH_VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {BENCH_VENV} with flee==3.1 (one-off) ...", flush=True)
        subprocess.run(["python3", "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "flee==3.1", "mpich"], check=True)
    check = subprocess.run([str(py), "-c", "import flee.flee, flee.spawning"], capture_output=True, text=True,
                           cwd="/")
    if check.returncode != 0:
        sys.exit(f"Flee 3.1 does not import with {py}:\n{check.stderr[-2000:]}")
    return py


def run_flee31(py: Path, scenario: Path, settings: Path, hasten: int, seed: int | None,
               days: int | None = None) -> dict:
    cmd = [str(py), str(RUNNER), str(scenario), "--settings", str(settings), "--hasten", str(hasten)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if days is not None:
        cmd += ["--days", str(days)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
    if proc.returncode != 0:
        sys.exit(f"Flee 3.1 run failed (rc {proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def flee_ard(flee: dict, camp_names: list[str], camp_data) -> float:
    """ARD of a Flee 3.1 run, against emigre's interpolated UNHCR series (same hasten), camps by name."""
    import numpy as np

    from emigre.flee.output import ard

    counts = np.asarray(flee["camp_counts"], dtype=np.float64)
    col = {n: i for i, n in enumerate(flee["camp_names"])}
    days = counts.shape[0]
    sim = np.zeros((days, len(camp_names)))
    for j, name in enumerate(camp_names):
        if name in col:
            sim[:, j] = counts[:, col[name]]
    return ard(sim, np.asarray(camp_data)[:days])


def main(argv: list[str] | None = None) -> int:
    suite = suite_dir()
    ap = argparse.ArgumentParser(description="emigre vs Flee 3.1: agent-steps per second on one scenario")
    ap.add_argument("--scenario", default=str(suite / "scenarios" / "mali2012"))
    ap.add_argument("--settings", default=str(suite / "simsetting.yml"))
    ap.add_argument("--hasten", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=11, help="emigre runs (the first includes compilation)")
    ap.add_argument("--flee-runs", type=int, default=1)
    ap.add_argument("--flee-python", default=None, help="interpreter with flee==3.1 (default .bench-venv)")
    ap.add_argument("--flee-days", type=int, default=None, help="limit Flee to the first N days (testing)")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args(argv)

    from emigre.jobs.flee_run import load, result_ard, run_flee

    scenario = Path(args.scenario)
    name = scenario.name
    py = ensure_flee_python(args.flee_python)
    print(f"scenario {name}  hasten {args.hasten}  settings {args.settings}")
    print(f"flee interpreter {py}")
    print("note: shared 2-core machine, other work may run concurrently - timings are noisy\n", flush=True)

    # ---- emigre
    sc, st = load(scenario, args.settings)
    ours = []
    for seed in range(max(1, args.seeds)):
        t0 = time.perf_counter()
        res = run_flee(sc, st, seed=seed, hasten=args.hasten)
        wall = time.perf_counter() - t0
        ours.append({"seed": seed, "wall": wall, "seconds": res.seconds, "agent_steps": res.agent_steps,
                     "ard": result_ard(res)})
        print(f"  emigre seed {seed}: {res.seconds:8.3f} s day loop ({wall:.3f} s wall), "
              f"{fmt_int(res.agent_steps)} agent-steps, ARD {ours[-1]['ard']:.4f}", flush=True)
    camp_names, camp_data = res.camp_names, res.camp_data
    warm = ours[1:] if len(ours) > 1 else ours
    our_steps = sum(r["agent_steps"] for r in warm) / len(warm)
    our_secs = sum(r["seconds"] for r in warm) / len(warm)
    our_rate = rate(sum(r["agent_steps"] for r in warm), sum(r["seconds"] for r in warm))
    compile_s = ours[0]["wall"] - our_secs if len(ours) > 1 else math.nan

    # ---- Flee 3.1
    flee = []
    for k in range(max(1, args.flee_runs)):
        print(f"  Flee 3.1 run {k + 1}/{args.flee_runs} ...", flush=True)
        r = run_flee31(py, scenario, Path(args.settings), args.hasten, seed=k, days=args.flee_days)
        r["ard"] = flee_ard(r, camp_names, camp_data)
        flee.append(r)
        print(f"  Flee 3.1 seed {k}: {r['seconds']:8.3f} s day loop, {fmt_int(r['agent_steps'])} agent-steps, "
              f"ARD {r['ard']:.4f}, max RSS {r['max_rss_kb'] / 1024:.0f} MiB", flush=True)
    fl_steps = sum(r["agent_steps"] for r in flee) / len(flee)
    fl_secs = sum(r["seconds"] for r in flee) / len(flee)
    fl_rate = rate(sum(r["agent_steps"] for r in flee), sum(r["seconds"] for r in flee))

    ref = read_summary().get(name)
    ratio = our_rate / fl_rate
    print()
    print(f"{'':28s} {'agent-steps':>14s} {'seconds':>10s} {'agent-steps/s':>15s}")
    print(f"{f'emigre (warm mean, n={len(warm)})':28s} {fmt_int(our_steps):>14s} {our_secs:10.3f} "
          f"{fmt_int(our_rate):>15s}")
    print(f"{f'Flee 3.1 (mean, n={len(flee)})':28s} {fmt_int(fl_steps):>14s} {fl_secs:10.3f} "
          f"{fmt_int(fl_rate):>15s}")
    if ref is not None and ref.hasten == args.hasten:
        print(f"{'Flee 02cd2cbd (reference)':28s} {'':>14s} {'':>10s} {fmt_int(ref.agent_steps_per_s):>15s}")
    print()
    print(f"ratio emigre / Flee 3.1 (same run):   {ratio:10.1f}x   (target >= {SPEED_TARGET:.0f}x: "
          f"{'met' if ratio >= SPEED_TARGET else 'NOT met'})")
    ref_ratio = None
    if ref is not None and ref.hasten == args.hasten:
        ref_ratio = our_rate / ref.agent_steps_per_s
        print(f"ratio emigre / reference Flee:        {ref_ratio:10.1f}x   "
              f"({fmt_int(ref.agent_steps_per_s)} agent-steps/s, reference commit, another machine)")
    print(f"first emigre run (Numba compile or cache load + run): {ours[0]['wall']:.2f} s wall; "
          f"compile/warm-up ~ {compile_s:.2f} s")
    our_ards = [r["ard"] for r in ours]
    sd = statistics.stdev(our_ards) if len(our_ards) > 1 else 0.0
    print()
    print(f"ARD emigre    {statistics.fmean(our_ards):.4f} +- {sd:.4f} (n={len(our_ards)})")
    print(f"ARD Flee 3.1  {statistics.fmean(r['ard'] for r in flee):.4f} (n={len(flee)})"
          + ("  [partial run]" if args.flee_days else ""))
    if ref is not None and ref.hasten == args.hasten:
        print(f"ARD reference {ref.ard_mean:.4f} +- {ref.ard_sd:.4f} (Flee commit 02cd2cbd, n={ref.runs})")
    print("note: Flee 3.1 is not the reference commit (other defaults, e.g. capacity handling), so its "
          "ARD and agent counts need not match the reference.")

    if args.json:
        from emigre.fileio import atomic_write_text

        payload = {
            "scenario": name, "hasten": args.hasten,
            "emigre": {"runs": ours, "warm_agent_steps": our_steps, "warm_seconds": our_secs,
                       "agent_steps_per_s": our_rate, "compile_seconds": compile_s},
            "flee31": {"runs": [{k: v for k, v in r.items() if k not in ("camp_counts", "agents_per_day")}
                                for r in flee],
                       "agent_steps": fl_steps, "seconds": fl_secs, "agent_steps_per_s": fl_rate},
            "ratio": ratio, "ratio_vs_reference": ref_ratio,
        }
        atomic_write_text(args.json, json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
