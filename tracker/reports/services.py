"""Donor reports that are kept: narratives, generation, and what changed since.

Every donor report generated (from the web or ``flask report donor``) is stored
with its parameters, the indicator definitions' version, the data's as-of time,
the SHA-256 of the file and, per headline figure, the SHA-256 of the sorted ids
of the people or institutions behind it. ``compare()`` recomputes those figures
today for the same project and period, so a manager can say which moved and
whether the people behind an unchanged number are still the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, NamedTuple

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker import indicators
from tracker.config import LANGUAGES
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import GeneratedReport, Project, ReportNarrative, User, now_utc
from tracker.reports.donor import Headline, collect, gather_headline
from tracker.reports.model import AnnexFile, DonorReport
from tracker.reports.pdf import build_donor_pdf
from tracker.reports.spreadsheets import write_csv

SECTIONS = ReportNarrative.SECTIONS
SECTION_LABELS = {
    "context": _l("Context"),
    "achievements": _l("Achievements"),
    "challenges": _l("Challenges"),
    "lessons": _l("Lessons learned"),
}
#: longest text of one narrative section, in characters (about ten printed pages)
MAX_SECTION_LENGTH = 20_000


# --- narrative ----------------------------------------------------------------------------


def clean_text(text: str | None) -> str:
    """Return a section's text as stored: Unix line ends, no trailing blanks."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").rstrip()


def narrative_rows(project: Project) -> dict[str, ReportNarrative]:
    """Return the project's saved narrative sections, keyed by section."""
    rows = db.session.scalars(
        select(ReportNarrative).where(ReportNarrative.project_id == project.id)
    )
    return {row.section: row for row in rows}


def narrative_texts(project: Project) -> dict[str, str]:
    """Return the text of every section ("" for a section never written), in order."""
    rows = narrative_rows(project)
    return {section: rows[section].text if section in rows else "" for section in SECTIONS}


def save_narrative(project: Project, texts: Mapping[str, str | None]) -> list[ReportNarrative]:
    """Save the sections given in ``texts``; return the rows that changed. Flush only."""
    unknown = set(texts) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown narrative sections: {sorted(unknown)}")
    rows = narrative_rows(project)
    changed = []
    for section in SECTIONS:
        if section not in texts:
            continue
        text = clean_text(texts[section])
        if len(text) > MAX_SECTION_LENGTH:
            raise DomainError(
                _("At most %(n)d characters per section.", n=MAX_SECTION_LENGTH), section
            )
        row = rows.get(section)
        if row is None:
            if not text:
                continue
            row = ReportNarrative(project_id=project.id, section=section, text=text)
            db.session.add(row)
        elif row.text == text:
            continue
        else:
            row.text = text
        changed.append(row)
    db.session.flush()
    return changed


def narrative_for_report(narrative: Mapping[str, str], language: str) -> list[tuple[str, str]]:
    """Return (heading in ``language``, text) of the sections that have text, in order."""
    with force_locale(language):
        return [
            (str(SECTION_LABELS[section]), narrative[section])
            for section in SECTIONS
            if clean_text(narrative.get(section))
        ]


# --- figures and their rows -----------------------------------------------------------------


def rows_sha256(ids: Iterable[int]) -> str:
    """Return the SHA-256 of the ids, sorted as numbers, one per line (no final newline)."""
    text = "\n".join(str(i) for i in sorted(ids))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def resolve_period(project: Project, start: date | None, end: date | None) -> tuple[date, date]:
    """Return the period asked for, the project's own dates filling what is missing."""
    start = start or project.start_date
    end = end or project.end_date
    if end < start:
        raise DomainError(_("The end of the period is before its start."), "end")
    return start, end


def current_figures(
    project: Project, start: date, end: date, headline: Headline | None = None
) -> dict[str, dict[str, Any]]:
    """Return each headline figure of ``project`` over [start, end] with its rows' hash.

    ``{"trained": {"value": 135, "rows_sha256": "…"}, "placement_rate": {"value": 0.30}}``:
    the placement rate is a ratio of two other figures, so it has no rows of its own.
    ``headline`` passes the figures already gathered for that scope.
    """
    headline = headline or gather_headline(indicators.Scope((project.id,), start, end))
    figures: dict[str, dict[str, Any]] = {}
    for key in indicators.HEADLINE:
        figure: dict[str, Any] = {"value": headline.values[key]}
        if key in headline.ids:
            figure["rows_sha256"] = rows_sha256(headline.ids[key])
        figures[key] = figure
    return figures


# --- generation -------------------------------------------------------------------------------


def annex_csv(report: DonorReport) -> bytes:
    """Return the pseudonymous annex as a CSV file: the PDF's annex columns and rows.

    UTF-8 with a byte-order mark and semicolons, like the other exports, whose
    writer also neutralises cells a spreadsheet would run as formulas.
    """
    return write_csv(report.annex_columns, report.annex_rows)


