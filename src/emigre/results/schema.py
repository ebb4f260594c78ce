"""The vocabulary of the per-run output: which measures exist at which kind of place, and the breakdowns.

One run is a long DataFrame ``date, place, measure, group, value`` (``group`` "" = the total):

- place ``ALL`` (the whole of Russia): :data:`NATIONAL_MEASURES`; ``departures`` and ``abroad`` also
  come broken down by every group in :data:`BREAKDOWNS` (``reason=mobilization``, ``age=25-34`` ...);
- place = an ISO3 code (a destination): :data:`COUNTRY_MEASURES`; ``present`` also by ``reason=...``;
- place = a link id (``road:Upper-Lars-Tbilisi``): :data:`LINK_MEASURES`;
- place = a place id (``GEO:Tbilisi``, ``RUS-GEO:Upper-Lars``): :data:`PLACE_MEASURES`.
"""

from __future__ import annotations

NATIONAL = "ALL"

#: measure -> meaning, for place ALL
NATIONAL_MEASURES: dict[str, str] = {
    "departures": "people crossing out of Russia that day",
    "returns": "people re-entering Russia to stay that day",
    "departed_cum": "people who have left since the start (cumulative departures)",
    "abroad": "people abroad at the end of the day",
    "in_transit": "people between Russia and their destination",
    "returned_cum": "people who have come back to stay (cumulative returns)",
    "leaving": "people who decided to leave and are still in Russia (queueing or travelling)",
    "travellers_cum": "people who decided to leave since the start (cumulative; simulated travellers)",
    "stayed_cum": "people who decided to leave but gave up or were refused exit (cumulative)",
}
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

#: breakdown dimension -> categories, in display order
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "reason": (
        "invasion",
        "economic_shock",
        "fake_news_law",
        "mobilization",
        "electronic_summons_law",
        "baseline",
    ),
    "age": ("18-24", "25-34", "35-44", "45-54", "55+"),
    "sex": ("male", "female"),
    "education": ("higher", "other"),
    "it": ("yes", "no"),
    "document": ("internal_passport", "foreign_passport", "schengen_visa"),
}
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
