"""The local executor: results in task order whatever the worker count, a worker that dies has its tasks run
again (each result taken once), a task's error propagates, and the parent's death ends its workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from emigre.ensemble.executor import LocalExecutor, run_many
from emigre.errors import EmigreError


def _square_after(i: int, seconds: float) -> tuple[int, int]:
    time.sleep(seconds * ((i * 7) % 3))  # finish out of order
    return i, i * i


def _die_once(i: int, marker: str) -> int:
    """Task 2 kills its worker process the first time it runs (the marker file remembers)."""
    if i == 2 and not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os._exit(9)
    time.sleep(0.05)
    return i * 10


def _fail(i: int) -> int:
    if i == 1:
        raise EmigreError("task 1 is bad")
    return i


def test_results_come_in_task_order_for_any_worker_count():
    args = [(i, 0.05) for i in range(9)]
    one = run_many(_square_after, args, workers=1)
    seen = []
    two = run_many(_square_after, args, workers=2, progress=lambda d, n: seen.append((d, n)))
    assert one == two == [(i, i * i) for i in range(9)]
    assert seen[0] == (0, 9) and seen[-1] == (9, 9) and len(seen) == 10


def test_a_dead_worker_has_its_tasks_run_again_once(tmp_path):
    marker = tmp_path / "died"
    arrived: list[int] = []
    ex = LocalExecutor(2)
    try:
        got = run_many(_die_once, [(i, str(marker)) for i in range(8)], executor=ex,
                       on_result=lambda i, r: arrived.append(i))
    finally:
        ex.close()
    assert marker.exists()  # a worker did die
    assert got == [i * 10 for i in range(8)]
    assert sorted(arrived) == list(range(8))  # every task counted exactly once
    assert ex.restarts == 1


def test_an_error_in_a_task_propagates():
    with pytest.raises(EmigreError, match="task 1 is bad"):
        run_many(_fail, [(i,) for i in range(4)], workers=2)


_DRIVER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    from emigre.ensemble.executor import run_many
    from test_executor import _square_after

    if __name__ == "__main__":
        run_many(_square_after, [(i, 30.0) for i in range(1, 5)], workers=2)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_parent_ends_its_workers(tmp_path, sig):
    import psutil

    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER.format(tests=str(Path(__file__).parent)))
    p = subprocess.Popen([sys.executable, str(driver)], start_new_session=True,
                         env=os.environ | {"EMIGRE_CLUSTER": ""})
    try:
        proc = psutil.Process(p.pid)
        deadline = time.time() + 120
        workers: list = []
        while time.time() < deadline and len(workers) < 2:
            time.sleep(0.2)
            workers = [c for c in proc.children(recursive=True) if "resource_tracker" not in " ".join(c.cmdline())]
        assert len(workers) >= 2, "the workers did not start"
        children = proc.children(recursive=True)
        time.sleep(1.0)  # let them take their tasks
        p.send_signal(sig)
        p.wait(timeout=30)
        _, alive = psutil.wait_procs(children, timeout=20)
        assert alive == [], f"left behind: {[c.pid for c in alive]}"
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
