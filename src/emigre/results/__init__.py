"""Ensemble outputs: a Parquet/DuckDB store of per-run daily series and quantile bands over runs.

>>> from emigre.results import ResultStore
>>> store = ResultStore("out/russia-2022")
>>> store.write_run(0, frame)            # long format: date, place, measure, group, value
>>> store.bands("departures")            # date, median, q05, q25, q75, q95 over runs
>>> store.bands_many("present", places=["GEO", "KAZ"])

The per-run schema and its vocabulary are in :mod:`emigre.results.schema`;
``tests/synthetic.py`` makes a made-up ensemble in that schema for the tests.
"""

from emigre.results.bands import BAND_COLUMNS, QUANTILES, RunSeries, band_table, summarize
from emigre.results.schema import COUNTRY_MEASURES, LINK_MEASURES, NATIONAL, NATIONAL_MEASURES
from emigre.results.store import COLUMNS, ResultStore, normalize_frame

__all__ = [
    "BAND_COLUMNS",
    "BREAKDOWNS",
    "COLUMNS",
    "COUNTRY_MEASURES",
    "LINK_MEASURES",
    "NATIONAL",
    "NATIONAL_MEASURES",
    "QUANTILES",
    "ResultStore",
    "RunSeries",
    "band_table",
    "normalize_frame",
    "summarize",
]


def __getattr__(name: str):
    # BREAKDOWNS reads the default scenario: on first use, not at import
    if name == "BREAKDOWNS":
        from emigre.results.schema import scenario_breakdowns

        return scenario_breakdowns()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
