"""An IATI 2.03 activity file: pure builder, data in, bytes out (no database, no request).

The elements follow the order the schema (``iati-activities-schema.xsd`` 2.03)
requires; tests/test_interop_iati.py validates every file against it. Codes
used, from the IATI codelists: OrganisationRole 1 (funding) and 4
(implementing), ActivityStatus, ActivityDateType 1-4, ResultType 1 (output),
IndicatorMeasure 1 (unit), IndicatorVocabulary 99 (the reporting organisation's:
the tracker's indicator keys), DescriptionType 1 (general).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 (writes XML, never parses any)
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from tracker.interop.periods import Period

VERSION = "2.03"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

ROLE_FUNDING = "1"
ROLE_IMPLEMENTING = "4"
STATUS_PIPELINE = "1"
STATUS_IMPLEMENTATION = "2"
#: physically complete: whether the accounts are closed (4) is not the tracker's to know
STATUS_FINALISATION = "3"
PLANNED_START, ACTUAL_START, PLANNED_END, ACTUAL_END = "1", "2", "3", "4"
RESULT_OUTPUT = "1"
MEASURE_UNIT = "1"
DESCRIPTION_GENERAL = "1"
VOCABULARY_REPORTING_ORG = "99"
SEX_DIMENSION = "sex"

#: (language, text); language None is the activity's own (no xml:lang written)
Narratives = Sequence[tuple[str | None, str]]


@dataclass(frozen=True)
class Organisation:
    ref: str
    name: str
    type: str


@dataclass(frozen=True)
class ResultPeriod:
    """What one ``<period>`` of an indicator carries."""

    period: Period
    actual: int
    target: int | None = None
    #: the actuals by sex to publish ("F"/"M" -> people); empty: the total only
    by_sex: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ResultIndicator:
    """One indicator of the results framework, as one ``<result>`` with one ``<indicator>``."""

    key: str
    title: Narratives
    description: Narratives
    periods: Sequence[ResultPeriod]


@dataclass(frozen=True)
class Activity:
    identifier: str
    language: str
    reporting_org: Organisation
    title: str
    description: str
    funding_org: str | None
    status: str
    start: date
    end: date
    started: bool
    ended: bool
    recipient_country: str | None
    results: Sequence[ResultIndicator]
    generated: datetime


def activity_status(start: date, end: date, today: date) -> str:
    """Return the IATI activity status of a project running from ``start`` to ``end``."""
    if today < start:
        return STATUS_PIPELINE
    if today <= end:
        return STATUS_IMPLEMENTATION
    return STATUS_FINALISATION


def _narratives(parent: ET.Element, texts: Narratives) -> None:
    for language, text in texts:
        narrative = ET.SubElement(parent, "narrative")
        if language is not None:
            narrative.set(XML_LANG, language)
        narrative.text = text


def _text(parent: ET.Element, tag: str, texts: Narratives, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    _narratives(element, texts)
    return element


def _date(parent: ET.Element, tag: str, day: date, **attributes: str) -> None:
    ET.SubElement(parent, tag, {**attributes, "iso-date": day.isoformat()})


def _period(parent: ET.Element, period: ResultPeriod) -> None:
    element = ET.SubElement(parent, "period")
    _date(element, "period-start", period.period.start)
    _date(element, "period-end", period.period.end)
    if period.target is not None:
        ET.SubElement(element, "target", value=str(period.target))
    ET.SubElement(element, "actual", value=str(period.actual))
    for sex, value in period.by_sex.items():
        actual = ET.SubElement(element, "actual", value=str(value))
        ET.SubElement(actual, "dimension", name=SEX_DIMENSION, value=sex)


def _result(parent: ET.Element, indicator: ResultIndicator) -> None:
    result = ET.SubElement(parent, "result", type=RESULT_OUTPUT)
    _text(result, "title", indicator.title)
    element = ET.SubElement(result, "indicator", measure=MEASURE_UNIT, ascending="1")
    _text(element, "title", indicator.title)
    _text(element, "description", indicator.description)
    # the tracker's own name of the indicator (vocabulary 99: the reporting organisation's)
    ET.SubElement(element, "reference", vocabulary=VOCABULARY_REPORTING_ORG, code=indicator.key)
    for period in indicator.periods:
        _period(element, period)


def activity_xml(activity: Activity) -> bytes:
    """Return the IATI activities file (one activity) of ``activity``, UTF-8 encoded."""
    generated = activity.generated.isoformat(timespec="seconds")
    root = ET.Element("iati-activities", {"version": VERSION, "generated-datetime": generated})
    element = ET.SubElement(
        root,
        "iati-activity",
        {"last-updated-datetime": generated, XML_LANG: activity.language, "hierarchy": "1"},
    )
    ET.SubElement(element, "iati-identifier").text = activity.identifier
    org = activity.reporting_org
    _text(element, "reporting-org", [(None, org.name)], ref=org.ref, type=org.type)
    _text(element, "title", [(None, activity.title)])
    _text(element, "description", [(None, activity.description)], type=DESCRIPTION_GENERAL)
    if activity.funding_org:
        _text(element, "participating-org", [(None, activity.funding_org)], role=ROLE_FUNDING)
    _text(
        element,
        "participating-org",
        [(None, org.name)],
        role=ROLE_IMPLEMENTING,
        ref=org.ref,
        type=org.type,
    )
    ET.SubElement(element, "activity-status", code=activity.status)
    _date(element, "activity-date", activity.start, type=PLANNED_START)
    if activity.started:
        _date(element, "activity-date", activity.start, type=ACTUAL_START)
    _date(element, "activity-date", activity.end, type=PLANNED_END)
    if activity.ended:
        _date(element, "activity-date", activity.end, type=ACTUAL_END)
    if activity.recipient_country:
        ET.SubElement(
            element, "recipient-country", code=activity.recipient_country, percentage="100"
        )
    for indicator in activity.results:
        _result(element, indicator)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
