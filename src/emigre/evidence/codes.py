"""Controlled vocabularies of the evidence files: country codes, kinds, requirements.

The ISO 3166-1 list is packaged data (``data/evidence/iso3166_alpha3.csv``) so that validation needs no
third-party country package and gives the same answer on every machine.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources

#: Codes the evidence uses beside ISO 3166-1 alpha-3 (see data/evidence/README.md).
SPECIAL_CODES: dict[str, str] = {
    "ALL": "any destination",
    "EUU": "European Union as a whole",
    "XAB": "Abkhazia (user-assigned code)",
    "XSO": "South Ossetia (user-assigned code)",
}

OBSERVATION_KINDS: tuple[str, ...] = (
    "cumulative_outflow_total",
    "stock_in_destination",
    "arrivals_in_destination",
    "net_arrivals",
    "border_crossings_entry",
    "border_crossings_exit",
    "residence_permits",
    "asylum_applications",
    "it_specialists_left",
    "citizenship_grants",
    "other",
)

EVENT_KINDS: tuple[str, ...] = (
    "push_event",
    "airspace_closure",
    "flight_suspension",
    "rail_suspension",
    "border_closure",
    "visa_suspension",
    "visa_policy",
    "entry_rule",
    "exit_restriction",
    "other",
)

REQUIREMENTS: tuple[str, ...] = (
    "visa_free",
    "visa_on_arrival",
    "e_visa",
    "eta",
    "visa_required",
    "covid_ban",
)

BOUNDS: tuple[str, ...] = ("point", "lower", "upper", "range")
UNITS: tuple[str, ...] = ("persons", "percent")


@lru_cache(maxsize=1)
def _iso_table() -> tuple[dict[str, str], dict[str, str]]:
    """(alpha3 -> name, alpha2 -> alpha3) from the packaged ISO 3166-1 list."""
    text = resources.files("emigre").joinpath("data/evidence/iso3166_alpha3.csv").read_text("utf-8")
    names: dict[str, str] = {}
    by_alpha2: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        names[row["alpha3"]] = row["name"]
        by_alpha2[row["alpha2"]] = row["alpha3"]
    return names, by_alpha2


def iso3_names() -> dict[str, str]:
    """Every ISO 3166-1 alpha-3 code with its English short name."""
    return dict(_iso_table()[0])


def is_iso3(code: str) -> bool:
    """Whether ``code`` is an ISO 3166-1 alpha-3 country code."""
    return code in _iso_table()[0]


def is_area_code(code: str, *, allow_all: bool = True) -> bool:
    """An ISO3 code or one of the evidence's special codes (``ALL`` only where ``allow_all``)."""
    if code == "ALL":
        return allow_all
    return is_iso3(code) or code in SPECIAL_CODES


def alpha2_to_alpha3(code: str) -> str | None:
    """The ISO alpha-3 code of an ISO alpha-2 code, or None if unknown."""
    return _iso_table()[1].get(code)


def country_name(code: str) -> str:
    """The English name of a country or special area code (the code itself if unknown)."""
    if code in SPECIAL_CODES:
        return SPECIAL_CODES[code]
    return _iso_table()[0].get(code, code)
