"""The sourced evidence base: observations, events, survey shares and the visa-requirement history.

Load with validation (every bad cell names its file, line and column), query, and cite::

    from emigre.evidence import load_evidence
    ev = load_evidence()
    ev.observation("OBS001").bound          # 'lower'
    ev.filter(kind="stock_in_destination", destination="GEO")
"""

from __future__ import annotations

from emigre.evidence.codes import EVENT_KINDS, OBSERVATION_KINDS, REQUIREMENTS, SPECIAL_CODES
from emigre.evidence.records import Citation, Event, Observation, SurveyShare, VisaRequirement, format_value
from emigre.evidence.schema import detect_schema, parse_rows, read_table
from emigre.evidence.store import (
    Evidence,
    data_dir,
    load_events,
    load_evidence,
    load_observations,
    load_survey_shares,
    load_visa_history,
)

__all__ = [
    "EVENT_KINDS",
    "OBSERVATION_KINDS",
    "REQUIREMENTS",
    "SPECIAL_CODES",
    "Citation",
    "Event",
    "Evidence",
    "Observation",
    "SurveyShare",
    "VisaRequirement",
    "data_dir",
    "detect_schema",
    "format_value",
    "load_events",
    "load_evidence",
    "load_observations",
    "load_survey_shares",
    "load_visa_history",
    "parse_rows",
    "read_table",
]
