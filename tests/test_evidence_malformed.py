"""Malformed evidence files fail with exit code 2 and one line naming the file, the line and the column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from emigre import fileio
from emigre.cli import main
from emigre.errors import InputError
from emigre.evidence import data_dir, load_events, load_observations, load_survey_shares, load_visa_history
from emigre.evidence.schema import EVENT_COLUMNS, OBSERVATION_COLUMNS, SURVEY_COLUMNS


def _packaged_rows(name: str, n: int = 2) -> list[dict[str, str]]:
    with (data_dir() / name).open(encoding="utf-8") as fh:
        return [row for _, row in zip(range(n), csv.DictReader(fh), strict=False)]


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _obs_file(tmp_path: Path, changes: dict[str, str] | None = None, *, row: int = 1) -> Path:
    """Two valid observation rows (lines 2 and 3), with ``changes`` applied to data row ``row``."""
    rows = _packaged_rows("observations.csv")
    if changes:
        rows[row].update(changes)
    path = tmp_path / "obs.csv"
    path.write_text(_csv_text(list(OBSERVATION_COLUMNS), [[r[c] for c in OBSERVATION_COLUMNS] for r in rows]))
    return path


def _load_fails(capsys, path: Path, *, line: int | None, column: str | int | None, also: str = "") -> str:
    code = main(["evidence", "load", str(path)])
    out, err = capsys.readouterr()
    assert code == 2, out
    assert err.startswith("error: ") and err.count("\n") == 1, err  # one line, no traceback
    assert str(path) in err
    if line is not None:
        assert f"line {line}," in err or err.rstrip().endswith(f"line {line}") or f"line {line}:" in err, err
    if column is not None:
        assert f"column {column}" in err, err
    assert also in err, err
    return err


# --- observations: one broken cell each (line 3 = the second data row) -------------------------------

CELL_CASES = [
    ("bad date", {"period_start": "2022/09/21"}, "period_start", "YYYY-MM-DD"),
    ("impossible date", {"period_end": "2022-02-30"}, "period_end", "day 30 does not exist"),
    ("impossible month", {"publication_date": "2022-13"}, "publication_date", "month 13"),
    ("non-integer quantity", {"quantity": "300,000"}, "quantity", "an integer"),
    ("decimal quantity", {"quantity": "12.5"}, "quantity", "an integer"),
    ("low above high", {"quantity": "", "low": "700000", "high": "600000"}, "high", "below low"),
    ("only low", {"quantity": "", "low": "100", "high": ""}, "high", "needs both low and high"),
    ("no figure at all", {"quantity": "", "low": "", "high": ""}, "quantity", "no figure"),
    ("quantity outside range", {"quantity": "5", "low": "10", "high": "20"}, "quantity", "outside low..high"),
    ("unknown kind", {"kind": "emigrants"}, "kind", "cumulative_outflow_total"),
    ("bad ISO3", {"destination": "XYZ"}, "destination", "ISO 3166-1 alpha-3"),
    ("lowercase ISO3", {"destination": "geo"}, "destination", "'geo'"),
    ("bad origin", {"origin": "ZZ"}, "origin", "alpha-2 or alpha-3"),
    (
        "period ends before start",
        {"period_start": "2022-10-01", "period_end": "2022-09-30"},
        "period_end",
        "ends",
    ),
    ("empty required quote", {"quote": ""}, "quote", "quote is empty"),
    ("empty publisher", {"publisher": ""}, "publisher", "publisher is empty"),
    ("bad url", {"url": "www.example.org/x"}, "url", "http:// or https://"),
    ("bad id", {"id": "OBS 2"}, "id", "bad id"),
    ("percent over 100", {"quantity": "180", "notes": "PERCENT of all"}, "quantity", "0..100"),
]


@pytest.mark.parametrize(("label", "changes", "column", "also"), CELL_CASES, ids=[c[0] for c in CELL_CASES])
def test_bad_cell(tmp_path, capsys, label, changes, column, also):
    path = _obs_file(tmp_path, changes)
    _load_fails(capsys, path, line=3, column=column, also=also)
    # the Python API raises the same structured error
    with pytest.raises(InputError) as info:
        load_observations(path)
    assert (info.value.file, info.value.line, info.value.column) == (str(path), 3, column)


def test_duplicate_id(tmp_path, capsys):
    path = _obs_file(tmp_path, {"id": "OBS001"})
    _load_fails(capsys, path, line=3, column="id", also="duplicate id 'OBS001' (first on line 2)")


def test_missing_column(tmp_path, capsys):
    cols = [c for c in OBSERVATION_COLUMNS if c != "notes"]
    rows = _packaged_rows("observations.csv")
    path = tmp_path / "missing.csv"
    path.write_text(_csv_text(cols, [[r[c] for c in cols] for r in rows]))
    _load_fails(capsys, path, line=1, column="notes", also="missing column notes")


def test_misnamed_column(tmp_path, capsys):
    rows = _packaged_rows("observations.csv")
    header = ["quantiy" if c == "quantity" else c for c in OBSERVATION_COLUMNS]
    path = tmp_path / "misnamed.csv"
    path.write_text(_csv_text(header, [[r[c] for c in OBSERVATION_COLUMNS] for r in rows]))
    _load_fails(capsys, path, line=1, column="quantity", also="unexpected column quantiy")


def test_extra_column(tmp_path, capsys):
    rows = _packaged_rows("observations.csv")
    header = [*OBSERVATION_COLUMNS, "comment"]
    path = tmp_path / "extra.csv"
    path.write_text(_csv_text(header, [[*(r[c] for c in OBSERVATION_COLUMNS), "x"] for r in rows]))
    _load_fails(capsys, path, line=1, column="comment", also="unexpected column comment")


def test_short_row(tmp_path, capsys):
    rows = _packaged_rows("observations.csv")
    path = tmp_path / "short.csv"
    body = [[rows[0][c] for c in OBSERVATION_COLUMNS], [rows[1][c] for c in OBSERVATION_COLUMNS][:9]]
    path.write_text(_csv_text(list(OBSERVATION_COLUMNS), body))
    _load_fails(capsys, path, line=3, column="publisher", also="row has 9 fields, the header has 14")


def test_semicolon_delimiter(tmp_path, capsys):
    path = tmp_path / "semi.csv"
    path.write_text(
        ";".join(OBSERVATION_COLUMNS) + "\nOBS1;300000;;;other;RU;ALL;2022-01-01;2022-02-01;x;;u;q;n\n"
    )
    _load_fails(capsys, path, line=1, column=1, also="not comma-separated")


def test_semicolon_data_row(tmp_path, capsys):
    path = tmp_path / "semi_rows.csv"
    path.write_text(",".join(OBSERVATION_COLUMNS) + "\nOBS1;300000;;;other;RU;ALL;2022-01-01;2022-02-01\n")
    _load_fails(capsys, path, line=2, column="quantity", also="row has 1 fields")


def test_line_numbers_count_multiline_quotes(tmp_path, capsys):
    # A quote that spans two lines shifts every later row: the error must point at the editor's line.
    path = _obs_file(tmp_path, {"kind": "nonsense"})
    rows = _packaged_rows("observations.csv")
    rows[0]["quote"] = "first line\nsecond line"
    rows[1]["kind"] = "nonsense"
    path.write_text(_csv_text(list(OBSERVATION_COLUMNS), [[r[c] for c in OBSERVATION_COLUMNS] for r in rows]))
    _load_fails(capsys, path, line=4, column="kind")


def test_header_only(tmp_path, capsys):
    path = tmp_path / "header_only.csv"
    path.write_text(",".join(OBSERVATION_COLUMNS) + "\n")
    _load_fails(capsys, path, line=2, column=None, also="no observations after the header")


def test_unknown_schema(tmp_path, capsys):
    path = tmp_path / "other.csv"
    path.write_text("a,b,c\n1,2,3\n")
    _load_fails(capsys, path, line=1, column=1, also="matches no evidence schema")


# --- whole-file problems (fileio): no cell to point at, but the file and the reason are named -------------


def test_empty_file(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("")
    _load_fails(capsys, path, line=None, column=None, also="is empty")


def test_blank_file(tmp_path, capsys):
    path = tmp_path / "blank.csv"
    path.write_text("\n  \n\n")
    _load_fails(capsys, path, line=None, column=None, also="is empty")


def test_binary_file(tmp_path, capsys):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    _load_fails(capsys, path, line=None, column=None, also="looks binary")


def test_not_utf8(tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    text = _obs_file(tmp_path).read_text(encoding="utf-8").replace("Wikipedia", "Wikip\u00e9dia", 1)
    path.write_bytes(text.encode("latin-1", errors="replace"))
    _load_fails(capsys, path, line=2, column=None, also="not valid UTF-8")


def test_huge_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(fileio, "MAX_INPUT_BYTES", 100)
    path = _obs_file(tmp_path)
    _load_fails(capsys, path, line=None, column=None, also="too large")


def test_missing_file(tmp_path, capsys):
    _load_fails(capsys, tmp_path / "nope.csv", line=None, column=None, also="not found")


# --- the other schemas --------------------------------------------------------------------------------


def _events_file(tmp_path: Path, changes: dict[str, str]) -> Path:
    rows = _packaged_rows("events.csv")
    rows[1].update(changes)
    path = tmp_path / "events.csv"
    path.write_text(_csv_text(list(EVENT_COLUMNS), [[r[c] for c in EVENT_COLUMNS] for r in rows]))
    return path


@pytest.mark.parametrize(
    ("changes", "column", "also"),
    [
        ({"actor": "GEO;XXX"}, "actor", "'XXX'"),
        ({"actor": "ALL"}, "actor", "unknown country code"),
        ({"date_start": "2022-10-01", "date_end": "2022-09-01"}, "date_end", "ends before it starts"),
        ({"kind": "closure"}, "kind", "airspace_closure"),
        ({"date_start": "2022-02-29"}, "date_start", "day 29 does not exist"),
    ],
)
def test_bad_event(tmp_path, capsys, changes, column, also):
    path = _events_file(tmp_path, changes)
    _load_fails(capsys, path, line=3, column=column, also=also)
    with pytest.raises(InputError):
        load_events(path)


@pytest.mark.parametrize(
    ("changes", "column", "also"),
    [
        ({"value": "about 30"}, "value", "not a number"),
        ({"unit": "share"}, "unit", "percent, years or categorical"),
        ({"value": "140"}, "value", "0..100"),
        ({"fieldwork": "2022-10/2022-03"}, "fieldwork", "ends before it starts"),
        ({"value": ""}, "value", "value is empty"),
    ],
)
def test_bad_survey_share(tmp_path, capsys, changes, column, also):
    rows = _packaged_rows("reasons.csv")
    rows[1].update(changes)
    path = tmp_path / "reasons.csv"
    path.write_text(_csv_text(list(SURVEY_COLUMNS), [[r[c] for c in SURVEY_COLUMNS] for r in rows]))
    _load_fails(capsys, path, line=3, column=column, also=also)
    with pytest.raises(InputError):
        load_survey_shares(path)


def test_bad_visa_value(tmp_path, capsys):
    path = tmp_path / "visa.csv"
    path.write_text("snapshot,GEO,TUR\n2022-01-05,360,60\n2022-02-10,360,maybe\n")
    _load_fails(capsys, path, line=3, column="TUR", also="unknown visa requirement")
    with pytest.raises(InputError):
        load_visa_history(path)


def test_visa_snapshots_out_of_order(tmp_path, capsys):
    path = tmp_path / "visa.csv"
    path.write_text("snapshot,GEO\n2022-02-10,360\n2022-01-05,360\n")
    _load_fails(capsys, path, line=3, column="snapshot", also="out of order")


def test_visa_bad_destination_header(tmp_path, capsys):
    path = tmp_path / "visa.csv"
    path.write_text("snapshot,GEO,Turkey\n2022-02-10,360,60\n")
    _load_fails(capsys, path, line=1, column="Turkey", also="ISO 3166-1 alpha-3")


def test_visa_user_file_parses(tmp_path):
    path = tmp_path / "visa.csv"
    path.write_text(
        "snapshot,GEO,TUR,FIN\n2019-11-23,3,3,0\n2022-02-10,360,VF,visa required\ncurrent,360,60,eta\n"
    )
    recs = load_visa_history(path)
    assert [(r.requirement, r.days, r.legacy) for r in recs] == [
        ("visa_free", None, True),
        ("visa_free", None, True),
        ("visa_required", None, True),
        ("visa_free", 360, False),
        ("visa_free", None, False),
        ("visa_required", None, False),
        ("visa_free", 360, False),
        ("visa_free", 60, False),
        ("eta", None, False),
    ]
