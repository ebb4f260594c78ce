"""Same answers as Flee: the full comparison on the six scenarios of Flee's validation suite.

    .venv/bin/python benchmarks/bench_suite.py [--seeds 5] [--scenarios mali2012,...] [--json FILE]

For each scenario, with the suite's ``simsetting.yml`` and the hasten of ``reference/summary.csv``, runs
emigre's Flee ruleset with seeds 0..N-1 and checks (see ``_common.py`` for the exact definitions):
- ARD: mean over seeds within max(0.03, 10% of Flee's mean ARD) of Flee's mean ARD;
- camps: for every camp whose peak (max over days of Flee's mean) is >= 2% of the scenario's peak (max over
  days and camps of Flee's mean), the mean absolute difference between our mean daily series (over seeds)
  and Flee's mean series is <= 10% of that camp's peak.
Prints a table per scenario, a table per camp and a summary line. It reports and never gates CI (exit code 0
unless a scenario cannot be read).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    CAMP_MAD_MAX,
    CAMP_SHARE_MIN,
    SCENARIOS,
    ard_check,
    camp_checks,
    read_reference_camps,
    read_summary,
    suite_dir,
)


def run_scenario(name: str, suite: Path, settings: Path, hasten: int, seeds: list[int]) -> dict:
    from emigre.jobs.flee_run import load, result_ard, run_flee

    sc, st = load(suite / "scenarios" / name, settings)
    ards: list[float] = []
    sims: list[np.ndarray] = []
    steps = 0
    secs = 0.0
    t0 = time.perf_counter()
    res = None
    for seed in seeds:
        res = run_flee(sc, st, seed=seed, hasten=hasten)
        ards.append(result_ard(res))
        sims.append(res.camp_sim.astype(np.float64))
        steps += res.agent_steps
        secs += res.seconds
    assert res is not None
    return {
        "ards": ards,
        "camp_names": list(res.camp_names),
        "camp_mean": np.mean(sims, axis=0),
        "camp_data": np.asarray(res.camp_data, dtype=np.float64),
        "agent_steps": steps // len(seeds),
        "seconds": secs / len(seeds),
        "wall": time.perf_counter() - t0,
    }


def main(argv: list[str] | None = None) -> int:
    suite_default = suite_dir()
    ap = argparse.ArgumentParser(description="emigre vs Flee's reference results on the validation suite")
    ap.add_argument("--suite", default=str(suite_default), help="folder with scenarios/, reference/, simsetting.yml")
    ap.add_argument("--settings", default=None, help="settings file (default: SUITE/simsetting.yml)")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated scenario names")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--seed-base", type=int, default=0, help="first seed (seeds are BASE..BASE+N-1)")
    ap.add_argument("--json", default=None, help="write the results to this file (atomically)")
    args = ap.parse_args(argv)

    suite = Path(args.suite)
    settings = Path(args.settings) if args.settings else suite / "simsetting.yml"
    summary = read_summary(suite / "reference" / "summary.csv")
    names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    seeds = list(range(args.seed_base, args.seed_base + max(1, args.seeds)))
    print(f"suite {suite}  settings {settings}  seeds {seeds[0]}..{seeds[-1]} (n={len(seeds)})")
    print("note: shared 2-core machine; seconds are indicative only\n", flush=True)

    results = []
    for name in names:
        if name not in summary:
            print(f"{name}: no reference in summary.csv, skipped")
            continue
        ref = summary[name]
        run = run_scenario(name, suite, settings, ref.hasten, seeds)
        ard = ard_check(run["ards"], ref.ard_mean)
        refc = read_reference_camps(name, suite / "reference" / "camps" / f"{name}.csv")
        checks = camp_checks(run["camp_mean"], run["camp_names"], refc)
        # sanity: our interpolated UNHCR series vs the reference's unhcr column (same units)
        data_diff = math.nan
        idx = {n: i for i, n in enumerate(run["camp_names"])}
        common = [j for j, n in enumerate(refc.camp_names) if n in idx]
        if common:
            days = min(refc.unhcr.shape[0], run["camp_data"].shape[0])
            ours_d = run["camp_data"][:days, [idx[refc.camp_names[j]] for j in common]]
            data_diff = float(np.nanmax(np.abs(ours_d - refc.unhcr[:days, common])))
        checked = [c for c in checks if c.checked]
        camps_pass = all(c.passed for c in checked)
        results.append({
            "scenario": name, "hasten": ref.hasten, "seeds": len(seeds), "ards": run["ards"],
            "ard_mean": ard["ard_mean"], "ard_sd": ard["ard_sd"], "flee_ard": ard["flee_ard"],
            "diff": ard["diff"], "tolerance": ard["tolerance"], "pass_ard": ard["pass"],
            "flee_ard_sd": ref.ard_sd, "camps_checked": len(checked),
            "camps_passed": sum(1 for c in checked if c.passed), "camps_pass": camps_pass,
            "pass": bool(ard["pass"] and camps_pass),
            "scenario_peak": refc.scenario_peak, "unhcr_max_abs_diff": data_diff,
            "agent_steps": run["agent_steps"], "seconds": run["seconds"],
            "camps": [{"camp": c.camp, "peak": c.peak, "share": c.share, "checked": c.checked,
                       "mad": c.mad, "mad_frac": c.mad_frac, "pass": c.passed, **c.extra} for c in checks],
        })
        r = results[-1]
        print(f"{name:12s} ARD {r['ard_mean']:.4f}+-{r['ard_sd']:.4f} vs Flee {ref.ard_mean:.4f}  "
              f"camps {r['camps_passed']}/{r['camps_checked']}  {'PASS' if r['pass'] else 'FAIL'}  "
              f"({run['wall']:.1f} s)", flush=True)

    # ---- tables
    print()
    hdr = (f"{'scenario':12s} {'hasten':>6s} {'ARD ours':>9s} {'sd':>7s} {'ARD Flee':>9s} {'diff':>8s} "
           f"{'tol':>6s} {'ARD':>5s} {'camps':>7s} {'CAMPS':>6s} {'agent-steps':>14s} {'s/run':>7s} {'result':>6s}")
    print(hdr)
    print("-" * len(hdr))
    for r in results:
        print(f"{r['scenario']:12s} {r['hasten']:6d} {r['ard_mean']:9.4f} {r['ard_sd']:7.4f} {r['flee_ard']:9.4f} "
              f"{r['diff']:+8.4f} {r['tolerance']:6.3f} {_verdict(r['pass_ard']):>5s} "
              f"{r['camps_passed']:>3d}/{r['camps_checked']:<3d} {_verdict(r['camps_pass']):>6s} "
              f"{r['agent_steps']:>14,d} {r['seconds']:7.2f} {_verdict(r['pass']):>6s}")

    print()
    print(f"per camp (checked when peak >= {CAMP_SHARE_MIN:.0%} of the scenario's peak; PASS when MAD <= "
          f"{CAMP_MAD_MAX:.0%} of the camp's peak)")
    hdr2 = f"{'scenario':12s} {'camp':28s} {'peak':>12s} {'share':>7s} {'MAD':>12s} {'MAD/peak':>9s} {'result':>6s}"
    print(hdr2)
    print("-" * len(hdr2))
    for r in results:
        for c in r["camps"]:
            verdict = _verdict(c["pass"]) if c["checked"] else "-"
            print(f"{r['scenario']:12s} {c['camp'][:28]:28s} {c['peak']:12,.1f} {c['share']:7.1%} "
                  f"{c['mad']:12,.1f} {c['mad_frac']:9.3f} {verdict:>6s}")

    n_pass = sum(1 for r in results if r["pass"])
    n_ard = sum(1 for r in results if r["pass_ard"])
    n_camps = sum(r["camps_checked"] for r in results)
    n_camps_ok = sum(r["camps_passed"] for r in results)
    print()
    print(f"SUMMARY: {n_pass}/{len(results)} scenarios PASS (ARD {n_ard}/{len(results)}, "
          f"checked camps {n_camps_ok}/{n_camps}), {len(seeds)} seeds each -> "
          f"{'ALL PASS' if results and n_pass == len(results) else 'NOT ALL PASS'}")

    if args.json:
        from emigre.fileio import atomic_write_text

        atomic_write_text(args.json, json.dumps(results, indent=2, default=_jsonable) + "\n")
    return 0


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


if __name__ == "__main__":
    sys.exit(main())
