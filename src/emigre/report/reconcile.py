"""The headline's reconciliation with the published national estimates: where the model's 2022 total stands
among them, and, figure by figure, the model's prediction of what each one counted against it."""

from __future__ import annotations

from emigre.report.data import ReportData
from emigre.report.markup import day, people, span

#: the national estimates (whole country, persons) the headline reconciles with
NATIONAL_KINDS = ("cumulative_outflow_total", "stock_in_destination")


def _placement(o, p: dict) -> int:
    """-1 / 0 / +1: the model's 90% interval of the figure's own quantity lies below it, meets it, lies above it
    (a lower bound is met by anything above it, an upper bound by anything below)."""
    lo = o.low if o.low is not None else o.quantity
    hi = o.high if o.high is not None else o.quantity
    if o.bound == "lower":
        hi = None
    elif o.bound == "upper":
        lo = None
    if lo is not None and p["q95"] < lo:
        return -1
    if hi is not None and p["q05"] > hi:
        return 1
    return 0


def against_national(data: ReportData, evidence, predicted: dict | None = None) -> str:
    """Where the model's 2022 total stands among the published national estimates; then, figure by figure, the
    model's prediction of what each national estimate counted (net of returns, abroad on a date...) against it,
    and the same for the destination and border counts, which pull the other way."""
    s = {x["key"]: x for x in data.summary}
    if not evidence or "departed_2022" not in s:
        return ""
    figs = []
    for o in evidence.observations:
        if (o.kind != "cumulative_outflow_total" or o.destination != "ALL" or o.unit != "persons"
                or o.period_end.year != 2022 or o.period_end.month < 9):
            continue
        value = o.quantity if o.quantity is not None else o.high if o.high is not None else o.low
        if value is not None:
            figs.append((float(value), o))
    if not figs:
        return ""
    figs.sort(key=lambda f: f[0])
    (lo, a), (hi, b) = figs[0], figs[-1]
    m = s["departed_2022"]["median"]
    where = ("within that range" if lo <= m <= hi else
             "above the highest of them" if m > hi else "below the lowest of them")
    text = (
        f"Published national estimates of the people who left in 2022 (periods ending September to December "
        f"2022; {len(figs)} figures) run from {people(lo)} ({a.publisher}, {a.id}) to {people(hi)} "
        f"({b.publisher}, {b.id}); the model's median for 31 December 2022 (gross departures: everyone who left, "
        f"returned or not, adults 18 and over), {people(m)}, is {where}."
    )
    predicted = predicted or {}
    national, local = [], []
    for o in evidence.observations:
        p = predicted.get(o.id)
        if not p or o.unit != "persons":
            continue
        (national if o.destination == "ALL" and o.kind in NATIONAL_KINDS else local).append((o, p, _placement(o, p)))
    if national:
        above = [x for x in national if x[2] > 0]
        below = sum(1 for x in national if x[2] < 0)
        text += (
            f" Compared quantity for quantity - the model's prediction of what each estimate counted (net of "
            f"returns where it is net, people abroad on its date where it counts those abroad) - the model's 90% "
            f"interval lies above {len(above)} of the {len(national)} national estimates it predicts, below "
            f"{below} and meets {len(national) - len(above) - below}."
        )
        if above:
            o, p, _ = max(above, key=lambda x: x[1]["median"] / float(x[0].high or x[0].quantity or x[0].low))
            text += (f" The widest gap: {o.id} ({o.publisher}, to {day(o.period_end)}): "
                     f"{people(o.value) if o.bound != 'range' else span(o.low, o.high)} published, "
                     f"the model {people(p['median'])} ({span(p['q05'], p['q95'])}).")
    if local:
        below = sum(1 for x in local if x[2] < 0)
        above = sum(1 for x in local if x[2] > 0)
        text += (
            f" The {len(local)} counts of destinations and border services pull the other way: the model's 90% "
            f"interval lies below {below} of them and above {above}. Those sources count everyone (tourists, "
            "labour migrants, people who moved before the war; the model predicts these parts too)"
            + (", and where the model's part for them falls short the calibration meets the count with more "
               "emigrants - the likely reason its totals sit above the national estimates." if below > above and
               national and sum(1 for x in national if x[2] > 0) > sum(1 for x in national if x[2] < 0) else ".")
        )
    return text + " The sources count in different ways (exits, surveys, destination records): see Against the sources."
