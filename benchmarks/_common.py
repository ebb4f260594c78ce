"""Helpers shared by the benchmarks (and reusable by the test suite): locating the Flee validation suite,
reading Flee's reference results, the two checks of the "same answers as Flee" criterion, and the one-line
summary of predictive-check rows.

Importing this module has no side effects (no I/O, no emigre import, no Numba compilation).

The criterion (issue 2, "Done means"):
- ARD: the mean ARD over seeds must lie within ``max(0.03, 10% of Flee's mean ARD)`` of Flee's mean ARD.
- Camps: for each camp holding at least 2% of the scenario's peak, the mean absolute difference between our
  mean daily series and Flee's mean series must be at most 10% of that camp's peak.
  * a camp's peak = the maximum over days of Flee's mean series for that camp (``flee_mean``);
  * the scenario's peak = the maximum over days *and camps* of Flee's mean camp population, i.e. the
    largest camp's peak. (Chosen over "max over days of the sum over camps" because the criterion speaks
    of a camp holding a share of the peak; with the sum, more camps would drop out of the check in
    scenarios with many camps. The choice only decides which camps are checked, never how.)
"""

from __future__ import annotations

import csv
import math
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent

#: A camp is checked when its peak is at least this share of the scenario's peak.
CAMP_SHARE_MIN = 0.02
#: Allowed mean absolute difference of a checked camp, as a share of its peak.
CAMP_MAD_MAX = 0.10
#: ARD tolerance: max(ARD_TOL_ABS, ARD_TOL_REL x Flee's mean ARD).
ARD_TOL_ABS = 0.03
ARD_TOL_REL = 0.10

SCENARIOS = ("mali2012", "burundi2015", "car2013", "ssudan2013", "syria2013", "ukraine2022")


def suite_dir() -> Path:
    """The Flee validation suite (``flee/`` with ``scenarios/``, ``reference/``, ``simsetting.yml``):
    ``$EMIGRE_FLEE_SUITE`` if set, else ``shared/flee`` inside the repository or next to it."""
    env = os.environ.get("EMIGRE_FLEE_SUITE")
    if env:
        return Path(env)
    for cand in (REPO_ROOT / "shared" / "flee", REPO_ROOT.parent / "shared" / "flee"):
        if (cand / "scenarios").is_dir():
            return cand
    return REPO_ROOT.parent / "shared" / "flee"


@dataclass
class ReferenceSummary:
    scenario: str
    hasten: int
    runs: int
    ard_mean: float
    ard_sd: float
    ard_min: float
    ard_max: float
    agent_steps_per_s: float
    days: int


def read_summary(path: str | Path | None = None) -> dict[str, ReferenceSummary]:
    """``reference/summary.csv`` keyed by scenario."""
    p = Path(path) if path is not None else suite_dir() / "reference" / "summary.csv"
    out: dict[str, ReferenceSummary] = {}
    with open(p, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["scenario"]] = ReferenceSummary(
                scenario=row["scenario"],
                hasten=int(row["hasten"]),
                runs=int(row["runs"]),
                ard_mean=float(row["ard_mean"]),
                ard_sd=float(row["ard_sd"]),
                ard_min=float(row["ard_min"]),
                ard_max=float(row["ard_max"]),
                agent_steps_per_s=float(row["agent_steps_per_s"]),
                days=int(row["days"]),
            )
    return out


@dataclass
class ReferenceCamps:
    """Flee's per-camp daily results: arrays are [days, camps], camps in file order."""

    camp_names: list[str]
    flee_mean: np.ndarray
    flee_min: np.ndarray
    flee_max: np.ndarray
    unhcr: np.ndarray

    @property
    def camp_peaks(self) -> np.ndarray:
        return self.flee_mean.max(axis=0) if self.flee_mean.size else np.zeros(len(self.camp_names))

    @property
    def scenario_peak(self) -> float:
        return float(self.flee_mean.max()) if self.flee_mean.size else 0.0


