"""Vega-Lite specifications of the report's charts (plain dicts; rendered to SVG by :mod:`.render`).

Conventions: a simulated quantity is a line (median over runs) in a dark band (25-75 %) in a light band
(5-95 %); a sourced figure is an orange mark labelled with its evidence id: a circle for a point figure, a
triangle up for a lower bound ("more than"), down for an upper bound, a bar for a range.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from emigre.report.data import ReportData
from emigre.report.evidence import GROSS, LIKE_FOR_LIKE

WIDTH = 860
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # a name, never fetched: specs carry their data
FONT = "Helvetica, Arial, 'Liberation Sans', sans-serif"
EVIDENCE = "#c2410c"
SIM = "#2b5c9e"
#: no orange here: orange means "a sourced figure" in every chart
MODE_COLORS = {"air": "#4c78a8", "road": "#862e9c", "rail": "#54a24b", "sea": "#3bb3c3", "other": "#9d7660"}
SERIES_LABELS = {
    "departures": "departures",
    "returns": "returns",
    "departed_cum": "left (cumulative)",
    "abroad": "abroad",
    "returned_cum": "came back (at home)",
    "in_transit": "in transit",
    "leaving": "decided, still in Russia",
}
SERIES_COLORS = {
    "departures": SIM,
    "returns": "#2f9e44",
    "departed_cum": SIM,
    "abroad": "#7048e8",
    "returned_cum": "#2f9e44",
    "in_transit": "#1098ad",
    "leaving": "#868e96",
}
ELLIPSIS = "\u2026"
BOUND_SHAPES = {"point": "circle", "lower": "triangle-up", "upper": "triangle-down", "range": "diamond"}
BOUND_LABELS = {"point": "figure", "lower": "lower bound", "upper": "upper bound", "range": "range"}

CONFIG = {
    "font": FONT,
    "background": "white",
    "view": {"stroke": None},
    "axis": {
        "labelFontSize": 11,
        "titleFontSize": 12,
        "titleFontWeight": "normal",
        "gridColor": "#e9ecef",
        "domainColor": "#adb5bd",
        "tickColor": "#adb5bd",
        "labelColor": "#343a40",
        "titleColor": "#343a40",
    },
    "legend": {
        "labelFontSize": 11,
        "titleFontSize": 11,
        "orient": "bottom",
        "direction": "horizontal",
        "titleFontWeight": "normal",
        "symbolStrokeWidth": 2,
        "symbolOpacity": 0.9,
    },
    "title": {"fontSize": 14, "fontWeight": "bold", "anchor": "start", "color": "#212529", "offset": 8},
    "header": {"labelFontSize": 12, "titleFontSize": 12, "labelFontWeight": "bold"},
}


#: SI labels formatted one by one: Vega's shared prefix would print 0 as "0M" and 1k as "0M" on a wide axis
SI_LABEL = "datum.value == 0 ? '0' : format(datum.value, '~s')"


def axis_format(fmt: str) -> dict:
    """Vega-Lite axis labels for a number format (SI suffixes for ``~s``)."""
    return {"labelExpr": SI_LABEL} if fmt == "~s" else {"format": fmt}


def mode_color(modes, title: str | None = "mode", legend: bool = True) -> dict:
    """Colour by link mode, with the legend listing only the modes present."""
    present = [m for m in MODE_COLORS if m in set(modes)] + sorted(set(modes) - set(MODE_COLORS))
    enc = {
        "field": "mode",
        "type": "nominal",
        "title": title,
        "scale": {"domain": present, "range": [MODE_COLORS.get(m, "#9d7660") for m in present]},
    }
    if not legend:
        enc["legend"] = None
    return enc


def short(text: str, n: int = 48) -> str:
    """Cut a label to ``n`` characters: Vega measures every label, and long ones cost time to truncate."""
    text = str(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + ELLIPSIS


def _iso(value) -> str:
    if isinstance(value, dt.date | dt.datetime | pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    return str(value)


def records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: dates as ISO strings, NaN as None."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, pd.Timestamp | dt.date | np.datetime64):
                clean[k] = _iso(v)
            elif isinstance(v, float | np.floating):
                clean[k] = None if not np.isfinite(v) else float(v)
            elif isinstance(v, np.integer):
                clean[k] = int(v)
            elif isinstance(v, np.bool_):
                clean[k] = bool(v)
            else:
                clean[k] = v
        out.append(clean)
    return out


def _spec(**kw) -> dict:
    return {"$schema": SCHEMA, "config": CONFIG, **kw}


def _date_x(title: str | None = None, domain: tuple | None = None, *, months: int = 2) -> dict:
    """A date axis with a label every ``months`` months (explicit: the browser's font is not the one
    Vega measured with, so automatic overlap removal alone can leave labels touching)."""
    x = {
        "field": "date",
        "type": "temporal",
        "title": title,
        "axis": {
            "format": "%b %Y",
            "labelAngle": 0,
            "tickCount": {"interval": "month", "step": months},
            "labelOverlap": "greedy",
            "labelSeparation": 6,
        },
    }
    if domain:
        x["scale"] = {"domain": [_iso(domain[0]), _iso(domain[1])]}
    return x


def _band_layers(y_title: str, color: dict, *, fmt: str = "~s", stroke_width: float = 2.0) -> list[dict]:
    y = {"field": "median", "type": "quantitative", "title": y_title, "axis": axis_format(fmt)}
    return [
        {
            "mark": {"type": "area", "opacity": 0.16, "interpolate": "monotone"},
            "encoding": {"y": {**y, "field": "q05"}, "y2": {"field": "q95"}, "color": color},
        },
        {
            "mark": {"type": "area", "opacity": 0.3, "interpolate": "monotone"},
            "encoding": {"y": {**y, "field": "q25"}, "y2": {"field": "q75"}, "color": color},
        },
        {
            "mark": {"type": "line", "strokeWidth": stroke_width, "interpolate": "monotone"},
            "encoding": {"y": y, "color": color},
        },
    ]


def _series_color(measures: list[str]) -> dict:
    return {
        "field": "series",
        "type": "nominal",
        "title": None,
        "scale": {
            "domain": [SERIES_LABELS.get(m, m) for m in measures],
            "range": [SERIES_COLORS.get(m, SIM) for m in measures],
        },
        "legend": {"orient": "bottom"},
    }


def _bound_shape() -> dict:
    """The shape encoding of a sourced figure: one marker per bound (point, lower, upper, range)."""
    return {
        "field": "bound_label",
        "type": "nominal",
        "title": "sourced figure",
        "scale": {
            "domain": [BOUND_LABELS[b] for b in BOUND_SHAPES],
            "range": [BOUND_SHAPES[b] for b in BOUND_SHAPES],
        },
    }


def _evidence_layers(obs: pd.DataFrame, *, x: str = "date", color: dict | None = None) -> list[dict]:
    if obs is None or obs.empty:
        return []
    rows = records(obs.assign(date=obs["date_to"], bound_label=obs["bound"].map(BOUND_LABELS)))
    col = color or {"value": EVIDENCE}
    shape = _bound_shape()
    xenc = {"field": x, "type": "temporal"}
    return [
        {
            "data": {"values": [r for r in rows if r["bound"] == "range"]},
            "mark": {"type": "rule", "strokeWidth": 2},
            "encoding": {
                "x": xenc,
                "y": {"field": "low", "type": "quantitative"},
                "y2": {"field": "high"},
                "color": col,
            },
        },
        {
            "data": {"values": rows},
            "mark": {
                "type": "point",
                "filled": True,
                "size": 80,
                "opacity": 0.95,
                "stroke": "white",
                "strokeWidth": 0.8,
            },
            "encoding": {
                "x": xenc,
                "y": {"field": "value", "type": "quantitative"},
                "shape": shape,
                "color": col,
            },
        },
        {
            "data": {"values": rows},
            "mark": {"type": "text", "dx": 7, "dy": -7, "align": "left", "fontSize": 9.5, "color": EVIDENCE},
            "encoding": {"x": xenc, "y": {"field": "value", "type": "quantitative"}, "text": {"field": "id"}},
        },
    ]


def _push_layers(data: ReportData) -> list[dict]:
    """Dashed rules at each push event, a shaded window for events with an end, one label per wave."""
    pushes = [
        p
        for p in data.world.pushes
        if p["kind"] == "push" and p["start"] and data.start <= p["start"] <= data.end
    ]
    if not pushes:
        return []
    windows = [
        {"start": _iso(p["start"]), "end": _iso(min(p["end"], data.end))}
        for p in pushes
        if p["end"] is not None
    ]
    labels = [{"date": _iso(w["start"]), "label": w["name"]} for w in data.waves if w["pushes"]]
    layers = []
    if windows:
        layers.append(
            {
                "data": {"values": windows},
                "mark": {"type": "rect", "color": "#f1f3f5", "opacity": 0.9},
                "encoding": {"x": {"field": "start", "type": "temporal"}, "x2": {"field": "end"}},
            }
        )
    layers.append(
        {
            "data": {"values": [{"date": _iso(p["start"]), "name": p["name"]} for p in pushes]},
            "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#868e96", "strokeWidth": 1},
            "encoding": {"x": {"field": "date", "type": "temporal"}},
        }
    )
    layers.append(
        {
            "data": {"values": labels},
            "mark": {
                "type": "text",
                "align": "left",
                "baseline": "top",
                "dx": 4,
                "y": 4,
                "fontSize": 10.5,
                "color": "#495057",
                "limit": 260,
            },
            "encoding": {"x": {"field": "date", "type": "temporal"}, "text": {"field": "label"}},
        }
    )
    return layers


# ---------------------------------------------------------------------------------------------- charts
def _over_time(data: ReportData, rows: pd.DataFrame, title: str, color: dict, *, pushes: bool,
               obs: pd.DataFrame | None = None, evidence: bool = False) -> dict:
    """Bands of ``rows`` over the simulated period, behind the push events and before the sourced figures."""
    layer = [
        *(_push_layers(data) if pushes else []),
        {
            "data": {"values": records(rows)},
            "encoding": {"x": _date_x(None, (data.start, data.end))},
            "layer": _band_layers(title, color),
        },
        *(_evidence_layers(obs) if evidence else []),
    ]
    if not evidence:
        return _spec(width=WIDTH, height=300, layer=layer)
    return _spec(width=WIDTH, height=300, layer=layer, resolve={"legend": {"shape": "independent"}})


def departed_chart(data: ReportData, obs: pd.DataFrame | None) -> dict:
    """Cumulative departures with their bands, and the sourced figures beside them."""
    rows = data.cumulative[data.cumulative["measure"] == "departed_cum"]
    rows = rows.assign(series=SERIES_LABELS["departed_cum"])
    return _over_time(data, rows, "people who have left", _series_color(["departed_cum"]), pushes=True,
                      obs=obs, evidence=True)


def weekly_chart(data: ReportData) -> dict:
    """Departures and returns per week with their bands."""
    rows = data.weekly.assign(series=data.weekly["measure"].map(SERIES_LABELS))
    return _over_time(data, rows, "people per week", _series_color(["departures", "returns"]), pushes=True)


def abroad_chart(data: ReportData, obs: pd.DataFrame | None) -> dict:
    """People abroad, returned, in transit and leaving over time, with the sourced stocks."""
    measures = ["abroad", "returned_cum", "in_transit", "leaving"]
    rows = data.cumulative[data.cumulative["measure"].isin(measures)]
    rows = rows.assign(series=rows["measure"].map(SERIES_LABELS))
    return _over_time(data, rows, "people", _series_color(measures), pushes=False, obs=obs, evidence=True)


def _share_bars(
    rows: list[dict],
    *,
    y: str,
    sort: list[str],
    prefix: str = "share_",
    color: dict | None = None,
    height_per_row: int = 26,
    x_title: str = "share",
    fmt: str = ".0%",
    width: int = 560,
    label_fmt: str = ".0%",
) -> dict:
    col = color or {"value": SIM}
    for r in rows:
        r[y] = short(r[y], 44)
    sort = [short(x, 44) for x in sort]
    y_enc = {"field": y, "type": "nominal", "sort": sort, "title": None, "axis": {"labelLimit": 0}}
    x_enc = {"field": f"{prefix}median", "type": "quantitative", "title": x_title, "axis": axis_format(fmt)}
    return _spec(
        width=width,
        height=max(60, height_per_row * len(rows)),
        data={"values": rows},
        encoding={"y": y_enc},
        layer=[
            {
                "mark": {"type": "bar", "height": {"band": 0.7}, "opacity": 0.85},
                "encoding": {"x": x_enc, "color": col},
            },
            {
                "mark": {"type": "rule", "color": "#212529", "strokeWidth": 1.2},
                "encoding": {
                    "x": {"field": f"{prefix}q05", "type": "quantitative"},
                    "x2": {"field": f"{prefix}q95"},
                },
            },
            {
                "mark": {"type": "text", "align": "left", "dx": 5, "fontSize": 10.5, "color": "#212529"},
                "encoding": {
                    "x": {"field": f"{prefix}q95", "type": "quantitative"},
                    "text": {"field": f"{prefix}median", "type": "quantitative", "format": label_fmt},
                },
            },
        ],
    )


def reasons_chart(data: ReportData) -> dict:
    """Share of departures by reason, as bars with bands."""
    rows = records(data.reasons)
    sort = data.reasons.sort_values("share_median", ascending=False)["label"].tolist()
    return _share_bars(rows, y="label", sort=sort, x_title="share of all departures")


def reasons_weekly_chart(data: ReportData) -> dict:
    """Departures per week by reason."""
    order = data.reasons["label"].tolist()
    return _spec(
        width=WIDTH,
        height=260,
        data={"values": records(data.reasons_weekly)},
        mark={"type": "area", "interpolate": "monotone", "opacity": 0.9},
        encoding={
            "x": _date_x(None, (data.start, data.end)),
            "y": {
                "field": "median",
                "type": "quantitative",
                "stack": "zero",
                "title": "departures per week (median)",
                "axis": axis_format("~s"),
            },
            "color": {
                "field": "label",
                "type": "nominal",
                "title": None,
                "sort": order,
                "scale": {"domain": order, "scheme": "tableau10"},
            },
            "order": {"field": "order", "type": "quantitative"},
        },
        transform=[{"calculate": f"indexof({order!r}, datum.label)", "as": "order"}],
    )


def modes_chart(data: ReportData) -> dict:
    """Share of crossings out of Russia by mode."""
    if data.modes.empty:
        return {}
    rows = records(data.modes)
    color = mode_color(data.modes["mode"], legend=False)
    return _share_bars(
        rows,
        y="mode",
        sort=data.modes["mode"].tolist(),
        prefix="",
        color=color,
        x_title="crossings out of Russia, whole period",
        fmt="~s",
        label_fmt=",.3~s",
        width=520,
    )


def links_chart(data: ReportData) -> dict:
    """The busiest exit links by crossings over the whole period."""
    top = data.links[data.links["exit"] & (data.links["crossings_median"] > 0)].head(15)
    rows = records(top)
    color = mode_color(top["mode"])
    return _share_bars(
        rows,
        y="label",
        sort=top["label"].tolist(),
        prefix="crossings_",
        color=color,
        x_title="crossings out of Russia, whole period",
        fmt="~s",
        label_fmt=",.3~s",
        width=560,
        height_per_row=22,
    )


def land_chart(data: ReportData) -> dict:
    """Crossings and queues per day at the busiest land crossings."""
    if not data.land:
        return {}
    rows = []
    for lid, parts in data.land.items():
        title = data.world.link_label(lid)
        pair = []
        for measure, y_title, color in (
            ("crossings_out", "crossings out per day", "#e4572e"),
            ("queue", "people queueing (end of day)", "#7048e8"),
        ):
            frame = parts[measure].assign(series=measure)
            pair.append(
                {
                    "width": 390,
                    "height": 150,
                    "title": {"text": title if measure == "crossings_out" else "", "fontSize": 12},
                    "data": {"values": records(frame)},
                    "encoding": {"x": _date_x(None, (data.start, data.end), months=6)},
                    "layer": _band_layers(y_title, {"value": color}, stroke_width=1.5),
                }
            )
        rows.append({"hconcat": pair, "spacing": 30})
    return _spec(vconcat=rows, spacing=18)


def destinations_chart(data: ReportData) -> dict:
    """The main destinations by share of departures."""
    top = data.destinations.head(12)
    return _share_bars(
        records(top),
        y="name",
        sort=top["name"].tolist(),
        prefix="end_",
        x_title=f"people present on {data.end:%-d %b %Y}",
        fmt="~s",
        label_fmt=",.3~s",
        width=560,
        height_per_row=24,
    )


def destinations_time_chart(data: ReportData, obs: pd.DataFrame | None) -> dict:
    """People present in the main destinations over time, with the sourced figures."""
    rows = data.destination_series
    names = list(dict.fromkeys(rows["name"]))
    color = {
        "field": "name",
        "type": "nominal",
        "title": None,
        "scale": {"domain": names, "scheme": "tableau10"},
    }
    layers = [
        {
            "mark": {"type": "area", "opacity": 0.13, "interpolate": "monotone"},
            "encoding": {
                "y": {"field": "q05", "type": "quantitative"},
                "y2": {"field": "q95"},
                "color": color,
            },
        },
        {
            "mark": {"type": "line", "strokeWidth": 2, "interpolate": "monotone"},
            "encoding": {
                "y": {
                    "field": "median",
                    "type": "quantitative",
                    "title": "people present",
                    "axis": axis_format("~s"),
                },
                "color": color,
            },
        },
    ]
    ev = []
    if obs is not None and not obs.empty:
        code_to_name = dict(zip(rows["country"], rows["name"], strict=False))
        shown = obs[obs["place"].isin(code_to_name)]
        if not shown.empty:
            ev = _evidence_layers(shown.assign(name=shown["place"].map(code_to_name)))
    return _spec(
        width=WIDTH,
        height=300,
        layer=[
            {
                "data": {"values": records(rows)},
                "encoding": {"x": _date_x(None, (data.start, data.end))},
                "layer": layers,
            },
            *ev,
        ],
        resolve={"legend": {"shape": "independent"}},
    )


def profile_chart(data: ReportData) -> dict:
    """Age and sex profile of departures and of people abroad at the end."""
    rows = []
    for r in records(data.profile):
        for series, prefix in (("of all departures", "dep_"), ("of people abroad at the end", "abroad_")):
            rows.append(
                {
                    "dimension": r["dimension_label"],
                    "label": r["label"],
                    "series": series,
                    **{k: r[f"{prefix}{k}"] for k in ("median", "q05", "q95")},
                }
            )
    order = list(dict.fromkeys(data.profile["dimension_label"]))
    color = {
        "field": "series",
        "type": "nominal",
        "title": None,
        "scale": {"domain": ["of all departures", "of people abroad at the end"], "range": [SIM, "#7048e8"]},
    }
    y = {"field": "label", "type": "nominal", "title": None, "sort": None, "axis": {"labelLimit": 0}}
    return _spec(
        data={"values": rows},
        facet={
            "row": {
                "field": "dimension",
                "type": "nominal",
                "title": None,
                "sort": order,
                "header": {
                    "labelAngle": 0,
                    "labelAlign": "left",
                    "labelAnchor": "start",
                    "labelOrient": "top",
                    "labelPadding": 4,
                },
            }
        },
        spec={
            "width": 520,
            "height": {"step": 13},
            "encoding": {"y": y, "yOffset": {"field": "series", "sort": None}},
            "layer": [
                {
                    "mark": {"type": "bar", "opacity": 0.85},
                    "encoding": {
                        "x": {
                            "field": "median",
                            "type": "quantitative",
                            "title": "share",
                            "axis": {"format": ".0%"},
                            "scale": {"domain": [0, 1]},
                        },
                        "color": color,
                    },
                },
                {
                    "mark": {"type": "rule", "color": "#212529"},
                    "encoding": {"x": {"field": "q05", "type": "quantitative"}, "x2": {"field": "q95"}},
                },
                {
                    "mark": {"type": "text", "align": "left", "dx": 5, "fontSize": 9.5},
                    "encoding": {
                        "x": {"field": "q95", "type": "quantitative"},
                        "text": {"field": "median", "type": "quantitative", "format": ".0%"},
                    },
                },
            ],
        },
        resolve={"scale": {"y": "independent"}},
        spacing=10,
    )


def timeline_chart(data: ReportData) -> dict:
    """Push events, exit restrictions and route changes on a time axis."""
    rows = []
    for p in data.world.pushes:
        if p["start"] is None or p["start"] > data.end:
            continue
        rows.append(
            {
                "label": f"{p['id']} {p['name'].replace('_', ' ')}",
                "type": "push event" if p["kind"] == "push" else "exit restriction",
                "start": _iso(max(p["start"], data.start)),
                "end": _iso(min(p["end"] or data.end, data.end) + dt.timedelta(days=1)),
                "sort": 0,
                "s": _iso(p["start"]),
            }
        )
    for e in data.world.timeline:
        s, f = e["start"] or data.start, e["end"] or data.end
        if f < data.start or s > data.end:
            continue
        desc = e["description"] or e["selector"]
        rows.append(
            {
                "label": short(f"{e['id']} {desc}", 52),
                "type": {
                    "closed": "route closed",
                    "restricted": "exit restricted",
                    "capacity": "capacity changed",
                }.get(e["effect"], e["effect"]),
                "start": _iso(max(s, data.start)),
                "end": _iso(min(f, data.end) + dt.timedelta(days=1)),
                "sort": 1,
                "s": _iso(s),
            }
        )
    if not rows:
        return {}
    rows.sort(key=lambda r: (r["sort"], r["s"], r["label"]))
    types = ["push event", "exit restriction", "route closed", "exit restricted", "capacity changed"]
    return _spec(
        width=560,
        height={"step": 15},
        data={"values": rows},
        mark={"type": "bar", "cornerRadius": 2, "height": {"band": 0.72}},
        encoding={
            "y": {
                "field": "label",
                "type": "nominal",
                "sort": None,
                "title": None,
                "axis": {"labelLimit": 0, "labelFontSize": 10},
            },
            "x": {
                "field": "start",
                "type": "temporal",
                "title": None,
                "scale": {"domain": [_iso(data.start), _iso(data.end + dt.timedelta(days=1))]},
                "axis": {
                    "format": "%b %Y",
                    "orient": "top",
                    "tickCount": {"interval": "month", "step": 3},
                    "labelOverlap": "greedy",
                    "labelSeparation": 6,
                },
            },
            "x2": {"field": "end"},
            "color": {
                "field": "type",
                "type": "nominal",
                "title": None,
                "scale": {"domain": types, "range": ["#862e9c", "#1098ad", "#495057", "#868e96", "#74c0fc"]},
            },
        },
    )


def _symlog_ticks(lo: float, hi: float) -> list[float]:
    ticks = [0.0]
    for e in range(3, 9):
        for sign in (1, -1):
            v = sign * 10.0**e
            if lo <= v <= hi:
                ticks.append(v)
    return sorted(ticks)


def evidence_chart(comparison: pd.DataFrame, klass: str) -> dict:
    """One row per sourced figure: the simulated band (blue) and the figure (orange) on a symmetric log
    scale (net arrivals can be negative)."""
    rows = comparison[comparison["class"] == klass] if not comparison.empty else comparison
    if rows.empty:
        return {}
    rows = rows.assign(
        row=rows["id"]
        + "  "
        + rows["place"]
        + "  "
        + rows["period"].str.replace("..", " \u2013 ", regex=False),
        bound_label=rows["bound"].map(BOUND_LABELS),
    )
    nums = rows[["value", "low", "high", "sim_q05", "sim_q95"]].to_numpy(dtype=float)
    lo, hi = float(np.nanmin(nums)), float(np.nanmax(nums))
    lo = min(0.0, lo * 1.6)
    hi = max(hi * 1.6, 1000.0)
    x_scale = {"type": "symlog", "constant": 1000, "domain": [lo, hi], "nice": False}
    y = {
        "field": "row",
        "type": "nominal",
        "sort": None,
        "title": None,
        "axis": {"labelLimit": 0, "labelFontSize": 10},
    }
    shape = _bound_shape()
    return _spec(
        width=520,
        height={"step": 20},
        data={"values": records(rows)},
        encoding={"y": y},
        layer=[
            {
                "mark": {"type": "rule", "color": SIM, "opacity": 0.35, "strokeWidth": 6},
                "encoding": {
                    "x": {
                        "field": "sim_q05",
                        "type": "quantitative",
                        "scale": x_scale,
                        "title": "people (symmetric log scale)",
                        "axis": {
                            "orient": "top",
                            "values": _symlog_ticks(lo, hi),
                            # per-label SI format: a shared prefix would print 1k as "0M"
                            "labelExpr": SI_LABEL,
                        },
                    },
                    "x2": {"field": "sim_q95"},
                },
            },
            {
                "mark": {"type": "rule", "color": SIM, "opacity": 0.7, "strokeWidth": 6},
                "encoding": {"x": {"field": "sim_q25", "type": "quantitative"}, "x2": {"field": "sim_q75"}},
            },
            {
                "mark": {"type": "tick", "color": "#1b3a66", "thickness": 2, "size": 14},
                "encoding": {"x": {"field": "sim_median", "type": "quantitative"}},
            },
            {
                "transform": [{"filter": "datum.bound == 'range'"}],
                "mark": {"type": "rule", "color": EVIDENCE, "strokeWidth": 2},
                "encoding": {"x": {"field": "low", "type": "quantitative"}, "x2": {"field": "high"}},
            },
            {
                "mark": {"type": "point", "filled": True, "size": 70, "color": EVIDENCE, "opacity": 1},
                "encoding": {"x": {"field": "value", "type": "quantitative"}, "shape": shape},
            },
        ],
    )


def all_charts(data: ReportData, comparison: pd.DataFrame) -> dict[str, dict]:
    """Id -> spec for every chart of the report (an empty dict where a chart has nothing to show)."""

    def pick(**conditions) -> pd.DataFrame | None:
        if comparison is None or comparison.empty:
            return None
        m = comparison["class"] == LIKE_FOR_LIKE
        for k, v in conditions.items():
            m &= v(comparison[k]) if callable(v) else comparison[k] == v
        return comparison[m]

    departed_obs = pick(kind="cumulative_outflow_total", quantity=lambda s: s.str.startswith("left since"))
    abroad_obs = pick(kind="stock_in_destination", place="ALL")
    dest_obs = pick(kind="stock_in_destination", place=lambda s: s != "ALL")
    return {
        "departed": departed_chart(data, departed_obs),
        "weekly": weekly_chart(data),
        "reasons": reasons_chart(data),
        "reasons-weekly": reasons_weekly_chart(data),
        "modes": modes_chart(data),
        "links": links_chart(data),
        "land": land_chart(data),
        "destinations": destinations_chart(data),
        "destinations-time": destinations_time_chart(data, dest_obs),
        "profile": profile_chart(data),
        "abroad": abroad_chart(data, abroad_obs),
        "timeline": timeline_chart(data),
        "evidence": evidence_chart(comparison, LIKE_FOR_LIKE) if comparison is not None else {},
        "evidence-gross": evidence_chart(comparison, GROSS) if comparison is not None else {},
    }
