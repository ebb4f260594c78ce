"""Regression: a small simulation, a Flee run, a small main job and a short calibration give the recorded
content digests.

A refactoring leaves every digest unchanged. When the model changes on purpose, update the digests with
``tests/golden/regenerate.py`` (the only way; see its docstring) and say why in the commit."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import FLEE_DIR, require_shared

_spec = importlib.util.spec_from_file_location("golden_regenerate", Path(__file__).parent / "golden" / "regenerate.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)
WANT = json.loads(golden.DIGESTS.read_text())

HINT = "output changed; if on purpose, run tests/golden/regenerate.py and say why in the commit"


def test_simulate_matches_its_golden_digest():
    assert golden.simulate_digest() == WANT["simulate"], HINT


def test_flee_run_matches_its_golden_digest():
    require_shared()
    assert golden.flee_digest(FLEE_DIR) == WANT["flee"], HINT


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_small_main_job_matches_its_golden_digest():
    assert golden.run_digest() == WANT["run"], HINT


def test_short_calibration_matches_its_golden_digest():
    assert golden.calibrate_digest() == WANT["calibrate"], HINT