def read_reference_camps(scenario: str, path: str | Path | None = None) -> ReferenceCamps:
    """``reference/camps/<scenario>.csv`` (long format: day,camp,flee_mean,flee_min,flee_max,unhcr)."""
    p = Path(path) if path is not None else suite_dir() / "reference" / "camps" / f"{scenario}.csv"
    names: list[str] = []
    col: dict[str, int] = {}
    rows: list[tuple[int, int, float, float, float, float]] = []
    with open(p, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            c = row["camp"]
            if c not in col:
                col[c] = len(names)
                names.append(c)
            rows.append((int(row["day"]), col[c], float(row["flee_mean"]), float(row["flee_min"]),
                         float(row["flee_max"]), float(row["unhcr"])))
    n_days = max(r[0] for r in rows) + 1 if rows else 0
    arrs = [np.full((n_days, len(names)), np.nan) for _ in range(4)]
    for day, j, *vals in rows:
        for a, v in zip(arrs, vals, strict=True):
            a[day, j] = v
    return ReferenceCamps(names, *arrs)


def ard_tolerance(flee_ard: float) -> float:
    return max(ARD_TOL_ABS, ARD_TOL_REL * flee_ard)


def ard_check(our_ards: list[float], flee_ard: float) -> dict:
    """Mean/sd of our ARDs over seeds against Flee's mean ARD."""
    mean = statistics.fmean(our_ards) if our_ards else math.nan
    sd = statistics.stdev(our_ards) if len(our_ards) > 1 else 0.0
    tol = ard_tolerance(flee_ard)
    diff = mean - flee_ard
    return {"ard_mean": mean, "ard_sd": sd, "flee_ard": flee_ard, "diff": diff, "tolerance": tol,
            "pass": bool(abs(diff) <= tol)}


@dataclass
class CampCheck:
    camp: str
    peak: float  # max over days of Flee's mean series
    share: float  # peak / scenario peak
    checked: bool  # share >= CAMP_SHARE_MIN
    mad: float  # mean absolute difference, people (agents at this hasten)
    mad_frac: float  # mad / peak
    passed: bool | None  # None when not checked
    extra: dict = field(default_factory=dict)


def mean_abs_diff_fraction(ours: np.ndarray, flee: np.ndarray) -> tuple[float, float, float]:
    """(mad, peak, mad/peak) of one camp's daily series against Flee's mean series (peak = max of Flee's)."""
    ours = np.asarray(ours, dtype=np.float64)
    flee = np.asarray(flee, dtype=np.float64)
    n = min(len(ours), len(flee))
    mad = float(np.mean(np.abs(ours[:n] - flee[:n]))) if n else math.nan
    peak = float(np.max(flee[:n])) if n else 0.0
    frac = mad / peak if peak > 0 else (0.0 if mad == 0 else math.inf)
    return mad, peak, frac


def camp_checks(our_mean: np.ndarray, our_names: list[str], ref: ReferenceCamps) -> list[CampCheck]:
    """Per reference camp: our mean daily series (columns named by ``our_names``) against Flee's mean."""
    idx = {n: i for i, n in enumerate(our_names)}
    peak_all = ref.scenario_peak
    out: list[CampCheck] = []
    for j, name in enumerate(ref.camp_names):
        flee = ref.flee_mean[:, j]
        cpeak = float(np.nanmax(flee)) if flee.size else 0.0
        share = cpeak / peak_all if peak_all > 0 else 0.0
        checked = share >= CAMP_SHARE_MIN
        if name not in idx:
            out.append(CampCheck(name, cpeak, share, checked, math.nan, math.inf,
                                 False if checked else None, {"missing": True}))
            continue
        mad, _, frac = mean_abs_diff_fraction(our_mean[:, idx[name]], flee)
        out.append(CampCheck(name, cpeak, share, checked, mad, frac,
                             bool(frac <= CAMP_MAD_MAX) if checked else None))
    return out


def rate(steps: float, seconds: float) -> float:
    return steps / seconds if seconds > 0 else math.inf


def fmt_int(x: float) -> str:
    return f"{x:,.0f}" if math.isfinite(x) else str(x)


def prediction_stats(rows) -> str:
    """One line on predictive-check rows (``emigre validate`` / leave-one-source-out: ``inside``, ``log_error``,
    ``lo90``, ``hi90``, ``unit``): their count, the share inside the 90% interval, the median |log error| and the
    median width hi90/lo90 (over the rows in persons with a positive lower end: a ratio of percentages is no
    width)."""
    if not rows:
        return "none"
    inside = np.mean([bool(r["inside"]) for r in rows])
    err = np.median([abs(r["log_error"]) for r in rows])
    widths = [r["hi90"] / r["lo90"] for r in rows if r["lo90"] > 0 and r["unit"] != "percent"]
    width = f"{np.median(widths):.1f}" if widths else "-"
    return f"{len(rows)} rows, coverage90 {inside:.2f}, median |log error| {err:.2f}, median hi90/lo90 {width}"

