"""Benchmark: leave-one-source-out cross-validation of the posterior over the public evidence.

For every source (publisher, normalised: the producer of the number), the posterior draws are re-weighted by
exp(-log-likelihood of that source's figures) (Pareto-smoothed importance sampling), and each of its figures is
predicted from the re-weighted draws with the observation noise of its likelihood. Prints the coverage of the
90% intervals overall, per kind and per source, the median |log error|, the effective sample sizes and
k_hat, the median width of the 90% intervals (hi90/lo90) and the wall time. Uses the calibration's posterior
when there is one (``emigre.calibrate``), else a stand-in posterior (said so in the output). Does not gate
anything.

Where a source's k_hat exceeds 0.7 the importance weights rest on a few draws and its leave-out prediction is not
reliable (Vehtari et al., Pareto-smoothed importance sampling). ``--refit`` then does it exactly for those
sources (or for ``--refit-sources``): a calibration without the source's figures (``emigre calibrate
--exclude``, ``--refit-budget`` evaluations, one run, in ``--refit-out/<source>``; resumed when it is there)
and the posterior-predictive check of its figures under that posterior (``emigre validate``: ``--draws``
simulated draws at ``--scale``, observation noise included). The summary is printed again with those rows in
place of the re-weighted ones. Cost: one calibration per source (about 9 minutes at 1,200 evaluations on two
cores), the work a Dask cluster is for (``--cluster``).

    .venv/bin/python benchmarks/bench_loso.py [--draws 40] [--scale 10] [--workers 1] [--posterior FILE]
                                              [--simulate] [--json OUT.json] [--cluster ADDRESS]
                                              [--refit] [--refit-sources NAME ...] [--refit-budget 1200]
                                              [--refit-particles 100] [--refit-out out/loso-refit]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

from _common import prediction_stats  # benchmarks/ is on sys.path when a script runs

os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def _f(x, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return "inf" if x == math.inf else f"{x:.{digits}f}"


def _summary_line(label: str, rows) -> str:
    return f"{label}: {prediction_stats(rows)}"


def _slug(source: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in source).strip("-")[:60] or "source"


def refit_sources(res, sources, *, budget: int, particles: int, out: str, draws: int, scale: float,
                  workers: int, cluster: str | None) -> dict[str, list[dict]]:
    """Exact leave-one-source-out for ``sources``: calibrate without each one's figures, then predict them
    (emigre validate). Returns {source: rows in the bench's row format}."""
    from pathlib import Path

    from emigre.calibrate import calibrate
    from emigre.estimate.validation import validate
    from emigre.evidence import load_evidence

    ev = load_evidence()
    done: dict[str, list[dict]] = {}
    for source in sources:
        ids = [r.id for r in res.rows.itertuples() if r.source == source]
        if not ids:
            print(f"refit: no figure of source {source!r}; skipped")
            continue
        where = Path(out) / _slug(source)
        t0 = time.perf_counter()
        calibrate("russia-2022", budget=budget, particles=particles, workers=workers, cluster=cluster, out=where,
                  exclude=ids, resume=(where / "journal.sqlite").exists(), progress=False)
        t_cal = time.perf_counter() - t0
        val = validate([ev.observation(i) for i in ids], draws=draws, scale=scale, workers=workers,
                       cluster=cluster, posterior=where / "posterior.parquet")
        rows = [{**r, "source": source, "unit": ev.observation(r["id"]).unit} for r in val.to_json()["rows"]]
        done[source] = rows
        print(_summary_line(f"refit without {source} ({t_cal / 60:.1f} min)", rows), flush=True)
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=40, help="posterior draws to simulate (when simulating)")
    ap.add_argument("--scale", type=float, default=10.0, help="persons per simulated traveller")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--posterior", default=None, help="posterior file (default: the calibration's)")
    ap.add_argument("--simulate", action="store_true",
                    help="simulate the draws even when the posterior stores its predictions (pred.<id>)")
    ap.add_argument("--json", default=None, help="also write the summary and the tables to this JSON file")
    ap.add_argument("--cluster", default=None, help="a Dask cluster for the simulations (tcp://HOST:PORT, local:N)")
    ap.add_argument("--refit", action="store_true",
                    help="refit without each source whose k_hat exceeds 0.7 (or --refit-sources) and predict it")
    ap.add_argument("--refit-sources", nargs="*", default=None, help="the sources to refit (names as printed)")
    ap.add_argument("--refit-budget", type=int, default=1200, help="evaluations of each refit calibration")
    ap.add_argument("--refit-particles", type=int, default=100, help="particles of each refit calibration")
    ap.add_argument("--refit-out", default="out/loso-refit", help="where the refit calibrations are kept")
    args = ap.parse_args()

    from emigre.estimate.loso import K_HAT_OK, leave_one_source_out
    from emigre.estimate.posterior import load_posterior

    post = load_posterior(args.posterior)
    t0 = time.perf_counter()
    res = leave_one_source_out(post, draws=args.draws, scale=args.scale, workers=args.workers,
                               cluster=args.cluster, simulate=args.simulate or None)
    seconds = time.perf_counter() - t0
    s = res.summary()
    print(f"leave-one-source-out: {res.note}")
    print(f"{s['observations']} observations from {s['sources']} sources; {len(res.skipped)} not used "
          f"(no operator or outside the simulated period); {seconds:.1f} s")
    print(f"coverage90 {_f(s['coverage90'])} (in-sample, all sources kept: {_f(s['coverage90_in_sample'])}); "
          f"median |log error| {_f(s['median_abs_log_error'])} (in-sample {_f(s['median_abs_log_error_in_sample'])})")
    print(f"median ESS {_f(s['median_ess'], 1)} of {s['draws']} draws; sources with k_hat > {K_HAT_OK}: "
          f"{s['sources_k_hat_above_0.7']}")
    all_rows = res.rows.to_dict("records")
    print(_summary_line("re-weighted (PSIS)", all_rows))
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
    refits: dict[str, list[dict]] = {}
    if args.refit or args.refit_sources:
        names = args.refit_sources or [r.source for r in res.sources.itertuples() if r.k_hat > K_HAT_OK]
        print()
        print(f"exact refits ({len(names)} sources, {args.refit_budget} evaluations each): {', '.join(names)}")
        refits = refit_sources(res, names, budget=args.refit_budget, particles=args.refit_particles,
                               out=args.refit_out, draws=args.draws,
                               scale=args.scale, workers=args.workers, cluster=args.cluster)
        refit_rows = [r for rows in refits.values() for r in rows]
        print(_summary_line("refit sources, exact", refit_rows))
        print(_summary_line("the same sources, re-weighted",
                            [r for r in all_rows if r["source"] in refits]))
        print(_summary_line("all, refit rows in place of the re-weighted ones",
                            [r for r in all_rows if r["source"] not in refits] + refit_rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"summary": s, "seconds": seconds, "note": res.note, "refits": refits,
                       "kinds": res.kinds.to_dict("records"), "sources": res.sources.to_dict("records"),
                       "rows": res.rows.drop(columns=["low", "high"]).to_dict("records"),
                       "skipped": res.skipped}, fh, indent=2, default=str)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
