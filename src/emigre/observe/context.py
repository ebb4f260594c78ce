"""What the observation operators need to know about the world beside a simulation result.

- which country sits at the far end of each exit link, and which country a crossing of any international link
  enters (links abroad are walked in both directions by different routes: a crossing is split between the two
  countries by the number of enumerated routes walking it each way);
- EU membership (``EUU`` observations);
- the ordinary (non-emigrant) travel of Russian citizens: the FSB Border Service's 2019 departures by country,
  quarter and mode (``data/baselines``), spread evenly over the days of each quarter and scaled by the
  travel-level parameters of :mod:`emigre.observe.params` for the year (and for EU/Schengen destinations), the
  year's level being that of all trips (the other levels move trips between destinations).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from emigre.baselines import BASELINE_YEAR, FSB_MODES, fsb_ordinary_pattern
from emigre.errors import EmigreError
from emigre.observe.params import TRAVEL_CHANGE_2023_DESTINATIONS, TRAVEL_LEVEL_DESTINATIONS, travel_level
from emigre.scenario.model import HOME, MODES

#: EU member states (2022); the scenario lists only those it routes to, ordinary travel needs all of them.
EU27 = frozenset(
    "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT ROU SVK SVN ESP "
    "SWE".split()
)
#: EU plus the Schengen associates: where the EU travel level applies.
EU_SCHENGEN = EU27 | {"NOR", "ISL", "CHE", "LIE"}
#: "land" FSB modes = road, rail and on foot (a "land border" count leaves air and sea out).
LAND_MODES = ("Car", "Rail", "Walk")
#: scenario link mode of each FSB mode
FSB_TO_LINK_MODE = {"Air": "air", "Car": "road", "Rail": "rail", "Ship": "sea", "Walk": "road"}
#: besides the EU/Schengen area, closed their airspace to Russian carriers at the end of February 2022
_CLOSED_SKIES = frozenset({"GBR", "CAN", "USA"})


#: the observation parameters a year's scale depends on (:func:`_levelled`): its memo is keyed on their values
_SCALE_PARAMS = ("travel_level_2022", "travel_level_2023", "travel_level_eu", "ordinary_restricted_share",
                 *(f"travel_level_{iso}" for iso in TRAVEL_LEVEL_DESTINATIONS),
                 *(f"travel_change_2023_{iso}" for iso in TRAVEL_CHANGE_2023_DESTINATIONS))
#: how many scales a context remembers (one per year and parameter set: a calibration evaluates a few per batch)
_SCALE_MEMO = 256


def _levelled(theta: dict[str, np.ndarray], year_key: int, own: str | None, eu: bool, restricted: bool,
              trips: float) -> np.ndarray:
    """``trips`` at 2019's level x the year's level, the destination's own, the EU/Schengen level and the share of
    a restricted mode (before :meth:`ObservationContext.travel_scale`)."""
    f = travel_level(theta, _KEY_YEAR[year_key], own, trips)
    if eu:
        f = f * theta["travel_level_eu"]
    if restricted:
        f = f * theta["ordinary_restricted_share"]
    return f


def _quarter_days(year: int) -> np.ndarray:
    starts = [dt.date(year, m, 1) for m in (1, 4, 7, 10)] + [dt.date(year + 1, 1, 1)]
    return np.array([(starts[i + 1] - starts[i]).days for i in range(4)], dtype=np.float64)


def days_by_year_quarter(a: dt.date, b: dt.date) -> dict[tuple[int, int], int]:
    """Number of days of [a, b] in each (year, quarter index 0-3)."""
    out: dict[tuple[int, int], int] = {}
    d = a
    while d <= b:
        q = (d.month - 1) // 3
        nxt = dt.date(d.year + (q == 3), 1 if q == 3 else 3 * q + 4, 1)
        stop = min(b, nxt - dt.timedelta(days=1))
        out[(d.year, q)] = out.get((d.year, q), 0) + (stop - d).days + 1
        d = stop + dt.timedelta(days=1)
    return out


#: the year each year key of ``ObservationContext._ordinary_components`` stands for (0: before 2022)
_KEY_YEAR = (2021, 2022, 2023)


@dataclass
class ObservationContext:
    """The world as the observation operators see it (build with :meth:`from_scenario`)."""

    scenario: str
    start: dt.date
    end: dt.date
    countries: list[str]
    eu_members: frozenset[str]
    link_ids: list[str]
    link_mode: list[str]
    exit_country: np.ndarray  # [link] country index beyond an exit link, -1 for other links
    link_countries: np.ndarray  # [link, 2] country index of the from and to ends
    entry_weight: np.ndarray  # [link, country] share of a link's crossings that enter the country
    fsb: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    _open: np.ndarray = field(repr=False, default_factory=lambda: np.ones((1, 0), dtype=bool))  # [day, link]
    _restricted: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((1, 0), dtype=bool))
    _link_modes: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype="<U4"))
    _mode_state: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    # _travel_scale's memo: not an init field, so that dataclasses.replace (another fsb) starts an empty one
    _scales: dict[tuple, np.ndarray] = field(init=False, repr=False, default_factory=dict)

    def __hash__(self) -> int:  # identity: the ordinary-travel cache is per context
        return id(self)

    def __eq__(self, other) -> bool:
        return self is other

    @classmethod
    def from_scenario(cls, scenario: str | Path = "russia-2022", *, end: str | dt.date | None = None):
        """The context of a scenario (cached), optionally ending on ``end``."""
        return _context(str(scenario), None if end is None else str(end))

    # ------------------------------------------------------------------ countries
    def country_index(self, iso: str) -> int:
        """The index of a country (an error if the scenario lacks it)."""
        try:
            return self.countries.index(iso)
        except ValueError:
            raise EmigreError(f"country {iso!r} is not in scenario {self.scenario}") from None

    def area(self, code: str) -> tuple[str, ...]:
        """Scenario countries of an observation's destination code (ALL = every country abroad, EUU = EU)."""
        if code == "ALL":
            return tuple(c for c in self.countries if c != HOME)
        if code == "EUU":
            return tuple(c for c in self.countries if c in self.eu_members)
        return (code,) if code in self.countries else ()

    def has_area(self, code: str) -> bool:
        """Whether an area code names any country of the scenario."""
        return bool(self.area(code))

    def day(self, d: dt.date) -> int:
        """Days from the start of the scenario to ``d``."""
        return (d - self.start).days

    # ------------------------------------------------------------------ ordinary travel
    def ordinary_trips(
        self,
        code: str | tuple[str, ...],
        a: dt.date,
        b: dt.date,
        theta: dict[str, np.ndarray],
        modes: tuple[str, ...] | None = None,
        *,
        closures: bool = True,
    ) -> np.ndarray:
        """Ordinary trips abroad of Russian citizens to ``code`` (ISO3, tuple of ISO3, ALL or EUU) on the days
        [a, b], one value per theta draw: the 2019 FSB departures (Egypt: 2014's,
        :data:`emigre.baselines.ORDINARY_REFERENCE_YEARS`) of each quarter and mode spread over the quarter's
        days, times the travel level of the year (``travel_level_2022`` in 2022, ``travel_level_2023`` from 2023,
        1 before 2022), ``travel_level_eu`` for EU/Schengen destinations and,
        from 2022, the destination's own level where it has one (``travel_level_<ISO>``,
        :data:`emigre.observe.params.TRAVEL_LEVEL_DESTINATIONS`; from 2023 also its own change,
        ``travel_change_2023_<ISO>``), all times :meth:`travel_scale`, so that the year's level is the level of
        all trips abroad (what its prior is sourced from: the FSB's totals) and the other levels and the closures
        move trips between destinations: when Russians could not fly to the EU they went elsewhere (the FSB's
        trips to the UAE, Armenia, Turkey grew while those to Finland fell). A count for several destinations
        (ALL, EUU) is the sum of its destinations' trips, each at its level.

        With ``closures`` (counts at the Russian border by first destination: the FSB's) a mode carries trips
        only on days it is open to that country (:meth:`mode_state`), times ``ordinary_restricted_share``
        on days it is restricted to special grounds: a traveller who cannot go directly goes through a third
        country and is counted there. Without (counts at the destination's border), the 2019 demand stands
        whatever the route."""
        comps = self._ordinary_components(self._fsb_isos(code), a, b, tuple(modes or FSB_MODES), closures)
        n = len(next(iter(theta.values())))
        total = np.zeros(n)
        scale: dict[int, np.ndarray] = {}
        for (own, year_key, eu, restricted), v in comps.items():
            f = _levelled(theta, year_key, own, eu, restricted, v)
            if year_key > 0:
                if year_key not in scale:
                    scale[year_key] = self._travel_scale(theta, year_key)
                f = f * scale[year_key]
            total = total + f
        return total

    def travel_scale(self, theta: dict[str, np.ndarray], year: int) -> np.ndarray:
        """The factor that keeps the year's ordinary trips to all destinations at ``travel_level_<year>`` x 2019's
        (:meth:`ordinary_trips`): 1 before 2022; from 2022 the 2019 trips of the year over their sum at each
        destination's level (its own, EU/Schengen, restricted modes) with the year's closures - the destination
        levels and closures move trips between destinations, not out of the total. One value per theta draw."""
        key = 0 if year < 2022 else (1 if year == 2022 else 2)
        if key == 0:
            return np.ones(len(next(iter(theta.values()))))
        return self._travel_scale(theta, key)

    def _travel_scale(self, theta: dict[str, np.ndarray], year_key: int) -> np.ndarray:
        # every operator of a figure with ordinary travel asks for it with the same theta (a daily peak once per
        # day): remembered by the values it depends on, read-only
        key = (year_key, b"".join(np.ascontiguousarray(theta[k], dtype=np.float64).tobytes() for k in _SCALE_PARAMS))
        got = self._scales.get(key)
        if got is None:
            if len(self._scales) >= _SCALE_MEMO:
                self._scales.clear()
            got = self._compute_travel_scale(theta, year_key)
            got.setflags(write=False)
            self._scales[key] = got
        return got

    def _compute_travel_scale(self, theta: dict[str, np.ndarray], year_key: int) -> np.ndarray:
        year = _KEY_YEAR[year_key]
        a, b = dt.date(year, 1, 1), dt.date(year, 12, 31)
        isos = tuple(self.fsb)
        base = sum(v for k, v in self._ordinary_components(isos, a, b, FSB_MODES, False).items() if k[1] == year_key)
        level = theta["travel_level_2022" if year_key == 1 else "travel_level_2023"]
        moved = np.zeros(len(level))
        for (own, yk, eu, restricted), v in self._ordinary_components(isos, a, b, FSB_MODES, True).items():
            if yk == year_key:
                moved = moved + _levelled(theta, yk, own, eu, restricted, v)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(moved > 0, base * level / moved, 1.0)

    def ordinary_daily_peak(
        self, code: str | tuple[str, ...], a: dt.date, b: dt.date, theta: dict[str, np.ndarray],
        modes: tuple[str, ...] | None = None,
        *,
        closures: bool = True,
    ) -> np.ndarray:
        """The highest daily number of ordinary trips on the days [a, b]."""
        best = None
        d = a
        while d <= b:
            v = self.ordinary_trips(code, d, d, theta, modes, closures=closures)
            best = v if best is None else np.maximum(best, v)
            d += dt.timedelta(days=1)
        assert best is not None
        return best

    def mode_state(self, iso: str) -> np.ndarray:
        """[day of the compiled period, FSB mode]: 2 open, 1 restricted to special grounds, 0 closed.

        A mode is open to a country when one of the scenario's exit links of that mode to it is open (the
        timeline's closures: EU airspace, no Russia-Georgia flights until May 2023, land exits restricted by
        order 763-r until mid-2022). Where the scenario has no exit link of the mode to the country the FSB
        baseline stands (open), except flights to EU/Schengen countries, the UK and Canada, which follow the
        state of the flights to the scenario's EU/Schengen countries (airspace closed end of February 2022).
        """
        got = self._mode_state.get(iso)
        if got is not None:
            return got
        state = np.full((len(self._open), len(FSB_MODES)), 2, dtype=np.int8)
        if iso in self.countries:
            c = self.countries.index(iso)
            for j, m in enumerate(FSB_MODES):
                links = np.flatnonzero((self.exit_country == c) & (self._link_modes == FSB_TO_LINK_MODE[m]))
                if len(links):
                    state[:, j] = np.where(self._open[:, links].any(axis=1), 2,
                                           np.where(self._restricted[:, links].any(axis=1), 1, 0))
        if iso in EU_SCHENGEN | _CLOSED_SKIES and not self._has_links(iso, "Air"):
            eu = [self.countries.index(c) for c in self.countries if c in EU_SCHENGEN]
            links = np.flatnonzero(np.isin(self.exit_country, eu) & (self._link_modes == "air"))
            if len(links):
                state[:, FSB_MODES.index("Air")] = np.where(self._open[:, links].any(axis=1), 2, 0)
        self._mode_state[iso] = state
        return state

    def _has_links(self, iso: str, mode: str) -> bool:
        if iso not in self.countries:
            return False
        c = self.countries.index(iso)
        return bool(((self.exit_country == c) & (self._link_modes == FSB_TO_LINK_MODE[mode])).any())

    @lru_cache(maxsize=4096)  # noqa: B019 - contexts are few and live as long as the process
    def _ordinary_components(
        self, isos: tuple[str, ...], a: dt.date, b: dt.date, modes: tuple[str, ...], closures: bool
    ) -> dict[tuple[str | None, int, bool, bool], float]:
        """Trips at level 1 by (the destination with a level of its own or None, year key 0 = before 2022 /
        1 = 2022 / 2 = later, EU/Schengen, restricted)."""
        n_days = (b - a).days + 1
        if n_days <= 0:
            return {}
        dates = np.arange(np.datetime64(a), np.datetime64(b) + 1)
        years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
        months = dates.astype("datetime64[M]").astype(np.int64) % 12
        quarter = months // 3
        year_key = np.where(years < 2022, 0, np.where(years == 2022, 1, 2))
        day_idx = np.clip((dates - np.datetime64(self.start)).astype(np.int64), 0, len(self._open) - 1)
        per_day = 1.0 / _quarter_days(BASELINE_YEAR)[quarter]
        cols = [FSB_MODES.index(m) for m in modes]
        out: dict[tuple[str | None, int, bool, bool], float] = {}
        for iso in isos:
            own = iso if iso in TRAVEL_LEVEL_DESTINATIONS else None
            arr = self.fsb.get(iso)
            if arr is None:
                continue
            rate = arr[quarter][:, cols] * per_day[:, None]  # [day, mode]
            st = self.mode_state(iso)[day_idx][:, cols] if closures else np.full(rate.shape, 2)
            eu = iso in EU_SCHENGEN
            for restricted, level in ((False, 2), (True, 1)):
                v = np.where(st == level, rate, 0.0).sum(axis=1)
                sums = np.bincount(year_key, weights=v, minlength=3)
                for yk in range(3):
                    if sums[yk] > 0:
                        key = (own, yk, eu, restricted)
                        out[key] = out.get(key, 0.0) + float(sums[yk])
        return out

    def _fsb_isos(self, code: str | tuple[str, ...]) -> tuple[str, ...]:
        if isinstance(code, tuple):
            return code
        if code == "ALL":
            return tuple(self.fsb)
        if code == "EUU":
            return tuple(sorted(EU27))
        return (code,)


