"""What the API answers, read through the project's public functions: the ensemble store
(:class:`~emigre.results.ResultStore`), :func:`emigre.estimate.quantities.estimate` (the same JSON as
``emigre estimate --json``), the scenario world (``emigre scenario show|routes --json``) and the evidence.

One :class:`ServeData` per server. DuckDB connections are not meant to be shared by threads, so every store
read holds one lock; answers are cached (the store does not change while the server runs), which is what
keeps many concurrent clients cheap.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import re
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from emigre import __version__
from emigre.errors import EmigreError

SCENARIO = "russia-2022"
#: most answers kept in memory (then the request-made ones are dropped)
MAX_CACHED = 4096
#: identifiers in URLs: letters, digits and the few separators the project's ids use - never a path
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:=\-]{0,79}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
CITATION = (
    "emigre {version}: agent-based reconstruction of emigration from Russia after 24 February 2022 "
    "(scenario {scenario}; model estimate, may be revised). Evidence ids: {ids}"
)


class StoreUnavailableError(EmigreError):
    """The ensemble store is missing or incomplete (HTTP 503: the server is up, its data is not)."""


def check_id(value: str, what: str) -> str:
    """Refuse an identifier of the API that is not letters, digits and ``_ . : = -`` (at most 80)."""
    if not ID_RE.match(value or ""):
        raise EmigreError(f"{what} {value[:40]!r} is not a valid identifier (letters, digits, _ . : = -; "
                          "at most 80 characters)")
    return value


def check_date(value: str | None, what: str) -> str | None:
    """Refuse a date of the API that is not YYYY-MM-DD (None or empty passes as None)."""
    if value is None or value == "":
        return None
    if not DATE_RE.match(value):
        raise EmigreError(f"{what} {value[:40]!r} is not a date: expected YYYY-MM-DD")
    try:
        dt.date.fromisoformat(value if len(value) == 10 else value + "-01")
    except ValueError:
        raise EmigreError(f"{what} {value!r} is not a calendar date") from None
    return value


def _num(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _bands_records(b: pd.DataFrame) -> list[dict]:
    """date, median, q05, q25, q75, q95 rows as JSON records (dates as ISO strings)."""
    out = []
    for row in b.itertuples(index=False):
        out.append({"date": pd.Timestamp(row.date).date().isoformat(),
                    **{k: _num(getattr(row, k)) for k in ("median", "q05", "q25", "q75", "q95")}})
    return out


class ServeData:
    """The data behind every GET endpoint, loaded lazily from ``store_dir``."""

    def __init__(self, store_dir: str | Path, scenario: str = SCENARIO) -> None:
        self.store_dir = Path(store_dir)
        self.scenario = scenario
        self._lock = threading.RLock()
        self._store = None
        self._cache: dict = {}
        self._json: dict = {}

    # ------------------------------------------------------------------ plumbing
    @property
    def store(self):
        """The ensemble store; an :class:`EmigreError` saying how to make it when it is missing or incomplete."""
        with self._lock:
            if self._store is None:
                from emigre.estimate.quantities import open_store

                try:
                    store = open_store(self.store_dir)
                    store.grid()  # reads the shards: a broken store fails here with the store's own message
                except EmigreError as exc:
                    raise StoreUnavailableError(str(exc)) from None
                self._store = store
            return self._store

    def cached(self, key, make):
        """``make()`` once per key; store reads are serialised by the lock."""
        if key in self._cache:
            return self._cache[key]
        with self._lock:
            if key not in self._cache:
                if len(self._cache) >= MAX_CACHED:  # keys come from requests: bound the memory they can take
                    self._cache = {k: v for k, v in self._cache.items()
                                   if k[0] in ("meta", "report", "comparison", "predicted")}
                self._cache[key] = make()
            return self._cache[key]

    def json_bytes(self, key, make) -> bytes:
        """The JSON text of ``make()``, made once per key: a repeated request costs a dictionary lookup."""
        hit = self._json.get(key)
        if hit is None:
            hit = json.dumps(make(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            if len(self._json) >= MAX_CACHED:
                self._json.clear()
            self._json[key] = hit
        return hit

    @functools.cached_property
    def world(self):
        """The store's scenario, loaded once."""
        from emigre.scenario import load_scenario

        return load_scenario(self.scenario)

    @functools.cached_property
    def evidence(self):
        """The packaged evidence, loaded once."""
        from emigre.evidence import load_evidence

        return load_evidence()

    # ------------------------------------------------------------------ meta
    def meta(self) -> dict:
        """What the API serves: quantities, measures, breakdowns, runs and the timeline."""
        def make():
            from emigre.estimate.quantities import QUANTITIES, describe_runs
            from emigre.results.schema import (
                BREAKDOWNS,
                CATEGORY_LABELS,
                COUNTRY_MEASURES,
                FLOW_MEASURES,
                LINK_MEASURES,
                NATIONAL_MEASURES,
            )

            s = self.store
            text, posterior = describe_runs(s)
            cat = s.catalogue()
            countries = sorted(set(cat.loc[cat["measure"] == "present", "place"]))
            names = self.report_data().world.country_names
            measures = {**{m: {"doc": d, "places": "ALL"} for m, d in NATIONAL_MEASURES.items()},
                        **{m: {"doc": d, "places": "country"} for m, d in COUNTRY_MEASURES.items()},
                        **{m: {"doc": d, "places": "link"} for m, d in LINK_MEASURES.items()}}
            for m, d in measures.items():
                d["kind"] = "flow" if m in FLOW_MEASURES else ("mean" if m == "wait_days" else "stock")
            present = set(cat["measure"])
            measures = {m: d for m, d in measures.items() if m in present}
            return {
                "model_version": __version__,
                "scenario": self.scenario,
                "store": str(self.store_dir),
                "runs": len(s.run_ids()),
                "runs_text": text,
                "posterior": posterior,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "countries": [{"iso3": c, "name": names.get(c, c)} for c in countries],
                "quantities": {q.name: {"kind": q.kind, "unit": q.unit, "doc": q.doc, "by": list(q.by),
                                        "destination": q.destination} for q in QUANTITIES.values()},
                "measures": measures,
                "breakdowns": {k: [{"key": c, "label": CATEGORY_LABELS.get(c, c)} for c in v]
                               for k, v in BREAKDOWNS.items()},
                "events": self.events(),
                "timeline": [self._jsonable(t) for t in self.report_data().world.timeline],
                "pushes": [self._jsonable(t) for t in self.report_data().world.pushes],
            }

        return self.cached(("meta",), make)

    @staticmethod
    def _jsonable(d: dict) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in d.items()}

    def events(self) -> list[dict]:
        """Policy and push events with dates, for the timeline (the report's own reading of the scenario)."""
        d = self.report_data()
        out = []
        for w in d.waves:
            out.append({k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in w.items()})
        return out

    def report_data(self):
        """The report's numbers for the store, computed once."""
        def make():
            from emigre.report.data import collect

            return collect(self.store, self.world)

        return self.cached(("report",), make)

    # ------------------------------------------------------------------ estimate and series
    def estimate(self, quantity: str, at=None, date_from=None, date_to=None, destination=None, by=None) -> list:
        """An estimate of a quantity, as ``emigre estimate --json`` gives it."""
        from emigre.estimate.quantities import estimate

        for v, what in ((at, "at"), (date_from, "from"), (date_to, "to")):
            check_date(v, what)
        key = ("estimate", quantity, at, date_from, date_to, destination, by)
        return self.cached(key, lambda: [e.to_dict() for e in estimate(
            quantity, self.store, at=at, date_from=date_from, date_to=date_to, destination=destination, by=by,
            scenario=self.scenario)])

    def series(self, measure: str, place: str = "ALL", group: str = "", step: str = "day") -> dict:
        """A measure's bands over time for a place and group, per day or week."""
        check_id(measure, "measure")
        check_id(place, "place")
        if group:
            check_id(group, "group")

        def make():
            from emigre.results.schema import FLOW_MEASURES

            fill = float("nan") if measure == "wait_days" else 0.0
            flow = measure in FLOW_MEASURES
            rs = self.store.series(measure, place, group, fill=fill)
            if step == "week":  # flows: summed per run over each week; stocks: read on its last day
                rs = rs.weekly("sum" if flow else "last")
            elif step != "day":
                raise EmigreError(f"step {step[:20]!r}: expected day or week")
            b = rs.bands()
            return {"measure": measure, "place": place, "group": group, "step": step,
                    "kind": "flow" if measure in FLOW_MEASURES else "stock",
                    "runs": len(self.store.run_ids()), "unit": "days" if measure == "wait_days" else "persons",
                    "rows": _bands_records(b)}

        return self.cached(("series", measure, place, group, step), make)

    def map(self, date: str | None, date_from: str | None) -> dict:
        """People present per country on ``date`` (median, 50% and 90% bands) and crossings per exit link in
        [date_from, date] with both ends' coordinates (the flow map)."""
        check_date(date, "date")
        check_date(date_from, "from")

        def make():
            s = self.store
            day = pd.Timestamp(date).date() if date else s.end
            first = pd.Timestamp(date_from).date() if date_from else s.start
            if not s.start <= day <= s.end:
                raise EmigreError(f"date {day} is outside the simulated period {s.start} .. {s.end}")
            if first > day:
                raise EmigreError(f"from {first} is after date {day}")
            d = self.report_data()
            countries = []
            for (place, _), series in s.series_many("present").items():
                if place == "ALL":
                    continue
                q = np.quantile(series.at(day), [0.5, 0.05, 0.25, 0.75, 0.95])
                xy = d.world.country_xy.get(place)
                countries.append({"iso3": place, "name": d.world.country_names.get(place, place),
                                  "lon": xy[0] if xy else None, "lat": xy[1] if xy else None,
                                  **dict(zip(("median", "q05", "q25", "q75", "q95"), map(_num, q), strict=True))})
            countries.sort(key=lambda r: -(r["median"] or 0))
            geo = {r.link: r for r in d.map_links.itertuples(index=False)}
            links = []
            for (link, _), series in s.series_many("crossings_out", required=False).items():
                if link not in geo or not d.world.is_exit(link):
                    continue
                q = np.quantile(series.total(first, day), [0.5, 0.05, 0.95])
                g = geo[link]
                ends = d.world.link_countries(link) or ("", "")
                links.append({"link": link, "label": d.world.link_label(link), "mode": g.mode,
                              "to": ends[1], "lon": _num(g.lon), "lat": _num(g.lat), "lon2": _num(g.lon2),
                              "lat2": _num(g.lat2), "median": _num(q[0]), "q05": _num(q[1]), "q95": _num(q[2])})
            links.sort(key=lambda r: -(r["median"] or 0))
            return {"date": day.isoformat(), "from": first.isoformat(), "countries": countries, "links": links}

        return self.cached(("map", date, date_from), make)

    # ------------------------------------------------------------------ evidence
    def comparison(self) -> dict[str, dict]:
        """Observation id -> the report's like-for-like comparison with the model (band, verdict)."""
        def make():
            from emigre.report.evidence import compare

            rows = compare(self.report_data(), self.evidence).rows
            out = {}
            for r in rows.to_dict(orient="records"):
                out[r["id"]] = {"quantity": r["quantity"], "class": r["class"], "verdict": r["verdict"],
                                "note": r["note"], "date_from": r["date_from"].date().isoformat(),
                                "date_to": r["date_to"].date().isoformat(),
                                **{k: _num(r[f"sim_{k}"]) for k in ("median", "q05", "q25", "q75", "q95")
                                   if f"sim_{k}" in r}}
            return out

        return self.cached(("comparison",), make)

    def predicted(self) -> dict[str, dict]:
        """Observation id -> what its source would have counted in the store's runs (the observation operator on
        each run's simulation): median, q05, q25, q75, q95 over the runs, ``runs`` and ``parts`` (each
        ``{part, label, median, q05, q95, share, of_median}``: ``of_median`` split the median and add up to it).
        Empty for a store written without predictions."""
        def make():
            from emigre.report.evidence import predicted_by_figure

            return {oid: {k: (_num(v) if isinstance(v, float) else v) for k, v in b.items() if k != "parts"}
                    | {"parts": [{k: (_num(v) if isinstance(v, float) else v) for k, v in part.items()}
                                 for part in b["parts"]]}
                    for oid, b in predicted_by_figure(self.store).items()}

        return self.cached(("predicted",), make)

    def evidence_rows(self, kind: str | None = None, destination: str | None = None) -> list[dict]:
        """Evidence rows (by kind and destination) with the model's value beside each: ``model`` (the report's
        like-for-like band) and ``predicted`` (what the source would have counted, split into its parts)."""
        rows = self.evidence.filter(kind=kind or None, destination=destination or None)
        comp = self.comparison()
        pred = self.predicted()
        return [o.to_dict() | {"model": comp.get(o.id), "predicted": pred.get(o.id)} for o in rows]

    def evidence_record(self, record_id: str) -> dict:
        """One evidence record as JSON-ready fields; for a figure the store predicts, ``predicted`` with each
        part's definition and the definition of the whole."""
        from emigre.observe import PART_DOCS
        from emigre.report.evidence import PREDICTED_DEFINITION

        check_id(record_id, "evidence id")
        try:
            rec = self.evidence.get(record_id)
        except (KeyError, EmigreError):
            raise LookupError(f"no evidence record {record_id!r}") from None
        pred = self.predicted().get(record_id)
        if pred is not None:
            pred = pred | {"definition": PREDICTED_DEFINITION,
                           "parts": [p | {"doc": PART_DOCS.get(p["part"], "")} for p in pred["parts"]]}
        return {"type": type(rec).__name__, **rec.to_dict(), "model": self.comparison().get(record_id),
                "predicted": pred}

    # ------------------------------------------------------------------ scenario
    def scenario_day(self, name: str, date: str) -> dict:
        """What was open on a day, as ``emigre scenario show --json`` gives it."""
        self._check_scenario(name)
        check_date(date, "date")
        if len(date) != 10:
            raise EmigreError(f"date {date!r}: expected YYYY-MM-DD")
        return self.world.show(date)

    def scenario_routes(self, name: str, origin: str, to: str, date: str, document: str, limit: int = 10) -> dict:
        """Feasible routes on a day, as ``emigre scenario routes --json`` gives them."""
        self._check_scenario(name)
        check_id(origin, "from")
        check_id(to, "to")
        check_date(date, "date")
        found = self.world.routes(origin, to, date, document=document)
        total = len(found.routes)
        found.routes = found.routes[:limit]
        return found.as_json() | {"total_routes": total}

    def _check_scenario(self, name: str) -> None:
        if name != self.scenario:
            raise LookupError(f"unknown scenario {name[:40]!r}; this server serves {self.scenario}")

    # ------------------------------------------------------------------ downloads
    def table(self, what: str, measure: str | None, place: str, group: str) -> tuple[pd.DataFrame, list[str]]:
        """A downloadable table and the evidence ids it relates to."""
        if what == "series":
            if not measure:
                raise EmigreError("series downloads need ?measure=")
            rows = self.series(measure, place, group)["rows"]
            df = pd.DataFrame(rows)
            df.insert(0, "group", group)
            df.insert(0, "place", place)
            df.insert(0, "measure", measure)
            ids = sorted(o.id for o in self.evidence.observations if place in ("ALL", o.destination))
            return df, ids
        if what == "evidence":
            rows = self.evidence_rows()
            flat = []
            for r in rows:
                m = r.pop("model") or {}
                pr = r.pop("predicted") or {}
                flat.append({**{k: (v if not isinstance(v, list | tuple | dict) else str(v)) for k, v in r.items()},
                             **{f"model_{k}": v for k, v in m.items()},
                             **{f"predicted_{k}": pr.get(k) for k in ("median", "q05", "q25", "q75", "q95", "runs")},
                             "predicted_parts": "; ".join(f"{p['part']}={p['of_median']:.6g}"
                                                          for p in pr.get("parts", []) if p["of_median"] is not None)})
            return pd.DataFrame(flat), [r["id"] for r in flat]
        if what == "destinations":
            m = self.map(None, None)
            return pd.DataFrame(m["countries"]), sorted({o.id for o in self.evidence.observations
                                                          if o.destination != "ALL"})
        raise EmigreError(f"unknown table {what!r}; expected series, evidence or destinations")

    def citation(self, ids: list[str]) -> str:
        """How to cite the estimates and the evidence ids used."""
        shown = ", ".join(ids[:60]) + (f" (+{len(ids) - 60} more)" if len(ids) > 60 else "")
        return CITATION.format(version=__version__, scenario=self.scenario, ids=shown or "none") + \
            f"; generated {dt.date.today().isoformat()}"

    def download(self, what: str, fmt: str, measure: str | None, place: str, group: str) -> tuple[bytes, str]:
        """(bytes, media type) of a CSV (citation on the first line, as a # comment) or a Parquet file (citation
        in the schema's metadata)."""
        df, ids = self.table(what, measure, place, group)
        cite = self.citation(ids)
        if fmt == "csv":
            buf = io.StringIO()
            buf.write("# " + cite + "\n")
            df.to_csv(buf, index=False)
            return buf.getvalue().encode("utf-8"), "text/csv; charset=utf-8"
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(df, preserve_index=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"citation": cite.encode(),
                                                   b"evidence_ids": ",".join(ids).encode()})
            buf = io.BytesIO()
            pq.write_table(table, buf)
            return buf.getvalue(), "application/vnd.apache.parquet"
        raise EmigreError(f"unknown format {fmt!r}; expected csv or parquet")

    # ------------------------------------------------------------------ parameters
    def params(self) -> list[dict]:
        """The scenario's parameters with their values and valid ranges."""
        from emigre.serve.jobs import param_range

        out = []
        for p in self.world.params.values():
            lo, hi = param_range(p, self.scenario)
            out.append({"name": p.name, "value": p.value, "unit": p.unit, "doc": p.doc, "min": lo, "max": hi})
        return out


__all__ = ["ServeData", "StoreUnavailableError", "check_date", "check_id"]
