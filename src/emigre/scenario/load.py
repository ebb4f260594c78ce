"""Reading a scenario directory into a :class:`~emigre.scenario.world.World`.

Every value is validated where it is read, so a problem names the file, line and column. Problems are
collected (a check lists them all); :func:`load_scenario` raises the first one unless ``strict=False``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from importlib import resources
from pathlib import Path

import yaml

from emigre.errors import EmigreError, InputError
from emigre.fileio import read_csv_rows_numbered, read_text
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
    Param,
    Place,
    PushEvent,
    TimelineEntry,
    admits,
)
from emigre.scenario.ranges import check_value, model_ranges, parse_range, range_from_prior

FILES = (
    "params.yaml",
    "countries.csv",
    "places.csv",
    "origins.csv",
    "links.csv",
    "timeline.csv",
    "entry_rules.csv",
    "push_events.csv",
)

# Source references: evidence ids (bare RS = reasons.csv), routes ids (rail_sea rows prefixed, because their
# RS ids clash with reasons.csv), passport-index snapshots, URLs and parameters.
SOURCE_PATTERNS = {
    "evidence": re.compile(r"^(OBS|EV|RS)\d{3}$"),
    "routes": re.compile(r"^(CR|AR|OR|CO)\d{2,3}$"),
    "rail_sea": re.compile(r"^rail_sea:RS\d{3}$"),
    "passport_index": re.compile(r"^passport_index:(\d{4}-\d{2}-\d{2}|current)$"),
    "url": re.compile(r"^https?://\S+$"),
    "param": re.compile(r"^param:[a-z][a-z0-9_]*$"),
}
_ID = re.compile(r"^[A-Z]{3}(-[A-Z]{3})?:[A-Za-z0-9][A-Za-z0-9.\-]*$")
_ISO3 = re.compile(r"^[A-Z]{3}$")


def packaged_dir(name: str) -> Path:
    return Path(str(resources.files("emigre") / "data" / name))


def resolve_dir(name_or_path: str | Path) -> Path:
    """A packaged scenario name (``russia-2022``) or a directory holding the scenario files."""
    p = Path(name_or_path)
    if p.is_dir():
        return p
    if isinstance(name_or_path, str) and "/" not in name_or_path and packaged_dir(name_or_path).is_dir():
        return packaged_dir(name_or_path)
    known = sorted(d.name for d in packaged_dir("").iterdir() if (d / "params.yaml").exists())
    raise EmigreError(
        f"unknown scenario {str(name_or_path)!r}: not a packaged scenario ({', '.join(known) or 'none'}) "
        "nor a directory"
    )


def split_sources(text: str) -> list[str]:
    return [t.strip() for t in text.split(";") if t.strip()]


def source_kind(token: str) -> str | None:
    for kind, pat in SOURCE_PATTERNS.items():
        if pat.match(token):
            return kind
    return None


class Problems:
    """Collects input problems as :class:`InputError` objects."""

    def __init__(self) -> None:
        self.items: list[InputError] = []

    def add(
        self,
        file: Path,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
        expected: str | None = None,
        got: object = None,
    ) -> None:
        self.items.append(InputError(file, message, line=line, column=column, expected=expected, got=got))


class _Table:
    """One CSV file: header check, then rows as dicts with their line numbers."""

    def __init__(self, path: Path, required: tuple[str, ...], problems: Problems) -> None:
        self.path = path
        self.rows: list[tuple[int, dict[str, str]]] = []
        numbered = read_csv_rows_numbered(path, what=path.name)
        header_line, header = numbered[0]
        missing = [c for c in required if c not in header]
        if missing:
            raise InputError(
                path,
                f"missing column(s) {', '.join(missing)}",
                line=header_line,
                expected=", ".join(required),
                got=",".join(header),
            )
        for line, row in numbered[1:]:
            if len(row) > len(header):
                problems.add(
                    path,
                    f"row has {len(row)} fields but the header has {len(header)}",
                    line=line,
                    expected=f"{len(header)} fields",
                )
                continue
            row = row + [""] * (len(header) - len(row))
            self.rows.append((line, dict(zip(header, row, strict=True))))


class _Reader:
    """Field parsers that report problems with file/line/column and return ``None`` on failure."""

    def __init__(self, problems: Problems, params: dict[str, Param]) -> None:
        self.p = problems
        self.params = params

    def text(self, t: _Table, line: int, row: dict, col: str, *, required: bool = True) -> str | None:
        v = row.get(col, "")
        if required and not v:
            self.p.add(t.path, f"empty {col}", line=line, column=col, expected="a value")
            return None
        return v

    def choice(self, t: _Table, line: int, row: dict, col: str, options: tuple[str, ...]) -> str | None:
        v = row.get(col, "")
        if v not in options:
            self.p.add(t.path, f"invalid {col}", line=line, column=col, expected=" | ".join(options), got=v)
            return None
        return v

    def date(
        self, t: _Table, line: int, row: dict, col: str, *, required: bool = False
    ) -> dt.date | None | bool:
        """A date, ``None`` when blank and allowed, ``False`` after a reported problem."""
        v = row.get(col, "")
        if not v:
            if required:
                self.p.add(t.path, f"empty {col}", line=line, column=col, expected="a date YYYY-MM-DD")
                return False
            return None
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
                raise ValueError
            return dt.date.fromisoformat(v)
        except ValueError:
            self.p.add(
                t.path,
                f"invalid date in {col}",
                line=line,
                column=col,
                expected="a real calendar date YYYY-MM-DD",
                got=v,
            )
            return False

    def number(
        self,
        t: _Table,
        line: int,
        row: dict,
        col: str,
        *,
        minimum: float | None = 0.0,
        integer: bool = False,
        allow_param: bool = False,
    ) -> float | None | bool:
        v = row.get(col, "")
        if not v:
            return None
        if allow_param and v.startswith("param:"):
            name = v[6:]
            if name not in self.params:
                self.p.add(
                    t.path,
                    f"unknown parameter in {col}",
                    line=line,
                    column=col,
                    expected="a parameter of params.yaml",
                    got=v,
                )
                return False
            return self.params[name].value
        try:
            x = float(v)
            if not math.isfinite(x) or (integer and x != int(x)):
                raise ValueError
        except ValueError:
            self.p.add(
                t.path,
                f"invalid number in {col}",
                line=line,
                column=col,
                expected="an integer" if integer else "a finite number",
                got=v,
            )
            return False
        if minimum is not None and x < minimum:
            self.p.add(
                t.path, f"{col} below {minimum:g}", line=line, column=col, expected=f">= {minimum:g}", got=v
            )
            return False
        return x

    def source(self, t: _Table, line: int, row: dict, col: str = "source") -> str | None:
        v = row.get(col, "")
        if not v:
            self.p.add(
                t.path,
                f"missing {col}",
                line=line,
                column=col,
                expected="an evidence/routes row id, a URL or param:NAME",
            )
            return None
        for tok in split_sources(v):
            kind = source_kind(tok)
            if kind is None:
                self.p.add(
                    t.path,
                    f"unrecognised source reference {tok!r}",
                    line=line,
                    column=col,
                    expected="OBSnnn/EVnnn/RSnnn, CRnnn/ARnnn/ORnn/COnnn, rail_sea:RSnnn, "
                    "passport_index:DATE, a URL or param:NAME",
                    got=tok,
                )
            elif kind == "param" and tok[6:] not in self.params:
                self.p.add(
                    t.path,
                    f"unknown parameter {tok!r}",
                    line=line,
                    column=col,
                    expected="a parameter defined in params.yaml",
                    got=tok,
                )
        return v

    def period(self, t: _Table, line: int, start, end, col_end: str) -> bool:
        if start and end and end < start:
            self.p.add(
                t.path,
                f"{col_end} before the start date",
                line=line,
                column=col_end,
                expected=f">= {start.isoformat()}",
                got=end.isoformat(),
            )
            return False
        return True


def _haversine_km(a: Place, b: Place) -> float:
    r = 6371.0088
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(h)))


def _load_params(path: Path, problems: Problems) -> tuple[dict, dict[str, Param]]:
    text = read_text(path, what="params.yaml")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            path,
            f"malformed YAML: {getattr(exc, 'problem', exc)}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("params"), dict)
        or not isinstance(doc.get("scenario"), dict)
    ):
        raise InputError(path, "expected a mapping with 'scenario' and 'params' sections")
    lines = {
        m.group(1): i + 1
        for i, ln in enumerate(text.splitlines())
        if (m := re.match(r"^  ([a-z][a-z0-9_]*):", ln))
    }
    params: dict[str, Param] = {}
    for name, spec in doc["params"].items():
        line = lines.get(str(name))
        if not isinstance(spec, dict):
            problems.add(
                path, f"parameter {name!r} must be a mapping", line=line, expected="value, prior, doc"
            )
            continue
        missing = [k for k in ("value", "prior", "doc") if k not in spec]
        if missing:
            problems.add(
                path,
                f"parameter {name!r} lacks {', '.join(missing)}",
                line=line,
                column=missing[0],
                expected="value, prior and doc",
            )
            continue
        value = spec["value"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems.add(
                path,
                f"parameter {name!r} value is not a number",
                line=line,
                column="value",
                expected="a finite number",
                got=value,
            )
            continue
        prior = spec["prior"]
        if not isinstance(prior, dict) or prior.get("dist") not in (
            "fixed",
            "uniform",
            "normal",
            "lognormal",
            "beta",
        ):
            problems.add(
                path,
                f"parameter {name!r} has an invalid prior",
                line=line,
                column="prior",
                expected="{dist: fixed|uniform|normal|lognormal|beta, ...}",
                got=prior,
            )
            continue
        declared = spec.get("range")
        if declared is not None and parse_range(declared) is None:
            problems.add(path, f"parameter {name!r} has an invalid range", line=line, column="range",
                         expected="[low, high] with finite low <= high", got=declared)
            continue
        low, high = parse_range(declared) or range_from_prior(prior, float(value), str(spec.get("unit", "")))
        if not low <= value <= high:
            problems.add(path, f"parameter {name!r} value is outside its range [{low:g}, {high:g}]", line=line,
                         column="value", expected=f"a number in [{low:g}, {high:g}]", got=value)
            continue
        params[str(name)] = Param(
            name=str(name),
            value=float(value),
            prior=prior,
            unit=str(spec.get("unit", "")),
            doc=str(spec["doc"]),
        )
    return doc["scenario"], params


def _load_params_cached(path: Path, problems: Problems, cache: dict | None) -> tuple[dict, dict[str, Param]]:
    """:func:`_load_params` through ``cache`` (keyed on the file's path, size and mtime; a file with problems is
    not kept): a calibration parses an unchanged params.yaml once per process, not once per draw."""
    if cache is None:
        return _load_params(path, problems)
    st = Path(path).stat()
    k = (str(path), st.st_size, st.st_mtime_ns)
    got = cache.get(k)
    if got is None:
        got = _load_params(path, problems)
        if problems.items:
            return got
        cache[k] = got
    return dict(got[0]), dict(got[1])


def load_dir(
    directory: Path, problems: Problems, overrides: dict[str, float] | None = None, params_cache: dict | None = None
):
    """Parse every file of ``directory``; referential problems are added to ``problems``.

    ``overrides`` replace parameter values before any row that cites ``param:NAME`` is resolved, so a
    what-if (``--param NAME=VALUE``) reaches timeline factors and stay limits as well as the behaviour.
    ``params_cache`` (a dict the caller keeps) reuses the parsed params.yaml between loads."""
    from emigre.scenario.world import World

    for f in FILES:
        if not (directory / f).exists():
            raise InputError(
                directory / f, "scenario file not found", expected=f"the files {', '.join(FILES)}"
            )
    scenario, params = _load_params_cached(directory / "params.yaml", problems, params_cache)
    for name, value in (overrides or {}).items():
        if name not in params:
            close = difflib.get_close_matches(name, list(params), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise EmigreError(f"unknown parameter {name!r} for scenario {directory.name}{hint}")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise EmigreError(f"parameter {name} must be a number, got {value!r}") from None
        if not math.isfinite(v):
            raise EmigreError(f"parameter {name} must be a finite number, got {value!r}")
        check_value(name, v, model_ranges(directory)[name])  # the valid range params.yaml declares
        params[name] = params[name].model_copy(update={"value": v})
    rd = _Reader(problems, params)
    start = end = None
    for key in ("start", "end"):
        v = scenario.get(key)
        if not isinstance(v, dt.date):
            problems.add(
                directory / "params.yaml",
                f"scenario {key} is not a date",
                column=key,
                expected="YYYY-MM-DD",
                got=v,
            )
    start, end = scenario.get("start"), scenario.get("end")

    # countries
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

    # places
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

    # origins
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

    # links
    t = _Table(
        directory / "links.csv",
        ("id", "from", "to", "mode", "distance_km", "travel_hours", "source"),
        problems,
    )
    links: dict[str, Link] = {}
    pv = {k: v.value for k, v in params.items()}
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
            dist = _haversine_km(a, b) * pv.get(f"{mode}_route_factor", 1.0)
        if hours is None:
            speed = pv.get(f"{mode}_speed_kmh")
            if not speed:
                problems.add(
                    directory / "params.yaml",
                    f"parameter {mode}_speed_kmh missing",
                    expected="a positive speed to derive travel_hours",
                )
                continue
            hours = dist / speed + pv.get(f"{mode}_overhead_hours", 0.0)
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

    # timeline
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

    # entry rules
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

    # push events
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
                problems.add(
                    t.path,
                    f"unknown parameter in {col}",
                    line=line,
                    column=col,
                    expected="a parameter of params.yaml",
                    got=v,
                )
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

    return World(
        directory=directory,
        scenario=scenario,
        start=start,
        end=end,
        params=params,
        countries=countries,
        places=places,
        origins=origins,
        links=links,
        timeline=timeline,
        rules=rules,
        pushes=pushes,
        load_problems=list(problems.items),
    )


def _select(selector: str, links, places, countries, groups, path: Path, line: int, problems: Problems):
    """Link ids matched by ``key=v1|v2;key=...`` (keys: id, mode, from, to, place), or ``None`` if invalid."""
    if not selector:
        problems.add(
            path, "empty link selector", line=line, column="links", expected="e.g. mode=air;from=RUS;to=GEO"
        )
        return None
    terms: dict[str, set[str]] = {}
    for term in selector.split(";"):
        key, _, vals = term.partition("=")
        key, values = key.strip(), {v.strip() for v in vals.split("|") if v.strip()}
        if key not in ("id", "mode", "from", "to", "place") or not values:
            problems.add(
                path,
                f"invalid selector term {term!r}",
                line=line,
                column="links",
                expected="id=|mode=|from=|to=|place= with values separated by |",
                got=term,
            )
            return None
        if key in ("from", "to"):
            expanded = set()
            for v in values:
                if v in groups:
                    expanded |= groups[v]
                elif v in countries:
                    expanded.add(v)
                else:
                    problems.add(
                        path,
                        f"unknown country {v!r} in selector",
                        line=line,
                        column="links",
                        expected="a country of countries.csv or @EU/@SCHENGEN",
                        got=v,
                    )
                    return None
            values = expanded
        known = {"id": links, "place": places, "mode": MODES}.get(key)
        if known is not None:
            bad = sorted(v for v in values if v not in known)
            if bad:
                problems.add(
                    path, f"unknown {key} {bad[0]!r} in selector", line=line, column="links", got=bad[0]
                )
                return None
        terms[key] = values
    out = []
    for link in links.values():
        if "id" in terms and link.id not in terms["id"]:
            continue
        if "mode" in terms and link.mode not in terms["mode"]:
            continue
        if "from" in terms and link.from_country not in terms["from"]:
            continue
        if "to" in terms and link.to_country not in terms["to"]:
            continue
        if "place" in terms and not ({link.from_place, link.to_place} & terms["place"]):
            continue
        out.append(link.id)
    if not out:
        problems.add(path, "selector matches no link", line=line, column="links", got=selector)
        return None
    return out


def load_scenario(
    name: str | Path = "russia-2022",
    *,
    strict: bool = True,
    params: dict[str, float] | None = None,
    params_cache: dict | None = None,
):
    """Load a packaged scenario by name or a scenario directory; ``params`` override parameter values
    (``params_cache``: see :func:`load_dir`).

    With ``strict`` (the default) the first problem is raised as an :class:`InputError`; otherwise the world
    is built from the valid rows and the problems are reported by :meth:`World.check`.
    """
    directory = resolve_dir(name)
    problems = Problems()
    world = load_dir(directory, problems, params, params_cache)
    if strict and problems.items:
        first = problems.items[0]
        if len(problems.items) > 1:
            first.args = (
                f"{first.args[0]} (and {len(problems.items) - 1} more problem(s); "
                f"run `emigre scenario check {directory}`)",
            )
        raise first
    return world
