"""Reading a scenario directory into a :class:`~emigre.scenario.world.World`.

Every value is validated where it is read, so a problem names the file, line and column. Problems are
collected (a check lists them all); :func:`load_scenario` raises the first one unless ``strict=False``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from importlib import resources
from pathlib import Path

import yaml

from emigre.errors import EmigreError, InputError
from emigre.fileio import read_csv_rows_numbered, read_text
from emigre.scenario.model import (
    MODES,
    Param,
    Place,
)
from emigre.scenario.ranges import check_value, model_ranges, parse_range, range_from_prior

FILES = (
    "params.yaml",
    "countries.csv",
    "places.csv",
    "origins.csv",
    "links.csv",
    "timeline.csv",
    "entry_rules.csv",
    "push_events.csv",
)

# Source references: evidence ids (bare RS = reasons.csv), routes ids (rail_sea rows prefixed, because their
# RS ids clash with reasons.csv), passport-index snapshots, URLs and parameters.
SOURCE_PATTERNS = {
    "evidence": re.compile(r"^(OBS|EV|RS)\d{3}$"),
    "routes": re.compile(r"^(CR|AR|OR|CO)\d{2,3}$"),
    "rail_sea": re.compile(r"^rail_sea:RS\d{3}$"),
    "passport_index": re.compile(r"^passport_index:(\d{4}-\d{2}-\d{2}|current)$"),
    "url": re.compile(r"^https?://\S+$"),
    "param": re.compile(r"^param:[a-z][a-z0-9_]*$"),
}
_ID = re.compile(r"^[A-Z]{3}(-[A-Z]{3})?:[A-Za-z0-9][A-Za-z0-9.\-]*$")
_ISO3 = re.compile(r"^[A-Z]{3}$")


def packaged_dir(name: str) -> Path:
    """The directory of a scenario packaged under emigre/data."""
    return Path(str(resources.files("emigre") / "data" / name))


def resolve_dir(name_or_path: str | Path) -> Path:
    """A packaged scenario name (``russia-2022``) or a directory holding the scenario files."""
    p = Path(name_or_path)
    if p.is_dir():
        return p
    if isinstance(name_or_path, str) and "/" not in name_or_path and packaged_dir(name_or_path).is_dir():
        return packaged_dir(name_or_path)
    known = sorted(d.name for d in packaged_dir("").iterdir() if (d / "params.yaml").exists())
    raise EmigreError(
        f"unknown scenario {str(name_or_path)!r}: not a packaged scenario ({', '.join(known) or 'none'}) "
        "nor a directory"
    )


def split_sources(text: str) -> list[str]:
    """The sources of a ``;``-separated source field."""
    return [t.strip() for t in text.split(";") if t.strip()]


def source_kind(token: str) -> str | None:
    """The kind of a source reference (evidence id, route table id, URL, ...), or None."""
    for kind, pat in SOURCE_PATTERNS.items():
        if pat.match(token):
            return kind
    return None


class Problems:
    """Collects input problems as :class:`InputError` objects."""

    def __init__(self) -> None:
        self.items: list[InputError] = []

    def add(
        self,
        file: Path,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
        expected: str | None = None,
        got: object = None,
    ) -> None:
        """Note a problem with its file, line, column and what was expected."""
        self.items.append(InputError(file, message, line=line, column=column, expected=expected, got=got))


class _Table:
    """One CSV file: header check, then rows as dicts with their line numbers."""

    def __init__(self, path: Path, required: tuple[str, ...], problems: Problems) -> None:
        self.path = path
        self.rows: list[tuple[int, dict[str, str]]] = []
        numbered = read_csv_rows_numbered(path, what=path.name)
        header_line, header = numbered[0]
        missing = [c for c in required if c not in header]
        if missing:
            raise InputError(
                path,
                f"missing column(s) {', '.join(missing)}",
                line=header_line,
                expected=", ".join(required),
                got=",".join(header),
            )
        for line, row in numbered[1:]:
            if len(row) > len(header):
                problems.add(
                    path,
                    f"row has {len(row)} fields but the header has {len(header)}",
                    line=line,
                    expected=f"{len(header)} fields",
                )
                continue
            row = row + [""] * (len(header) - len(row))
            self.rows.append((line, dict(zip(header, row, strict=True))))


class _Reader:
    """Field parsers that report problems with file/line/column and return ``None`` on failure."""

    def __init__(self, problems: Problems, params: dict[str, Param]) -> None:
        self.p = problems
        self.params = params

    def unknown_param(self, t: _Table, line: int, col: str, got: str) -> None:
        """Note a cell naming a parameter that params.yaml does not define."""
        self.p.add(
            t.path,
            f"unknown parameter in {col}",
            line=line,
            column=col,
            expected="a parameter of params.yaml",
            got=got,
        )

    def text(self, t: _Table, line: int, row: dict, col: str, *, required: bool = True) -> str | None:
        v = row.get(col, "")
        if required and not v:
            self.p.add(t.path, f"empty {col}", line=line, column=col, expected="a value")
            return None
        return v

    def choice(self, t: _Table, line: int, row: dict, col: str, options: tuple[str, ...]) -> str | None:
        v = row.get(col, "")
        if v not in options:
            self.p.add(t.path, f"invalid {col}", line=line, column=col, expected=" | ".join(options), got=v)
            return None
        return v

    def date(
        self, t: _Table, line: int, row: dict, col: str, *, required: bool = False
    ) -> dt.date | None | bool:
        """A date, ``None`` when blank and allowed, ``False`` after a reported problem."""
        v = row.get(col, "")
        if not v:
            if required:
                self.p.add(t.path, f"empty {col}", line=line, column=col, expected="a date YYYY-MM-DD")
                return False
            return None
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
                raise ValueError
            return dt.date.fromisoformat(v)
        except ValueError:
            self.p.add(
                t.path,
                f"invalid date in {col}",
                line=line,
                column=col,
                expected="a real calendar date YYYY-MM-DD",
                got=v,
            )
            return False

    def number(
        self,
        t: _Table,
        line: int,
        row: dict,
        col: str,
        *,
        minimum: float | None = 0.0,
        integer: bool = False,
        allow_param: bool = False,
    ) -> float | None | bool:
        v = row.get(col, "")
        if not v:
            return None
        if allow_param and v.startswith("param:"):
            name = v[6:]
            if name not in self.params:
                self.unknown_param(t, line, col, v)
                return False
            return self.params[name].value
        try:
            x = float(v)
            if not math.isfinite(x) or (integer and x != int(x)):
                raise ValueError
        except ValueError:
            self.p.add(
                t.path,
                f"invalid number in {col}",
                line=line,
                column=col,
                expected="an integer" if integer else "a finite number",
                got=v,
            )
            return False
        if minimum is not None and x < minimum:
            self.p.add(
                t.path, f"{col} below {minimum:g}", line=line, column=col, expected=f">= {minimum:g}", got=v
            )
            return False
        return x

    def source(self, t: _Table, line: int, row: dict, col: str = "source") -> str | None:
        v = row.get(col, "")
        if not v:
            self.p.add(
                t.path,
                f"missing {col}",
                line=line,
                column=col,
                expected="an evidence/routes row id, a URL or param:NAME",
            )
            return None
        for tok in split_sources(v):
            kind = source_kind(tok)
            if kind is None:
                self.p.add(
                    t.path,
                    f"unrecognised source reference {tok!r}",
                    line=line,
                    column=col,
                    expected="OBSnnn/EVnnn/RSnnn, CRnnn/ARnnn/ORnn/COnnn, rail_sea:RSnnn, "
                    "passport_index:DATE, a URL or param:NAME",
                    got=tok,
                )
            elif kind == "param" and tok[6:] not in self.params:
                self.p.add(
                    t.path,
                    f"unknown parameter {tok!r}",
                    line=line,
                    column=col,
                    expected="a parameter defined in params.yaml",
                    got=tok,
                )
        return v

    def period(self, t: _Table, line: int, start, end, col_end: str) -> bool:
        if start and end and end < start:
            self.p.add(
                t.path,
                f"{col_end} before the start date",
                line=line,
                column=col_end,
                expected=f">= {start.isoformat()}",
                got=end.isoformat(),
            )
            return False
        return True


def _haversine_km(a: Place, b: Place) -> float:
    r = 6371.0088
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(h)))


def _load_params(path: Path, problems: Problems) -> tuple[dict, dict[str, Param]]:
    text = read_text(path, what="params.yaml")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            path,
            f"malformed YAML: {getattr(exc, 'problem', exc)}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("params"), dict)
        or not isinstance(doc.get("scenario"), dict)
    ):
        raise InputError(path, "expected a mapping with 'scenario' and 'params' sections")
    lines = {
        m.group(1): i + 1
        for i, ln in enumerate(text.splitlines())
        if (m := re.match(r"^  ([a-z][a-z0-9_]*):", ln))
    }
    params: dict[str, Param] = {}
    for name, spec in doc["params"].items():
        line = lines.get(str(name))
        if not isinstance(spec, dict):
            problems.add(
                path, f"parameter {name!r} must be a mapping", line=line, expected="value, prior, doc"
            )
            continue
        missing = [k for k in ("value", "prior", "doc") if k not in spec]
        if missing:
            problems.add(
                path,
                f"parameter {name!r} lacks {', '.join(missing)}",
                line=line,
                column=missing[0],
                expected="value, prior and doc",
            )
            continue
        value = spec["value"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems.add(
                path,
                f"parameter {name!r} value is not a number",
                line=line,
                column="value",
                expected="a finite number",
                got=value,
            )
            continue
        prior = spec["prior"]
        if not isinstance(prior, dict) or prior.get("dist") not in (
            "fixed",
            "uniform",
            "normal",
            "lognormal",
            "beta",
        ):
            problems.add(
                path,
                f"parameter {name!r} has an invalid prior",
                line=line,
                column="prior",
                expected="{dist: fixed|uniform|normal|lognormal|beta, ...}",
                got=prior,
            )
            continue
        declared = spec.get("range")
        if declared is not None and parse_range(declared) is None:
            problems.add(path, f"parameter {name!r} has an invalid range", line=line, column="range",
                         expected="[low, high] with finite low <= high", got=declared)
            continue
        low, high = parse_range(declared) or range_from_prior(prior, float(value), str(spec.get("unit", "")))
        if not low <= value <= high:
            problems.add(path, f"parameter {name!r} value is outside its range [{low:g}, {high:g}]", line=line,
                         column="value", expected=f"a number in [{low:g}, {high:g}]", got=value)
            continue
        params[str(name)] = Param(
            name=str(name),
            value=float(value),
            prior=prior,
            unit=str(spec.get("unit", "")),
            doc=str(spec["doc"]),
        )
    return doc["scenario"], params


def _load_params_cached(path: Path, problems: Problems, cache: dict | None) -> tuple[dict, dict[str, Param]]:
    """:func:`_load_params` through ``cache`` (keyed on the file's path, size and mtime; a file with problems is
    not kept): a calibration parses an unchanged params.yaml once per process, not once per draw."""
    if cache is None:
        return _load_params(path, problems)
    st = Path(path).stat()
    k = (str(path), st.st_size, st.st_mtime_ns)
    got = cache.get(k)
    if got is None:
        got = _load_params(path, problems)
        if problems.items:
            return got
        cache[k] = got
    return dict(got[0]), dict(got[1])


class _ParamView:
    """The parameters as a section reads them, recording the value of every parameter it resolved (``used``):
    a section's rows are a function of its file, the sections it builds on and those values alone."""

    def __init__(self, params: dict[str, Param]) -> None:
        self._params = params
        self.used: dict[str, float] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._params

    def __getitem__(self, name: str) -> Param:
        p = self._params[name]
        self.used[name] = p.value
        return p


