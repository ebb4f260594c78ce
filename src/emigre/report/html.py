"""The self-contained HTML report: one file, charts as inline SVG, no script, no request at view time."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from emigre.errors import EmigreError
from emigre.fileio import atomic_write_text
from emigre.report import charts as ch
from emigre.report import geo
from emigre.report.data import ReportData, collect, world_info
from emigre.report.estimates import Headlines, headlines
from emigre.report.evidence import (
    GROSS,
    LIKE_FOR_LIKE,
    PREDICTED_DEFINITION,
    Comparison,
    compare,
    predicted_by_figure,
)
from emigre.report.markup import (  # noqa: F401 - people, span are part of this module's face
    CSS,
    Markup,
    band_text,
    day,
    days,
    esc,
    pct,
    people,
    plural,
    span,
    table,
    with_band,
)
from emigre.report.reconcile import against_national
from emigre.report.render import strip_xml_header, to_svg
from emigre.results.store import ResultStore

DASH = " \u2013 "
#: (id, heading) of every section, in order
SECTIONS = (
    ("how-many", "How many left"),
    ("estimates", "Estimates"),
    ("when", "When they left"),
    ("why", "Why they left"),
    ("how", "How: routes, modes and border queues"),
    ("where", "Where they went"),
    ("who", "Who left"),
    ("stayed", "How many stayed abroad"),
    ("map", "Map of flows"),
    ("timeline", "Timeline of events"),
    ("evidence", "Against the sources"),
    ("method", "About these numbers"),
)
#: chart id -> section id (every chart the report draws)
CHARTS = {
    "departed": "how-many",
    "weekly": "when",
    "reasons": "why",
    "reasons-weekly": "why",
    "modes": "how",
    "links": "how",
    "land": "how",
    "destinations": "where",
    "destinations-time": "where",
    "profile": "who",
    "abroad": "stayed",
    "map-world": "map",
    "map-region": "map",
    "timeline": "timeline",
    "evidence": "evidence",
    "evidence-gross": "evidence",
}

# ---------------------------------------------------------------------------------------------- sections
def _figure(chart_id: str, svg: str | None, caption: str) -> str:
    if not svg:
        return f'<p class="note">No data for this chart ({esc(chart_id)}).</p>'
    # the chart is one image named by its caption: the renderer's per-mark ARIA roles (unnamed) are dropped
    svg = _INNER_ARIA.sub("", svg)
    svg = svg.replace("<svg", f'<svg role="img" aria-labelledby="cap-{chart_id}"', 1)
    return (
        f'<figure class="chart" id="chart-{chart_id}" data-chart="{chart_id}"><div class="chart-box" tabindex="0">{svg}</div>'
        f'<figcaption id="cap-{chart_id}">{caption}</figcaption></figure>'
    )


_INNER_ARIA = re.compile(r'\s(?:role|aria-roledescription|aria-label|aria-hidden)="[^"]*"')


BAND_CAPTION = (
    "Line: median over runs; dark band: middle 50% of runs; light band: 90% of runs (5th to 95th percentile)."
)
EVIDENCE_CAPTION = (
    " Orange marks: sourced figures, labelled with their evidence id (circle: a figure; triangle up: "
    "&ldquo;more than&rdquo;; triangle down: &ldquo;up to&rdquo;; diamond and bar: a range); see "
    '<a href="#evidence">Against the sources</a> for citations.'
)


def _sec(sid: str, heading: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{esc(heading)}</h2>{body}</section>'


def _summary_cards(data: ReportData) -> str:
    cards = []
    for s in data.summary:
        fmt = pct if s.get("unit") == "share" else people
        cards.append(
            f'<div class="card" data-key="{esc(s["key"])}"><div class="label">{esc(s["label"])}</div>'
            f'<div class="value">{esc(fmt(s["median"]))}</div>'
            f'<div class="band">90%: {esc(band_text(s, fmt=fmt))}</div></div>'
        )
    return f'<div class="cards">{"".join(cards)}</div>'


DEFINITIONS = (
    ("left (departed)", "crossed out of Russia to emigrate after 24 February 2022, counted once per person, "
     "whether or not they later came back (cumulative)."),
    ("departures", "the same people counted on the day they crossed out (a flow per day or week); a returnee "
     "who leaves again is a second departure, not a second person who left."),
    ("abroad", "left and not come back to stay, on a given day (a stock); travellers in transit included."),
    ("came back", "left and later re-entered Russia to stay (cumulative, less those who left again); a visit or a "
     "border run is not a return."),
    ("present in a country", "people who left Russia and are in that country at the end of the day (a stock)."),
    ("arrivals", "entries of these people into a country (a flow; one person may enter several countries)."),
    ("border crossings", "passages through an exit link: trips, not people - one person may cross several times."),
    ("wave", "the period opened by a group of push events (invasion, mobilization, ...), to the next group."),
    ("median, 50%, 90%", "quantiles over the simulated runs (posterior draws x seeds): an estimate, which may be "
     "revised, not a count."),
)


def _definitions() -> str:
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in DEFINITIONS)
    return f'<h3>What the words mean here</h3><dl class="defs">{items}</dl>'


def _how_many(data: ReportData, svgs: dict, evidence=None, predicted: dict | None = None,
              sentences: dict | None = None) -> str:
    s = {x["key"]: x for x in data.summary}
    parts = []
    if "departed_2022" in s:
        parts.append(f"{with_band(s['departed_2022'])} people left Russia by 31 December 2022")
    parts.append(f"{with_band(s['departed_end'])} by {day(data.end)}")
    lead = (
        f"Across {data.n_runs} simulated runs, " + " and ".join(parts) + ". "
        f"On {day(data.end)}, {people(s['abroad_end']['median'])} of them were abroad."
    )
    rows = [
        [
            w["name"],
            f"{day(w['start'])} \u2013 {day(w['end'])}",
            day(w.get("peak_day")),
            people(w["median"]),
            band_text(w),
        ]
        for w in data.waves
    ]
    waves = table(
        [
            ("wave (push events)", ""),
            ("period", ""),
            ("busiest day", "num"),
            ("departures", "num"),
            ("90% band", "band"),
        ],
        rows,
    )
    national = against_national(data, evidence, predicted)
    if sentences is not None and national:
        sentences["against_national"] = national
    return (
        f'<p class="lead">{esc(lead)}</p>'
        + (f'<p class="lead" id="against-national">{esc(national)}</p>' if national else "")
        + _summary_cards(data)
        + _definitions()
        + _figure(
            "departed",
            svgs.get("departed"),
            "People who have left since the start, cumulative. " + BAND_CAPTION + EVIDENCE_CAPTION,
        )
        + "<h3>Departures by wave</h3>"
        + '<p class="note">A wave runs from a group of push events (starting within 30 days of each other) to the '
        "day before the next group.</p>" + waves
    )


def _estimates(hl: Headlines) -> str:
    lead = (
        f"The headline numbers with their uncertainty: the median over {hl.runs_text}, the middle 50% and the "
        "90% interval (5th to 95th percentile of the runs), computed with <code>emigre estimate</code> from "
        "the stored ensemble. Beside each: the published figures of the same quantity dated within two months "
        "(where the date differs by more than a week, the estimate on the figure's own date follows it)."
    )
    note = (
        ""
        if hl.posterior
        else '<p class="note">These runs share one parameter set and differ by their seed only: the '
        "intervals hold the randomness of the simulation, not the uncertainty of its parameters. A calibrated "
        "posterior (<code>emigre calibrate</code>) widens them.</p>"
    )

    def figure(f) -> str:
        o = f.obs
        if o.bound == "range":
            value = span(o.low, o.high)
        else:
            value = {"lower": "more than ", "upper": "up to "}.get(o.bound, "") + people(o.quantity)
        when = o.period_text.replace("..", DASH)
        who = esc(o.publisher)
        pub = f" ({esc(o.publication_date.isoformat())})" if o.publication_date else ""
        link = f' <a href="{esc(o.url)}" rel="noreferrer" title="{esc(o.quote)}">source</a>' if o.url else ""
        weak = ' <span class="note">(flagged weak)</span>' if o.weak else ""
        own = ""
        if f.at_own_date is not None:
            e = f.at_own_date
            own = (
                f'<br><span class="note">simulated on {esc(day(e.at))}: {esc(people(e.median))} '
                f"(90%: {esc(span(e.lo90, e.hi90))})</span>"
            )
        return (
            f'<div class="fig" data-id="{esc(o.id)}"><b>{esc(o.id)}</b> {esc(value)} ({esc(when)}): '
            f"{who}{pub}.{link}{weak}{own}</div>"
        )

    rows = []
    for h in hl.rows:
        e = h.estimate
        figs = "".join(figure(f) for f in h.figures) or '<span class="note">no published figure</span>'
        rows.append(
            [
                h.label,
                people(e.median),
                span(e.lo50, e.hi50),
                span(e.lo90, e.hi90),
                Markup(figs),
            ]
        )
    headers = [
        ("quantity", ""),
        ("median", "num"),
        ("50% interval", "band"),
        ("90% interval", "band"),
        ("published figures of the same quantity", ""),
    ]
    return f'<p class="lead">{lead}</p>' + note + table(headers, rows, cls="estimates evidence")


def _when(data: ReportData, svgs: dict) -> str:
    peak = next(x for x in data.summary if x["key"] == "peak_week")
    biggest = max(data.waves, key=lambda w: w["median"])
    lead = (
        f"Departures came in {len(data.waves)} wave{'s' if len(data.waves) != 1 else ''}; the largest "
        f"({biggest['name']}, from {day(biggest['start'])}) took {people(biggest['median'])} people out. "
        f"{peak['label']}: {people(peak['median'])} departures (90%: {band_text(peak)})."
    )
    wk = data.weekly[data.weekly["measure"] == "departures"].nlargest(8, "median").sort_values("date")
    rows = [
        [f"{pd.Timestamp(r.date):%-d %b %Y}", people(r.median), span(r.q05, r.q95)] for r in wk.itertuples()
    ]
    return (
        f'<p class="lead">{esc(lead)}</p>'
        + _figure(
            "weekly",
            svgs.get("weekly"),
            "Departures and returns per week (weeks start on Monday). Dashed "
            "lines: push events of the scenario; grey: the mobilization window. " + BAND_CAPTION,
        )
        + "<h3>The eight busiest weeks</h3>"
        + table([("week from", ""), ("departures (median)", "num"), ("90% band", "band")], rows)
    )


def _why(data: ReportData, svgs: dict) -> str:
    r = data.reasons.sort_values("share_median", ascending=False)
    top = list(r.itertuples())
    lead = "Reasons are the push event that made each emigrant decide. "
    if top:
        lead += f"The largest is {top[0].label} ({pct(top[0].share_median)} of departures)"
        if len(top) > 1:
            lead += f", then {top[1].label} ({pct(top[1].share_median)})"
        lead += "."
    rows = [
        [
            x.label,
            people(x.people_median),
            span(x.people_q05, x.people_q95),
            pct(x.share_median),
            span(x.share_q05, x.share_q95, pct),
        ]
        for x in top
    ]
    return (
        f'<p class="lead">{esc(lead)}</p>'
        + _figure(
            "reasons",
            svgs.get("reasons"),
            "Share of all departures by reason: bar = median over runs, line = 90% band.",
        )
        + _figure(
            "reasons-weekly", svgs.get("reasons-weekly"), "Departures per week by reason (medians, stacked)."
        )
        + table(
            [
                ("reason", ""),
                ("departures", "num"),
                ("90% band", "band"),
                ("share", "num"),
                ("90% band", "band"),
            ],
            rows,
        )
    )


def _how(data: ReportData, svgs: dict) -> str:
    lead = ""
    if not data.modes.empty:
        m = list(data.modes.itertuples())
        lead = f"{m[0].mode.capitalize()} carried {pct(m[0].share_median)} of crossings out of Russia"
        if len(m) > 1:
            lead += ", " + ", ".join(f"{x.mode} {pct(x.share_median)}" for x in m[1:])
        lead += ". "
    exits = data.links[data.links["exit"]]
    if not exits.empty:
        b = exits.iloc[0]
        lead += f"The busiest link was {b.label} ({b['mode']}) with {people(b.crossings_median)} crossings. "
    land = exits[exits["mode"].isin(["road", "rail"])]
    if not land.empty:
        q = land.sort_values("peak_queue_median", ascending=False).iloc[0]
        if q.peak_queue_median > 0:
            lead += (
                f"The longest queue formed at {q.label}: up to {people(q.peak_queue_median)} people "
                f"(median of the runs' peaks), waiting up to {days(q.max_wait_median)} days."
            )
    top = exits.head(15)
    rows = [
        [
            x.label,
            x.mode,
            people(x.crossings_median),
            span(x.crossings_q05, x.crossings_q95),
            people(x.peak_queue_median),
            days(x.max_wait_median),
        ]
        for x in top.itertuples()
    ]
    mode_rows = [
        [x.mode, people(x.median), band_text(x._asdict()), pct(x.share_median)]
        for x in data.modes.itertuples()
    ]
    return (
        f'<p class="lead">{esc(lead)}</p>'
        + _figure(
            "modes",
            svgs.get("modes"),
            "Crossings out of Russia over the whole period by mode (exit links "
            "only: a transfer abroad is not counted twice). Bar: median; line: 90% band.",
        )
        + table([("mode", ""), ("crossings out", "num"), ("90% band", "band"), ("share", "num")], mode_rows)
        + _figure("links", svgs.get("links"), "The 15 busiest links out of Russia, whole period.")
        + table(
            [
                ("link", ""),
                ("mode", ""),
                ("crossings out", "num"),
                ("90% band", "band"),
                ("peak queue", "num"),
                ("longest mean wait (days)", "num"),
            ],
            rows,
        )
        + "<h3>The busiest land crossings</h3>"
        + _figure(
            "land",
            svgs.get("land"),
            "Crossings per day and the queue at the end of each day at the busiest "
            "road and rail crossings. " + BAND_CAPTION,
        )
    )


def _share_band(x, key: str) -> str:
    """A destination's share of those abroad: median (5%-95% over runs)."""
    d = x._asdict()
    return f"{pct(d[key + '_median'])} ({pct(d[key + '_q05'])}-{pct(d[key + '_q95'])})"


