"""Edited copies of a scenario: what-if timeline rows written into a copy of its directory, never into the
packaged files (the API's closures, ``benchmarks/bench_surge.py``)."""

from __future__ import annotations

import shutil
from pathlib import Path


def scenario_with_timeline(scenario_dir: Path, rows: list[tuple], into: Path) -> Path:
    """A copy of the scenario with extra timeline rows, each ``(effect, selector, value, start, end, description)``
    (dates as ``datetime.date``, ``end`` None for open-ended, ``value`` "" where the effect takes none). A what-if
    has no evidence: its source is the documented parameter-free request, named as such."""
    target = into / scenario_dir.name
    shutil.copytree(scenario_dir, target)
    path = target / "timeline.csv"
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    for i, (effect, selector, value, start, end, description) in enumerate(rows):
        stop = end.isoformat() if end else ""
        text += (f"WHATIF{i:03d},{start.isoformat()},{stop},{effect},{selector},{value},"
                 f"http://127.0.0.1/what-if,{description}\n")
    path.write_text(text, encoding="utf-8")
    return target
