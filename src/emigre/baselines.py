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


def fsb_departures(year: int = BASELINE_YEAR) -> dict[str, float]:
    """Departures of Russian citizens in ``year`` by destination (ISO3), all modes and quarters."""
    return {iso: float(a.sum()) for iso, a in fsb_quarterly(year).items()}
