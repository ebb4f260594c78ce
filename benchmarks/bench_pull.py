"""Benchmark: which figures pull a headline quantity up, and which hold it down, in a calibration.

Reads a calibration's ``journal.sqlite`` and ``fit.json`` (``--out`` of ``emigre calibrate``, default the
extension that made the packaged posterior), takes its evaluations at temperature 1 (``--stage``: those whose
stage name starts with it; default ``extend``, the moves of ``calibrate --extend``), and prints per figure the
slope of its log-likelihood on the log of the headline figure's prediction (``emigre.calibrate.pull``): positive
pulls the quantity up, negative holds it down; with the observed figure and the model's median beside it.
Not a gate: it names the figures that ask for a larger or smaller exodus (issue 11).

    .venv/bin/python benchmarks/bench_pull.py --out DIR [--figure OBS014 | --parameter NAME] [--top 15] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="a calibration's output folder (journal.sqlite, fit.json)")
    ap.add_argument("--figure", default="OBS014", help="the headline figure (an observation id)")
    ap.add_argument("--parameter", default=None,
                    help="instead of a figure: a calibrated parameter; the pulls are per sd of it, the other "
                    "parameters held (a multiple regression; the log for lognormal priors)")
    ap.add_argument("--stage", default="extend", help="use the evaluations whose stage starts with this ('' = all)")
    ap.add_argument("--top", type=int, default=15, help="figures printed at each end")
    ap.add_argument("--json", default=None, help="also write every figure's pull here")
    args = ap.parse_args()

    import numpy as np

    from emigre.calibrate.journal import Journal
    from emigre.calibrate.pull import parameter_pulls, pulls
    from emigre.evidence.records import format_value
    from emigre.evidence.store import load_observations
    from emigre.fileio import atomic_write_text

    out = Path(args.out)
    for f in ("journal.sqlite", "fit.json"):
        if not (out / f).exists():
            raise SystemExit(f"{out / f}: not found (give --out a calibration's output folder)")
    fit = json.loads((out / "fit.json").read_text())
    ids = fit["observations"]["used"]
    if args.parameter is None and args.figure not in ids:
        raise SystemExit(f"{args.figure} is not a figure of this calibration ({len(ids)} used)")
    priors = fit["priors"]
    names = [p["name"] for p in priors]
    if args.parameter is not None and args.parameter not in names:
        raise SystemExit(f"{args.parameter} is not a calibrated parameter of this calibration ({len(names)})")
    j = Journal(out / "journal.sqlite")
    ll, pred = j.arrays(args.stage)
    x, llx = j.parameters(args.stage) if args.parameter is not None else (None, None)
    j.close()
    if ll.shape[1] != len(ids):
        raise SystemExit(f"the journal's evaluations have {ll.shape[1]} figures, fit.json lists {len(ids)}")
    obs = {o.id: o for o in load_observations()}
    ok = np.isfinite(ll).all(axis=1)
    med = np.median(pred[ok], axis=0)
    if args.parameter is None:
        k = ids.index(args.figure)
        s = pulls(ll, pred, k)
        print(f"{int(ok.sum())} evaluations (stage '{args.stage}*'); {args.figure} predicted median {med[k]:,.0f}; "
              f"sum of the pulls {s.sum():+.2f} (the prior's pull balances it at the posterior)")
    else:
        if x.shape[1] != len(names):
            raise SystemExit(f"the journal's points have {x.shape[1]} parameters, fit.json lists {len(names)}")
        k = names.index(args.parameter)
        logged = np.array([p["dist"] == "lognormal" for p in priors])
        z = np.where(logged, np.log(np.maximum(x, 1e-300)), x)
        s = parameter_pulls(llx, z, k)
        okx = np.isfinite(llx).all(axis=1)
        print(f"{int(okx.sum())} evaluations (stage '{args.stage}*'); {args.parameter} median "
              f"{np.median(x[okx, k]):.4g}, sd of its {'log' if logged[k] else 'value'} {z[okx, k].std():.3f}; "
              f"pulls per sd, the other {len(names) - 1} parameters held; sum {s.sum():+.2f} (the prior's pull "
              "balances it at the posterior)")
    print(f"{'pull':>7}  {'figure':<7} {'kind':<28} {'dest':<4} {'period':<23} {'observed':>22} {'model median':>13}")
    order = np.argsort(s)
    shown = list(order[: args.top]) + [-1] + list(order[-args.top:])
    rows = []
    for i in order:
        o = obs.get(ids[i])
        rows.append({"id": ids[i], "pull": float(s[i]), "median": float(med[i]),
                     "observed": format_value(o) if o else "", "kind": o.kind if o else ""})
    for i in shown:
        if i < 0:
            print("    ...")
            continue
        o = obs.get(ids[i])
        period = f"{o.period_start}..{o.period_end}" if o else ""
        print(f"{s[i]:+7.2f}  {ids[i]:<7} {(o.kind if o else '')[:28]:<28} {(o.destination if o else '')[:4]:<4} "
              f"{period[:23]:<23} {(format_value(o) if o else ''):>22} {med[i]:>13,.0f}")
    by_kind: dict[str, list[float]] = {}
    for r in rows:
        by_kind.setdefault(r["kind"], []).append(r["pull"])
    print("\nby kind (sum of pulls, figures):")
    for kind, v in sorted(by_kind.items(), key=lambda kv: sum(kv[1])):
        print(f"  {kind:<30} {sum(v):+7.2f}  {len(v)}")
    if args.json:
        what = {"parameter": args.parameter} if args.parameter else {"figure": args.figure}
        atomic_write_text(args.json, json.dumps({**what, "evaluations": int(ok.sum()), "pulls": rows}, indent=1))


if __name__ == "__main__":
    main()
