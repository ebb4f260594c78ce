"""The russia-2022 world answers dated questions correctly (facts from shared/evidence and shared/routes)."""

from __future__ import annotations

import pytest

from emigre.errors import EmigreError
from emigre.scenario import load_scenario


@pytest.fixture(scope="module")
def world():
    return load_scenario("russia-2022")


def _open(world, links, day):
    return [lk.id for lk in links if world.link_open(lk, day)]


def test_packaged_world_checks_clean(world):
    report = world.check()
    assert report.ok, str(report)
    assert report.counts["places"] >= 140 and report.counts["links"] >= 200
    assert report.counts["entry rules"] >= 100 and report.counts["timeline entries"] >= 30


def test_destinations_cover_the_article_and_the_evidence(world):
    needed = {
        "TUR",
        "GEO",
        "ARM",
        "AZE",
        "ARE",
        "GRC",
        "BGR",
        "SRB",
        "KAZ",
        "KGZ",
        "UZB",
        "TJK",
        "MNG",
        "ARG",
        "MEX",
        "BRA",
        "USA",
        "ISR",
        "FIN",
        "DEU",
        "CYP",
        "MNE",
        "THA",
        "LVA",
        "EST",
        "POL",
        "ESP",
        "FRA",
        "KOR",
    }
    with_places = {p.country for p in world.places.values()}
    assert needed <= with_places
    for c in needed:
        for doc in ("internal_passport", "foreign_passport", "schengen_visa"):
            assert world.entry_rule(c, doc, "2022-10-01") is not None, (c, doc)


def test_no_direct_flights_to_georgia_in_2022_but_upper_lars_open(world):
    flights = world.find_links(from_country="RUS", to_country="GEO", mode="air")
    assert flights, "the world keeps the suspended Moscow-Tbilisi route so its closure is visible"
    for day in ("2022-02-24", "2022-06-01", "2022-09-25", "2022-12-31"):
        assert _open(world, flights, day) == []
    assert _open(world, flights, "2023-06-01")  # ban lifted 15 May 2023 (EV038)
    lars = world.link("road:Upper-Lars-Tbilisi")
    # 763-r: before 17 May 2022 exit by land to Georgia only on special grounds -> restricted, not open
    st = world.link_status(lars, "2022-03-15")
    assert st.state == "restricted" and not st.open and "CR010" in st.sources
    assert world.link_open(lars, "2022-05-17") and world.link_open(lars, "2022-09-25")
    assert world.link_status(lars, "2022-09-30").capacity_factor == pytest.approx(0.7)  # EV029


def test_land_exit_lifted_in_stages(world):
    kaz = world.link("road:Bugristoye-Kairak-Kostanay")
    fin = world.link("road:Torfyanovka-Helsinki")
    assert not world.link_open(kaz, "2022-03-29") and world.link_open(kaz, "2022-03-30")
    assert not world.link_open(fin, "2022-07-14") and world.link_open(fin, "2022-07-15")
    assert world.link_open("road:Psou-Sukhumi", "2022-03-01")  # Abkhazia exempt (CR004)
    assert not world.link_open("road:Yarag-Kazmalyar-Baku", "2022-09-25")  # closed all of 2022 (CR027)
    assert not world.link_open(fin, "2023-12-01")  # Finland closed its land border 30 Nov 2023 (EV043)


def test_allegro_runs_until_end_of_march_2022(world):
    assert world.link_open("rail:Allegro", "2022-03-20")
    assert not world.link_open("rail:Allegro", "2022-04-01")


def test_eu_airspace_closed_to_russian_carriers(world):
    eu = {c for c, x in world.countries.items() if x.eu}
    direct = [
        lk
        for lk in world.links.values()
        if lk.mode == "air" and lk.from_country == "RUS" and lk.to_country in eu
    ]
    assert len(direct) >= 8
    assert len(_open(world, direct, "2022-02-20")) == len(direct)
    assert _open(world, direct, "2022-03-01") == []
    assert world.link_open("air:SVO-IST", "2022-03-01")  # Turkish Airlines kept flying (AR006)


def test_schengen_visa_holders_in_finland(world):
    before = world.entry_rule("FIN", "schengen_visa", "2022-09-25")
    after = world.entry_rule("FIN", "schengen_visa", "2022-10-01")
    assert before.admitted and before.max_stay_days == 90
    assert not after.admitted and after.rule == "banned" and after.source == "EV030"
    assert not world.admitted("EST", "schengen_visa", "2022-09-19")  # Baltic/Polish ban (EV019)
    assert world.admitted("EST", "schengen_visa", "2022-09-18")
    assert not world.admitted("FIN", "foreign_passport", "2022-09-25")  # a visa is needed


