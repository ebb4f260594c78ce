"""The exodus scenario's own tables: ``population.csv`` (adults by age group and sex) and ``destinations.csv``
(one profile per destination country). Read here, in the scenario package that owns every scenario table; the
ruleset and ``emigre scenario check`` both read them through these functions."""

from __future__ import annotations

import math
from pathlib import Path

from emigre.errors import InputError
from emigre.fileio import read_csv_rows_numbered
from emigre.scenario.model import HOME

#: age groups and sexes of population.csv (the ruleset's breakdown categories derive from them)
AGES = ("18-24", "25-34", "35-44", "45-54", "55+")
SEXES = ("male", "female")
def _table(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    rows = read_csv_rows_numbered(path)
    header = [h.strip() for h in rows[0][1]]
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise InputError(path, f"expected {len(header)} fields, found {len(row)}", line=line,
                             expected=", ".join(header))
    return header, rows[1:]


def read_population(path: Path) -> dict[tuple[str, str], float]:
    """Read population.csv: persons by (age group, sex)."""
    header, rows = _table(path)
    for col in ("age", "sex", "persons"):
        if col not in header:
            raise InputError(path, f"missing column {col!r}", line=1, expected="age, sex, persons, source")
    out: dict[tuple[str, str], float] = {}
    for line, row in rows:
        rec = dict(zip(header, row, strict=False))
        age, sex = rec.get("age", ""), rec.get("sex", "")
        if age not in AGES:
            raise InputError(path, "unknown age group", line=line, column="age", expected=" | ".join(AGES), got=age)
        if sex not in SEXES:
            raise InputError(path, "unknown sex", line=line, column="sex", expected="male | female", got=sex)
        try:
            v = float(rec.get("persons", ""))
        except ValueError:
            v = -1.0
        if not (v >= 0 and math.isfinite(v)):
            raise InputError(path, "persons must be a non-negative number", line=line, column="persons",
                             expected="a count", got=rec.get("persons"))
        if (age, sex) in out:
            raise InputError(path, "duplicate age/sex row", line=line, column="age", got=f"{age} {sex}")
        out[(age, sex)] = v
    missing = [f"{a}/{s}" for a in AGES for s in SEXES if (a, s) not in out]
    if missing:
        raise InputError(path, f"missing rows for {', '.join(missing)}", expected="one row per age group and sex")
    return out


#: How a destination grants Russians a long-stay (residence or work) permit: ``in_country`` applied for after a
#: visa-free entry (registration, a company, work); ``visa`` through a national long-stay visa or a sponsor's
#: application from a consulate; ``none`` no permit channel in the model (unrecognised states; Israel, whose
#: repatriates become citizens on arrival).
PERMIT_ROUTES = ("in_country", "visa", "none")

REGIONS = ("caucasus", "middle_east", "israel", "eu", "balkans", "central_asia", "belarus", "americas", "asia")


def read_destinations(path: Path, countries: set[str]) -> dict[str, dict[str, str]]:
    """Destination attributes by ISO3: ``russian_speaking`` (yes/no), ``status`` (state/unrecognised) and
    ``region`` (one of REGIONS; its ``choice_region_*`` parameter is the region's attractiveness) and, optional,
    ``permit_route`` (one of PERMIT_ROUTES: how the country grants Russians a long-stay permit; ``none`` for every
    row when the column is absent)."""
    header, rows = _table(path)
    need = ("iso3", "russian_speaking", "status", "region", "source")
    missing = [c for c in need if c not in header]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}", line=1, expected=", ".join(need))
    out: dict[str, dict[str, str]] = {}
    allowed = {"russian_speaking": ("yes", "no"), "status": ("state", "unrecognised"), "region": REGIONS}
    if "permit_route" in header:
        allowed["permit_route"] = PERMIT_ROUTES
    for line, row in rows:
        rec = dict(zip(header, row, strict=True))
        iso = rec["iso3"]
        if iso not in countries or iso == HOME:
            raise InputError(path, "unknown destination country", line=line, column="iso3",
                             expected="a code of countries.csv other than RUS", got=iso)
        if iso in out:
            raise InputError(path, "duplicate country", line=line, column="iso3", got=iso)
        for col, ok in allowed.items():
            if rec[col] not in ok:
                raise InputError(path, f"unexpected {col}", line=line, column=col, expected=" | ".join(ok),
                                 got=rec[col])
        rec.setdefault("permit_route", "none")
        out[iso] = rec
    missing_c = sorted(countries - set(out) - {HOME})
    if missing_c:
        raise InputError(path, f"no row for {', '.join(missing_c)}", expected="one row per destination country")
    return out