def _where(data: ReportData, svgs: dict) -> str:
    d = data.destinations
    top = list(d.head(12).itertuples())
    lead = ""
    if top:
        names = [f"{x.name} ({people(x.end_median)})" for x in top[:3]]
        share_top = d.head(12)["end_median"].sum() / max(1.0, float(d["end_median"].sum()))
        lead = (
            f"On {day(data.end)} the largest groups were in "
            + ", ".join(names[:-1])
            + (" and " if len(names) > 1 else "")
            + names[-1]
            + f"; the {len(top)} largest destinations held {pct(share_top)} of everyone abroad (medians)."
        )
    has_2022 = "y2022_median" in d.columns
    headers = [("destination", ""), (f"present {day(data.end)}", "num"), ("90% band", "band")]
    if has_2022:
        headers += [("present 31 Dec 2022", "num"), ("90% band", "band")]
    headers += [("arrivals, whole period", "num"), (f"share of those abroad {day(data.end)} (90% band)", "num")]
    if has_2022:
        headers.append(("share of those abroad 31 Dec 2022 (90% band)", "num"))
    rows = []
    for x in top:
        row = [f"{x.name} ({x.country})", people(x.end_median), span(x.end_q05, x.end_q95)]
        if has_2022:
            row += [people(x.y2022_median), span(x.y2022_q05, x.y2022_q95)]
        row += [people(x.arrivals_median), _share_band(x, "share")]
        if has_2022:
            row.append(_share_band(x, "share2022"))
        rows.append(row)
    return (
        f'<p class="lead">{esc(lead)}</p>'
        + _figure(
            "destinations",
            svgs.get("destinations"),
            f"People present on {day(data.end)} in the 12 largest "
            "destinations: bar = median, line = 90% band.",
        )
        + _figure(
            "destinations-time",
            svgs.get("destinations-time"),
            "People present in the six largest "
            "destinations over time (weekly; line = median, band = 90% of runs)." + EVIDENCE_CAPTION,
        )
        + table(headers, rows)
    )


