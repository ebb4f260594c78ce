"""How each observation is read: which operator measures what its source counted, with which options.

A reading comes from documented rules on the row's kind, destination, unit and wording (notes and quote), so
that a new row in the evidence schema (a hold-out file) gets an operator without anyone editing this file.
A few packaged rows say something the rules cannot parse (a list of countries in the quote, one crossing
point, a per-vehicle count); they are read by :data:`OVERRIDES`, each with its reason. Rows that no operator
can measure are skipped with the reason - never silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from emigre.evidence.records import Observation
from emigre.observe.context import EU27, LAND_MODES, ObservationContext
from emigre.observe.params import TRAVEL_LEVEL_DESTINATIONS
from emigre.scenario.model import HOME


@dataclass(frozen=True, slots=True)
class Reading:
    """What the source counted, as an operator name and its options; ``operator`` None = not used."""

    operator: str | None
    reason: str
    area: tuple[str, ...] = ()  # scenario countries of the emigrant part
    fsb_area: str | tuple[str, ...] = ()  # destination of the ordinary-travel part (ISO3, tuple, ALL, EUU)
    net: bool = False  # net of returns
    threshold: int | None = None  # stay-duration rule (days)
    group: str | None = None  # e.g. "sex=male": only this group of emigrants (and of ordinary travellers)
    lag: bool = True  # permits issued after the permit lag (False: applications)
    modes: tuple[str, ...] | None = None  # FSB modes of the ordinary part (None = all)
    links: tuple[str, ...] | None = None  # only these links (crossing point counts)
    per_day: bool = False  # the figure is a daily count over a window of dates (24 h spanning two dates)
    peak: bool = False  # the figure is the highest daily count in the window
    extra_sigma: float = 0.0  # model error of the operator itself (log scale), added to the source's
    # the operator's own error is ordinary travel's to its fsb_area (ordinary_sigma), set when the area is known
    ordinary_error: bool = False
    floor: float = 1.0  # transform floor in the observation's unit (asinh below it; see likelihood)
    prewar: bool = True  # the count includes its pre-war part (permit holders, US encounters at the FY2021 rate)
    prewar_count: float | None = None  # that part as the source itself states it (hand readings; else a baseline)
    #: the figure's log-sensitivity to the wave's part, which scales the destination discrepancy: the wave's
    #: expected share of a count (<= 1), a border queue's inflow / (inflow - throughput) (> 1)
    wave_share: float = 1.0

    @property
    def used(self) -> bool:
        """Whether an operator measures the figure."""
        return self.operator is not None


# model error of operators whose quantity the simulation does not hold exactly (see docs/observe.md)
# ordinary travel: one 2019 pattern and one level per year, per-country shifts ignored (UAE trips tripled,
# EU trips collapsed): crossing counts are mostly ordinary travel, so they must not outweigh the totals
ORDINARY_SIGMA = 0.8
# ordinary travel to all destinations together: per-country shifts cancel and the year's level (a calibrated
# parameter) carries the rest; what is left is the season's departure from 2019's (FSB totals: Q1 2022 3.9 vs
# 8.4 million, Q3 9.7 vs 16.0: ratios 0.46 and 0.61, +-0.14 on the log scale around one level)
ORDINARY_SIGMA_ALL = 0.3
# ordinary travel to destinations with a level of their own (travel_level_<ISO>, calibrated): what is left is the
# season's and the year's departure from that one level (FSB, one destination over 2022-2023 against 2019's same
# quarters: Turkey 0.43-0.84, Armenia 1.24-2.18, Finland 0.17-0.38, +-0.3 to 0.4 around their middle on the log
# scale, the wave included)
ORDINARY_SIGMA_DEST = 0.4
ENTRIES_SIGMA = 0.15  # emigrant entries from the arrivals/link-crossing bound (no entries array)
NET183_SIGMA = 0.5  # 183-day net immigration from the change of the stock
# entries minus exits: a small difference of gross flows that rests on the return and onward hazards (constant
# rates; no re-emigration of returnees)
NET_SIGMA = 0.5
HELD_SIGMA = 0.2  # permits held: survival of permit holders from the return/onward rates
# permits issued: first permits also go to Russians outside the wave (family, work, study, earlier emigrants),
# channels the simulation does not have
ISSUED_SIGMA = 0.6
# permits issued where the destination's pre-war level of first permits is sourced (prewar_and_context.csv): the
# part outside the wave is that level, which varied from year to year by about this much (Germany 2018-2021:
# 10.4k-13.4k, Spain 6.1k-8.8k first permits to Russians)
PREWAR_ISSUED_SIGMA = 0.25
# immigrants counted on arrival outside the wave at the pre-war level (Israel's aliyah from Russia): it varied more
# than the EU's first permits - 10,460 (2018), 16,060 (2019), 7,500 (2021) olim: sd of the logs 0.38
PREWAR_IMMIGRANTS_SIGMA = 0.4
# net flows: an asinh scale linear within +-1000 persons, or within the observed magnitude when larger (see
# net_floor)
NET_FLOOR = 1000.0

_NET = re.compile(r"net of returns|left and (?:did )?not return|did not return|not returned", re.I)
_NOT_NET = re.compile(r"not net|gross", re.I)
_MEN_ONLY = re.compile(r"\bmen\b[^.;,]*\bonly\b|\bonly (?:men|males?)\b|\bmales? only\b", re.I)
_PER_DAY = re.compile(r"\b24 ?h\b|\bdaily\b|\bper day\b|/day\b|\bday of\b", re.I)
_PEAK = re.compile(r"\bpeak\b", re.I)
_HELD = re.compile(r"holders?\b|\bheld\b|legal residence|permanent residence status|valid residence permit", re.I)
#: a stock that counts the Russians who lived there before the war too
INCLUDES_PREWAR = re.compile(r"incl(?:\.|udes?|uding)\s+(?:the\s+)?pre-war", re.I)
_APPLICATION = re.compile(r"\bapplications?\b", re.I)
_OBS012_AREA = ("EST", "LVA", "LTU", "FIN", "POL", "ISR", "GEO", "KAZ", "KGZ", "MNG")
_ENTRIES = re.compile(r"\bgross\b|\bentries\b|\bentered\b|\bcrossings?\b|border", re.I)
_RETURN = re.compile(r"\breturn", re.I)
_LAND = re.compile(r"land borders?", re.I)
#: Frontex's 2022 counts of Russian citizens crossing into the EU and back are one series, reported by the member
#: states from their land border crossing points with Russia and Belarus: 998,085 entries from 24 Feb to 22 Aug
#: (OBS239), continued as 1,303,000 "through its land borders" to 25 Sep (OBS047, whose note OBS239's cites as
#: its cumulative) and ">1.45 mln" to mid-October (OBS049's note), split by state (OBS240-OBS247: Estonia,
#: Finland, Lithuania, Latvia, Poland, Norway - each borders Russia or Belarus by land, Storskog is Norway's one
#: crossing) with the returns to Russia via Estonia and Finland (OBS242, OBS243). OBS239's note says "land/sea/
#: air"; read so, its count would hold the Russians who flew into the EU through Istanbul or Belgrade too (2.5
#: million ordinary trips on the session-22 posterior against 0.56 million by land), against the series' own 1.3
#: million by land a month later. So these rows count land crossings, where the closures of that kind apply.
LAND_SERIES = frozenset({"OBS049", "OBS239", "OBS240", "OBS241", "OBS242", "OBS243", "OBS244", "OBS245", "OBS246",
                         "OBS247"})


def duration_rule(text: str) -> int | None:
    """The stay-duration rule a statistical source applies, in days (None = none stated)."""
    t = text.lower()
    if re.search(r"\b183\b|six months|6 months", t):
        return 183
    if re.search(r"12 months|12-month|one year|1 year|365 days", t):
        return 365
    if re.search(r"registered immigrants?|registration-based immigra", t):
        return 90
    return None


def _skip(reason: str) -> Reading:
    return Reading(None, reason)


# Rows read by hand: (kind the override was written for, reading without area/fsb_area, why).
# Areas are filled in by read_observation when the override gives none.
_OVERRIDES: dict[str, tuple[str, dict, str]] = {
    "OBS010": (
        "cumulative_outflow_total",
        {"operator": "entries", "area": ("KAZ", "GEO", "FIN", "MNG"), "fsb_area": ("KAZ", "GEO", "FIN", "MNG"),
         "ordinary_error": True},
        "the figure is the sum of the border entries of KAZ, GEO, FIN and MNG (notes): gross entries, ordinary "
        "travel included",
    ),
    "OBS012": (
        "arrivals_in_destination",
        {"operator": "entries", "area": _OBS012_AREA, "fsb_area": _OBS012_AREA, "ordinary_error": True},
        "people who left for the Baltic states, Finland, Poland, Israel, Georgia, Kazakhstan, Kyrgyzstan and "
        "Mongolia (quote), from their border services (notes: gross entries): entries there, ordinary "
        "visitors included",
    ),
    "OBS048": (
        "other",
        {"operator": "returns_crossings", "modes": LAND_MODES, "ordinary_error": True},
        "Frontex: returns to Russia at the EU's land borders: emigrant returns by EU links plus ordinary "
        "return trips",
    ),
    "OBS068": (
        "net_arrivals",
        {"operator": "present"},
        "Russians who arrived from 1 Jan 2022 and were still in Georgia on 3 Oct 2022: the emigrants present "
        "then (Jan-Feb ordinary visitors are gone by October)",
    ),
    "OBS071": (
        "border_crossings_exit",
        {"operator": "exits", "links": ("road:Upper-Lars-Tbilisi",), "modes": ("Car", "Walk"), "per_day": True,
         "ordinary_error": True},
        "one crossing point (Upper Lars, Russian side) in 24 hours: emigrant crossings of that link plus "
        "ordinary road trips to Georgia",
    ),
    "OBS074": (
        "other",
        {"operator": "queue_vehicles", "links": ("road:Upper-Lars-Tbilisi",), "modes": ("Car", "Walk"),
         "extra_sigma": 0.2},
        "vehicles queuing at Upper Lars: everyone in the line (the simulated emigrants queued at that link and the "
        "ordinary road travellers to Georgia who joined it, Little's law with the line's wait) over "
        "persons_per_vehicle",
    ),
    "OBS126": (
        "arrivals_in_destination",
        {"operator": "entries", "ordinary_error": True},
        "Serbian police count of Russians who came in 2022: entries (visa runs and ordinary visitors included)",
    ),
    "OBS129": (
        "residence_permits",
        {"operator": "permits_held", "extra_sigma": HELD_SIGMA, "prewar": False},
        "'registered with a one-year residence permit' since the war: permits held on the date (Ukrainians "
        "included by the source; holders from before the war are not)",
    ),
    "OBS242": (
        "other",
        {"operator": "returns_crossings", "modes": LAND_MODES, "ordinary_error": True},
        "Frontex: exits of Russians from the EU back to Russia via Estonia (land border crossing points: "
        "LAND_SERIES): emigrant returns by Estonian links plus ordinary trips back",
    ),
    "OBS243": (
        "other",
        {"operator": "returns_crossings", "modes": LAND_MODES, "ordinary_error": True},
        "Frontex: exits of Russians from the EU back to Russia via Finland (land border crossing points: "
        "LAND_SERIES): emigrant returns by Finnish links plus ordinary trips back",
    ),
    "OBS248": (
        "arrivals_in_destination",
        {"operator": "entries", "ordinary_error": True},
        "Armenian inbound 'tourists' (UNWTO: at least 24 hours, less than a year, any purpose): arrivals of "
        "Russians, emigrants and ordinary visitors (the '1 year' is the upper limit of a tourist's stay, not "
        "a duration rule of immigrants)",
    ),
    "OBS250": (
        "other",
        {"operator": "entries", "ordinary_error": True},
        "Montenegrin short-stay registrations of Russians (every visitor registers): entries there, border "
        "runs and ordinary visitors included",
    ),
    "OBS251": (
        "residence_permits",
        # the source's own split: 8,157 temporary + 4,269 extended temporary + 1,146 permanent. A temporary
        # residence is granted for up to a year and extended after it, permanent residence after five years of
        # temporary: on 10 Oct 2022 the extended and permanent ones were first granted before the war
        {"operator": "permits_held", "extra_sigma": HELD_SIGMA, "prewar_count": 4269 + 1146},
        "stock of Russians with approved residence in Montenegro on the date, pre-war residents included: "
        "permits held; the pre-war holders are at least the source's extended temporary and permanent "
        "residences (5,415: first granted before the war)",
    ),
    "OBS263": (
        "other",
        {"operator": "asylum", "area": ("USA",), "extra_sigma": ISSUED_SIGMA, "prewar": False},
        "CBP One appointments of Russians at San Ysidro: asylum claims at the US border (propensity x "
        "arrivals in Mexico or the USA); one crossing point of several, so a lower share of the encounters; the "
        "channel opened in January 2023, so no pre-war part",
    ),
    "OBS157": (
        "other",
        {"operator": "return_share_travellers", "ordinary_error": True},
        "share of SIM cards that left since 24 Feb and came back: every traveller (tourists included), not "
        "only emigrants",
    ),
    "OBS162": (
        "other",
        {"operator": "returns_from"},
        "olim who returned from Israel to Russia in the window: returns of emigrants from Israel",
    ),
}

_SKIPS: dict[str, str] = {
    "OBS022": "Rosstat de-registrations are mostly foreign labour migrants (COVID-era stay extensions expiring); "
    "not a count of Russian citizens leaving",
    "OBS023": "registration-based net migration of Russia, all citizenships, half of it pre-war; registrations "
    "miss most emigrants (no operator for registration behaviour)",
    "OBS024": "registration-based full-year net migration of Russia, all citizenships; registrations miss most "
    "emigrants",
    "OBS025": "MVD notifications of a second citizenship or residence document: the notification compliance is "
    "unknown (heavy under-reporting), no operator",
    "OBS026": "MVD notifications of a second citizenship or residence document (under-reported), no operator",
    "OBS084": "companies registered by Russians in Georgia: a settlement proxy with no documented operator",
    "OBS102": "tax/ID numbers issued in Kazakhstan: a proxy of intent to stay; the take-up rate is no parameter",
    "OBS110": "bank accounts opened in Uzbekistan: a proxy of stays with unknown accounts per person",
    "OBS117": "Finnish border crossings of all nationalities in both directions: the foreign travellers have no "
    "baseline level for 2022",
    "OBS143": "tourist arrivals in Thailand (not migrants): an upper envelope far above any emigrant count",
    "OBS145": "German humanitarian visas: a channel the simulation does not have",
    "OBS163": "mobilized reservists: the size of a push event, not a migration flow (a scenario input)",
    "OBS170": "citizenship applications in Armenia, all nationalities, period ambiguous (low reliability)",
    "OBS233": "tourism-purpose trips only: ordinary trips have no purpose split in the baselines (the 2019 "
    "tourism share is one national figure) and emigrants declared any purpose",
    "OBS234": "tourism-purpose trips to Turkey only: no purpose split of ordinary trips by destination",
    "OBS235": "tourism-purpose trips to Armenia only: no purpose split of ordinary trips by destination",
    "OBS236": "tourism-purpose trips to Thailand only: no purpose split of ordinary trips by destination",
    "OBS238": "visitors to Ritsa National Park (ticket sales): a tourism proxy with no operator",
}


def _area(obs: Observation, ctx: ObservationContext) -> tuple[str, ...]:
    return ctx.area(obs.destination)


@lru_cache(maxsize=8192)
def read_observation(obs: Observation, ctx: ObservationContext) -> Reading:
    """The reading of one observation (see the module docstring and docs/observe.md). Cached: observations
    are frozen and a context is compared by identity, and every prediction of a calibration reads its rows."""
    text = f"{obs.notes} {obs.quote}"
    if obs.id in _SKIPS:
        return _skip(_SKIPS[obs.id])
    ov = _OVERRIDES.get(obs.id)
    if ov is not None and ov[0] == obs.kind:
        _, opts, why = ov
        r = Reading(reason=f"read by hand: {why}", **opts)
        if not r.area:
            r = replace(r, area=_area(obs, ctx))
        if not r.fsb_area:
            r = replace(r, fsb_area=obs.destination)
        return _with_wave_share(obs, r, ctx)
    if obs.destination == HOME:
        return _skip("the destination is Russia itself: not a migration flow out of it")
    if obs.destination not in ("ALL", "EUU") and not ctx.has_area(obs.destination):
        return _skip(f"destination {obs.destination} is not in the scenario's world (no routes there)")
    r = _by_rules(obs, text)
    if r.used:
        r = replace(r, area=r.area or _area(obs, ctx), fsb_area=r.fsb_area or obs.destination)
    if r.operator == "permits_issued" and obs.destination != "ALL":
        from emigre.observe.prewar import packaged_prewar

        lv = packaged_prewar().first_permits(obs.destination)
        if lv is not None:
            # a level shared out of the EU's total (a proxy key) carries its own, larger error
            r = replace(r, extra_sigma=max(PREWAR_ISSUED_SIGMA, lv.sigma),
                        reason=f"{r.reason}; the part outside the wave at the destination's sourced pre-war level"
                        + ("" if not lv.sigma else " (its share of the EU's, by Schengen visas issued in Russia)"))
    return _with_wave_share(obs, r, ctx)


def immigrants_level(obs: Observation, rd: Reading):
    """The sourced pre-war level (:class:`~emigre.observe.prewar.Level`) of the immigrants counted on arrival
    beside the wave, for an arrivals figure of one destination without a stay-duration rule (Israel's olim:
    :meth:`~emigre.observe.prewar.Prewar.immigrants_on_arrival`); None otherwise. The one rule the reading (its
    error scale) and the operator (its part) share."""
    if rd.operator != "arrivals" or rd.threshold is not None or not rd.prewar or obs.destination in ("ALL", "EUU"):
        return None
    from emigre.observe.prewar import packaged_prewar

    return packaged_prewar().immigrants_on_arrival(obs.destination)


def _with_wave_share(obs: Observation, r: Reading, ctx: ObservationContext) -> Reading:
    if not r.used:
        return r
    if immigrants_level(obs, r) is not None:
        r = replace(r, extra_sigma=max(r.extra_sigma, PREWAR_IMMIGRANTS_SIGMA),
                    reason=f"{r.reason}, plus the immigrants outside the wave at the destination's sourced pre-war "
                    "level (aliyah)")
    from emigre.observe.operators import expected_wave_share

    if r.ordinary_error:
        r = replace(r, extra_sigma=ordinary_sigma(r.fsb_area))
    return replace(r, wave_share=expected_wave_share(obs, r, ctx))


def ordinary_sigma(area: str | tuple[str, ...] | None) -> float:
    """Model error (log scale) of the ordinary travel to an area, one destination or several:
    ``ORDINARY_SIGMA_DEST`` when every destination has a travel level of its own (``travel_level_<ISO>``),
    else ``ORDINARY_SIGMA`` (one pattern and one level per year for all). All destinations together
    (``ORDINARY_SIGMA_ALL``) is the crossing counts' own rule (``_by_rules``), not an area's."""
    isos = (area,) if isinstance(area, str) else tuple(area or ())
    own = bool(isos) and all(iso in TRAVEL_LEVEL_DESTINATIONS for iso in isos)
    return ORDINARY_SIGMA_DEST if own else ORDINARY_SIGMA


def net_floor(obs: Observation) -> float:
    """Transform floor of a net flow: ``max(NET_FLOOR, |observed| / 2)``.

    A net flow is the difference of gross flows many times its size (Georgia 2023: 1.86 million entries and
    1.89 million exits of Russians for a net of -31 thousand), so its error is a share of its magnitude, not
    of its logarithm: on a log scale a prediction of -20 thousand for an observed +23 thousand would be 14 log
    units off and one such figure would outweigh every other. With the floor at half the observed magnitude
    the scale is linear up to the observed value and the opposite sign is 1.8 units away."""
    vals = [abs(float(v)) for v in (obs.quantity, obs.low, obs.high) if v is not None]
    return max(NET_FLOOR, max(vals, default=0.0) / 2.0)


def _per_day(obs: Observation) -> bool:
    """A daily count given over two dates (a 24-hour window from one morning to the next)."""
    return (obs.period_end - obs.period_start).days == 1 and bool(_PER_DAY.search(obs.notes))


def _by_rules(obs: Observation, text: str) -> Reading:
    kind, dest = obs.kind, obs.destination
    if obs.unit == "percent":
        return _percent(obs, text)
    if kind == "cumulative_outflow_total":
        net = bool(_NET.search(obs.notes)) and not _NOT_NET.search(obs.notes)
        what = "departures net of returns" if net else "gross departures"
        return Reading("departed", f"{what} in the period (to its end when it starts with the war)", net=net,
                       group="sex=male" if _MEN_ONLY.search(obs.notes) else None)
    if kind == "stock_in_destination":
        if _HELD.search(obs.notes):
            return Reading("permits_held", "residence-permit holders on the date: permits granted and still "
                           "present", extra_sigma=HELD_SIGMA)
        if dest == "ALL":
            return Reading("abroad", "emigrants abroad (or on the way) on the date: left and not returned")
        return Reading("present", "emigrants present in the destination on the date")
    if kind == "arrivals_in_destination":
        thr = duration_rule(text)
        if thr is not None:
            return Reading("arrivals", f"arrivals in the period who stayed at least {thr} days (duration rule)",
                           threshold=thr)
        if dest != "ALL" and _ENTRIES.search(obs.notes):
            return Reading("entries", "gross arrivals counted at the border: emigrant entries, visa runs and "
                           "ordinary visitors", ordinary_error=True,
                           per_day=_per_day(obs))
        return Reading("arrivals", "emigrant arrivals in the period")
    if kind == "net_arrivals":
        if duration_rule(text) == 183:
            return Reading("net_183", "183-day immigrants minus emigrants in the period",
                           floor=net_floor(obs), extra_sigma=NET183_SIGMA)
        return Reading("net_present", "entries minus exits of emigrants in the period (ordinary visitors net "
                       "out): the change of the emigrants present", floor=net_floor(obs),
                       extra_sigma=NET_SIGMA)
    if kind in ("border_crossings_exit", "border_crossings_entry"):
        opts = dict(
            extra_sigma=ORDINARY_SIGMA_ALL if dest == "ALL" else 0.0, ordinary_error=dest != "ALL",
            per_day=_per_day(obs) and not _PEAK.search(obs.notes),
            peak=bool(_PEAK.search(obs.notes)),
            group="sex=male" if _MEN_ONLY.search(obs.notes) else None,
            modes=LAND_MODES if _LAND.search(text) or obs.id in LAND_SERIES else None,
        )
        if kind == "border_crossings_exit":
            return Reading("exits", "trips out of Russia: emigrant crossings plus ordinary travel (FSB pre-war "
                           "pattern x travel level)", **opts)
        land = " (land border crossing points: one Frontex series with OBS047)" if obs.id in LAND_SERIES else ""
        return Reading("entries", "entries into the destination: emigrant entries, visa runs and ordinary "
                       f"travel{land}", **opts)
    if kind == "residence_permits":
        if _HELD.search(obs.notes):
            return Reading("permits_held", "permits held on the date", extra_sigma=HELD_SIGMA)
        app = bool(_APPLICATION.search(text))
        return Reading("permits_issued", "permit applications in the period" if app else
                       "permits issued in the period (after the permit lag)", lag=not app,
                       extra_sigma=ISSUED_SIGMA)
    if kind == "asylum_applications":
        if dest not in ("EUU", "USA") and dest not in EU27:
            return _skip(f"no asylum propensity for {dest} (the operator covers the EU and the USA)")
        return Reading("asylum", "asylum propensity x emigrant arrivals in the destination in the period "
                       + ("(border encounters: on arrival)" if dest == "USA" else "after an exponential delay of mean "
                          "asylum_lag_days"),
                       group="sex=male" if _MEN_ONLY.search(obs.notes) else None)
    if kind == "it_specialists_left":
        return Reading("departed", "IT workers who left (departures of the group it=yes)", group="it=yes")
    if kind == "citizenship_grants":
        return _skip("citizenship grants: the simulation has no naturalisation (a small channel; in Georgia "
                     "mostly restored former citizenship)")
    if kind == "other":
        return _skip("'other' proxy without a documented operator (see docs/observe.md)")
    return _skip(f"unknown kind {kind!r}")


_GROUP_WORDS: tuple[tuple[str, str], ...] = (
    (r"\bIT\b|\bIT specialists?\b|programmers?", "it=yes"),
    (r"\bwomen\b|\bfemale\b", "sex=female"),
    (r"\bmen\b|\bmale\b", "sex=male"),
    (r"higher education|university degree|graduates?", "education=higher"),
    (r"\b18-24\b", "age=18-24"),
    (r"\b25-34\b", "age=25-34"),
    (r"\b35-44\b", "age=35-44"),
    (r"\b45-54\b", "age=45-54"),
)


def _percent(obs: Observation, text: str) -> Reading:
    if obs.kind == "it_specialists_left":
        return Reading("group_share", "share of IT workers among those who left", group="it=yes")
    if _RETURN.search(text) or re.search(r"вернул|came back", text, re.I):
        return Reading("return_share", "share of those who left that had returned by the date")
    for pat, group in _GROUP_WORDS:
        if re.search(pat, obs.notes):
            return Reading("group_share", f"share of {group} among those who left", group=group)
    return _skip("percentage with no matching group of emigrants")
