"""The scenario world: places, links, a dated timeline of closures and entry rules, push events.

>>> from emigre.scenario import load_scenario
>>> world = load_scenario("russia-2022")
>>> world.link_open("road:Upper-Lars-Tbilisi", "2022-09-25")
True
"""

from emigre.scenario.load import load_scenario
from emigre.scenario.model import (
    DOCUMENTS,
    MODES,
    RULES,
    Country,
    EntryRule,
    Link,
    LinkStatus,
    Origin,
    Param,
    Place,
    PushEvent,
    TimelineEntry,
)
from emigre.scenario.world import CheckReport, CompiledWorld, Route, RouteSearch, World

__all__ = [
    "DOCUMENTS",
    "MODES",
    "RULES",
    "CheckReport",
    "CompiledWorld",
    "Country",
    "EntryRule",
    "Link",
    "LinkStatus",
    "Origin",
    "Param",
    "Place",
    "PushEvent",
    "Route",
    "RouteSearch",
    "TimelineEntry",
    "World",
    "load_scenario",
]