#: parsed sections kept per (section, file, inputs): a few sets of the parameter values they resolved each
_SECTION_ENTRIES = 4


def _section(cache: dict | None, name: str, path: Path, inputs: tuple, params: dict[str, Param],
             problems: Problems, build):
    """``build(view)`` for one section (``view``: a :class:`_ParamView` of ``params``), reused from ``cache``
    when the file and params.yaml (path, size, mtime), the upstream sections (the same objects) and the values
    of the parameters it resolved last time are unchanged. A section that noted a problem is never kept, so every
    load with problems reports them anew. The records are frozen models and nothing in emigre changes a world's
    dicts or lists after loading (a cached section is shared by the worlds of later loads)."""
    if cache is None:
        return build(_ParamView(params))
    st, pst = path.stat(), (path.parent / "params.yaml").stat()  # the parameters a row may name: params.yaml
    key = ("section", name, str(path), st.st_size, st.st_mtime_ns, pst.st_size, pst.st_mtime_ns)
    entries = cache.setdefault(key, [])
    for ins, used, value in entries:
        if len(ins) == len(inputs) and all(a is b for a, b in zip(ins, inputs, strict=True)) and all(
            n in params and params[n].value == v for n, v in used.items()
        ):
            return value
    view = _ParamView(params)
    before = len(problems.items)
    value = build(view)
    if len(problems.items) == before:
        entries.append((inputs, view.used, value))
        del entries[:-_SECTION_ENTRIES]
    return value


