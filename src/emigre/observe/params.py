"""Parameters of the observation models (not of the simulation): named, documented, with a prior.

They describe how a source's count relates to the simulated emigrants - ordinary travel in border counts, the
lag between a permit decision and its issue, the propensity to claim asylum - so the calibration fits them
beside the simulation parameters. A value is a float, or an array with one value per simulation result when
an ensemble of parameter draws is evaluated at once (:func:`resolve_theta`).

Priors are ``lognormal`` (args: median, sigma of log), ``uniform`` (low, high) or ``normal`` (mean, sd,
truncated to [low, high] where given).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from emigre.errors import EmigreError


@dataclass(frozen=True, slots=True)
class ObsParam:
    """A parameter of the observation model: default, prior, unit and what it means."""

    name: str
    default: float
    prior: str  # lognormal | uniform | normal
    args: tuple[float, ...]
    unit: str
    doc: str

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws from the prior."""
        if self.prior == "lognormal":
            median, sigma = self.args
            return median * np.exp(sigma * rng.standard_normal(n))
        if self.prior == "uniform":
            lo, hi = self.args
            return rng.uniform(lo, hi, n)
        mean, sd, lo, hi = self.args
        return np.clip(mean + sd * rng.standard_normal(n), lo, hi)

    def log_prior(self, value: float | np.ndarray) -> float | np.ndarray:
        """Log density of the prior up to a constant (-inf outside the support)."""
        v = np.asarray(value, dtype=np.float64)
        if self.prior == "lognormal":
            median, sigma = self.args
            with np.errstate(divide="ignore", invalid="ignore"):
                z = (np.log(v) - np.log(median)) / sigma
                out = np.where(v > 0, -0.5 * z * z - np.log(np.where(v > 0, v, 1.0)), -np.inf)
        elif self.prior == "uniform":
            lo, hi = self.args
            out = np.where((v >= lo) & (v <= hi), -np.log(hi - lo), -np.inf)
        else:
            mean, sd, lo, hi = self.args
            z = (v - mean) / sd
            out = np.where((v >= lo) & (v <= hi), -0.5 * z * z, -np.inf)
        return float(out) if out.ndim == 0 else out


_EU_TRAVEL_DOC = (
    "ordinary trips of Russians to EU/Schengen countries relative to the other destinations of the same year "
    "(airspace closed to Russian carriers from Feb 2022, visa suspensions, tourist-visa bans from Sep 2022)"
)

#: destinations whose ordinary travel has a level of its own (:data:`OBS_PARAMS` ``travel_level_<ISO>``): those
#: whose crossing counts carry much ordinary travel (FSB exits, the destination's entries) in two or more figures,
#: or one large flow (Kyrgyzstan). After the war the destinations' shares of Russians' trips moved far apart (FSB
#: 2022-2023 against 2019's same quarters: the UAE 1.2-2.9, Uzbekistan and Kyrgyzstan 2.0, Armenia 1.2-2.2, Turkey
#: 0.4-0.8, Finland 0.2-0.4): with one level for all, the rise of trips to the open destinations could only be met
#: by emigrants (docs/observe.md)
TRAVEL_LEVEL_DESTINATIONS: tuple[str, ...] = (
    "ARE", "ARM", "EGY", "EST", "FIN", "GEO", "KAZ", "KGZ", "LTU", "LVA", "MNE", "THA", "TUR", "UZB", "XAB",
)
#: destinations whose ordinary travel changed level of its own from 2022 to 2023
#: (:data:`OBS_PARAMS` ``travel_change_2023_<ISO>``): those with ordinary-travel counts in both years (FSB exits
#: 2022 and 2023: the UAE, Armenia, Finland, Kazakhstan, Thailand, Turkey, Abkhazia)
TRAVEL_CHANGE_2023_DESTINATIONS: tuple[str, ...] = ("ARE", "ARM", "FIN", "KAZ", "THA", "TUR", "XAB")
#: prior spread (sigma of log) of a destination's change of level from 2022 to 2023 against all destinations':
#: the FSB's trips against 2019's same quarters moved within 2022-2023 by factors of 1.8-2.4 to single
#: destinations (the UAE 1.2-2.9, Armenia 1.2-2.2, Turkey 0.4-0.8; log 0.6-0.9), against 1.3 for all trips
#: (0.46 to 0.61): a change of its own of about e^(+-0.5)
DESTINATION_CHANGE_SIGMA = 0.5
#: prior spread (sigma of log) of a destination's travel level around the level of all destinations: in the
#: previous shock year, 2021 (COVID), the FSB trips of Q1 2021 against Q1 2019 to the nine destinations the
#: evidence base has them for (prewar_and_context.csv, fsb_departures_RU_citizens: GEO 0.04, EST 0.07, LVA 0.15,
#: KAZ 0.21, TJK 0.27, LTU 0.29, UZB 0.35, ARM 0.43, UKR 0.81) spread with a standard deviation of 0.93 on the
#: log scale
DESTINATION_TRAVEL_SIGMA = 0.9
_TRAVEL_DEST_DOC = (
    "after the war Russians' trips moved between destinations (airspace, visas, flights, prices); the prior "
    "spread is the one of 2021 against 2019 across destinations (FSB), sigma of log 0.9"
)

