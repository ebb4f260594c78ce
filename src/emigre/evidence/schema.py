"""Read the four evidence files (or a user's file in the same schema) into records, validating every cell.

Every problem raises :class:`~emigre.errors.InputError` naming the file, the line (as an editor shows it),
the column and what was expected. Nothing is skipped silently: one bad row fails the whole file, because a
calibration that quietly lost a figure would give a wrong answer with no warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emigre.errors import InputError
from emigre.evidence import bounds, codes
from emigre.evidence.dates import DATE_FORMATS, PartialDate, Precision, parse_partial_date
from emigre.evidence.records import Event, Observation, SurveyShare, VisaRequirement
from emigre.fileio import read_csv_rows_numbered

OBSERVATION_COLUMNS: tuple[str, ...] = (
    "id",
    "quantity",
    "low",
    "high",
    "kind",
    "origin",
    "destination",
    "period_start",
    "period_end",
    "publisher",
    "publication_date",
    "url",
    "quote",
    "notes",
)
EVENT_COLUMNS: tuple[str, ...] = (
    "id",
    "date_start",
    "date_end",
    "kind",
    "actor",
    "affects",
    "description",
    "url",
    "publisher",
    "publication_date",
)
SURVEY_COLUMNS: tuple[str, ...] = (
    "id",
    "survey",
    "fieldwork",
    "sample_n",
    "sample_frame",
    "variable",
    "category",
    "value",
    "unit",
    "publisher",
    "publication_date",
    "url",
    "quote",
    "notes",
)
VISA_FIRST_COLUMN = "snapshot"

SCHEMAS: dict[str, tuple[str, ...]] = {
    "observations": OBSERVATION_COLUMNS,
    "events": EVENT_COLUMNS,
    "survey_shares": SURVEY_COLUMNS,
}

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_NUM_RE = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
#: A figure of people has at most 10 digits (the world has 8 billion); a longer one is a typo or junk.
MAX_FIGURE_DIGITS = 10
#: Kinds whose figures are balances and may be negative (entries minus exits, net migration); every other
#: kind counts people, trips or documents and must be >= 0.
SIGNED_KINDS = ("net_arrivals", "other")


def _short(value: str) -> str:
    return value if len(value) <= 24 else f"{value[:12]}...{value[-6:]} ({len(value)} characters)"
_URL_RE = re.compile(r"^https?://\S+$")


@dataclass(frozen=True, slots=True)
class _Table:
    """A CSV file split into its header and numbered data rows, with header problems already ruled out."""

    path: Path
    header_line: int
    header: tuple[str, ...]
    rows: list[tuple[int, list[str]]]


def read_table(path: str | Path, *, what: str) -> _Table:
    """Read a CSV file and return header + rows (empty, binary and huge files fail in :mod:`emigre.fileio`)."""
    p = Path(path)
    numbered = read_csv_rows_numbered(p, what=what)
    header_line, header = numbered[0]
    if len(header) == 1 and any(sep in header[0] for sep in (";", "\t", "|")):
        sep = next(s for s in (";", "\t", "|") if s in header[0])
        raise InputError(
            p,
            "the header is not comma-separated",
            line=header_line,
            column=1,
            expected="comma-separated columns",
            got=f"{sep!r}-separated header",
        )
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if not name:
            raise InputError(p, f"header column {i} is empty", line=header_line, column=i, expected="a name")
        if name in seen:
            raise InputError(p, f"column {name!r} appears twice in the header", line=header_line, column=name)
        seen[name] = i
    return _Table(p, header_line, tuple(header), numbered[1:])


def check_header(table: _Table, expected: Sequence[str], schema: str) -> None:
    """Fail on a missing, extra or misnamed column, naming it and the schema's full column list."""
    have = set(table.header)
    missing = [c for c in expected if c not in have]
    extra = [c for c in table.header if c not in set(expected)]
    if not missing and not extra:
        return
    parts = []
    if missing:
        parts.append("missing column" + ("s " if len(missing) > 1 else " ") + ", ".join(missing))
    if extra:
        parts.append("unexpected column" + ("s " if len(extra) > 1 else " ") + ", ".join(extra))
    column = missing[0] if missing else extra[0]
    raise InputError(
        table.path,
        f"header does not match the {schema} schema: " + "; ".join(parts),
        line=table.header_line,
        column=column,
        expected="columns " + ",".join(expected),
    )


