"""Running a ruleset on the engine: the one small interface every behaviour plugs into."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from emigre.engine.plan import Plan


class Ruleset(Protocol):
    """What the engine needs from a behaviour (``flee``, ``exodus``): a number of days and a plan of
    named steps bound to the ruleset's own state (population, network, result arrays)."""

    name: str
    n_days: int

    def plan(self) -> Plan:
        """The day as named steps bound to the ruleset's arrays."""
        ...


Progress = Callable[[int, int], None]  # (days done, days in all)
#: an extra day step: ``(label, fn)`` with ``fn(ruleset, day)``, run after the ruleset's own steps
ExtraStep = tuple[str, Callable[[Ruleset, int], None]]


def run_days(
    ruleset: Ruleset, progress: Progress | None = None, steps: Sequence[ExtraStep] = ()
) -> tuple[Plan, float]:
    """Run every day of ``ruleset``'s plan; returns the plan (with per-step timings) and wall seconds.

    ``steps`` are inserted at the end of the day (in order; each may raise to stop the run), then
    ``progress(days done, days in all)`` as a last step named ``progress``."""
    plan = ruleset.plan()
    for label, fn in steps:
        plan.insert(functools.partial(fn, ruleset), label)
    if progress is not None:
        n_days = ruleset.n_days
        plan.insert(lambda day: progress(day + 1, n_days), "progress", doc="report the days done")
    t0 = time.perf_counter()
    for day in range(ruleset.n_days):
        plan.run_day(day)
    return plan, time.perf_counter() - t0
