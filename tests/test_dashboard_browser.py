"""The dashboard in a real browser: Debian's chromium driven by Playwright against ``emigre serve`` (uvicorn on
127.0.0.1) over the real main job's store. Every request stays on 127.0.0.1, nothing logs an error, the charts
and the map are drawn, a URL restores its view, the what-if panel runs a job to the end, axe-core finds no
serious or critical violation, and at 390 px nothing is wider than the viewport.

CI must run this test, so a missing browser is a failure (``.ci/run`` installs the ``chromium`` package).
Set EMIGRE_SCREENSHOT_DIR to keep the screenshots (docs/img/dashboard.png is made that way).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import chromium
from test_serve import LiveServer

from emigre.serve import create_app

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
READY_MS = 90_000


@pytest.fixture(scope="module")
def server(main_job):
    with LiveServer(create_app(main_job[0])) as s:
        yield s


@pytest.fixture(scope="module")
def browser():
    with chromium("--enable-unsafe-swiftshader") as b:
        yield b


class Watched:
    """A page that records console errors, page errors and every request's URL."""

    def __init__(self, browser, width: int = 1200, height: int = 900) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        # anything off the machine is cut (and would be listed below)
        self.page.route("**/*", lambda route: route.continue_()
                        if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")) else route.abort())

    def open(self, url: str):
        self.page.goto(url)
        self.page.wait_for_function("document.body.dataset.ready", timeout=READY_MS)
        assert self.page.evaluate("document.body.dataset.ready") == "1", self.page.inner_text("header")
        return self.page

    def check_clean(self) -> None:
        outside = [u for u in self.requests if not u.startswith(("http://127.0.0.1", "data:", "blob:"))]
        assert not outside, f"requests off the machine: {outside[:5]}"
        assert not self.errors, self.errors

    def close(self) -> None:
        self.page.close()


def overflow(page) -> list:
    """Elements whose right edge passes the viewport (nothing may scroll sideways)."""
    return page.evaluate("""() => { const w = document.documentElement.clientWidth; const out = [];
        for (const el of document.querySelectorAll('body *')) {
          if (el.closest('.table-wrap') && el.tagName !== 'DIV') continue;   // tables scroll inside their box
          if (el.closest('#map')) continue;                                   // the map clips its own canvas
          const r = el.getBoundingClientRect();
          if (r.width && r.right > w + 1) out.push(el.tagName + '#' + el.id + '.' + el.className + ' ' + Math.round(r.right));
        }
        return [document.documentElement.scrollWidth, w, out.slice(0, 5)]; }""")


def test_dashboard_draws_everything_offline(server, browser, tmp_path):
    w = Watched(browser)
    page = w.open(server.url + "/")
    # the fan chart: bands and a median line drawn as SVG, with a description for screen readers
    fan = page.locator("#fan svg")
    assert fan.count() == 1 and fan.get_attribute("aria-label")
    box = fan.bounding_box()
    assert box["width"] > 600 and box["height"] > 200, box
    assert page.evaluate("document.querySelectorAll('#fan svg path').length") >= 5
    assert page.locator("#country-fan svg").count() == 1
    # the country chart carries that country's sourced stock figures (Georgia has one in 2022; the default country,
    # the largest, need not have any)
    page.locator('#country-list button[data-iso="GEO"]').click()
    page.wait_for_function("document.querySelectorAll('#country-fan svg g.mark-symbol path').length >= 1", timeout=30_000)
    assert "Georgia" in page.inner_text("#country-desc") and "published figures" in page.inner_text("#country-desc")
    cards = page.locator("#headline .card")
    assert cards.count() == 3 and "stock" in cards.nth(1).inner_text()
    n_countries = page.locator("#country-list li").count()
    assert n_countries >= 15
    values = [int(t.replace(",", "")) for t in page.locator("#country-list .val").all_inner_texts()]
    assert values == sorted(values, reverse=True)  # sorted by value
    # the cumulative view carries the national sourced figures as markers; a click opens the source
    page.select_option("#metric", "departed_cum")
    page.wait_for_function("document.querySelectorAll('#fan svg g.mark-symbol path').length >= 3", timeout=30_000)
    assert "metric=departed_cum" in page.url
    assert "published figures" in page.inner_text("#fan-desc")
    shots = Path(os.environ.get("EMIGRE_SCREENSHOT_DIR", tmp_path))
    page.screenshot(path=str(shots / "dashboard.png"), full_page=False)

    # the map: MapLibre on the packaged basemap, drawn into its canvas (pixels of land, sea, circles and flows)
    page.keyboard.press("Tab")
    page.locator("#tab-chart").focus()
    page.keyboard.press("ArrowRight")  # keyboard: arrow keys move between the tabs
    assert page.locator("#tab-map").get_attribute("aria-selected") == "true"
    assert page.evaluate("document.activeElement.id") == "tab-map"
    page.wait_for_function("document.getElementById('map').dataset.loaded === '1'", timeout=60_000)
    page.wait_for_timeout(1500)
    from PIL import Image

    canvas = page.locator("#map canvas")
    pixels = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")).reshape(-1, 3)
    colours = {tuple(c) for c in pixels[::13]}
    assert len(colours) > 50, len(colours)
    flows = np.sum((pixels[:, 0] > 140) & (pixels[:, 1] < 140) & (pixels[:, 2] < 90))  # the orange flow lines
    circles = np.sum((pixels[:, 2] > 120) & (pixels[:, 0] < 120))  # the blue circles
    assert flows > 200 and circles > 200, (flows, circles)
    assert "table view" in page.inner_text("#map-desc")

    page.keyboard.press("ArrowRight")
    rows = page.locator("#dest-table tbody tr")
    assert rows.count() == n_countries or rows.count() >= 15
    page.keyboard.press("ArrowRight")
    assert page.locator("#source-table tbody tr").count() > 30
    page.locator("#source-table button").first.click()
    page.wait_for_function("document.getElementById('source-detail').textContent.length > 20", timeout=10_000)
    detail = page.inner_text("#source-detail")
    assert "publisher" in detail and "http" in detail
    # the policy events: a list, each linked to its evidence, and the same as bars
    events = page.locator("#events-list li")
    assert events.count() >= 20
    assert page.locator("#events-list button").count() >= 20
    assert page.evaluate("document.querySelectorAll('#events-chart svg g.mark-rect path').length") >= 20
    w.check_clean()
    w.close()


def test_url_restores_the_view(server, browser):
    w = Watched(browser)
    page = w.open(server.url + "/?view=table&date=2022-10-06&metric=abroad&by=reason&country=KAZ&from=2022-09-22")
    assert page.locator("#tab-table").get_attribute("aria-selected") == "true"
    assert page.locator("#panel-table").is_visible() and not page.locator("#panel-chart").is_visible()
    assert page.input_value("#metric") == "abroad" and page.input_value("#by") == "reason"
    assert page.inner_text("#date-out") == "2022-10-06"
    assert "2022-10-06" in page.inner_text("#dest-caption")
    assert "2022-09-22" in page.inner_text("#link-caption")
    assert page.locator('#country-list button[aria-pressed="true"]').get_attribute("data-iso") == "KAZ"
    # the headline reads the same date
    assert "2022-10-06" in page.inner_text("#headline")
    # and changing the view writes it back into the URL
    page.locator("#tab-sources").click()
    assert "view=sources" in page.url and "date=2022-10-06" in page.url
    w.check_clean()
    w.close()


def test_whatif_runs_to_the_paired_difference(server, browser):
    w = Watched(browser)
    page = w.open(server.url + "/?view=whatif")
    page.select_option("#wi-param", "push_mobilization_intensity")
    page.fill("#wi-value", "0")
    page.fill("#wi-runs", "1")
    page.fill("#wi-scale", "2000")
    page.click("#wi-run")
    page.wait_for_selector("#wi-table", timeout=240_000)
    cells = page.locator("#wi-table tbody tr").first.locator("td").all_inner_texts()
    difference = int(cells[2].replace(",", "").replace("+", ""))
    assert difference < -300_000, cells  # no mobilization: no autumn wave
    assert "paired runs" in page.inner_text("#wi-status")
    assert page.evaluate("document.querySelectorAll('#wi-chart svg path').length") >= 3
    # a refused request says why
    page.evaluate("document.getElementById('wi-runs').removeAttribute('max')")  # past the form's own bound
    page.fill("#wi-runs", "50")
    page.click("#wi-run")
    page.wait_for_function("document.getElementById('wi-status').textContent.startsWith('Refused')", timeout=10_000)
    assert "runs: Input should be less than or equal to 20" in page.inner_text("#wi-status")
    w.errors = [e for e in w.errors if "422" not in e]  # the refused POST is logged by the browser as a 422
    w.check_clean()
    w.close()


def test_accessibility_and_narrow_screen(server, browser):
    w = Watched(browser, width=390, height=844)
    page = w.open(server.url + "/")
    for tab in ("chart", "map", "table", "sources", "whatif"):
        page.locator(f"#tab-{tab}").click()
        page.wait_for_timeout(300)
        scroll, width, wide = overflow(page)
        assert scroll <= width and not wide, (tab, scroll, width, wide)
    page.locator("#tab-chart").click()
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => { const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, n: v.nodes.length,
                                       where: v.nodes.slice(0, 2).map(n => n.target.join(' '))})); }""")
    bad = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    # chart text stays legible on a phone
    smallest = page.evaluate("Math.min(...Array.from(document.querySelectorAll('#fan svg text'))"
                             ".map(t => t.getBoundingClientRect().height).filter(h => h > 0))")
    assert smallest >= 7, smallest
    w.check_clean()
    w.close()


def test_evidence_explorer_shows_the_predicted_parts(server, browser):
    """The sources view: each figure's predicted count with its parts (a stacked bar and "of which" text), and
    by keyboard a figure's detail with its parts table adding up to the median; axe-clean at 390 px."""
    w = Watched(browser, width=390, height=844)
    page = w.open(server.url + "/?view=sources")
    row = page.locator("#source-table tbody tr", has=page.locator("button[data-id='OBS010']"))
    assert "of which: wave emigrants" in row.inner_text() and row.locator(".parts-bar span").count() >= 2
    assert "wave emigrants" in page.inner_text("#parts-legend")
    row.locator("button").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#source-detail table.parts') !== null", timeout=10_000)
    cells = page.eval_on_selector_all("#source-detail table.parts tbody tr td:nth-child(2)",
                                      "tds => tds.map(t => Number(t.textContent.replace(/[^0-9.-]/g, '')))")
    head = page.inner_text("#source-detail h4")
    median = float(head.split("Predicted: ")[1].split(" ")[0].replace(",", ""))
    assert len(cells) >= 2 and abs(sum(cells) - median) <= len(cells)  # each part rounded to a whole number
    assert "ordinary trips" in page.inner_text("#source-detail") and "Definition" in page.inner_text("#source-detail")
    scroll, width, wide = overflow(page)
    assert scroll <= width and not wide, (scroll, width, wide)
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => { const r = await axe.run('#panel-sources', {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, where: v.nodes.slice(0, 2).map(n => n.target.join(' '))})); }""")
    assert not [v for v in found if v["impact"] in ("serious", "critical")], found
    w.check_clean()
    w.close()
