"""The packaged evidence loads completely and specific rows parse to the right numbers and bounds."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from emigre.errors import EmigreError
from emigre.evidence import (
    Event,
    Observation,
    SurveyShare,
    bounds,
    codes,
    format_value,
    load_events,
    load_evidence,
    load_observations,
    load_survey_shares,
    load_visa_history,
)
from emigre.evidence.dates import parse_partial_date


@pytest.fixture(scope="module")
def ev():
    return load_evidence()


def test_everything_loads(ev):
    assert len(ev.observations) == 174  # OBS001-OBS170 (with gaps) and OBS201-OBS263
    assert len(ev.events) == 56
    assert len(ev.survey_shares) == 31
    # 53 snapshots (52 dated + "current") x 29 destinations
    assert len(ev.visa_history) == 53 * 29
    assert len({o.id for o in ev.observations}) == 174
    assert load_observations() is ev.observations  # packaged data is cached
    assert load_evidence() is ev


def test_kind_counts(ev):
    kinds = Counter(o.kind for o in ev.observations)
    assert kinds["border_crossings_exit"] == 54
    assert kinds["border_crossings_entry"] == 29
    assert kinds["other"] == 24
    assert kinds["cumulative_outflow_total"] == 12
    assert Counter(e.kind for e in ev.events)["visa_policy"] == 20


def test_bound_and_unit_counts(ev):
    assert Counter(o.bound for o in ev.observations) == {"point": 145, "lower": 18, "range": 6, "upper": 5}
    assert Counter(o.unit for o in ev.observations) == {"persons": 171, "percent": 3}
    lower = sorted(o.id for o in ev.observations if o.bound == "lower")
    assert lower == [
        "OBS001",
        "OBS002",
        "OBS012",
        "OBS013",
        "OBS019",
        "OBS027",
        "OBS033",
        "OBS037",
        "OBS047",
        "OBS048",
        "OBS086",
        "OBS093",
        "OBS102",
        "OBS119",
        "OBS138",
        "OBS140",
        "OBS153",
        "OBS251",  # "a bit more than"
    ]
    assert sorted(o.id for o in ev.observations if o.bound == "upper") == [
        "OBS005", "OBS024", "OBS096", "OBS212", "OBS262"]  # "almost"
    assert sorted(o.id for o in ev.observations if o.unit == "percent") == ["OBS157", "OBS158", "OBS161"]


def test_obs001_lower_bound(ev):
    o = ev.observation("OBS001")
    assert isinstance(o, Observation)
    assert (o.quantity, o.low, o.high, o.bound, o.qualifier) == (300000, None, None, "lower", "more than")
    assert o.unit == "persons"
    assert (o.period_start, o.period_end) == (date(2022, 2, 24), date(2022, 3, 15))
    assert o.period_start_precision == "day"
    assert o.origin == "RU" and o.origin_iso3 == "RUS" and o.destination == "ALL"
    assert o.publication_date is None
    assert format_value(o) == ">300,000"
    assert "tertiary_source" in o.quality_flags and o.weak


def test_ranges(ev):
    o = ev.observation("OBS006")
    assert (o.quantity, o.low, o.high, o.bound) == (None, 200000, 300000, "range")
    assert o.value == 250000
    assert format_value(o) == "200,000-300,000"
    assert (o.publication_date, o.publication_date_precision) == (date(2022, 10, 1), "month")
    o14 = ev.observation("OBS014")
    assert (o14.quantity, o14.low, o14.high, o14.bound) == (600000, 500000, 700000, "range")
    assert format_value(o14) == "600,000 (500,000-700,000)"
    o8 = ev.observation("OBS008")
    assert (o8.low, o8.high) == (600000, 700000)


def test_percent_rows(ev):
    o = ev.observation("OBS157")
    assert (o.quantity, o.unit, o.bound) == (80, "percent", "point")
    assert format_value(o) == "~80%"
    o161 = ev.observation("OBS161")
    assert (o161.low, o161.high, o161.unit, o161.bound) == (40, 45, "percent", "range")
    assert format_value(o161) == "40%-45%"
    assert ev.observation("OBS162").unit == "persons"  # 1,800 returnees; the 30% is context


def test_upper_bounds_and_negative(ev):
    assert (ev.observation("OBS024").quantity, ev.observation("OBS024").bound) == (62000, "upper")
    assert format_value(ev.observation("OBS024")) == "<62,000"
    assert ev.observation("OBS005").qualifier == "as many as"
    assert ev.observation("OBS096").qualifier == "up to"
    o = ev.observation("OBS023")
    assert (o.quantity, o.bound) == (-96700, "point")


@pytest.mark.parametrize(
    ("oid", "qualifier"),
    [
        ("OBS022", None),  # "twice as many as" refers to 2021, not to 419 thousand
        ("OBS163", None),  # "As many as 82,000" is a part; 300,000 is a sum
        ("OBS053", None),  # "(до 568 тысяч)" is "to", not "up to"
        ("OBS089", None),  # "превышало ... на 23 тыс." is an excess, not "more than 23 thousand"
        ("OBS092", None),  # "более 120 тысяч" belongs to the exits
        ("OBS147", "about"),  # "more than the roughly 4,100": the figure itself is "roughly"
        ("OBS170", None),  # "more than double the approximately 8,000"
        ("OBS057", "almost"),
        ("OBS060", "just over"),
        ("OBS123", "just over"),
    ],
)
def test_phrases_next_to_other_numbers_are_not_bounds(ev, oid, qualifier):
    o = ev.observation(oid)
    assert o.bound == "point"
    assert o.qualifier == qualifier


def test_quality_flags(ev):
    assert ev.observation("OBS002").quality_flags[:2] == ("weak", "unverified")
    assert set(ev.observation("OBS009").quality_flags) == {"anonymous_source", "outlier"}
    assert ev.observation("OBS082").quality_flags == ("political_statement",)
    assert not ev.observation("OBS039").weak
    assert sum(o.weak for o in ev.observations) == 15


def test_events(ev):
    e = ev.get("EV012")
    assert isinstance(e, Event)
    assert (e.kind, e.actors, e.date_start) == ("rail_suspension", ("FIN",), date(2022, 3, 28))
    assert e.active_on(date(2022, 4, 1)) and not e.active_on(date(2022, 3, 20))
    georgia = ev.event("EV039")
    assert (georgia.date_start, georgia.date_end) == (date(2019, 7, 8), date(2023, 5, 15))
    assert georgia.active_on(date(2022, 9, 25)) and not georgia.active_on(date(2023, 6, 1))
    assert ev.event("EV056").actors == ("ARM", "BLR", "KAZ", "KGZ", "XAB", "XSO")
    standing = ev.event("EV045")
    assert standing.date_start is None and standing.active_on(date(2022, 1, 1))
    assert (ev.event("EV015").publication_date, ev.event("EV015").publication_date_precision) == (
        date(2022, 8, 1),
        "month",
    )
    assert sum(1 for x in ev.events if x.date_start is None) == 9
    assert "EV030" in {x.id for x in ev.events_on("2022-10-01")}


def test_survey_shares(ev):
    s = ev.get("RS016")
    assert isinstance(s, SurveyShare)
    assert (s.value, s.unit_kind, s.bound, s.sample_size) == (80.0, "percent", "lower", 1654)
    assert (s.fieldwork_start, s.fieldwork_end, s.fieldwork_precision) == (
        date(2022, 10, 1),
        date(2022, 12, 31),
        "month",
    )
    assert ev.get("RS007").unit_kind == "years" and ev.get("RS007").value == 32
    assert ev.get("RS006").value is None and ev.get("RS006").unit_kind == "categorical"
    assert ev.get("RS014").sample_size is None  # "853 (GEO) + 801 (ARM)" stays text
    rs011 = ev.get("RS011")
    assert (rs011.fieldwork_start, rs011.fieldwork_end, rs011.fieldwork_precision) == (
        date(2022, 1, 1),
        date(2022, 12, 31),
        "year",
    )
    assert Counter(x.bound for x in ev.survey_shares) == {"point": 27, "lower": 4}
    assert len(load_survey_shares()) == 31 and len(load_events()) == 56


def test_visa_history(ev):
    hist = load_visa_history()
    geo = [r for r in hist if r.destination == "GEO" and r.snapshot == "2022-03-06"]
    assert len(geo) == 1 and (geo[0].requirement, geo[0].days) == ("visa_free", 360)
    first = {r.destination: r for r in hist if r.snapshot == "2019-11-23"}
    assert all(r.legacy for r in first.values())
    assert (first["CYP"].requirement, first["MEX"].requirement, first["EGY"].requirement) == (
        "visa_required",
        "e_visa",
        "visa_on_arrival",
    )
    assert first["GEO"].requirement == "visa_free" and first["GEO"].days is None
    current = [r for r in hist if r.snapshot == "current"]
    assert len(current) == 29 and all(r.date is None for r in current)
    assert next(r for r in current if r.destination == "MEX").requirement == "eta"
    assert Counter(r.requirement for r in hist)["covid_ban"] == 103
    assert sum(r.legacy for r in hist) == 58  # two legacy snapshots x 29
    assert ev.visa_requirement("FIN", "2022-10-01").requirement == "visa_required"
    tur = ev.visa_requirement("TUR", date(2022, 9, 25))
    assert (tur.snapshot, tur.days) == ("2022-09-10", 60)
    srb = ev.visa_requirement("SRB", "2023-03-01")
    assert srb.days == 30  # the 90 -> 30 data correction of 2023-02
    assert ev.visa_requirement("GEO", "2019-01-01") is None


def test_filter(ev):
    assert [o.id for o in ev.filter(kind="stock_in_destination", destination="GEO")] == ["OBS082"]
    fin_sep = {o.id for o in ev.filter(destination="FIN", date_from="2022-09", date_to="2022-09")}
    assert fin_sep == {"OBS042", "OBS059", "OBS114", "OBS115", "OBS117", "OBS119"}
    day = ev.filter(
        kind="border_crossings_entry", destination="GEO", date_from="2022-09-25", date_to="2022-09-25"
    )
    assert {o.id for o in day} == {"OBS069", "OBS070", "OBS078"}
    assert len(ev.filter(kind=["net_arrivals", "citizenship_grants"])) == 8  # OBS257 (Argentina) is new
    # US border encounters: FY2021, Oct 2021-Jan 2022, Aug 2021-Jan 2022
    assert [o.id for o in ev.filter(date_to=date(2021, 12, 31))] == ["OBS147", "OBS148", "OBS153"]
    with pytest.raises(EmigreError, match="did you mean stock_in_destination"):
        ev.filter(kind="stock_in_destinations")
    with pytest.raises(EmigreError, match="unknown destination 'XXX'"):
        ev.filter(destination="XXX")
    with pytest.raises(EmigreError, match="2022-02-30"):
        ev.filter(date_from="2022-02-30")


def test_get_unknown_id_suggests(ev):
    with pytest.raises(EmigreError, match="did you mean OBS001"):
        ev.get("OBS1")
    with pytest.raises(EmigreError, match="not an observation"):
        ev.observation("EV001")


def test_partial_dates():
    feb = parse_partial_date("2022-02")
    assert (feb.first, feb.last, feb.precision) == (date(2022, 2, 1), date(2022, 2, 28), "month")
    assert parse_partial_date("2024-02").last == date(2024, 2, 29)
    for bad in ("2022-02-30", "2023-02-29", "2022-13", "22-01-01", "2022-1-5", "2022"):
        with pytest.raises(ValueError):
            parse_partial_date(bad)
    assert parse_partial_date("2022", allow=("day", "month", "year")).last == date(2022, 12, 31)


def test_bound_reader_on_synthetic_text():
    rb = bounds.read_bound
    assert rb(1000, None, None, "more than 1,000 people", "").bound == "lower"
    assert rb(1000, None, None, "fewer than 1 000 people", "").bound == "upper"
    assert rb(2500000, None, None, "почти 2,5 млн выездов", "").qualifier == "almost"
    assert rb(96700, None, None, "at least 96.7 thousand", "").bound == "lower"
    assert rb(5000, None, None, "more than 300 arrived; 5,000 left", "").bound == "point"
    assert rb(5000, None, None, "5,000 left", "Lower bound.").bound == "lower"
    assert rb(None, 1, 2, "", "").bound == "range"
    assert bounds.read_unit("PERCENT; share") == "percent" and bounds.read_unit("percent of") == "persons"


def test_iso_codes():
    names = codes.iso3_names()
    assert len(names) == 249
    assert {"RUS", "GEO", "KAZ", "ARE", "SRB"} <= set(names)
    assert not codes.is_iso3("EUU") and codes.is_area_code("EUU") and codes.is_area_code("XAB")
    assert not codes.is_area_code("ALL", allow_all=False)
    assert codes.alpha2_to_alpha3("RU") == "RUS"
