"""The pre-war and context baselines (``data/baselines/prewar_and_context.csv``): the level a 2022-2023 figure
would have had without the wave, by destination.

One row per published figure: ``series, country, year_or_period, value, unit, publisher, url, quote, notes``
(Schengen visas, Eurostat first and valid permits and populations of Russian citizens, UN DESA 2019 stock born
in Russia, aliyah, FSB trips 2020-2021, pre-war visitor arrivals, CBP encounters; see
``data/baselines/README.md``). The reader is as strict as the evidence's: every problem names the file, the
line, the column and what was expected.

:class:`Prewar` answers the questions the observation operators ask, each with the rows it rests on
(``Level.refs``, "series/country/period") so a decomposed prediction can cite its baseline:

- ``first_permits(iso)``: first residence permits issued to Russians a year before the war;
- ``immigrants_on_arrival(iso)``: immigrants counted on arrival a year before the war (Israel's aliyah);
- ``permit_holders(iso)``: Russians holding a residence permit (or resident) just before the war;
- ``visitors(iso)``: ordinary arrivals of Russians a year, counted by the destination;
- ``usa_encounters()``: CBP encounters of Russians a year before the war.

A question with no sourced answer returns None: the operator then says so and falls back on a named parameter.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from emigre.errors import InputError

PREWAR_COLUMNS = ("series", "country", "year_or_period", "value", "unit", "publisher", "url", "quote", "notes")
_SERIES_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_URL_RE = re.compile(r"^https?://\S+$")
_VALUE_RE = re.compile(r"^(\d+)(?:-(\d+))?$")
PERIOD_FORMATS = ("YYYY, YYYY (note), YYYY-MM, YYYY-MM-DD, YYYYQn, YYYYHn, FYYYYY, YYYY-YYYY, YYYYs-YYYYs, "
                  "or two of YYYY-MM / YYYY-MM-DD joined by '..'")


@dataclass(frozen=True, slots=True)
class PrewarRow:
    """One sourced pre-war figure of prewar_and_context.csv (series, country, period, value)."""

    series: str
    country: str
    period: str  # as published (year_or_period)
    first: dt.date
    last: dt.date
    value: float  # the figure, or the middle of a published range
    low: float | None
    high: float | None
    unit: str
    publisher: str
    url: str
    quote: str
    notes: str
    line: int

    @property
    def ref(self) -> str:
        """The row as a reference: series/country/period."""
        return f"{self.series}/{self.country}/{self.period}"

    @property
    def years(self) -> float:
        """Length of the period in years: whole years exactly (a calendar or fiscal year is 1), else days /
        365.25."""
        nxt = self.last + dt.timedelta(days=1)
        k = nxt.year - self.first.year
        if k > 0 and (nxt.month, nxt.day) == (self.first.month, self.first.day):
            return float(k)
        return ((self.last - self.first).days + 1) / 365.25


@dataclass(frozen=True, slots=True)
class Level:
    """A pre-war level a year (or a stock), and the rows it comes from."""

    value: float
    refs: tuple[str, ...]
    what: str
    year: int = 0  # the (last) year the level was observed in
    quarters: tuple[int, ...] = (0, 1, 2, 3)  # quarters (0-3) of the year the source's period covered
    count: float = 0.0  # the source's own figure over its period (value = count / years)
    sigma: float = 0.0  # error of the level as an estimate for this destination (log scale; 0 = its own figure)
    series: str = ""  # the series of prewar_and_context.csv it was read from, where one series gives it


def _month_end(y: int, m: int) -> dt.date:
    return dt.date(y + (m == 12), 1 if m == 12 else m + 1, 1) - dt.timedelta(days=1)


def _one_date(text: str, end: bool) -> dt.date | None:
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if m:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if m:
        y, mo = int(m[1]), int(m[2])
        if not 1 <= mo <= 12:
            raise ValueError(f"month {mo}")
        return _month_end(y, mo) if end else dt.date(y, mo, 1)
    return None


def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """First and last day of a ``year_or_period`` cell (formats: :data:`PERIOD_FORMATS`); ValueError if bad."""
    t = text.strip()
    m = re.fullmatch(r"(\d{4})(?: \([^)]*\))?", t)
    if m:
        y = int(m[1])
        return dt.date(y, 1, 1), dt.date(y, 12, 31)
    m = re.fullmatch(r"(\d{4})Q([1-4])", t)
    if m:
        y, q = int(m[1]), int(m[2])
        return dt.date(y, 3 * q - 2, 1), _month_end(y, 3 * q)
    m = re.fullmatch(r"(\d{4})H([12])", t)
    if m:
        y, h = int(m[1]), int(m[2])
        return dt.date(y, 6 * h - 5, 1), _month_end(y, 6 * h)
    m = re.fullmatch(r"FY(\d{4})", t)  # US federal fiscal year: October of the year before to September
    if m:
        y = int(m[1])
        return dt.date(y - 1, 10, 1), dt.date(y, 9, 30)
    m = re.fullmatch(r"(\d{4})s?-(\d{4})s?", t)
    if m:
        a, b = int(m[1]), int(m[2])
        if b < a:
            raise ValueError(f"{b} is before {a}")
        return dt.date(a, 1, 1), dt.date(b + (9 if t.endswith("s") else 0), 12, 31)
    if ".." in t:
        a_txt, b_txt = t.split("..", 1)
        a, b = _one_date(a_txt, False), _one_date(b_txt, True)
        if a is None or b is None:
            raise ValueError("each side of '..' must be YYYY-MM or YYYY-MM-DD")
        if b < a:
            raise ValueError(f"{b} is before {a}")
        return a, b
    d = _one_date(t, False)
    if d is not None:
        return d, (_month_end(d.year, d.month) if len(t) == 7 else d)
    raise ValueError("unrecognised period")


def _parse_row(path: Path, line: int, cells: dict[str, str]) -> PrewarRow:
    def fail(column: str, message: str, expected: str, got: object = None) -> InputError:
        return InputError(path, message, line=line, column=column, expected=expected, got=got)

    for col in ("series", "country", "year_or_period", "value", "unit", "publisher", "url", "quote"):
        if not cells[col].strip():
            raise fail(col, f"{col} is empty", "a value")
    from emigre.evidence import codes

    series = cells["series"]
    if not _SERIES_RE.match(series):
        raise fail("series", "bad series name", "letters, digits and '_'", series)
    country = cells["country"]
    if not codes.is_area_code(country):
        raise fail("country", "unknown country code", "an ISO 3166-1 alpha-3 code or ALL, EUU, XAB, XSO", country)
    try:
        first, last = parse_period(cells["year_or_period"])
    except ValueError as exc:
        raise fail("year_or_period", f"bad period ({exc})", PERIOD_FORMATS, cells["year_or_period"]) from None
    m = _VALUE_RE.match(cells["value"])
    if not m:
        raise fail("value", "value is not a count", "a non-negative integer without separators, or low-high",
                   cells["value"])
    low = high = None
    if m[2] is not None:
        low, high = float(m[1]), float(m[2])
        if high < low:
            raise fail("value", f"range {cells['value']} is reversed", "low-high with low <= high", cells["value"])
        value = (low + high) / 2.0
    else:
        value = float(m[1])
    if not _URL_RE.match(cells["url"]):
        raise fail("url", "bad URL", "an http:// or https:// URL", cells["url"])
    return PrewarRow(series, country, cells["year_or_period"], first, last, value, low, high, cells["unit"],
                     cells["publisher"], cells["url"], cells["quote"], cells["notes"], line)


def prewar_path() -> Path:
    """Path of the packaged pre-war and context figures (prewar_and_context.csv)."""
    return Path(__file__).resolve().parent.parent / "data" / "baselines" / "prewar_and_context.csv"


def load_prewar(path: str | Path | None = None) -> tuple[PrewarRow, ...]:
    """Rows of a file in the ``prewar_and_context.csv`` schema (default: the packaged one)."""
    if path is None:
        return _packaged()
    return _read(Path(path))


@lru_cache(maxsize=1)
def _packaged() -> tuple[PrewarRow, ...]:
    return _read(prewar_path())


def _read(p: Path) -> tuple[PrewarRow, ...]:
    from emigre.evidence.schema import check_header, read_table

    table = read_table(p, what="pre-war baselines file")
    check_header(table, PREWAR_COLUMNS, "pre-war baselines")
    rows: list[PrewarRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    n = len(PREWAR_COLUMNS)
    for line, cells in table.rows:
        if len(cells) != n:
            raise InputError(p, f"row has {len(cells)} fields, the header has {n}", line=line,
                             column=PREWAR_COLUMNS[min(len(cells), n - 1)], expected=f"{n} comma-separated fields",
                             got=len(cells))
        row = _parse_row(p, line, dict(zip(table.header, cells, strict=True)))
        key = (row.series, row.country, row.period)
        if key in seen:
            raise InputError(p, f"duplicate row {row.ref} (first on line {seen[key]})", line=line,
                             column="year_or_period", expected="one row per series, country and period")
        seen[key] = line
        rows.append(row)
    if not rows:
        raise InputError(p, "no rows after the header", line=table.header_line + 1, expected="at least one row")
    return tuple(rows)


#: pre-war years used for annual levels: 2020 is left out (COVID closed borders and consulates)
PREWAR_YEARS = (2018, 2019, 2021)
#: countries of the former USSR: their UN DESA stock "born in Russia" is mostly Soviet-era settlers, not
#: Russian citizens holding a permit, so it is no pre-war diaspora of the kind a permit count sees
_FORMER_USSR = frozenset("ARM AZE BLR EST GEO KAZ KGZ LTU LVA MDA TJK TKM UKR UZB".split())


class Prewar:
    """Look-ups of pre-war levels by destination from the rows (see the module docstring)."""

    def __init__(self, rows: tuple[PrewarRow, ...] | None = None) -> None:
        self.rows = rows if rows is not None else load_prewar()
        self._remainder: dict[str, Level | None] = {}
        self._index: dict[tuple[str, str], list[PrewarRow]] = {}
        for r in self.rows:
            self._index.setdefault((r.series, r.country), []).append(r)

    def _find(self, series: str, iso: str) -> list[PrewarRow]:
        return list(self._index.get((series, iso), ()))

    def _calendar_years(self, series: str, iso: str, years) -> list[PrewarRow]:
        """The rows of ``series`` for ``iso`` that cover one whole calendar year among ``years``."""
        return [r for r in self._find(series, iso) if r.first.year in years and r.first.month == 1
                and r.last == dt.date(r.first.year, 12, 31)]

    def _annual(self, series: str, iso: str, what: str) -> Level | None:
        rows = self._calendar_years(series, iso, PREWAR_YEARS)
        if not rows:
            return None
        return Level(sum(r.value for r in rows) / len(rows), tuple(r.ref for r in rows), what)

    def first_permits(self, iso: str) -> Level | None:
        """First residence permits issued to Russians a year: the mean of 2018, 2019 and 2021 (Eurostat; for
        other countries their own statistics of permits granted); else a published annual maximum of the
        employment permits (Cyprus: at most 1,000 a year 2008-2021); else, for an EU member, its share of the
        EU's permits that no member's own figure accounts for (:meth:`eu_remainder_permits`)."""
        return self._own_first_permits(iso) or self.eu_remainder_permits(iso)

    def _own_first_permits(self, iso: str) -> Level | None:
        return (self._annual("eurostat_first_residence_permits_RU", iso, "first permits a year before the war")
                or self._annual("residence_permits_RU", iso, "residence permits granted a year before the war")
                or self._annual_maximum("eurostat_first_permits_employment_RU", iso,
                                        "employment first permits a year before the war (the published maximum)"))

    def eu_remainder_permits(self, iso: str) -> Level | None:
        """An EU member without a first-permit figure of its own: the EU's first permits to Russians in its
        latest pre-war year (Eurostat, EU27; 2021) less those of the members with their own figure (of that
        year where published, else their level), shared among the other members by the Schengen visas their
        consulates issued in Russia (mean of 2018-2019: the members' ties with Russia before COVID). The key is
        a proxy: among the members with both figures, permits per visa vary by the ``sigma`` of the level (sd of
        the log ratio, measured here from the same rows). It leans high: Cyprus subtracts only its published
        ceiling of employment permits, and the members without visa figures (Bulgaria, Croatia, Ireland,
        Romania) take no share. None outside the EU, for a member without visa figures, or without the EU
        total."""
        if iso not in self._remainder:
            self._remainder[iso] = self._eu_remainder(iso)
        return self._remainder[iso]

    def _eu_remainder(self, iso: str) -> Level | None:
        from emigre.observe.context import EU27

        series = "eurostat_first_residence_permits_RU"
        if iso not in EU27 or self._own_first_permits(iso) is not None:
            return None
        years = self._calendar_years(series, "EUU", PREWAR_YEARS)
        visas = {c: self._visas(c) for c in sorted(EU27)}
        if not years or visas[iso] is None:
            return None
        total = max(years, key=lambda r: r.first.year)
        own = {c: lv for c in sorted(EU27) if (lv := self._own_first_permits(c)) is not None}
        same_year = {c: next(iter(self._calendar_years(series, c, (total.first.year,))), None) for c in own}
        taken = {c: same_year[c].value if same_year[c] is not None else own[c].value for c in own}
        rest = total.value - sum(taken.values())
        keyed = {c: v for c, v in visas.items() if v is not None and c not in own}
        logs = [math.log(own[c].value / visas[c].value) for c in own if visas[c] is not None and own[c].value > 0]
        if rest <= 0 or len(logs) < 3:
            return None
        mean = sum(logs) / len(logs)
        sigma = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
        share = visas[iso].value / sum(v.value for v in keyed.values())
        refs = [total.ref]
        for c in own:
            refs.extend((same_year[c].ref,) if same_year[c] is not None else own[c].refs)
        refs.extend(visas[iso].refs)
        return Level(rest * share, tuple(refs), "first permits a year before the war: the EU's not covered by "
                     "the members' own figures, shared by the Schengen visas issued in Russia", total.first.year,
                     sigma=sigma)

    def _visas(self, iso: str) -> Level | None:
        rows = self._calendar_years("schengen_visas_issued_in_russia_by_state", iso, (2018, 2019))
        if not rows:
            return None
        return Level(sum(r.value for r in rows) / len(rows), tuple(r.ref for r in rows), "Schengen visas a year")

    def immigrants_on_arrival(self, iso: str) -> Level | None:
        """Russians granted immigrant status on arrival a year before the war, where the destination counts
        its immigrants so: Israel's aliyah from Russia under the Law of Return (olim become citizens on
        arrival; no residence permit), the mean of 2018, 2019 and 2021."""
        return self._annual("aliyah_from_russia", iso, "olim from Russia a year before the war")

    def _annual_maximum(self, series: str, iso: str, what: str) -> Level | None:
        """A published ceiling on the annual figure over years that end before the war and include 2021 (e.g.
        "did not exceed 1000 a year over 15 years"): the ceiling stands for the level, and the operator's
        ``permits_prewar_level`` scales it."""
        rows = [r for r in self._find(series, iso) if "maximum" in r.unit and r.last == dt.date(2021, 12, 31)]
        if not rows:
            return None
        r = max(rows, key=lambda x: x.first)
        return Level(r.value, (r.ref,), what, 2021)

    def permit_holders(self, iso: str) -> Level | None:
        """Russians holding a residence permit just before the war: Eurostat valid permits at the end of 2021
        (or the latest pre-war year), else the latest pre-war stock of Russian citizens, else (outside the
        former USSR) the UN DESA 2019 stock born in Russia."""
        for series in ("eurostat_valid_residence_permits_RU_end_year", "russian_citizens_stock",
                       "eurostat_population_RU_citizens_1jan"):
            rows = [r for r in self._find(series, iso) if r.last <= dt.date(2022, 1, 1)]
            if rows:
                r = max(rows, key=lambda x: x.last)
                return Level(r.value, (r.ref,), "Russians with a residence permit before the war")
        if iso not in _FORMER_USSR:
            rows = self._find("undesa_migrant_stock_born_in_russia_2019", iso)
            if rows and rows[0].value > 0:
                return Level(rows[0].value, (rows[0].ref,), "people born in Russia living there in 2019")
        return None

    def visitors(self, iso: str) -> Level | None:
        """Ordinary arrivals of Russians a year counted by the destination (its own border or tourism
        statistics), from the latest full pre-war year; a part-year figure is scaled to a year."""
        for series in ("arrivals_from_russia", "tourist_arrivals_from_russia", "tourists_in_abkhazia",
                       "international_visitors_from_russia", "tourists_from_russia"):
            rows = [r for r in self._find(series, iso) if r.last < dt.date(2022, 1, 1) and r.years > 0.2
                    and "ambiguous" not in r.unit]
            if rows:
                r = max(rows, key=lambda x: (x.years >= 0.99, x.last))
                qs = tuple(sorted({(m - 1) // 3 for m in range(1, 13)
                                   if r.first <= dt.date(r.first.year, m, 15) <= r.last})) if r.years < 1 else (0, 1, 2, 3)
                return Level(r.value / r.years, (r.ref,), "ordinary arrivals of Russians a year before the war",
                             r.last.year, qs or (0, 1, 2, 3), r.value, series=series)
        return None

    def usa_encounters(self) -> Level | None:
        """CBP encounters of Russians nationwide a year before the war (FY2021)."""
        rows = self._find("cbp_encounters_russians_nationwide", "USA")
        if not rows:
            return None
        r = max(rows, key=lambda x: x.last)
        return Level(r.value / r.years, (r.ref,), "CBP encounters of Russians a year before the war")


@lru_cache(maxsize=1)
def packaged_prewar() -> Prewar:
    """Look-ups over the packaged pre-war figures, read once per process."""
    return Prewar()


__all__ = ["PREWAR_COLUMNS", "Level", "Prewar", "PrewarRow", "load_prewar", "packaged_prewar", "parse_period",
           "prewar_path"]
