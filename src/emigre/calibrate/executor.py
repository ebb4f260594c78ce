"""Evaluating batches of parameter vectors: from the journal when already done, else on worker processes.

Local worker processes (``ProcessPoolExecutor``, spawn context: no state forked from the parent) each keep one
:class:`~emigre.calibrate.objective.Objective`; every completed evaluation is committed to the journal before
the batch returns. The batch is returned in input order whatever order the workers finish in, so the
algorithm above sees the same thing with 1 worker or 16.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

import numpy as np

from emigre.calibrate.journal import Journal
from emigre.calibrate.objective import Evaluation, Objective, evaluate_in_worker


def _die_with_parent() -> None:
    """Worker initializer: on Linux, have the kernel kill this worker when the parent dies (kill -9), so an
    interrupted calibration leaves no orphan simulations running."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


class Evaluator:
    """``evaluator(X, stage) -> list[Evaluation]``; counts ``requested`` (the algorithm's evaluations, what the
    budget counts), ``run`` (simulated in this session) and ``reused`` (taken from the journal)."""

    def __init__(self, objective: Objective, journal: Journal | None = None, *, workers: int = 1,
                 progress: Callable[[dict], None] | None = None) -> None:
        self.objective = objective
        self.journal = journal
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self.progress = progress
        self.requested = 0
        self.run = 0
        self.reused = 0
        self.best_logpost = -np.inf
        self._memo: dict[str, Evaluation] = {}
        self.cpu_log: list[Evaluation] = []  # evaluations run in this session (for their CPU seconds)
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                             initializer=_die_with_parent)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _lookup(self, key: str) -> Evaluation | None:
        got = self._memo.get(key)
        if got is None and self.journal is not None:
            got = self.journal.get(key)
        return got

    def _store(self, key: str, seq: int, stage: str, ev: Evaluation, x: np.ndarray | None = None) -> None:
        if self.journal is not None:
            self.journal.put(key, seq, stage, ev, x)
        else:
            self._memo[key] = ev
        self.run += 1
        self.cpu_log.append(ev)
        if ev.logpost > self.best_logpost:
            self.best_logpost = ev.logpost

    def __call__(self, X: np.ndarray, stage: str) -> list[Evaluation]:
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        obj = self.objective
        keys = [obj.key(x) for x in X]
        out: list[Evaluation | None] = [None] * len(X)
        todo: dict[str, list[int]] = {}
        reused = 0
        for i, k in enumerate(keys):
            if k in todo:
                todo[k].append(i)
                reused += 1
                continue
            got = self._lookup(k)
            if got is not None:
                out[i] = got
                reused += 1
                self.best_logpost = max(self.best_logpost, got.logpost)
            else:
                todo[k] = [i]
        self.reused += reused
        if self.journal is not None:
            self.journal.note_reused(reused)
        base = self.requested
        done = len(X) - sum(len(v) for v in todo.values())

        def finish(k: str, ev: Evaluation) -> None:
            nonlocal done
            idx = todo[k]
            self._store(k, base + idx[0], stage, ev, X[idx[0]])
            for i in idx:
                out[i] = ev
            done += len(idx)
            if self.progress:
                self.progress({"stage": stage, "done": done, "of": len(X), "run": self.run, "reused": self.reused,
                               "best_logpost": self.best_logpost})

        if self.progress:
            self.progress({"stage": stage, "done": done, "of": len(X), "run": self.run, "reused": self.reused,
                           "best_logpost": self.best_logpost})
        if todo and (self.workers == 1 or len(todo) == 1):
            for k, idx in todo.items():
                finish(k, obj(X[idx[0]]))
        elif todo:
            pool = self._get_pool()
            futs = {pool.submit(evaluate_in_worker, obj.spec, obj.fingerprint, X[idx[0]]): k for k, idx in todo.items()}
            pending = set(futs)
            while pending:
                fin, pending = wait(pending, return_when=FIRST_COMPLETED)
                # commit in submission order within what finished together: same journal whatever the timing
                for f in sorted(fin, key=lambda f: keys.index(futs[f])):
                    finish(futs[f], f.result())
        self.requested += len(X)
        return out  # type: ignore[return-value]
