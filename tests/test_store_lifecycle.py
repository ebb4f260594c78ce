"""The store's lifecycle: --out checked before any work, a manifest written last and checked by readers,
no globbing of store paths, the previous store replaced only by a complete one, one writer at a time,
kill -9 leaves no process behind and --resume gives the bytes of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from emigre.cli import main
from emigre.errors import EmigreError
from emigre.fileio import check_output_dir as check_out_dir
from emigre.results import ResultStore
from emigre.results.writer import StoreWriter


def _frame(value: float, days: int = 3) -> pd.DataFrame:
    dates = pd.date_range("2022-02-24", periods=days, freq="D")
    return pd.DataFrame({"date": dates, "place": "ALL", "measure": "departures", "group": "",
                         "value": value + np.arange(days, dtype=float)})


def _store(d: Path, values: list[float]) -> ResultStore:
    s = ResultStore(d)
    for run, v in enumerate(values):
        s.write_run(run, _frame(v))
    s.write_runs_table(pd.DataFrame({"run": range(len(values)), "seed": range(len(values))}))
    return s


# ------------------------------------------------------------------------------------------ --out
@pytest.mark.parametrize("case, says", [
    ("file", "exists and is not a directory"),
    ("under-file", "is a file, not a directory"),
    ("proc", "special file system"),
    ("dev", "special file system"),
])
def test_bad_out_is_refused_before_any_work(tmp_path, capsys, case, says):
    f = tmp_path / "a-file"
    f.write_text("x")
    out = {"file": f, "under-file": f / "sub", "proc": Path("/proc/emigre-test"), "dev": Path("/dev/shm/../x")}[case]
    with pytest.raises(EmigreError, match=says):
        check_out_dir(out)
    t0 = time.perf_counter()
    rc = main(["run", "russia-2022", "--runs", "1", "--scale", "400", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and says in err and "Traceback" not in err
    assert time.perf_counter() - t0 < 30  # refused before simulating (a run takes longer than the check)
    assert f.read_text() == "x"


# ------------------------------------------------------------------------------------------ no glob
@pytest.mark.parametrize("name", ["st*", "st?", "st[1]"])
def test_store_paths_are_never_globbed(tmp_path, name):
    mine = _store(tmp_path / name, [10.0])
    _store(tmp_path / "st1", [1000.0, 2000.0])  # a sibling a glob would match
    assert mine.run_ids() == [0]
    got = mine.query("SELECT run, sum(value) AS v FROM daily GROUP BY run ORDER BY run")
    assert got["run"].tolist() == [0] and got["v"].tolist() == [33.0]
    assert mine.runs()["run"].tolist() == [0]
    db = mine.build_duckdb()
    import shutil

    import duckdb

    copy = tmp_path / "plain.duckdb"  # DuckDB itself reads ? and # in a database path as URL syntax
    shutil.copyfile(db, copy)
    con = duckdb.connect(str(copy), read_only=True)
    assert con.execute("SELECT count(*), sum(value) FROM daily").fetchone() == (3, 33.0)
    con.close()


# ------------------------------------------------------------------------------------------ manifest
def test_readers_refuse_an_incomplete_or_mixed_store_saying_what_is_missing(tmp_path, capsys):
    d = tmp_path / "store"
    s = _store(d, [10.0, 20.0, 30.0])
    with pytest.raises(EmigreError, match="incomplete store \\(no manifest.json"):
        s.verify()
    man = s.write_manifest({"command": "test"})
    assert man["runs_expected"] == man["runs_present"] == 3
    assert [r["bytes"] for r in man["runs"]] == [p.stat().st_size for p in s.shard_paths()]
    assert s.verify()["command"] == "test"
    shard = s.shard_path(1)
    kept = shard.read_bytes()
    shard.unlink()
    with pytest.raises(EmigreError, match="1 of 3 runs missing \\(run 1\\)"):
        s.verify()
    rc = main(["estimate", "departed", "--store", str(d)])
    err = capsys.readouterr().err
    assert rc == 2 and "1 of 3 runs missing (run 1)" in err and "Traceback" not in err
    shard.write_bytes(kept)
    s.write_run(3, _frame(40.0))  # a shard of another run
    with pytest.raises(EmigreError, match="mixed store: shards of runs 3"):
        s.verify()
    s.shard_path(3).unlink()
    s.write_run(2, _frame(99.0, days=4))  # same run number, other content
    with pytest.raises(EmigreError, match="mixed store: run-0002.parquet is"):
        s.verify()


def test_manifest_records_prediction_files_and_verify_checks_them(tmp_path):
    # a store written before prediction files existed: no pred_bytes, readable, no predictions
    old = _store(tmp_path / "old", [10.0, 20.0])
    man = old.write_manifest({"command": "test"})
    assert all("pred_bytes" not in r for r in man["runs"])
    assert old.verify()["command"] == "test" and old.predictions().empty
    s = _store(tmp_path / "new", [10.0, 20.0, 30.0])
    for run in range(3):
        s.write_predictions(run, pd.DataFrame({"id": ["OBS002", "OBS001", "OBS001"],
                                               "part": ["wave", "wave", "ordinary_trips"],
                                               "value": [1.0 + run, 100.0 * run, 7.0]}))
    man = s.write_manifest({"command": "test"})
    assert [r["pred_bytes"] for r in man["runs"]] == [s.prediction_path(r).stat().st_size for r in range(3)]
    s.verify()
    got = s.predictions()
    assert len(got) == 9 and got["run"].tolist() == [0] * 3 + [1] * 3 + [2] * 3
    # sorted by id then part; the parts of OBS001 in run 2 add up to 207
    assert got[got["run"] == 2][["id", "part"]].values.tolist() == [["OBS001", "ordinary_trips"],
                                                                   ["OBS001", "wave"], ["OBS002", "wave"]]
    assert got[(got["run"] == 2) & (got["id"] == "OBS001")]["value"].sum() == 207.0
    kept = s.prediction_path(1).read_bytes()
    s.prediction_path(1).unlink()
    with pytest.raises(EmigreError, match="incomplete store: pred-0001.parquet is missing"):
        s.verify()
    s.prediction_path(1).write_bytes(kept)
    s.write_predictions(1, pd.DataFrame({"id": ["OBS001"], "part": ["wave"], "value": [5.0]}))  # other content
    with pytest.raises(EmigreError, match="mixed store: pred-0001.parquet is"):
        s.verify()
    s.prediction_path(1).write_bytes(kept)
    s.write_predictions(7, pd.DataFrame({"id": ["OBS001"], "part": ["wave"], "value": [5.0]}))  # a foreign run
    with pytest.raises(EmigreError, match="mixed store: prediction files of runs 7"):
        s.verify()
    s.prediction_path(7).unlink()
    assert s.verify()["command"] == "test"
    with pytest.raises(EmigreError, match="OBS001 has part 'wave' twice"):
        s.write_predictions(0, pd.DataFrame({"id": ["OBS001", "OBS001"], "part": ["wave", "wave"],
                                             "value": [1.0, 2.0]}))


# ------------------------------------------------------------------------------------------ lock
def test_a_second_writer_is_refused(tmp_path):
    out = tmp_path / "out"
    with StoreWriter(out) as first:
        first.fresh_stage()
        with pytest.raises(EmigreError, match="another emigre job is writing"), StoreWriter(out):
            pass
        assert first.stage.is_dir()
    with StoreWriter(out):  # released when the first one ends
        pass


# ------------------------------------------------------------------------------------------ replace on success
def _finish(fail: bool = False):
    def finish(stage: Path, summaries: list[dict]) -> Path:
        if fail:
            raise RuntimeError("the report could not be written")
        ResultStore(stage).write_runs_table(pd.DataFrame(summaries)[["run", "seed", "draw"]])
        (stage / "report.html").write_text(f"<html>{len(summaries)} runs</html>")
        return stage / "report.html"
    return finish


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file() and ".partial" not in p.parts}


def test_a_failed_run_leaves_the_previous_store_and_resume_finishes_it(tmp_path, monkeypatch):
    from emigre.ensemble import run as run_mod

    out = tmp_path / "out"
    kw = dict(runs=2, params={}, draws=None, parameter_source="defaults", scale=400.0, workers=1)
    run_mod.run_into_store("russia-2022", out, seed=0, finish=_finish(), **kw)
    before = _files(out)
    assert {"manifest.json", "runs.parquet", "report.html", "runs/run-0000.parquet"} <= set(before)
    assert ResultStore(out).verify()["arguments"]["seed"] == 0
    with pytest.raises(RuntimeError, match="could not be written"):
        run_mod.run_into_store("russia-2022", out, seed=5, finish=_finish(fail=True), **kw)
    assert _files(out) == before  # the previous store, whole and readable
    assert ResultStore(out).verify()["arguments"]["seed"] == 0
    assert ResultStore(out).run_ids() == [0, 1]
    assert len(list((out / ".partial" / "runs").glob("run-*.parquet"))) == 2
    # other arguments cannot resume it; the same ones resume it without simulating again
    with pytest.raises(EmigreError, match="seed differ"):
        run_mod.run_into_store("russia-2022", out, seed=6, finish=_finish(), resume=True, **kw)
    calls = []
    real = run_mod._one
    monkeypatch.setattr(run_mod, "_one", lambda *a: calls.append(a) or real(*a))
    run_mod.run_into_store("russia-2022", out, seed=5, finish=_finish(), resume=True, **kw)
    assert calls == []
    man = ResultStore(out).verify()
    assert man["arguments"]["seed"] == 5 and [r["seed"] for r in man["runs"]] == [5, 6]
    assert not (out / ".partial").exists() and not (out / "summaries").exists()
    with pytest.raises(EmigreError, match="no interrupted run"):
        run_mod.run_into_store("russia-2022", out, seed=5, finish=_finish(), resume=True, **kw)


# ------------------------------------------------------------------------------------------ the real command
def _emigre(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from emigre.cli import main; sys.exit(main())", *args]


def _comparable(d: Path) -> dict:
    """Every file of a store, timing fields left out."""
    out = {}
    for name, data in _files(d).items():
        if name == "summary.json":
            j = json.loads(data)
            for r in j["runs"]:
                r.pop("seconds", None)
            out[name] = j
        elif name == "manifest.json":
            out[name] = {k: v for k, v in json.loads(data).items() if k != "created"}
        elif name.endswith((".parquet", ".json")):
            out[name] = data
    return out


def test_kill_9_midway_leaves_no_process_and_resume_is_byte_identical(tmp_path):
    import psutil

    args = ["run", "russia-2022", "--runs", "6", "--scale", "200", "--seed", "3", "--workers", "2"]
    out = tmp_path / "killed"
    env = os.environ | {"EMIGRE_CLUSTER": ""}
    a = subprocess.Popen(_emigre(*args, "--out", str(out)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=env, start_new_session=True)
    try:
        plan = out / ".partial" / "plan.json"
        deadline = time.time() + 180
        while not plan.exists() and a.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert plan.exists(), a.stderr.read().decode() if a.poll() is not None else "no plan after 180 s"
        # a second run into the same --out while the first one writes: refused, nothing touched
        b = subprocess.run(_emigre(*args, "--out", str(out)), capture_output=True, text=True, env=env,
                           timeout=300)
        assert b.returncode == 2 and "another emigre job is writing" in b.stderr and "Traceback" not in b.stderr
        shards = out / ".partial" / "runs"
        while a.poll() is None and time.time() < deadline + 120 and not list(shards.glob("run-*.parquet")):
            time.sleep(0.02)
        children = psutil.Process(a.pid).children(recursive=True)
        assert children, "the run has no worker processes"
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=30)
        done = len(list(shards.glob("run-*.parquet")))
        assert 1 <= done < 6
        gone, alive = psutil.wait_procs(children, timeout=30)
        assert alive == [], f"processes left behind: {[p.pid for p in alive]}"
        assert not (out / "manifest.json").exists()
    finally:
        if a.poll() is None:
            os.killpg(a.pid, signal.SIGKILL)
            a.wait()
    r = subprocess.run(_emigre(*args, "--resume", "--out", str(out)), capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    ref = tmp_path / "uninterrupted"
    r = subprocess.run(_emigre(*args, "--out", str(ref)), capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    got, want = _comparable(out), _comparable(ref)
    assert sorted(got) == sorted(want) and len([k for k in want if k.startswith("runs/run-")]) == 6
    assert len([k for k in want if k.startswith("runs/pred-")]) == 6  # each run's predictions, byte-identical too
    for name in want:
        assert got[name] == want[name], name
    assert ResultStore(out).verify()["runs_present"] == 6
