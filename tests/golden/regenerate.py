"""The golden digests of tests/test_golden.py: what a small simulation, a Flee run, a small main job and a short
calibration produce.

This script is the ONLY way to update ``tests/golden/digests.json``, and only when the model changes on purpose
(a new rule, a fixed bug, a re-sourced number): say so in the commit message. A refactoring must leave every
digest unchanged. Run from the repository root::

    .venv/bin/python tests/golden/regenerate.py          # rewrite digests.json
    .venv/bin/python tests/golden/regenerate.py --check  # compare only (what the test does)
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIGESTS = HERE / "digests.json"

#: the cases: small enough for the whole test to take well under a minute once Numba's cache is warm
SIMULATE = {"seed": 3, "scale": 200.0, "end": "2022-06-30"}
FLEE = {"scenario": "mali2012", "seed": 1, "hasten": 10}
RUN = ["--runs", "2", "--scale", "400", "--seed", "5", "--workers", "1"]
#: one parameter and one observation parameter over March 2022: fit stage and SMC in a few seconds
CALIBRATE = {"names": ["baseline_emigration_per_year"], "obs": ["travel_level_2022"], "budget": 20, "particles": 3,
             "scale": 1000.0, "end": "2022-03-31", "seed": 2}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _frame_digest(frame) -> str:
    # CSV text: exact (shortest round-trip floats) and independent of the pandas hashing internals
    return _sha(frame.to_csv(index=False, lineterminator="\n"))


def simulate_digest() -> str:
    from emigre.behaviour.exodus import simulate

    return _frame_digest(simulate("russia-2022", **SIMULATE).to_frame())


def flee_digest(flee_dir: Path) -> str:
    from emigre.flee.output import out_csv_text
    from emigre.flee.reader import read_scenario, read_settings
    from emigre.jobs.flee_run import run_flee

    sc = read_scenario(flee_dir / "scenarios" / FLEE["scenario"])
    st = read_settings(flee_dir / "simsetting.yml")
    return _sha(out_csv_text(run_flee(sc, st, seed=FLEE["seed"], hasten=FLEE["hasten"])))


def run_digest() -> str:
    import pandas as pd

    from emigre.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            rc = main(["run", "russia-2022", *RUN, "--out", str(out)])
        if rc not in (0, None):
            raise RuntimeError(f"emigre run exited {rc}")
        shards = sorted((out / "runs").glob("run-*.parquet"))
        if len(shards) != 2:
            raise RuntimeError(f"expected 2 run shards, found {[p.name for p in shards]}")
        return _sha("".join(p.name + _frame_digest(pd.read_parquet(p)) for p in shards))


def calibrate_digest() -> str:
    from emigre.calibrate import calibrate, default_space

    c = CALIBRATE
    space = default_space(names=c["names"], obs=c["obs"])
    res = calibrate("russia-2022", space=space, budget=c["budget"], particles=c["particles"], scale=c["scale"],
                    end=c["end"], workers=1, out=None, progress=False, seed=c["seed"])
    return _frame_digest(res.posterior)


def compute(flee_dir: Path) -> dict[str, str]:
    return {"simulate": simulate_digest(), "flee": flee_digest(flee_dir), "run": run_digest(),
            "calibrate": calibrate_digest()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with digests.json instead of rewriting it")
    ap.add_argument("--flee-dir", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "flee")
    args = ap.parse_args(argv)
    got = compute(args.flee_dir)
    if args.check:
        want = json.loads(DIGESTS.read_text())
        bad = sorted(k for k in got if got[k] != want.get(k))
        print("golden digests: " + ("all equal" if not bad else "DIFFER: " + ", ".join(bad)))
        return 1 if bad else 0
    DIGESTS.write_text(json.dumps({"cases": {"simulate": SIMULATE, "flee": FLEE, "run": RUN, "calibrate": CALIBRATE}, **got}, indent=2)
                       + "\n")
    print(f"wrote {DIGESTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