def _who(data: ReportData, svgs: dict) -> str:
    p = data.profile
    bits = []

    def get(dim: str, cat: str):
        m = p[(p["dimension"] == dim) & (p["category"] == cat)]
        return None if m.empty else m.iloc[0]

    male = get("sex", "male")
    if male is not None:
        bits.append(
            f"men were {pct(male.dep_median)} of those who left ({pct(male.abroad_median)} of those abroad "
            "at the end)"
        )
    higher = get("education", "higher")
    if higher is not None:
        bits.append(f"{pct(higher.dep_median)} had higher education")
    it = get("it", "yes")
    if it is not None:
        bits.append(f"{pct(it.dep_median)} worked in IT")
    ages = p[p["dimension"] == "age"]
    if not ages.empty:
        a = ages.loc[ages["dep_median"].idxmax()]
        bits.append(f"the largest age group was {a.category} ({pct(a.dep_median)})")
    lead = ("Of all departures, " + "; ".join(bits) + ".") if bits else ""
    rows = [
        [
            x.dimension_label,
            x.label,
            pct(x.dep_median),
            span(x.dep_q05, x.dep_q95, pct),
            pct(x.abroad_median),
            span(x.abroad_q05, x.abroad_q95, pct),
        ]
        for x in p.itertuples()
    ]
    return (
        f'<p class="lead">{esc(lead)}</p>'
        + _figure(
            "profile",
            svgs.get("profile"),
            "Profile of everyone who left over the whole period, and of the "
            "people abroad on the last day. Bar: median; line: 90% band.",
        )
        + table(
            [
                ("", ""),
                ("group", ""),
                ("of departures", "num"),
                ("90% band", "band"),
                ("of those abroad at the end", "num"),
                ("90% band", "band"),
            ],
            rows,
        )
    )


