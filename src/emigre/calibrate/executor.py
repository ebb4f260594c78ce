"""Evaluating batches of parameter vectors: from the journal when already done, else on the executor.

The tasks go to :mod:`emigre.ensemble.executor` (local worker processes, or a Dask cluster with ``cluster``);
each worker process keeps one :class:`~emigre.calibrate.objective.Objective`. Every completed evaluation is
committed to the journal as it arrives, once per key, so a worker lost mid-batch (its tasks run again
elsewhere) or a killed client (``--resume`` reads the journal) never counts an evaluation twice. The batch is
returned in input order whatever order the workers finish in, so the algorithm above sees the same thing with
1 worker, 16, or a cluster.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from emigre.calibrate.journal import Journal
from emigre.calibrate.objective import Evaluation, Objective, evaluate_in_worker
from emigre.ensemble.executor import Executor, open_executor


class Evaluator:
    """``evaluator(X, stage) -> list[Evaluation]``; counts ``requested`` (the algorithm's evaluations, what the
    budget counts), ``run`` (simulated in this session) and ``reused`` (taken from the journal)."""

    def __init__(self, objective: Objective, journal: Journal | None = None, *, workers: int = 1,
                 cluster: str | None = None, progress: Callable[[dict], None] | None = None) -> None:
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
        self._opener = open_executor(self.workers, cluster)  # checks the cluster spec now, connects on use
        self._executor: Executor | None = None

    def _get_executor(self) -> Executor:
        if self._executor is None:
            self._executor = self._opener.__enter__()
        return self._executor

    def close(self) -> None:
        """Shut down the executor this evaluator opened."""
        if self._executor is not None:
            self._opener.__exit__(None, None, None)
            self._executor = None

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
        """Evaluate each row of ``X`` in row order, a point repeated in the batch once."""
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
        if todo and self._opener.spec is None and (self.workers == 1 or len(todo) == 1):
            for k, idx in todo.items():
                finish(k, obj(X[idx[0]]))
        elif todo:
            order = list(todo)
            tasks = [(obj.spec, obj.fingerprint, X[todo[k][0]]) for k in order]
            for j, ev in self._get_executor().imap(evaluate_in_worker, tasks):
                finish(order[j], ev)
        self.requested += len(X)
        return out  # type: ignore[return-value]
