"""The packaged pre-war baselines (prewar_and_context.csv): a strict reader (file, line, column in every error)
and the look-ups the observation operators use, checked against the file's own numbers."""

from __future__ import annotations

import datetime as dt
import math
import statistics

import pytest

from emigre.errors import InputError
from emigre.observe.prewar import PREWAR_COLUMNS, Prewar, load_prewar, parse_period, prewar_path

HEADER = ",".join(PREWAR_COLUMNS)
GOOD = ("eurostat_first_residence_permits_RU,DEU,2019,12499,first permits issued,Eurostat,"
        "https://ec.europa.eu/eurostat,quoted cell,a note")


def write(tmp_path, *lines: str, header: str = HEADER):
    p = tmp_path / "prewar.csv"
    p.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return p


def test_packaged_file_loads_every_row():
    rows = load_prewar()
    assert len(rows) == 543
    assert rows[0].line == 2 and rows[-1].line >= 544
    assert prewar_path().name == "prewar_and_context.csv"
    # the published range is kept, its middle is the value
    xab = next(r for r in rows if r.series == "ethnic_russians_stock")
    assert (xab.low, xab.high, xab.value) == (21000, 23000, 22000)


@pytest.mark.parametrize(
    ("cell", "first", "last"),
    [
        ("2019", dt.date(2019, 1, 1), dt.date(2019, 12, 31)),
        ("2019 (approx., annual)", dt.date(2019, 1, 1), dt.date(2019, 12, 31)),
        ("2021Q3", dt.date(2021, 7, 1), dt.date(2021, 9, 30)),
        ("2021H1", dt.date(2021, 1, 1), dt.date(2021, 6, 30)),
        ("FY2021", dt.date(2020, 10, 1), dt.date(2021, 9, 30)),
        ("2008-2020", dt.date(2008, 1, 1), dt.date(2020, 12, 31)),
        ("2000s-2020s", dt.date(2000, 1, 1), dt.date(2029, 12, 31)),
        ("2019-01..2019-08", dt.date(2019, 1, 1), dt.date(2019, 8, 31)),
        ("2020-01-01..2020-12-22", dt.date(2020, 1, 1), dt.date(2020, 12, 22)),
        ("2022-02", dt.date(2022, 2, 1), dt.date(2022, 2, 28)),
        ("2019-07-01", dt.date(2019, 7, 1), dt.date(2019, 7, 1)),
    ],
)
def test_periods(cell, first, last):
    assert parse_period(cell) == (first, last)


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        (GOOD.replace(",DEU,", ",DEX,"), "country", "unknown country code"),
        (GOOD.replace(",2019,", ",2019Q5,"), "year_or_period", "bad period"),
        (GOOD.replace(",2019,", ",2021-03..2020-01,"), "year_or_period", "bad period"),
        (GOOD.replace(",12499,", ",12 499,"), "value", "not a count"),
        (GOOD.replace(",12499,", ",-5,"), "value", "not a count"),
        (GOOD.replace(",12499,", ",900-100,"), "value", "reversed"),
        (GOOD.replace("https://ec.europa.eu/eurostat", "ec.europa.eu"), "url", "bad URL"),
        (GOOD.replace(",Eurostat,", ",,"), "publisher", "publisher is empty"),
        (GOOD.replace("eurostat_first_residence_permits_RU", "first permits"), "series", "bad series name"),
    ],
)
def test_a_bad_cell_names_file_line_and_column(tmp_path, line, column, words):
    p = write(tmp_path, GOOD.replace(",2019,", ",2018,"), line)
    with pytest.raises(InputError) as e:
        load_prewar(p)
    msg = str(e.value)
    assert e.value.line == 3 and e.value.column == column, msg
    assert str(p) in msg and "line 3" in msg and f"column {column}" in msg and words in msg


def test_bad_shapes_of_a_file(tmp_path):
    with pytest.raises(InputError, match=r"line 3, column year_or_period: duplicate row"):
        load_prewar(write(tmp_path, GOOD, GOOD))
    with pytest.raises(InputError, match=r"line 2.*row has 8 fields"):
        load_prewar(write(tmp_path, GOOD.rsplit(",", 1)[0]))
    with pytest.raises(InputError, match=r"line 1.*missing column notes"):
        load_prewar(write(tmp_path, GOOD.rsplit(",", 1)[0], header=HEADER.rsplit(",", 1)[0]))
    with pytest.raises(InputError, match="no rows"):
        load_prewar(write(tmp_path))