def _stayed(data: ReportData, svgs: dict) -> str:
    s = {x["key"]: x for x in data.summary}
    transit = data.per_run["in_transit"].at()
    leaving = data.per_run["leaving"].at()
    lead = (
        f"Of the {people(s['departed_end']['median'])} people who had left by {day(data.end)}, "
        f"{people(s['abroad_end']['median'])} ({pct(s['stayed_share']['median'])}; 90%: "
        f"{band_text(s['stayed_share'], fmt=pct)}) were still abroad and {people(s['returned_end']['median'])} "
        f"had come back to stay. {people(float(np.median(transit)))} were in transit and "
        f"{people(float(np.median(leaving)))} had decided to leave but were still in Russia on the last day."
    )
    rows = [
        [
            x["label"],
            (pct if x.get("unit") == "share" else people)(x["median"]),
            band_text(x, fmt=pct if x.get("unit") == "share" else people),
        ]
        for x in data.summary
    ]
    return (
        f'<p class="lead">{esc(lead)}</p>'
        + _figure(
            "abroad",
            svgs.get("abroad"),
            "People abroad, people who came back (and are at home), people in "
            "transit and people who decided to leave but are still in Russia. "
            + BAND_CAPTION
            + EVIDENCE_CAPTION,
        )
        + table([("quantity", ""), ("median", "num"), ("90% band", "band")], rows)
    )


