"""`emigre evidence list|show|load` through the real entry point, with numbers checked in the output."""

from __future__ import annotations

import csv
import json

from emigre.cli import main
from emigre.evidence import data_dir


def run(capsys, *args):
    code = main(["evidence", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_table(capsys):
    code, out, err = run(capsys, "list", "--destination", "KAZ")
    assert code == 0, err
    assert "13 observations" in out  # OBS201, OBS223 and OBS230 (FSB trips) are new
    assert ">200,000" in out  # OBS093 "более 200 тыс."
    assert "2,900,000" in out  # OBS100
    assert "2022-09-21..2022-10-03" in out
    assert "OBS095" in out and "406,000" in out


def test_list_json_filters(capsys):
    code, out, _ = run(capsys, "list", "--kind", "stock_in_destination", "--destination", "geo", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["id"] for r in rows] == ["OBS082"]
    assert rows[0]["quantity"] == 100000 and rows[0]["period_end"] == "2022-11-10"
    code, out, _ = run(
        capsys, "list", "--destination", "FIN", "--from", "2022-09", "--to", "2022-09", "--json"
    )
    rows = json.loads(out)
    assert {r["id"] for r in rows} == {"OBS042", "OBS059", "OBS114", "OBS115", "OBS117", "OBS119"}
    assert sum(r["quantity"] for r in rows if r["kind"] == "border_crossings_entry") == 4824 + 8314
    code, out, _ = run(capsys, "list", "--json")
    rows = json.loads(out)
    assert len(rows) == 174
    assert sum(r["bound"] == "lower" for r in rows) == 18
    assert next(r for r in rows if r["id"] == "OBS001")["value_text"] == ">300,000"


def test_list_bad_options(capsys):
    code, _, err = run(capsys, "list", "--kind", "stock")
    assert code == 2 and "unknown kind 'stock'" in err and "stock_in_destination" in err
    code, _, err = run(capsys, "list", "--destination", "XYZ")
    assert code == 2 and "unknown destination 'XYZ'" in err
    code, _, err = run(capsys, "list", "--from", "2022-02-30")
    assert code == 2 and "--from" in err and "2022-02-30" in err and "YYYY-MM-DD" in err
    code, _, err = run(capsys, "list", "--from", "2023-01", "--to", "2022-12")
    assert code == 2 and "after --to" in err
    assert err.count("\n") == 1  # one line, no traceback


def test_show_observation(capsys):
    code, out, _ = run(capsys, "show", "OBS001")
    assert code == 0
    assert ">300,000" in out and "lower" in out and "more than" in out
    assert "https://hmong.in.th/wiki/Russian_emigration_following_the_2022_invasion_of_Ukraine" in out
    assert "more than 300,000 Russian citizens and residents" in out
    code, out, _ = run(capsys, "show", "OBS006", "--json")
    d = json.loads(out)
    assert d["type"] == "Observation"
    assert (d["low"], d["high"], d["quantity"], d["bound"]) == (200000, 300000, None, "range")
    assert d["publisher"] == "Obshchaya Gazeta (obshchayagazeta.eu)"
    assert (d["publication_date"], d["publication_date_precision"]) == ("2022-10-01", "month")
    assert d["url"] == "https://obshchayagazeta.eu/ru/article/127784"


def test_show_event_and_survey(capsys):
    code, out, _ = run(capsys, "show", "EV030")
    assert code == 0 and "entry_rule" in out and "2022-09-30" in out and "FIN" in out
    code, out, _ = run(capsys, "show", "EV039", "--json")
    d = json.loads(out)
    assert (d["type"], d["date_start"], d["date_end"]) == ("Event", "2019-07-08", "2023-05-15")
    code, out, _ = run(capsys, "show", "rs004", "--json")
    d = json.loads(out)
    assert (d["type"], d["value"], d["sample_size"], d["category"]) == ("SurveyShare", 57.0, 2067, "under 35")
    code, out, _ = run(capsys, "show", "RS004")
    assert "57" in out and "The majority of those who left are under 35" in out


def test_show_unknown(capsys):
    code, _, err = run(capsys, "show", "OBS1")
    assert code == 2 and "no evidence record with id 'OBS1'" in err and "OBS001" in err
    code, _, err = run(capsys, "show", "EV57")
    assert code == 2 and "EV057" not in err and "did you mean" in err


def test_load_packaged_files(capsys):
    d = data_dir()
    code, out, _ = run(capsys, "load", str(d / "observations.csv"))
    assert code == 0
    assert "valid observations, 174 records" in out
    lines = {
        ln.split("│")[1].strip(): ln.split("│")[2].strip() for ln in out.splitlines() if ln.count("│") == 3
    }
    assert lines["border_crossings_exit"] == "54" and lines["residence_permits"] == "17"
    code, out, _ = run(capsys, "load", str(d / "events.csv"))
    assert "valid events, 56 records" in out and "visa_policy" in out
    code, out, _ = run(capsys, "load", str(d / "reasons.csv"))
    assert "valid survey shares, 31 records" in out
    code, out, _ = run(capsys, "load", str(d / "passport_index_RUS_history.csv"))
    assert "53 snapshots x 29 destinations = 1537 entries" in out


def test_load_user_file_json_month_period(tmp_path, capsys):
    src = data_dir() / "observations.csv"
    with src.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, first = rows[0], rows[1]
    mine = dict(zip(header, first, strict=True))
    mine.update(
        id="MY1", quantity="", low="50000", high="100000", period_start="2022-09", period_end="2022-10"
    )
    path = tmp_path / "mine.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerow([mine[c] for c in header])
    code, out, err = run(capsys, "load", str(path), "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["schema"] == "observations" and len(d["records"]) == 1
    r = d["records"][0]
    assert (r["period_start"], r["period_end"]) == ("2022-09-01", "2022-10-31")
    assert (r["period_start_precision"], r["period_end_precision"]) == ("month", "month")
    assert (r["low"], r["high"], r["bound"], r["value_text"]) == (50000, 100000, "range", "50,000-100,000")
    code, out, _ = run(capsys, "load", str(path))
    assert "valid observations, 1 record" in out and "cumulative_outflow_total" in out
