"""The world of a scenario and the questions asked of it: what was open on a day, who was admitted,
which routes were feasible, and the same compiled to day-indexed arrays for the simulator."""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from emigre.errors import EmigreError
from emigre.scenario.hops import adjacency, comes_back, enters
from emigre.scenario.load import packaged_dir, source_kind, split_sources
from emigre.scenario.model import (
    DOCUMENTS,
    HOME,
    MODES,
    RULES,
    Country,
    EntryRule,
    Link,
    LinkStatus,
    Origin,
    Param,
    Place,
    PushEvent,
    TimelineEntry,
)


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise EmigreError(f"invalid date {value!r}: expected YYYY-MM-DD") from None


def _unknown(what: str, name: str, options: list[str]) -> EmigreError:
    close = difflib.get_close_matches(name, options, n=3, cutoff=0.5)
    if not close:  # case-insensitive substring matches help with ids like RUS:Moscow-SVO
        low = name.lower()
        close = [o for o in options if low and low in o.lower()][:3]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return EmigreError(f"unknown {what} {name!r}{hint}")


@dataclass
class Problem:
    """One problem ``emigre scenario check`` found, with file, line and column."""

    file: str
    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = (
            self.file
            + (f", line {self.line}" if self.line else "")
            + (f", column {self.column}" if self.column else "")
        )
        return f"{where}: {self.message}"


