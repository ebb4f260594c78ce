"""The result vocabulary of the exodus ruleset, declared once: the national measures (in the column order of the
kernels' ``nat`` array), the stay thresholds of the statistical rules, and the breakdown groups.

Everything else derives from here: the kernels' column indices (:mod:`emigre.behaviour.exodus_kernels`), the
result's frame (:class:`emigre.behaviour.exodus.ExodusResult`), the store's schema (:mod:`emigre.results.schema`)
and the observation operators (:mod:`emigre.observe.operators`). The reason categories are not listed here:
they are the scenario's push events (:func:`reasons_of`).
"""

from __future__ import annotations

from collections.abc import Sequence

from emigre.scenario.model import DOCUMENTS
from emigre.scenario.tables import AGES, SEXES

#: measure -> meaning, for place ALL; the order is the column order of the kernels' ``nat`` array
NATIONAL_MEASURES: dict[str, str] = {
    "departures": "people crossing out of Russia that day (a returnee leaving again included)",
    "returns": "people re-entering Russia to stay that day",
    "departed_cum": "people who have left since the start (each counted once, however often they left)",
    "abroad": "people abroad at the end of the day",
    "in_transit": "people between Russia and their destination",
    "returned_cum": "people who have come back and are at home (cumulative returns less those who left again)",
    "leaving": "people who decided to leave and are still in Russia (queueing or travelling)",
    "travellers_cum": "people who decided to leave since the start (cumulative; simulated travellers)",
    "stayed_cum": "people who decided to leave but gave up or were refused exit (cumulative)",
}
NAT: tuple[str, ...] = tuple(NATIONAL_MEASURES)

#: stay-duration thresholds (days) of the statistical rules (e.g. 183 days, 12 months)
STAY_THRESHOLDS: tuple[int, ...] = (90, 183, 365)

#: the reason of travellers moved by no push event
BASELINE_REASON = "baseline"
EDUCATION = ("higher", "other")
IT = ("yes", "no")


def reasons_of(world) -> list[str]:
    """The reasons of a scenario in the ruleset's order: the baseline, then each push event (not the exit
    restrictions) in the order of push_events.csv."""
    return [BASELINE_REASON] + [pe.name for pe in world.pushes if pe.kind != "exit_restriction"]


def breakdowns(reasons: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Breakdown dimension -> categories, in display order (the push events first, the baseline last)."""
    return {
        "reason": (*[r for r in reasons if r != BASELINE_REASON], BASELINE_REASON),
        "age": AGES,
        "sex": SEXES,
        "education": EDUCATION,
        "it": IT,
        "document": DOCUMENTS,
    }


def group_names(reasons: Sequence[str]) -> list[str]:
    """The result's breakdown groups (``reason=mobilization`` ...) in the kernels' order (reasons as given)."""
    return (
        [f"reason={r}" for r in reasons]
        + [f"age={a}" for a in AGES]
        + [f"sex={s}" for s in SEXES]
        + [f"education={e}" for e in EDUCATION]
        + [f"it={i}" for i in IT]
        + [f"document={d}" for d in DOCUMENTS]
    )
