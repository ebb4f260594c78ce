"""Turn the wording of a figure ("more than 300,000", "as many as", "почти 1,3 млн") into explicit fields.

The README states bounds in ``notes`` ("Lower bound ('more than')"), but not always: often only the quote
says "at least". A phrase in a quote counts only when it stands right before the number that equals the
row's quantity, so "more than double the approximately 8,000" or "twice as many as" next to another figure
do not turn a point value into a bound. Explicit "lower bound"/"upper bound" in the notes wins.

"almost X", "just over X", "about X" name X itself within a few per cent: they stay point values and the
phrase is kept in ``qualifier`` so an observation model can widen its error if it wants.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# (regex of the phrase, bound, label). Order matters: longer phrases first ("чуть более" before "более").
_PHRASES: tuple[tuple[str, str, str], ...] = (
    (r"чуть более|чуть больше|slightly more than|just over|etwas mehr als", "point", "just over"),
    (r"just under|slightly less than|knapp", "point", "just under"),
    (r"almost|nearly|почти|fast", "point", "almost"),
    (r"as many as", "upper", "as many as"),
    (r"up to|вплоть до|достига[лв][аои]? до|bis zu", "upper", "up to"),
    (r"less than|fewer than|under|не более|менее|меньше|weniger als|at most", "upper", "less than"),
    (r"at least|по меньшей мере|не менее|co najmniej|mindestens|minimum", "lower", "at least"),
    (
        r"more than|greater than|in excess of|over|exceeds|exceeding|более|больше|свыше|превышает|понад|"
        r"ponad|mehr als|über",
        "lower",
        "more than",
    ),
    (
        r"approximately|approx\.?|about|around|roughly|some|около|примерно|порядка|etwa|rund|ungefähr|około",
        "point",
        "about",
    ),
)
_PHRASE_RES = tuple(
    (re.compile(rf"(?:^|[^\w])(?:{pat})\s*$", re.IGNORECASE), bound, label) for pat, bound, label in _PHRASES
)

_NUMBER_RE = re.compile(r"\d+(?:[ \u00a0\u202f.,]\d{3})*(?:[.,]\d+)?")
_SCALE_RE = re.compile(
    r"^\s*(thousand|тысяч[аи]?|тыс\.?|тис\.?|bin|mln|млн|million|миллион[аов]*|mio\.?)(?![\w])", re.IGNORECASE
)
_SCALES = {"thousand": 1_000, "тыс": 1_000, "тис": 1_000, "bin": 1_000, "тысяч": 1_000}

_QUALITY_HINTS: tuple[tuple[str, str], ...] = (
    (r"\bweak\b", "weak"),
    (r"not verified|doubted authenticity", "unverified"),
    (r"\banonymous\b", "anonymous_source"),
    (r"\boutlier\b", "outlier"),
    (r"very rough", "rough_estimate"),
    (r"low-medium reliability|low reliability", "low_reliability"),
    (r"no methodology|unsourced method", "no_method"),
    (r"political statement|self-serving", "political_statement"),
    (r"biased sample", "biased_sample"),
    (r"auto-paraphrase", "paraphrased_quote"),
    (r"\bambiguous\b", "ambiguous"),
)


@dataclass(frozen=True, slots=True)
class BoundReading:
    """How a figure bounds the truth (point, lower, upper, range) and the wording that says so."""

    bound: str  # point | lower | upper | range
    qualifier: str | None  # the wording that decided it, in English ("more than", "almost", ...)


def _scale(word: str) -> int:
    w = word.lower().rstrip(".")
    if w.startswith(("млн", "mln", "million", "миллион", "mio")):
        return 1_000_000
    for prefix, factor in _SCALES.items():
        if w.startswith(prefix):
            return factor
    return 1


def _values(token: str, scale: int) -> set[float]:
    """Every reading of a number token: separators as thousands marks, or the last one as a decimal mark."""
    out = {float(re.sub(r"\D", "", token)) * scale}
    m = re.match(r"^(.*)[.,](\d+)$", token)
    if m:
        whole = re.sub(r"\D", "", m.group(1)) or "0"
        out.add(float(f"{whole}.{m.group(2)}") * scale)
    return out


def locate_number(text: str, value: float) -> int | None:
    """Character offset in ``text`` where a number equal to ``value`` starts (e.g. "1,3 млн" for 1300000)."""
    target = abs(value)
    for m in _NUMBER_RE.finditer(text):
        token = m.group(0).rstrip(" \u00a0\u202f.,")
        sm = _SCALE_RE.match(text[m.end() :])
        scale = _scale(sm.group(1)) if sm else 1
        if any(abs(v - target) < 0.5 for v in _values(token, scale)):
            return m.start()
    return None


def phrase_before(text: str, offset: int) -> tuple[str, str] | None:
    """(bound, label) of a bound/approximation phrase that ends right before ``offset``."""
    head = text[max(0, offset - 40) : offset]
    for rx, bound, label in _PHRASE_RES:
        if rx.search(head):
            return bound, label
    return None


def read_bound(
    quantity: int | None, low: int | None, high: int | None, quote: str, notes: str
) -> BoundReading:
    """Decide point/lower/upper/range for one observation row (see the module docstring for the rules)."""
    if low is not None and high is not None:
        return BoundReading("range", None)
    lowered = notes.lower()
    explicit = "lower" if "lower bound" in lowered else "upper" if "upper bound" in lowered else None
    found: tuple[str, str] | None = None
    if quantity is not None:
        for text in (quote, notes):
            at = locate_number(text, quantity)
            if at is not None:
                found = phrase_before(text, at)
                break
    if explicit is not None:
        label = found[1] if found is not None and found[0] == explicit else f"{explicit} bound (notes)"
        return BoundReading(explicit, label)
    if found is not None:
        return BoundReading(found[0], found[1])
    return BoundReading("point", None)


def read_unit(notes: str) -> str:
    """``percent`` when the notes carry the README's ``PERCENT`` marker, else ``persons`` (counts)."""
    return "percent" if re.search(r"\bPERCENT\b", notes) else "persons"


def quality_flags(*texts: Iterable[str] | str) -> tuple[str, ...]:
    """Source-quality warnings stated in the notes (and publisher), as stable tags; empty when none."""
    joined = " ".join(t if isinstance(t, str) else " ".join(t) for t in texts).lower()
    flags = [tag for pat, tag in _QUALITY_HINTS if re.search(pat, joined)]
    if "wikipedia" in joined:
        flags.append("tertiary_source")
    return tuple(flags)


def read_share_bound(unit: str) -> BoundReading:
    """Bound of a survey share from its unit text ("percent (more than)", "percent (over)", "percent (approx)")."""
    u = unit.lower()
    if re.search(r"\((?:more than|over|at least)\)", u):
        return BoundReading("lower", "more than")
    if re.search(r"\((?:less than|under|up to)\)", u):
        return BoundReading("upper", "less than")
    if re.search(r"approx|roughly|half|one in|a third|\d+/\d+", u):
        return BoundReading("point", "about")
    return BoundReading("point", None)
