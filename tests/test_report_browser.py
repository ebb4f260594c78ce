"""The report in a real browser: headless Chromium (the Debian package at /usr/bin/chromium, driven by
Playwright) opens the file with the network cut off, every chart is drawn and visible, the map has its
paths, and a full-page screenshot is a large, busy picture, not a blank page.

CI must run this test, so a missing browser is a failure (``.ci/run`` installs the ``chromium`` package).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import chromium

from emigre.report import CHARTS


@pytest.fixture(scope="module")
def report(main_job) -> Path:
    """The report of the real main job (conftest: 2 runs at 50 persons per traveller)."""
    return main_job[0] / "report.html"


@pytest.fixture(scope="module")
def browser():
    with chromium("--disable-gpu") as b:
        yield b


def test_report_renders_in_chromium(browser, report, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    # the network is cut: a report that needs anything from outside would show it here
    page.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort()
    )
    page.goto(report.as_uri(), wait_until="load")

    outside = [u for u in requests if not u.startswith(("file:", "data:", "about:"))]
    assert not outside, f"the report asked the network for {outside[:5]}"
    assert not errors, errors

    figures = page.locator("figure.chart")
    assert figures.count() == len(CHARTS)
    for chart in CHARTS:
        svg = page.locator(f'figure[data-chart="{chart}"] svg')
        assert svg.count() == 1, chart
        assert svg.is_visible(), chart
        box = svg.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 60, (chart, box)
        drawn = svg.evaluate("s => s.querySelectorAll('path, rect, line, text, circle').length")
        assert drawn > 10, chart

    # no chart wider than the page: nothing to scroll sideways
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths

    # the map: country polygons and flow lines actually drawn with a size on screen
    for chart in ("map-world", "map-region"):
        sizes = page.evaluate(
            """sel => Array.from(document.querySelectorAll(sel + ' path'))
                 .map(p => { const b = p.getBBox(); return b.width * b.height; })""",
            f'figure[data-chart="{chart}"] svg',
        )
        assert sum(1 for s in sizes if s > 4) > 60, (chart, len(sizes))
    counts = page.evaluate(
        """() => { const m = document.querySelector('figure[data-chart="map-world"] svg');
                   const lines = Array.from(m.querySelectorAll('g.mark-rule line'));
                   return { countries: m.querySelectorAll('g.mark-shape path').length,
                            flows: lines.filter(l => l.getTotalLength() > 1).length,
                            circles: m.querySelectorAll('g.mark-symbol path').length }; }"""
    )
    assert counts["countries"] > 150 and counts["flows"] > 20 and counts["circles"] > 8, counts

    shot = page.screenshot(full_page=True)
    out = Path(os.environ.get("EMIGRE_SCREENSHOT_DIR", tmp_path)) / "report.png"
    out.write_bytes(shot)
    from PIL import Image

    image = Image.open(io.BytesIO(shot)).convert("RGB")
    width, height = image.size
    assert width >= 1100 and height > 8000, image.size
    pixels = np.asarray(image)
    assert pixels.std() > 20  # not a blank page
    colours = len(np.unique(pixels.reshape(-1, 3)[::7], axis=0))
    assert colours > 500, colours
    # every band of the page has something on it: no chart rendered as an empty block
    rows = pixels.reshape(height, width, 3)[: height - height % 400].reshape(-1, 400, width, 3)
    assert all(block.std() > 5 for block in rows)
    # the map area itself is varied: land, sea, lines and circles
    box = page.locator('figure[data-chart="map-region"] svg').bounding_box()
    crop = pixels[int(box["y"]) : int(box["y"] + box["height"]), int(box["x"]) : int(box["x"] + box["width"])]
    assert crop.std() > 15 and len(np.unique(crop.reshape(-1, 3), axis=0)) > 200
    page.close()


AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def test_report_on_a_phone_and_for_screen_readers(browser, report):
    """At 390 px nothing widens the page (tables and charts scroll inside their own box) and chart text stays
    legible; every chart is an image named by its caption; axe-core finds no serious or critical violation."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(report.as_uri(), wait_until="load")
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    smallest = page.evaluate("""() => Math.min(...Array.from(document.querySelectorAll('figure.chart svg text'))
        .map(t => t.getBoundingClientRect().height).filter(h => h > 0))""")
    assert smallest >= 6.5, smallest
    names = page.evaluate("""() => Array.from(document.querySelectorAll('figure.chart svg')).map(s =>
        s.getAttribute('role') === 'img' && document.getElementById(s.getAttribute('aria-labelledby'))
        ? document.getElementById(s.getAttribute('aria-labelledby')).textContent.length : 0)""")
    assert len(names) == len(CHARTS) and min(names) > 30, names
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .map(v => ({id: v.id, impact: v.impact, n: v.nodes.length}))""")
    assert not [v for v in found if v["impact"] in ("serious", "critical")], found
    page.close()

