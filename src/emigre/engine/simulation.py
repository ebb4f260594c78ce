"""Running a ruleset on the engine: the one small interface every behaviour plugs into."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from emigre.engine.plan import Plan


class Ruleset(Protocol):
    """What the engine needs from a behaviour (``flee``, ``exodus``): a number of days and a plan of
    named steps bound to the ruleset's own state (population, network, result arrays)."""

    name: str
    n_days: int

    def plan(self) -> Plan: ...


Progress = Callable[[int, int], None]  # (days done, days in all)


def run_days(ruleset: Ruleset, progress: Progress | None = None) -> tuple[Plan, float]:
    """Run every day of ``ruleset``'s plan; returns the plan (with per-step timings) and wall seconds."""
    plan = ruleset.plan()
    t0 = time.perf_counter()
    for day in range(ruleset.n_days):
        plan.run_day(day)
        if progress is not None:
            progress(day + 1, ruleset.n_days)
    return plan, time.perf_counter() - t0
