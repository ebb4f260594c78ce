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
    """One named step of a day, called with the day index."""

    name: str
    run: Callable[[int], None]  # called with the day index
    doc: str = ""


@dataclass
class Plan:
    """A day as an ordered list of named steps, with the seconds each has taken."""

    steps: list[Step]
    seconds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate step names in plan: {names}")
        self.seconds = dict.fromkeys(names, 0.0)

    @property
    def names(self) -> list[str]:
        """The step names, in order."""
        return [s.name for s in self.steps]

    def insert(self, run: Callable[[int], None], label: str, *, after: str | None = None, doc: str = "") -> Step:
        """Add a step named ``label`` after the step ``after`` (default: at the end of the day), as Starsim's
        ``Loop.insert``: a progress bar, a guard or a test's probe plugs into the one plan instead of a copy of
        the day loop. Returns the step."""
        if label in self.seconds:
            raise ValueError(f"duplicate step name in plan: {label}")
        step = Step(label, run, doc)
        if after is None:
            self.steps.append(step)
        else:
            names = self.names
            if after not in names:
                raise ValueError(f"no step {after!r} in plan: {names}")
            self.steps.insert(names.index(after) + 1, step)
        self.seconds[label] = 0.0
        return step

    def run_day(self, day: int) -> None:
        """Run every step for ``day``, adding up the seconds each takes."""
        for step in self.steps:
            t0 = time.perf_counter()
            step.run(day)
            self.seconds[step.name] += time.perf_counter() - t0

    def describe(self) -> str:
        """The steps as a numbered list with what each does."""
        return "\n".join(f"{i + 1}. {s.name}: {s.doc}" for i, s in enumerate(self.steps))