def annex_name(project_code: str, start: date, end: date, sha256: str) -> str:
    """Return the annex's file name when the caller gives none: period and hash in it."""
    return (
        f"donor-report-{project_code}-{start.isoformat()}-{end.isoformat()}-annex-{sha256[:8]}.csv"
    )


def generate_donor_report(
    project: Project,
    start: date | None,
    end: date | None,
    *,
    language: str,
    narrative: Mapping[str, str],
    by: User | None,
    actor_label: str,
    threshold: int,
    now: datetime | None = None,
    annex_file_name: str | None = None,
) -> GeneratedReport:
    """Build the donor PDF of ``project`` over [start, end] and its annex; keep both; flush only.

    The stored files are the ones handed out, byte for byte, every time they are
    downloaded; ``figures`` records what each headline figure counted. The annex is a
    CSV named ``annex_file_name`` (default: ``annex_name()``), which the PDF names with
    its rows and SHA-256.
    """
    if language not in LANGUAGES:
        raise DomainError(_("Unknown language: %(lang)s.", lang=language), "lang")
    if threshold < 0:
        raise ValueError("the small-cell threshold cannot be negative")
    start, end = resolve_period(project, start, end)
    sections = {section: clean_text(narrative.get(section)) for section in SECTIONS}
    generated_at = now or now_utc()
    # the figures are gathered once: the PDF prints them, ``figures`` keeps their hashes
    headline = gather_headline(indicators.Scope((project.id,), start, end))
    with force_locale(language):
        report = collect(
            project,
            start,
            end,
            language=language,
            small_cell_threshold=threshold,
            narrative=narrative_for_report(sections, language),
            headline=headline,
        )
        annex = annex_csv(report)
        annex_sha256 = hashlib.sha256(annex).hexdigest()
        report.annex_file = AnnexFile(
            name=annex_file_name or annex_name(project.code, start, end, annex_sha256),
            rows=len(report.annex_rows),
            sha256=annex_sha256,
        )
        content = build_donor_pdf(report, generated_at=generated_at)
    generated = GeneratedReport(
        project_id=project.id,
        period_start=start,
        period_end=end,
        language=language,
        created_at=generated_at,
        created_by_id=by.id if by else None,
        created_by_label=actor_label,
        as_of=report.as_of,
        definitions_version=indicators.DEFINITIONS_VERSION,
        small_cell_threshold=threshold,
        parameters={
            "project": project.code,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "language": language,
            "threshold": threshold,
            "narrative": sections,
        },
        figures=current_figures(project, start, end, headline),
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content=content,
        annex_name=report.annex_file.name,
        annex_rows=report.annex_file.rows,
        annex_sha256=annex_sha256,
        annex_content=annex,
    )
    db.session.add(generated)
    db.session.flush()
    return generated


def download_name(report: GeneratedReport) -> str:
    """Return the file name a stored report is downloaded under."""
    code = report.parameters.get("project") or report.project.code
    return (
        f"donor-report-{code}-{report.period_start.isoformat()}-"
        f"{report.period_end.isoformat()}-{report.id}.pdf"
    )


# --- what changed since -----------------------------------------------------------------------


class FigureChange(NamedTuple):
    """One headline figure then (in the stored report) and now, for the same parameters."""

    label: str
    then: int | float | None
    now: int | float | None
    changed: bool
    rows_changed: bool


def compare(report: GeneratedReport) -> list[FigureChange]:
    """Recompute today the figures of a stored report and say which moved.

    ``rows_changed`` is true when the people or institutions behind a figure are
    not the same any more, even if their number is (one person in, one out).
    """
    project = db.session.get(Project, report.project_id)
    today = current_figures(project, report.period_start, report.period_end)
    stored = report.figures or {}
    keys = [k for k in indicators.HEADLINE if k in stored] + [
        k for k in stored if k not in indicators.HEADLINE
    ]
    changes = []
    for key in keys:
        then = stored[key] or {}
        now = today.get(key, {})
        label = str(indicators.INDICATORS[key].label) if key in indicators.INDICATORS else key
        then_value, now_value = then.get("value"), now.get("value")
        changes.append(
            FigureChange(
                label=label,
                then=then_value,
                now=now_value,
                changed=_differs(then_value, now_value),
                rows_changed="rows_sha256" in then
                and then.get("rows_sha256") != now.get("rows_sha256"),
            )
        )
    return changes


def _differs(then: int | float | None, now: int | float | None) -> bool:
    if then is None or now is None:
        return then is not now
    # a ratio read back from JSON: equal figures may differ in the last binary digit
    return abs(float(then) - float(now)) > 1e-12
