"""Vega-Lite to inline SVG at build time (vl-convert: Vega runs in an embedded engine, no network, no
browser), so the report needs no JavaScript to be read."""

from __future__ import annotations

import re
from functools import lru_cache

from emigre.errors import EmigreError

_ID = re.compile(r'\bid="([^"]+)"')


@lru_cache(maxsize=1)
def _vegalite_version() -> str | None:
    """The newest Vega-Lite 5 release the installed vl-convert bundles (the specs are written for v5)."""
    import vl_convert as vlc

    try:
        versions = [v for v in vlc.get_vegalite_versions() if v.startswith("5.")]
    except AttributeError:  # very old vl-convert: use its default
        return None
    if not versions:
        return None
    return max(versions, key=lambda v: tuple(int(x) for x in v.split(".") if x.isdigit()))


def to_svg(spec: dict, name: str) -> str:
    """Render ``spec`` to an SVG string whose ids are prefixed with ``name`` and numbered within it (several
    SVGs share one page; the same chart gets the same ids whatever was rendered before it)."""
    try:
        import vl_convert as vlc
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise EmigreError(
            "the report needs the package vl-convert-python (pip install vl-convert-python)"
        ) from exc
    version = _vegalite_version()
    try:
        svg = vlc.vegalite_to_svg(spec, vl_version=version) if version else vlc.vegalite_to_svg(spec)
    except Exception as exc:  # vl-convert raises plain ValueErrors with Vega's message
        raise EmigreError(f"could not render the chart {name!r}: {exc}") from exc
    return namespace_ids(round_paths(svg), name)


_PATH = re.compile(r'(\sd=")([^"]*)(")')
_DECIMALS = re.compile(r"(\.\d)\d+")


def round_paths(svg: str) -> str:
    """Keep one decimal in path coordinates (a tenth of a pixel): maps and long series shrink by a third."""
    return _PATH.sub(lambda m: m.group(1) + _DECIMALS.sub(r"\1", m.group(2)) + m.group(3), svg)


def namespace_ids(svg: str, prefix: str) -> str:
    """Prefix the ids in an SVG (and their references) so several charts can share one page, and number them
    in the order they appear: Vega's counters run on across the charts one process renders (a second report
    built in the same process had its map's clip path at 9, not 1), so the same chart must not depend on what
    was rendered before it."""
    ids = list(dict.fromkeys(_ID.findall(svg)))  # in order of first appearance
    if not ids:
        return svg
    counts: dict[str, int] = {}
    renamed = {}
    for old in ids:
        base = old.rstrip("0123456789")  # never ends in a digit, so base + count names one id only
        counts[base] = counts.get(base, 0) + 1
        renamed[old] = f"{prefix}-{base}{counts[base]}"
    pattern = re.compile(
        r'(\bid="|url\(#|href="#)('
        + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
        + r')(?=["\)])'
    )
    return pattern.sub(lambda m: f"{m.group(1)}{renamed[m.group(2)]}", svg)


def strip_xml_header(svg: str) -> str:
    """An SVG without its XML declaration, to inline it in HTML."""
    return re.sub(r"^\s*<\?xml[^>]*>\s*", "", svg)
