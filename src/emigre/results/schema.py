"""The vocabulary of the per-run output: which measures exist at which kind of place, and the breakdowns.

One run is a long DataFrame ``date, place, measure, group, value`` (``group`` "" = the total):

- place ``ALL`` (the whole of Russia): :data:`NATIONAL_MEASURES`; ``departures`` and ``abroad`` also
  come broken down by every group of :func:`scenario_breakdowns` (``reason=mobilization``, ``age=25-34`` ...;
  ``BREAKDOWNS`` is the packaged default scenario's);
- place = an ISO3 code (a destination): :data:`COUNTRY_MEASURES`; ``present`` also by ``reason=...``;
- place = a link id (``road:Upper-Lars-Tbilisi``): :data:`LINK_MEASURES`;
- place = a place id (``GEO:Tbilisi``, ``RUS-GEO:Upper-Lars``): :data:`PLACE_MEASURES`.
"""

from __future__ import annotations

import functools

from emigre.behaviour import measures as _measures

NATIONAL = "ALL"

#: measure -> meaning, for place ALL (declared once, with the ruleset: behaviour/measures.py)
NATIONAL_MEASURES = _measures.NATIONAL_MEASURES
#: flows (summed over days) as opposed to stocks (read on a day)
FLOW_MEASURES = frozenset({"departures", "returns", "arrivals", "crossings_out", "crossings_in"})

COUNTRY_MEASURES: dict[str, str] = {
    "present": "people present at the end of the day",
    "arrivals": "entries that day",
    "onward_departures": "people moving on from the country to another that day",
    "visa_runs": "border runs (leave and re-enter to restart the visa-free stay) that day",
    "regularised": "residence permits obtained that day",
}
#: measures a run may leave out (all zero in a small run, or added after the report's first version)
OPTIONAL_MEASURES = frozenset({"stayed_cum", "onward_departures", "visa_runs", "regularised", "present_place"})
PLACE_MEASURES: dict[str, str] = {
    "present_place": "people at the place at the end of the day (in Russia: leaving, queueing; abroad: present)",
}
LINK_MEASURES: dict[str, str] = {
    "crossings_out": "crossings in the link's direction (out of Russia for an exit link) that day",
    "crossings_in": "crossings in the opposite direction that day",
    "queue": "people waiting at the end of the day",
    "wait_days": "mean wait of those who crossed that day (days)",
}


@functools.cache
def scenario_breakdowns(scenario: str = "russia-2022") -> dict[str, tuple[str, ...]]:
    """Breakdown dimension -> categories, in display order, for ``scenario`` (a packaged name or a directory):
    the reasons are its push events (then the baseline); the other dimensions are the ruleset's."""
    from emigre.scenario import load_scenario

    return _measures.breakdowns(_measures.reasons_of(load_scenario(scenario)))


def __getattr__(name: str):
    # BREAKDOWNS: the packaged default scenario's breakdowns, read on first use (not at import)
    if name == "BREAKDOWNS":
        return scenario_breakdowns()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: measures of place ALL that carry the breakdowns
BROKEN_DOWN = ("departures", "abroad")

DIMENSION_LABELS = {
    "reason": "Reason",
    "age": "Age",
    "sex": "Sex",
    "education": "Education",
    "it": "Works in IT",
    "document": "Travel document",
}
CATEGORY_LABELS = {
    "invasion": "invasion",
    "economic_shock": "economic shock",
    "fake_news_law": "'fake news' law",
    "mobilization": "mobilization",
    "electronic_summons_law": "electronic summons law",
    "baseline": "baseline emigration",
    "higher": "higher education",
    "other": "other education",
    "internal_passport": "internal passport only",
    "foreign_passport": "foreign passport",
    "schengen_visa": "Schengen visa",
    "male": "male",
    "female": "female",
    "yes": "IT",
    "no": "not IT",
}


def group_key(dimension: str, category: str) -> str:
    """The ``group`` value of a breakdown row: ``reason=mobilization``."""
    return f"{dimension}={category}"


def link_mode(link_id: str) -> str:
    """The mode written in a link id (``road:Upper-Lars-Tbilisi`` -> ``road``); "" when absent."""
    head, sep, _ = link_id.partition(":")
    return head if sep else ""
