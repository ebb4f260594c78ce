"""Where the main job puts the emigrants abroad, against what the evidence can support (issue 11: "no
destination without a sourced figure holds more than 5% of the emigrants abroad on any date").

Reads a finished main-job store (``emigre run russia-2022 --out DIR``). Per run and day: the share of the
emigrants abroad present in each destination (``present`` at the country / ``abroad`` nationally); the median
share over runs per day; its maximum over the days from ``--from`` (default 2022-03-01: in the first days a
handful of travellers make any share) to the end. A destination is *sourced* when at least one row of the
evidence (``emigre evidence``) names it as its destination, whatever it counted. Prints every destination that
reaches 1% on some date, sourced or not, and the verdict for the unsourced ones. Gates nothing.

    python benchmarks/bench_destinations.py --store out/russia-2022 [--from 2022-03-01] [--limit 0.05] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="out/russia-2022", help="a finished main-job store")
    ap.add_argument("--from", dest="start", default="2022-03-01", help="first date judged (ISO)")
    ap.add_argument("--limit", type=float, default=0.05, help="largest share allowed to an unsourced destination")
    ap.add_argument("--json", default=None, help="write the figures here (atomically)")
    a = ap.parse_args()
    from emigre.evidence import load_evidence
    from emigre.fileio import atomic_write_text
    from emigre.results.store import ResultStore

    store = ResultStore(Path(a.store))
    store.verify()
    sourced = {o.destination for o in load_evidence().observations if o.destination}
    abroad = store.series("abroad")
    present = store.series_many("present")
    start = np.datetime64(dt.date.fromisoformat(a.start))
    keep = abroad.dates >= start
    denom = np.where(abroad.values > 0, abroad.values, np.nan)[:, keep]
    rows = []
    for (place, _group), s in sorted(present.items()):
        if place in ("ALL", "RUS") or len(place) != 3:
            continue
        share = np.nanmedian(s.values[:, keep] / denom, axis=0)
        if not np.isfinite(share).any():
            continue
        i = int(np.nanargmax(share))
        rows.append({"destination": place, "sourced": place in sourced, "max_share": float(share[i]),
                     "on": str(abroad.dates[keep][i])[:10], "end_share": float(share[-1])})
    rows.sort(key=lambda r: -r["max_share"])
    print(f"store {a.store}: {len(abroad.runs)} runs, dates {a.start}..{str(abroad.dates[-1])[:10]}; "
          f"median over runs of each destination's share of the emigrants abroad")
    print(f"{'dest':5s} {'sourced':8s} {'max share':>10s} {'on':>11s} {'at end':>8s}")
    for r in rows:
        if r["max_share"] >= 0.01:
            print(f"{r['destination']:5s} {'yes' if r['sourced'] else 'NO':8s} {r['max_share']:10.1%} "
                  f"{r['on']:>11s} {r['end_share']:8.1%}")
    over = [r for r in rows if not r["sourced"] and r["max_share"] > a.limit]
    worst = max((r for r in rows if not r["sourced"]), key=lambda r: r["max_share"], default=None)
    if worst is not None:
        print(f"largest unsourced destination: {worst['destination']} {worst['max_share']:.1%} on {worst['on']} "
              f"(limit {a.limit:.0%}): {'FAIL' if over else 'PASS'}")
    else:
        print("every destination holding emigrants has a sourced figure: PASS")
    if a.json:
        atomic_write_text(Path(a.json), json.dumps({"limit": a.limit, "from": a.start, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