OBS_PARAMS: dict[str, ObsParam] = {
    p.name: p
    for p in (
        ObsParam(
            "travel_level_2022", 0.55, "lognormal", (0.55, 0.3), "ratio",
            "all ordinary (non-emigrant) trips abroad of Russian citizens in 2022 relative to the same quarter "
            "of 2019 (FSB): Q1 2022 3.9 mln vs 8.4 mln (COVID, then the war), Q3 9.7 mln vs 16.0 mln; the "
            "destination and EU levels and the closures move trips between destinations, not out of this total "
            "(ObservationContext.travel_scale)",
        ),
        ObsParam(
            "travel_level_2023", 0.6, "lognormal", (0.6, 0.3), "ratio",
            "the same for 2023 and later (Q1 2023 4.9 mln vs 8.4 mln in Q1 2019)",
        ),
        ObsParam("travel_level_eu", 0.5, "lognormal", (0.5, 0.5), "ratio", _EU_TRAVEL_DOC),
        *(
            ObsParam(f"travel_level_{iso}", 1.0, "lognormal", (1.0, DESTINATION_TRAVEL_SIGMA), "ratio",
                     f"ordinary trips of Russians to {iso} relative to the level of the year (and of EU/Schengen "
                     f"countries) for every destination: {_TRAVEL_DEST_DOC}")
            for iso in TRAVEL_LEVEL_DESTINATIONS
        ),
        *(
            ObsParam(f"travel_change_2023_{iso}", 1.0, "lognormal", (1.0, DESTINATION_CHANGE_SIGMA), "ratio",
                     f"ordinary trips of Russians to {iso} in 2023 and later relative to its 2022 level (beyond the "
                     "change of all destinations, travel_level_2023 / travel_level_2022): prior spread from the "
                     "FSB's single destinations over 2022-2023, sigma of log 0.5")
            for iso in TRAVEL_CHANGE_2023_DESTINATIONS
        ),
        ObsParam(
            "ordinary_restricted_share", 0.2, "uniform", (0.0, 0.5), "share",
            "share of the ordinary travel by a mode that continued while the mode was restricted to special "
            "grounds (order 763-r: land exits until 30 Mar / 17 May / 15 Jul 2022)",
        ),
        ObsParam(
            "ordinary_male_share", 0.5, "normal", (0.5, 0.05, 0.3, 0.7), "share",
            "share of men among ordinary travellers, for counts of men only",
        ),
        ObsParam(
            "ordinary_trip_days", 10.0, "lognormal", (10.0, 0.5), "days",
            "mean length of an ordinary trip abroad (return shares of all travellers, SIM-card counts)",
        ),
        ObsParam(
            "permit_lag_days", 60.0, "uniform", (0.0, 180.0), "days",
            "days from the simulated decision to regularise (application) to the permit being issued and counted",
        ),
        ObsParam(
            "permits_background_share", 0.4, "normal", (0.4, 0.2, 0.0, 0.85), "share",
            "share of the residence permits issued to (or held by) Russians in a destination that went to people "
            "outside the simulated wave: family, work and study migration at its pre-war level, earlier "
            "emigrants renewing status. The pre-war level of first permits to Russians is not in the evidence "
            "base, hence the wide prior; permits counted = the wave's / (1 - share)",
        ),
        ObsParam(
            "permits_prewar_level", 1.0, "lognormal", (1.0, 0.3), "ratio",
            "first residence permits to Russians outside the wave (family, work, study) in 2022-2023 relative "
            "to the destination's pre-war level (mean of 2018, 2019 and 2021: Eurostat first permits, or the "
            "country's own statistics; prewar_and_context.csv). Used where that level is sourced; elsewhere "
            "permits_background_share stands in. It scales Israel's aliyah outside the wave too (olim become "
            "citizens on arrival: Israel's first long-term status, as a first permit is elsewhere)",
        ),
        ObsParam(
            "prewar_holders_level", 0.8, "lognormal", (0.8, 0.5), "ratio",
            "Russians holding a residence permit in a destination before the war who still hold one at the "
            "date, per pre-war holder (Eurostat valid permits end 2021, the national stock of Russian citizens, "
            "or outside the former USSR the UN DESA 2019 stock born in Russia: a proxy, hence the wide prior)",
        ),
        ObsParam(
            "asylum_prewar_level_usa", 1.0, "lognormal", (1.0, 0.5), "ratio",
            "CBP encounters of Russians outside the wave relative to the FY2021 rate (13,240 nationwide, "
            "prewar_and_context.csv): the route through Mexico was in use before the war",
        ),
        ObsParam(
            "asylum_propensity_eu", 0.2, "lognormal", (0.2, 1.0), "applications per arrival",
            "asylum applications in the EU per simulated emigrant arrival there in the same period",
        ),
        ObsParam(
            "asylum_lag_days", 90.0, "uniform", (0.0, 180.0), "days",
            "mean delay from an emigrant's arrival in the EU to the asylum application, exponential: some apply "
            "at the border on arrival (Finland, autumn 2022: more than 1,000 after the mobilization, OBS119), "
            "others when a visa's stay runs out (a Schengen C visa allows 90 days in 180) or later, when going "
            "home had become the danger (BAMF: the applications of Q1 2023 rose with the mobilization of "
            "September 2022, OBS035). Not for the USA, where the count is of border encounters",
        ),
        ObsParam(
            "asylum_propensity_usa", 0.5, "lognormal", (0.5, 1.0), "encounters per arrival",
            "US south-west border encounters per simulated emigrant arrival in Mexico or the USA",
        ),
        ObsParam(
            "persons_per_vehicle", 2.5, "lognormal", (2.5, 0.25), "persons",
            "people per vehicle in a border queue counted in vehicles (Upper Lars, Sep 2022)",
        ),
        ObsParam(
            "error_scale_factor", 1.0, "lognormal", (1.0, 0.5), "multiplier",
            "multiplier of every figure's assumed observation error (the source-quality scales and the operators' "
            "own model errors, docs/observe.md; not the simulation's Monte Carlo error). Those scales are "
            "assumptions (an official count 0.2 on the log scale, a researcher's estimate 0.5, ...); how far the "
            "figures scatter around the model says how large they are (a hierarchical, empirical-Bayes reading). "
            "Prior median 1 (the assumed scales), sigma 0.5: a factor of 2.3 either way in 90%",
        ),
    )
}