def load_dir(
    directory: Path, problems: Problems, overrides: dict[str, float] | None = None, params_cache: dict | None = None
):
    """Parse every file of ``directory``; referential problems are added to ``problems``.

    ``overrides`` replace parameter values before any row that cites ``param:NAME`` is resolved, so a
    what-if (``--param NAME=VALUE``) reaches timeline factors and stay limits as well as the behaviour.
    ``params_cache`` (a dict the caller keeps) reuses the parsed params.yaml between loads, and each parsed
    CSV section whose file, upstream sections and resolved parameter values are unchanged (no CSV of the
    packaged scenario cites a calibrated parameter, so a calibration's draws re-read none)."""
    from emigre.scenario.sections import (
        read_countries,
        read_entry_rules,
        read_links,
        read_origins,
        read_places,
        read_push_events,
        read_timeline,
    )
    from emigre.scenario.world import World

    for f in FILES:
        if not (directory / f).exists():
            raise InputError(
                directory / f, "scenario file not found", expected=f"the files {', '.join(FILES)}"
            )
    scenario, params = _load_params_cached(directory / "params.yaml", problems, params_cache)
    for name, value in (overrides or {}).items():
        if name not in params:
            close = difflib.get_close_matches(name, list(params), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise EmigreError(f"unknown parameter {name!r} for scenario {directory.name}{hint}")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise EmigreError(f"parameter {name} must be a number, got {value!r}") from None
        if not math.isfinite(v):
            raise EmigreError(f"parameter {name} must be a finite number, got {value!r}")
        check_value(name, v, model_ranges(directory)[name])  # the valid range params.yaml declares
        params[name] = params[name].model_copy(update={"value": v})
    start = end = None
    for key in ("start", "end"):
        v = scenario.get(key)
        if not isinstance(v, dt.date):
            problems.add(
                directory / "params.yaml",
                f"scenario {key} is not a date",
                column=key,
                expected="YYYY-MM-DD",
                got=v,
            )
    start, end = scenario.get("start"), scenario.get("end")

    def section(name: str, file: str, inputs: tuple, read):
        return _section(params_cache, name, directory / file, inputs, params, problems,
                        lambda view: read(view, _Reader(problems, view)))

    countries = section("countries", "countries.csv", (), lambda pv, rd: read_countries(directory, problems, rd))
    places = section("places", "places.csv", (countries,),
                     lambda pv, rd: read_places(directory, problems, rd, countries))
    origins = section("origins", "origins.csv", (places,),
                      lambda pv, rd: read_origins(directory, problems, rd, places))
    links = section("links", "links.csv", (places,),
                    lambda pv, rd: read_links(directory, problems, pv, rd, places))
    timeline = section("timeline", "timeline.csv", (countries, places, links),
                       lambda pv, rd: read_timeline(directory, problems, rd, countries, places, links))
    rules = section("rules", "entry_rules.csv", (countries,),
                    lambda pv, rd: read_entry_rules(directory, problems, rd, countries))
    pushes = section("pushes", "push_events.csv", (), lambda pv, rd: read_push_events(directory, problems, pv, rd))

    return World(
        directory=directory,
        scenario=scenario,
        start=start,
        end=end,
        params=params,
        countries=countries,
        places=places,
        origins=origins,
        links=links,
        timeline=timeline,
        rules=rules,
        pushes=pushes,
        load_problems=list(problems.items),
    )


def _select(selector: str, links, places, countries, groups, path: Path, line: int, problems: Problems):
    """Link ids matched by ``key=v1|v2;key=...`` (keys: id, mode, from, to, place), or ``None`` if invalid."""
    if not selector:
        problems.add(
            path, "empty link selector", line=line, column="links", expected="e.g. mode=air;from=RUS;to=GEO"
        )
        return None
    terms: dict[str, set[str]] = {}
    for term in selector.split(";"):
        key, _, vals = term.partition("=")
        key, values = key.strip(), {v.strip() for v in vals.split("|") if v.strip()}
        if key not in ("id", "mode", "from", "to", "place") or not values:
            problems.add(
                path,
                f"invalid selector term {term!r}",
                line=line,
                column="links",
                expected="id=|mode=|from=|to=|place= with values separated by |",
                got=term,
            )
            return None
        if key in ("from", "to"):
            expanded = set()
            for v in values:
                if v in groups:
                    expanded |= groups[v]
                elif v in countries:
                    expanded.add(v)
                else:
                    problems.add(
                        path,
                        f"unknown country {v!r} in selector",
                        line=line,
                        column="links",
                        expected="a country of countries.csv or @EU/@SCHENGEN",
                        got=v,
                    )
                    return None
            values = expanded
        known = {"id": links, "place": places, "mode": MODES}.get(key)
        if known is not None:
            bad = sorted(v for v in values if v not in known)
            if bad:
                problems.add(
                    path, f"unknown {key} {bad[0]!r} in selector", line=line, column="links", got=bad[0]
                )
                return None
        terms[key] = values
    out = []
    for link in links.values():
        if "id" in terms and link.id not in terms["id"]:
            continue
        if "mode" in terms and link.mode not in terms["mode"]:
            continue
        if "from" in terms and link.from_country not in terms["from"]:
            continue
        if "to" in terms and link.to_country not in terms["to"]:
            continue
        if "place" in terms and not ({link.from_place, link.to_place} & terms["place"]):
            continue
        out.append(link.id)
    if not out:
        problems.add(path, "selector matches no link", line=line, column="links", got=selector)
        return None
    return out


def load_scenario(
    name: str | Path = "russia-2022",
    *,
    strict: bool = True,
    params: dict[str, float] | None = None,
    params_cache: dict | None = None,
):
    """Load a packaged scenario by name or a scenario directory; ``params`` override parameter values
    (``params_cache``: see :func:`load_dir`).

    With ``strict`` (the default) the first problem is raised as an :class:`InputError`; otherwise the world
    is built from the valid rows and the problems are reported by :meth:`World.check`.
    """
    directory = resolve_dir(name)
    problems = Problems()
    world = load_dir(directory, problems, params, params_cache)
    if strict and problems.items:
        first = problems.items[0]
        if len(problems.items) > 1:
            first.args = (
                f"{first.args[0]} (and {len(problems.items) - 1} more problem(s); "
                f"run `emigre scenario check {directory}`)",
            )
        raise first
    return world