def test_cyprus_and_bulgaria_recognise_schengen_visas(world):
    """Decision 565/2014/EU: a Schengen visa stands for the national visa of Cyprus and Bulgaria (90 days)."""
    for c in ("CYP", "BGR"):
        r = world.entry_rule(c, "schengen_visa", "2022-06-01")
        assert r.admitted and r.max_stay_days == 90 and "2014/565" in r.source, c
        assert not world.admitted(c, "foreign_passport", "2022-06-01"), c  # without one, a visa is needed


def test_stay_lengths_and_internal_passport(world):
    day = "2022-06-01"
    assert world.entry_rule("GEO", "foreign_passport", day).max_stay_days == 365
    assert world.entry_rule("TUR", "foreign_passport", day).max_stay_days == 60
    assert world.entry_rule("SRB", "foreign_passport", day).max_stay_days == 30
    for c in ("KAZ", "KGZ", "BLR", "ARM", "XAB", "XSO"):
        assert world.admitted(c, "internal_passport", day), c
    for c in ("GEO", "TUR", "UZB", "ARE", "SRB"):
        r = world.entry_rule(c, "internal_passport", day)
        assert r.rule == "banned" and not r.admitted and "EV056" in r.source
    assert world.admitted("ARM", "internal_passport", day, mode="air")
    assert not world.admitted("ARM", "internal_passport", day, mode="road")


def test_routes_moscow_to_georgia_after_mobilization(world):
    found = world.routes("RUS:Moscow", "GEO", "2022-09-25")
    assert found
    by_road = [r for r in found.routes if "road:Upper-Lars-Tbilisi" in r.links]
    via_hub = [r for r in found.routes if r.modes.count("air") and {"ARM", "TUR"} & set(r.countries[:-1])]
    assert by_road and via_hub
    assert all("air:SVO-TBS" not in r.links for r in found.routes)
    assert found.routes[0].hours <= found.routes[-1].hours
    assert "EV044" in " ".join(via_hub[0].sources)  # the answer leads back to its sources


def test_routes_upper_lars_only_after_may_2022(world):
    early = world.routes("RUS:Vladikavkaz", "GEO", "2022-04-01", max_hops=2)
    assert not early and any("Upper-Lars" in r and "special grounds" in r for r in early.reasons)
    assert world.routes("RUS:Vladikavkaz", "GEO", "2022-05-20", max_hops=2)


def test_no_route_to_turkey_on_internal_passport(world):
    found = world.routes("RUS:Moscow", "TUR", "2022-09-25", document="internal_passport")
    assert not found and found.routes == []
    assert "TUR does not admit internal_passport" in found.reasons[0] and "EV056" in found.reasons[0]
    assert world.routes("RUS:Moscow", "KAZ", "2022-09-25", document="internal_passport")


def test_schengen_route_by_allegro_in_march(world):
    found = world.routes("RUS:Saint-Petersburg", "FIN", "2022-03-20", document="schengen_visa", max_hops=2)
    assert any(r.links == ["rail:Allegro"] for r in found.routes)
    later = world.routes("RUS:Saint-Petersburg", "FIN", "2022-10-05", document="schengen_visa")
    assert not later and "FIN does not admit schengen_visa" in later.reasons[0]


def test_unknown_names_suggest_close_matches(world):
    with pytest.raises(EmigreError, match="RUS:Moscow"):
        world.routes("Moskow", "GEO", "2022-09-25")
    with pytest.raises(EmigreError, match="GEO"):
        world.entry_rule("GEX", "foreign_passport", "2022-09-25")
    with pytest.raises(EmigreError, match="foreign_passport"):
        world.entry_rule("GEO", "foreign_pasport", "2022-09-25")
    with pytest.raises(EmigreError, match="air:SVO-IST"):
        world.link_open("air:SVO-ISX", "2022-09-25")
    with pytest.raises(EmigreError, match="YYYY-MM-DD"):
        world.link_open("air:SVO-IST", "2022-02-30")


def test_show_json_shape(world):
    data = world.show("2022-09-25")
    assert set(data) == {"date", "links", "entry"} and data["date"] == "2022-09-25"
    assert len(data["links"]) == sum(lk.international for lk in world.links.values())
    assert all(set(x) == {"from", "to", "mode", "open"} for x in data["links"])
    assert all(set(x) == {"country", "document", "rule", "max_stay_days"} for x in data["entry"])
    geo = {(x["country"], x["document"]): x for x in data["entry"]}[("GEO", "foreign_passport")]
    assert geo == {
        "country": "GEO",
        "document": "foreign_passport",
        "rule": "visa_free",
        "max_stay_days": 365,
    }


