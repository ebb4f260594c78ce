"""A Flee run: a Flee-format scenario read, simulated under Flee 3's rules on the emigre engine, and its ARD.

A job, because it combines the Flee formats (``emigre.flee``), the Flee ruleset (``emigre.behaviour.flee``)
and the engine; ``emigre flee run`` and ``emigre flee validate`` call it.
"""

from __future__ import annotations

from pathlib import Path

from emigre.behaviour.flee import FleeResult, FleeRuleset
from emigre.engine.simulation import Progress, run_days
from emigre.flee.model import FleeScenario, FleeSettings
from emigre.flee.output import ard
from emigre.flee.reader import find_settings, read_scenario, read_settings

#: Flee scenarios shipped inside the package (``emigre flee run mali2012`` works offline).
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "data" / "flee"


def resolve_scenario_dir(scenario_dir: str | Path) -> Path:
    """A directory path as given, or the name of a packaged example when no such directory exists."""
    p = Path(scenario_dir)
    if not p.exists() and p.name == str(scenario_dir) and (EXAMPLES_DIR / p.name).is_dir():
        return EXAMPLES_DIR / p.name
    return p


def load(scenario_dir: str | Path, settings: str | Path | None = None) -> tuple[FleeScenario, FleeSettings]:
    """Read and validate a scenario directory (or packaged example name) and its settings: an explicit
    file, else simsetting.yml in the scenario directory, its parent or grandparent."""
    directory = resolve_scenario_dir(scenario_dir)
    scenario = read_scenario(directory)
    return scenario, read_settings(find_settings(directory, settings))


def run_flee(
    scenario: FleeScenario,
    settings: FleeSettings,
    *,
    seed: int = 0,
    hasten: int | None = None,
    progress: Progress | None = None,
) -> FleeResult:
    """Simulate every day of ``scenario`` under Flee 3's rules; same seed, same result."""
    ruleset = FleeRuleset(scenario, settings, seed=seed, hasten=hasten)
    plan, seconds = run_days(ruleset, progress)
    return ruleset.result(seconds=seconds, step_seconds=dict(plan.seconds))


def result_ard(result: FleeResult) -> float:
    """The averaged relative difference of the run's camp populations against the UNHCR data."""
    return ard(result.camp_sim, result.camp_data)
