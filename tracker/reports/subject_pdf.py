"""One person's data as a PDF, in her language: the subject-access document.

``build_subject_pdf(dossier)`` lays out ``tracker.participants.subject_access.Dossier``
under ``force_locale(dossier.language)``: who she is as recorded, her consents,
trainings, placements and follow-ups, the records merged into hers, then the audit
log's lines about her (changes, reads, the export files that held her). Every page says
"Page X of Y", her code and when the document was made.

French and English documents are laid out left to right in Amiri whenever her data
hold a character Helvetica cannot print (a name in Arabic script); an Arabic one
right to left (``tracker.reports.script``). The house style is the donor report's
(``tracker.reports.pdf``): same tables, headings and numbered canvas.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _

from tracker.audit import FIELD_LABELS
from tracker.i18n import country_name
from tracker.participants.subject_access import IDENTITY
from tracker.reports import charts, script
from tracker.reports.pdf import (
    A4,
    FRAME_WIDTH,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MUTED_INK,
    PAGE_HEIGHT,
    _date,
    _doc_template_class,
    _end_x,
    _heading,
    _moment,
    _numbered_canvas_class,
    _p,
    _start_x,
    _table,
    _winansi,
    body_frame,
    mm,
    page_footer,
    pdf_text,
)

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import BaseDocTemplate, Flowable

    from tracker.participants.subject_access import AuditEntry, Dossier

NONE = "—"


def _value(name: str, value: Any) -> str:
    """A stored value as the document prints it, in its language."""
    if value is None or value == "":
        return NONE
    if name == "nationality":
        return country_name(value)
    if hasattr(value, "label"):
        return str(value.label)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return _moment(value)
    if isinstance(value, date):
        return _date(value)
    if isinstance(value, Decimal):
        return format_decimal(value)
    return str(value)


def _cells(rows: list[list[Any]]) -> list[list[Any]]:
    """Every cell a paragraph: long values wrap, Arabic runs are joined."""
    return [[_p(cell, "head") for cell in rows[0]]] + [
        [_p(cell, "cell") for cell in row] for row in rows[1:]
    ]


def _grid(rows: list[list[Any]], fractions: list[float]) -> Flowable:
    widths = [FRAME_WIDTH * f for f in fractions]
    return _table(_cells(rows), widths)


def _pairs(pairs: list[tuple[str, str]]) -> Flowable:
    """A two-column table of labels and values, without a header row."""
    rows = [[_p(label, "cell_bold"), _p(value, "cell")] for label, value in pairs]
    return _table(rows, [FRAME_WIDTH * 0.32, FRAME_WIDTH * 0.68], header_rows=0)


def _audit_rows(entries: list[AuditEntry]) -> list[list[str]]:
    rows = [[_("When (UTC)"), _("Who"), _("What")]]
    for entry in entries:
        what = entry.sentence
        if entry.details:
            what += " — " + "; ".join(entry.details)
        rows.append([_moment(entry.event.occurred_at), entry.who, what])
    return rows


def _section(title: str, intro: str | None, body: list[Flowable] | None, empty: str):
    story: list[Flowable] = [_heading(title)]
    if intro:
        story.append(_p(intro, "note"))
    if body:
        story += body
    else:
        story.append(_p(empty))
    return story


def _identity(dossier: Dossier) -> list[Flowable]:
    person = dossier.person
    pairs = [(str(FIELD_LABELS.get(n, n)), _value(n, getattr(person, n))) for n in IDENTITY]
    pairs.append((_("Project"), f"{person.project.title} ({person.project.code})"))
    if dossier.registered_by:
        pairs.append((_("Registered by"), dossier.registered_by))
    if person.external_id:
        pairs.append((_("Form submission it came from"), person.external_id))
    if person.archived_at:
        pairs.append((_("Archived on"), _value("archived_at", person.archived_at)))
    if person.erased_at:
        pairs.append((_("Identity erased on"), _value("erased_at", person.erased_at)))
    story = _section(_("Who you are, as recorded"), None, [_pairs(pairs)], "")
    if dossier.merged:
        rows = [[_("Code"), _("Name"), _("Registered on")]]
        rows += [[p.code, p.full_name, _date(p.registered_on)] for p in dossier.merged]
        story += _section(
            _("Records merged into this one"),
            _("You were registered more than once; these records were found to be you."),
            [_grid(rows, [0.25, 0.45, 0.30])],
            "",
        )
    return story


def _consents(dossier: Dossier) -> list[Flowable]:
    from tracker.participants.consent import status_of

    states = {
        "valid": _("valid"),
        "withdrawn": _("withdrawn"),
        "expired": _("expired"),
        "not_yet": _("not yet valid"),
    }
    rows = [[_("Purpose"), _("Given on"), _("Expires on"), _("Withdrawn on"), _("Status")]]
    for c in dossier.consents:
        purpose = c.purpose.label + (f" ({c.partner.name})" if c.partner else "")
        rows.append(
            [
                purpose,
                _date(c.given_on),
                _value("expires_on", c.expires_on),
                _value("withdrawn_on", c.withdrawn_on),
                states[status_of(c)],
            ]
        )
    body = [_grid(rows, [0.34, 0.17, 0.17, 0.17, 0.15])] if dossier.consents else None
    return _section(_("Your consents"), None, body, _("No consent recorded."))


def _trainings(dossier: Dossier) -> list[Flowable]:
    rows = [[_("Course"), _("Provider"), _("Dates"), _("Enrolled on"), _("Outcome")]]
    for e in dossier.enrolments:
        course = e.course
        outcome = e.status.label
        if e.completed_on:
            outcome += ", " + _date(e.completed_on)
        if e.dropped_on:
            outcome += ", " + _date(e.dropped_on)
        if e.attendance_pct is not None:
            outcome += ", " + _("attendance %(pct)d %%", pct=e.attendance_pct)
        if e.certificate:
            outcome += ", " + _("certificate")
        rows.append(
            [
                f"{course.title} ({course.kind.label})",
                course.provider.name,
                f"{_date(course.start_date)} – {_date(course.end_date)}",
                _date(e.enrolled_on),
                outcome,
            ]
        )
    body = [_grid(rows, [0.27, 0.2, 0.21, 0.13, 0.19])] if dossier.enrolments else None
    return _section(_("Your trainings"), None, body, _("No training recorded."))


def _placements(dossier: Dossier) -> list[Flowable]:
    from tracker.participants.subject_access import follow_ups

    rows = [[_("Kind"), _("Where"), _("Dates"), _("Contract and income"), _("Referred by")]]
    for p in dossier.placements:
        where = p.employer.name if p.employer else (p.business_name or NONE)
        income = [p.contract_type.label] if p.contract_type else []
        if p.monthly_income is not None:
            income.append(_("%(amount)s a month", amount=format_decimal(p.monthly_income)))
        rows.append(
            [
                p.kind.label,
                f"{where} · {p.sector}",
                f"{_date(p.start_date)} – {_value('end_date', p.end_date)}",
                ", ".join(income) or NONE,
                p.referral_partner.name if p.referral_partner else NONE,
            ]
        )
    body = [_grid(rows, [0.16, 0.3, 0.22, 0.17, 0.15])] if dossier.placements else None
    story = _section(_("Your jobs and income-generating activities"), None, body, _("None."))
    checks = follow_ups(dossier)
    if checks:
        rows = [[_("Placement"), _("Months after"), _("On"), _("Still active"), _("Note")]]
        for placement, f in checks:
            where = placement.employer.name if placement.employer else placement.business_name
            note = f.note or NONE
            if f.monthly_income is not None:
                note = _("%(amount)s a month", amount=format_decimal(f.monthly_income)) + (
                    f" · {f.note}" if f.note else ""
                )
            rows.append(
                [
                    where or NONE,
                    format_decimal(f.months_after),
                    _date(f.followed_on),
                    _value("still_active", f.still_active),
                    note,
                ]
            )
        story += [_heading(_("Follow-ups"), "h2", 1), _grid(rows, [0.26, 0.12, 0.18, 0.12, 0.32])]
    return story


def _log(dossier: Dossier) -> list[Flowable]:
    """The audit log's lines about her: changes, reads, exports, each a table."""
    parts = (
        (
            _("Changes made to your records"),
            _(
                "Each change, when and by whom. The log never keeps the values of personal "
                "fields: it names the field changed."
            ),
            dossier.changes,
            _("None."),
        ),
        (
            _("Who read your data"),
            _(
                "Each time your case file was opened, and each list of people that showed you "
                "(by name or by code), with who read it."
            ),
            dossier.reads,
            _("Nobody read your case file."),
        ),
        (
            _("Files that held your records"),
            _(
                "Each export file that held you, by name or by code, and each donor report "
                "whose annex listed your code, with who took it. A file with names holds only "
                "people whose consent to case management holds; a file of codes, only those "
                "who allow donor reporting."
            ),
            dossier.exports,
            _("None."),
        ),
    )
    story: list[Flowable] = []
    for title, intro, entries, empty in parts:
        table = [_grid(_audit_rows(entries), [0.2, 0.22, 0.58])] if entries else None
        story += _section(title, intro, table, empty)
    return story


