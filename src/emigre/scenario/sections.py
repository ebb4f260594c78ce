"""The table readers of a scenario directory, one function per file, in the order :func:`emigre.scenario.load.load_dir`
calls them (a later table refers to the rows of earlier ones). Each returns the rows that pass every check and
adds every problem it finds to ``problems`` (one line naming file, row, column and what was expected)."""

from __future__ import annotations

from emigre.scenario.load import _ID, _ISO3, _haversine_km, _select, _Table
from emigre.scenario.model import (
    DOCUMENTS,
    EFFECTS,
    HOME,
    MODES,
    PLACE_KINDS,
    PUSH_KINDS,
    RULES,
    WEIGHT_GROUPS,
    Country,
    EntryRule,
    Link,
    Origin,
    Place,
    PushEvent,
    TimelineEntry,
    admits,
)


def read_countries(directory, problems, rd):
    """Countries: the rows of the table that pass every check (problems noted)."""
    t = _Table(directory / "countries.csv", ("iso3", "name", "eu", "schengen", "source"), problems)
    countries: dict[str, Country] = {}
    for line, row in t.rows:
        iso, name, src = row["iso3"], rd.text(t, line, row, "name"), rd.source(t, line, row)
        eu, sch = (
            rd.choice(t, line, row, "eu", ("yes", "no")),
            rd.choice(t, line, row, "schengen", ("yes", "no")),
        )
        if not _ISO3.match(iso):
            problems.add(
                t.path, "invalid country code", line=line, column="iso3", expected="ISO 3166 alpha-3", got=iso
            )
            continue
        if iso in countries:
            problems.add(t.path, f"duplicate country {iso}", line=line, column="iso3")
            continue
        if None in (name, src, eu, sch):
            continue
        countries[iso] = Country(
            iso3=iso,
            name=name,
            eu=eu == "yes",
            schengen=sch == "yes",
            source=src,
            notes=row.get("notes", ""),
            line=line,
        )
    return countries



def read_places(directory, problems, rd, countries):
    """Places: the rows of the table that pass every check (problems noted)."""
    t = _Table(directory / "places.csv", ("id", "name", "kind", "country", "lat", "lon", "source"), problems)
    places: dict[str, Place] = {}
    for line, row in t.rows:
        pid = row["id"]
        if not _ID.match(pid):
            problems.add(
                t.path,
                "invalid place id",
                line=line,
                column="id",
                expected="COUNTRY:Name, e.g. RUS:Moscow-SVO or RUS-GEO:Upper-Lars",
                got=pid,
            )
            continue
        if pid in places:
            problems.add(t.path, f"duplicate place id {pid}", line=line, column="id")
            continue
        kind = rd.choice(t, line, row, "kind", PLACE_KINDS)
        country = row["country"]
        ok = True
        if country not in countries:
            problems.add(
                t.path,
                f"unknown country {country!r}",
                line=line,
                column="country",
                expected="a country of countries.csv",
                got=country,
            )
            ok = False
        elif pid.split(":")[0].split("-")[0] != country:
            problems.add(
                t.path,
                "place id prefix does not name its country",
                line=line,
                column="id",
                expected=f"{country}:...",
                got=pid,
            )
            ok = False
        lat = rd.number(t, line, row, "lat", minimum=-90)
        lon = rd.number(t, line, row, "lon", minimum=-180)
        if lat is None or lon is None:
            problems.add(
                t.path,
                "missing coordinates",
                line=line,
                column="lat" if lat is None else "lon",
                expected="decimal degrees",
            )
            ok = False
        elif lat is not False and lat > 90 or lon is not False and lon > 180:
            problems.add(
                t.path,
                "coordinates out of range",
                line=line,
                column="lat",
                expected="lat in [-90, 90], lon in [-180, 180]",
                got=f"{lat},{lon}",
            )
            ok = False
        pop = rd.number(t, line, row, "population", integer=True)
        src = rd.source(t, line, row)
        if not ok or any(x is False for x in (lat, lon, pop)) or None in (kind, src):
            continue
        places[pid] = Place(
            id=pid,
            name=row["name"] or pid,
            kind=kind,
            country=country,
            lat=lat,
            lon=lon,
            population=None if pop is None else int(pop),
            iata=row.get("iata", ""),
            coord_source=row.get("coord_source", ""),
            source=src,
            notes=row.get("notes", ""),
            line=line,
        )
    return places