class _Row:
    """One data row with typed accessors that raise InputError pointing at the cell."""

    def __init__(self, table: _Table, line: int, cells: list[str]) -> None:
        self.table = table
        self.line = line
        n = len(table.header)
        if len(cells) != n:
            column: str | int = table.header[len(cells)] if len(cells) < n else n + 1
            raise InputError(
                table.path,
                f"row has {len(cells)} fields, the header has {n} (wrong delimiter or an unquoted comma?)",
                line=line,
                column=column,
                expected=f"{n} comma-separated fields",
                got=len(cells),
            )
        self.cells = dict(zip(table.header, cells, strict=True))

    def fail(
        self, column: str, message: str, *, expected: str | None = None, got: object = None
    ) -> InputError:
        return InputError(self.table.path, message, line=self.line, column=column, expected=expected, got=got)

    def text(self, column: str, *, required: bool = True) -> str:
        value = self.cells[column]
        if required and not value:
            raise self.fail(column, f"{column} is empty", expected="a value")
        return value

    def ident(self, column: str = "id") -> str:
        value = self.text(column)
        if not _ID_RE.match(value):
            raise self.fail(column, "bad id", expected="letters, digits, '_', '.', ':' or '-'", got=value)
        return value

    def integer(self, column: str) -> int | None:
        value = self.cells[column]
        if not value:
            return None
        if not _INT_RE.match(value):
            raise self.fail(
                column, f"{column} is not an integer", expected="an integer without separators", got=value
            )
        if len(value.lstrip("+-").lstrip("0")) > MAX_FIGURE_DIGITS:
            raise self.fail(column, f"{column} has {len(value)} digits, more than any count of people",
                            expected=f"at most {MAX_FIGURE_DIGITS} digits", got=_short(value))
        return int(value)

    def number(self, column: str) -> float | None:
        value = self.cells[column]
        if not value:
            return None
        if not _NUM_RE.match(value):
            raise self.fail(
                column, f"{column} is not a number", expected="a number like 33 or 48.5", got=value
            )
        if len(value.lstrip("+-").split(".")[0].lstrip("0")) > MAX_FIGURE_DIGITS:
            raise self.fail(column, f"{column} is too large", expected=f"at most {MAX_FIGURE_DIGITS} digits "
                            "before the point", got=_short(value))
        return float(value)

    def date(
        self, column: str, *, required: bool = True, allow: tuple[Precision, ...] = ("day", "month")
    ) -> PartialDate | None:
        value = self.cells[column]
        if not value:
            if required:
                raise self.fail(column, f"{column} is empty", expected=_date_expectation(allow))
            return None
        try:
            return parse_partial_date(value, allow=allow)
        except ValueError as exc:
            raise self.fail(
                column, f"bad date: {exc}", expected=_date_expectation(allow), got=value
            ) from None

    def choice(self, column: str, vocabulary: Sequence[str]) -> str:
        value = self.text(column)
        if value not in vocabulary:
            raise self.fail(
                column, f"unknown {column}", expected="one of " + ", ".join(vocabulary), got=value
            )
        return value

    def area(self, column: str, value: str | None = None, *, allow_all: bool = True) -> str:
        value = self.text(column) if value is None else value
        if not codes.is_area_code(value, allow_all=allow_all):
            special = ", ".join(c for c in codes.SPECIAL_CODES if allow_all or c != "ALL")
            raise self.fail(
                column, "unknown country code", expected=f"an ISO 3166-1 alpha-3 code or {special}", got=value
            )
        return value

    def url(self, column: str = "url") -> str:
        value = self.text(column)
        if not _URL_RE.match(value):
            raise self.fail(column, "bad URL", expected="an http:// or https:// URL", got=value)
        return value


def _date_expectation(allow: tuple[Precision, ...]) -> str:
    forms = {"day": "YYYY-MM-DD", "month": "YYYY-MM", "year": "YYYY"}
    return "a date " + " or ".join(forms[p] for p in allow) if allow != ("day", "month") else DATE_FORMATS


def _unique(rows: list[Any], path: Path, column: str = "id") -> None:
    seen: dict[str, int] = {}
    for rec in rows:
        key = rec.id
        if key in seen:
            raise InputError(
                path,
                f"duplicate id {key!r} (first on line {seen[key]})",
                line=rec.line,
                column=column,
                expected="a unique id",
                got=key,
            )
        seen[key] = rec.line


