"""Sourced figures set beside the simulated quantity that comes closest to what each source counted.

Nothing here is fitted: the report only shows where a figure falls against the simulated band. Two
classes of figures are kept apart:

- ``like for like``: counts of emigrants (cumulative outflows, people staying in a country, net arrivals):
  the simulated band should cover them;
- ``gross``: entries and border crossings, which also count tourists, business trips and repeated
  crossings: they are upper envelopes of the simulated emigrant flows, not estimates of them.

Observations in percent, before 24 February 2022 only, after the simulated period, or about places the
results do not hold are left out (and counted in ``skipped``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from emigre.report.data import ReportData, band

LIKE_FOR_LIKE = "like for like"
GROSS = "gross (upper envelope)"
_START_SLACK_DAYS = (
    7  # a period starting within a week of the first simulated day counts as "since the start"
)

#: short names of the parts of a figure's prediction (:data:`emigre.observe.PART_DOCS` defines each)
PART_LABELS: dict[str, str] = {
    "wave": "wave emigrants",
    "border_runs": "border runs",
    "ordinary_trips": "ordinary trips",
    "ordinary_visitors": "ordinary visitors",
    "prewar_permits": "pre-war permits",
    "prewar_holders": "pre-war holders",
    "background_share": "background permits",
    "prewar_encounters": "pre-war encounters",
    "prewar_immigrants": "pre-war immigrants",
}
#: what the predicted figures and their parts are, where they are shown
PREDICTED_DEFINITION = (
    "Predicted: what the source would have counted in each run - its observation operator applied to the run's "
    "own simulation with the observation parameters of the run's posterior draw (median and 50%/90% intervals "
    "over the runs, without observation noise). Of which: the wave's emigrants and what the source counted "
    "beside them (ordinary trips and visitors, pre-war permits and holders, ...); each part's value splits the "
    "median in proportion to the part's mean over the runs, so the parts add up to the median."
)


def part_label(name: str) -> str:
    """The short name of a part of a prediction (the part's own name for one this module does not know)."""
    return PART_LABELS.get(name, name.replace("_", " "))


def predicted_by_figure(store) -> dict[str, dict]:
    """Figure id -> the store's predictions of it over the runs (:func:`emigre.results.bands.prediction_bands`),
    each part with its ``label``; empty for a store without prediction files."""
    from emigre.results.bands import prediction_bands

    if store is None:
        return {}
    out = prediction_bands(store.predictions())
    for b in out.values():
        for part in b["parts"]:
            part["label"] = part_label(part["part"])
    return out


@dataclass
class Comparison:
    """The like-for-like comparison of sourced figures with the simulation, and what was left out and why."""

    rows: pd.DataFrame  # one row per observation shown
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count


def _row(
    obs,
    *,
    quantity: str,
    klass: str,
    values: np.ndarray,
    date_from: dt.date,
    date_to: dt.date,
    note: str = "",
) -> dict:
    b = band(values)
    low = obs.low if obs.low is not None else obs.quantity
    high = obs.high if obs.high is not None else obs.quantity
    obs_value = obs.quantity if obs.quantity is not None else (obs.low + obs.high) / 2
    inside = (b["q05"] <= (high if high is not None else obs_value)) and (
        b["q95"] >= (low if low is not None else obs_value)
    )
    if obs.bound == "lower":
        verdict = "consistent" if b["q95"] >= obs_value else "simulation below the bound"
    elif obs.bound == "upper":
        verdict = "consistent" if b["q05"] <= obs_value else "simulation above the bound"
    elif klass == GROSS:
        verdict = "consistent" if b["q05"] <= obs_value else "simulation above a gross count"
    else:
        verdict = (
            "inside the 90% band"
            if inside
            else ("above the band" if obs_value > b["q95"] else "below the band")
        )
    return {
        "id": obs.id,
        "kind": obs.kind,
        "place": obs.destination,
        "period": obs.period_text,
        "date_from": pd.Timestamp(date_from),
        "date_to": pd.Timestamp(date_to),
        "bound": obs.bound,
        "value": float(obs_value),
        "low": float(low) if low is not None else float(obs_value),
        "high": float(high) if high is not None else float(obs_value),
        "quantity": quantity,
        "class": klass,
        "verdict": verdict,
        "note": note,
        "publisher": obs.publisher,
        "published": obs.publication_date.isoformat() if obs.publication_date else "",
        "url": obs.url,
        "quote": obs.quote,
        "weak": obs.weak,
        **{f"sim_{k}": v for k, v in b.items()},
    }


def compare(data: ReportData, evidence) -> Comparison:
    """Match every usable observation of ``evidence`` (an :class:`emigre.evidence.Evidence`) to the
    simulated quantity it is closest to."""
    rows: list[dict] = []
    skipped: dict[str, int] = {}

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    start, end = data.start, data.end
    per = data.per_run
    for obs in evidence.observations:
        if obs.unit != "persons":
            skip("not a count of people")
            continue
        if obs.period_end < start:
            skip("before the simulated period")
            continue
        if obs.period_end > end:
            skip("after the simulated period")
            continue
        a = max(obs.period_start, start)
        b = obs.period_end
        clipped = obs.period_start < start
        note = (
            f"simulated from {a:%-d %b %Y}"
            if clipped and (start - obs.period_start).days > _START_SLACK_DAYS
            else ""
        )
        from_start = (a - start).days <= _START_SLACK_DAYS
        place = obs.destination
        kind = obs.kind
        if kind == "cumulative_outflow_total" and place == "ALL":
            if from_start:
                rows.append(
                    _row(
                        obs,
                        quantity=f"left since {start:%-d %b %Y}, on {b:%-d %b %Y}",
                        klass=LIKE_FOR_LIKE,
                        values=per["departed_cum"].at(b),
                        date_from=start,
                        date_to=b,
                        note=note,
                    )
                )
            else:
                rows.append(
                    _row(
                        obs,
                        quantity=f"departures {a:%-d %b}\u2013{b:%-d %b %Y}",
                        klass=LIKE_FOR_LIKE,
                        values=per["departures"].total(a, b),
                        date_from=a,
                        date_to=b,
                        note=note,
                    )
                )
        elif kind == "stock_in_destination":
            if place == "ALL":
                rows.append(
                    _row(
                        obs,
                        quantity=f"abroad on {b:%-d %b %Y}",
                        klass=LIKE_FOR_LIKE,
                        values=per["abroad"].at(b),
                        date_from=b,
                        date_to=b,
                        note=note,
                    )
                )
            elif f"present:{place}" in per:
                rows.append(
                    _row(
                        obs,
                        quantity=f"present in {place} on {b:%-d %b %Y}",
                        klass=LIKE_FOR_LIKE,
                        values=per[f"present:{place}"].at(b),
                        date_from=b,
                        date_to=b,
                        note=note,
                    )
                )
            else:
                skip("place not in the results")
        elif kind == "net_arrivals" and f"present:{place}" in per:
            s = per[f"present:{place}"]
            before = s.at(a - dt.timedelta(days=1)) if a > start else np.zeros(len(s.runs))
            rows.append(
                _row(
                    obs,
                    quantity=f"change of people present in {place}, {a:%-d %b %Y}\u2013{b:%-d %b %Y}",
                    klass=LIKE_FOR_LIKE,
                    values=s.at(b) - before,
                    date_from=a,
                    date_to=b,
                    note=note,
                )
            )
        elif kind in ("arrivals_in_destination", "border_crossings_entry", "border_crossings_exit"):
            what = "entries" if kind != "border_crossings_exit" else "exits"
            if place == "ALL":
                values = per["departures"].total(a, b)
                quantity = f"departures, {a:%-d %b %Y}\u2013{b:%-d %b %Y}"
            elif f"arrivals:{place}" in per:
                values = per[f"arrivals:{place}"].total(a, b)
                quantity = f"arrivals in {place}, {a:%-d %b %Y}\u2013{b:%-d %b %Y}"
            else:
                skip("place not in the results")
                continue
            rows.append(
                _row(
                    obs,
                    quantity=f"{quantity} (source counts all {what})",
                    klass=GROSS,
                    values=values,
                    date_from=a,
                    date_to=b,
                    note=note,
                )
            )
        elif kind in ("net_arrivals",):
            skip("place not in the results")
        else:
            skip(f"kind {kind} has no simulated counterpart")
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values(
            ["class", "date_to", "id"], ascending=[False, True, True], ignore_index=True
        )
    return Comparison(frame, skipped)