def _map(data: ReportData, svgs: dict) -> str:
    n = len(data.map_links)
    lead = (
        f"Lines join the two ends of the {n} international links that carried anyone, wider for more crossings "
        "(median over runs, whole period) and coloured by mode; circles mark the people present in each "
        f"destination on {day(data.end)}."
    )
    return (
        f'<p class="lead">{esc(lead)}</p>'
        + _figure(
            "map-world",
            svgs.get("map-world"),
            "All destinations. Straight lines on the map, not routes "
            "flown or driven. Basemap: Natural Earth (public domain).",
        )
        + _figure(
            "map-region",
            svgs.get("map-region"),
            "The neighbourhood of the land routes: Finland and the "
            "Baltic states, the Caucasus, Turkey, Kazakhstan, Central Asia and Mongolia.",
        )
    )


def _timeline(data: ReportData, svgs: dict) -> str:
    pushes = data.world.pushes
    tl = [
        e
        for e in data.world.timeline
        if (e["end"] is None or e["end"] >= data.start) and (e["start"] is None or e["start"] <= data.end)
    ]
    lead = (
        f"The scenario has {len(pushes)} push events (what made people decide) and {len(tl)} dated changes "
        "to routes (closures, exit restrictions, capacity) in force during the simulated period."
    )
    if not pushes and not tl:
        return '<p class="lead">No scenario events were given to the report.</p>'
    push_rows = [
        [
            p["id"],
            p["name"].replace("_", " "),
            p["kind"].replace("_", " "),
            day(p["start"]),
            day(p["end"]) if p["end"] else "open",
            p["description"],
            p["source"],
        ]
        for p in pushes
    ]
    tl_rows = [
        [
            e["id"],
            e["effect"],
            day(e["start"]) if e["start"] else "before",
            day(e["end"]) if e["end"] else "open",
            e["links"],
            e["description"] or e["selector"],
            e["source"],
        ]
        for e in tl
    ]
    return (
        f'<p class="lead">{esc(lead)}</p>'
        + _figure(
            "timeline",
            svgs.get("timeline"),
            "Push events and route changes; a bar runs from the start to the "
            "end of the event (to the end of the period if open).",
        )
        + "<h3>Push events</h3>"
        + table(
            [
                ("id", ""),
                ("event", ""),
                ("kind", ""),
                ("from", "num"),
                ("to", "num"),
                ("description", ""),
                ("sources", ""),
            ],
            push_rows,
        )
        + "<details><summary>Route changes ("
        + str(len(tl_rows))
        + ")</summary>"
        + table(
            [
                ("id", ""),
                ("effect", ""),
                ("from", "num"),
                ("to", "num"),
                ("links", "num"),
                ("description", ""),
                ("sources", ""),
            ],
            tl_rows,
        )
        + "</details>"
    )


