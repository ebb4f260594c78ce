"""The main job and the single-run command end to end: files, store contents, summary, bad input."""

from __future__ import annotations

import json
import re

import duckdb
import pandas as pd
import pytest

from emigre.cli import main


def test_main_job_writes_store_shards_report_and_prints_the_summary(main_job):
    out, printed = main_job
    shards = sorted((out / "runs").glob("run-*.parquet"))
    assert [p.name for p in shards] == ["run-0000.parquet", "run-0001.parquet"]
    report = out / "report.html"
    assert report.stat().st_size > 200_000
    html = report.read_text()
    assert "<script src=" not in html and "https://cdn" not in html
    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    runs = con.execute("select run, seed from runs order by run").fetchall()
    assert runs == [(0, 0), (1, 1)]
    dep = con.execute(
        "select run, max(value) from daily where place='ALL' and measure='departed_cum' and \"group\"='' "
        "group by run order by run"
    ).fetchall()
    con.close()
    # two runs = two posterior draws x two seeds (the packaged posterior): hundreds of thousands to a few
    # million each (the posterior's 90% range of departures by Oct 2022 is 1.2-2.0 million), not identical
    draws = duckdb.connect(str(out / "results.duckdb"), read_only=True).execute(
        "select count(distinct draw) from runs").fetchone()[0]
    assert draws == 2
    assert all(300_000 < v < 4_000_000 for _, v in dep) and dep[0][1] != dep[1][1]
    assert "left Russia by 31 Dec 2022" in printed and "report.html" in printed
    # the report's reconciliation with the national estimates, in the terminal too (words wrapped by rich)
    flat = " ".join(printed.split())
    html_text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Published national estimates of the people who left in 2022" in flat
    m = re.search(r"interval lies above (\d+) of the (\d+) national estimates", flat)
    assert m and f"interval lies above {m.group(1)} of the {m.group(2)} national estimates" in html_text


def test_simulate_writes_daily_parquet_and_summary(tmp_path, capsys):
    out = tmp_path / "sim"
    rc = main(["simulate", "russia-2022", "--seed", "3", "--scale", "50", "--end", "2022-12-31", "--out", str(out)])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    for key in ("travellers", "departed", "abroad_end", "returned_end", "seconds"):
        assert key in summary
    assert summary["departed"] == pytest.approx(summary["abroad_end"] + summary["in_transit_end"] + summary["returned_end"])
    daily = pd.read_parquet(out / "daily.parquet")
    assert list(daily.columns) == ["date", "place", "measure", "group", "value"]
    last = daily[(daily.place == "ALL") & (daily.measure == "departed_cum") & (daily.group == "")]
    assert last.value.iloc[-1] == pytest.approx(summary["departed"])
    assert str(last.date.iloc[-1].date()) == "2022-12-31"
    by_reason = daily[(daily.place == "ALL") & (daily.measure == "departures") & daily.group.str.startswith("reason=")]
    assert by_reason.value.sum() == pytest.approx(summary["departed"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--param", "no_such_parameter=1"], "unknown parameter 'no_such_parameter'"),
        (["--param", "push_invasion_intensity"], "NAME=VALUE"),
        (["--param", "push_invasion_intensity=abc"], "expected a number"),
        (["--scale", "0"], "--scale must be between 0.05 and 100000"),
        (["--end", "2021-01-01"], "outside the scenario's period 2022-02-24..2023-12-31"),
    ],
)
def test_bad_input_is_one_clear_line_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "sim"
    rc = main(["simulate", "russia-2022", "--scale", "50", "--out", str(out), *args])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_runs_take_the_posterior_draws_in_a_fixed_random_order():
    """The sampler's rows come grouped by ancestor: the first runs must not all be the first rows."""
    import numpy as np

    from emigre.calibrate import load_posterior, posterior_params
    from emigre.jobs.main_job import posterior_draws

    post = load_posterior()
    draws, label = posterior_draws("default")
    again, _ = posterior_draws("default")
    assert draws == again and len(draws) == len(post) and "random order" in label
    rows = [posterior_params(post, i) for i in range(len(post))]
    key = lambda d: tuple(sorted(d.items()))  # noqa: E731
    assert sorted(map(key, draws)) == sorted(map(key, rows))  # every draw once
    assert [key(d) for d in draws[:20]] != [key(d) for d in rows[:20]]
    # the first 20 runs spread over the posterior: their median baseline lies within its middle 60%
    base = post["baseline_emigration_per_year"].to_numpy()
    first = np.median([d["baseline_emigration_per_year"] for d in draws[:20]])
    assert np.quantile(base, 0.2) <= first <= np.quantile(base, 0.8)


def test_a_posterior_file_that_is_not_parquet_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "posterior.parquet"
    bad.write_text("draw,baseline_emigration_per_year\n0,1\n")
    out = tmp_path / "run"
    rc = main(["run", "russia-2022", "--posterior", str(bad), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and str(bad) in err and "not a readable posterior sample" in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def _unstamped(html: str) -> str:
    """The report without when it was built and how long that took (all that may differ between builds)."""
    html = re.sub(r"Report built in [0-9.]+ s", "Report built in - s", html)
    return re.sub(r"built \d{1,2} [A-Z][a-z]{2} \d{4} by emigre", "built - by emigre", html)


def test_report_command_rewrites_the_page_the_run_wrote(tmp_path, capsys, monkeypatch):
    import emigre.scenario

    out = tmp_path / "run"
    assert main(["run", "russia-2022", "--runs", "2", "--scale", "2000", "--workers", "1",
                 "--param", "regularise_share=1", "--out", str(out)]) == 0
    written = (out / "report.html").read_text()
    (out / "report.html").unlink()
    capsys.readouterr()
    loads = []
    real = emigre.scenario.load_scenario
    monkeypatch.setattr(emigre.scenario, "load_scenario", lambda name, **kw: loads.append((name, kw)) or real(name, **kw))
    assert main(["report", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"report: {out / 'report.html'}"
    again = (out / "report.html").read_text()
    assert loads == [("russia-2022", {"params": {"regularise_share": 1.0}})]  # the run's scenario and --param
    assert _unstamped(again) == _unstamped(written)  # the same page, byte for byte, but for the build stamps
    assert written.count("Report built in") == 1 and str(out) in again and ".partial" not in again
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # no temporary file left
    # elsewhere: the same figures; the links to the store's data files are left out (they are relative to it)
    other = tmp_path / "elsewhere" / "r.html"
    assert main(["report", str(out), "--out", str(other)]) == 0
    assert 'href="runs.parquet"' in again and 'href="runs.parquet"' not in other.read_text()
