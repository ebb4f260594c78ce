"""The end of the main job: runs table, DuckDB store, report and the printed summary."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

SUMMARY_ROWS = (
    ("departed_2022", "left Russia by 31 Dec 2022"),
    ("departed", "left Russia by the end"),
    ("abroad_end", "abroad at the end"),
    ("returned_end", "returned to Russia by the end"),
    ("travellers", "simulated travellers (agents)"),
)


def summary_bands(summaries: list[dict]) -> pd.DataFrame:
    """Median and 90% interval over the ensemble of each headline number."""
    rows = []
    for key, label in SUMMARY_ROWS:
        v = np.array([s[key] for s in summaries], dtype=float)
        rows.append({"quantity": key, "label": label, "median": float(np.median(v)),
                     "lo90": float(np.quantile(v, 0.05)), "hi90": float(np.quantile(v, 0.95))})
    return pd.DataFrame(rows)


def finish_main_job(scenario: str, out: Path, summaries: list[dict], *, params: dict, console: Console,
                    started: float) -> Path:
    from emigre.evidence import load_evidence
    from emigre.report import write_report
    from emigre.results import ResultStore
    from emigre.scenario import load_scenario

    out = Path(out)
    store = ResultStore(out)
    runs = pd.DataFrame(summaries)
    runs["seed"] = runs["seed"].astype(int)
    for name, value in params.items():
        runs[f"param.{name}"] = value
    with console.status("building the DuckDB store"):
        store.write_runs_table(runs)
        db = store.build_duckdb()
    with console.status("writing the report"):
        world = load_scenario(scenario, params=params)
        report = write_report(store, world, out / "report.html", evidence=load_evidence())
    bands = summary_bands(summaries)
    table = Table(title=f"{world.name}: {len(summaries)} runs (median and 90% interval over seeds)")
    table.add_column("quantity")
    table.add_column("median", justify="right")
    table.add_column("90% interval", justify="right")
    for r in bands.itertuples():
        table.add_row(r.label, f"{r.median:,.0f}", f"{r.lo90:,.0f} - {r.hi90:,.0f}")
    console.print(table)
    console.print(f"store: {db}\nshards: {store.runs_dir}\nreport: {report}")
    console.print(f"done in {time.perf_counter() - started:.1f} s")
    return report
