"""emigre estimate: every quantity equals NumPy quantiles over the runs of the store's own series, the
breakdowns add up, and every bad argument fails with one clear message (exit 2 on the command line)."""

from __future__ import annotations

import datetime as dt
import json
import sys

import numpy as np
import pandas as pd
import pytest

from emigre.errors import EmigreError
from emigre.estimate import QUANTITIES, estimate
from emigre.estimate.quantities import LEVELS
from emigre.results import ResultStore
from emigre.results.schema import BREAKDOWNS

END = "2023-12-31"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ResultStore:
    """3 real exodus runs at 50 persons per traveller (seeds 0-2), as `emigre run` stores them."""
    from emigre.ensemble import run_ensemble

    d = tmp_path_factory.mktemp("estimate-store")
    summaries = run_ensemble("russia-2022", d, runs=3, scale=50, workers=1)
    s = ResultStore(d)
    s.write_runs_table(pd.DataFrame(summaries))
    s.write_manifest()  # a complete store (open_store refuses one without a manifest)
    return s


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run ``emigre ARGV`` (through emigre.cli.main once the verbs are registered there)."""
    from emigre import cli as emigre_cli
    from emigre.cli.estimate import register

    if "estimate" in {c.name for c in emigre_cli.app.registered_commands}:
        rc = emigre_cli.main(argv)
    else:  # the same contract as emigre.cli.main: an EmigreError is one line on stderr and exit 2
        import typer

        app = typer.Typer()
        register(app)
        try:
            app(args=argv, standalone_mode=False)
            rc = 0
        except EmigreError as exc:
            print(f"error: {exc}", file=sys.stderr)
            rc = 2
    out = capsys.readouterr()
    return rc, out.out, out.err


def check_quantiles(e, values):
    values = np.asarray(values, dtype=float)
    np.testing.assert_allclose(e.values, values)
    q = np.quantile(values, list(LEVELS.values()))
    for i, k in enumerate(LEVELS):
        assert getattr(e, k) == pytest.approx(q[i]), k
    assert e.runs == 3 and e.lo90 <= e.lo50 <= e.median <= e.hi50 <= e.hi90


def test_departed_to_a_date_and_in_a_window(store):
    [e] = estimate("departed", store, at="2022-12-31")
    check_quantiles(e, store.final("departed_cum", date="2022-12-31"))
    assert e.at == dt.date(2022, 12, 31) and e.date_from is None
    assert 400_000 < e.median < 800_000  # the default scenario: ~0.54 mln by the end of 2022 (a 5-day
    # mobilization decay; ~0.76 mln at the former 10)
    [end] = estimate("departed", store)  # default: to the last simulated day
    check_quantiles(end, store.final("departed_cum"))
    assert end.at == dt.date(2023, 12, 31)
    [w] = estimate("departed", store, date_from="2022-09-21", date_to="2022-10-31")
    check_quantiles(w, store.total("departures", start="2022-09-21", end="2022-10-31"))
    # the window is the difference of the cumulative count at its ends
    before = store.final("departed_cum", date="2022-09-20").to_numpy()
    np.testing.assert_allclose(w.values, store.final("departed_cum", date="2022-10-31").to_numpy() - before)
    [m] = estimate("departed", store, at="2022-12")  # a month means its last day
    assert m.at == dt.date(2022, 12, 31) and m.median == e.median


def test_breakdowns_add_up_to_the_totals(store):
    [total] = estimate("departed", store, at="2022-12-31")
    by_reason = estimate("departed", store, at="2022-12-31", by="reason")
    assert [e.category for e in by_reason] == list(BREAKDOWNS["reason"])
    np.testing.assert_allclose(sum(e.values for e in by_reason), total.values)
    mob = next(e for e in by_reason if e.category == "mobilization")
    check_quantiles(mob, store.total("departures", group="reason=mobilization", end="2022-12-31"))
    [abroad] = estimate("abroad", store)
    by_sex = estimate("abroad", store, by="sex")
    check_quantiles(by_sex[0], store.final("abroad", group="sex=male"))
    check_quantiles(abroad, store.final("abroad"))
    [one] = estimate("abroad", store, by="sex=female")
    assert one.category == "female" and one.median == by_sex[1].median


def test_present_returned_arrivals(store):
    [geo] = estimate("present", store, at="2022-12-31", destination="geo")
    assert geo.destination == "GEO"
    check_quantiles(geo, store.final("present", "GEO", date="2022-12-31"))
    parts = estimate("present", store, at="2022-12-31", destination="GEO", by="reason")
    np.testing.assert_allclose(sum(e.values for e in parts), geo.values)
    [ret] = estimate("returned", store)
    check_quantiles(ret, store.final("returned_cum"))
    [ret_w] = estimate("returned", store, date_from="2023-01-01")
    assert ret_w.date_to == dt.date(2023, 12, 31)
    check_quantiles(ret_w, store.total("returns", start="2023-01-01"))
    [arr] = estimate("arrivals", store, destination="KAZ", date_from="2022-09-21", date_to="2022-10-31")
    check_quantiles(arr, store.total("arrivals", "KAZ", start="2022-09-21", end="2022-10-31"))
    assert arr.median > 50_000  # the mobilization wave into Kazakhstan
    [all_arr] = estimate("arrivals", store, at="2022-06-30")  # --at for a flow: from the start to that day
    assert all_arr.date_from == dt.date(2022, 2, 24) and all_arr.date_to == dt.date(2022, 6, 30)
    totals = store.totals(["arrivals"])
    assert set(totals["place"]) > {"GEO", "KAZ", "ARM"}
    per_run = sum(store.total("arrivals", p, end="2022-06-30").to_numpy() for p in set(totals["place"]))
    check_quantiles(all_arr, per_run)
    # a scenario destination nobody reached has no series: an error naming the places the store has, not a 0
    # that would read as a finding (issue 15)
    with pytest.raises(EmigreError, match="no traveller of its runs reached it.*the store has: .*GEO"):
        estimate("present", store, destination=_unreached(store))


def _unreached(store) -> str:
    from emigre.scenario import load_scenario

    have = set(store.totals(["present", "arrivals"])["place"])
    return next(c for c in load_scenario("russia-2022").compile().countries if c != "RUS" and c not in have)


def test_crossings_out_of_russia(store):
    from emigre.scenario import load_scenario

    [cross] = estimate("crossings", store)
    # every departure crosses exactly one exit link out of Russia
    np.testing.assert_allclose(cross.values, store.final("departed_cum").to_numpy())
    cw = load_scenario("russia-2022").compile()
    country = [cw.countries[i] for i in cw.place_country]
    to_fin = [lid for k, lid in enumerate(cw.link_ids)
              if country[cw.link_from[k]] == "RUS" and country[cw.link_to[k]] == "FIN"]
    assert to_fin
    got = store.totals(["crossings_out"], places=to_fin)
    expect = got.groupby("run")["total"].sum().reindex(store.run_ids(), fill_value=0.0)
    [fin] = estimate("crossings", store, destination="FIN", date_from="2022-02-24", date_to=END)
    check_quantiles(fin, expect.to_numpy())
    assert 0 < fin.median < cross.median


def test_shares_are_percent_of_departures(store):
    shares = estimate("share", store, by="it")
    assert [e.unit for e in shares] == ["percent", "percent"]
    np.testing.assert_allclose(shares[0].values + shares[1].values, 100.0)
    dep = store.final("departed_cum").to_numpy()
    check_quantiles(shares[0], 100 * store.total("departures", group="it=yes").to_numpy() / dep)
    w = estimate("share", store, by="reason=mobilization", date_from="2022-09-21", date_to="2022-10-31")
    assert len(w) == 1 and w[0].median > 80  # the mobilization window is mostly mobilization leavers


def test_json_output(store, capsys):
    rc, out, _ = cli(["estimate", "departed", "--by", "sex", "--at", "2022-12-31", "--store",
                      str(store.directory), "--json"], capsys)
    assert rc == 0
    got = json.loads(out)
    assert [r["category"] for r in got] == ["male", "female"]
    keys = {"quantity", "destination", "by", "category", "at", "median", "lo50", "hi50", "lo90", "hi90", "runs"}
    assert keys <= set(got[0]) and got[0]["runs"] == 3 and got[0]["at"] == "2022-12-31"
    male = estimate("departed", store, at="2022-12-31", by="sex=male")[0]
    assert got[0]["median"] == pytest.approx(male.median)
    rc, out, _ = cli(["estimate", "arrivals", "--destination", "GEO", "--from", "2022-09-21", "--to",
                      "2022-10-31", "--store", str(store.directory), "--json"], capsys)
    [r] = json.loads(out)
    assert r["from"] == "2022-09-21" and r["to"] == "2022-10-31" and "at" not in r


def test_table_output_names_the_runs(store, capsys):
    rc, out, _ = cli(["estimate", "present", "--destination", "GEO", "--at", "2022-12-31", "--store",
                      str(store.directory)], capsys)
    assert rc == 0
    assert "present in GEO on 2022-12-31" in out and "3 runs (1 parameter draw x 3 seeds)" in out
    [e] = estimate("present", store, destination="GEO", at="2022-12-31")
    assert f"{e.median:,.0f}" in out and "90% interval" in out
    assert "vary by seed only" in out  # no posterior draws in this store: said so


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["departd"], "unknown quantity 'departd' (did you mean departed?)"),
        (["present"], "present needs --destination"),
        (["present", "--destination", "XYZ"], "unknown destination 'XYZ'"),
        (["present", "--destination", "ALL"], "one country"),
        (["departed", "--destination", "GEO"], "--destination does not apply to departed"),
        (["abroad", "--destination", "GEO"], "`present --destination ISO3`"),
        (["departed", "--at", "2022-13-01"], "--at: bad date '2022-13-01'"),
        (["departed", "--at", "yesterday"], "bad date"),
        (["departed", "--at", "2022-12-31", "--from", "2022-03-01"], "give one or the other"),
        (["departed", "--at", "2021-12-31"], "--at 2021-12-31 is outside the simulated period 2022-02-24..2023-12-31"),
        (["arrivals", "--to", "2024-06-30"], "--to 2024-06-30 is outside the simulated period"),
        (["arrivals", "--from", "2023-01-01", "--to", "2022-12-31"], "--from 2023-01-01 is after --to 2022-12-31"),
        (["abroad", "--from", "2022-03-01"], "abroad is a stock"),
        (["share"], "share needs --by"),
        (["departed", "--by", "colour"], "unknown --by 'colour'"),
        (["departed", "--by", "reason=war"], "unknown category 'war' of reason"),
        (["returned", "--by", "sex"], "returned has no breakdown"),
        (["present", "--destination", "GEO", "--by", "age"], "present is broken down by reason only"),
    ],
)
def test_errors(store, capsys, args, message):
    rc, out, err = cli(["estimate", *args, "--store", str(store.directory)], capsys)
    assert rc == 2 and not out
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_missing_store_says_how_to_make_it(tmp_path, capsys, monkeypatch):
    rc, out, err = cli(["estimate", "departed", "--store", str(tmp_path / "nothing")], capsys)
    assert rc == 2 and not out
    assert "no ensemble results in" in err and f"emigre run russia-2022 --out {tmp_path / 'nothing'}" in err
    monkeypatch.chdir(tmp_path)  # the default store, out/russia-2022, is absent here
    with pytest.raises(EmigreError, match=r"make them with `emigre run russia-2022`$"):
        estimate("departed")


def test_every_quantity_is_documented():
    assert set(QUANTITIES) >= {"departed", "abroad", "returned", "present", "arrivals", "crossings", "share"}
    assert all(q.doc for q in QUANTITIES.values())
