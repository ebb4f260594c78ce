"""One executor for every batch of simulations: local worker processes, or a Dask cluster.

>>> with open_executor(workers=2) as ex:                 # or cluster="tcp://10.0.0.5:8786" / "local:4"
...     results = run_many(simulate_one, [(spec,) for spec in specs], executor=ex)

A task is a module-level function and its arguments; every task carries its own seeds, so a result does not
depend on which process ran it, in what order, or how many workers there are: the batch is returned in task
order and is the same bit for bit on 1 local process, 16, or a cluster.

Failure handling:

- a local worker that dies (killed, out of memory) breaks the whole ``ProcessPoolExecutor``; the tasks not yet
  returned are submitted again to a fresh pool (at most :data:`POOL_RESTARTS` times). A task's result is taken
  once, by its index, so nothing is counted twice;
- on Dask, the scheduler moves the tasks of a lost worker to the others (up to its ``allowed-failures`` per
  task); a task that raises is not retried (an error in the inputs would only repeat); results are again
  taken once per index;
- the parent's death ends the local workers: each worker asks the kernel for SIGKILL when its parent dies
  (``PR_SET_PDEATHSIG``) and, as a fallback where that is unavailable, a thread polls ``os.getppid()``. Workers
  ignore SIGINT so a Ctrl-C is handled once, by the parent, which then terminates them.

The cluster comes from ``cluster`` or, when that is None, the environment variable :data:`CLUSTER_ENV`:
``tcp://HOST:PORT`` connects to a running ``dask scheduler``; ``local:N`` starts a ``distributed.LocalCluster``
of N single-threaded worker processes for this executor's lifetime.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from emigre.errors import EmigreError

#: environment variable naming the cluster when no --cluster option is given
CLUSTER_ENV = "EMIGRE_CLUSTER"
#: how many times a broken local pool is replaced within one batch before the batch fails
POOL_RESTARTS = 3
_TCP = re.compile(r"^tcp://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$")
_LOCAL = re.compile(r"^local:(\d+)$")

Progress = Callable[[int, int], None]


# ---------------------------------------------------------------------------------------------- workers
def _watch_parent(parent: int) -> None:
    """Worker initializer: die with the parent, leave Ctrl-C to it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def poll() -> None:
        import time

        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=poll, name="emigre-parent-watch", daemon=True).start()


def parse_cluster(cluster: str | None) -> str | None:
    """The cluster spec to use (``cluster``, else ``$EMIGRE_CLUSTER``), checked; None = local processes."""
    spec = cluster if cluster is not None else os.environ.get(CLUSTER_ENV)
    if spec is None:
        return None
    spec = spec.strip()
    if spec in ("", "none", "local"):
        return None
    where = "--cluster" if cluster is not None else CLUSTER_ENV
    m = _TCP.match(spec)
    if m:
        if not 0 < int(m.group(2)) < 65536:
            raise EmigreError(f"{where}: port {m.group(2)} is out of range 1-65535")
        return spec
    m = _LOCAL.match(spec)
    if m:
        n = int(m.group(1))
        if not 1 <= n <= 1024:
            raise EmigreError(f"{where}: local:N needs 1 <= N <= 1024 worker processes, got {n}")
        return spec
    raise EmigreError(f"{where}: expected tcp://HOST:PORT (a running dask scheduler) or local:N, got {spec!r}")


