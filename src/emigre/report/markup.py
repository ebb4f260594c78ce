"""Formatting of numbers, dates and tables for the HTML report, and its style sheet."""

from __future__ import annotations

import datetime as dt
import html
import math

import numpy as np

CSS = """
:root { --ink:#212529; --muted:#5c636a; --line:#dee2e6; --sim:#2b5c9e; --ev:#c2410c; --bg:#fbfbfa; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font:15px/1.55 Helvetica, Arial, "Liberation Sans", sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 28px 28px 60px; background:#fff; }
header h1 { font-size: 27px; line-height:1.25; margin: 0 0 6px; }
header p.sub { color: var(--muted); margin: 0 0 18px; }
nav { display:flex; flex-wrap:wrap; gap: 2px 16px; border-top:1px solid var(--line); border-bottom:1px solid var(--line); padding:8px 0; margin-bottom: 22px; font-size:13.5px; }
nav a { color: var(--sim); text-decoration:none; white-space:nowrap; }
section { margin: 34px 0 0; }
h2 { font-size: 21px; margin: 0 0 8px; padding-top: 8px; border-top: 2px solid var(--ink); }
h3 { font-size: 15.5px; margin: 22px 0 6px; }
p.lead { font-size: 16px; margin: 6px 0 12px; }
p.note, figcaption { color: var(--muted); font-size: 13px; }
figure { margin: 14px 0 18px; }
figure svg { display:block; max-width:100%; height:auto; }
.cards { display:grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 12px; margin: 14px 0 8px; }
.card { border:1px solid var(--line); border-left: 4px solid var(--sim); padding: 10px 12px; border-radius: 4px; background:#fff; }
.card .label { color: var(--muted); font-size: 12.5px; }
.card .value { font-size: 24px; font-weight: bold; font-variant-numeric: tabular-nums; }
.card .band { color: var(--muted); font-size: 12.5px; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13.5px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-weight: bold; border-bottom: 2px solid #adb5bd; background: #f8f9fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.band, th.band { text-align:right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.band, span.band { color: var(--muted); }
table.evidence td.num { white-space: normal; }
table.evidence td:first-child, td.nowrap { white-space: nowrap; }
tbody tr:nth-child(even) { background: #fcfcfd; }
table.evidence td { font-size: 12.5px; }
details { margin: 6px 0 14px; }
summary { cursor: pointer; color: var(--sim); }
.legend-note { display:inline-block; margin-right: 14px; }
.swatch { display:inline-block; width: 22px; height: 10px; vertical-align: middle; margin-right: 4px; }
a { color: var(--sim); }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; border-top:1px solid var(--line); padding-top: 10px; }
@media print { nav { display:none; } main { padding: 0; } section { break-inside: avoid-page; } }
.table-wrap, .chart-box { max-width: 100%; overflow-x: auto; }
dl.defs { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 14px; font-size: 14px; }
dl.defs dt { font-weight: bold; } dl.defs dd { margin: 0; }
@media (max-width: 640px) {
  main { padding: 16px 12px 40px; }
  header h1 { font-size: 21px; }
  .cards { grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); }
  /* a chart keeps legible text (at least ~8 px) and scrolls sideways inside its box */
  .chart-box svg { min-width: 760px; }
  dl.defs { grid-template-columns: minmax(0, 1fr); }
  table { font-size: 12.5px; }
}
"""


# ---------------------------------------------------------------------------------------------- formatting
def people(x: float) -> str:
    """People, rounded to three significant figures above 10,000 (a true minus sign when negative)."""
    if x is None or not math.isfinite(x):
        return "\u2013"
    ax = abs(x)
    if ax >= 1e6:
        text = f"{ax / 1e6:.2f} million"
    elif ax >= 1e4:
        digits = int(math.floor(math.log10(ax))) - 2
        text = f"{round(ax, -digits):,.0f}"
    else:
        text = f"{ax:,.0f}"
    return ("\u2212" + text) if x < 0 and text.strip("0,.") else text


def plural(n, word: str) -> str:
    """``n word`` with the plural of ``word`` when ``n`` is not 1."""
    return f"{n} {word}" if n == 1 or not isinstance(n, int | np.integer) else f"{n} {word}s"


def pct(x: float) -> str:
    """A share as a percentage (one decimal below 10%)."""
    if x is None or not math.isfinite(x):
        return "\u2013"
    return f"{x * 100:.1f}%" if abs(x) < 0.1 else f"{x * 100:.0f}%"


def days(x: float) -> str:
    """A number of days with one decimal."""
    if x is None or not math.isfinite(x):
        return "\u2013"
    return f"{x:.1f}"


def band_text(d: dict, prefix: str = "", fmt=people) -> str:
    """A 90% band as text, low to high."""
    return span(d[prefix + "q05"], d[prefix + "q95"], fmt)


def span(lo: float, hi: float, fmt=people) -> str:
    """A range; written with "to" when a negative number would make an en dash ambiguous."""
    sep = " to " if (lo is not None and lo < 0) or (hi is not None and hi < 0) else "\u2013"
    return f"{fmt(lo)}{sep}{fmt(hi)}"


def with_band(d: dict, prefix: str = "", fmt=people) -> str:
    """A median with its 90% band as text."""
    return f"{fmt(d[prefix + 'median'])} (90%: {band_text(d, prefix, fmt)})"


def day(d: dt.date | None) -> str:
    """A date as ``4 Dec 2022`` (a dash if unknown)."""
    return "\u2013" if d is None else f"{d:%-d %b %Y}"


def esc(x) -> str:
    """HTML-escaped text of anything (empty for None)."""
    return html.escape("" if x is None else str(x))


def table(headers: list[tuple[str, str]], rows: list[list], cls: str = "") -> str:
    """headers: (text, css class); rows: cell values already formatted (escaped here unless Markup)."""

    def cell(tag: str, c: str, content: str) -> str:
        return f'<{tag} class="{c}">{content}</{tag}>' if c else f"<{tag}>{content}</{tag}>"

    head = "".join(cell("th", c, esc(h)) for h, c in headers)
    body = []
    for row in rows:
        cells = [
            cell("td", c, v.html if isinstance(v, Markup) else esc(v))
            for (_, c), v in zip(headers, row, strict=True)
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    attr = f' class="{cls}"' if cls else ""
    # wrapped so that a wide table scrolls inside its box on a phone instead of widening the page
    return (f'<div class="table-wrap" tabindex="0"><table{attr}><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


class Markup:
    """HTML that is inserted as it is, not escaped."""

    def __init__(self, html_text: str) -> None:
        self.html = html_text
