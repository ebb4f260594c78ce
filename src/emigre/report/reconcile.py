"""The headline's reconciliation with the published national estimates: where the model's 2022 total stands
among them, and, figure by figure, the model's prediction of what each one counted against it."""

from __future__ import annotations

from emigre.estimate.predictive import judge
from emigre.report.data import ReportData
from emigre.report.markup import day, people, span

#: the national estimates (whole country, persons) the headline reconciles with
NATIONAL_KINDS = ("cumulative_outflow_total", "stock_in_destination")


def _placement(o, p: dict) -> int:
    """-1 / 0 / +1: the model's 90% interval of the figure's own quantity lies below it, meets it (the rules of
    :func:`emigre.estimate.predictive.judge`: a lower bound is met by anything above it...), lies above it."""
    inside, err = judge(o, {"lo90": p["q05"], "hi90": p["q95"], "median": p["median"]})
    return 0 if inside else (1 if err < 0 else -1)


def _counts(items: list) -> tuple[int, int]:
    """(above, below): how many of (figure, prediction, placement) the model's interval lies above / below."""
    return sum(1 for x in items if x[2] > 0), sum(1 for x in items if x[2] < 0)


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
    n_above, n_below = _counts(national)
    if national:
        text += (
            f" Compared quantity for quantity - the model's prediction of what each estimate counted (net of "
            f"returns where it is net, people abroad on its date where it counts those abroad) - the model's 90% "
            f"interval lies above {n_above} of the {len(national)} national estimates it predicts, below "
            f"{n_below} and meets {len(national) - n_above - n_below}."
        )
        if n_above:
            o, p, _ = max((x for x in national if x[2] > 0),
                          key=lambda x: x[1]["median"] / float(x[0].high or x[0].quantity or x[0].low))
            text += (f" The widest gap: {o.id} ({o.publisher}, to {day(o.period_end)}): "
                     f"{people(o.value) if o.bound != 'range' else span(o.low, o.high)} published, "
                     f"the model {people(p['median'])} ({span(p['q05'], p['q95'])}).")
    if local:
        above, below = _counts(local)
        # a pull is a clear majority one way (twice as many misses below as above), not one figure
        pull = below > above and below >= 2 * above
        text += (
            f" The {len(local)} counts of destinations and border services "
            + ("pull the other way" if pull else "do not pull one way")
            + f": the model's 90% interval lies below {below} of them and above {above}. Those sources count "
            "everyone (tourists, labour migrants, people who moved before the war; the model predicts these parts "
            "too)"
            + (", and where the model's part for them falls short the calibration meets the count with more "
               "emigrants - the likely reason its totals sit above the national estimates."
               if pull and n_above > n_below else
               "; their misses do not explain the totals above the national estimates, though counts a little "
               "short inside their intervals can together still ask the calibration for more emigrants "
               "(docs/calibrate.md, benchmarks/bench_pull.py)."
               if n_above > n_below else ".")
        )
    return text + " The sources count in different ways (exits, surveys, destination records): see Against the sources."
