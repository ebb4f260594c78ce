"""A real Dask cluster on 127.0.0.1 (one `dask scheduler`, two `dask worker` processes started by the test):
an ensemble and a calibration on it are byte for byte those of the local executor, also when a worker is
killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

from emigre.ensemble.executor import open_executor, run_many  # noqa: E402
from emigre.ensemble.run import run_ensemble  # noqa: E402

HOST = "127.0.0.1"
ENSEMBLE = dict(runs=4, seed=11, scale=200.0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)  # the worker and anything it started
    p.wait(timeout=30)


class Cluster:
    """A scheduler and ``n`` single-threaded workers (no nanny: killing a worker kills it for good)."""

    def __init__(self, n: int, log_dir: Path) -> None:
        self.port = _free_port()
        self.address = f"tcp://{HOST}:{self.port}"
        self.procs: list[subprocess.Popen] = []
        env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path), "EMIGRE_CLUSTER": ""}
        self.env = env
        self.log_dir = log_dir
        self._start("scheduler", ["distributed.cli.dask_scheduler", "--host", HOST, "--port", str(self.port),
                                  "--dashboard-address", ":0", "--no-show"])
        self.workers = [self._start(f"worker{i}", ["distributed.cli.dask_worker", self.address, "--host", HOST,
                                                   "--nthreads", "1", "--no-nanny", "--dashboard-address", ":0"])
                        for i in range(n)]
        self.wait_for(n)

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        p = subprocess.Popen([sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT, env=self.env,
                             start_new_session=True)
        self.procs.append(p)
        return p

    def wait_for(self, n: int, timeout: float = 120.0) -> None:
        from distributed import Client

        deadline = time.time() + timeout
        while True:
            try:
                with Client(self.address, timeout=5) as c:
                    c.wait_for_workers(n, timeout=max(1.0, deadline - time.time()))
                    return
            except (OSError, TimeoutError):
                if time.time() > deadline:
                    logs = "\n".join(p.read_text()[-2000:] for p in self.log_dir.glob("*.log"))
                    raise RuntimeError(f"the test cluster did not start:\n{logs}") from None
                time.sleep(0.5)

    def stop(self) -> None:
        for p in reversed(self.procs):
            _stop(p)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(2, tmp_path_factory.mktemp("dask-logs"))
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def local_ensemble(tmp_path_factory):
    d = tmp_path_factory.mktemp("local-ensemble")
    return d, run_ensemble("russia-2022", d, workers=1, **ENSEMBLE)


def _shards(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((d / "runs").glob("run-*.parquet"))}


def _untimed(summaries: list[dict]) -> list[dict]:
    return [{k: v for k, v in s.items() if k != "seconds"} for s in summaries]


def _same_ensemble(a: Path, sa: list[dict], b: Path, sb: list[dict]) -> None:
    shards = _shards(a)
    assert len(shards) == ENSEMBLE["runs"]
    assert _shards(b) == shards  # byte for byte
    assert _untimed(sb) == _untimed(sa)
    assert [s["seed"] for s in sb] == [11, 12, 13, 14]


def test_parse_cluster_from_option_and_environment(monkeypatch):
    from emigre.ensemble.executor import CLUSTER_ENV, parse_cluster
    from emigre.errors import EmigreError

    monkeypatch.delenv(CLUSTER_ENV, raising=False)
    assert parse_cluster(None) is None
    assert parse_cluster("tcp://127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert parse_cluster("local:3") == "local:3"
    monkeypatch.setenv(CLUSTER_ENV, "local:2")
    assert parse_cluster(None) == "local:2"
    assert parse_cluster("") is None  # an explicit empty option overrides the environment
    for bad, says in [("tcp://h", "tcp://HOST:PORT"), ("local:0", "1 <= N"), ("udp://h:1", "tcp://HOST:PORT"),
                      ("tcp://h:99999", "out of range")]:
        with pytest.raises(EmigreError, match=says.replace("+", r"\+")):
            parse_cluster(bad)
    monkeypatch.setenv(CLUSTER_ENV, "nonsense")
    with pytest.raises(EmigreError, match=CLUSTER_ENV):
        parse_cluster(None)


def test_ensemble_on_the_cluster_is_the_local_ensemble_byte_for_byte(cluster, local_ensemble, tmp_path):
    ref_dir, ref = local_ensemble
    got = run_ensemble("russia-2022", tmp_path, cluster=cluster.address, **ENSEMBLE)
    _same_ensemble(ref_dir, ref, tmp_path, got)
    two = tmp_path / "two-local"
    _same_ensemble(ref_dir, ref, two, run_ensemble("russia-2022", two, workers=2, **ENSEMBLE))


def test_tasks_are_spread_over_both_workers_and_returned_in_task_order(cluster):
    with open_executor(cluster=cluster.address) as ex:
        assert "2 workers" in ex.describe()
        got = run_many(_pid_after, [(0.3, i) for i in range(8)], executor=ex)
    assert [i for i, _ in got] == list(range(8))
    assert len({pid for _, pid in got}) == 2  # both workers took tasks


def _pid_after(seconds: float, i: int) -> tuple[int, int]:
    time.sleep(seconds)
    return i, os.getpid()


def test_calibration_on_the_cluster_is_the_local_calibration(cluster, tmp_path):
    from emigre.calibrate import calibrate, default_space

    kw = dict(budget=60, particles=10, scale=200.0, end="2022-04-15", progress=False, seed=5)
    names = ["baseline_emigration_per_year", "push_invasion_intensity", "push_invasion_decay_days"]
    space = default_space(names=names, obs=["travel_level_2022"])
    local = calibrate(space=space, out=tmp_path / "local", workers=1, **kw)
    dask = calibrate(space=space, out=tmp_path / "dask", cluster=cluster.address, **kw)
    pd.testing.assert_frame_equal(dask.posterior, local.posterior, check_exact=True)
    a = pd.read_parquet(tmp_path / "local" / "posterior.parquet")
    b = pd.read_parquet(tmp_path / "dask" / "posterior.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    fa, fb = (json.loads((tmp_path / d / "fit.json").read_text()) for d in ("local", "dask"))
    assert fa["map"] == fb["map"]
    assert fb["evaluations"]["run"] == fb["evaluations"]["journal_rows"] == fa["evaluations"]["run"]


def test_a_worker_killed_mid_run_changes_nothing(tmp_path, local_ensemble):
    """Kill one of two workers while it simulates: its tasks run again on the other, every run is stored
    once and the ensemble is the local one byte for byte."""
    ref_dir, ref = local_ensemble
    c = Cluster(2, tmp_path)
    try:
        out = tmp_path / "store"
        result: dict = {}
        t = threading.Thread(target=lambda: result.setdefault(
            "summaries", run_ensemble("russia-2022", out, cluster=c.address, **ENSEMBLE)))
        t.start()
        # kill worker 0 as soon as it is busy (its CPU time grows) and before the batch is done
        import psutil

        w = psutil.Process(c.workers[0].pid)
        base = w.cpu_times().user
        deadline = time.time() + 120
        while time.time() < deadline and w.cpu_times().user - base < 0.5 and t.is_alive():
            time.sleep(0.05)
        assert t.is_alive(), "the batch ended before a worker could be killed"
        os.killpg(c.workers[0].pid, signal.SIGKILL)
        t.join(timeout=300)
        assert not t.is_alive()
        assert c.workers[0].wait(timeout=10) == -signal.SIGKILL
        _same_ensemble(ref_dir, ref, out, result["summaries"])
        assert sorted(json.loads(p.read_text())["run"] for p in (out / "summaries").iterdir()) == [0, 1, 2, 3]
    finally:
        c.stop()


def test_local_cluster_spec_runs_the_same(local_ensemble, tmp_path):
    ref_dir, ref = local_ensemble
    got = run_ensemble("russia-2022", tmp_path, cluster="local:2", **ENSEMBLE)
    _same_ensemble(ref_dir, ref, tmp_path, got)
    assert np.isfinite([s["departed"] for s in got]).all()
