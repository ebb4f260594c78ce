"""Every random stream id, declared once (see :mod:`emigre.engine.rng`: a draw is a pure function of seed,
agent, day and stream).

Two draws that share (seed, agent, day) must use different streams or they are the same number. Each stream
is declared here with its first id and its width (a stream drawn as ``first + k`` for a counter ``k`` owns
``first .. first + width - 1``); the module checks at import that the ranges of one ruleset do not overlap.
Rulesets never share a run, so their ranges are checked separately. Kernels import the constants below; no
other module writes a stream id as a literal.
"""

from __future__ import annotations

from typing import NamedTuple


class Stream(NamedTuple):
    """A named range of random stream ids owned by one ruleset."""

    ruleset: str
    name: str
    first: int
    width: int = 1
    doc: str = ""


STREAMS: tuple[Stream, ...] = (
    # exodus (behaviour/exodus_kernels.py)
    Stream("exodus", "count", 1, 1, "travellers deciding to leave per cell and day (drawn per cell)"),
    Stream("exodus", "reason", 2, 1, "a traveller's reason, once"),
    Stream("exodus", "document", 3, 1, "foreign passport or not, once"),
    Stream("exodus", "schengen", 4, 1, "Schengen visa among passport holders, once"),
    Stream("exodus", "special", 5, 1, "special grounds for the land exit, once"),
    Stream("exodus", "patience", 6, 1, "patience in a queue, once"),
    Stream("exodus", "refuse", 7, 1, "exit-ban and land refusals (days 0 and 1 as sub-keys)"),
    Stream("exodus", "choice", 100, 100, "route choice, + the number of failed tries"),
    Stream("exodus", "return", 200, 100, "return date, + the number of events so far"),
    Stream("exodus", "onward", 300, 100, "onward move or not / its date, + the number of events so far"),
    Stream("exodus", "limit", 400, 100, "stay-limit decision, + the number of events so far"),
    Stream("exodus", "onward_dest", 500, 1, "destination of an onward move"),
    Stream("exodus", "draft", 600, 1, "whether an unrecognised state is a refuge for a draft-fleeing traveller, once"),
    Stream("exodus", "permit", 700, 100, "seeking a permit on arrival or not, + the number of events so far"),
    Stream("exodus", "temporary", 800, 1, "a temporary leaver (waits abroad, returns early) or not, once"),
    Stream("exodus", "again", 900, 2, "a returnee who leaves again or not (once, day 0), + 1: its time at home"),
    # flee (behaviour/flee_kernels.py)
    Stream("flee", "route", 1, 1, "route draw of the day's decision phase"),
    Stream("flee", "hop", 2, 1_000_001, "2 + 2k: k-th move draw, 3 + 2k: k-th route draw after an arrival"),
    Stream("flee", "spawn", 1_000_003, 1, "spawn location of a new agent"),
    Stream("flee", "wake_stop", 1_000_005, 1, "wait drawn by an agent that ends the day at a place"),
    Stream("flee", "wake_fresh", 1_000_007, 1, "wait drawn by a new agent or after a move-chance change"),
)


def _check(streams: tuple[Stream, ...]) -> None:
    for ruleset in {s.ruleset for s in streams}:
        own = sorted((s for s in streams if s.ruleset == ruleset), key=lambda s: s.first)
        names = [s.name for s in own]
        assert len(set(names)) == len(names), f"duplicate stream names in {ruleset}: {names}"
        for a, b in zip(own, own[1:], strict=False):
            assert a.width >= 1 and a.first + a.width <= b.first, (
                f"random streams overlap in {ruleset}: {a.name} {a.first}+{a.width} and {b.name} {b.first}"
            )


_check(STREAMS)
_ID = {(s.ruleset, s.name): s.first for s in STREAMS}

# constants for the kernels (Numba freezes module-level ints at compile time)
S_COUNT = _ID["exodus", "count"]
S_REASON = _ID["exodus", "reason"]
S_DOC = _ID["exodus", "document"]
S_SCHENGEN = _ID["exodus", "schengen"]
S_SPECIAL = _ID["exodus", "special"]
S_PATIENCE = _ID["exodus", "patience"]
S_REFUSE = _ID["exodus", "refuse"]
S_CHOICE = _ID["exodus", "choice"]
S_RETURN = _ID["exodus", "return"]
S_ONWARD = _ID["exodus", "onward"]
S_LIMIT = _ID["exodus", "limit"]
S_ONWARD_DEST = _ID["exodus", "onward_dest"]
S_DRAFT = _ID["exodus", "draft"]
S_PERMIT = _ID["exodus", "permit"]
S_TEMPORARY = _ID["exodus", "temporary"]
S_AGAIN = _ID["exodus", "again"]

STREAM_ROUTE = _ID["flee", "route"]
STREAM_HOP = _ID["flee", "hop"]
STREAM_SPAWN = _ID["flee", "spawn"]
STREAM_WAKE_STOP = _ID["flee", "wake_stop"]
STREAM_WAKE_FRESH = _ID["flee", "wake_fresh"]