@lru_cache(maxsize=8)
def _context(scenario: str, end: str | None) -> ObservationContext:
    from emigre.scenario import load_scenario
    from emigre.scenario.routes import enumerate_paths

    world = load_scenario(scenario)
    cw = world.compile(end=end)
    rus = cw.countries.index(HOME)
    pc = cw.place_country
    fc, tc = pc[cw.link_from], pc[cw.link_to]
    n_l, n_c = len(cw.link_ids), len(cw.countries)
    exit_country = cw.exit_country  # the one exit-link definition (scenario.world.CompiledWorld)
    # direction of the crossings of international links abroad, from the routes the travellers can take
    paths = enumerate_paths(cw)
    fwd = np.zeros(n_l)
    bwd = np.zeros(n_l)
    for q in range(len(paths.length)):
        prev = int(cw.origin_place[paths.origin[q]])
        for s in range(int(paths.length[q])):
            k = int(paths.links[q, s])
            if cw.link_from[k] == prev:
                fwd[k] += 1
            else:
                bwd[k] += 1
            prev = int(paths.next_place[q, s])
    weight = np.zeros((n_l, n_c))
    for k in range(n_l):
        if fc[k] == tc[k]:
            continue
        if fc[k] == rus:
            weight[k, tc[k]] = 1.0
            continue
        if tc[k] == rus:  # not in russia-2022 (exit links are stored from Russia); kept for other worlds
            weight[k, fc[k]] = 0.0
            continue
        tot = fwd[k] + bwd[k]
        f = 0.5 if tot == 0 else fwd[k] / tot
        weight[k, tc[k]] += f
        weight[k, fc[k]] += 1.0 - f
    return ObservationContext(
        scenario=scenario,
        start=cw.start,
        end=cw.end,
        countries=list(cw.countries),
        eu_members=frozenset(c.iso3 for c in world.countries.values() if c.eu),
        link_ids=list(cw.link_ids),
        link_mode=[MODES[m] for m in cw.link_mode],
        exit_country=exit_country,
        link_countries=np.stack([fc, tc], axis=1).astype(np.int64),
        entry_weight=weight,
        fsb=fsb_ordinary_pattern(),
        _open=np.asarray(cw.link_open, dtype=bool),
        _restricted=np.asarray(cw.link_restricted, dtype=bool),
        _link_modes=np.array([MODES[m] for m in cw.link_mode]),
    )