def read_origins(directory, problems, rd, places):
    """Origins: the rows of the table that pass every check (problems noted)."""
    t = _Table(directory / "origins.csv", ("place", "weight_group", "millionplus", "source"), problems)
    origins: dict[str, Origin] = {}
    for line, row in t.rows:
        pid = row["place"]
        if pid not in places:
            problems.add(
                t.path,
                f"unknown place {pid!r}",
                line=line,
                column="place",
                expected="a place of places.csv",
                got=pid,
            )
            continue
        if places[pid].country != HOME or places[pid].population is None:
            problems.add(
                t.path,
                "an origin must be a place in RUS with a population",
                line=line,
                column="place",
                got=pid,
            )
            continue
        group = rd.choice(t, line, row, "weight_group", WEIGHT_GROUPS)
        mp = rd.choice(t, line, row, "millionplus", ("yes", "no"))
        census = rd.number(t, line, row, "census2021_population", integer=True)
        src = rd.source(t, line, row)
        if None in (group, mp, src) or census is False:
            continue
        origins[pid] = Origin(
            place=pid,
            weight_group=group,
            millionplus=mp == "yes",
            census2021_population=None if census is None else int(census),
            census_source=row.get("census_source", ""),
            source=src,
            notes=row.get("notes", ""),
            line=line,
        )
    return origins



def read_links(directory, problems, params, rd, places):
    """Links: the rows of the table that pass every check (problems noted)."""
    t = _Table(
        directory / "links.csv",
        ("id", "from", "to", "mode", "distance_km", "travel_hours", "source"),
        problems,
    )
    links: dict[str, Link] = {}

    def pv(name: str, default: float | None) -> float | None:  # a derivation parameter's value, if defined
        return params[name].value if name in params else default
    for line, row in t.rows:
        lid = row["id"]
        if not lid:
            problems.add(t.path, "empty link id", line=line, column="id")
            continue
        if lid in links:
            problems.add(t.path, f"duplicate link id {lid}", line=line, column="id")
            continue
        ends = []
        for col in ("from", "to"):
            if row[col] not in places:
                problems.add(
                    t.path,
                    f"unknown place {row[col]!r}",
                    line=line,
                    column=col,
                    expected="a place id of places.csv",
                    got=row[col],
                )
            ends.append(places.get(row[col]))
        mode = rd.choice(t, line, row, "mode", MODES)
        dist = rd.number(t, line, row, "distance_km")
        hours = rd.number(t, line, row, "travel_hours")
        cap = rd.number(t, line, row, "capacity_per_day")
        cost = rd.number(t, line, row, "cost_rub")
        src = rd.source(t, line, row)
        for vcol, scol in (("capacity_per_day", "capacity_source"), ("cost_rub", "cost_source")):
            if row.get(vcol):
                rd.source(t, line, row, scol)
        if row["from"] == row["to"] and row["from"]:
            problems.add(t.path, "link joins a place to itself", line=line, column="to", got=row["to"])
            continue
        if None in ends or mode is None or src is None or any(x is False for x in (dist, hours, cap, cost)):
            continue
        a, b = ends
        derived = dist is None or hours is None
        if dist is None:
            dist = _haversine_km(a, b) * pv(f"{mode}_route_factor", 1.0)
        if hours is None:
            speed = pv(f"{mode}_speed_kmh", None)
            if not speed:
                problems.add(
                    directory / "params.yaml",
                    f"parameter {mode}_speed_kmh missing",
                    expected="a positive speed to derive travel_hours",
                )
                continue
            hours = dist / speed + pv(f"{mode}_overhead_hours", 0.0)
        links[lid] = Link(
            id=lid,
            from_place=a.id,
            to_place=b.id,
            from_country=a.country,
            to_country=b.country,
            mode=mode,
            distance_km=round(dist, 1),
            travel_hours=round(hours, 2),
            derived_geometry=derived,
            capacity_per_day=cap,
            capacity_source=row.get("capacity_source", ""),
            cost_rub=cost,
            cost_source=row.get("cost_source", ""),
            source=src,
            notes=row.get("notes", ""),
            line=line,
        )
    return links