def _about(dossier: Dossier) -> list[Flowable]:
    person = dossier.person
    contact = current_app.config.get("DATA_PROTECTION_CONTACT")
    story: list[Flowable] = [
        _p(_("Personal data held about you"), "cover_title"),
        _p(f"{person.full_name} · {person.code}", "cover_code"),
        _p(
            _(
                "Made on %(when)s by %(who)s, at your request.",
                when=_moment(dossier.generated_at),
                who=dossier.generated_by.name or dossier.generated_by.email,
            ),
            "cover_label",
        ),
        _p(
            _(
                "This document holds everything the programme %(project)s keeps about you: "
                "what was recorded, your consents, your trainings and placements, and who "
                "changed or read your records. Activities with partner institutions record "
                "institutions, never people: none is about you.",
                project=person.project.title,
            )
        ),
        _p(
            _(
                "You may ask for anything wrong to be corrected, withdraw a consent at any "
                "time, or ask for your identity to be erased: your figures then stay in the "
                "programme's totals without your name."
            )
        ),
    ]
    if contact:
        story.append(_p(_("Data protection contact: %(contact)s", contact=contact)))
    return story


def _needs_other_script(dossier: Dossier) -> bool:
    """Whether her data hold a character the Latin fonts cannot print."""
    person = dossier.person
    texts = [str(getattr(person, n) or "") for n in IDENTITY]
    texts += [p.full_name for p in dossier.merged]
    texts += [f.note or "" for p in dossier.placements for f in p.follow_ups]
    texts += [p.business_name or "" for p in dossier.placements]
    return any(not _winansi(c) for text in texts for c in text)


