"""Benchmark: the mobilization surge at the land borders, and what the crossings' capacities do to it (issue 11).

The model's total by February 2023 sits about twice above the national estimates. One place the excess comes
from (docs/estimate.md, "The surge at the borders"): in the model the mobilization wave queues at a few land
crossings for weeks, while the sources say the crossings carried far more and the flow had turned by 3 October.
This script measures that on posterior draws of the packaged calibration (common random numbers: each draw is
run with the same seed on both worlds), side by side:

- **base**: the packaged scenario;
- **what-if**: the same world with the capacity of chosen exit links multiplied from ``--from`` to ``--to``
  (timeline rows of effect ``capacity``, as a what-if request writes them). The default what-if is the one the
  sources in ``shared/routes/crossings.csv`` suggest: Upper Lars at its observed peak of 15,000 persons a day
  (CR014) instead of its design throughput of 4,000 (CR013), and each of the 7 modelled road links into
  Kazakhstan standing for 30/7 of the 30 road checkpoints that were open (CR034).

It prints, per day from 21 September, the wave's departures and the persons queued at the exit links, and the
wave's entries into Kazakhstan and Georgia; the gross departures by 5 October, 31 October and 31 December; the
prediction of OBS014 (net by 15 February 2023, published 500-700 thousand); the total log-likelihood; and the
figures whose log-likelihood the change moves most. The draws keep the *base* calibration's parameters: a
what-if that lets the wave through faster raises the counts in the windows the sources cover, which a
re-calibration would then meet with a smaller wave; this table shows the first step, not the re-calibrated
answer. Reference figures from the sources (not in the likelihood) are printed under the table.

    .venv/bin/python benchmarks/bench_surge.py [--draws 8] [--scale 50] [--capacity LINK_ID=FACTOR ...] [--posterior PATH]
        [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

#: Upper Lars: observed peak-season throughput (CR014) over the design throughput the scenario uses (CR013)
LARS = ("road:Upper-Lars-Tbilisi", 15000 / 4000)
#: the scenario's road exit links into Kazakhstan; 30 road checkpoints were open (CR034)
KAZ_ROAD = ("road:Astrakhan-Atyrau", "road:Samara-Oral", "road:Ozinki-Taskala-Oral", "road:Bugristoye-Kairak-Kostanay",
            "road:Petukhovo-Petropavl", "road:Vishnevka-Zhanibek-Oral", "road:Orenburg-Aktobe")
REFERENCES = (
    "CR014 (shared/routes): Upper Lars observed peak-season throughput 15,000 persons/day (design 4,000, CR013)",
    "CR034: all 30 road checkpoints between Russia and Kazakhstan operating on 23 Sep, four congested",
    "CR039: 12,928 persons crossed into West Kazakhstan region on 29 Sep alone (six road checkpoints)",
    "OBS093 (quote): >200k Russians entered Kazakhstan 21 Sep - 3 Oct and 147k left; on 3 Oct 7k entered, 11k left",
    "OBS095 (notes): entries of Russians into Kazakhstan up to 30,000/day after 21 Sep against 8-9,000 before",
)


def _capacities(args) -> list[tuple[str, float]]:
    if not args.capacity:
        return [LARS, *[(k, 30 / len(KAZ_ROAD)) for k in KAZ_ROAD]]
    out = []
    for item in args.capacity:
        link, sep, factor = item.partition("=")
        try:
            f = float(factor)
        except ValueError:
            f = -1.0
        if not sep or not link or not f >= 0:
            raise SystemExit(f"--capacity {item!r}: expected LINK_ID=FACTOR with a factor >= 0")
        out.append((link, f))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=8, help="posterior draws (one seed each)")
    ap.add_argument("--scale", type=float, default=50.0, help="persons per simulated traveller")
    ap.add_argument("--capacity", action="append", metavar="LINK_ID=FACTOR",
                    help="multiply an exit link's capacity (repeatable; default: the sourced what-if above)")
    ap.add_argument("--from", dest="start", default="2022-09-21", help="first day of the capacity change")
    ap.add_argument("--to", dest="end", default="2022-10-28", help="last day of the capacity change")
    ap.add_argument("--json", default=None, help="write the figures here (atomically)")
    ap.add_argument("--posterior", default=None, metavar="PATH",
                    help="posterior.parquet to draw from (default: the packaged one); parameters it lacks keep "
                         "their params.yaml values")
    args = ap.parse_args()

    import numpy as np

    from emigre.behaviour.exodus_kernels import N_DEPARTURES
    from emigre.calibrate.objective import Objective
    from emigre.calibrate.posterior import calibrated_matrix, load_posterior, pick_rows
    from emigre.calibrate.space import default_space
    from emigre.scenario.edit import scenario_with_timeline
    from emigre.scenario.load import resolve_dir

    t0 = time.perf_counter()
    start, end = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    changes = _capacities(args)
    space = default_space()
    post = load_posterior(args.posterior)
    if post is None:
        raise SystemExit("no packaged posterior")
    X = calibrated_matrix(post, space)[0][pick_rows(len(post), args.draws)]
    tmp = tempfile.TemporaryDirectory(prefix="emigre-surge-")
    rows = [("capacity", f"id={link}", f"{f:g}", start, end, "bench_surge capacity what-if") for link, f in changes]
    alt = scenario_with_timeline(resolve_dir("russia-2022"), rows, Path(tmp.name))
    objs = {
        "base": Objective.build(space, scale=args.scale, sim_seeds=(0,)),
        "what-if": Objective.build(space, scenario=str(alt), scale=args.scale, sim_seeds=(0,)),
    }
    ids = objs["base"].obs_ids
    first = dt.date(2022, 2, 24)
    days = [dt.date(2022, 9, 21) + dt.timedelta(days=i) for i in range(22)]
    di = [(d - first).days for d in days]
    gross_at = [(dt.date(2022, m, d) - first).days for m, d in ((10, 5), (10, 31), (12, 31))]
    out: dict[str, dict[str, list]] = {}
    for name, obj in objs.items():
        o = out.setdefault(name, {"ll": [], "pred": [], "dep": [], "queue": [], "kaz": [], "geo": [], "gross": []})
        for x in X:
            (r,) = obj.simulate(x)
            pred = obj.predict([r], x)
            o["ll"].append(obj.loglik_of(pred, obj.error_factor_of(x)))
            o["pred"].append(pred)
            assert r.dates[0] == np.datetime64(first)
            kaz, geo = r.countries.index("KAZ"), r.countries.index("GEO")
            o["dep"].append(r.nat[di, N_DEPARTURES] * r.scale)
            o["queue"].append(r.queue[di].sum(axis=1) * r.scale)
            o["kaz"].append(r.entries[di, kaz] * r.scale)
            o["geo"].append(r.entries[di, geo] * r.scale)
            cum = np.cumsum(r.nat[:, N_DEPARTURES]) * r.scale
            o["gross"].append(cum[gross_at].tolist())
    med = {n: {k: np.median(np.array(v), axis=0) for k, v in o.items()} for n, o in out.items()}

    print(f"bench_surge: {args.draws} posterior draws x 1 seed, scale {args.scale:g}; capacity x factor from "
          f"{start} to {end} on {len(changes)} exit link(s):")
    for link, f in changes:
        print(f"  {link} x {f:.2f}")
    print("\nmedian over draws (persons)      base                                  what-if")
    print(f"{'day':10} {'departed':>9} {'queued':>9} {'KAZ in':>8} {'GEO in':>8}   "
          f"{'departed':>9} {'queued':>9} {'KAZ in':>8} {'GEO in':>8}")
    for i, d in enumerate(days):
        b, w = med["base"], med["what-if"]
        print(f"{d.isoformat():10} {b['dep'][i]:9.0f} {b['queue'][i]:9.0f} {b['kaz'][i]:8.0f} {b['geo'][i]:8.0f}   "
              f"{w['dep'][i]:9.0f} {w['queue'][i]:9.0f} {w['kaz'][i]:8.0f} {w['geo'][i]:8.0f}")
    print()
    for j, label in enumerate(("gross departures by 5 Oct 2022", "gross departures by 31 Oct 2022",
                               "gross departures by 31 Dec 2022")):
        print(f"{label:36} base {med['base']['gross'][j]:>10,.0f}   what-if {med['what-if']['gross'][j]:>10,.0f}")
    k14 = ids.index("OBS014")
    print(f"{'OBS014 (500-700k net by 15 Feb 2023)':36} base {med['base']['pred'][k14]:>10,.0f}   "
          f"what-if {med['what-if']['pred'][k14]:>10,.0f}")
    lb = np.array(out["base"]["ll"])
    lw = np.array(out["what-if"]["ll"])
    print(f"{'total log-likelihood (median)':36} base {np.median(lb.sum(axis=1)):>10.1f}   "
          f"what-if {np.median(lw.sum(axis=1)):>10.1f}")
    d = (lw - lb).mean(axis=0)
    order = np.argsort(d)
    pb, pw = med["base"]["pred"], med["what-if"]["pred"]
    fmt = "  {:8} {:+6.2f}   prediction {:>12,.0f} -> {:>12,.0f}"
    print("\nfigures the what-if fits worse (mean change of log-likelihood over draws):")
    for k in order[:8]:
        print(fmt.format(ids[k], d[k], pb[k], pw[k]))
    print("figures it fits better:")
    for k in order[::-1][:8]:
        print(fmt.format(ids[k], d[k], pb[k], pw[k]))
    print("\nreference figures (sources, not in the likelihood):")
    for line in REFERENCES:
        print("  " + line)
    print(f"\ndone in {time.perf_counter() - t0:.1f} s")
    tmp.cleanup()
    if args.json:
        import json

        from emigre.fileio import atomic_write_text

        payload = {
            "draws": args.draws, "scale": args.scale, "from": args.start, "to": args.end,
            "capacity": dict(changes), "days": [day.isoformat() for day in days],
            **{name: {"departed": m["dep"].tolist(), "queued": m["queue"].tolist(), "kaz_entries": m["kaz"].tolist(),
                      "geo_entries": m["geo"].tolist(), "gross_5oct_31oct_31dec": m["gross"].tolist(),
                      "OBS014": float(m["pred"][k14]), "loglik_median": float(np.median(np.array(out[name]["ll"]).sum(axis=1)))}
               for name, m in med.items()},
            "loglik_change": {ids[k]: float(d[k]) for k in order},
        }
        atomic_write_text(Path(args.json), json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