def predicted_cell(p: dict | None) -> Markup:
    """A figure's predicted count (median and 90% interval over the runs) and, when it has more than one part,
    "of which: wave emigrants X, ordinary trips Y, ..." - the parts splitting the median (they add up to it)."""
    if not p:
        return Markup('<span class="note">not predicted</span>')
    text = f'{esc(people(p["median"]))} <span class="band">({esc(span(p["q05"], p["q95"]))})</span>'
    if len(p["parts"]) > 1:
        text += '<br><span class="note">of which: ' + ", ".join(
            f'{esc(x["label"])} {esc(people(x["of_median"]))}' for x in p["parts"]) + "</span>"
    return Markup(text)


def _evidence(data: ReportData, svgs: dict, comparison: Comparison | None, predicted: dict | None = None) -> str:
    if comparison is None:
        return '<p class="lead">No evidence was given to the report.</p>'
    rows = comparison.rows
    if rows.empty:
        return '<p class="lead">No sourced figure can be set beside a simulated quantity.</p>'
    like = rows[rows["class"] == LIKE_FOR_LIKE]
    gross = rows[rows["class"] == GROSS]
    ok = like["verdict"].isin(["consistent", "inside the 90% band"]).sum()
    lead = (
        f"{len(rows)} sourced figures can be set beside a simulated quantity; they are shown, not fitted. "
        f"{ok} of the {len(like)} like-for-like figures (emigrants counted as such) fall inside the simulated 90% "
        "band or are consistent with their bound. Gross counts of entries and crossings also count tourists and "
        "repeated trips, so they should lie above the simulated flows of emigrants."
    )
    skipped = "; ".join(f"{k} ({v})" for k, v in sorted(comparison.skipped.items(), key=lambda kv: -kv[1]))

    def cite(r) -> Markup:
        who = esc(r.publisher)
        when = f" ({esc(r.published)})" if r.published else ""
        quote = f' title="{esc(r.quote)}"' if r.quote else ""
        link = f' <a href="{esc(r.url)}" rel="noreferrer"{quote}>source</a>' if r.url else ""
        weak = ' <span class="note">(flagged weak)</span>' if r.weak else ""
        return Markup(f"{who}{when}.{link}{weak}")

    def observed(r) -> str:
        if r.bound == "range":
            return span(r.low, r.high)
        mark = {"lower": "more than ", "upper": "up to "}.get(r.bound, "")
        return mark + people(r.value)

    predicted = predicted or {}

    def simulated(r) -> Markup:
        return Markup(
            f'{esc(people(r.sim_median))} <span class="band">({esc(span(r.sim_q05, r.sim_q95))})</span>'
            f'<br><span class="note">{esc(r.quantity)}</span>'
        )

    def rows_of(frame: pd.DataFrame) -> list[list]:
        return [
            [
                r.id,
                Markup(f"{esc(r.place)}<br>{esc(r.period.replace('..', DASH))}"),
                observed(r),
                simulated(r),
                r.verdict + (f" ({r.note})" if r.note else ""),
                *([predicted_cell(predicted.get(r.id))] if predicted else []),
                cite(r),
            ]
            for r in frame.itertuples()
        ]

    headers = [
        ("id", ""),
        ("place, period", "nowrap"),
        ("source says", "num"),
        ("simulated: median (90% band)", "num"),
        ("comparison", ""),
        *([("predicted count of what the source counted: median (90%), of which", "num")] if predicted else []),
        ("citation", ""),
    ]
    return (
        f'<p class="lead">{esc(lead)}</p>'
        + (f'<p class="note">{esc(PREDICTED_DEFINITION)}</p>' if predicted else "")
        + _figure(
            "evidence",
            svgs.get("evidence"),
            "Like-for-like figures. Blue: the simulated quantity (light: 90% "
            "band, dark: middle 50%, tick: median); orange: the source's figure. Hover over a "
            "&ldquo;source&rdquo; link for the quoted passage.",
        )
        + table(headers, rows_of(like), cls="evidence")
        + "<h3>Gross counts: upper envelopes</h3>"
        + _figure(
            "evidence-gross",
            svgs.get("evidence-gross"),
            "Entries and crossings counted at borders include "
            "ordinary travellers; the simulated quantity is emigrants only, so the source's figure should lie "
            "to the right of the blue band.",
        )
        + f"<details><summary>The {len(gross)} gross counts with their citations</summary>"
        + table(headers, rows_of(gross), cls="evidence")
        + "</details>"
        + (f'<p class="note">Not shown: {esc(skipped)}.</p>' if skipped else "")
    )


