"""Benchmark: do two calibrations agree? The between-run spread of the posterior against its own intervals.

A posterior sampler that has converged gives, run after run (other seeds, other particle counts), the same
intervals up to Monte Carlo noise. This benchmark compares K posteriors: either calibrations it runs itself
(``--runs K``: seeds 0..K-1, ``emigre calibrate`` defaults unless ``--budget``/``--particles``/``--scale`` say
otherwise) or posterior files already made (``--posteriors A.parquet B.parquet ...``). For each it prints:
- the posterior-predictive 5/50/95% of headline figures (the calibration's own operators, ``--draws`` posterior
  draws in the main job's fixed order, one simulation each at ``--sim-scale`` persons per traveller, seed 0);
- per parameter, the 90% interval in the unconstrained space and the posterior sd over the prior's;
and then the agreement: for each figure the spread of the K medians over the mean 90% width (near 0 when the
runs agree; above ~0.5 the runs disagree by more than their intervals admit), and the parameters whose 90%
intervals do not overlap between some pair of runs. Prints figures; never fails on a result.

    .venv/bin/python benchmarks/bench_calibration_spread.py --posteriors out/cal6/posterior.parquet \\
        out/cal8/posterior.parquet [--draws 40] [--json FILE]
    .venv/bin/python benchmarks/bench_calibration_spread.py --runs 2 [--budget 3600] [--particles 200] \\
        [--out out/spread] [--workers 0]

Latest (30 Nov 2026, docs/calibrate.md "Known limits"): the packaged posterior (200 particles) against the same
calibration with 100 particles: OBS014 medians 1.43 and 1.91 million (spread/width 0.65; OBS001 1.06, OBS006
0.49, OBS008 0.26, OBS013 0.53); posterior sd / prior sd 0.24 and 0.33; 10 of 56 parameters with disjoint 90%
intervals (e.g. ``choice_unrecognised_state``, ``push_economic_intensity``, ``choice_region_eu``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

FIGURES = {
    "OBS001": "departed by 15 Mar 2022",
    "OBS006": "departed net by 20 Sep 2022",
    "OBS008": "departed 21 Sep-4 Oct 2022",
    "OBS014": "departed net by 15 Feb 2023",
    "OBS013": "abroad 31 Dec 2022",
}


def predictive(post, space, draws: int, sim_scale: float) -> dict[str, np.ndarray]:
    """Per headline figure, the predictions of ``draws`` draws of the posterior frame ``post`` (main-job order);
    a draw the model rejects at this scale and seed (gridlock, as the objective scores it) gives NaN and is
    left out of the quantiles (counted in the printout)."""
    from emigre.calibrate.objective import EXPECTED_FAILURES, Objective
    from emigre.calibrate.posterior import calibrated_matrix, draw_order

    obj = Objective.build(space, scale=sim_scale)
    ids = [i for i in FIGURES if i in obj.obs_ids]
    cols = [obj.obs_ids.index(i) for i in ids]
    order = draw_order(len(post))[:draws]
    M = calibrated_matrix(post, space)[0]  # a parameter newer than the posterior: its default
    out = np.empty((len(order), len(ids)))
    for r, j in enumerate(order):
        x = M[int(j)]
        try:
            out[r] = obj.predict(obj.simulate(x), x)[cols]
        except EXPECTED_FAILURES as exc:
            print(f"  draw {int(j)}: {type(exc).__name__} ({exc}): left out", flush=True)
            out[r] = np.nan
    return {i: out[:, k] for k, i in enumerate(ids)}


def parameter_intervals(post, space) -> dict[str, tuple[float, float, float]]:
    """Per parameter: 5% and 95% quantiles in the unconstrained space, and the posterior sd over the prior's."""
    from emigre.calibrate.fit import prior_sd_u
    from emigre.calibrate.posterior import calibrated_matrix

    X = calibrated_matrix(post, space)[0]
    U = space.to_u(X)
    lo, hi = np.quantile(U, [0.05, 0.95], axis=0)
    ratio = U.std(axis=0) / prior_sd_u(space)
    return {n: (float(a), float(b), float(r)) for n, a, b, r in zip(space.names, lo, hi, ratio, strict=True)}