class LocalExecutor:
    """Worker processes on this machine (spawn: nothing inherited from the parent's state). ``workers == 1``
    runs the tasks in this process."""

    kind = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None
        self.restarts = 0  # pools replaced after a worker died (over this executor's life)

    def describe(self) -> str:
        """What runs the tasks, in words."""
        return f"{self.workers} local worker process{'es' if self.workers > 1 else ''}"

    def _new_pool(self, n: int) -> ProcessPoolExecutor:
        import multiprocessing as mp

        return ProcessPoolExecutor(n, mp_context=mp.get_context("spawn"), initializer=_watch_parent,
                                   initargs=(os.getpid(),))

    def _kill_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # the private process table is the only handle on the workers; terminate so that work in flight stops
        procs = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)

    def close(self) -> None:
        """Shut the worker processes down."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def imap(self, fn: Callable, args: Sequence[tuple]) -> Iterator[tuple[int, object]]:
        """``(index, result)`` of ``fn(*a)`` for each ``a`` in ``args``, as they finish."""
        if not args:
            return
        if self.workers == 1 or len(args) == 1:
            for i, a in enumerate(args):
                yield i, fn(*a)
            return
        pending = set(range(len(args)))
        breaks = 0
        try:
            while pending:
                if self._pool is None:
                    self._pool = self._new_pool(self.workers)
                futs = {self._pool.submit(fn, *args[i]): i for i in sorted(pending)}
                broken = False
                waiting = set(futs)
                while waiting:
                    fin, waiting = wait(waiting, return_when=FIRST_COMPLETED)
                    for f in sorted(fin, key=futs.__getitem__):
                        i = futs[f]
                        try:
                            res = f.result()
                        except BrokenProcessPool:
                            broken = True
                            continue
                        if i in pending:
                            pending.discard(i)
                            yield i, res
                    if broken:
                        break
                if broken:
                    breaks += 1
                    self.restarts += 1
                    self._kill_pool()
                    if breaks > POOL_RESTARTS:
                        raise EmigreError(
                            f"worker processes died {breaks} times in one batch ({len(pending)} tasks left); "
                            "out of memory? try fewer --workers or a larger --scale")
        except BaseException:
            self._kill_pool()  # Ctrl-C, an error in a task, or the caller stopping early: stop the work
            raise


class DaskExecutor:
    """Tasks on a Dask cluster: an existing scheduler (``tcp://HOST:PORT``) or a LocalCluster (``local:N``)."""

    kind = "dask"

    def __init__(self, spec: str, *, timeout: float = 20.0) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise EmigreError("--cluster needs dask[distributed]: pip install 'dask[distributed]'") from None
        self.spec = spec
        self._cluster = None
        m = _LOCAL.match(spec)
        try:
            if m:
                self._cluster = LocalCluster(n_workers=int(m.group(1)), threads_per_worker=1, processes=True,
                                             dashboard_address=None, host="127.0.0.1")
                self.client = Client(self._cluster, timeout=timeout)
            else:
                self.client = Client(spec, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise EmigreError(f"--cluster {spec}: cannot reach the dask scheduler ({exc})") from None

    def describe(self) -> str:
        """What runs the tasks, in words."""
        n = len(self.client.scheduler_info().get("workers", {}))
        return f"Dask cluster {self.spec} ({n} worker{'s' if n != 1 else ''})"

    def close(self) -> None:
        """Disconnect from the cluster (and stop a local one this executor started)."""
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def imap(self, fn: Callable, args: Sequence[tuple]) -> Iterator[tuple[int, object]]:
        """``(index, result)`` of ``fn(*a)`` for each ``a`` in ``args``, as they finish."""
        if not args:
            return
        from distributed import as_completed

        batch = uuid.uuid4().hex[:12]
        name = getattr(fn, "__name__", "task")
        futs = {self.client.submit(fn, *a, key=f"{name}-{batch}-{i}", pure=False): i
                for i, a in enumerate(args)}
        seen: set[int] = set()
        try:
            for f in as_completed(list(futs)):
                i = futs[f]
                res = f.result()
                if i not in seen:
                    seen.add(i)
                    yield i, res
        finally:
            self.client.cancel([f for f, i in futs.items() if i not in seen])


Executor = LocalExecutor | DaskExecutor


class open_executor:  # noqa: N801 - used as a function: `with open_executor(...) as ex`
    """Context manager: the executor for ``cluster`` (or ``$EMIGRE_CLUSTER``), else local processes."""

    def __init__(self, workers: int | None = None, cluster: str | None = None) -> None:
        self.spec = parse_cluster(cluster)
        self.workers = workers
        self.executor: Executor | None = None

    def __enter__(self) -> Executor:
        self.executor = DaskExecutor(self.spec) if self.spec else LocalExecutor(self.workers)
        return self.executor

    def __exit__(self, *exc) -> None:
        if self.executor is not None:
            self.executor.close()


def imap_many(fn: Callable, args: Sequence[tuple], *, executor: Executor | None = None,
              workers: int | None = None, cluster: str | None = None) -> Iterator[tuple[int, object]]:
    """(index, result) of each task as it completes (each index exactly once)."""
    if executor is not None:
        yield from executor.imap(fn, args)
        return
    with open_executor(workers, cluster) as ex:
        yield from ex.imap(fn, args)


def run_many(fn: Callable, args: Sequence[tuple], *, executor: Executor | None = None,
             workers: int | None = None, cluster: str | None = None,
             progress: Progress | None = None,
             on_result: Callable[[int, object], None] | None = None) -> list:
    """``[fn(*a) for a in args]``, run on the executor; ``progress(done, total)`` after each task,
    ``on_result(index, result)`` as each arrives (in completion order)."""
    args = list(args)
    if not args:
        return []
    out: list = [None] * len(args)
    if progress:
        progress(0, len(args))
    for done, (i, res) in enumerate(imap_many(fn, args, executor=executor, workers=workers, cluster=cluster), 1):
        out[i] = res
        if on_result:
            on_result(i, res)
        if progress:
            progress(done, len(args))
    return out


def progress_bar(description: str, total: int, unit: str = "tasks"):
    """A rich progress bar on stderr: a context manager that gives ``update(done, total)``."""
    from contextlib import contextmanager

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    @contextmanager
    def bar():
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
                      TimeElapsedColumn(), console=Console(stderr=True), transient=True) as p:
            task = p.add_task(description, total=total)
            yield lambda done, of: p.update(task, completed=done, total=of)

    return bar()


__all__ = ["CLUSTER_ENV", "DaskExecutor", "Executor", "LocalExecutor", "imap_many", "open_executor",
           "parse_cluster", "progress_bar", "run_many"]