def _pub(row: _Row) -> tuple[Any, Any]:
    pd = row.date("publication_date", required=False, allow=("day", "month", "year"))
    return (pd.first, pd.precision) if pd else (None, None)


# --- observations -------------------------------------------------------------------------------------


def _origin(row: _Row) -> tuple[str, str]:
    value = row.text("origin")
    iso3 = value if codes.is_iso3(value) else codes.alpha2_to_alpha3(value)
    if iso3 is None:
        raise row.fail(
            "origin", "unknown origin country", expected="an ISO 3166-1 alpha-2 or alpha-3 code", got=value
        )
    return value, iso3


def parse_observation(row: _Row) -> Observation:
    """Validate one row of observations.csv into an Observation (errors name file, line and column)."""
    oid = row.ident()
    quantity, low, high = row.integer("quantity"), row.integer("low"), row.integer("high")
    if (low is None) != (high is None):
        col = "high" if high is None else "low"
        raise row.fail(
            col, "a range needs both low and high", expected="an integer", got=row.cells[col] or None
        )
    if quantity is None and low is None:
        raise row.fail(
            "quantity",
            "no figure: quantity and low/high are all empty",
            expected="a quantity or low and high",
        )
    if low is not None and high is not None:
        if low > high:
            raise row.fail(
                "high", f"high {high} is below low {low}", expected=f"an integer >= {low}", got=high
            )
        if quantity is not None and not low <= quantity <= high:
            raise row.fail(
                "quantity",
                f"quantity {quantity} lies outside low..high",
                expected=f"{low}..{high}",
                got=quantity,
            )
    kind = row.choice("kind", codes.OBSERVATION_KINDS)
    if kind not in SIGNED_KINDS:
        for col, v in (("quantity", quantity), ("low", low), ("high", high)):
            if v is not None and v < 0:
                raise row.fail(col, f"negative {col} for a {kind} figure, which counts people",
                               expected="a count >= 0", got=v)
    origin, origin_iso3 = _origin(row)
    destination = row.area("destination")
    start = row.date("period_start")
    end = row.date("period_end")
    assert start is not None and end is not None
    if start.first > end.last:
        raise row.fail(
            "period_end",
            f"period ends before it starts ({start.text})",
            expected=f"a date on or after {start.text}",
            got=end.text,
        )
    publisher = row.text("publisher")
    pub_date, pub_precision = _pub(row)
    url = row.url()
    quote = row.text("quote")
    notes = row.text("notes", required=False)
    unit = bounds.read_unit(notes)
    if unit == "percent":
        for col, v in (("quantity", quantity), ("low", low), ("high", high)):
            if v is not None and not 0 <= v <= 100:
                raise row.fail(col, "a PERCENT row holds a share", expected="a percentage 0..100", got=v)
    reading = bounds.read_bound(quantity, low, high, quote, notes)
    return Observation(
        id=oid,
        quantity=quantity,
        low=low,
        high=high,
        kind=kind,
        origin=origin,
        destination=destination,
        period_start=start.first,
        period_end=end.last,
        period_start_precision=start.precision,
        period_end_precision=end.precision,
        publisher=publisher,
        publication_date=pub_date,
        publication_date_precision=pub_precision,
        url=url,
        quote=quote,
        notes=notes,
        bound=reading.bound,
        qualifier=reading.qualifier,
        unit=unit,
        quality_flags=bounds.quality_flags(notes, publisher),
        origin_iso3=origin_iso3,
        line=row.line,
    )


# --- events -------------------------------------------------------------------------------------------


def parse_event(row: _Row) -> Event:
    """Validate one row of events.csv into an Event (errors name file, line and column)."""
    eid = row.ident()
    start = row.date("date_start", required=False)
    end = row.date("date_end", required=False)
    if start is not None and end is not None and start.first > end.last:
        raise row.fail(
            "date_end",
            f"event ends before it starts ({start.text})",
            expected=f"a date on or after {start.text}",
            got=end.text,
        )
    kind = row.choice("kind", codes.EVENT_KINDS)
    raw_actor = row.text("actor")
    actors = tuple(a.strip() for a in raw_actor.split(";"))
    for a in actors:
        row.area("actor", a, allow_all=False)
    affects = row.text("affects")
    description = row.text("description")
    url = row.url()
    publisher = row.text("publisher")
    pub_date, pub_precision = _pub(row)
    return Event(
        id=eid,
        date_start=start.first if start else None,
        date_end=end.last if end else None,
        date_start_precision=start.precision if start else None,
        date_end_precision=end.precision if end else None,
        kind=kind,
        actors=actors,
        affects=affects,
        description=description,
        url=url,
        publisher=publisher,
        publication_date=pub_date,
        publication_date_precision=pub_precision,
        line=row.line,
    )


