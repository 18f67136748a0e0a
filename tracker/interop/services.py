"""IATI and DHIS2 documents of a project: the figures read from the database, then the builders.

Small cells. An IATI file is public: a breakdown by sex of one period is
published only when none of its cells is under ``SMALL_CELL_THRESHOLD``
(``tracker.reports.disclosure``, as the donor report hides them); otherwise the
period carries its total alone, which stays exact, as every total does. A
whole breakdown rather than one cell, because with two sexes one hidden cell is
the total minus the other. DHIS2 values go to the programme's own health or
migration information system, not to the public: they are exact, as the
dashboard shows them to a manager.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pycountry
from flask_babel import force_locale
from flask_babel import gettext as _

from tracker import audit, indicators
from tracker.config import LANGUAGES
from tracker.exports.services import filename as export_filename
from tracker.interop import dhis2, iati
from tracker.interop.figures import KEYS, Figure, figures
from tracker.interop.periods import Period, reporting_periods, whole_project
from tracker.models import Project, now_utc
from tracker.projects import calendar
from tracker.reports import disclosure

IATI = "iati"
DHIS2 = "dhis2"


@dataclass(frozen=True)
class IatiSettings:
    """Who publishes: the reporting organisation, and the prefix of activity identifiers."""

    reporting_org: iati.Organisation
    identifier_prefix: str
    language: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> IatiSettings:
        return cls(
            iati.Organisation(
                config["IATI_REPORTING_ORG_REF"],
                config["IATI_REPORTING_ORG_NAME"],
                str(config["IATI_REPORTING_ORG_TYPE"]),
            ),
            config.get("IATI_IDENTIFIER_PREFIX") or config["IATI_REPORTING_ORG_REF"],
            config.get("BABEL_DEFAULT_LOCALE") or LANGUAGES[0],
        )


def published_by_sex(figure: Figure, threshold: int) -> dict[str, int]:
    """Return the breakdown by sex a public file may carry: all of it, or nothing."""
    if not figure.about_people or figure.total == 0:
        return {}
    cells = {"F": 0, "M": 0, **{str(k): v for k, v in (figure.by_sex or {}).items()}}
    if any(disclosure.classify(list(cells.values()), threshold, total_shown=True)):
        return {}
    return {sex: cells[sex] for sex in ("F", "M")}


def _translated(text: Any, language: str) -> list[tuple[str | None, str]]:
    """Return ``text`` (a lazy string) in every language, the file's own first."""
    found = []
    for lang in (language, *(lang for lang in LANGUAGES if lang != language)):
        with force_locale(lang):
            found.append((None if lang == language else lang, str(text)))
    return found


def _target(project: Project, key: str, period: Period) -> int | None:
    """The target of ``key`` for ``period``: the whole project's, or its periods' sum."""
    found = calendar.target_for(project, key, period.start, period.end)
    return found.value if found is not None else None


def recipient_country(alpha3: str | None) -> str | None:
    """Return the ISO 3166 alpha-2 code of an alpha-3 code, None if it is no country."""
    country = pycountry.countries.get(alpha_3=alpha3.upper()) if alpha3 else None
    return country.alpha_2 if country is not None else None


def iati_activity(
    project: Project, settings: IatiSettings, *, threshold: int, today: date, now: datetime
) -> iati.Activity:
    """Return the IATI activity of ``project``: its results for each period and as a whole."""
    whole = whole_project(project)
    # the whole project last, once (a project of one quarter reports one period)
    periods = [p for p in reporting_periods(project) if p != whole] + [whole]
    by_period = {period: figures([project.id], period) for period in periods}
    results = []
    for key in KEYS:
        indicator = indicators.get(key)
        result_periods = [
            iati.ResultPeriod(
                period,
                by_period[period][key].total,
                target=_target(project, key, period),
                by_sex=published_by_sex(by_period[period][key], threshold),
            )
            for period in periods
        ]
        results.append(
            iati.ResultIndicator(
                key,
                _translated(indicator.label, settings.language),
                _translated(indicator.definition, settings.language),
                result_periods,
            )
        )
    return iati.Activity(
        identifier=f"{settings.identifier_prefix}-{project.code}",
        language=settings.language,
        reporting_org=settings.reporting_org,
        title=project.title,
        description=project.description or project.title,
        funding_org=project.donor,
        status=iati.activity_status(project.start_date, project.end_date, today),
        start=project.start_date,
        end=project.end_date,
        started=today >= project.start_date,
        ended=today > project.end_date,
        recipient_country=recipient_country(project.country),
        results=results,
        generated=now,
    )


def iati_file(
    project: Project,
    config: Mapping[str, Any],
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> bytes:
    """Return the IATI 2.03 activities file of ``project``."""
    now = now or now_utc()
    activity = iati_activity(
        project,
        IatiSettings.from_config(config),
        threshold=config["SMALL_CELL_THRESHOLD"],
        today=today or now.date(),
        now=now,
    )
    return iati.activity_xml(activity)


def check_period(project: Project, period: dhis2.Dhis2Period) -> None:
    """Raise PeriodError if ``period`` has no day in common with the project."""
    if period.end < project.start_date or period.start > project.end_date:
        raise dhis2.PeriodError(
            _(
                "%(period)s is outside the project %(code)s (%(start)s to %(end)s).",
                period=period.code,
                code=project.code,
                start=project.start_date.isoformat(),
                end=project.end_date.isoformat(),
            )
        )


def dhis2_values(
    project: Project, period: dhis2.Dhis2Period, mapping: dhis2.Mapping
) -> list[dhis2.Value]:
    """Return the data values of ``project`` over ``period`` that ``mapping`` sends."""
    keys = tuple(element.indicator for element in mapping.elements)
    found = figures([project.id], Period(period.start, period.end), keys)
    return dhis2.values(mapping, found)


def dhis2_file(
    project: Project,
    period: dhis2.Dhis2Period,
    mapping: dhis2.Mapping,
    fmt: str,
    *,
    now: datetime | None = None,
) -> tuple[bytes, int]:
    """Return the DHIS2 document (JSON or ADX) of ``project`` over ``period``, and its size."""
    if fmt == dhis2.ADX:
        dhis2.check_for_adx(mapping)
    found = dhis2_values(project, period, mapping)
    if fmt == dhis2.ADX:
        return dhis2.adx_document(mapping, period, found, exported=now or now_utc()), len(found)
    return dhis2.json_document(mapping, period, found), len(found)


def filename(kind: str, project: Project, extension: str, today: date | None = None) -> str:
    """Return the server-made name of a file, e.g. iati-IDF-MA-2014-2026-11-29.xml."""
    return export_filename(kind, extension, projects=[project], today=today)


def iati_audit_detail(project: Project) -> dict[str, Any]:
    """Return what the audit line of an IATI file says of it."""
    return {
        "format": "xml",
        "project": project.code,
        "version": iati.VERSION,
        "periods": len(reporting_periods(project)),
    }


def record_audit(kind: str, detail: dict[str, Any], *, remote_addr: str | None) -> None:
    """Write the audit line of an IATI or DHIS2 export at once, as the other exports do."""
    audit.record_now("export", kind, None, detail, remote_addr=remote_addr)