def run_calibrations(args) -> list[Path]:
    from emigre.calibrate.calibration import calibrate

    paths = []
    for k in range(args.runs):
        out = Path(args.out) / f"run{k}"
        print(f"calibration {k + 1}/{args.runs}: seed {k}, budget {args.budget}, particles {args.particles} "
              f"-> {out}", flush=True)
        t0 = time.perf_counter()
        calibrate(budget=args.budget, particles=args.particles, seed=k, scale=args.scale, workers=args.workers,
                  out=out, resume=args.resume, progress=False)
        print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
        paths.append(out / "posterior.parquet")
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posteriors", nargs="*", default=None, help="posterior files to compare (>= 2)")
    ap.add_argument("--runs", type=int, default=2, help="calibrations to run when --posteriors is not given")
    ap.add_argument("--budget", type=int, default=3600)
    ap.add_argument("--particles", type=int, default=200)
    ap.add_argument("--scale", type=float, default=20.0, help="persons per traveller in the calibrations")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--out", default="out/spread")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--draws", type=int, default=40, help="posterior draws per predictive")
    ap.add_argument("--sim-scale", type=float, default=20.0, help="persons per traveller in the predictive")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args(argv)

    paths = [Path(p) for p in args.posteriors] if args.posteriors else run_calibrations(args)
    if len(paths) < 2:
        print("need at least two posteriors to compare", file=sys.stderr)
        return 2
    for p in paths:
        if not p.is_file():
            print(f"{p}: no such posterior file", file=sys.stderr)
            return 2

    from emigre.calibrate.posterior import load_posterior
    from emigre.calibrate.space import default_space

    space = default_space()
    preds, params = [], []
    for p in paths:
        t0 = time.perf_counter()
        post = load_posterior(p)
        preds.append(predictive(post, space, args.draws, args.sim_scale))
        params.append(parameter_intervals(post, space))
        print(f"{p}: predictive of {args.draws} draws in {time.perf_counter() - t0:.0f} s", flush=True)

    print(f"\n{'figure':8s} {'':30s} " + "  ".join(f"{'run ' + str(k) + ' 5/50/95%':>32s}" for k in range(len(paths)))
          + f"  {'spread/width':>12s}")
    figures = {}
    for fid, label in FIGURES.items():
        if fid not in preds[0]:
            continue
        qs = [np.nanquantile(pr[fid], [0.05, 0.5, 0.95]) for pr in preds]
        medians = np.array([q[1] for q in qs])
        width = float(np.mean([q[2] - q[0] for q in qs]))
        spread = float(medians.max() - medians.min()) / width if width > 0 else float("nan")
        figures[fid] = {"label": label, "quantiles": [q.tolist() for q in qs], "spread_over_width": spread}
        cells = "  ".join(f"{q[0]:>10,.0f} {q[1]:>10,.0f} {q[2]:>10,.0f}" for q in qs)
        print(f"{fid:8s} {label:30s} {cells}  {spread:12.2f}")

    disjoint = []
    for name in params[0]:
        for a, b in itertools.combinations(range(len(params)), 2):
            la, ha, _ = params[a][name]
            lb, hb, _ = params[b][name]
            if ha < lb or hb < la:
                disjoint.append((name, a, b))
                break
    ratios = [float(np.median([v[2] for v in pr.values()])) for pr in params]
    print("\nposterior sd / prior sd (median over parameters): "
          + ", ".join(f"run {k} {r:.2f}" for k, r in enumerate(ratios)))
    print(f"parameters with disjoint 90% intervals between two runs: {len(disjoint)} of {len(params[0])}")
    for name, a, b in disjoint:
        print(f"  {name}: run {a} [{params[a][name][0]:.2f}, {params[a][name][1]:.2f}] vs run {b} "
              f"[{params[b][name][0]:.2f}, {params[b][name][1]:.2f}] (unconstrained)")

    if args.json:
        from emigre.fileio import atomic_write_text

        payload = {"posteriors": [str(p) for p in paths], "draws": args.draws, "figures": figures,
                   "sd_ratio_median": ratios, "disjoint": [list(d) for d in disjoint]}
        atomic_write_text(args.json, json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
