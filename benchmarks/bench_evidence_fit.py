"""How the packaged posterior meets every figure of the evidence (calibration rows included: not a hold-out
check): rows covered by an operator, 90% coverage, median |log error|, median width of the 90% predictive
interval (hi90/lo90), overall and for the rows OBS201 on. Prints figures; gates nothing.

    python benchmarks/bench_evidence_fit.py [--draws 20] [--scale 20] [--json out.json] [--posterior FILE] [--workers K]
"""

from __future__ import annotations

import argparse
import json
import time

from _common import prediction_stats  # benchmarks/ is on sys.path when a script runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--json", default=None, help="write the rows here")
    ap.add_argument("--posterior", default=None, help="a posterior.parquet (default: the packaged one)")
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    from emigre.estimate.validation import validate
    from emigre.evidence import load_evidence

    t0 = time.perf_counter()
    ev = load_evidence()
    v = validate(ev.observations, draws=a.draws, scale=a.scale, posterior=a.posterior, workers=a.workers)
    rows = v.rows

    print(f"evidence rows {len(ev.observations)}: {len(rows)} predicted, {len(v.skipped)} skipped "
          f"({a.draws} draws, scale {a.scale:g}, {time.perf_counter() - t0:.0f} s)")
    print("all:        ", prediction_stats(rows))
    print("OBS001-199: ", prediction_stats([r for r in rows if r["id"] < "OBS201"]))
    print("OBS201-263: ", prediction_stats([r for r in rows if r["id"] >= "OBS201"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows, "skipped": v.skipped}, f, indent=1, default=str)


if __name__ == "__main__":
    main()