def _method(data: ReportData, store_desc: str, seconds: float, store_dir: Path | None = None) -> str:
    runs = data.runs
    params = [
        c for c in runs.columns if c not in ("run", "seed", "draw") and pd.api.types.is_numeric_dtype(runs[c])
    ]
    rows = [[c, f"{runs[c].median():.4g}", f"{runs[c].min():.4g}", f"{runs[c].max():.4g}"] for c in params]
    seeds = runs["seed"].nunique() if "seed" in runs.columns else "?"
    draws = runs["draw"].nunique() if "draw" in runs.columns else "?"
    text = (
        f"<p>{data.n_runs} runs ({plural(seeds, 'seed')}, {plural(draws, 'parameter draw')}), "
        f"{day(data.start)} to {day(data.end)}, "
        f"read from {esc(store_desc)}. Every number is computed per run first (a sum, a share, a value on a day); "
        "the median and the bands are quantiles over runs (linear interpolation, NumPy's default), so a 90% band "
        "runs from the 5th to the 95th percentile of the runs. With few runs the bands are rough.</p>"
        "<p>People counts are rounded to three significant figures in the text and tables. Crossings count "
        "passages through a link, not people: someone changing planes abroad crosses twice.</p>"
    )
    table_html = (
        table([("parameter", ""), ("median", "num"), ("min", "num"), ("max", "num")], rows) if rows else ""
    )
    files = ""
    if store_dir is not None:
        # listed whether or not written yet: the job writes some of them after the report (the manifest last)
        have = list(DATA_FILES) if (store_dir / "runs").is_dir() else []
        if have:
            links = "".join(f'<li><a href="{esc(n)}">{esc(n)}</a>: {esc(w)}</li>' for n, w in have)
            files = f"<h3>The data behind this report</h3><p>Beside this file:</p><ul>{links}</ul>"
    return text + table_html + files + f'<p class="note">Report built in {seconds:.1f} s.</p>'


#: files of the store the report links to (relative links: the report is written into the store's folder)
DATA_FILES = (
    ("runs/", "one Parquet file per run: date, place, measure, group, value"),
    ("runs.parquet", "the runs: seed, posterior draw and parameter values"),
    ("results.duckdb", "the same as a DuckDB database (tables daily and runs)"),
    ("summary.json", "the headline numbers of every run"),
    ("manifest.json", "how the store was made"),
)


# ---------------------------------------------------------------------------------------------- entry
def build_svgs(data: ReportData, comparison: Comparison | None) -> dict[str, str]:
    specs = ch.all_charts(data, comparison.rows if comparison is not None else None)
    specs["map-world"] = geo.world_map(data)
    specs["map-region"] = geo.region_map(data)
    return {k: strip_xml_header(to_svg(v, f"c-{k}")) for k, v in specs.items() if v}


