"""benchmarks/bench_loso.py's exact refit path: each refit row carries its figure's unit (from the evidence), so the
summary's widths leave percentages out; the calibration and the predictive check are stood in for by fakes that
record what they were asked (the real ones are measured by the benchmark, benchmarks/README.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def bench_loso(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    sys.modules.pop("bench_loso", None)
    import bench_loso

    return bench_loso


def test_refit_rows_take_their_unit_and_summarise(bench_loso, monkeypatch, tmp_path, capsys):
    import emigre.calibrate
    import emigre.estimate.validation

    asked = {}

    def fake_calibrate(scenario, **kw):
        asked["calibrate"] = (scenario, sorted(kw["exclude"]), kw["budget"], kw["resume"])

    class FakeResult:
        def __init__(self, ids):
            self.ids = ids

        def to_json(self):
            # validate's rows have no unit: OBS158 is a percentage (leavers back home), the others persons
            rows = {"OBS014": (True, 0.5, 500_000, 2_000_000), "OBS007": (False, -1.0, 250_000, 4_000_000),
                    "OBS158": (True, 0.1, 1.0, 100.0)}
            return {"rows": [{"id": i, "inside": rows[i][0], "log_error": rows[i][1], "lo90": rows[i][2],
                              "hi90": rows[i][3]} for i in self.ids]}

    def fake_validate(observations, **kw):
        asked["validate"] = ([o.id for o in observations], kw["posterior"])
        return FakeResult([o.id for o in observations])

    monkeypatch.setattr(emigre.calibrate, "calibrate", fake_calibrate)
    monkeypatch.setattr(emigre.estimate.validation, "validate", fake_validate)
    res = SimpleNamespace(rows=pd.DataFrame({"id": ["OBS014", "OBS007", "OBS158", "OBS001"],
                                             "source": ["S", "S", "S", "T"]}))
    out = bench_loso.refit_sources(res, ["S", "nobody"], budget=300, particles=20, out=str(tmp_path), draws=4,
                                   scale=50, workers=1, cluster=None)
    assert asked["calibrate"] == ("russia-2022", ["OBS007", "OBS014", "OBS158"], 300, False)
    assert asked["validate"] == (["OBS014", "OBS007", "OBS158"], tmp_path / "S" / "posterior.parquet")
    rows = out["S"]
    assert [r["unit"] for r in rows] == ["persons", "persons", "percent"]
    assert all(r["source"] == "S" for r in rows)
    printed = capsys.readouterr().out
    # 2 of 3 inside; median |log error| of 0.5, 1.0, 0.1; widths 4 and 16 (the percentage's 100 left out)
    assert "3 rows, coverage90 0.67, median |log error| 0.50, median hi90/lo90 10.0" in printed
    assert "no figure of source 'nobody'" in printed
    assert list(out) == ["S"]