def build_subject_pdf(dossier: Dossier) -> bytes:
    """Return the document as PDF bytes; call it under ``force_locale(dossier.language)``."""
    if script.is_rtl_language(dossier.language) or _needs_other_script(dossier):
        with script.any_script(dossier.language):
            return _build(dossier)
    return _build(dossier)


def _build(dossier: Dossier) -> bytes:
    from reportlab.platypus import PageTemplate

    code = pdf_text(dossier.person.code)
    made = pdf_text(_("Made on %(when)s", when=_moment(dossier.generated_at)))
    title = pdf_text(_("Personal data held about you"))

    def draw_head(canv: Canvas, doc: BaseDocTemplate) -> None:
        canv.saveState()
        canv.setFont(script.font(), 7.5)
        canv.setFillColor(charts.colour(MUTED_INK))
        top = PAGE_HEIGHT - MARGIN_TOP + 8 * mm
        _start_x(canv, top, script.shown(title))
        canv.setFont(script.bold(), 7.5)
        _end_x(canv, top, code)
        canv.restoreState()
        canv.footer_wanted = True

    draw_footer = page_footer(f"{code} · {made}")
    buffer = io.BytesIO()
    doc = _doc_template_class()(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=f"{title} · {code}",
        author=pdf_text(dossier.person.project.title),
        subject=title,
        creator="tracker",
        lang=dossier.language,
        displayDocTitle=True,
        invariant=1,
        pageTemplates=[PageTemplate("body", [body_frame("body")], onPage=draw_head)],
    )
    story: list[Flowable] = []
    story += _about(dossier)
    story += _identity(dossier)
    story += _consents(dossier)
    story += _trainings(dossier)
    story += _placements(dossier)
    story += _log(dossier)
    doc.build(
        story,
        canvasmaker=partial(
            _numbered_canvas_class(), footer=draw_footer, created=dossier.generated_at
        ),
    )
    return buffer.getvalue()
