"""The calibration journal: every completed evaluation, committed as it completes (SQLite, WAL mode).

Keyed by a hash of (parameter vector, seeds, scale, horizon, observation set, scenario files), so a resumed
calibration - which replays the same deterministic algorithm - finds its finished evaluations here instead of
running them again. A kill -9 loses only the evaluations in flight: a row is either committed whole or absent.
Each session (a start or a resume) is recorded with how many evaluations it reused and how many it ran.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import numpy as np

from emigre.calibrate.objective import Evaluation

_SCHEMA = """
CREATE TABLE IF NOT EXISTS evals (
    key TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    stage TEXT NOT NULL,
    session INTEGER NOT NULL,
    logprior REAL NOT NULL,
    loglik REAL NOT NULL,
    x BLOB,
    ll BLOB NOT NULL,
    pred BLOB NOT NULL,
    seconds REAL NOT NULL,
    cpu REAL,
    error TEXT,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,
    finished REAL,
    reused INTEGER NOT NULL DEFAULT 0,
    run INTEGER NOT NULL DEFAULT 0,
    note TEXT
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _f(v: float) -> float:
    # SQLite REAL takes +-inf but not NaN
    return -1e308 if v != v else v


class Journal:
    """Open (create) the journal at ``path``; ``fresh`` removes an existing one first."""

    def __init__(self, path: str | Path, *, fresh: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                p = Path(str(self.path) + suffix)
                if p.exists():
                    p.unlink()
        self.db = sqlite3.connect(str(self.path), timeout=60.0)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # durable against a killed process (not a power cut)
        self.db.executescript(_SCHEMA)
        self.db.commit()
        self.session = int(self.db.execute("INSERT INTO sessions (started) VALUES (?)", (time.time(),)).lastrowid)
        self.db.commit()
        self.reused = 0
        self.run = 0

    # ------------------------------------------------------------------ meta
    def get_meta(self, name: str) -> str | None:
        """A value of the journal's meta table, or None."""
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, name: str, value: str) -> None:
        """Set a value of the journal's meta table."""
        self.db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))
        self.db.commit()

    # ------------------------------------------------------------------ evaluations
    def get(self, key: str) -> Evaluation | None:
        """The journalled evaluation of ``key``, or None if it was not evaluated."""
        row = self.db.execute(
            "SELECT logprior, loglik, ll, pred, seconds, error, cpu FROM evals WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        lp, ll, llb, pb, sec, err, cpu = row
        return Evaluation(float(lp), float(ll), np.frombuffer(llb, dtype=np.float64).copy(),
                          np.frombuffer(pb, dtype=np.float64).copy(), float(sec), err, float(cpu or 0.0))

    def put(self, key: str, seq: int, stage: str, ev: Evaluation, x: np.ndarray | None = None) -> None:
        """Commit one evaluation (ignored if the key is already there: never stored twice)."""
        self.db.execute(
            "INSERT OR IGNORE INTO evals (key, seq, stage, session, logprior, loglik, x, ll, pred, seconds, cpu, "
            "error, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, int(seq), stage, self.session, _f(ev.logprior), _f(ev.loglik),
             None if x is None else np.ascontiguousarray(x, dtype=np.float64).tobytes(),
             np.ascontiguousarray(ev.ll, dtype=np.float64).tobytes(),
             np.ascontiguousarray(ev.pred, dtype=np.float64).tobytes(), float(ev.seconds), float(ev.cpu), ev.error,
             time.time()),
        )
        self.db.execute("UPDATE sessions SET run = run + 1 WHERE id = ?", (self.session,))
        self.db.commit()
        self.run += 1

    def note_reused(self, n: int) -> None:
        """Count ``n`` evaluations taken from the journal in this session."""
        if n:
            self.reused += n
            self.db.execute("UPDATE sessions SET reused = reused + ? WHERE id = ?", (int(n), self.session))
            self.db.commit()

    def finish(self, note: str | None = None) -> None:
        """Mark this session finished, with an optional note."""
        self.db.execute("UPDATE sessions SET finished = ?, note = ? WHERE id = ?", (time.time(), note, self.session))
        self.db.commit()

    def frame(self):
        """Every evaluation as a DataFrame: key, seq, stage, session, logprior, loglik, seconds, error, x."""
        import pandas as pd

        rows = self.db.execute(
            "SELECT key, seq, stage, session, logprior, loglik, seconds, cpu, error, x FROM evals ORDER BY seq"
        ).fetchall()
        df = pd.DataFrame(rows, columns=["key", "seq", "stage", "session", "logprior", "loglik", "seconds", "cpu",
                                         "error", "x"])
        df["x"] = [None if b is None else np.frombuffer(b, dtype=np.float64).copy() for b in df["x"]]
        return df

    def _pairs(self, columns: str, where: str, stage_prefix: str) -> tuple[np.ndarray, np.ndarray]:
        """Two float64 blob columns of the evaluations without an error (and ``where``) whose stage starts with
        ``stage_prefix``, stacked as two [evaluations, width] arrays in journal order."""
        rows = self.db.execute(
            f"SELECT {columns} FROM evals WHERE error IS NULL {where} AND substr(stage, 1, ?) = ? ORDER BY seq",
            (len(stage_prefix), stage_prefix),
        ).fetchall()
        if not rows:
            return np.empty((0, 0)), np.empty((0, 0))
        return tuple(np.vstack([np.frombuffer(r[k], dtype=np.float64) for r in rows]) for k in (0, 1))

    def arrays(self, stage_prefix: str = "") -> tuple[np.ndarray, np.ndarray]:
        """The per-figure log-likelihoods and predictions of every evaluation without an error whose stage starts
        with ``stage_prefix`` (all by default), as two ``[evaluations, figures]`` arrays in journal order."""
        return self._pairs("ll, pred", "", stage_prefix)

    def parameters(self, stage_prefix: str = "") -> tuple[np.ndarray, np.ndarray]:
        """The evaluated parameter points (natural units) and per-figure log-likelihoods of every evaluation
        without an error whose stage starts with ``stage_prefix`` and whose point was journalled, as
        ``[evaluations, parameters]`` and ``[evaluations, figures]`` arrays in journal order."""
        return self._pairs("x, ll", "AND x IS NOT NULL", stage_prefix)

    def count(self) -> int:
        """Number of journalled evaluations."""
        return int(self.db.execute("SELECT COUNT(*) FROM evals").fetchone()[0])

    def sessions(self) -> list[dict]:
        """Every session of the journal, oldest first."""
        cur = self.db.execute("SELECT id, started, finished, reused, run, note FROM sessions ORDER BY id")
        return [dict(zip(("id", "started", "finished", "reused", "run", "note"), r, strict=True)) for r in cur]

    def close(self) -> None:
        """Close the journal's database."""
        self.db.close()
