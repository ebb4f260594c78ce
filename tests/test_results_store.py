"""The result store: shards written atomically, bands that are the quantiles NumPy computes on the same
numbers, a DuckDB file with every row, clear errors on bad input."""

from __future__ import annotations

import os

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from synthetic import synthetic_ensemble  # the test fixture in tests/synthetic.py

from emigre.errors import EmigreError
from emigre.results import ResultStore, RunSeries, band_table

QS = {"q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95}


@pytest.fixture(scope="module")
def ensemble():
    frame, runs = synthetic_ensemble(3, seed=7, start="2022-02-24", end="2022-12-31")
    return frame, runs


@pytest.fixture(scope="module")
def store(ensemble, tmp_path_factory):
    frame, runs = ensemble
    s = ResultStore(tmp_path_factory.mktemp("store"))
    for r, part in frame.groupby("run"):
        s.write_run(int(r), part.drop(columns="run"))
    s.write_runs_table(runs)
    return s


def _wide(frame: pd.DataFrame, measure: str, place: str = "ALL", group: str = "") -> pd.DataFrame:
    sub = frame[(frame["measure"] == measure) & (frame["place"] == place) & (frame["group"] == group)]
    return sub.pivot(index="run", columns="date", values="value").sort_index()


def test_shards_and_runs(store, ensemble):
    frame, runs = ensemble
    assert [p.name for p in store.shard_paths()] == [
        "run-0000.parquet",
        "run-0001.parquet",
        "run-0002.parquet",
    ]
    assert store.run_ids() == [0, 1, 2]
    assert store.start.isoformat() == "2022-02-24" and store.end.isoformat() == "2022-12-31"
    table = pq.read_table(store.shard_path(1))
    assert table.num_rows == int((frame["run"] == 1).sum())
    assert table.schema.names == ["run", "date", "place", "measure", "group", "value"]
    assert str(table.schema.field("date").type) == "date32[day]"
    got = store.runs()
    assert got["run"].tolist() == [0, 1, 2] and {"seed", "draw", "return_share"} <= set(got.columns)
    # nothing but the shards in runs/: no temporary file left behind
    assert sorted(os.listdir(store.runs_dir)) == ["run-0000.parquet", "run-0001.parquet", "run-0002.parquet"]


@pytest.mark.parametrize(
    ("measure", "place", "group"),
    [
        ("departures", "ALL", ""),
        ("abroad", "ALL", "reason=mobilization"),
        ("present", "GEO", ""),
        ("queue", "road:Upper-Lars-Tbilisi", ""),
    ],
)
def test_bands_are_numpy_quantiles(store, ensemble, measure, place, group):
    wide = _wide(ensemble[0], measure, place, group)
    bands = store.bands(measure, place, group)
    assert list(bands.columns) == ["date", "median", "q05", "q25", "q75", "q95"]
    assert len(bands) == wide.shape[1] == 311
    assert (bands["date"].to_numpy() == pd.to_datetime(wide.columns).to_numpy()).all()
    for col, q in QS.items():
        np.testing.assert_allclose(
            bands[col].to_numpy(), np.quantile(wide.to_numpy(), q, axis=0), rtol=0, atol=1e-9
        )
    # the 90% band holds the median, and the numbers do not change from one call to the next
    assert (bands["q05"] <= bands["median"]).all() and (bands["median"] <= bands["q95"]).all()
    pd.testing.assert_frame_equal(bands, store.bands(measure, place, group))


def test_bands_many_matches_one_by_one(store):
    many = store.bands_many("present", ["GEO", "KAZ", "TUR"])
    assert sorted(many["place"].unique()) == ["GEO", "KAZ", "TUR"]
    for place in ("GEO", "KAZ"):
        one = store.bands("present", place)
        part = many[many["place"] == place].drop(columns=["place", "group"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(part, one)
    by_reason = store.bands_many("departures", ["ALL"], groups=None)
    assert {"", "reason=invasion", "age=25-34", "document=schengen_visa"} <= set(by_reason["group"])


def test_final_total_and_totals(store, ensemble):
    frame = ensemble[0]
    wide = _wide(frame, "departed_cum")
    final = store.final("departed_cum")
    assert final.index.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(final.to_numpy(), wide.iloc[:, -1].to_numpy())
    on = store.final("departed_cum", date="2022-06-30")
    np.testing.assert_array_equal(on.to_numpy(), wide[pd.Timestamp("2022-06-30")].to_numpy())
    total = store.total("departures", start="2022-09-21", end="2022-10-31")
    dep = _wide(frame, "departures")
    window = (dep.columns >= "2022-09-21") & (dep.columns <= "2022-10-31")
    np.testing.assert_allclose(total.to_numpy(), dep.loc[:, window].sum(axis=1).to_numpy())
    # cumulative departures are the running sum of departures
    np.testing.assert_allclose(final.to_numpy(), dep.sum(axis=1).to_numpy())
    agg = store.totals(["crossings_out", "wait_days"], ["road:Upper-Lars-Tbilisi"])
    out = agg[agg["measure"] == "crossings_out"].sort_values("run")
    np.testing.assert_allclose(
        out["total"].to_numpy(), _wide(frame, "crossings_out", "road:Upper-Lars-Tbilisi").sum(axis=1)
    )
    wait = _wide(frame, "wait_days", "road:Upper-Lars-Tbilisi")
    np.testing.assert_allclose(
        agg[agg["measure"] == "wait_days"].sort_values("run")["peak"], wait.max(axis=1)
    )


def test_duckdb_file_has_every_row(store, ensemble):
    frame = ensemble[0]
    path = store.build_duckdb()
    assert path.name == "results.duckdb" and not list(path.parent.glob(".results.duckdb*"))
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM daily").fetchone()[0] == len(frame)
        assert con.execute("SELECT count(DISTINCT run) FROM daily").fetchone()[0] == 3
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 3
        geo = con.execute(
            "SELECT sum(value) FROM daily WHERE measure = 'arrivals' AND place = 'GEO' AND run = 2"
        ).fetchone()[0]
        expect = frame[(frame["measure"] == "arrivals") & (frame["place"] == "GEO") & (frame["run"] == 2)][
            "value"
        ]
        assert geo == pytest.approx(expect.sum())
    finally:
        con.close()
    view = store.build_duckdb(materialize=False)
    con = duckdb.connect(str(view), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM daily").fetchone()[0] == len(frame)
    finally:
        con.close()
    assert store.query("SELECT count(*) AS n FROM daily")["n"].iloc[0] == len(frame)


def test_failed_write_leaves_nothing_and_keeps_the_old_shard(store, ensemble, monkeypatch, tmp_path):
    frame = ensemble[0]
    s = ResultStore(tmp_path / "out")
    one = frame[frame["run"] == 0].drop(columns="run")
    s.write_run(0, one)
    before = s.shard_path(0).read_bytes()

    def broken(table, where, **kwargs):  # half a file, then the disk fills up
        where.write(b"PAR1" + b"\0" * 1000)
        raise OSError("No space left on device")

    monkeypatch.setattr(pq, "write_table", broken)
    with pytest.raises(OSError, match="No space"):
        s.write_run(0, one.assign(value=one["value"] + 1))
    with pytest.raises(OSError, match="No space"):
        s.write_run(1, one)
    assert sorted(os.listdir(s.runs_dir)) == ["run-0000.parquet"]  # no run-0001, no temporary file
    assert s.shard_path(0).read_bytes() == before


def test_in_memory_frame_gives_the_same_bands(store, ensemble):
    mem = ResultStore.from_frame(ensemble[0], ensemble[1])
    pd.testing.assert_frame_equal(mem.bands("abroad"), store.bands("abroad"))
    assert mem.run_ids() == [0, 1, 2]
    assert mem.runs()["seed"].tolist() == [7, 7, 7]
    with pytest.raises(EmigreError, match="in-memory"):
        mem.write_run(5, ensemble[0])


def test_missing_rows_count_as_zero(tmp_path, ensemble):
    frame = ensemble[0]
    s = ResultStore(tmp_path)
    for r, part in frame.groupby("run"):
        part = part.drop(columns="run")
        if r == 1:  # run 1 leaves out its all-zero days of Mongolia
            part = part[~((part["place"] == "MNG") & (part["measure"] == "arrivals") & (part["value"] == 0))]
        s.write_run(int(r), part)
    wide = _wide(frame, "arrivals", "MNG")
    np.testing.assert_allclose(s.bands("arrivals", "MNG")["median"], np.median(wide.to_numpy(), axis=0))


def test_accepts_categoricals_python_dates_and_integers(tmp_path, ensemble, store):
    frame = ensemble[0]
    s = ResultStore(tmp_path)
    for r, part in frame.groupby("run"):
        part = part.drop(columns="run").assign(
            date=[d.date() for d in part["date"]],
            place=part["place"].astype("category"),
            measure=part["measure"].astype("category"),
            group=part["group"].replace("", None).astype("category"),  # None = the total
            value=part["value"].round().astype("Int64"),  # nullable integers: NaN waits become <NA>
        )
        s.write_run(int(r), part)
    pd.testing.assert_frame_equal(s.bands("departures"), store.bands("departures"))
    pd.testing.assert_frame_equal(s.bands("present", "KAZ"), store.bands("present", "KAZ"))


def test_bad_input_is_named(tmp_path, ensemble):
    frame = ensemble[0]
    one = frame[frame["run"] == 0].drop(columns="run")
    s = ResultStore(tmp_path)
    with pytest.raises(EmigreError, match="missing column"):
        s.write_run(0, one.drop(columns="measure"))
    with pytest.raises(EmigreError, match="duplicate rows .*measure 'departures'"):
        s.write_run(0, pd.concat([one, one[one["measure"] == "departures"].head(1)]))
    with pytest.raises(EmigreError, match="other than 0"):
        s.write_run(0, one.assign(run=3))
    with pytest.raises(EmigreError, match="non-negative integer"):
        s.write_run(-1, one)
    with pytest.raises(EmigreError, match="not numeric"):
        s.write_run(0, one.assign(value="many"))
    with pytest.raises(EmigreError, match="infinite"):
        s.write_run(0, one.assign(value=np.inf))
    assert not s.runs_dir.exists() or not os.listdir(s.runs_dir)
    with pytest.raises(EmigreError, match="empty"):
        s.bands("departures")
    with pytest.raises(EmigreError, match="no runs"):
        s.build_duckdb()
    s.write_run(0, one)
    with pytest.raises(EmigreError, match="'departure' is not in the results"):
        s.bands("departure")
    with pytest.raises(EmigreError, match="no rows at place"):
        s.bands("present", "ATA")


def test_run_series_aggregates():
    dates = np.arange(np.datetime64("2022-02-24"), np.datetime64("2022-03-10"))  # Thu 24 Feb .. Wed 9 Mar
    values = np.vstack([np.arange(len(dates), dtype=float), np.ones(len(dates))])
    s = RunSeries(dates, np.array([0, 1]), values)
    w = s.weekly("sum")
    assert [str(d) for d in w.dates] == ["2022-02-21", "2022-02-28", "2022-03-07"]
    np.testing.assert_array_equal(w.values[1], [4, 7, 3])
    np.testing.assert_array_equal(w.values[0], [0 + 1 + 2 + 3, sum(range(4, 11)), 11 + 12 + 13])
    assert s.weekly("last").values[0].tolist() == [3, 10, 13]
    b = s.bin(5, "max")
    assert [str(d) for d in b.dates] == ["2022-02-24", "2022-03-01", "2022-03-06"]
    assert b.values[0].tolist() == [4, 9, 13]
    assert s.bin(5, "mean").values[1].tolist() == [1, 1, 1]
    e = s.every(7)
    assert str(e.dates[-1]) == "2022-03-09" and e.values[0].tolist() == [6, 13]
    assert s.total("2022-03-01", "2022-03-02")[0] == 5 + 6
    bands = band_table(np.array([[1.0, np.nan], [3.0, np.nan]]))
    assert bands["median"][0] == 2 and np.isnan(bands["median"][1])
