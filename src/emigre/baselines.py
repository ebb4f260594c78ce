"""The packaged pre-war FSB border statistics (data/baselines): one reader for every user.

Used by the exodus ruleset (2019 departures per country: the familiarity term of destination choice) and by
the observation operators (ordinary travel in border-crossing counts).
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from pathlib import Path

import numpy as np

from emigre.errors import EmigreError
from emigre.fileio import read_text

#: FSB modes of transport, in the order of the mode axis of :func:`fsb_quarterly`
FSB_MODES = ("Air", "Car", "Rail", "Ship", "Walk")
_FSB_CODE_FIX = {"XOS": "XSO"}  # the FSB series codes South Ossetia XOS; the scenario and evidence use XSO
BASELINE_YEAR = 2019
#: destinations whose ordinary travel the FSB's ``BASELINE_YEAR`` does not show, and the year whose departures do.
#: Egypt: Russia suspended every flight to Egypt on 6 Nov 2015 (after the bombing of Metrojet flight 9268 over
#: Sinai) and allowed charter flights to the Red Sea resorts again only from 9 Aug 2021, so the FSB's 30,796
#: trips there in 2019 are the ban, not Russians' demand; 2014, the last full year before it, counted 2,994,984,
#: and Q1 2022 (351,926, OBS208) is 0.56 of Q1 2014 (623,207) - about the level of all trips that quarter
#: against 2019 (3.9 of 8.4 million: travel_level_2022's prior 0.55). Used for the observation operators'
#: ordinary travel (:func:`fsb_ordinary_pattern`); the destination choice's familiarity keeps 2019's trips.
ORDINARY_REFERENCE_YEARS: dict[str, int] = {"EGY": 2014}


def baseline_path() -> Path:
    """Path of the packaged FSB quarterly departures table (2010Q1-2020Q1)."""
    return Path(__file__).resolve().parent / "data" / "baselines" / "fsb_departures_2010q1_2020q1.csv"


@lru_cache(maxsize=4)
def fsb_quarterly(year: int = BASELINE_YEAR) -> dict[str, np.ndarray]:
    """Departures of Russian citizens in ``year`` by destination: ISO3 -> [quarter, mode] (modes FSB_MODES)."""
    path = baseline_path()
    out: dict[str, np.ndarray] = {}
    for row in csv.DictReader(io.StringIO(read_text(path, what="FSB departures"))):
        m, _, y = row["Date"].split("/")
        if int(y) != year:
            continue
        iso = _FSB_CODE_FIX.get(row["ISO_A3"], row["ISO_A3"])
        if not iso or row["Trans"] not in FSB_MODES:
            continue
        q = (int(m) - 1) // 3
        arr = out.setdefault(iso, np.zeros((4, len(FSB_MODES))))
        arr[q, FSB_MODES.index(row["Trans"])] += float(row["Value"].replace(",", "") or 0)
    if not out:
        raise EmigreError(f"{path}: no FSB departures for {year}")
    return out


@lru_cache(maxsize=1)
def fsb_ordinary_pattern() -> dict[str, np.ndarray]:
    """The pre-war pattern of ordinary trips abroad: :func:`fsb_quarterly` of ``BASELINE_YEAR``, with the
    destinations of :data:`ORDINARY_REFERENCE_YEARS` taken from their own reference year."""
    out = dict(fsb_quarterly(BASELINE_YEAR))
    for iso, year in ORDINARY_REFERENCE_YEARS.items():
        ref = fsb_quarterly(year).get(iso)
        if ref is None:
            raise EmigreError(f"{baseline_path()}: no FSB departures to {iso} in {year} (ORDINARY_REFERENCE_YEARS)")
        out[iso] = ref
    return out


def fsb_departures(year: int = BASELINE_YEAR) -> dict[str, float]:
    """Departures of Russian citizens in ``year`` by destination (ISO3), all modes and quarters."""
    return {iso: float(a.sum()) for iso, a in fsb_quarterly(year).items()}
