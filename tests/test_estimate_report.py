"""The report's Estimates section: the headline estimates of `emigre estimate` on the main job's store, with
50% and 90% intervals, beside the published figures of the same quantity (id, value, citation)."""

from __future__ import annotations

import re

from emigre.estimate import estimate
from emigre.report import SECTIONS
from emigre.report.markup import people, span
from emigre.results import ResultStore


def _section(text: str, sid: str) -> str:
    start = text.index(f'<section id="{sid}">')
    return text[start : text.index("</section>", start)]


def test_estimates_section(main_job):
    out, _ = main_job
    store = ResultStore(out)
    text = (out / "report.html").read_text("utf-8")
    assert ("estimates", "Estimates") in SECTIONS
    sec = _section(text, "estimates")
    body = sec[sec.index("<tbody>") :]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    labels = [re.sub(r"<[^>]+>", "", re.search(r"<td>(.*?)</td>", r, re.S).group(1)) for r in rows]
    assert labels[:5] == [
        "left Russia by 31 Dec 2022",
        "left Russia by 31 Dec 2023",
        "abroad on 31 Dec 2022",
        "abroad on 31 Dec 2023",
        "came back to stay by 31 Dec 2023",
    ]
    assert any(lab.startswith("present in Kazakhstan (KAZ) on 31 Dec 2022") for lab in labels[5:])
    # the numbers are emigre estimate's on the same store
    [dep] = estimate("departed", store, at="2022-12-31")
    cells = re.findall(r"<td[^>]*>(.*?)</td>", rows[0], re.S)
    assert cells[1:4] == [people(dep.median), span(dep.lo50, dep.hi50), span(dep.lo90, dep.hi90)]
    [geo] = estimate("present", store, at="2022-12-31", destination="GEO")
    geo_row = next(r for r, lab in zip(rows, labels, strict=True) if "(GEO)" in lab)
    assert people(geo.median) in geo_row
    # published figures of the same quantity, with citation: The Bell's "more than 500,000" abroad at the end
    # of 2022, and the Georgian president's ~100,000 in Georgia (10 Nov 2022, with the estimate on that day)
    abroad_row = rows[2]
    assert 'data-id="OBS013"' in abroad_row and "more than 500,000" in abroad_row and "The Bell" in abroad_row
    assert re.search(r'<a href="https://[^"]+" rel="noreferrer"', abroad_row)
    assert 'data-id="OBS082"' in geo_row and "simulated on 10 Nov 2022" in geo_row
    [nov] = estimate("present", store, at="2022-11-10", destination="GEO")
    assert people(nov.median) in geo_row
    # the main job's runs are posterior draws x seeds (the packaged posterior): said in the lead, and no note
    # that the intervals hold only the simulation's randomness
    runs = store.runs()
    assert runs["draw"].nunique() == len(runs) == 2
    assert "2 runs (2 parameter draws x 2 seeds)" in sec and "differ by their seed only" not in sec
