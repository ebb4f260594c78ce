"""The end of the main job: runs table, DuckDB store, report and the printed summary."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from emigre.errors import EmigreError
from emigre.fileio import atomic_write_text

SUMMARY_ROWS = (
    ("departed_2022", "left Russia by 31 Dec 2022"),
    ("departed", "left Russia by the end"),
    ("abroad_end", "abroad at the end"),
    ("returned_end", "returned to Russia by the end"),
    ("travellers", "simulated travellers (agents)"),
)


#: seed of the fixed random order in which the runs take the posterior's draws
DRAW_ORDER_SEED = 20220224


def draw_order(n: int) -> np.ndarray:
    """The fixed random order in which runs take a posterior's ``n`` draws: the sampler's rows come grouped by
    ancestor (systematic resampling), so the first rows are a narrow, unrepresentative corner of the posterior."""
    return np.random.default_rng(DRAW_ORDER_SEED).permutation(n)


def summary_bands(summaries: list[dict]) -> pd.DataFrame:
    """Median and 90% interval over the ensemble of each headline number."""
    rows = []
    for key, label in SUMMARY_ROWS:
        v = np.array([s[key] for s in summaries], dtype=float)
        rows.append({"quantity": key, "label": label, "median": float(np.median(v)),
                     "lo90": float(np.quantile(v, 0.05)), "hi90": float(np.quantile(v, 0.95))})
    return pd.DataFrame(rows)


def posterior_draws(which: str = "default") -> tuple[list[dict[str, float]] | None, str]:
    """The parameter sets of the ensemble: the model parameters of each posterior draw, and a description.

    ``which``: 'default' (the packaged posterior when there is one, else the defaults of params.yaml),
    'none' (the defaults) or the path of a posterior.parquet written by ``emigre calibrate``."""
    if which == "none":
        return None, "defaults of params.yaml (no posterior)"
    try:
        from emigre.calibrate import load_posterior, posterior_params
    except ImportError:  # calibration not installed in this build
        if which != "default":
            raise EmigreError("this build of emigre has no calibration module to read a posterior") from None
        return None, "defaults of params.yaml (no posterior)"
    if which == "default":
        df = load_posterior()
        label = "the packaged posterior"
    else:
        path = Path(which)
        if not path.exists():
            raise EmigreError(f"{path}: posterior file not found (write one with `emigre calibrate`)")
        df = load_posterior(path)
        label = str(path)
    if df is None or len(df) == 0:
        return None, "defaults of params.yaml (no posterior yet: run `emigre calibrate`)"
    draws = [posterior_params(df, int(i)) for i in draw_order(len(df))]  # run r takes draw_order[r]
    return draws, f"{len(draws)} posterior draws from {label} (in a fixed random order)"


def finish_main_job(scenario: str, out: Path, summaries: list[dict], *, params: dict, console: Console,
                    started: float, draws: list[dict[str, float]] | None = None,
                    parameter_source: str = "defaults") -> Path:
    from emigre.evidence import load_evidence
    from emigre.report import write_report
    from emigre.results import ResultStore
    from emigre.scenario import load_scenario

    out = Path(out)
    store = ResultStore(out)
    runs = pd.DataFrame({"run": [int(x["run"]) for x in summaries], "seed": [int(x["seed"]) for x in summaries],
                         "draw": [int(x["draw"]) for x in summaries]})
    if draws:
        for name in sorted(draws[0]):
            runs[name] = [draws[d % len(draws)].get(name, np.nan) for d in runs["draw"]]
    for name, value in params.items():
        runs[name] = value
    bands = summary_bands(summaries)
    atomic_write_text(out / "summary.json", json.dumps(
        {"scenario": scenario, "parameters": parameter_source, "runs": summaries,
         "bands": bands.to_dict(orient="records")}, indent=2) + "\n")
    with console.status("building the DuckDB store"):
        store.write_runs_table(runs)
        db = store.build_duckdb()
    with console.status("writing the report"):
        world = load_scenario(scenario, params=params)
        report = write_report(store, world, out / "report.html", evidence=load_evidence())
    table = Table(title=f"{world.name}: {len(summaries)} runs (median and 90% interval over runs: parameter draws x seeds)")
    table.add_column("quantity")
    table.add_column("median", justify="right")
    table.add_column("90% interval", justify="right")
    for r in bands.itertuples():
        table.add_row(r.label, f"{r.median:,.0f}", f"{r.lo90:,.0f} - {r.hi90:,.0f}")
    console.print(table)
    console.print(f"store: {db}\nshards: {store.runs_dir}\nreport: {report}")
    console.print(f"parameters: {parameter_source}")
    console.print(f"done in {time.perf_counter() - started:.1f} s")
    return report
