"""Read a Flee-format scenario directory and a Flee 3 ``simsetting.yml``, validating every value.

Every problem is reported as one :class:`emigre.errors.InputError` naming the file, the 1-based line, the
column and what was expected; nothing is returned partially. The accepted variants are those of the real
suite (header and comment lines starting with ``#``, blank lines, CRLF, trailing commas, spaces around
values, an extra third column in series files); see ``tests/test_flee_reader.py``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from emigre.errors import InputError
from emigre.fileio import check_input_file, read_csv_rows_numbered, read_text
from emigre.flee.model import (
    CLOSURE_TYPES,
    FleeClosure,
    FleeLocation,
    FleeRoute,
    FleeScenario,
    FleeSettings,
    Series,
)

Row = tuple[int, list[str]]

LOCATION_COLUMNS = (
    "name",
    "region",
    "country",
    "latitude",
    "longitude",
    "location_type",
    "conflict_date",
    "population",
)
ROUTE_COLUMNS = ("name1", "name2", "distance", "forced_redirection")
CLOSURE_COLUMNS = ("closure_type", "name1", "name2", "closure_start", "closure_end")
SERIES_COLUMNS = ("date", "count")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --------------------------------------------------------------------------------------------- helpers
def _data_rows(rows: list[Row]) -> list[Row]:
    """Rows that are not headers/comments (Flee skips every row whose first cell starts with ``#``)."""
    return [(ln, r) for ln, r in rows if not r[0].startswith("#")]


def _cell(path: Path, line: int, row: list[str], index: int, columns: tuple[str, ...]) -> str:
    if index >= len(row):
        raise InputError(
            path,
            f"row has {len(row)} column(s), the column '{columns[index]}' is missing",
            line=line,
            column=columns[index],
            expected=f"at least {index + 1} comma-separated columns: {','.join(columns[: index + 1])}",
        )
    return row[index]


def _number(path: Path, line: int, column: str, text: str, *, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(
            path, f"{column} is not a number", line=line, column=column, expected=what, got=text
        ) from None
    if not math.isfinite(value):
        raise InputError(path, f"{column} is not finite", line=line, column=column, expected=what, got=text)
    return value


def _count(path: Path, line: int, column: str, text: str, *, what: str) -> int:
    """A whole number >= 0 (a day number or a count)."""
    value = _integer(path, line, column, text, what=what)
    if value < 0:
        raise InputError(path, f"negative {column}", line=line, column=column, expected=what, got=text)
    return value


def _coordinate(path: Path, line: int, column: str, text: str, limit: int) -> float:
    """A latitude or longitude within +-``limit`` degrees; empty reads as 0, as Flee reads it."""
    what = f"a {column} in [-{limit}, {limit}]"
    value = _number(path, line, column, text, what=what) if text else 0.0
    if not -limit <= value <= limit:
        raise InputError(path, f"{column} out of range", line=line, column=column, expected=what, got=text)
    return value


def _integer(path: Path, line: int, column: str, text: str, *, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(
            path, f"{column} is not an integer", line=line, column=column, expected=what, got=text
        ) from None


def parse_date(path: Path | str, line: int | None, column: str | int, text: str) -> dt.date:
    """A strict ``YYYY-MM-DD`` date; impossible dates (2012-02-30) are refused."""
    if not _DATE_RE.match(text):
        raise InputError(path, "bad date", line=line, column=column, expected="a date YYYY-MM-DD", got=text)
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(
            path,
            f"impossible date ({exc})",
            line=line,
            column=column,
            expected="a calendar date YYYY-MM-DD",
            got=text,
        ) from None


def _unknown(path: Path, line: int, column: str, name: str, what: str, known: dict[str, Any]) -> InputError:
    hint = ""
    folded = {k.lower(): k for k in known}
    if name.lower() in folded:
        hint = f"; did you mean '{folded[name.lower()]}'?"
    return InputError(
        path,
        f"unknown {what} '{name}'{hint}",
        line=line,
        column=column,
        expected=f"a {what} named in locations.csv",
        got=name,
    )


def _rows(path: Path, *, allow_empty: bool = False) -> list[Row]:
    return read_csv_rows_numbered(path, what=path.name, allow_empty=allow_empty)


# ------------------------------------------------------------------------------------------ directory
def _resolve_dirs(directory: Path) -> tuple[Path, Path]:
    if not directory.exists():
        raise InputError(directory, "scenario directory not found")
    if not directory.is_dir():
        raise InputError(
            directory,
            "scenario path is not a directory",
            expected="a directory holding input_csv/ and source_data/",
        )
    inputs = directory / "input_csv"
    sources = directory / "source_data"
    return (inputs if inputs.is_dir() else directory), (sources if sources.is_dir() else directory)


def _present(p: Path, what: str | None = None) -> bool:
    """Whether an optional file is there. Anything at the path that is not a readable regular file (a directory,
    a symlink loop, /dev/zero, a FIFO) is an error, not an absent file: skipping it would change the results."""
    try:
        p.lstat()
    except FileNotFoundError:
        return False
    except OSError:
        pass
    check_input_file(p, what=what or p.name)
    return True


def _required(folder: Path, name: str) -> Path:
    p = folder / name
    if not _present(p):
        raise InputError(p, "required scenario file not found", expected=f"a file {name} in {folder}")
    return p


# ------------------------------------------------------------------------------------------ locations
def _location_type(path: Path, line: int, text: str) -> str:
    """Normalise like Flee does (case-insensitive substring tests, camp first), but refuse what Flee
    would only print a warning for."""
    t = text.strip().lower()
    if t == "":
        return "town"
    if "camp" in t:
        return "idpcamp" if "idp" in t else "camp"
    if "conflict" in t:
        return "conflict"
    if "forward" in t:  # forwarding_hub in burundi2015 and car2013
        return "forward"
    if "marker" in t:
        return "marker"
    if "default" in t or "town" in t:
        return "town"
    raise InputError(
        path,
        "unknown location_type",
        line=line,
        column="location_type",
        expected="conflict_zone, town, default, camp, idpcamp, marker or forwarding_hub",
        got=text,
    )


def read_locations(path: Path) -> list[FleeLocation]:
    """Read and check locations.csv."""
    rows = _data_rows(_rows(path))
    if not rows:
        raise InputError(path, "no locations (only header or comment lines)", expected="one row per location")
    cols = LOCATION_COLUMNS
    seen: dict[str, int] = {}
    out: list[FleeLocation] = []
    for line, row in rows:
        for i in range(len(cols)):
            _cell(path, line, row, i, cols)
        name, region, country = row[0], row[1], row[2]
        if not name:
            raise InputError(path, "empty location name", line=line, column="name", expected="a name")
        if name in seen:
            raise InputError(
                path,
                f"duplicate location name '{name}' (first on line {seen[name]})",
                line=line,
                column="name",
                expected="unique location names",
                got=name,
            )
        seen[name] = line
        # Flee reads empty coordinates as 0 and an empty country as "unknown"; so do we.
        lat = _coordinate(path, line, "latitude", row[3], 90)
        lon = _coordinate(path, line, "longitude", row[4], 180)
        ltype = _location_type(path, line, row[5])
        cdate = 0
        if row[6]:
            cdate = _count(path, line, "conflict_date", row[6], what="a whole number of days >= 0")
        pop = 0
        if row[7]:
            what = "a capacity >= 0 (0 or empty = unlimited)" if "camp" in ltype else "a population >= 0"
            value = _number(path, line, "population", row[7], what=what)
            if value < 0:
                raise InputError(
                    path, "negative population", line=line, column="population", expected=what, got=row[7]
                )
            pop = int(value)
        out.append(FleeLocation(name, region, country or "unknown", lat, lon, ltype, cdate, pop))
    return out


# --------------------------------------------------------------------------------------------- routes
def read_routes(path: Path, locations: dict[str, FleeLocation]) -> tuple[list[FleeRoute], list[str]]:
    """Read and check routes.csv against the locations; also the warnings for tolerated oddities."""
    cols = ROUTE_COLUMNS
    out: list[FleeRoute] = []
    warnings: list[str] = []
    pairs: dict[frozenset[str], int] = {}
    for line, row in _data_rows(_rows(path)):
        a = _cell(path, line, row, 0, cols)
        b = _cell(path, line, row, 1, cols)
        dist_text = _cell(path, line, row, 2, cols)
        for col, name in (("name1", a), ("name2", b)):
            if name not in locations:
                raise _unknown(path, line, col, name, "location", locations)
        if a == b:
            raise InputError(
                path,
                f"route from '{a}' to itself",
                line=line,
                column="name2",
                expected="two different locations",
                got=b,
            )
        dist = _number(path, line, "distance", dist_text, what="a distance in km > 0")
        if dist <= 0:
            raise InputError(
                path,
                "distance must be positive",
                line=line,
                column="distance",
                expected="a distance in km > 0",
                got=dist_text,
            )
        forced = 0
        if len(row) > 3 and row[3]:
            forced = _integer(path, line, "forced_redirection", row[3], what="0, 1 or 2 (or empty)")
            if forced not in (0, 1, 2):
                raise InputError(
                    path,
                    "bad forced_redirection",
                    line=line,
                    column="forced_redirection",
                    expected="0, 1 or 2 (or empty)",
                    got=row[3],
                )
        key = frozenset((a, b))
        if key in pairs:
            # Flee links such a pair twice; harmless for reading, so only noted.
            warnings.append(f"{path.name} line {line}: route {a}-{b} repeats line {pairs[key]}")
        pairs.setdefault(key, line)
        out.append(FleeRoute(a, b, dist, forced))
    if not out:
        raise InputError(path, "no routes (only header or comment lines)", expected="one row per route")
    return out, warnings


# ------------------------------------------------------------------------------------------- closures
def read_closures(path: Path, locations: dict[str, FleeLocation]) -> list[FleeClosure]:
    """Read and check closures.csv (optional: none if absent)."""
    if not _present(path):
        return []
    cols = CLOSURE_COLUMNS
    countries = {loc.country for loc in locations.values()}
    out: list[FleeClosure] = []
    for line, row in _data_rows(_rows(path, allow_empty=True)):
        for i in range(len(cols)):
            _cell(path, line, row, i, cols)
        kind, a, b = row[0], row[1], row[2]
        if kind not in CLOSURE_TYPES:
            raise InputError(
                path,
                "unknown closure type",
                line=line,
                column="closure_type",
                expected=", ".join(CLOSURE_TYPES),
                got=kind,
            )
        if kind == "country":
            for col, name in (("name1", a), ("name2", b)):
                if name not in countries:
                    raise InputError(
                        path,
                        f"unknown country '{name}'",
                        line=line,
                        column=col,
                        expected="a country named in locations.csv",
                        got=name,
                    )
        elif kind in ("link", "remove_forced_redirection"):
            for col, name in (("name1", a), ("name2", b)):
                if name not in locations:
                    raise _unknown(path, line, col, name, "location", locations)
        else:
            # location/camp/idpcamp use name1 only (the real files put a country or a neighbour in name2).
            if a not in locations:
                raise _unknown(path, line, "name1", a, "location", locations)
        start = _count(path, line, "closure_start", row[3], what="a day number >= 0")
        end = _integer(path, line, "closure_end", row[4], what="a day number >= closure_start, or -1")
        if end < -1:
            raise InputError(
                path,
                "negative closure_end",
                line=line,
                column="closure_end",
                expected="a day number >= closure_start, or -1 (never reopens)",
                got=row[4],
            )
        # remove_forced_redirection only toggles an unused flag; burundi2015 has one with end 0 < start.
        if end != -1 and end < start and kind != "remove_forced_redirection":
            raise InputError(
                path,
                f"closure ends (day {end}) before it starts (day {start})",
                line=line,
                column="closure_end",
                expected="closure_end >= closure_start, or -1",
                got=row[4],
            )
        out.append(FleeClosure(kind, a, b, start, end))
    return out


# ------------------------------------------------------------------------------------------ conflicts
def read_conflicts(
    path: Path, locations: dict[str, FleeLocation], length: int
) -> tuple[list[str], np.ndarray]:
    """Read conflicts.csv: the conflict location names and a [day, location] intensity matrix."""
    rows = _rows(path)
    header_line, header = rows[0]
    # The header is the first line (Flee takes row 0 whatever it says); column 0 is the day.
    names: list[str] = []
    positions: list[int] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(header[1:], start=1):
        name = raw.strip()
        if not name:
            continue  # trailing comma (burundi2015)
        if name not in locations:
            raise _unknown(path, header_line, name, name, "location", locations)
        if name in seen:
            raise InputError(
                path,
                f"duplicate column '{name}' (also column {seen[name] + 1})",
                line=header_line,
                column=name,
                expected="each location once",
            )
        seen[name] = i
        names.append(name)
        positions.append(i)
    if not names:
        raise InputError(
            path,
            "no location columns in the header",
            line=header_line,
            expected="#Day,<location>,<location>,...",
        )
    data = [(ln, r) for ln, r in rows[1:] if not r[0].startswith("#")]
    table = np.zeros((len(data), len(names)), dtype=np.float64)
    width = positions[-1] + 1
    for k, (line, row) in enumerate(data):
        if len(row) < width:
            raise InputError(
                path,
                f"row has {len(row)} values, the header names {width} columns",
                line=line,
                column=header[len(row)].strip() or len(row) + 1,
                expected=f"{width} comma-separated values",
            )
        for j, pos in enumerate(positions):
            text = row[pos]
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not 0.0 <= value <= 1.0:
                raise InputError(
                    path,
                    "conflict intensity out of range or not a number",
                    line=line,
                    column=names[j],
                    expected="a number in [0, 1]",
                    got=text,
                )
            table[k, j] = value
        extra = [c for i, c in enumerate(row) if i >= width and c]
        if extra:
            raise InputError(
                path,
                "more values than header columns",
                line=line,
                column=width + 1,
                expected=f"{width} values",
                got=extra[0],
            )
    if len(data) < length:
        last = data[-1][0] if data else header_line
        raise InputError(
            path,
            f"{len(data)} day rows, but sim_period.csv asks for {length} days",
            line=last,
            expected=f"at least {length} rows after the header",
        )
    return names, table


def _conflicts_from_locations(locations: list[FleeLocation], length: int) -> tuple[list[str], np.ndarray]:
    """Without conflicts.csv Flee activates each conflict zone on its conflict_date with intensity 1."""
    zones = [loc for loc in locations if loc.location_type == "conflict"]
    table = np.zeros((length, len(zones)), dtype=np.float64)
    for j, loc in enumerate(zones):
        table[min(loc.conflict_date, length) :, j] = 1.0
    return [z.name for z in zones], table


# ----------------------------------------------------------------------------------------- sim period
def read_sim_period(path: Path) -> tuple[dt.date, int]:
    """Read sim_period.csv: the start date and the number of simulated days."""
    start: dt.date | None = None
    length: int | None = None
    for line, row in _data_rows(_rows(path)):
        key = row[0].lower()
        if key not in ("startdate", "length"):
            continue
        value = _cell(path, line, row, 1, (row[0], "value"))
        if key == "startdate":
            start = parse_date(path, line, 2, value)
        else:
            length = _integer(path, line, 2, value, what="a number of days > 0")
            if length <= 0:
                raise InputError(
                    path,
                    "Length must be positive",
                    line=line,
                    column=2,
                    expected="a number of days > 0",
                    got=value,
                )
    if start is None:
        raise InputError(path, "no StartDate row", expected="a row StartDate,YYYY-MM-DD")
    if length is None:
        raise InputError(path, "no Length row", expected="a row Length,N")
    return start, length


# ---------------------------------------------------------------------------------------------- series
def read_series(path: Path) -> tuple[Series, list[str]]:
    """One ``YYYY-MM-DD,count`` file; extra columns are ignored (ukraine2022's mol-ocnita.csv has three)."""
    rows = _data_rows(_rows(path))
    warnings: list[str] = []
    # An optional header row: Flee skips a first row whose first cell is Date or DateTime.
    if rows and not _DATE_RE.match(rows[0][1][0]) and rows[0][1][0].lower() in ("date", "datetime", "day"):
        rows = rows[1:]
    if not rows:
        raise InputError(path, "series has no data rows", expected="rows YYYY-MM-DD,count")
    dates: list[dt.date] = []
    values: list[float] = []
    for line, row in rows:
        date = parse_date(path, line, "date", row[0])
        text = _cell(path, line, row, 1, SERIES_COLUMNS)
        value = _number(path, line, "count", text, what="a count >= 0")
        if value < 0:
            raise InputError(
                path, "negative count", line=line, column="count", expected="a count >= 0", got=text
            )
        if dates and date < dates[-1]:
            # pol-medyka.csv (ukraine2022) has one such stray row; interpolation sorts by date.
            warnings.append(f"{path.name} line {line}: date {date} is earlier than the row before")
        dates.append(date)
        values.append(value)
    return Series(tuple(dates), tuple(values), str(path)), warnings


def read_data_layout(
    path: Path, locations: dict[str, FleeLocation]
) -> tuple[Series, dict[str, list[Series]], dict[str, list[Series]], list[str]]:
    """Read data_layout.csv: the total refugee series, per-camp and per-country series, and warnings."""
    rows = _data_rows(_rows(path))
    folder = path.parent
    warnings: list[str] = []
    seen: dict[str, int] = {}
    total: Series | None = None
    camps: dict[str, list[Series]] = {}
    unlocated: dict[str, list[Series]] = {}
    for k, (line, row) in enumerate(rows):
        name = row[0]
        files = [c for c in row[1:] if c]
        if not files:
            raise InputError(
                path,
                f"row '{name}' names no series file",
                line=line,
                column=2,
                expected="name,file.csv[,file2.csv...]",
            )
        if k == 0 and name.lower() != "total":
            raise InputError(
                path,
                "the first row must be the total series",
                line=line,
                column=1,
                expected="total,refugees.csv",
                got=name,
            )
        if name in seen:
            raise InputError(
                path,
                f"duplicate row for '{name}' (first on line {seen[name]})",
                line=line,
                column=1,
                expected="each camp once",
                got=name,
            )
        seen[name] = line
        series: list[Series] = []
        for col, file in enumerate(row[1:], start=2):
            if not file:
                continue
            fp = folder / file
            if not _present(fp):
                raise InputError(
                    path,
                    f"series file '{file}' not found in {folder}",
                    line=line,
                    column=col,
                    expected="an existing CSV file",
                    got=file,
                )
            s, w = read_series(fp)
            series.append(s)
            warnings.extend(w)
        if k == 0:
            total = series[0]
            if len(series) > 1:
                warnings.append(f"{path.name} line {line}: only the first total file is used")
            continue
        if name in locations:
            camps[name] = series
            continue
        folded = {n.lower(): n for n in locations}
        if name.lower() in folded:
            raise _unknown(path, line, "1", name, "location", locations)
        # Flee sums every layout row into the spawn total (sum_from_camps), located or not (car2013's
        # Bossobolo), so the row is kept apart rather than refused.
        unlocated[name] = series
        warnings.append(
            f"{path.name} line {line}: '{name}' is not a location; its series only counts "
            "towards the summed total"
        )
    if total is None:
        raise InputError(path, "no rows", expected="total,refugees.csv then camp,file.csv rows")
    return total, camps, unlocated, warnings


def read_registration_corrections(
    path: Path, locations: dict[str, FleeLocation], camps: dict[str, list[Series]]
) -> dict[str, list[dt.date]]:
    """Read registration_corrections.csv: per camp, the dates whose registrations are corrected."""
    out: dict[str, list[dt.date]] = {}
    if not _present(path):
        return out
    for line, row in _data_rows(_rows(path, allow_empty=True)):
        name = row[0]
        text = _cell(path, line, row, 1, ("camp", "date"))
        if name not in locations:
            raise _unknown(path, line, "camp", name, "location", locations)
        if name not in camps:
            raise InputError(
                path,
                f"'{name}' has no series in data_layout.csv",
                line=line,
                column="camp",
                expected="a camp listed in source_data/data_layout.csv",
                got=name,
            )
        out.setdefault(name, []).append(parse_date(path, line, "date", text))
    return out


# -------------------------------------------------------------------------------------------- scenario
def read_scenario(directory: str | Path) -> FleeScenario:
    """Read and validate a whole Flee scenario directory (``input_csv/`` + ``source_data/``)."""
    directory = Path(directory)
    inputs, sources = _resolve_dirs(directory)
    period = inputs / "sim_period.csv"
    if not _present(period) and _present(inputs / "conflict_period.csv"):
        period = inputs / "conflict_period.csv"  # Flee 3.1's name for the same file
    start, length = read_sim_period(_required(inputs, period.name))
    locations = read_locations(_required(inputs, "locations.csv"))
    by_name = {loc.name: loc for loc in locations}
    routes, warnings = read_routes(_required(inputs, "routes.csv"), by_name)
    closures = read_closures(inputs / "closures.csv", by_name)
    conflicts = inputs / "conflicts.csv"
    if _present(conflicts):
        names, table = read_conflicts(conflicts, by_name, length)
    else:
        names, table = _conflicts_from_locations(locations, length)
    total, camps, unlocated, w = read_data_layout(_required(sources, "data_layout.csv"), by_name)
    warnings.extend(w)
    corrections = read_registration_corrections(inputs / "registration_corrections.csv", by_name, camps)
    return FleeScenario(
        name=directory.resolve().name,
        directory=directory,
        start_date=start,
        length=length,
        locations=locations,
        routes=routes,
        closures=closures,
        conflict_names=names,
        conflict_table=table,
        registration_corrections=corrections,
        total_series=total,
        camp_series=camps,
        unlocated_series=unlocated,
        warnings=warnings,
    )


# -------------------------------------------------------------------------------------------- settings
_BOOL = "bool"
_LIST = "list"
# key -> (section, kind, check); kind is bool, int, float or list; check is (test, expected) or None.
_POSITIVE = (lambda v: v > 0, "a number > 0")
_NONNEG = (lambda v: v >= 0, "a number >= 0")
_PROB = (lambda v: 0 <= v <= 1, "a probability in [0, 1]")
_SETTINGS: dict[str, tuple[str, str, tuple[Any, str] | None]] = {
    "sum_from_camps": ("spawn_rules", _BOOL, None),
    "conflict_spawn_decay": ("spawn_rules", _LIST, None),
    "conflict_spawn_decay_interval": ("spawn_rules", "int", (lambda v: v >= 1, "an integer >= 1")),
    "empty_camps_on_day0": ("spawn_rules", _BOOL, None),
    "take_from_population": ("spawn_rules", _BOOL, None),
    "insert_day0": ("spawn_rules", _BOOL, None),
    "camps_are_sinks": ("spawn_rules", _BOOL, None),
    "max_move_speed": ("move_rules", "float", _POSITIVE),
    "max_walk_speed": ("move_rules", "float", _POSITIVE),
    "camp_weight": ("move_rules", "float", _NONNEG),
    "softening": ("move_rules", "float", _NONNEG),
    "weight_softening": ("move_rules", "float", _NONNEG),
    "default_movechance": ("move_rules", "float", _PROB),
    "start_on_foot": ("move_rules", _BOOL, None),
    "avoid_short_stints": ("move_rules", _BOOL, None),
    "capacity_scaling": ("move_rules", "float", _POSITIVE),
    "capacity_buffer": ("move_rules", "float", (lambda v: 0 < v <= 1, "a fraction in (0, 1]")),
    "distance_power": ("move_rules", "float", _NONNEG),
    "weight_power": ("move_rules", "float", _NONNEG),
    "awareness_level": ("move_rules", "int", (lambda v: v >= 1, "an integer >= 1")),
    "camp_movechance": ("move_rules", "float", _PROB),
    "conflict_movechance": ("move_rules", "float", _PROB),
    "idpcamp_movechance": ("move_rules", "float", _PROB),
    "conflict_weight": ("move_rules", "float", _NONNEG),
    "foreign_weight": ("move_rules", "float", _NONNEG),
    "hasten": ("optimisations", "int", (lambda v: v >= 1, "an integer >= 1")),
}
#: Flee 3 reads ``camps_are_sicks`` (a misspelling); both spellings set camps_are_sinks.
_ALIASES = {("spawn_rules", "camps_are_sicks"): "camps_are_sinks"}


def _convert(path: Path, key: str, node: yaml.Node, value: Any, kind: str) -> Any:
    line = node.start_mark.line + 1
    if kind == _BOOL:
        if not isinstance(value, bool):
            raise InputError(path, "wrong type", line=line, column=key, expected="true or false", got=value)
        return value
    if kind == _LIST:
        if value is None:
            return None
        if not isinstance(value, list):
            raise InputError(
                path,
                "wrong type",
                line=line,
                column=key,
                expected="a list of numbers >= 0 (one factor per interval)",
                got=value,
            )
        out = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int | float) or not item >= 0:
                raise InputError(
                    path, "bad list item", line=line, column=key, expected="numbers >= 0", got=item
                )
            out.append(float(item))
        return out
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(path, "wrong type", line=line, column=key, expected="an integer", got=value)
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(path, "wrong type", line=line, column=key, expected="a number", got=value)
    return float(value)


def read_settings(path: str | Path) -> FleeSettings:
    """Read a Flee 3 ``simsetting.yml``; unknown keys are listed in ``ignored_keys``."""
    path = Path(path)
    text = read_text(path, what="settings file")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(
            path,
            f"malformed YAML: {problem}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            expected="valid YAML",
        ) from None
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        raise InputError(
            path,
            "settings must be a mapping of sections",
            line=1,
            expected="sections such as move_rules:, spawn_rules:",
            got=type(data).__name__,
        )
    settings = FleeSettings(source=str(path))
    values: dict[str, Any] = {}
    where: dict[str, str] = {}
    for knode, vnode in root.value:
        section = knode.value
        if not isinstance(vnode, yaml.MappingNode):
            if vnode.tag == "tag:yaml.org,2002:null" or section not in (
                "spawn_rules",
                "move_rules",
                "optimisations",
                "log_levels",
            ):
                settings.ignored_keys.append(str(section))
                continue
            raise InputError(
                path,
                "a settings section must be a mapping",
                line=vnode.start_mark.line + 1,
                column=str(section),
                expected="key: value lines indented under the section",
            )
        seen: set[str] = set()
        for kn, vn in vnode.value:
            key = str(kn.value)
            dotted = f"{section}.{key}"
            if key in seen:
                raise InputError(
                    path,
                    "duplicate key",
                    line=kn.start_mark.line + 1,
                    column=dotted,
                    expected="each key once",
                )
            seen.add(key)
            name = _ALIASES.get((section, key), key)
            spec = _SETTINGS.get(name)
            if spec is None or spec[0] != section:
                settings.ignored_keys.append(dotted)
                continue
            value = _convert(path, dotted, vn, data[section][key], spec[1])
            check = spec[2]
            if check is not None and not check[0](value):
                raise InputError(
                    path,
                    "value out of range",
                    line=vn.start_mark.line + 1,
                    column=dotted,
                    expected=check[1],
                    got=data[section][key],
                )
            if name in values and values[name] != value:
                raise InputError(
                    path,
                    f"conflicts with {where[name]}",
                    line=kn.start_mark.line + 1,
                    column=dotted,
                    expected="one value for camps_are_sinks",
                )
            values[name] = value
            where[name] = dotted
    for name, value in values.items():
        setattr(settings, name, value)
    return settings


def find_settings(scenario_dir: str | Path, explicit: str | Path | None = None) -> Path:
    """The settings to use: ``explicit``, else simsetting.yml in the scenario directory, else in its parent,
    else in its grandparent (the suite keeps one simsetting.yml beside ``scenarios/``)."""
    if explicit is not None:
        p = Path(explicit)
        if not _present(p, "settings file"):
            raise InputError(p, "settings file not found", expected="an existing simsetting.yml")
        return p
    d = Path(scenario_dir)
    for candidate in (d / "simsetting.yml", d.parent / "simsetting.yml", d.parent.parent / "simsetting.yml"):
        if candidate.is_file():
            return candidate
    raise InputError(
        d / "simsetting.yml",
        "no settings file in the scenario directory, its parent or grandparent",
        expected="simsetting.yml, or pass --settings FILE",
    )
