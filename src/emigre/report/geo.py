"""The packaged Natural Earth basemap and the flow maps drawn on it (Vega-Lite geoshape, rule and circle
layers). See ``emigre/data/basemap/ATTRIBUTION.md``."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from emigre.report.charts import CONFIG, EVIDENCE, SCHEMA, SI_LABEL, WIDTH, mode_color, records
from emigre.report.data import ReportData
from emigre.scenario.model import HOME

BASEMAP = "data/basemap/ne_110m_countries.geojson"
_ISO_BY_NAME = {"France": "FRA", "Norway": "NOR", "Kosovo": "XKX"}  # Natural Earth's -99 quirk
#: lon/lat window of the regional map: Finland to Kyrgyzstan, the Caucasus, Turkey, Israel and Central Asia
REGION = (20.0, 30.0, 92.0, 68.0)
OCEAN = "#eef3f7"


@lru_cache(maxsize=1)
def basemap() -> tuple[dict, ...]:
    """Country polygons (GeoJSON features; iso_a3 fixed by name where Natural Earth has -99)."""
    text = resources.files("emigre").joinpath(BASEMAP).read_text("utf-8")
    features = []
    for f in json.loads(text)["features"]:
        props = dict(f.get("properties") or {})
        if props.get("iso_a3") in (None, "", "-99"):
            props["iso_a3"] = _ISO_BY_NAME.get(props.get("name", ""), "-99")
        if props["iso_a3"] == "ATA":  # Antarctica: nobody went there, and it eats a sixth of the world map
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {"iso_a3": props["iso_a3"], "name": props.get("name", "")},
                "geometry": f["geometry"],
            }
        )
    return tuple(features)


def _bbox(geometry: dict) -> tuple[float, float, float, float]:
    xs, ys = [], []

    def walk(c):
        if isinstance(c[0], int | float):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for x in c:
                walk(x)

    walk(geometry["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


def _features_in(window: tuple[float, float, float, float], margin: float = 25.0) -> list[dict]:
    x0, y0, x1, y1 = window
    out = []
    for f in basemap():
        a, b, c, d = _bbox(f["geometry"])
        if c >= x0 - margin and a <= x1 + margin and d >= y0 - margin and b <= y1 + margin:
            out.append(f)
    return out


def _map_layers(
    data: ReportData, features: list[dict], *, labels: int, window=None, sphere: bool = True
) -> list[dict]:
    present = (
        {r["country"]: r["present"] for r in records(data.map_places)} if not data.map_places.empty else {}
    )
    fill = [{"iso": k, "kind": "destination"} for k in present] + [{"iso": HOME, "kind": "Russia"}]
    links = data.map_links.sort_values("crossings") if not data.map_links.empty else data.map_links
    places = data.map_places
    if window is not None and not places.empty:
        x0, y0, x1, y1 = window
        places = places[
            (places["lon"] >= x0) & (places["lon"] <= x1) & (places["lat"] >= y0) & (places["lat"] <= y1)
        ]
    top = places.head(labels) if not places.empty else places
    max_cross = float(links["crossings"].max()) if not links.empty else 1.0
    max_present = float(data.map_places["present"].max()) if not data.map_places.empty else 1.0
    layers: list[dict] = (
        [
            {"data": {"sphere": True}, "mark": {"type": "geoshape", "fill": OCEAN, "stroke": None}},
        ]
        if sphere
        else []
    )
    layers += [
        {
            "data": {"values": features},
            "transform": [
                {
                    "lookup": "properties.iso_a3",
                    "from": {"data": {"values": fill}, "key": "iso", "fields": ["kind"]},
                    "default": "other",
                }
            ],
            "mark": {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.6, "clip": True},
            "encoding": {
                "fill": {
                    "field": "kind",
                    "type": "nominal",
                    "legend": None,
                    "scale": {
                        "domain": ["Russia", "destination", "other"],
                        "range": ["#e9d3d0", "#f6ecd2", "#dde2e6"],
                    },
                }
            },
        },
    ]
    if not links.empty:
        layers.append(
            {
                "data": {"values": records(links)},
                "mark": {"type": "rule", "opacity": 0.7, "strokeCap": "round", "clip": True},
                "encoding": {
                    "longitude": {"field": "lon", "type": "quantitative"},
                    "latitude": {"field": "lat", "type": "quantitative"},
                    "longitude2": {"field": "lon2"},
                    "latitude2": {"field": "lat2"},
                    "strokeWidth": {
                        "field": "crossings",
                        "type": "quantitative",
                        "title": "crossings (median)",
                        "scale": {"domain": [0, max_cross], "range": [0.4, 9]},
                        "legend": {"labelExpr": SI_LABEL, "tickCount": 3},
                    },
                    "color": mode_color(links["mode"], title="link mode"),
                },
            }
        )
    if not places.empty:
        layers.append(
            {
                "data": {"values": records(places)},
                "mark": {
                    "type": "circle",
                    "color": EVIDENCE,
                    "opacity": 0.55,
                    "stroke": "#7c2d12",
                    "strokeWidth": 0.8,
                    "clip": True,
                },
                "encoding": {
                    "longitude": {"field": "lon", "type": "quantitative"},
                    "latitude": {"field": "lat", "type": "quantitative"},
                    "size": {
                        "field": "present",
                        "type": "quantitative",
                        "title": f"present on {data.end:%-d %b %Y}",
                        "scale": {"domain": [0, max_present], "range": [0, 1800]},
                        "legend": {"labelExpr": SI_LABEL, "tickCount": 3},
                    },
                },
            }
        )
        layers.append(
            {
                "data": {"values": records(top)},
                "mark": {
                    "type": "text",
                    "fontSize": 10.5,
                    "fontWeight": "bold",
                    "dy": -11,
                    "color": "#212529",
                    "clip": True,
                },
                "encoding": {
                    "longitude": {"field": "lon", "type": "quantitative"},
                    "latitude": {"field": "lat", "type": "quantitative"},
                    "text": {"field": "country"},
                },
            }
        )
    return layers


def world_map(data: ReportData) -> dict:
    """All flows on an Equal Earth world map."""
    if not data.world.place_xy:
        return {}
    return {
        "$schema": SCHEMA,
        "config": {**CONFIG, "legend": {**CONFIG["legend"], "orient": "bottom"}},
        "width": WIDTH,
        "height": 420,
        "projection": {"type": "equalEarth"},  # fitted to the sphere layer: the whole globe
        "layer": _map_layers(data, list(basemap()), labels=12),
        "resolve": {"legend": {"size": "independent", "strokeWidth": "independent"}},
    }


def region_map(data: ReportData) -> dict:
    """The neighbourhood where most land routes run: Finland to Mongolia, the Caucasus, Central Asia."""
    if not data.world.place_xy:
        return {}
    x0, y0, x1, y1 = REGION
    # clockwise ring: d3-geo reads a counter-clockwise one as the whole globe minus the box
    window = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x0, y1], [x1, y1], [x1, y0], [x0, y0]]]},
    }
    return {
        "$schema": SCHEMA,
        "config": {**CONFIG, "view": {"fill": OCEAN, "stroke": "#ced4da"}},
        "width": WIDTH,
        "height": 520,
        "projection": {
            "type": "conicConformal",
            "rotate": [-(x0 + x1) / 2, 0],
            "parallels": [42, 62],
            "fit": window,
        },
        "layer": _map_layers(data, _features_in(REGION), labels=20, window=REGION, sphere=False),
        "resolve": {"legend": {"size": "independent", "strokeWidth": "independent"}},
    }
