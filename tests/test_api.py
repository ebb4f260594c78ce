"""The public face (``from emigre import ...``): light to import, documented, and each name does its job on
small inputs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import emigre
from emigre.errors import EmigreError

PUBLIC = ["calibrate", "estimate", "load_evidence", "load_scenario", "run", "simulate"]


def test_import_emigre_loads_no_floor():
    """``import emigre`` must not pull in NumPy, pandas, Numba or any floor (the names import on use)."""
    code = ("import sys, emigre; print([m for m in sorted(sys.modules) if m.split('.')[0] in "
            "('numpy', 'pandas', 'numba') or (m.startswith('emigre.') and m != 'emigre.callable_package')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert sorted(set(emigre.__all__) - {"__version__"}) == PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_name_shows_a_three_line_use(name):
    doc = getattr(emigre, name).__doc__
    uses = [line.strip() for line in doc.splitlines() if line.strip().startswith(">>> ")]
    assert len(uses) >= 3 and uses[0].startswith(f">>> from emigre import {name}")


def test_calibrate_and_estimate_are_the_packages_and_call_their_function():
    from emigre import calibrate, estimate

    assert calibrate is sys.modules["emigre.calibrate"] and estimate is sys.modules["emigre.estimate"]
    with pytest.raises(EmigreError, match="too small"):
        calibrate("russia-2022", budget=10, particles=10, out=None, progress=False)
    with pytest.raises(EmigreError):
        estimate("no-such-quantity", "no-such-store")


def test_load_evidence_and_load_scenario():
    ev = emigre.load_evidence()
    assert len(ev.observations) >= 50 and ev.get("OBS014").value > 100_000
    world = emigre.load_scenario("russia-2022", params={"push_mobilization_intensity": 0.0})
    assert world.params["push_mobilization_intensity"].value == 0.0
    assert emigre.load_scenario().params["push_mobilization_intensity"].value > 0


def test_simulate_is_the_rulesets_simulate():
    from emigre.behaviour.exodus import simulate

    kw = dict(seed=1, scale=2000.0, end="2022-03-31")
    a = emigre.simulate("russia-2022", **kw)
    b = simulate("russia-2022", **kw)
    assert a.summary()["departed"] == b.summary()["departed"] > 10_000
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())


def test_run_then_estimate(tmp_path):
    """The main job on 2 runs at 2,000 persons per traveller (no posterior: seeds 0 and 1 at the defaults); the
    estimate of departures by the end of 2022 is the median over the two runs of what each run reported."""
    out = tmp_path / "run"
    report = emigre.run("russia-2022", out, runs=2, scale=2000.0, workers=1, posterior="none")
    assert report == out / "report.html" and report.stat().st_size > 100_000
    runs = json.loads((out / "summary.json").read_text())["runs"]
    assert [r["seed"] for r in runs] == [0, 1]
    [e] = emigre.estimate("departed", out, at="2022-12-31")
    assert e.runs == 2
    assert e.median == pytest.approx(np.median([r["departed_2022"] for r in runs]), rel=1e-9)
    assert e.lo90 <= e.median <= e.hi90


def test_calibrate_small():
    """3 particles, 20 evaluations of one parameter over March 2022 at 1,000 persons per traveller."""
    from emigre.calibrate import default_space

    space = default_space(names=["baseline_emigration_per_year"], obs=["travel_level_2022"])
    res = emigre.calibrate("russia-2022", space=space, budget=20, particles=3, scale=1000.0, end="2022-03-31",
                           workers=1, out=None, progress=False, seed=2)
    post = res.posterior
    # the budget is a cap: the sampler stops once its particles have decorrelated
    assert len(post) == 3 and 0 < res.fit["evaluations"]["requested"] <= 20
    np.testing.assert_allclose(post["logprior"] + post["loglik"], post["logpost"])
    assert (post["baseline_emigration_per_year"] > 0).all()
