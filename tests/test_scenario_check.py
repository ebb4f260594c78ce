"""Broken copies of the russia-2022 data fail with file, line and column; the CLI verbs work."""

from __future__ import annotations

import json
import shutil

import pytest

from emigre.cli import main
from emigre.errors import InputError
from emigre.scenario import load_scenario
from emigre.scenario.load import packaged_dir


@pytest.fixture()
def copy(tmp_path):
    d = tmp_path / "world"
    shutil.copytree(packaged_dir("russia-2022"), d)
    return d


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    lines = text.splitlines()
    return next(i + 1 for i, ln in enumerate(lines) if old.split("\n")[0] in ln)


@pytest.mark.parametrize(
    ("file", "old", "new", "column", "message"),
    [
        ("links.csv", "road:Sochi-Psou,RUS:Sochi,", "road:Sochi-Psou,RUS:Sochy,", "from", "unknown place"),
        (
            "timeline.csv",
            "T012,2022-03-08,2022-03-20",
            "T012,2022-03-08,2022-02-30",
            "date_end",
            "invalid date",
        ),
        (
            "timeline.csv",
            "T012,2022-03-08,2022-03-20",
            "T012,2022-03-08,2022-03-01",
            "date_end",
            "before the start",
        ),
        (
            "links.csv",
            "air:SVO-IST,RUS:Moscow-SVO,TUR:Istanbul,air,,",
            "air:SVO-IST,RUS:Moscow-SVO,TUR:Istanbul,air,-5,",
            "distance_km",
            "below 0",
        ),
        ("entry_rules.csv", "TUR,foreign_passport,", "TUX,foreign_passport,", "country", "unknown country"),
        ("links.csv", ",AR006,", ",,", "source", "missing source"),
        (
            "entry_rules.csv",
            "TUR,foreign_passport,visa_free,60,,,,EV048",
            "TUR,foreign_passport,visa_free,60,,,,param:nope",
            "source",
            "unknown parameter",
        ),
        ("timeline.csv", "mode=air;from=RUS;to=GEO", "mode=air;from=RUS;to=GEX", "links", "unknown country"),
        (
            "entry_rules.csv",
            "TUR,foreign_passport,visa_free,60",
            "TUR,foreign_passport,visa_free_ish,60",
            "rule",
            "invalid rule",
        ),
    ],
)
def test_broken_copy_fails_with_file_line_column(copy, file, old, new, column, message):
    line = _edit(copy / file, old, new)
    with pytest.raises(InputError) as err:
        load_scenario(copy)
    e = err.value
    assert e.file.endswith(file) and e.line == line and str(e.column) == column
    assert message in str(e)
    report = load_scenario(copy, strict=False).check()
    assert not report.ok and any(
        p.file == file and p.line == line and p.column == column for p in report.problems
    )


def test_check_catches_unknown_evidence_id_and_coverage_gap(copy):
    line = _edit(copy / "links.csv", ",AR006,", ",AR999,")
    text = (copy / "entry_rules.csv").read_text(encoding="utf-8").splitlines()
    (copy / "entry_rules.csv").write_text(
        "\n".join(ln for ln in text if not ln.startswith("GEO,internal_passport")) + "\n", encoding="utf-8"
    )
    world = load_scenario(copy)  # row-level valid
    report = world.check()
    msgs = [str(p) for p in report.problems]
    assert any(f"links.csv, line {line}, column source: cited id AR999" in m for m in msgs)
    assert any("no internal_passport rule for GEO" in m for m in msgs)


def test_malformed_yaml_and_csv(copy):
    (copy / "params.yaml").write_text("scenario: {start: 2022-02-24\nparams: [\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_scenario(copy)
    assert err.value.file.endswith("params.yaml") and err.value.line is not None
    shutil.copy(packaged_dir("russia-2022") / "params.yaml", copy / "params.yaml")
    with (copy / "places.csv").open("a", encoding="utf-8") as fh:
        fh.write('GEO:Batumi,"Batumi\n')
    with pytest.raises(InputError, match="places.csv"):
        load_scenario(copy)


def test_cli_check_ok_and_failing(copy, capsys):
    assert main(["scenario", "check", "russia-2022"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "places" in out and "links" in out and "entry rules" in out
    _edit(copy / "links.csv", "road:Sochi-Psou,RUS:Sochi,", "road:Sochi-Psou,RUS:Sochy,")
    assert main(["scenario", "check", str(copy)]) == 2
    out = capsys.readouterr().out
    assert "FAILED" in out and "links.csv, line" in out and "column from" in out


def test_cli_show_json(capsys):
    assert main(["scenario", "show", "russia-2022", "--date", "2022-03-01", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["date"] == "2022-03-01"
    assert {"from": "RUS:Moscow-SVO", "to": "DEU:Frankfurt", "mode": "air", "open": False} in data["links"]
    assert {"from": "RUS:Moscow-SVO", "to": "TUR:Istanbul", "mode": "air", "open": True} in data["links"]
    assert {
        "country": "TUR",
        "document": "foreign_passport",
        "rule": "visa_free",
        "max_stay_days": 60,
    } in data["entry"]
    assert main(["scenario", "show", "russia-2022", "--date", "2022-03-01"]) == 0
    assert "restricted" in capsys.readouterr().out


def test_cli_routes(capsys):
    assert (
        main(
            [
                "scenario",
                "routes",
                "russia-2022",
                "--from",
                "RUS:Moscow",
                "--to",
                "GEO",
                "--date",
                "2022-09-25",
                "--json",
                "--limit",
                "50",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["routes"] and data["total_routes"] >= len(data["routes"])
    assert any("road:Upper-Lars-Tbilisi" in r["links"] for r in data["routes"])
    code = main(
        [
            "scenario",
            "routes",
            "russia-2022",
            "--from",
            "Moscow",
            "--to",
            "TUR",
            "--date",
            "2022-09-25",
            "--document",
            "internal_passport",
        ]
    )
    assert code == 1
    assert "TUR does not admit internal_passport" in capsys.readouterr().out
    assert (
        main(["scenario", "routes", "russia-2022", "--from", "Moskow", "--to", "GEO", "--date", "2022-09-25"])
        == 2
    )
    assert "did you mean RUS:Moscow" in capsys.readouterr().err


def test_cli_check_validates_the_exodus_tables(copy, capsys):
    """population.csv and destinations.csv (read by the exodus ruleset) are checked too, with file, line and
    column, before any simulation."""
    assert main(["scenario", "check", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "adults in 10 age/sex groups" in out and "39 destination profiles" in out
    line = _edit(copy / "population.csv", "18-24,male,", "18-24,mail,")
    assert main(["scenario", "check", str(copy)]) == 2
    out = capsys.readouterr().out
    assert "FAILED" in out and "population.csv" in out and f"line {line}" in out and "column sex" in out
    shutil.copy(packaged_dir("russia-2022") / "population.csv", copy / "population.csv")
    line = _edit(copy / "destinations.csv", "GEO,", "GEX,")
    assert main(["scenario", "check", str(copy)]) == 2
    out = capsys.readouterr().out
    assert "destinations.csv" in out and f"line {line}" in out and "column iso3" in out and "GEX" in out
