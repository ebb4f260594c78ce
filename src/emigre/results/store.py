"""Ensemble results on disk: one Parquet shard per run, a runs table, a DuckDB file, quantile bands.

Layout of a store directory::

    DIR/runs/run-0000.parquet   one run, long format: run, date, place, measure, group, value
    DIR/runs/pred-0000.parquet  optional: what each sourced figure's observation operator gives on that run,
                                split into its parts (run, id, part, value; the parts of an id add up to its
                                prediction). Stores written before these files existed have none.
    DIR/runs.parquet            one row per run: run, seed, draw and the parameter values
    DIR/results.duckdb          tables ``daily`` (all shards) and ``runs`` (built by :meth:`build_duckdb`)
    DIR/manifest.json           written last by the job that made the store: arguments, seeds, the runs
                                expected and the size of each shard and prediction file
                                (:meth:`ResultStore.verify` checks it)

Every file is written to a temporary name beside its target and moved into place with ``os.replace``, so a
reader never sees half a shard, and a failed write leaves nothing behind.

Shards are read from an explicit list of files through a pyarrow dataset, never through a DuckDB
``read_parquet`` path: DuckDB expands ``*``, ``?`` and ``[`` in a path, so a store directory named ``a*`` would
read its siblings' shards.

Reads go through an in-memory DuckDB connection whose view ``daily`` reads the shards present when it is
opened (so bands can be taken while an ensemble is still being written; :meth:`ResultStore.close` or a
write picks up new shards), and the same code serves an in-memory DataFrame
(:meth:`ResultStore.from_frame`). Quantiles are NumPy's default ("linear", the same as DuckDB's
``quantile_cont`` and pandas' ``quantile``) over runs, computed per date: deterministic for given data.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from emigre.errors import EmigreError
from emigre.fileio import atomic_writer

#: Columns of one run in long format, as the simulator produces them.
COLUMNS = ("date", "place", "measure", "group", "value")
#: Band columns and the quantile each holds.
QUANTILES: dict[str, float] = {"q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95}
BAND_COLUMNS = ("median", "q05", "q25", "q75", "q95")

_SHARD = re.compile(r"^run-(\d{4,})\.parquet$")
_PRED = re.compile(r"^pred-(\d{4,})\.parquet$")
#: columns of one run's predictions (plus ``run``): figure id, part name, value (persons, or percent)
PRED_COLUMNS = ("id", "part", "value")
#: the store's manifest (written last: a store without one is incomplete)
MANIFEST = "manifest.json"
_GLOB = re.compile(r"[*?\[\]{}]")
_ROW_GROUP = 131_072  # small enough for DuckDB to skip row groups by (measure, place) statistics

_ARROW_SCHEMA = pa.schema(
    [
        ("run", pa.int32()),
        ("date", pa.date32()),
        ("place", pa.string()),
        ("measure", pa.string()),
        ("group", pa.string()),
        ("value", pa.float64()),
    ]
)


_PRED_SCHEMA = pa.schema([("run", pa.int32()), ("id", pa.string()), ("part", pa.string()), ("value", pa.float64())])


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


def normalize_frame(frame: pd.DataFrame, *, run: int | None = None, what: str = "results frame") -> pa.Table:
    """Check one run (or a whole ensemble when ``run`` is None and the frame has a ``run`` column) against
    the output schema and return it as an Arrow table sorted by measure, place, group, run, date."""
    if not isinstance(frame, pd.DataFrame):
        raise EmigreError(f"{what}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise EmigreError(
            f"{what}: missing column(s) {', '.join(missing)}; expected columns {', '.join(COLUMNS)}"
            + ("" if run is not None else " and run")
        )
    if frame.empty:
        raise EmigreError(f"{what}: no rows")
    n = len(frame)
    if run is not None:
        runs = np.full(n, run, dtype=np.int32)
        if "run" in frame.columns:
            given = pd.to_numeric(frame["run"], errors="coerce").to_numpy()
            if not np.all(given == run):
                raise EmigreError(f"{what}: column run holds values other than {run}")
    else:
        if "run" not in frame.columns:
            raise EmigreError(f"{what}: an ensemble needs an integer column run")
        r = pd.to_numeric(frame["run"], errors="coerce")
        if r.isna().any() or not np.all(r.to_numpy() == np.round(r.to_numpy())) or (r < 0).any():
            raise EmigreError(f"{what}: column run must hold non-negative integers")
        runs = r.to_numpy().astype(np.int32)
    try:
        dates = pd.to_datetime(frame["date"]).to_numpy().astype("datetime64[D]")
    except (ValueError, TypeError) as exc:
        raise EmigreError(f"{what}: column date is not a date ({exc})") from None
    if np.isnat(dates).any():
        raise EmigreError(f"{what}: column date has empty values")
    texts = {}
    for col in ("place", "measure", "group"):
        s = frame[col]
        if isinstance(s.dtype, pd.CategoricalDtype):  # fillna("") would need "" among the categories
            s = s.astype(object)
        if col == "group":
            s = s.fillna("")
        elif s.isna().any():
            raise EmigreError(f"{what}: column {col} has empty values")
        s = s.astype(str)
        if col != "group" and (s == "").any():
            raise EmigreError(f"{what}: column {col} has empty strings")
        texts[col] = s
    try:
        value = pd.to_numeric(frame["value"], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise EmigreError(f"{what}: column value is not numeric ({exc})") from None
    if np.isinf(value).any():
        raise EmigreError(f"{what}: column value has infinite numbers")
    # sort by codes (cheap) and reject duplicate keys: a key must have one value per run and day
    codes = {c: pd.factorize(texts[c], sort=True)[0] for c in texts}
    order = np.lexsort((dates.astype(np.int64), runs, codes["group"], codes["place"], codes["measure"]))
    keys = np.stack(
        [
            codes["measure"][order],
            codes["place"][order],
            codes["group"][order],
            runs[order],
            dates.astype(np.int64)[order],
        ]
    )
    dup = np.flatnonzero(np.all(keys[:, 1:] == keys[:, :-1], axis=0))
    if dup.size:
        i = order[dup[0]]
        raise EmigreError(
            f"{what}: duplicate rows for run {runs[i]}, date {dates[i]}, place {texts['place'].iloc[i]!r}, "
            f"measure {texts['measure'].iloc[i]!r}, group {texts['group'].iloc[i]!r}"
        )
    return pa.table(
        {
            "run": pa.array(runs[order], pa.int32()),
            "date": pa.array(dates[order], pa.date32()),
            "place": pa.array(texts["place"].to_numpy()[order], pa.string()),
            "measure": pa.array(texts["measure"].to_numpy()[order], pa.string()),
            "group": pa.array(texts["group"].to_numpy()[order], pa.string()),
            "value": pa.array(value[order], pa.float64()),
        },
        schema=_ARROW_SCHEMA,
    )


def _lookup(axis: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position of each of ``values`` in the sorted integer array ``axis`` (every value is in it)."""
    axis = np.asarray(axis, dtype=np.int64)
    lo = int(axis[0])
    table = np.full(int(axis[-1]) - lo + 1, -1, dtype=np.int64)
    table[axis - lo] = np.arange(len(axis))
    return table[np.asarray(values, dtype=np.int64) - lo]


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _shard_dataset(paths: Sequence[Path]):
    """A pyarrow dataset over exactly these files (no glob expansion, unlike DuckDB's read_parquet)."""
    import pyarrow.dataset as ds

    return ds.dataset([str(p) for p in paths], format="parquet", schema=_ARROW_SCHEMA)