# --- survey shares ------------------------------------------------------------------------------------


def _fieldwork(row: _Row) -> tuple[PartialDate, PartialDate]:
    value = row.text("fieldwork")
    parts = value.split("/")
    allow: tuple[Precision, ...] = ("day", "month", "year")
    expected = "a date or period like 2022-03, 2022-10/2022-12 or 2022-09-21/2022-09-25"
    if len(parts) > 2:
        raise row.fail("fieldwork", "bad fieldwork period", expected=expected, got=value)
    try:
        dates = [parse_partial_date(p.strip(), allow=allow) for p in parts]
    except ValueError as exc:
        raise row.fail("fieldwork", f"bad fieldwork date: {exc}", expected=expected, got=value) from None
    start, end = dates[0], dates[-1]
    if start.first > end.last:
        raise row.fail("fieldwork", "fieldwork ends before it starts", expected=expected, got=value)
    return start, end


def parse_survey_share(row: _Row) -> SurveyShare:
    """Validate one row of survey_shares.csv into a SurveyShare (errors name file, line and column)."""
    sid = row.ident()
    survey = row.text("survey")
    fw_start, fw_end = _fieldwork(row)
    sample_n = row.text("sample_n", required=False)
    sample_size = int(sample_n) if sample_n.isdigit() else None
    sample_frame = row.text("sample_frame", required=False)
    variable = row.text("variable")
    category = row.text("category")
    value = row.number("value")
    unit = row.text("unit")
    ul = unit.lower()
    unit_kind = next((k for k in ("percent", "years", "categorical") if ul.startswith(k)), None)
    if unit_kind is None:
        raise row.fail(
            "unit", "unknown unit", expected="text starting with percent, years or categorical", got=unit
        )
    if value is None and unit_kind != "categorical":
        raise row.fail("value", "value is empty", expected="a number (only categorical rows may be empty)")
    if value is not None and unit_kind == "categorical":
        raise row.fail("value", "a categorical row carries no number", expected="an empty value", got=value)
    if value is not None and unit_kind == "percent" and not 0 <= value <= 100:
        raise row.fail("value", "a percentage out of range", expected="0..100", got=value)
    reading = bounds.read_share_bound(unit)
    publisher = row.text("publisher")
    pub_date, pub_precision = _pub(row)
    url = row.url()
    quote = row.text("quote")
    notes = row.text("notes", required=False)
    # The coarser of the two ends: "2022-09-21/2022-10" is known to a month, not to a day.
    precision = max((fw_start.precision, fw_end.precision), key=("day", "month", "year").index)
    return SurveyShare(
        id=sid,
        survey=survey,
        fieldwork_start=fw_start.first,
        fieldwork_end=fw_end.last,
        fieldwork_precision=precision,
        sample_n=sample_n,
        sample_size=sample_size,
        sample_frame=sample_frame,
        variable=variable,
        category=category,
        value=value,
        unit=unit,
        unit_kind=unit_kind,
        bound=reading.bound,
        qualifier=reading.qualifier,
        publisher=publisher,
        publication_date=pub_date,
        publication_date_precision=pub_precision,
        url=url,
        quote=quote,
        notes=notes,
        line=row.line,
    )


# --- visa history -------------------------------------------------------------------------------------

_WORDS = {
    "visa free": "visa_free",
    "vf": "visa_free",
    "visa on arrival": "visa_on_arrival",
    "voa": "visa_on_arrival",
    "e-visa": "e_visa",
    "evisa": "e_visa",
    "eta": "eta",
    "visa required": "visa_required",
    "vr": "visa_required",
    "covid ban": "covid_ban",
}
# Legacy 0-3 codes of the 2019 snapshots, read against the later snapshots (README).
_LEGACY = {"3": "visa_free", "2": "visa_on_arrival", "1": "e_visa", "0": "visa_required"}
_VISA_EXPECTED = "a number of visa-free days, or visa free/VF, visa on arrival/VOA, e-visa, eta/ETA, visa required/VR, covid ban"


