"""The report of an ensemble: one self-contained HTML file answering how many left, when, why, how, where
to, who, and how many stayed abroad - with 90% bands over runs, a map of flows, the timeline of events and
the sourced figures beside the simulated quantities.

>>> from emigre.report import write_report
>>> from emigre.scenario import load_scenario
>>> write_report("out/russia-2022", load_scenario("russia-2022"), "out/russia-2022/report.html")
"""

from emigre.report.html import CHARTS, SECTIONS, write_report

__all__ = ["CHARTS", "SECTIONS", "write_report"]