@dataclass
class CheckReport:
    """What ``emigre scenario check`` found: counts, problems and warnings."""

    counts: dict[str, int]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problems found."""
        return not self.problems

    def __str__(self) -> str:
        head = ", ".join(f"{v} {k}" for k, v in self.counts.items())
        lines = [f"{'OK' if self.ok else 'FAILED'}: {head}"]
        lines += [f"  problem: {p}" for p in self.problems]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class Route:
    """A feasible route on a day: places, links, modes, time, distance, countries entered, sources."""

    places: list[str]
    links: list[str]
    modes: list[str]
    hours: float
    distance_km: float
    countries: list[str]  # countries entered, in order; the last is the destination
    sources: list[str]

    @property
    def hops(self) -> int:
        """Number of links."""
        return len(self.links)

    def describe(self) -> str:
        """The route as one line: places joined by modes, hops and hours."""
        parts = [self.places[0]]
        for mode, place in zip(self.modes, self.places[1:], strict=True):
            parts.append(f"-{mode}-> {place}")
        return " ".join(parts) + f"  ({self.hops} hops, {self.hours:.1f} h)"

    def as_json(self) -> dict:
        """The route as JSON-ready fields."""
        return {
            "places": self.places,
            "links": self.links,
            "modes": self.modes,
            "hops": self.hops,
            "travel_hours": round(self.hours, 2),
            "distance_km": round(self.distance_km, 1),
            "countries": self.countries,
            "sources": self.sources,
        }


@dataclass
class RouteSearch:
    """Feasible routes on one day, or the reasons why there are none."""

    origin: str
    destination: str
    date: dt.date
    document: str
    routes: list[Route]
    reasons: list[str]

    def __bool__(self) -> bool:
        return bool(self.routes)

    def __len__(self) -> int:
        return len(self.routes)

    @property
    def reason(self) -> str:
        """The reasons as one line."""
        return "; ".join(self.reasons)

    def as_json(self) -> dict:
        """The search as JSON-ready fields."""
        return {
            "from": self.origin,
            "to": self.destination,
            "date": self.date.isoformat(),
            "document": self.document,
            "routes": [r.as_json() for r in self.routes],
            "reasons": [] if self.routes else self.reasons,
        }


@dataclass
class CompiledWorld:
    """The world as arrays for the engine: index tables plus day x link and day x country x document arrays.

    Day ``d`` is ``start + d``. ``entry_rule`` holds indices into ``rules`` (-1 = no rule known),
    ``entry_max_stay`` -1 where no fixed limit is known, ``entry_modes`` a bitmask over ``modes``
    (bit i = modes[i] accepted). ``link_open`` is False when a link is closed or restricted (exit on special
    grounds only: ``link_restricted``), ``link_capacity`` NaN where unknown.
    """

    start: dt.date
    end: dt.date
    dates: np.ndarray
    place_ids: list[str]
    place_country: np.ndarray
    place_kind: list[str]
    place_lat: np.ndarray
    place_lon: np.ndarray
    place_population: np.ndarray
    link_ids: list[str]
    link_from: np.ndarray
    link_to: np.ndarray
    link_mode: np.ndarray
    link_distance_km: np.ndarray
    link_hours: np.ndarray
    link_capacity: np.ndarray
    link_international: np.ndarray
    link_open: np.ndarray
    link_restricted: np.ndarray
    link_capacity_factor: np.ndarray
    countries: list[str]
    documents: tuple[str, ...]
    rules: tuple[str, ...]
    modes: tuple[str, ...]
    entry_rule: np.ndarray
    entry_admitted: np.ndarray
    entry_max_stay: np.ndarray
    entry_modes: np.ndarray
    push_ids: list[str]
    push_active: np.ndarray
    origin_place: np.ndarray
    origin_weight: np.ndarray

    @property
    def n_days(self) -> int:
        """Number of compiled days."""
        return len(self.dates)

    @cached_property
    def link_exit(self) -> np.ndarray:
        """Per link: an exit link (the one definition) - one end in Russia, the other abroad. The scenario
        stores exit links from Russia; one stored the other way round is an exit link too."""
        rus = self.countries.index(HOME)
        fc, tc = self.place_country[self.link_from], self.place_country[self.link_to]
        return (fc == rus) != (tc == rus)

    @cached_property
    def exit_country(self) -> np.ndarray:
        """Per link: the index of the country at the far (foreign) end of an exit link, -1 for other links."""
        rus = self.countries.index(HOME)
        fc, tc = self.place_country[self.link_from], self.place_country[self.link_to]
        return np.where(self.link_exit, np.where(fc == rus, tc, fc), -1).astype(np.int64)

    def exit_links(self) -> list[tuple[str, str]]:
        """(link id, ISO3 of the far end) of every exit link, in link order."""
        return [(self.link_ids[k], self.countries[c]) for k, c in enumerate(self.exit_country) if c >= 0]

    def day(self, when: dt.date | str) -> int:
        """The index of a date in the compiled period (an error outside it)."""
        d = (_as_date(when) - self.start).days
        if not 0 <= d < self.n_days:
            raise EmigreError(f"date {when} outside the compiled period {self.start}..{self.end}")
        return d


class World:
    """A loaded scenario. Build it with :func:`emigre.scenario.load_scenario`."""

    def __init__(
        self,
        *,
        directory: Path,
        scenario: dict,
        start,
        end,
        params: dict[str, Param],
        countries: dict[str, Country],
        places: dict[str, Place],
        origins: dict[str, Origin],
        links: dict[str, Link],
        timeline: list[TimelineEntry],
        rules: list[EntryRule],
        pushes: list[PushEvent],
        load_problems: list,
    ) -> None:
        self.directory = directory
        self.name = str(scenario.get("name", directory.name))
        self.description = str(scenario.get("description", ""))
        self.start: dt.date | None = start if isinstance(start, dt.date) else None
        self.end: dt.date | None = end if isinstance(end, dt.date) else None
        self.params = params
        self.countries = countries
        self.places = places
        self.origins = origins
        self.links = links
        self.timeline = timeline
        self.rules = rules
        self.pushes = pushes
        self.load_problems = load_problems
        self._by_link: dict[str, list[TimelineEntry]] = defaultdict(list)
        for e in timeline:
            for lid in e.link_ids:
                self._by_link[lid].append(e)
        self._rules: dict[tuple[str, str], list[EntryRule]] = defaultdict(list)
        for r in rules:
            self._rules[(r.country, r.document)].append(r)
        self._link_list = list(links.values())
        self._adjacent = adjacency((lk.from_place, lk.to_place) for lk in self._link_list)

    def __repr__(self) -> str:
        return (
            f"World({self.name!r}: {len(self.places)} places, {len(self.links)} links, {len(self.rules)} entry "
            f"rules, {len(self.timeline)} timeline entries)"
        )

    # ------------------------------------------------------------------ lookups
    def country(self, code: str) -> Country:
        """A country by ISO3 code or name (an error naming close matches if unknown)."""
        c = code.strip()
        if c.upper() in self.countries:
            return self.countries[c.upper()]
        by_name = {x.name.lower(): x for x in self.countries.values()}
        if c.lower() in by_name:
            return by_name[c.lower()]
        raise _unknown("country", code, list(self.countries) + [x.name for x in self.countries.values()])

    def place(self, name: str) -> Place:
        """A place by id or name (an error if unknown or ambiguous)."""
        if name in self.places:
            return self.places[name]
        low = name.lower()
        hits = [p for p in self.places.values() if p.id.lower() == low or p.name.lower() == low]
        if not hits:  # "Moscow" -> RUS:Moscow rather than its airports
            hits = [p for p in self.places.values() if p.id.split(":", 1)[1].lower() == low]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise EmigreError(f"ambiguous place {name!r}: {', '.join(p.id for p in hits)}")
        raise _unknown("place", name, list(self.places))

    def link(self, link: str | Link) -> Link:
        """A link by id (an error naming close matches if unknown)."""
        if isinstance(link, Link):
            return link
        if link in self.links:
            return self.links[link]
        raise _unknown("link", link, list(self.links))

    def find_links(
        self,
        *,
        from_country: str | None = None,
        to_country: str | None = None,
        mode: str | None = None,
        place: str | None = None,
    ) -> list[Link]:
        """Links between two countries (either direction), by mode, or touching a place."""
        out = []
        for link in self.links.values():
            ends = {link.from_country, link.to_country}
            if from_country and from_country not in ends:
                continue
            if to_country and (to_country not in ends or (from_country == to_country and link.international)):
                continue
            if (
                from_country
                and to_country
                and from_country != to_country
                and ends != {from_country, to_country}
            ):
                continue
            if mode and link.mode != mode:
                continue
            if place and place not in (link.from_place, link.to_place):
                continue
            out.append(link)
        return out

    @staticmethod
    def _document(document: str) -> str:
        if document not in DOCUMENTS:
            raise _unknown("document", document, list(DOCUMENTS))
        return document

    # ------------------------------------------------------------------ status on a day
    def link_status(self, link: str | Link, when: dt.date | str) -> LinkStatus:
        """A link's state on a day from the timeline, with the entries and sources that set it."""
        lk, day = self.link(link), _as_date(when)
        state, factor, ids, sources = "open", 1.0, [], []
        for e in self._by_link.get(lk.id, ()):
            if not e.active(day):
                continue
            ids.append(e.id)
            sources += split_sources(e.source)
            if e.effect == "closed":
                state = "closed"
            elif e.effect == "restricted" and state == "open":
                state = "restricted"
            elif e.effect == "capacity":
                factor *= e.value or 0.0
        return LinkStatus(
            link=lk.id,
            date=day,
            state=state,
            capacity_factor=factor,
            entries=tuple(ids),
            sources=tuple(dict.fromkeys(sources)),
        )

    def link_open(self, link: str | Link, when: dt.date | str) -> bool:
        """Open for an ordinary traveller (a link restricted to special grounds counts as not open)."""
        return self.link_status(link, when).open

    def entry_rule(self, country: str, document: str, when: dt.date | str) -> EntryRule | None:
        """The rule for a Russian citizen holding ``document`` entering ``country`` on a day (None if unknown)."""
        c, doc, day = self.country(country).iso3, self._document(document), _as_date(when)
        if c == HOME:
            raise EmigreError(f"{c} is the home country: entry rules are for destinations")
        for r in self._rules.get((c, doc), ()):
            if r.active(day):
                return r
        return None

    def admitted(self, country: str, document: str, when: dt.date | str, mode: str | None = None) -> bool:
        """Whether ``country`` admits holders of ``document`` on a day (by ``mode``, if given)."""
        r = self.entry_rule(country, document, when)
        return bool(r and r.admitted and (not r.modes or mode is None or mode in r.modes))

    def show(self, when: dt.date | str, *, international_only: bool = True) -> dict:
        """What was open on a day: ``{"date", "links": [{from,to,mode,open}], "entry": [{country,...}]}``."""
        day = _as_date(when)
        links = [
            {"from": lk.from_place, "to": lk.to_place, "mode": lk.mode, "open": self.link_open(lk, day)}
            for lk in self.links.values()
            if lk.international or not international_only
        ]
        entry = []
        for c in self.countries:
            if c == HOME:
                continue
            for doc in DOCUMENTS:
                r = self.entry_rule(c, doc, day)
                if r is not None:
                    entry.append(r.as_json())
        return {"date": day.isoformat(), "links": links, "entry": entry}

    # ------------------------------------------------------------------ routes
    def routes(
        self,
        from_place: str,
        to_iso3: str,
        when: dt.date | str,
        document: str = "foreign_passport",
        max_hops: int = 4,
        limit: int | None = None,
    ) -> RouteSearch:
        """Feasible routes on one day from a place to a country.

        A route is a simple path of links, all open that day (so exit rules allow leaving Russia on it), that
        never re-enters Russia, in which every country entered admits ``document`` by that mode, and which ends
        on entering the destination. All legs are taken as on the same day (the world has no timetables).
        """
        start, dest = self.place(from_place), self.country(to_iso3).iso3
        day, doc = _as_date(when), self._document(document)
        if max_hops < 1:
            raise EmigreError("max_hops must be at least 1")
        if start.country == dest:
            raise EmigreError(f"{start.id} is already in {dest}")
        found: list[Route] = []
        blockers: Counter[str] = Counter()
        status_cache: dict[str, LinkStatus] = {}

        def status(lk: Link) -> LinkStatus:
            if lk.id not in status_cache:
                status_cache[lk.id] = self.link_status(lk, day)
            return status_cache[lk.id]

        def walk(place: Place, path: list[tuple[Link, Place]], visited: set[str], entered: list[str]) -> None:
            for k, other in self._adjacent[place.id]:
                lk, nxt = self._link_list[k], self.places[other]
                if nxt.id in visited:
                    continue
                if comes_back(place.country, nxt.country, HOME):
                    continue
                last = len(path) + 1 == max_hops
                if last and nxt.country != dest:
                    continue
                st = status(lk)
                if not st.open:
                    what = "exit on special grounds only" if st.state == "restricted" else "closed"
                    blockers[f"{lk.id} {what} ({', '.join(st.sources)})"] += 1
                    continue
                new_entered = entered
                if enters(place.country, nxt.country, HOME):
                    rule = self.entry_rule(nxt.country, doc, day)
                    if rule is None:
                        blockers[f"no entry rule known for {nxt.country}"] += 1
                        continue
                    if not rule.admitted:
                        blockers[
                            f"{nxt.country} does not admit {doc} holders: {rule.rule} ({rule.source})"
                        ] += 1
                        continue
                    if rule.modes and lk.mode not in rule.modes:
                        blockers[
                            f"{nxt.country} admits {doc} holders only by {'/'.join(rule.modes)} "
                            f"({rule.source})"
                        ] += 1
                        continue
                    new_entered = entered + [nxt.country]
                step = path + [(lk, nxt)]
                if nxt.country == dest:
                    found.append(self._route(start, step, new_entered, doc, day))
                elif not last:
                    walk(nxt, step, visited | {nxt.id}, new_entered)

        walk(start, [], {start.id}, [])
        unique = {tuple(r.links): r for r in found}
        ranked = sorted(unique.values(), key=lambda r: (r.hours, r.hops, r.links))
        if limit is not None:
            ranked = ranked[:limit]
        reasons: list[str] = []
        if not ranked:
            rule = self.entry_rule(dest, doc, day)
            if rule is None:
                reasons.append(f"no entry rule known for {dest} on {day}")
            elif not rule.admitted:
                reasons.append(
                    f"{dest} does not admit {doc} holders on {day}: rule {rule.rule} ({rule.source})"
                )
            reasons += [b for b, _ in blockers.most_common(8) if not b.startswith(f"{dest} does not admit")]
            if not reasons:
                reasons.append(f"no chain of at most {max_hops} links reaches {dest} from {start.id}")
        return RouteSearch(
            origin=start.id, destination=dest, date=day, document=doc, routes=ranked, reasons=reasons
        )

    def _route(
        self, start: Place, step: list[tuple[Link, Place]], entered: list[str], doc: str, day: dt.date
    ) -> Route:
        sources: list[str] = []
        for lk, _ in step:
            sources += split_sources(lk.source) + list(self.link_status(lk, day).sources)
        for c in entered:
            rule = self.entry_rule(c, doc, day)
            if rule is not None:
                sources += split_sources(rule.source)
        return Route(
            places=[start.id] + [p.id for _, p in step],
            links=[lk.id for lk, _ in step],
            modes=[lk.mode for lk, _ in step],
            hours=sum(lk.travel_hours for lk, _ in step),
            distance_km=sum(lk.distance_km for lk, _ in step),
            countries=entered,
            sources=list(dict.fromkeys(sources)),
        )

    # ------------------------------------------------------------------ origins
    def origin_weights(self, params: dict[str, float] | None = None) -> dict[str, float]:
        """Share of emigrants by origin place: fixed shares for Moscow and St Petersburg, the rest of the
        million-plus share and the remainder split by population within their groups (README)."""
        pv = {k: v.value for k, v in self.params.items()} | (params or {})
        shares = {
            "moscow": pv["origin_share_moscow"],
            "spb": pv["origin_share_spb"],
            "millionplus": pv["origin_share_millionplus"]
            - pv["origin_share_moscow"]
            - pv["origin_share_spb"],
            "other": 1.0 - pv["origin_share_millionplus"],
        }
        if min(shares.values()) < 0:
            raise EmigreError(f"origin shares are inconsistent: {shares}")
        pops: dict[str, float] = defaultdict(float)
        for o in self.origins.values():
            pops[o.weight_group] += self.places[o.place].population or 0
        w = {
            o.place: shares[o.weight_group] * (self.places[o.place].population or 0) / pops[o.weight_group]
            for o in self.origins.values()
            if pops[o.weight_group] > 0
        }
        total = sum(w.values())
        return {k: v / total for k, v in w.items()}

    # ------------------------------------------------------------------ check
    @cached_property
    def _reference_ids(self) -> tuple[dict[str, set[str]], list[str]]:
        """Row ids of the evidence and routes files a source may cite, and warnings about missing files."""
        ids: dict[str, set[str]] = defaultdict(set)
        warnings: list[str] = []
        evidence_dir = next(
            (
                d
                for d in (packaged_dir("evidence"),)
                if (d / "events.csv").exists() or list(d.rglob("events.csv"))
            ),
            None,
        )
        if evidence_dir is None:
            warnings.append("evidence CSVs not found: cited OBS/EV/RS ids not verified")
        else:
            for fname in ("observations.csv", "events.csv", "reasons.csv"):
                hits = sorted(evidence_dir.rglob(fname))
                if hits:
                    ids["evidence"] |= {r[0] for r in _csv_rows(hits[0])[1:] if r}
                else:
                    warnings.append(f"{fname} not found under {evidence_dir}: its ids not verified")
            pi = sorted(evidence_dir.rglob("passport_index_RUS_history.csv"))
            if pi:
                ids["passport_index"] = {f"passport_index:{r[0]}" for r in _csv_rows(pi[0])[1:] if r}
            else:
                warnings.append("passport_index_RUS_history.csv not found: snapshot references not verified")
        src_dir = self.directory / "sources"
        if not src_dir.is_dir():
            src_dir = packaged_dir("russia-2022") / "sources"
        for fname in ("crossings.csv", "air_routes.csv", "origins.csv", "costs.csv", "rail_sea.csv"):
            f = src_dir / fname
            if not f.exists():
                warnings.append(f"routes file {fname} not found: its ids not verified")
                continue
            rows = _csv_rows(f)[1:]
            key = "rail_sea" if fname == "rail_sea.csv" else "routes"
            ids[key] |= {(f"rail_sea:{r[0]}" if key == "rail_sea" else r[0]) for r in rows if r}
        return ids, warnings

    def check(self) -> CheckReport:
        """Referential integrity: sources exist, every country has rules over the scenario period without
        overlaps, origins and push events are consistent (row-level problems come from loading)."""
        problems = [
            Problem(
                file=Path(e.file).name if e.file else "<input>",
                message=e.detail,
                line=e.line,
                column=None if e.column is None else str(e.column),
            )
            for e in self.load_problems
        ]
        ids, warnings = self._reference_ids
        checked_kinds = set(ids)

        def cite(file: str, line: int, column: str, text: str) -> None:
            for tok in split_sources(text):
                kind = source_kind(tok)
                if (
                    kind in ("evidence", "routes", "rail_sea", "passport_index")
                    and kind in checked_kinds
                    and tok not in ids[kind]
                    and not (kind == "passport_index" and tok == "passport_index:current")
                ):
                    problems.append(
                        Problem(file, f"cited id {tok} not found in the {kind} files", line, column)
                    )

        for c in self.countries.values():
            cite("countries.csv", c.line, "source", c.source)
        for p in self.places.values():
            cite("places.csv", p.line, "source", p.source)
        for o in self.origins.values():
            cite("origins.csv", o.line, "source", o.source)
        for lk in self.links.values():
            cite("links.csv", lk.line, "source", lk.source)
            cite("links.csv", lk.line, "capacity_source", lk.capacity_source)
            cite("links.csv", lk.line, "cost_source", lk.cost_source)
        for e in self.timeline:
            cite("timeline.csv", e.line, "source", e.source)
        for r in self.rules:
            cite("entry_rules.csv", r.line, "source", r.source)
        for pe in self.pushes:
            cite("push_events.csv", pe.line, "source", pe.source)

        # entry rules: no overlaps, and every destination x document covered over the scenario period
        for (c, doc), rs in self._rules.items():
            rs = sorted(rs, key=lambda r: r.valid_from or dt.date.min)
            for a, b in zip(rs, rs[1:], strict=False):
                if a.valid_to is None or (b.valid_from or dt.date.min) <= a.valid_to:
                    problems.append(
                        Problem(
                            "entry_rules.csv",
                            f"rules for {c}/{doc} overlap (line {a.line})",
                            b.line,
                            "valid_from",
                        )
                    )
        if self.start and self.end:
            if self.end < self.start:
                problems.append(Problem("params.yaml", "scenario end before start", None, "end"))
            for c in self.countries:
                if c == HOME:
                    continue
                for doc in DOCUMENTS:
                    day = self.start
                    while day <= self.end:  # walk rule boundaries, not every day
                        r = next((x for x in self._rules.get((c, doc), ()) if x.active(day)), None)
                        if r is None:
                            problems.append(
                                Problem("entry_rules.csv", f"no {doc} rule for {c} on {day}", None, "country")
                            )
                            break
                        if r.valid_to is None:
                            break
                        day = r.valid_to + dt.timedelta(days=1)
        for o in self.origins.values():
            if self.places[o.place].kind != "origin":
                problems.append(Problem("origins.csv", f"{o.place} is not of kind origin", o.line, "place"))
        if self.origins:
            try:
                self.origin_weights()
            except (EmigreError, KeyError) as exc:
                problems.append(Problem("params.yaml", f"origin weighting: {exc}", None, None))
        missing_home = [p.id for p in self.places.values() if p.kind == "origin" and p.id not in self.origins]
        if missing_home:
            warnings.append(f"origin places without an origins.csv row: {', '.join(missing_home[:5])}")
        counts = {
            "countries": len(self.countries),
            "places": len(self.places),
            "origins": len(self.origins),
            "links": len(self.links),
            "international links": sum(lk.international for lk in self.links.values()),
            "timeline entries": len(self.timeline),
            "entry rules": len(self.rules),
            "push events": len(self.pushes),
            "parameters": len(self.params),
        }
        return CheckReport(counts=counts, problems=problems, warnings=warnings)

    # ------------------------------------------------------------------ compile
    def compile(self, start: dt.date | str | None = None, end: dt.date | str | None = None) -> CompiledWorld:
        """Arrays over the days ``start..end`` (default: the scenario period), both inclusive."""
        d0 = _as_date(start) if start is not None else self.start
        d1 = _as_date(end) if end is not None else self.end
        if d0 is None or d1 is None or d1 < d0:
            raise EmigreError(f"invalid compile period {d0}..{d1}")
        n = (d1 - d0).days + 1
        dates = np.arange(np.datetime64(d0, "D"), np.datetime64(d1, "D") + 1)
        place_ids = list(self.places)
        pidx = {p: i for i, p in enumerate(place_ids)}
        countries = list(self.countries)
        cidx = {c: i for i, c in enumerate(countries)}
        link_ids = list(self.links)
        lidx = {lk: i for i, lk in enumerate(link_ids)}
        links = [self.links[i] for i in link_ids]

        def span(a: dt.date | None, b: dt.date | None) -> slice | None:
            lo = 0 if a is None else max(0, (a - d0).days)
            hi = n if b is None else min(n, (b - d0).days + 1)
            return slice(lo, hi) if lo < hi else None

        closed = np.zeros((n, len(links)), dtype=bool)
        restricted = np.zeros((n, len(links)), dtype=bool)
        factor = np.ones((n, len(links)), dtype=np.float32)
        for e in self.timeline:
            s = span(e.date_start, e.date_end)
            if s is None:
                continue
            cols = [lidx[i] for i in e.link_ids]
            if e.effect == "closed":
                closed[s, cols] = True
            elif e.effect == "restricted":
                restricted[s, cols] = True
            else:
                factor[s, cols] *= np.float32(e.value or 0.0)
        restricted &= ~closed

        shape = (n, len(countries), len(DOCUMENTS))
        rule_code = np.full(shape, -1, dtype=np.int8)
        admitted = np.zeros(shape, dtype=bool)
        max_stay = np.full(shape, -1, dtype=np.int32)
        all_modes = (1 << len(MODES)) - 1
        modes_mask = np.zeros(shape, dtype=np.uint8)
        for r in self.rules:
            s = span(r.valid_from, r.valid_to)
            if s is None:
                continue
            ci, di = cidx[r.country], DOCUMENTS.index(r.document)
            rule_code[s, ci, di] = RULES.index(r.rule)
            admitted[s, ci, di] = r.admitted
            max_stay[s, ci, di] = -1 if r.max_stay_days is None else r.max_stay_days
            modes_mask[s, ci, di] = sum(1 << MODES.index(m) for m in r.modes) if r.modes else all_modes

        push_active = np.zeros((n, len(self.pushes)), dtype=bool)
        for j, pe in enumerate(self.pushes):
            s = span(pe.date_start, pe.date_end)
            if s is not None:
                push_active[s, j] = True
        weights = self.origin_weights() if self.origins else {}
        origin_ids = list(weights)
        return CompiledWorld(
            start=d0,
            end=d1,
            dates=dates,
            place_ids=place_ids,
            place_country=np.array([cidx[self.places[p].country] for p in place_ids], dtype=np.int16),
            place_kind=[self.places[p].kind for p in place_ids],
            place_lat=np.array([self.places[p].lat for p in place_ids]),
            place_lon=np.array([self.places[p].lon for p in place_ids]),
            place_population=np.array([self.places[p].population or 0 for p in place_ids], dtype=np.int64),
            link_ids=link_ids,
            link_from=np.array([pidx[lk.from_place] for lk in links], dtype=np.int32),
            link_to=np.array([pidx[lk.to_place] for lk in links], dtype=np.int32),
            link_mode=np.array([MODES.index(lk.mode) for lk in links], dtype=np.int8),
            link_distance_km=np.array([lk.distance_km for lk in links]),
            link_hours=np.array([lk.travel_hours for lk in links]),
            link_capacity=np.array(
                [np.nan if lk.capacity_per_day is None else lk.capacity_per_day for lk in links]
            ),
            link_international=np.array([lk.international for lk in links], dtype=bool),
            link_open=~(closed | restricted),
            link_restricted=restricted,
            link_capacity_factor=factor,
            countries=countries,
            documents=DOCUMENTS,
            rules=RULES,
            modes=MODES,
            entry_rule=rule_code,
            entry_admitted=admitted,
            entry_max_stay=max_stay,
            entry_modes=modes_mask,
            push_ids=[pe.id for pe in self.pushes],
            push_active=push_active,
            origin_place=np.array([pidx[p] for p in origin_ids], dtype=np.int32),
            origin_weight=np.array([weights[p] for p in origin_ids]),
        )


def _csv_rows(path: Path) -> list[list[str]]:
    from emigre.fileio import read_text  # special files, loops and oversized files refused by name

    return list(csv.reader(io.StringIO(read_text(path, what=path.name, allow_empty=True))))
