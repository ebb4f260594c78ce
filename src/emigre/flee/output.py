"""Flee's ``out.csv`` (same column layout, correct dates) and the ARD validation metric."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from emigre.fileio import atomic_write_text

if TYPE_CHECKING:  # the writer reads a result's fields; the format floor does not import the ruleset
    from emigre.behaviour.flee import FleeResult


def ard(camp_sim: np.ndarray, camp_data: np.ndarray) -> float:
    """Averaged relative difference, rescaled (Flee's "Error (rescaled)").

    Per day t, with U = sum of the camps' UNHCR values and S = sum of the simulated camp populations:
    E(t) = sum_c |sim_c * U/S - data_c| / max(U, 1), a camp's rescaled value being 0 when S = 0;
    ARD = mean of E(t) over all days. Arrays are [days, camps].
    """
    sim = np.asarray(camp_sim, dtype=np.float64)
    data = np.asarray(camp_data, dtype=np.float64)
    if sim.shape != data.shape:
        raise ValueError(f"shape mismatch: simulation {sim.shape} vs data {data.shape}")
    if sim.shape[0] == 0:
        return float("nan")
    U = data.sum(axis=1)
    S = sim.sum(axis=1)
    factor = np.divide(U, S, out=np.zeros_like(U), where=S > 0)
    err = np.abs(sim * factor[:, None] - data).sum(axis=1) / np.maximum(U, 1.0)
    return float(err.mean())


def _fmt(x: float) -> str:
    return repr(float(x)) if not float(x).is_integer() else str(int(x))


def out_csv_text(result: FleeResult) -> str:
    """The text of out.csv: one row per day, Flee's columns, the date of that day (Flee's is a day late)."""
    sim = result.camp_sim
    data = result.camp_data
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    header = ["Day", "Date"]
    for c in result.camp_names:
        header += [f"{c} sim", f"{c} data", f"{c} error"]
    header += ["Total error", "refugees in camps (UNHCR)", "total refugees (simulation)",
               "raw UNHCR refugee count", "refugees in camps (simulation)", "refugee_debt"]
    w.writerow(header)
    start = result.scenario.start_date
    for t in range(result.n_days):
        row = [str(t), (start + dt.timedelta(days=t)).isoformat()]
        abs_err = 0.0
        for j in range(len(result.camp_names)):
            s_v, d_v = int(sim[t, j]), int(data[t, j])
            rel = abs(s_v - d_v) / d_v if d_v > 0 else 0.0
            abs_err += abs(s_v - d_v)
            row += [str(s_v), str(d_v), _fmt(rel)]
        raw = int(result.raw_total[t])
        if raw > 0:
            row += [_fmt(abs_err / raw), str(int(data[t].sum())), str(int(result.agents[t])), str(raw),
                    str(int(sim[t].sum())), str(int(result.debt[t]))]
        else:
            row += ["0", "0", "0", "0", "0", "0"]
        w.writerow(row)
    return buf.getvalue()


def write_out_csv(result: FleeResult, path: str | Path) -> None:
    """Write Flee's out.csv for ``result`` atomically."""
    atomic_write_text(path, out_csv_text(result))