def read_timeline(directory, problems, rd, countries, places, links):
    """Timeline: the rows of the table that pass every check (problems noted)."""
    t = _Table(
        directory / "timeline.csv", ("id", "date_start", "date_end", "effect", "links", "source"), problems
    )
    groups = {
        "@EU": {c.iso3 for c in countries.values() if c.eu},
        "@SCHENGEN": {c.iso3 for c in countries.values() if c.schengen},
    }
    timeline: list[TimelineEntry] = []
    seen: set[str] = set()
    for line, row in t.rows:
        tid = row["id"]
        if not tid or tid in seen:
            problems.add(t.path, "missing or duplicate timeline id", line=line, column="id", got=tid)
            continue
        seen.add(tid)
        d0, d1 = rd.date(t, line, row, "date_start"), rd.date(t, line, row, "date_end")
        effect = rd.choice(t, line, row, "effect", EFFECTS)
        src = rd.source(t, line, row)
        matched = _select(row["links"], links, places, countries, groups, t.path, line, problems)
        value, value_ref = None, ""
        if effect == "capacity":
            value_ref = row.get("value", "")
            value = rd.number(t, line, row, "value", allow_param=True)
            if value is None:
                problems.add(
                    t.path,
                    "a capacity entry needs a value",
                    line=line,
                    column="value",
                    expected="a factor or param:NAME",
                )
                continue
        if (
            any(x is False for x in (d0, d1, value))
            or None in (effect, src, matched)
            or not rd.period(t, line, d0, d1, "date_end")
        ):
            continue
        timeline.append(
            TimelineEntry(
                id=tid,
                date_start=d0,
                date_end=d1,
                effect=effect,
                selector=row["links"],
                link_ids=tuple(matched),
                value=value,
                value_ref=value_ref,
                source=src,
                description=row.get("description", ""),
                line=line,
            )
        )
    return timeline



def read_entry_rules(directory, problems, rd, countries):
    """Entry rules: the rows of the table that pass every check (problems noted)."""
    t = _Table(
        directory / "entry_rules.csv",
        ("country", "document", "rule", "max_stay_days", "valid_from", "valid_to", "source"),
        problems,
    )
    rules: list[EntryRule] = []
    for line, row in t.rows:
        c = row["country"]
        if c not in countries or c == HOME:
            problems.add(
                t.path,
                f"unknown country {c!r}",
                line=line,
                column="country",
                expected="a destination of countries.csv",
                got=c,
            )
            continue
        doc, rule = rd.choice(t, line, row, "document", DOCUMENTS), rd.choice(t, line, row, "rule", RULES)
        stay = rd.number(t, line, row, "max_stay_days", integer=True, allow_param=True)
        modes = tuple(m for m in row.get("modes", "").split("|") if m)
        bad = [m for m in modes if m not in MODES]
        if bad:
            problems.add(
                t.path, "invalid mode", line=line, column="modes", expected=" | ".join(MODES), got=bad[0]
            )
            continue
        d0, d1 = rd.date(t, line, row, "valid_from"), rd.date(t, line, row, "valid_to")
        src = rd.source(t, line, row)
        if (
            None in (doc, rule, src)
            or any(x is False for x in (stay, d0, d1))
            or not rd.period(t, line, d0, d1, "valid_to")
        ):
            continue
        rules.append(
            EntryRule(
                country=c,
                document=doc,
                rule=rule,
                max_stay_days=None if stay is None else int(stay),
                modes=modes,
                valid_from=d0,
                valid_to=d1,
                admitted=admits(rule, doc, countries[c].schengen),
                source=src,
                notes=row.get("notes", ""),
                line=line,
            )
        )
    return rules



def read_push_events(directory, problems, params, rd):
    """Push events: the rows of the table that pass every check (problems noted)."""
    t = _Table(
        directory / "push_events.csv",
        ("id", "name", "kind", "date_start", "date_end", "intensity", "source"),
        problems,
    )
    pushes: list[PushEvent] = []
    for line, row in t.rows:
        kind = rd.choice(t, line, row, "kind", PUSH_KINDS)
        d0, d1 = rd.date(t, line, row, "date_start", required=True), rd.date(t, line, row, "date_end")
        src = rd.source(t, line, row)
        ok = True
        for col in ("intensity", "decay_days"):
            v = row.get(col, "")
            if (v or col == "intensity") and v not in params:
                rd.unknown_param(t, line, col, v)
                ok = False
        if (
            not ok
            or None in (kind, src)
            or any(x is False for x in (d0, d1))
            or not rd.period(t, line, d0, d1, "date_end")
        ):
            continue
        pushes.append(
            PushEvent(
                id=row["id"],
                name=row["name"],
                kind=kind,
                date_start=d0,
                date_end=d1,
                targets=row.get("targets", "all"),
                intensity=row["intensity"],
                decay_days=row.get("decay_days", ""),
                source=src,
                description=row.get("description", ""),
                line=line,
            )
        )
    return pushes
