"""The main job (``emigre run``): an ensemble of simulations over the posterior's draws, stored run by run,
then the runs table, the DuckDB store, the report and the printed summary.

It sits above every other floor because it combines them: the posterior (``calibrate``), the ensemble
(``ensemble``), the store (``results``), the evidence and the report (``report``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from emigre.calibrate.posterior import draw_order, ensemble_draws, load_posterior, posterior_theta
from emigre.errors import EmigreError
from emigre.fileio import atomic_write_text

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


def posterior_ensemble(which: str = "default"
                       ) -> tuple[list[dict[str, float]] | None, list[dict[str, float]] | None, str]:
    """The parameter sets of the ensemble: the model parameters and the observation parameters of each posterior
    draw in :func:`~emigre.calibrate.posterior.draw_order` (both None without a posterior: the defaults), and a
    description.

    ``which``: 'default' (the packaged posterior when there is one, else the defaults of params.yaml),
    'none' (the defaults) or the path of a posterior.parquet written by ``emigre calibrate``."""
    if which == "none":
        return None, None, "defaults of params.yaml (no posterior)"
    if which == "default":
        df = load_posterior()
        if df is None:
            return None, None, "defaults of params.yaml (no posterior yet: run `emigre calibrate`)"
        label = "the packaged posterior"
    else:
        df = load_posterior(Path(which))
        label = str(which)
    draws = ensemble_draws(df)  # run r takes draw_order[r]
    thetas = [posterior_theta(df, int(i)) for i in draw_order(len(df))]  # the same draws' observation parameters
    return draws, thetas, f"{len(draws)} posterior draws from {label} (in a fixed random order)"


def posterior_draws(which: str = "default") -> tuple[list[dict[str, float]] | None, str]:
    """The model parameters of :func:`posterior_ensemble` and its description."""
    draws, _, source = posterior_ensemble(which)
    return draws, source


def observe_run(scenario: str, result, theta: dict[str, float] | None) -> pd.DataFrame:
    """What every sourced figure's observation operator gives on one run's result, with that run's observation
    parameters ``theta`` (None: their defaults), split into its parts (:data:`emigre.observe.PART_DOCS`): a
    frame id, part, value - the same numbers the calibration and ``emigre validate`` compute, on the run's own
    simulation. Figures without an operator, or outside the simulated period, have no rows; so has a figure
    whose value is undefined in this run (a share of nobody at a coarse scale): the stored run count says so."""
    from emigre.evidence import load_evidence
    from emigre.observe import ObservationContext
    from emigre.observe.operators import ResultStack, predict_parts, usable

    ctx = ObservationContext.from_scenario(scenario)  # cached per process
    stack = ResultStack([result], ctx)
    ids, names, values = [], [], []
    for obs in load_evidence().observations:
        if usable(obs, ctx, stack.end) is not None:
            continue
        parts = predict_parts(obs, [result], ctx, theta, stack=stack)
        got = {k: float(v[0]) for k, v in parts.items()}
        if not all(np.isfinite(v) for v in got.values()):
            continue
        for k, v in got.items():
            ids.append(obs.id)
            names.append(k)
            values.append(v)
    return pd.DataFrame({"id": ids, "part": names, "value": np.array(values, dtype=np.float64)})


def run_main_job(scenario: str = "russia-2022", out: str | Path = "out/russia-2022", *, runs: int = 20,
                 seed: int = 0, params: dict[str, float] | None = None, scale: float = 1.0,
                 workers: int | None = None, posterior: str = "default", console: Console | None = None,
                 err: Console | None = None, progress: Callable[[int, int, dict], None] | None = None,
                 cluster: str | None = None, resume: bool = False) -> Path:
    """Run the main job end to end and return the report's path: ``runs`` simulations (run i: seed ``seed + i``,
    posterior draw ``draw_order[i]`` with ``params`` over it) into ``out``, each with its predictions of the
    sourced figures (:func:`observe_run`, the draw's observation parameters), then store, report and summary.

    ``console`` gets the summary table (default: none printed), ``err`` the parameter source line,
    ``progress(done, total, summary)`` is called after each run."""
    from emigre.ensemble.run import run_into_store
    from emigre.fileio import check_output_dir

    params = dict(params or {})
    out = check_output_dir(out)  # before any work
    draws, thetas, source = posterior_ensemble(posterior)
    if err is not None:
        err.print(f"parameters: {source}")
    t0 = time.perf_counter()
    # written beside the previous store, which is replaced (manifest last) only when all is done
    return run_into_store(
        scenario, out, runs=runs, seed=seed, params=params, draws=draws, parameter_source=source, scale=scale,
        workers=workers, cluster=cluster, resume=resume, progress=progress, thetas=thetas, observe=observe_run,
        finish=lambda stage, summaries: finish_main_job(
            scenario, stage, summaries, params=params, console=console or Console(quiet=True), started=t0,
            draws=draws, parameter_source=source, where=out))


def finish_main_job(scenario: str, out: Path, summaries: list[dict], *, params: dict, console: Console,
                    started: float, draws: list[dict[str, float]] | None = None,
                    parameter_source: str = "defaults", where: Path | None = None) -> Path:
    """Write the runs table, summary.json, the DuckDB store and the report of a finished ensemble; print the
    summary table on ``console``; return the report's path."""
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
    sentences: dict[str, str] = {}
    with console.status("writing the report"):
        world = load_scenario(scenario, params=params)
        report = write_main_report(store, world, out / "report.html", where=where, sentences=sentences)
    table = Table(title=f"{world.name}: {len(summaries)} runs (median and 90% interval over runs: parameter draws x seeds)")
    table.add_column("quantity")
    table.add_column("median", justify="right")
    table.add_column("90% interval", justify="right")
    for r in bands.itertuples():
        table.add_row(r.label, f"{r.median:,.0f}", f"{r.lo90:,.0f} - {r.hi90:,.0f}")
    console.print(table)
    if sentences.get("against_national"):
        console.print(sentences["against_national"], highlight=False)
    shown = Path(where) if where is not None else out  # where the store will be (built in a staging directory)
    console.print(f"store: {shown / db.name}\nshards: {shown / 'runs'}\nreport: {shown / report.name}")
    console.print(f"parameters: {parameter_source}")
    console.print(f"done in {time.perf_counter() - started:.1f} s")
    return report


def write_main_report(store, world, path: Path, *, where: Path | None = None,
                      sentences: dict | None = None) -> Path:
    """The main job's report of ``store`` (a :class:`~emigre.results.ResultStore`) at ``path``: the scenario
    ``world`` and the packaged evidence. ``where``: the store's final directory when ``store`` is a staging
    directory (the report names the store where it will be, not where it was built); ``sentences``: filled with
    the headline sentences (:func:`emigre.report.write_report`)."""
    from emigre.evidence import load_evidence
    from emigre.report import write_report

    report = write_report(store, world, path, evidence=load_evidence(), sentences=sentences)
    if where is not None:
        atomic_write_text(report, report.read_text().replace(str(store.directory), str(where)))
    return report


def rewrite_report(store_dir: str | Path, out: str | Path | None = None) -> Path:
    """``emigre report``: (re)write the report of the complete store in ``store_dir`` (verified by its
    manifest) at ``out`` (default ``store_dir/report.html``) with the scenario and ``--param`` values its run
    recorded; the same page ``emigre run`` wrote, but for the build time. Returns the report's path."""
    from emigre.estimate.quantities import open_store
    from emigre.fileio import check_output_file
    from emigre.results.writer import StoreWriter
    from emigre.scenario import load_scenario

    store_dir = Path(store_dir)
    store = open_store(store_dir)  # missing, incomplete or mixed: refused with the store's own message
    path = check_output_file(out if out is not None else store_dir / "report.html")  # before the report's work
    arguments = (store.manifest() or {}).get("arguments") or {}  # a store made by run_ensemble alone has none
    scenario, params = arguments.get("scenario", "russia-2022"), arguments.get("params") or {}
    if not isinstance(scenario, str) or not isinstance(params, dict):
        raise EmigreError(f"{store.manifest_path}: 'arguments' should hold a scenario name and a params mapping, "
                          f"got {scenario!r} and {params!r}")
    world = load_scenario(scenario, params=params)
    if path.parent.resolve() != store_dir.resolve():
        return write_main_report(store, world, path)
    # into the store itself: as its writer, so that an `emigre run` at work there refuses it (or is refused)
    with StoreWriter(store_dir, option="STORE"):
        return write_main_report(store, world, path)


__all__ = ["draw_order", "finish_main_job", "observe_run", "posterior_draws", "posterior_ensemble",
           "rewrite_report", "run_main_job", "summary_bands", "write_main_report"]