def _requirement(row: _Row, column: str, raw: str, legacy: bool) -> tuple[str, int | None]:
    if legacy:
        return _LEGACY[raw], None
    word = _WORDS.get(raw.lower())
    if word is not None:
        return word, None
    if _INT_RE.match(raw) and 1 <= int(raw) <= 3660:
        return "visa_free", int(raw)
    if not raw:
        raise row.fail(column, f"no requirement for {column}", expected=_VISA_EXPECTED)
    raise row.fail(column, "unknown visa requirement", expected=_VISA_EXPECTED, got=raw)


def parse_visa_table(table: _Table) -> list[VisaRequirement]:
    """Validate the visa requirements table (one row per snapshot, one column per country)."""
    if not table.header or table.header[0] != VISA_FIRST_COLUMN:
        raise InputError(
            table.path,
            "the first column must be 'snapshot'",
            line=table.header_line,
            column=1,
            expected="snapshot,ISO3,ISO3,...",
            got=table.header[0] if table.header else None,
        )
    destinations = table.header[1:]
    if not destinations:
        raise InputError(
            table.path,
            "no destination columns",
            line=table.header_line,
            column=2,
            expected="ISO3 destination columns after snapshot",
        )
    for code in destinations:
        if not codes.is_iso3(code):
            raise InputError(
                table.path,
                "header column is not a destination",
                line=table.header_line,
                column=code,
                expected="an ISO 3166-1 alpha-3 code",
                got=code,
            )
    out: list[VisaRequirement] = []
    previous: tuple[Any, int] | None = None
    seen_current = False
    for line, cells in table.rows:
        row = _Row(table, line, cells)
        snap = row.text(VISA_FIRST_COLUMN)
        if seen_current:
            raise row.fail(
                VISA_FIRST_COLUMN, "no snapshot may follow 'current'", expected="'current' last", got=snap
            )
        if snap == "current":
            when = None
            seen_current = True
        else:
            pd = row.date(VISA_FIRST_COLUMN, allow=("day",))
            assert pd is not None
            when = pd.first
            if previous is not None and when <= previous[0]:
                raise row.fail(
                    VISA_FIRST_COLUMN,
                    f"snapshots out of order (line {previous[1]} has {previous[0]})",
                    expected=f"a date after {previous[0]}",
                    got=snap,
                )
            previous = (when, line)
        values = [row.cells[c] for c in destinations]
        # A snapshot is legacy-coded when every value is a 0-3 code (a real 0-3 day stay does not occur).
        legacy = all(v in _LEGACY for v in values)
        for code, raw in zip(destinations, values, strict=True):
            req, days = _requirement(row, code, raw, legacy)
            out.append(VisaRequirement(snap, when, code, raw, req, days, legacy, line))
    if not out:
        raise InputError(
            table.path, "no snapshots", line=table.header_line + 1, expected="at least one data row"
        )
    return out


# --- entry points -------------------------------------------------------------------------------------


def parse_rows(table: _Table, schema: str) -> list[Any]:
    """Validate ``table`` against ``schema`` (observations, events, survey_shares, visa_history)."""
    if schema == "visa_history":
        return parse_visa_table(table)
    columns = SCHEMAS[schema]
    check_header(table, columns, schema)
    parser: Callable[[_Row], Any] = {
        "observations": parse_observation,
        "events": parse_event,
        "survey_shares": parse_survey_share,
    }[schema]
    records = [parser(_Row(table, line, cells)) for line, cells in table.rows]
    if not records:
        raise InputError(
            table.path,
            f"no {schema.replace('_', ' ')} after the header",
            line=table.header_line + 1,
            expected="at least one data row",
        )
    _unique(records, table.path)
    return records


def detect_schema(table: _Table) -> str:
    """Which evidence schema a file's header belongs to; on no exact match, the closest one (its header check
    then names the missing and unexpected columns)."""
    if table.header and table.header[0] == VISA_FIRST_COLUMN:
        return "visa_history"
    have = set(table.header)
    best = max(SCHEMAS, key=lambda s: len(have & set(SCHEMAS[s])) / len(have | set(SCHEMAS[s])))
    if not have & set(SCHEMAS[best]):
        raise InputError(
            table.path,
            "header matches no evidence schema",
            line=table.header_line,
            column=1,
            expected="the columns of observations.csv, events.csv, reasons.csv or passport_index history",
            got=",".join(table.header),
        )
    return best
