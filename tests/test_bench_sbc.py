"""benchmarks/bench_sbc.py's runner on the known target (seconds): every finished replicate is journalled at once,
``--resume`` runs only the missing ones and gives the same figures as one uninterrupted run, a journal of other
settings is refused with what differs, a half-written last line (a run killed mid-write) is dropped, and the
replicates are the same on one worker or two (the simulator target is measured by the benchmark itself,
docs/calibrate.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_sbc.py"


def _run(tmp_path: Path, name: str, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(BENCH), "--target", "known", "--particles", "60", "--json", str(tmp_path / name),
           *extra]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if check:
        assert res.returncode == 0, res.stderr
    return res


def _replicates(path: Path) -> list[dict]:
    return json.loads(path.read_text())["replicates"]


def test_resume_runs_only_the_missing_replicates_and_matches_one_run(tmp_path):
    whole = _run(tmp_path, "whole.json", "--replicates", "3")
    assert "replicate   2" in whole.stdout
    _run(tmp_path, "part.json", "--replicates", "2")
    journal = tmp_path / "part.json.replicates.jsonl"
    assert len(journal.read_text().splitlines()) == 1 + 2  # header + one line per replicate
    # a run killed while writing its third line leaves half a line: dropped on resume
    with journal.open("a") as fh:
        fh.write('{"replicate": 2, "cov')
    res = _run(tmp_path, "part.json", "--replicates", "3", "--resume")
    assert "resumed: 2 replicates" in res.stdout and "1 to run" in res.stdout
    assert "replicate   0" not in res.stdout and "replicate   2" in res.stdout
    a, b = _replicates(tmp_path / "whole.json"), _replicates(tmp_path / "part.json")
    assert [r["replicate"] for r in b] == [0, 1, 2]
    for ra, rb in zip(a, b, strict=True):
        assert ra["covered"] == rb["covered"] and ra["rank"] == rb["rank"] and ra["truth"] == rb["truth"]
    assert json.loads((tmp_path / "whole.json").read_text())["coverage90"] == pytest.approx(
        json.loads((tmp_path / "part.json").read_text())["coverage90"], abs=0)


def test_resume_refuses_a_journal_of_other_settings(tmp_path):
    _run(tmp_path, "s.json", "--replicates", "1")
    res = _run(tmp_path, "s.json", "--replicates", "2", "--particles", "80", "--resume", check=False)
    assert res.returncode != 0
    assert "written with other settings" in res.stderr and "particles 60 (journal) vs 80" in res.stderr
    assert "Traceback" not in res.stderr


def test_replicates_do_not_depend_on_the_worker_count(tmp_path):
    _run(tmp_path, "w1.json", "--replicates", "2", "--workers", "1")
    _run(tmp_path, "w2.json", "--replicates", "2", "--workers", "2")
    a, b = _replicates(tmp_path / "w1.json"), _replicates(tmp_path / "w2.json")
    assert [r["rank"] for r in a] == [r["rank"] for r in b]
    assert all(r["decorrelated"] for r in a)  # the known target, no cap: every replicate decorrelates
