"""Benchmark: leave-one-source-out cross-validation of the posterior over the public evidence.

For every source (publisher, normalised: the producer of the number), the posterior draws are re-weighted by
exp(-log-likelihood of that source's figures) (Pareto-smoothed importance sampling), and each of its figures is
predicted from the re-weighted draws with the observation noise of its likelihood. Prints the coverage of the
90% intervals overall, per kind and per source, the median |log error|, the effective sample sizes and
k_hat, and the wall time. Uses the calibration's posterior when there is one (``emigre.calibrate``), else a
stand-in posterior (said so in the output). Does not gate anything.

    .venv/bin/python benchmarks/bench_loso.py [--draws 40] [--scale 10] [--workers 1] [--posterior FILE]
                                              [--simulate] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def _f(x, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return "inf" if x == math.inf else f"{x:.{digits}f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=40, help="posterior draws to simulate (when simulating)")
    ap.add_argument("--scale", type=float, default=10.0, help="persons per simulated traveller")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--posterior", default=None, help="posterior file (default: the calibration's)")
    ap.add_argument("--simulate", action="store_true",
                    help="simulate the draws even when the posterior stores its predictions (pred.<id>)")
    ap.add_argument("--json", default=None, help="also write the summary and the tables to this JSON file")
    args = ap.parse_args()

    from emigre.estimate.loso import K_HAT_OK, leave_one_source_out
    from emigre.estimate.posterior import load_posterior

    post = load_posterior(args.posterior)
    t0 = time.perf_counter()
    res = leave_one_source_out(post, draws=args.draws, scale=args.scale, workers=args.workers,
                               simulate=args.simulate or None)
    seconds = time.perf_counter() - t0
    s = res.summary()
    print(f"leave-one-source-out: {res.note}")
    print(f"{s['observations']} observations from {s['sources']} sources; {len(res.skipped)} not used "
          f"(no operator or outside the simulated period); {seconds:.1f} s")
    print(f"coverage90 {_f(s['coverage90'])} (in-sample, all sources kept: {_f(s['coverage90_in_sample'])}); "
          f"median |log error| {_f(s['median_abs_log_error'])} (in-sample {_f(s['median_abs_log_error_in_sample'])})")
    print(f"median ESS {_f(s['median_ess'], 1)} of {s['draws']} draws; sources with k_hat > {K_HAT_OK}: "
          f"{s['sources_k_hat_above_0.7']}")
    print()
    print(f"{'kind':<28}{'obs':>5}{'cov90':>8}{'med|err|':>10}")
    for r in res.kinds.itertuples():
        print(f"{r.kind:<28}{r.observations:>5}{_f(r.coverage90):>8}{_f(r.median_abs_log_error):>10}")
    print()
    print(f"{'source':<46}{'obs':>5}{'ESS':>7}{'k_hat':>7}{'cov90':>8}{'med|err|':>10}")
    for r in res.sources.itertuples():
        print(f"{r.source[:45]:<46}{r.observations:>5}{_f(r.ess, 1):>7}{_f(r.k_hat):>7}{_f(r.coverage90):>8}"
              f"{_f(r.median_abs_log_error):>10}")
    print()
    print(f"{'id':<8}{'kind':<26}{'source':<30}{'observed':>12}{'median':>12}{'90% interval':>26}  in   log err")
    for r in res.rows.itertuples():
        obs = f"{r.low:,.0f}-{r.high:,.0f}" if r.bound == "range" else (
            {"lower": ">", "upper": "<"}.get(r.bound, "") + f"{r.observed:,.0f}")
        print(f"{r.id:<8}{r.kind[:25]:<26}{r.source[:29]:<30}{obs:>12}{r.median:>12,.0f}"
              f"{f'{r.lo90:,.0f} - {r.hi90:,.0f}':>26}  {'yes' if r.inside else 'NO ':<4}{r.log_error:+.2f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"summary": s, "seconds": seconds, "note": res.note,
                       "kinds": res.kinds.to_dict("records"), "sources": res.sources.to_dict("records"),
                       "rows": res.rows.drop(columns=["low", "high"]).to_dict("records"),
                       "skipped": res.skipped}, fh, indent=2, default=str)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
