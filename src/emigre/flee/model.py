"""Plain data records of a Flee-format scenario and of Flee 3 settings.

The reader (:mod:`emigre.flee.reader`) fills these from files after validating every value; the ruleset
(:mod:`emigre.behaviour.flee`) turns them into engine arrays. Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Location types after normalisation (``conflict_zone`` -> ``conflict``, ``default`` -> ``town``).
LOCATION_TYPES = ("conflict", "town", "camp", "idpcamp", "marker", "forward")
#: ``idpcamp`` closures (turn an IDP camp into a town for the period) are a Flee 3 type too.
CLOSURE_TYPES = ("country", "location", "link", "camp", "idpcamp", "remove_forced_redirection")


@dataclass(frozen=True)
class FleeLocation:
    """A row of Flee's locations.csv."""

    name: str
    region: str
    country: str
    latitude: float
    longitude: float
    location_type: str  # one of LOCATION_TYPES
    conflict_date: int  # days from start; 0 = conflict from day 0 (only meaningful for conflict zones)
    population: int  # population for non-camps; capacity for camps (0 = unlimited)


@dataclass(frozen=True)
class FleeRoute:
    """A row of Flee's routes.csv."""

    name1: str
    name2: str
    distance_km: float
    forced_redirection: int = 0


@dataclass(frozen=True)
class FleeClosure:
    """A row of Flee's closures.csv: a location or link closed from day ``start`` to day ``end``."""

    kind: str  # one of CLOSURE_TYPES
    name1: str
    name2: str
    start: int  # first day closed
    end: int  # last day closed; -1 = never reopens


@dataclass(frozen=True)
class Series:
    """An irregular dated series (``YYYY-MM-DD,count`` rows), in file order; values may be fractional."""

    dates: tuple[dt.date, ...]
    values: tuple[float, ...]
    file: str = ""


@dataclass
class FleeScenario:
    """A Flee scenario directory, read and checked: locations, routes, closures, conflicts, data."""

    name: str
    directory: Path
    start_date: dt.date
    length: int  # simulated days
    locations: list[FleeLocation]
    routes: list[FleeRoute]
    closures: list[FleeClosure]
    #: conflicts.csv: column names (locations) and the intensity table, one row per day in row order
    conflict_names: list[str]
    conflict_table: np.ndarray  # float64, shape (rows, len(conflict_names))
    #: registration_corrections.csv: camp -> dates on which UNHCR changed its registration
    registration_corrections: dict[str, list[dt.date]]
    #: data_layout.csv: the total series and, per camp, the list of series summed to give its count
    total_series: Series
    camp_series: dict[str, list[Series]]
    #: data_layout.csv rows naming no location (car2013's Bossobolo): Flee still sums them into the spawn
    #: total when ``sum_from_camps`` is on, so they are kept, apart from the camps
    unlocated_series: dict[str, list[Series]] = field(default_factory=dict)
    #: oddities the reader accepted (out-of-order dates, unlocated layout rows), one sentence each
    warnings: list[str] = field(default_factory=list)


@dataclass
class FleeSettings:
    """The subset of Flee 3's ``simsetting.yml`` that the suite uses, with Flee's defaults."""

    # spawn_rules
    sum_from_camps: bool = True
    conflict_spawn_decay: list[float] | None = None
    conflict_spawn_decay_interval: int = 30
    empty_camps_on_day0: bool = False
    take_from_population: bool = False
    insert_day0: bool = True
    camps_are_sinks: bool = False
    # move_rules
    max_move_speed: float = 360.0
    max_walk_speed: float = 35.0
    camp_weight: float = 1.0
    softening: float = 10.0
    weight_softening: float = 0.0
    default_movechance: float = 0.3
    start_on_foot: bool = False
    avoid_short_stints: bool = False
    capacity_scaling: float = 1.0
    capacity_buffer: float = 0.9
    distance_power: float = 1.0
    weight_power: float = 1.0
    awareness_level: int = 1
    camp_movechance: float = 0.001
    conflict_movechance: float = 1.0
    idpcamp_movechance: float = 0.1
    conflict_weight: float = 0.31622776601683794  # 1/sqrt(10), Flee's default
    foreign_weight: float = 1.0
    # optimisations
    hasten: int = 1
    #: where the settings came from, and keys that were present but are not used by emigre
    source: str = ""
    ignored_keys: list[str] = field(default_factory=list)
