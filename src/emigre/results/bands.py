"""Quantile bands over the runs of an ensemble: one number per run, one series per run, one prediction per
figure and run."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from emigre.errors import EmigreError

#: Band columns and the quantile each holds.
QUANTILES: dict[str, float] = {"q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95}
BAND_COLUMNS = ("median", "q05", "q25", "q75", "q95")


def band_table(values: np.ndarray) -> dict[str, np.ndarray]:
    """Quantiles over axis 0 (runs) of ``values``; NaNs (no value in a run) are ignored."""
    v = np.asarray(values, dtype=np.float64)
    qs = np.array(list(QUANTILES.values()))
    if v.shape[0] == 0:
        out = np.full((len(qs), *v.shape[1:]), np.nan)
    elif np.isnan(v).any():
        with warnings.catch_warnings():  # an all-NaN column (no run has a value) gives NaN, quietly
            warnings.simplefilter("ignore", RuntimeWarning)
            out = np.nanquantile(v, qs, axis=0)
    else:
        out = np.quantile(v, qs, axis=0)
    return {name: out[i] for i, name in enumerate(QUANTILES)}


def summarize(values: Sequence[float] | np.ndarray | pd.Series) -> dict[str, float]:
    """Median and 5/25/75/95 % quantiles of one number per run."""
    b = band_table(np.asarray(values, dtype=np.float64).reshape(-1, 1))
    return {k: float(b[k][0]) for k in BAND_COLUMNS}


def prediction_bands(frame: pd.DataFrame) -> dict[str, dict]:
    """Per figure id, over the runs of ``frame`` (run, id, part, value as :meth:`ResultStore.predictions`
    gives it): ``runs``, the prediction's ``median``/``q05``/``q25``/``q75``/``q95`` and ``parts``, a list
    (the wave first, then the larger parts) of ``{part, median, q05, q95, share, of_median}``.

    ``median``/``q05``/``q95`` of a part are its own quantiles over the runs (they do not add up);
    ``share`` is its mean over the runs divided by the mean prediction, and ``of_median`` = share x median,
    the split of the median that adds up to it (None/its own median when the mean prediction is 0).
    A part a run lacks counts 0 in that run."""
    out: dict[str, dict] = {}
    if frame is None or frame.empty:
        return out
    wide = frame.pivot_table(index=["id", "run"], columns="part", values="value", aggfunc="sum", fill_value=0.0)
    has = frame.groupby("id")["part"].unique()  # the parts each figure has (the pivot has every part)
    for oid, block in wide.groupby(level="id", sort=True):
        names = [c for c in block.columns if c in set(has[oid])]
        vals = block[names].to_numpy(dtype=np.float64)
        total = vals.sum(axis=1)
        b = summarize(total)
        mean_total = float(total.mean())
        parts = []
        for j, name in enumerate(names):
            v = vals[:, j]
            share = float(v.mean()) / mean_total if mean_total != 0 else None
            q = np.quantile(v, [0.05, 0.5, 0.95])
            parts.append({"part": str(name), "median": float(q[1]), "q05": float(q[0]), "q95": float(q[2]),
                          "share": share, "of_median": share * b["median"] if share is not None else float(q[1])})
        parts.sort(key=lambda x: (x["part"] != "wave", -abs(x["share"] if x["share"] is not None else x["median"]),
                                  x["part"]))
        out[str(oid)] = {"runs": int(len(total)), **b, "parts": parts}
    return out


@dataclass(frozen=True)
class RunSeries:
    """One quantity over days for every run: ``values[i, d]`` is run ``runs[i]`` on ``dates[d]``."""

    dates: np.ndarray  # datetime64[D], ascending
    runs: np.ndarray  # int
    values: np.ndarray  # float64, shape (runs, days)

    def _mask(self, start, end) -> np.ndarray:
        m = np.ones(len(self.dates), dtype=bool)
        if start is not None:
            m &= self.dates >= np.datetime64(_to_date(start), "D")
        if end is not None:
            m &= self.dates <= np.datetime64(_to_date(end), "D")
        return m

    def at(self, when=None) -> np.ndarray:
        """Per-run value on ``when`` (default: the last date); the last date on or before it if absent."""
        if when is None:
            return self.values[:, -1].copy()
        d = np.datetime64(_to_date(when), "D")
        i = int(np.searchsorted(self.dates, d, side="right")) - 1
        if i < 0:
            raise EmigreError(f"date {when} is before the first simulated day {self.dates[0]}")
        return self.values[:, i].copy()

    def total(self, start=None, end=None) -> np.ndarray:
        """Per-run sum over dates in [start, end] (both inclusive; None = open)."""
        return np.nansum(self.values[:, self._mask(start, end)], axis=1)

    def slice(self, start=None, end=None) -> RunSeries:
        """The series between ``start`` and ``end``."""
        m = self._mask(start, end)
        return RunSeries(self.dates[m], self.runs, self.values[:, m])

    def weekly(self, how: str = "sum") -> RunSeries:
        """Aggregate to weeks starting on Monday (``how`` = ``sum`` for flows, ``last`` for stocks);
        the week is labelled by its Monday."""
        days = self.dates.astype("datetime64[D]").astype(np.int64)
        # 1970-01-01 was a Thursday: shift by 3 so weeks start on Monday
        week = (days + 3) // 7
        keys, inverse = np.unique(week, return_inverse=True)
        if how == "sum":
            out = np.zeros((self.values.shape[0], len(keys)))
            np.add.at(out.T, inverse, np.nan_to_num(self.values.T))
        elif how == "last":
            last = np.searchsorted(week, keys, side="right") - 1
            out = self.values[:, last]
        else:
            raise ValueError(f"how must be 'sum' or 'last', got {how!r}")
        mondays = (keys * 7 - 3).astype("datetime64[D]")
        return RunSeries(mondays, self.runs, out)

    def bin(self, days: int, how: str = "mean") -> RunSeries:
        """Aggregate consecutive ``days``-day bins from the first date (``how``: sum, mean, max, last);
        a bin is labelled by its first day. Charts use it to keep to the resolution a page can show."""
        if days <= 1:
            return self
        n = len(self.dates)
        starts = np.arange(0, n, days)
        if how == "last":
            return RunSeries(self.dates[starts], self.runs, self.values[:, np.minimum(starts + days, n) - 1])
        ufunc = {"sum": np.add, "mean": np.add, "max": np.fmax}.get(how)
        if ufunc is None:
            raise ValueError(f"how must be sum, mean, max or last, got {how!r}")
        out = ufunc.reduceat(self.values, starts, axis=1)
        if how == "mean":
            out = out / np.diff(np.append(starts, n))
        return RunSeries(self.dates[starts], self.runs, out)

    def every(self, days: int) -> RunSeries:
        """The values on every ``days``-th date, counted back from the last one (which is always kept):
        a lighter series of a stock, each value on the date it was read."""
        idx = np.arange(len(self.dates) - 1, -1, -max(1, days))[::-1]
        return RunSeries(self.dates[idx], self.runs, self.values[:, idx])

    def bands(self) -> pd.DataFrame:
        """date, median, q05, q25, q75, q95 over runs."""
        b = band_table(self.values)
        return pd.DataFrame({"date": pd.to_datetime(self.dates), **{k: b[k] for k in BAND_COLUMNS}})

    def __add__(self, other: RunSeries) -> RunSeries:
        return RunSeries(self.dates, self.runs, self.values + other.values)

    def __sub__(self, other: RunSeries) -> RunSeries:
        return RunSeries(self.dates, self.runs, self.values - other.values)

def _to_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise EmigreError(f"invalid date {value!r}: expected YYYY-MM-DD") from None