#: Valid range (inclusive) of each observation parameter for a value given by a posterior file or the API:
#: wider than the prior (lognormal: about median x e^(+-6 sigma) or from 0), inside what the operator can use
#: (a share below 1 where the count divides by 1 - share).
OBS_RANGES: dict[str, tuple[float, float]] = {
    "travel_level_2022": (0.0, 5.0),
    "travel_level_2023": (0.0, 5.0),
    "travel_level_eu": (0.0, 10.0),
    # a destination level: prior median 1, sigma 0.9 (e^(6 x 0.9) = 221), and Egypt 29-50 times its 2019 level
    **{f"travel_level_{iso}": (0.0, 2000.0) for iso in TRAVEL_LEVEL_DESTINATIONS},
    **{f"travel_change_2023_{iso}": (0.0, 50.0) for iso in TRAVEL_CHANGE_2023_DESTINATIONS},
    "ordinary_restricted_share": (0.0, 1.0),
    "ordinary_male_share": (0.0, 1.0),
    "ordinary_trip_days": (0.5, 365.0),
    "permit_lag_days": (0.0, 730.0),
    "permits_background_share": (0.0, 0.95),
    "permits_prewar_level": (0.0, 10.0),
    "prewar_holders_level": (0.0, 20.0),
    "asylum_prewar_level_usa": (0.0, 20.0),
    "asylum_propensity_eu": (0.0, 100.0),
    "asylum_lag_days": (0.0, 730.0),
    "asylum_propensity_usa": (0.0, 100.0),
    "persons_per_vehicle": (0.5, 12.0),
    "error_scale_factor": (0.02, 50.0),
}
assert set(OBS_RANGES) == set(OBS_PARAMS), "every observation parameter declares its valid range"