def test_compile_arrays_agree_with_queries(world):
    cw = world.compile("2022-02-20", "2022-12-31")
    assert cw.link_open.shape == (cw.n_days, len(cw.link_ids))
    assert cw.entry_rule.shape == (cw.n_days, len(cw.countries), 3)
    for link, day in (
        ("rail:Allegro", "2022-03-20"),
        ("rail:Allegro", "2022-04-01"),
        ("road:Upper-Lars-Tbilisi", "2022-03-15"),
        ("air:SVO-FRA", "2022-02-20"),
    ):
        assert cw.link_open[cw.day(day), cw.link_ids.index(link)] == world.link_open(link, day)
    lars = cw.link_ids.index("road:Upper-Lars-Tbilisi")
    assert (
        cw.link_restricted[cw.day("2022-03-15"), lars] and not cw.link_restricted[cw.day("2022-06-01"), lars]
    )
    fin, sch = cw.countries.index("FIN"), cw.documents.index("schengen_visa")
    assert (
        cw.entry_admitted[cw.day("2022-09-25"), fin, sch]
        and not cw.entry_admitted[cw.day("2022-10-01"), fin, sch]
    )
    geo = cw.countries.index("GEO")
    assert cw.entry_max_stay[cw.day("2022-09-25"), geo, cw.documents.index("foreign_passport")] == 365
    mob = cw.push_ids.index("P04")
    assert cw.push_active[cw.day("2022-09-21"), mob] and not cw.push_active[cw.day("2022-11-01"), mob]
    assert cw.origin_weight.sum() == pytest.approx(1.0)
    assert cw.origin_weight[
        cw.origin_place.tolist().index(cw.place_ids.index("RUS:Moscow"))
    ] == pytest.approx(0.40)


def test_origin_weights_follow_the_documented_shares(world):
    w = world.origin_weights()
    big = sum(v for p, v in w.items() if world.origins[p].millionplus)
    assert big == pytest.approx(world.params["origin_share_millionplus"].value)
    assert w["RUS:Saint-Petersburg"] > w["RUS:Novosibirsk"] > w["RUS:Tomsk"]
    assert world.origin_weights({"origin_share_moscow": 0.3})["RUS:Moscow"] == pytest.approx(0.3)


def test_every_element_cites_a_source_or_parameter(world):
    rows = (
        list(world.places.values()) + list(world.links.values()) + world.rules + world.timeline + world.pushes
    )
    assert all(r.source for r in rows)
    assert all(p.doc and "dist" in p.prior for p in world.params.values())


def test_sections_are_reused_between_loads_only_while_their_inputs_hold(tmp_path):
    """A calibration reloads the world for every draw with the caller's cache: each parsed section is reused
    while its file, params.yaml, the sections it builds on and the parameters it resolved are unchanged, and
    every load returns what a load without the cache returns."""
    import os
    import shutil

    from emigre.scenario.load import load_scenario, packaged_dir

    d = tmp_path / "sc"
    shutil.copytree(packaged_dir("russia-2022"), d)
    cache: dict = {}
    sections = ("countries", "places", "origins", "links", "timeline", "rules", "pushes")

    def same(a, b):
        return all(getattr(a, s) == getattr(b, s) for s in sections) and a.params == b.params

    w1 = load_scenario(d, params_cache=cache)
    w2 = load_scenario(d, params_cache=cache, params={"return_per_year": 0.4})  # a behaviour parameter only
    assert all(getattr(w1, s) is getattr(w2, s) for s in sections)  # nothing re-read
    assert w2.params["return_per_year"].value == 0.4 and same(w2, load_scenario(d, params={"return_per_year": 0.4}))
    # a timeline factor cites param:upper_lars_capacity_factor_ev029: the timeline (only) is read again
    w3 = load_scenario(d, params_cache=cache, params={"upper_lars_capacity_factor_ev029": 0.9})
    assert w3.timeline is not w1.timeline and w3.links is w1.links and w3.rules is w1.rules
    assert w3.timeline != w1.timeline and same(w3, load_scenario(d, params={"upper_lars_capacity_factor_ev029": 0.9}))
    assert load_scenario(d, params_cache=cache).timeline is w1.timeline  # the first values again: kept
    # links derive travel hours from the mode's speed where the table gives none: a speed is read by the links
    w5 = load_scenario(d, params_cache=cache, params={"air_speed_kmh": 500.0})
    assert w5.links is not w1.links and w5.links != w1.links and w5.timeline is not w1.timeline  # built on links
    assert same(w5, load_scenario(d, params={"air_speed_kmh": 500.0}))
    # an edited file is read again, and so is every section built on it
    p = d / "countries.csv"
    p.write_text(p.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 10**9))
    w4 = load_scenario(d, params_cache=cache)
    assert w4.countries is not w1.countries and w4.places is not w1.places and w4.pushes is w1.pushes
    assert same(w4, w1)  # a blank line changes nothing
    # a section with a problem is never kept: each load reports it
    links = d / "links.csv"
    links.write_text(links.read_text(encoding="utf-8").rstrip("\n") + "\nBAD,nowhere,GEO,road,,,,,EV001\n",
                     encoding="utf-8")
    for _ in range(2):
        w = load_scenario(d, strict=False, params_cache=cache)
        assert any("unknown place 'nowhere'" in str(e) for e in w.load_problems)