class ResultStore:
    """The outputs of an ensemble: write one run at a time, then ask for bands over runs.

    >>> store = ResultStore("out/russia-2022")
    >>> store.write_run(0, frame)              # frame: date, place, measure, group, value
    >>> store.write_runs_table(runs)           # run, seed, draw, parameters...
    >>> store.bands("departures")              # date, median, q05, q25, q75, q95
    >>> store.build_duckdb()                   # out/russia-2022/results.duckdb

    A (run, date) without a row for a quantity counts as ``fill`` (0 by default: a simulator may leave
    out all-zero rows); ask with ``fill=float('nan')`` for means such as ``wait_days``.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._frame: pa.Table | None = None
        self._runs_frame: pd.DataFrame | None = None
        self._con = None
        self._grid: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, runs: pd.DataFrame | None = None) -> ResultStore:
        """A read-only store over an in-memory ensemble frame (with an integer ``run`` column)."""
        store = cls(Path("<memory>"))
        store._frame = normalize_frame(frame, what="ensemble frame")
        store._runs_frame = runs
        return store

    @property
    def in_memory(self) -> bool:
        """True for a store made by :meth:`from_frame` (read-only, nothing on disk)."""
        return self._frame is not None

    def __repr__(self) -> str:
        where = "memory" if self._frame is not None else str(self.directory)
        return f"ResultStore({where}: {len(self.run_ids())} runs)"

    # ------------------------------------------------------------------ paths
    @property
    def runs_dir(self) -> Path:
        """Directory of the per-run shards."""
        return self.directory / "runs"

    @property
    def runs_table_path(self) -> Path:
        """Path of the runs table."""
        return self.directory / "runs.parquet"

    @property
    def duckdb_path(self) -> Path:
        """Path of the DuckDB database."""
        return self.directory / "results.duckdb"

    def shard_path(self, run: int) -> Path:
        """Path of run ``run``'s shard."""
        return self.runs_dir / f"run-{int(run):04d}.parquet"

    def shard_paths(self) -> list[Path]:
        """Paths of the run shards present, in run order."""
        if self._frame is not None or not self.runs_dir.is_dir():
            return []
        return sorted(p for p in self.runs_dir.iterdir() if _SHARD.match(p.name))

    def prediction_path(self, run: int) -> Path:
        """Path of run ``run``'s predictions of the sourced figures (it may not exist)."""
        return self.runs_dir / f"pred-{int(run):04d}.parquet"

    def prediction_paths(self) -> list[Path]:
        """Paths of the prediction files present, in run order."""
        if self._frame is not None or not self.runs_dir.is_dir():
            return []
        return sorted(p for p in self.runs_dir.iterdir() if _PRED.match(p.name))

    # ------------------------------------------------------------------ writing
    def _writable(self) -> None:
        if self._frame is not None:
            raise EmigreError("this store is an in-memory frame; give a directory to write")

    def write_run(self, run: int, frame: pd.DataFrame) -> Path:
        """Check ``frame`` against the output schema and write it as ``runs/run-NNNN.parquet`` atomically
        (an existing shard of the same run is replaced)."""
        self._writable()
        if isinstance(run, bool) or not isinstance(run, int | np.integer) or run < 0:
            raise EmigreError(f"run must be a non-negative integer, got {run!r}")
        table = normalize_frame(frame, run=int(run), what=f"run {run}")
        path = self.shard_path(run)
        with atomic_writer(path, "wb") as fh:
            pq.write_table(table, fh, compression="zstd", row_group_size=_ROW_GROUP)
        self._reset()
        return path

    def write_predictions(self, run: int, frame: pd.DataFrame) -> Path:
        """Write run ``run``'s predictions (columns id, part, value: one row per figure and part) as
        ``runs/pred-NNNN.parquet`` atomically, sorted by id and part."""
        self._writable()
        if isinstance(run, bool) or not isinstance(run, int | np.integer) or run < 0:
            raise EmigreError(f"run must be a non-negative integer, got {run!r}")
        what = f"predictions of run {run}"
        if not isinstance(frame, pd.DataFrame) or any(c not in frame.columns for c in PRED_COLUMNS):
            raise EmigreError(f"{what}: expected a DataFrame with columns {', '.join(PRED_COLUMNS)}")
        ids, parts = frame["id"].astype(str).to_numpy(), frame["part"].astype(str).to_numpy()
        try:
            value = pd.to_numeric(frame["value"], errors="raise").to_numpy(dtype=np.float64)
        except (ValueError, TypeError) as exc:
            raise EmigreError(f"{what}: column value is not numeric ({exc})") from None
        if not np.isfinite(value).all():
            raise EmigreError(f"{what}: column value has empty or infinite numbers")
        order = np.lexsort((parts, ids))
        key = pd.Series(ids[order]) + "\0" + pd.Series(parts[order])
        if key.duplicated().any():
            i = int(np.flatnonzero(key.duplicated().to_numpy())[0])
            raise EmigreError(f"{what}: figure {ids[order][i]} has part {parts[order][i]!r} twice")
        table = pa.table({"run": pa.array(np.full(len(order), int(run), dtype=np.int32), pa.int32()),
                          "id": pa.array(ids[order], pa.string()), "part": pa.array(parts[order], pa.string()),
                          "value": pa.array(value[order], pa.float64())}, schema=_PRED_SCHEMA)
        path = self.prediction_path(run)
        with atomic_writer(path, "wb") as fh:
            pq.write_table(table, fh, compression="zstd")
        return path

    def predictions(self) -> pd.DataFrame:
        """Every run's predictions of the sourced figures (run, id, part, value), for the runs whose shard is
        present; an empty frame for a store without prediction files (in memory, or written before them)."""
        runs = set(self.run_ids())
        paths = [p for p in self.prediction_paths() if int(_PRED.match(p.name).group(1)) in runs]
        if not paths:
            return pd.DataFrame({"run": pd.Series(dtype=np.int32), "id": pd.Series(dtype=object),
                                 "part": pd.Series(dtype=object), "value": pd.Series(dtype=np.float64)})
        try:
            table = pa.concat_tables([pq.read_table(p, schema=_PRED_SCHEMA) for p in paths])
        except (OSError, pa.ArrowException) as exc:
            raise EmigreError(f"{self.runs_dir}: unreadable prediction file ({exc})") from None
        return table.to_pandas()

    def write_runs_table(self, table: pd.DataFrame) -> Path:
        """Write the runs table (``run`` required; ``seed``, ``draw`` and parameters as columns)."""
        self._writable()
        if not isinstance(table, pd.DataFrame) or "run" not in table.columns:
            raise EmigreError(
                "runs table: expected a DataFrame with a column run (and seed, draw, parameters)"
            )
        if table["run"].duplicated().any():
            raise EmigreError("runs table: a run appears twice")
        t = pa.Table.from_pandas(table.reset_index(drop=True), preserve_index=False)
        with atomic_writer(self.runs_table_path, "wb") as fh:
            pq.write_table(t, fh)
        self._reset()
        return self.runs_table_path

    def build_duckdb(self, *, materialize: bool = True) -> Path:
        """Write ``results.duckdb`` with ``daily`` (every shard, with ``run``) and ``runs``, replacing any
        previous file atomically.

        ``materialize=True`` copies the rows into tables sorted by measure, place, group, run, date: the file
        is self-contained (move it anywhere) and filters on a quantity skip most blocks; it takes seconds
        for millions of rows. ``materialize=False`` makes ``daily`` and ``runs`` views over the shards'
        absolute paths: instant, but tied to where the store lies."""
        self._writable()
        import duckdb

        shards = self.shard_paths()
        if not shards:
            raise EmigreError(f"no runs in {self.runs_dir}: write runs before building the DuckDB file")
        target = self.duckdb_path
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        scratch = None
        if re.search(r"[?#%*\[\]{}]", str(target.resolve())):
            # DuckDB reads ? and # in a database path as URL syntax: build it under a plain name, then move it
            import tempfile

            scratch = Path(tempfile.mkdtemp(prefix="emigre-duckdb-"))
            final_tmp, tmp = tmp, scratch / "results.duckdb"
        for p in (tmp, tmp.with_name(tmp.name + ".wal")):
            p.unlink(missing_ok=True)
        try:
            con = duckdb.connect(str(tmp))
            try:
                files = "[" + ", ".join(_sql_str(str(p)) for p in shards) + "]"
                if materialize:
                    con.register("shards", _shard_dataset(shards))
                    con.execute(
                        'CREATE TABLE daily AS SELECT * FROM shards ORDER BY measure, place, "group", run, date'
                    )
                    self._register_runs(con)
                    con.execute("CREATE TABLE runs AS SELECT * FROM runs_view")
                    con.unregister("shards")
                    con.execute("DROP VIEW runs_view")
                    con.unregister("runs_table")
                else:
                    if _GLOB.search(str(self.directory.resolve())):
                        raise EmigreError(
                            f"{self.directory}: a store path with * ? [ ] {{ }} cannot back DuckDB views "
                            "(DuckDB would expand it); build with materialize=True")
                    con.execute(f"CREATE VIEW daily AS SELECT * FROM read_parquet({files})")
                    con.execute(f"CREATE VIEW runs AS {self._runs_sql()}")
                con.execute("CHECKPOINT")
            finally:
                con.close()
            if scratch is not None:
                import shutil

                shutil.copyfile(tmp, final_tmp)
                tmp.unlink()
                tmp = final_tmp
            os.replace(tmp, target)
        finally:
            for p in (tmp, tmp.with_name(tmp.name + ".wal")):
                p.unlink(missing_ok=True)
            if scratch is not None:
                import shutil

                shutil.rmtree(scratch, ignore_errors=True)
        return target

    def _register_runs(self, con) -> None:
        """View ``runs_view``: the runs table read by pyarrow (or the run ids of the shards)."""
        if self.runs_table_path.exists():
            con.register("runs_table", pq.read_table(self.runs_table_path))
            con.execute("CREATE VIEW runs_view AS SELECT * FROM runs_table ORDER BY run")
        else:
            con.execute("CREATE VIEW runs_view AS SELECT DISTINCT run FROM daily ORDER BY run")

    def _runs_sql(self) -> str:
        if self.runs_table_path.exists():
            return f"SELECT * FROM read_parquet({_sql_str(str(self.runs_table_path))}) ORDER BY run"
        return "SELECT DISTINCT run FROM daily ORDER BY run"

    # ------------------------------------------------------------------ reading
    def _reset(self) -> None:
        if self._con is not None:
            self._con.close()
        self._con = None
        self._grid = None

    def connect(self):
        """An in-memory DuckDB connection with views ``daily`` and ``runs`` over this store."""
        if self._con is not None:
            return self._con
        import duckdb

        con = duckdb.connect()
        if self._frame is not None:
            con.register("daily_frame", self._frame)
            con.execute("CREATE VIEW daily AS SELECT * FROM daily_frame")
            if self._runs_frame is not None:
                con.register("runs_frame", self._runs_frame)
                con.execute("CREATE VIEW runs AS SELECT * FROM runs_frame")
            else:
                con.execute("CREATE VIEW runs AS SELECT DISTINCT run FROM daily ORDER BY run")
        else:
            shards = self.shard_paths()
            if not shards:
                raise EmigreError(
                    f"the result store {self.directory} is empty: no run-NNNN.parquet in {self.runs_dir}"
                )
            con.register("daily", _shard_dataset(shards))
            self._register_runs(con)
            con.execute("CREATE VIEW runs AS SELECT * FROM runs_view")
        self._con = con
        return con

    def close(self) -> None:
        """Close the database connection and forget the date grid."""
        self._reset()

    # ------------------------------------------------------------------ completeness
    @property
    def manifest_path(self) -> Path:
        """Path of the manifest (written last: a store without it is incomplete)."""
        return self.directory / MANIFEST

    def manifest(self) -> dict | None:
        """The manifest written by the job that made this store, or None when there is none."""
        if self._frame is not None or not self.manifest_path.is_file():
            return None
        try:
            return json.loads(self.manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise EmigreError(f"{self.manifest_path}: unreadable store manifest ({exc})") from None

    def write_manifest(self, info: dict | None = None, runs: list[dict] | None = None) -> dict:
        """Write ``manifest.json``: ``info`` (arguments, versions) and one entry per run (``runs``, default the
        runs table or the shards present) with its shard's size; ``runs_expected``/``runs_present``. Call it
        last, once every file of the store is in place."""
        self._writable()
        from emigre import __version__
        from emigre.fileio import atomic_write_text

        if runs is None:
            if self.runs_table_path.is_file():
                cols = [c for c in ("run", "seed", "draw") if c in pq.read_schema(self.runs_table_path).names]
                t = pq.read_table(self.runs_table_path, columns=cols).to_pandas()
                runs = [{c: int(r[c]) for c in cols} for _, r in t.iterrows()]
            else:
                runs = [{"run": r} for r in self.run_ids()]
        sizes = {int(_SHARD.match(p.name).group(1)): p.stat().st_size for p in self.shard_paths()}
        preds = {int(_PRED.match(p.name).group(1)): p.stat().st_size for p in self.prediction_paths()}
        # pred_bytes only where a run has predictions: a store without them reads as before
        entries = [dict(r) | {"bytes": sizes.get(int(r["run"]))}
                   | ({"pred_bytes": preds[int(r["run"])]} if int(r["run"]) in preds else {}) for r in runs]
        manifest = {"format": 1, "package": "emigre", "version": __version__} | (info or {}) | {
            "runs": entries, "runs_expected": len(entries),
            "runs_present": sum(r["bytes"] is not None for r in entries)}
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2) + "\n")
        return manifest

    def verify(self) -> dict:
        """Check that the store is complete and of one run: its manifest exists and names exactly the shards
        present, each of the recorded size. Returns the manifest; raises :class:`EmigreError` saying what is
        missing or foreign."""
        if self._frame is not None:
            return {}
        d = self.directory
        man = self.manifest()
        if man is None:
            partial = (d / ".partial").is_dir()
            raise EmigreError(
                f"{d}: incomplete store (no {MANIFEST}: the job that writes it last did not finish, or an "
                "older emigre wrote it"
                + ("; an interrupted run is in .partial: continue it with `emigre run --resume`" if partial
                   else "; run `emigre run` again") + f"); {len(self.shard_paths())} shard(s) present")
        expected = {int(r["run"]): r for r in man.get("runs", [])}
        present = {int(_SHARD.match(p.name).group(1)): p for p in self.shard_paths()}
        missing = sorted(set(expected) - set(present))
        extra = sorted(set(present) - set(expected))
        if missing:
            raise EmigreError(f"{d}: incomplete store: {len(missing)} of {len(expected)} runs missing "
                              f"(run {', '.join(map(str, missing[:10]))}{' ...' if len(missing) > 10 else ''})")
        if extra:
            raise EmigreError(f"{d}: mixed store: shards of runs {', '.join(map(str, extra[:10]))} are not in "
                              f"its {MANIFEST} (left by another run)")
        for r, p in present.items():
            size = expected[r].get("bytes")
            if size is not None and p.stat().st_size != int(size):
                raise EmigreError(f"{d}: mixed store: {p.name} is {p.stat().st_size} bytes, its {MANIFEST} says "
                                  f"{size} (written by another run)")
        preds = {int(_PRED.match(p.name).group(1)): p for p in self.prediction_paths()}
        foreign = sorted(r for r in preds if r not in expected or expected[r].get("pred_bytes") is None)
        if foreign:
            raise EmigreError(f"{d}: mixed store: prediction files of runs {', '.join(map(str, foreign[:10]))} are "
                              f"not in its {MANIFEST} (left by another run)")
        for r, entry in expected.items():
            size = entry.get("pred_bytes")
            if size is None:
                continue  # a run stored without predictions (older stores): nothing to check
            p = self.prediction_path(r)
            if r not in preds:
                raise EmigreError(f"{d}: incomplete store: {p.name} is missing (its {MANIFEST} lists it)")
            if p.stat().st_size != int(size):
                raise EmigreError(f"{d}: mixed store: {p.name} is {p.stat().st_size} bytes, its {MANIFEST} says "
                                  f"{size} (written by another run)")
        if not self.runs_table_path.is_file():
            raise EmigreError(f"{d}: incomplete store: {self.runs_table_path.name} is missing")
        return man

    def query(self, sql: str, params: Sequence | None = None) -> pd.DataFrame:
        """Run SQL over the views ``daily`` and ``runs`` and return a DataFrame."""
        return self.connect().execute(sql, params or []).df()

    def run_ids(self) -> list[int]:
        """Run numbers present in the store, ascending."""
        if self._frame is None:
            return sorted(int(_SHARD.match(p.name).group(1)) for p in self.shard_paths())
        return sorted(int(r) for r in np.unique(self._frame.column("run").to_numpy()))

    def runs(self) -> pd.DataFrame:
        """The runs table (at least a column ``run``)."""
        return self.query("SELECT * FROM runs ORDER BY run")

    def _require_runs(self) -> None:
        if not self.run_ids():
            where = "the frame" if self._frame is not None else str(self.runs_dir)
            raise EmigreError(f"the result store is empty: no runs in {where}")

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """(dates as datetime64[D], run ids): the axes every :class:`RunSeries` of this store shares."""
        if self._grid is None:
            self._require_runs()
            dates = (
                self.connect().execute("SELECT DISTINCT date FROM daily ORDER BY date").fetchnumpy()["date"]
            )
            self._grid = (
                np.asarray(dates).astype("datetime64[D]"),
                np.asarray(self.run_ids(), dtype=np.int64),
            )
        return self._grid

    @property
    def start(self) -> dt.date:
        """First simulated day."""
        return pd.Timestamp(self.grid()[0][0]).date()

    @property
    def end(self) -> dt.date:
        """Last simulated day."""
        return pd.Timestamp(self.grid()[0][-1]).date()

    def catalogue(self) -> pd.DataFrame:
        """Every (place, measure, group) in the store with its row count."""
        self._require_runs()
        return self.query(
            'SELECT place, measure, "group", count(*) AS rows FROM daily GROUP BY ALL '
            'ORDER BY measure, place, "group"'
        )

    def load(
        self,
        measures: Iterable[str],
        places: Iterable[str] | None = None,
        groups: Iterable[str] | None = None,
        *,
        fill: float = 0.0,
    ) -> dict[tuple[str, str, str], RunSeries]:
        """Every (measure, place, group) among ``measures`` (restricted to ``places``/``groups``; None =
        all) as :class:`RunSeries` on the store's date x run grid, read in one query."""
        dates, runs = self.grid()
        measures = list(measures)
        sql = 'SELECT run, date, measure, place, "group", value FROM daily WHERE measure IN ('
        sql += ", ".join("?" * len(measures)) + ")"
        params: list = list(measures)
        for column, values in (("place", places), ('"group"', groups)):
            if values is not None:
                values = list(values)
                if not values:
                    return {}
                sql += f" AND {column} IN (" + ", ".join("?" * len(values)) + ")"
                params += values
        got = self.connect().sql(sql, params=params).to_arrow_table()
        if got.num_rows == 0:
            return {}
        # integer keys from Arrow's dictionary encoding, then lookup tables instead of sorting: O(rows)
        codes, names = [], []
        for column in ("measure", "place", "group"):
            enc = got.column(column).combine_chunks().dictionary_encode()
            codes.append(enc.indices.to_numpy().astype(np.int64))
            names.append(enc.dictionary.to_pylist())
        n_place, n_group = len(names[1]), len(names[2])
        combined = (codes[0] * n_place + codes[1]) * n_group + codes[2]
        seen = np.zeros(len(names[0]) * n_place * n_group, dtype=bool)
        seen[combined] = True
        uniq = np.flatnonzero(seen)
        key_codes = _lookup(uniq, combined)
        keys = [
            (names[0][u // (n_place * n_group)], names[1][(u // n_group) % n_place], names[2][u % n_group])
            for u in uniq.tolist()
        ]
        day_of = got.column("date").cast(pa.int32()).to_numpy()
        d = _lookup(dates.astype(np.int64), day_of)
        r = _lookup(runs, got.column("run").to_numpy())
        cube = np.full((len(keys), len(runs), len(dates)), fill, dtype=np.float64)
        cube[key_codes, r, d] = got.column("value").to_numpy()
        order = sorted(range(len(keys)), key=keys.__getitem__)
        return {keys[i]: RunSeries(dates, runs, cube[i]) for i in order}

    def totals(
        self,
        measures: Iterable[str],
        places: Iterable[str] | None = None,
        groups: Iterable[str] | None = ("",),
    ) -> pd.DataFrame:
        """Per-run aggregates over all dates, computed in DuckDB without loading the daily rows:
        measure, place, group, run, total (sum), peak (max), days (rows); NaN values are skipped (NULL
        where a run has no number at all). Runs without rows for a quantity are absent (zero). Sums of
        counts are exact (whole numbers below 2**53), so the result does not depend on thread order."""
        self._require_runs()
        measures = list(measures)
        sql = (
            'SELECT measure, place, "group", run, sum(value) FILTER (WHERE NOT isnan(value)) AS total, '
            "max(value) FILTER (WHERE NOT isnan(value)) AS peak, count(*) AS days "
            "FROM daily WHERE measure IN (" + ", ".join("?" * len(measures)) + ")"
        )
        params: list = list(measures)
        for column, values in (("place", places), ('"group"', groups)):
            if values is not None:
                values = list(values)
                if not values:
                    return pd.DataFrame(columns=["measure", "place", "group", "run", "total", "peak", "days"])
                sql += f" AND {column} IN (" + ", ".join("?" * len(values)) + ")"
                params += values
        sql += ' GROUP BY ALL ORDER BY measure, place, "group", run'
        return self.connect().sql(sql, params=params).df()

    def series_many(
        self,
        measure: str,
        places: Iterable[str] | None = None,
        groups: Iterable[str] | None = ("",),
        *,
        fill: float = 0.0,
        required: bool = True,
    ) -> dict[tuple[str, str], RunSeries]:
        """Every (place, group) of ``measure`` (restricted to ``places``/``groups``; None = all) as
        :class:`RunSeries` on the store's date x run grid; a measure with no rows fails unless
        ``required=False``."""
        places = None if places is None else list(places)
        groups = None if groups is None else list(groups)
        got = self.load([measure], places, groups, fill=fill)
        if not got and required and (places is None or places):
            raise self._missing(measure, places, groups)
        return {(p, g): s for (_, p, g), s in got.items()}

    def _missing(self, measure: str, places, groups) -> EmigreError:
        have = self.query("SELECT DISTINCT measure FROM daily ORDER BY measure")["measure"].tolist()
        if measure not in have:
            return EmigreError(
                f"measure {measure!r} is not in the results; the store has: {', '.join(have) or 'nothing'}"
            )
        where = f" at place(s) {', '.join(places)}" if places is not None else ""
        if groups is not None:
            where += f" with group(s) {', '.join(repr(g) for g in groups)}"
        return EmigreError(f"measure {measure!r} has no rows{where}")

    def series(self, measure: str, place: str = "ALL", group: str = "", *, fill: float = 0.0) -> RunSeries:
        """One quantity for every run (runs x dates)."""
        got = self.series_many(measure, [place], [group], fill=fill)
        if (place, group) not in got:
            raise self._missing(measure, [place], [group])
        return got[(place, group)]

    def bands(self, measure: str, place: str = "ALL", group: str = "", *, fill: float = 0.0) -> pd.DataFrame:
        """date, median, q05, q25, q75, q95 of one quantity over runs."""
        return self.series(measure, place, group, fill=fill).bands()

    def bands_many(
        self,
        measure: str,
        places: Iterable[str] | None = None,
        groups: Iterable[str] | None = ("",),
        *,
        fill: float = 0.0,
    ) -> pd.DataFrame:
        """place, group, date, median, q05, q25, q75, q95 for many places/groups at once."""
        parts = []
        for (place, group), s in self.series_many(measure, places, groups, fill=fill).items():
            b = s.bands()
            b.insert(0, "group", group)
            b.insert(0, "place", place)
            parts.append(b)
        return pd.concat(parts, ignore_index=True).sort_values(["place", "group", "date"], ignore_index=True)

    def final(
        self, measure: str, place: str = "ALL", group: str = "", date=None, *, fill: float = 0.0
    ) -> pd.Series:
        """Per-run value on ``date`` (default: the last simulated day), indexed by run."""
        s = self.series(measure, place, group, fill=fill)
        return pd.Series(s.at(date), index=pd.Index(s.runs, name="run"), name=measure)

    def total(self, measure: str, place: str = "ALL", group: str = "", start=None, end=None) -> pd.Series:
        """Per-run sum of a daily flow over [start, end], indexed by run."""
        s = self.series(measure, place, group)
        return pd.Series(s.total(start, end), index=pd.Index(s.runs, name="run"), name=measure)


# ---------------------------------------------------------------------------------------------- writing a store
#: where a job writes the new store before it replaces the old one (inside the output directory)
STAGING = ".partial"
_SPECIAL_FS = (Path("/proc"), Path("/sys"), Path("/dev"))


def check_out_dir(path: str | Path, option: str = "--out") -> Path:
    """Refuse an output directory that cannot be one, before any work: an existing non-directory, a path
    inside /proc, /sys or /dev, or one whose nearest existing parent is not a writable directory."""
    p = Path(path)
    try:
        resolved = p.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise EmigreError(f"{option} {p}: cannot resolve the path ({exc})") from None
    for special in _SPECIAL_FS:
        if resolved == special or special in resolved.parents:
            raise EmigreError(f"{option} {p}: inside {special}, a special file system; choose a normal directory")
    if p.exists() and not p.is_dir():
        raise EmigreError(f"{option} {p}: exists and is not a directory")
    probe = resolved
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise EmigreError(f"{option} {p}: {probe} is a file, not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise EmigreError(f"{option} {p}: {probe} is not writable")
    return p


class StoreWriter:
    """The lifecycle of a store being (re)written: ``with StoreWriter(out) as w:`` checks ``out``, creates it,
    takes an exclusive lock (``fcntl.flock`` on the directory itself: it dies with the process, so a killed
    job leaves no stale lock), and offers ``w.stage`` - a directory beside the old store where the new one is
    written. :meth:`commit` then moves the new files over the old ones and writes the manifest last; until then
    the previous store stays whole and readable. A job that fails or is killed leaves ``w.stage`` in place,
    for ``--resume``."""

    def __init__(self, directory: str | Path, *, option: str = "--out") -> None:
        self.directory = check_out_dir(directory, option)
        self.stage = self.directory / STAGING
        self._fd: int | None = None
        self._created = False

    def __enter__(self) -> StoreWriter:
        import fcntl

        try:
            self._created = not self.directory.exists()
            self.directory.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise EmigreError(f"{self.directory}: cannot create the output directory ({exc.strerror})") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise EmigreError(f"{self.directory}: another emigre job is writing to this directory; wait for it "
                              "to finish or choose another --out") from None
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the lock
            self._fd = None
        # nothing of ours worth keeping in a directory we created and that holds no shard
        if exc[0] is not None and self._created and not any(self.stage.glob("runs/run-*.parquet")):
            import shutil

            shutil.rmtree(self.directory, ignore_errors=True)

    def fresh_stage(self) -> Path:
        """An empty staging directory (a leftover one is discarded)."""
        import shutil

        if self.stage.exists():
            shutil.rmtree(self.stage)
        self.stage.mkdir()
        return self.stage

    def commit(self, manifest: dict, *, keep: Iterable[str] = ()) -> dict:
        """Replace the store in ``directory`` by what ``stage`` holds (except the names in ``keep``, which are
        left in the stage and discarded), then write the manifest, completed with each shard's size."""
        import shutil

        d = self.directory
        (d / MANIFEST).unlink(missing_ok=True)  # from here until the end the store reads as incomplete
        for item in sorted(self.stage.iterdir()):
            if item.name in keep:
                continue
            target = d / item.name
            old = d / f".old-{item.name}"
            if target.is_dir() and not target.is_symlink():
                if old.exists():
                    shutil.rmtree(old)
                os.replace(target, old)
                os.replace(item, target)
                shutil.rmtree(old)
            else:
                os.replace(item, target)
        info = {k: v for k, v in manifest.items() if k != "runs"}
        manifest = ResultStore(d).write_manifest(info, manifest.get("runs"))
        shutil.rmtree(self.stage, ignore_errors=True)
        return manifest