def travel_level(theta: Mapping[str, np.ndarray], year: int, iso: str | None, trips: float = 1.0) -> np.ndarray:
    """``trips`` at 2019's level x the level of ordinary travel to ``iso`` (None: a destination without a level
    of its own) in ``year`` relative to 2019, one value per theta draw: 1 before 2022; from 2022 the year's level
    (``travel_level_2022`` or ``travel_level_2023``) x the destination's own (``travel_level_<ISO>``), and from
    2023 x its own change (``travel_change_2023_<ISO>``). EU/Schengen and restricted-mode factors, and the year's
    scale that keeps all destinations' trips at the year's level (``ObservationContext.travel_scale``), are
    the caller's. (``trips`` multiplies first, so that every caller's products are the same bit for bit.)"""
    if year < 2022:
        return np.ones_like(theta["travel_level_2022"]) * trips
    level = (theta["travel_level_2022"] if year == 2022 else theta["travel_level_2023"]) * trips
    if iso in TRAVEL_LEVEL_DESTINATIONS:
        level = level * theta[f"travel_level_{iso}"]
    if year >= 2023 and iso in TRAVEL_CHANGE_2023_DESTINATIONS:
        level = level * theta[f"travel_change_2023_{iso}"]
    return level


def default_theta() -> dict[str, float]:
    """Every observation parameter at its default value."""
    return {k: p.default for k, p in OBS_PARAMS.items()}


def resolve_theta(theta: Mapping[str, float | np.ndarray] | None, n: int) -> dict[str, np.ndarray]:
    """Every observation parameter as an array of length ``n`` (defaults where ``theta`` has none)."""
    out = {k: np.full(n, p.default) for k, p in OBS_PARAMS.items()}
    for k, v in (theta or {}).items():
        if k not in OBS_PARAMS:
            raise EmigreError(f"unknown observation parameter {k!r}; expected one of {', '.join(OBS_PARAMS)}")
        a = np.asarray(v, dtype=np.float64)
        if a.ndim == 0:
            out[k] = np.full(n, float(a))
        elif a.shape == (n,):
            out[k] = a.copy()
        else:
            raise EmigreError(f"observation parameter {k}: expected one value or {n} values, got shape {a.shape}")
    return out


def sample_prior(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """``n`` independent draws of every observation parameter from its prior."""
    return {k: p.sample(rng, n) for k, p in OBS_PARAMS.items()}