def test_look_ups_from_the_packaged_rows():
    p = Prewar()
    # Eurostat first permits, Germany: the mean of 2018, 2019 and 2021 (2020 COVID left out)
    deu = p.first_permits("DEU")
    assert deu.value == pytest.approx((13248 + 12499 + 13354) / 3)
    assert len(deu.refs) == 3 and all("/DEU/" in r for r in deu.refs)
    assert p.first_permits("EUU").value == 82900  # only 2021 for the EU as a whole
    assert p.first_permits("ARG").value == 320  # Argentina's own statistics (2021; 2020 is COVID)
    assert p.first_permits("KAZ") is None  # no pre-war level: the operator falls back on the global share
    # Cyprus: only a published ceiling ("did not exceed 1000 a year" 2008-2021) of the employment permits
    cyp = p.first_permits("CYP")
    assert cyp.value == 1000 and cyp.refs == ("eurostat_first_permits_employment_RU/CYP/2008-2021",)
    # holders: Eurostat valid permits at the end of 2021; outside the former USSR UN DESA's stock born in Russia
    assert p.permit_holders("DEU").value == 214668
    assert p.permit_holders("EST").value == 87368  # national stock, 31 Dec 2021
    assert p.permit_holders("TUR").value == 26967
    assert p.permit_holders("KAZ") is None  # Soviet-era settlers are no permit holders
    # visitors counted by the destination, a year
    assert p.visitors("MEX").value == pytest.approx(75446)
    assert p.visitors("THA").value == pytest.approx(1470000)
    assert p.visitors("ARG") is None  # the ambiguous entries of 2020-2021 are not used
    assert p.usa_encounters().value == pytest.approx(13240)  # FY2021 = one year
    assert p.visitors("GEO").value == pytest.approx(378200 / (92 / 365.25))  # one quarter (Q3 2019), a year


def _rows(tmp_path, figures):
    """A baselines file of (series, country, year, value) figures."""
    lines = [f"{s},{c},{y},{v},persons,Test,https://example.org,q,n" for s, c, y, v in figures]
    return Prewar(load_prewar(write(tmp_path, *lines)))


def test_eu_member_without_its_own_first_permits_gets_its_visa_share_of_the_eu_remainder(tmp_path):
    fp, vis = "eurostat_first_residence_permits_RU", "schengen_visas_issued_in_russia_by_state"
    # members with their own permits: DEU 1,000 (visas 10,000), FRA 500 (20,000), ITA 200 (10,000)
    # members without: POL (visas 30,000 a year: 2018 and 2019), CZE (10,000); the EU's 2021 total 5,700
    p = _rows(tmp_path, [
        (fp, "EUU", 2021, 5700), (fp, "DEU", 2021, 1000), (fp, "FRA", 2021, 500), (fp, "ITA", 2021, 200),
        (vis, "DEU", 2019, 10000), (vis, "FRA", 2019, 20000), (vis, "ITA", 2019, 10000),
        (vis, "POL", 2018, 20000), (vis, "POL", 2019, 40000), (vis, "CZE", 2019, 10000),
        (vis, "NOR", 2019, 50000),  # outside the EU: neither shares the remainder nor gets any
    ])
    pol, cze = p.first_permits("POL"), p.first_permits("CZE")
    rest = 5700 - 1700
    assert pol.value == pytest.approx(rest * 30000 / 40000)
    assert cze.value == pytest.approx(rest * 10000 / 40000)
    logs = [math.log(0.1), math.log(0.025), math.log(0.02)]  # permits per visa of DEU, FRA, ITA
    assert pol.sigma == pytest.approx(statistics.stdev(logs))
    assert "eurostat_first_residence_permits_RU/EUU/2021" in pol.refs
    assert p.first_permits("DEU").sigma == 0.0 and p.first_permits("DEU").value == 1000  # its own figure
    assert p.first_permits("NOR") is None
    # without the EU total no level
    assert _rows(tmp_path, [(vis, "POL", 2019, 1), (fp, "DEU", 2021, 5), (vis, "DEU", 2019, 9)]).first_permits(
        "POL") is None


def test_the_eu_remainder_subtracts_the_members_figures_of_the_same_year(tmp_path):
    fp, vis = "eurostat_first_residence_permits_RU", "schengen_visas_issued_in_russia_by_state"
    base = [(vis, "DEU", 2019, 10000), (vis, "FRA", 2019, 20000), (vis, "ITA", 2019, 10000),
            (vis, "POL", 2019, 30000), (fp, "FRA", 2021, 500), (fp, "ITA", 2021, 200)]
    # Germany's level is the mean of 2018 and 2021 (2,000), but the EU total is of 2021: its 2021 figure counts
    p = _rows(tmp_path, [*base, (fp, "EUU", 2021, 5700), (fp, "DEU", 2018, 3000), (fp, "DEU", 2021, 1000)])
    assert p.first_permits("DEU").value == 2000
    pol = p.first_permits("POL")
    assert pol.value == pytest.approx(5700 - 1000 - 500 - 200)  # POL holds all the visas of the rest
    assert pol.year == 2021 and "eurostat_first_residence_permits_RU/DEU/2021" in pol.refs
    assert "eurostat_first_residence_permits_RU/DEU/2018" not in pol.refs
    # the members' own figures use up the EU's: nothing left to share, no level
    assert _rows(tmp_path, [*base, (fp, "EUU", 2021, 1500), (fp, "DEU", 2021, 1000)]).first_permits("POL") is None


def test_poland_first_permits_from_the_packaged_eu_remainder():
    p = Prewar()
    pol = p.first_permits("POL")
    assert 3000 < pol.value < 7000  # 10% of the EU's 45 thousand permits outside the members' own figures
    assert 0.8 < pol.sigma < 1.6  # permits per visa vary by a factor of ~3 (1 sd) among the 8 members with both
    assert p.first_permits("IRL") is None  # no visa figure: Ireland stays on the global share
