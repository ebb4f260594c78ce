"""Benchmark: an out-of-time check - calibrate without the figures of 2023, then predict them.

The hold-out is every public figure with an operator whose period starts on or after a cut date (default
2023-01-01): the 2023 asylum claims, first permits, Georgia's and Armenia's net entries, Turkey's permit
holders, Israel's olim, US border encounters, FSB exits of Q1 2023. `emigre calibrate --exclude` fits the
posterior on the rest (the calibration never sees a held-out figure); `emigre validate` then reports, for each
held-out figure, the observed value, the posterior-predictive median and 90% interval (observation noise
included), inside or not, and the log error; then the coverage and the median |log error|.

    .venv/bin/python benchmarks/bench_forecast.py [--cut 2023-01-01] [--budget 3600] [--workers 2] [--scale 20]
                                                  [--out out/forecast] [--draws 40] [--resume] [--seed 0]

Writes OUT/holdout.csv (evidence schema), OUT/calibrate/ (the calibration) and OUT/validation.json. Does not
gate anything. The measured figures (held-out count, coverage90, median |log error|, per session) are in
docs/estimate.md, "Out-of-time check", and benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path


def holdout_rows(cut: str) -> list[dict]:
    """Rows of the packaged evidence that the calibration would use and whose period starts on/after ``cut``."""
    from emigre.calibrate.objective import select_observations
    from emigre.evidence.store import FILES, data_dir

    used = {o.id for o in select_observations()[0]}
    path = data_dir() / FILES["observations"]
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r for r in rows if r["id"] in used and r["period_start"] >= cut]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cut", default="2023-01-01", help="hold out figures whose period starts on/after this")
    ap.add_argument("--budget", type=int, default=3600)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scale", type=float, default=20.0, help="persons per simulated traveller in the calibration")
    ap.add_argument("--draws", type=int, default=40, help="posterior draws for the predictive check")
    ap.add_argument("--out", default="out/forecast")
    ap.add_argument("--resume", action="store_true", help="resume the calibration in OUT/calibrate")
    ap.add_argument("--seed", type=int, default=0, help="seed of the calibration (another seed: another "
                    "calibration of the same figures, to see how far the check moves with it)")
    args = ap.parse_args()

    from emigre.calibrate import calibrate
    from emigre.estimate.validation import validate
    from emigre.fileio import atomic_writer

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = holdout_rows(args.cut)
    if not rows:
        raise SystemExit(f"no figure with a period starting on or after {args.cut}")
    hold = out / "holdout.csv"
    with atomic_writer(hold) as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"hold-out: {len(rows)} figures with a period from {args.cut}: {', '.join(r['id'] for r in rows)}")

    t0 = time.perf_counter()
    res = calibrate("russia-2022", budget=args.budget, workers=args.workers, out=out / "calibrate",
                    exclude=[r["id"] for r in rows], resume=args.resume, scale=args.scale, seed=args.seed)
    t_cal = time.perf_counter() - t0
    print(f"calibration without them: {t_cal / 60:.1f} min")
    smc = json.loads((out / "calibrate" / "fit.json").read_text()).get("smc", {})
    if not smc.get("complete", True):
        beta = max((st.get("beta", 0.0) for st in smc.get("stages", [])), default=0.0)
        print(f"WARNING: the calibration stopped its tempering at beta {beta:.3g} (budget): what follows checks a "
              "tempered distribution close to the prior, not the posterior - raise --budget (session 15: 2,000 "
              "reached beta 0.12 with 85 parameters)")

    t0 = time.perf_counter()
    val = validate(hold, draws=args.draws, posterior=out / "calibrate" / "posterior.parquet",
                   workers=args.workers)
    t_val = time.perf_counter() - t0
    data = val.to_json()
    print(f"{'id':<8}{'observed':>12}{'median':>12}{'lo90':>12}{'hi90':>12}{'inside':>8}{'log err':>9}")
    for r in data["rows"]:
        print(f"{r['id']:<8}{r['observed']:>12,.0f}{r['median']:>12,.0f}{r['lo90']:>12,.0f}{r['hi90']:>12,.0f}"
              f"{'yes' if r['inside'] else 'no':>8}{r['log_error']:>9.2f}")
    print(f"coverage90 {data['coverage90']:.2f} over {len(data['rows'])} held-out figures; median |log error| "
          f"{data['median_abs_log_error']:.2f}; validation {t_val:.0f} s")
    data["calibration"] = {"seconds": t_cal, "budget": args.budget, "cut": args.cut,
                           "complete": res.fit.get("complete", True)}
    with atomic_writer(out / "validation.json") as fh:
        json.dump(data, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
