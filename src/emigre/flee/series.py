"""Daily values from the irregular UNHCR series of a Flee scenario.

- :func:`interpolate_series`: linear between data points, constant outside them. Flee's ``DataTable`` does
  the same: on or before the first point it returns the first value, after the last point the last value.
  Flee then truncates each daily value to an integer (``int()``); we return floats and leave truncation
  to the caller (:func:`camp_daily_values` does it when ``truncate=True``, to match Flee's data columns).
- :func:`apply_registration_corrections`: on a correction date every earlier point of that camp is
  multiplied by (first value on/after the date) / (last value before it), as in Flee's
  ``correctLevel1Registrations``; corrections are applied in file order, like Flee.
- :func:`sum_series`: a camp with several files is their sum at every date of any file, each file
  interpolated as above.

Flee deviates from this intended reading in two places, which :func:`camp_daily_values` can reproduce with
``flee_compatible=True`` (to compare data columns exactly with Flee's out.csv): it adds a camp's files with a
step merge that drops the first file's points after the last point of the added file (car2013's Betou and
Mboti differ by up to 416 and 4 agents), and it interpolates points in file order, so an out-of-order row
(ukraine2022's pol-medyka.csv line 318) bends the curve (up to 392 agents at hasten 1000).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from emigre.flee.model import FleeScenario, Series


def _sorted_points(series: Series) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers (from 1970) and values sorted by date; equal dates keep file order (stable sort), so a
    repeated date is a step from the first to the last value given for it."""
    days = np.array([d.toordinal() for d in series.dates], dtype=np.int64)
    values = np.asarray(series.values, dtype=np.float64)
    order = np.argsort(days, kind="stable")
    return days[order], values[order]


def _interpolate_days(days: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    if days.size == 0:
        return np.zeros(at.shape, dtype=np.float64)
    # Segment i runs from point i to i+1; searchsorted(side="right") picks the last point <= day, so on a
    # repeated date the later value applies from that date on.
    hi = np.searchsorted(days, at, side="right")
    out = np.empty(at.shape, dtype=np.float64)
    before = hi == 0
    after = hi >= days.size
    inside = ~(before | after)
    out[before] = values[0]
    out[after] = values[-1]
    i0 = hi[inside] - 1
    i1 = hi[inside]
    d0, d1 = days[i0], days[i1]
    frac = (at[inside] - d0) / (d1 - d0)
    out[inside] = values[i0] + frac * (values[i1] - values[i0])
    return out


def interpolate_series(series: Series, start_date: dt.date, length: int) -> np.ndarray:
    """Values for days 0..length-1 after ``start_date``: linear between points, constant outside."""
    days, values = _sorted_points(series)
    at = np.arange(length, dtype=np.int64) + start_date.toordinal()
    return _interpolate_days(days, values, at)


def sum_series(series: list[Series]) -> Series:
    """The sum of several series, evaluated at every date that any of them names."""
    if len(series) == 1:
        return series[0]
    all_days = np.unique(np.concatenate([_sorted_points(s)[0] for s in series]))
    total = np.zeros(all_days.shape, dtype=np.float64)
    for s in series:
        total += _interpolate_days(*_sorted_points(s), all_days)
    dates = tuple(dt.date.fromordinal(int(d)) for d in all_days)
    return Series(dates, tuple(float(v) for v in total), "+".join(s.file for s in series))


def apply_registration_corrections(series: Series, corrections: list[dt.date]) -> Series:
    """Rescale every point before each correction date by (first value on/after it)/(last value before).

    A correction with no point before it, none on/after it, or a zero value before it changes nothing
    (Flee would divide by zero or crash there; none of the suite's corrections hits these cases).
    """
    days, values = _sorted_points(series)
    values = values.copy()
    for date in corrections:
        i = int(np.searchsorted(days, date.toordinal(), side="left"))  # first point on/after the date
        if i == 0 or i >= days.size or values[i - 1] == 0:
            continue
        values[:i] *= values[i] / values[i - 1]
    dates = tuple(dt.date.fromordinal(int(d)) for d in days)
    return Series(dates, tuple(float(v) for v in values), series.file)


def _flee_merge(first: list[tuple[int, float]], added: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Flee's way of adding two files (points in file order): a point of the first file gets the last
    added-file value seen so far, an added-file point gets the next first-file value, and the walk stops
    with the added file (first-file points after it are dropped; the last one is repeated once the first
    file runs out)."""
    out: list[tuple[int, float]] = []
    k = 0
    previous = 0.0
    for day, value in added:
        while day > first[k][0]:
            out.append((first[k][0], previous + first[k][1]))
            if k == len(first) - 1:
                break
            k += 1
        if day > first[k][0]:
            continue  # first file exhausted: this added point is lost, as in Flee
        out.append((day, value + first[k][1]))
        if day == first[k][0] and k < len(first) - 1:
            k += 1
        previous = value
    return out


def _flee_daily(points: list[tuple[int, float]], corrections: list[int], at: np.ndarray) -> np.ndarray:
    """Flee's interpolation over points in file order: for each day the first later point (searching from
    the second) and the point before it in the file; corrections rescale by exact date matches."""
    days = np.array([p[0] for p in points], dtype=np.int64)
    values = np.array([p[1] for p in points], dtype=np.float64)
    for c in corrections:
        for i in np.flatnonzero(days == c):
            if i > 0:
                values[:i] *= values[i] / values[i - 1]
    out = np.empty(at.shape, dtype=np.float64)
    for j, day in enumerate(at):
        if day <= days[0]:
            out[j] = values[0]
            continue
        later = np.flatnonzero(days[1:] > day)
        if later.size == 0:
            out[j] = values[-1]
            continue
        i = int(later[0]) + 1
        out[j] = values[i - 1] + (day - days[i - 1]) / (days[i] - days[i - 1]) * (values[i] - values[i - 1])
    return out


def camp_daily_values(
    scenario: FleeScenario,
    *,
    hasten: int = 1,
    truncate: bool = True,
    include_unlocated: bool = False,
    flee_compatible: bool = False,
) -> dict[str, np.ndarray]:
    """Per camp of data_layout.csv: the summed, registration-corrected series interpolated per day, in
    agents (people / ``hasten``). With ``truncate`` each day is cut to a whole number as Flee does.
    ``include_unlocated`` adds the layout rows that name no location (they count towards Flee's
    ``sum_from_camps`` total). ``flee_compatible`` reproduces Flee's merge and file-order quirks (above)."""
    items = list(scenario.camp_series.items())
    if include_unlocated:
        items += list(scenario.unlocated_series.items())
    out: dict[str, np.ndarray] = {}
    start = scenario.start_date.toordinal()
    for name, files in items:
        if flee_compatible:
            tables = [
                [(d.toordinal() - start, v) for d, v in zip(f.dates, f.values, strict=True)] for f in files
            ]
            merged = tables[0]
            for extra in tables[1:]:
                merged = _flee_merge(merged, extra)
            fixes = [d.toordinal() - start for d in scenario.registration_corrections.get(name, [])]
            daily = _flee_daily(merged, fixes, np.arange(scenario.length)) / hasten
            out[name] = np.floor(daily) if truncate else daily
            continue
        combined = sum_series(files)
        corrected = apply_registration_corrections(combined, scenario.registration_corrections.get(name, []))
        daily = interpolate_series(corrected, scenario.start_date, scenario.length) / hasten
        out[name] = np.floor(daily) if truncate else daily
    return out
