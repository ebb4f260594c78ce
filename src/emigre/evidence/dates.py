"""Dates as the evidence writes them: ``YYYY-MM-DD``, ``YYYY-MM`` (day unknown) or ``YYYY`` (year only).

A partial date stands for an interval: ``2022-09`` is 2022-09-01..2022-09-30. Periods take the first day
of a partial start and the last day of a partial end, and keep the precision so nothing is invented.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

Precision = Literal["day", "month", "year"]

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

#: What a user is told when a date does not parse.
DATE_FORMATS = "a date YYYY-MM-DD or YYYY-MM"


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A calendar date known to a day, a month or a year; ``first``/``last`` bound the interval it names."""

    first: date
    last: date
    precision: Precision

    @property
    def text(self) -> str:
        """The date as written at its precision (day, month or year)."""
        if self.precision == "day":
            return self.first.isoformat()
        if self.precision == "month":
            return self.first.strftime("%Y-%m")
        return f"{self.first.year:04d}"


def parse_partial_date(text: str, *, allow: tuple[Precision, ...] = ("day", "month")) -> PartialDate:
    """Parse a (possibly partial) ISO date; raises ValueError with the reason (impossible dates included)."""
    m = _DATE_RE.match(text)
    if m is None:
        raise ValueError("not an ISO date")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    precision: Precision = "day" if day is not None else "month" if month is not None else "year"
    if precision not in allow:
        raise ValueError(f"{precision} precision is not allowed here")
    if year < 1900 or year > 2100:
        raise ValueError("year out of range 1900-2100")
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"month {month} does not exist")
    if month is None:
        return PartialDate(date(year, 1, 1), date(year, 12, 31), "year")
    last_day = calendar.monthrange(year, month)[1]
    if day is None:
        return PartialDate(date(year, month, 1), date(year, month, last_day), "month")
    if not 1 <= day <= last_day:
        raise ValueError(f"day {day} does not exist in {year:04d}-{month:02d}")
    d = date(year, month, day)
    return PartialDate(d, d, "day")


def format_date(d: date | None, precision: Precision | None) -> str:
    """The date as the source gave it (``2022-09`` for a month), or an empty string when unknown."""
    if d is None or precision is None:
        return ""
    if precision == "day":
        return d.isoformat()
    if precision == "month":
        return d.strftime("%Y-%m")
    return f"{d.year:04d}"