def write_report(
    store_or_frame: ResultStore | pd.DataFrame | str | Path,
    world,
    out_path: str | Path,
    *,
    title: str | None = None,
    evidence=None,
    sentences: dict | None = None,
) -> Path:
    """Write the report of an ensemble as one self-contained HTML file and return its path.

    ``store_or_frame``: a :class:`~emigre.results.ResultStore`, its directory, or an ensemble DataFrame in
    the output schema with an integer ``run`` column. ``world``: the scenario (``load_scenario(...)``; a
    ``CompiledWorld`` gives the map but no events; ``None`` leaves out the map and the timeline).
    ``evidence``: an :class:`~emigre.evidence.Evidence` to set sourced figures beside the results; ``None``
    uses the packaged evidence, ``False`` leaves the comparison out.
    ``sentences``: a dict the report's headline sentences are also put in, for a terminal
    (``against_national``: where the totals stand among the published national estimates, and why).

    Raises :class:`~emigre.errors.EmigreError` when the results are empty or lack a measure of the schema.
    The file is written atomically; charts are SVG rendered at build time, so viewing needs no network and
    no JavaScript.
    """
    t0 = time.perf_counter()
    if isinstance(store_or_frame, pd.DataFrame):
        store = ResultStore.from_frame(store_or_frame)
        store_desc = "an in-memory frame"
    elif isinstance(store_or_frame, ResultStore):
        store = store_or_frame
        store_desc = "an in-memory frame" if store.in_memory else str(store.directory)
    elif isinstance(store_or_frame, str | Path):
        store = ResultStore(store_or_frame)
        store_desc = str(store.directory)
    else:
        raise EmigreError(
            f"write_report: expected a ResultStore, a directory or a DataFrame, got "
            f"{type(store_or_frame).__name__}"
        )
    data = collect(store, world_info(world), title=title or "")
    if evidence is None:
        from emigre.evidence import load_evidence

        evidence = load_evidence()
    comparison = compare(data, evidence) if evidence is not False else None
    hl = headlines(store, evidence if evidence is not False else None,
                   scenario=data.world.name or "russia-2022", country_names=data.world.country_names)
    svgs = build_svgs(data, comparison)
    predicted = predicted_by_figure(store) if evidence is not False else None
    builders = {
        "how-many": lambda: _how_many(data, svgs, evidence if evidence is not False else None, predicted,
                                      sentences),
        "estimates": lambda: _estimates(hl),
        "when": lambda: _when(data, svgs),
        "why": lambda: _why(data, svgs),
        "how": lambda: _how(data, svgs),
        "where": lambda: _where(data, svgs),
        "who": lambda: _who(data, svgs),
        "stayed": lambda: _stayed(data, svgs),
        "map": lambda: _map(data, svgs),
        "timeline": lambda: _timeline(data, svgs),
        "evidence": lambda: _evidence(data, svgs, comparison, predicted),
    }
    body = [_sec(sid, heading, builders[sid]()) for sid, heading in SECTIONS if sid in builders]
    seconds = time.perf_counter() - t0
    out = Path(out_path)
    store_dir = None if store.in_memory or store.directory.resolve() != out.parent.resolve() else store.directory
    body.append(_sec("method", dict(SECTIONS)["method"], _method(data, store_desc, seconds, store_dir)))
    nav = "".join(f'<a href="#{sid}">{esc(h)}</a>' for sid, h in SECTIONS)
    scenario = data.world.name or "scenario"
    from emigre import __version__

    subtitle = (
        f"{esc(scenario)} \u00b7 {data.n_runs} runs \u00b7 {day(data.start)} to {day(data.end)} \u00b7 "
        f"built {dt.date.today():%-d %b %Y} by emigre {esc(__version__)}"
    )
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(data.title)}</title>"
        f'<meta name="generator" content="emigre {esc(__version__)}">'
        f"<style>{CSS}</style></head><body><main>"
        f'<header><h1>{esc(data.title)}</h1><p class="sub">{subtitle}</p></header>'
        f"<nav>{nav}</nav>"
        + "".join(body)
        + "<footer>Simulated numbers, not counts: each comes with the spread of the ensemble. Sourced figures keep "
        "their citation. Basemap made with Natural Earth (public domain). Self-contained file: charts are inline "
        "SVG, nothing is loaded from the network.</footer>"
        "</main></body></html>\n"
    )
    out = Path(out_path)
    atomic_write_text(out, page)
    return out


__all__ = ["CHARTS", "SECTIONS", "write_report"]
