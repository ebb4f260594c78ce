"""The day as an explicit, named plan of steps, timed per step.

A ruleset supplies its steps in order; :class:`Plan` runs them for each day and keeps the wall time of
every step, so a test can assert the order and a benchmark can show where time goes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Step:
    name: str
    run: Callable[[int], None]  # called with the day index
    doc: str = ""


@dataclass
class Plan:
    steps: list[Step]
    seconds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate step names in plan: {names}")
        self.seconds = {n: 0.0 for n in names}

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.steps]

    def run_day(self, day: int) -> None:
        for step in self.steps:
            t0 = time.perf_counter()
            step.run(day)
            self.seconds[step.name] += time.perf_counter() - t0

    def describe(self) -> str:
        return "\n".join(f"{i + 1}. {s.name}: {s.doc}" for i, s in enumerate(self.steps))
