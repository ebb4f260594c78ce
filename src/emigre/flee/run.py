"""Python API: run a Flee-format scenario on the emigre engine."""

from __future__ import annotations

from pathlib import Path

from emigre.behaviour.flee import FleeResult, FleeRuleset
from emigre.engine.simulation import Progress, run_days
from emigre.flee.model import FleeScenario, FleeSettings
from emigre.flee.output import ard
from emigre.flee.reader import find_settings, read_scenario, read_settings


def load(scenario_dir: str | Path, settings: str | Path | None = None) -> tuple[FleeScenario, FleeSettings]:
    """Read and validate a scenario directory and its settings (explicit file, or simsetting.yml in the
    scenario directory or its parent)."""
    scenario = read_scenario(scenario_dir)
    return scenario, read_settings(find_settings(scenario_dir, settings))


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
    return ard(result.camp_sim, result.camp_data)
