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
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from emigre.errors import EmigreError
from emigre.fileio import atomic_writer
from emigre.results.bands import RunSeries

#: Columns of one run in long format, as the simulator produces them.
COLUMNS = ("date", "place", "measure", "group", "value")

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


