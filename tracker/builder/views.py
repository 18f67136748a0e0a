from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import Locale, UnknownLocaleError
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, selectinload
from sqlalchemy.orm.exc import StaleDataError

from tracker import audit, indicators, security
from tracker.builder import bp
from tracker.builder.forms import GenerateForm, NarrativeForm, PeriodForm, PickForm
from tracker.config import LANGUAGES
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.jobs import queue
from tracker.models import GeneratedReport, Project, Role
from tracker.participants import merging
from tracker.permissions import (
    MANAGERS,
    get_project_or_404,
    in_scope,
    role_required,
    visible_projects,
)
from tracker.reports import disclosure
from tracker.reports import services as reports
from tracker.reports.donor import collect
from tracker.reports.model import Disaggregation
from tracker.reports.spreadsheets import CSV_MIMETYPE
from tracker.web import conflict_page, field_error, version_changed

#: who may open the builder: viewers read and download the kept reports (pseudonymous)
READERS = (*MANAGERS, Role.VIEWER)
PER_PAGE = 25


def language_name(code: str) -> str:
    """Return the name of a report's language in the user's language ("French", "anglais")."""
    try:
        return Locale.parse(code).get_display_name(str(get_locale() or LANGUAGES[0])) or code
    except (ValueError, UnknownLocaleError):
        return code


@bp.context_processor
def _helpers() -> dict:
    return {"report_language_name": language_name}


def _reports_query(project_id: int | None = None):
    query = (
        select(GeneratedReport)
        .where(in_scope(current_user, GeneratedReport.project_id))
        .options(defer(GeneratedReport.content), selectinload(GeneratedReport.project))
        .order_by(GeneratedReport.created_at.desc(), GeneratedReport.id.desc())
    )
    if project_id is not None:
        query = query.where(GeneratedReport.project_id == project_id)
    return query


def _get_report_or_404(report_id: int) -> GeneratedReport:
    report = db.session.scalar(
        select(GeneratedReport).where(
            GeneratedReport.id == report_id, in_scope(current_user, GeneratedReport.project_id)
        )
    )
    if report is None:
        abort(404)
    return report


@bp.route("/")
@role_required(*READERS)
def index():
    """Pick a project and a period to report on; list the reports already generated."""
    projects = visible_projects(current_user)
    can_generate = current_user.role in MANAGERS
    form = PickForm(request.args)
    form.project.choices = [
        (
            str(p.id),
            f"{p.code} – {p.title} ({format_date(p.start_date)} – {format_date(p.end_date)})",
        )
        for p in projects
    ]
    if can_generate and form.project.data and form.validate():
        project = next((p for p in projects if str(p.id) == form.project.data), None)
        if project is None:
            abort(404)
        return redirect(url_for(".edit", project_id=project.id, **_period_args(project, form)))
    if not form.lang.data:
        form.lang.data = str(get_locale() or LANGUAGES[0])
    page = db.paginate(_reports_query(), per_page=PER_PAGE, error_out=False, max_per_page=100)
    return render_template(
        "builder/index.html",
        form=form,
        projects=projects,
        can_generate=can_generate,
        page=page,
        threshold=current_app.config["SMALL_CELL_THRESHOLD"],
    )


def _period_args(project: Project, form: PeriodForm | GenerateForm) -> dict[str, str]:
    """Return the period and language as query arguments, the project's dates by default."""
    return {
        "from": (form.start.data or project.start_date).isoformat(),
        "to": (form.end.data or project.end_date).isoformat(),
        "lang": form.lang.data or str(get_locale() or LANGUAGES[0]),
    }


@dataclass(frozen=True)
class PublishedRow:
    label: str
    shown: int | str  # the count, "< 5" or the complementary mark
    share: float | None  # None when hidden
    category: Any = None  # for the link to the people behind the cell


@dataclass(frozen=True)
class PublishedTable:
    """One breakdown as the PDF prints it: identifying small cells hidden, total exact."""

    title: str
    indicator_key: str
    dimension_key: str
    total: int
    rows: list[PublishedRow]
    overlapping: bool
    small: bool  # a cell shows "< threshold"
    complementary: bool  # a cell shows the complementary mark


def published(item: Disaggregation, threshold: int) -> PublishedTable:
    """Return a breakdown with the PDF's small-cell rule applied."""
    # only breakdowns by who people are can single someone out (as in reports/pdf.py)
    cut = threshold if item.identifying else 0
    values = [row.value for row in item.rows]
    status = disclosure.classify(values, cut, overlapping=item.overlapping)
    shares = disclosure.shares(values, item.total, status)
    return PublishedTable(
        title=item.title,
        indicator_key=item.indicator_key,
        dimension_key=item.dimension_key,
        total=item.total,
        rows=[
            PublishedRow(row.label, disclosure.display(row.value, hidden, cut), share, row.category)
            for row, hidden, share in zip(item.rows, status, shares, strict=True)
        ],
        overlapping=item.overlapping,
        small=any(h is disclosure.Hidden.SMALL for h in status),
        complementary=any(h is disclosure.Hidden.COMPLEMENTARY for h in status),
    )


def _edit_page(
    project: Project,
    period_form: PeriodForm | GenerateForm,
    narrative_form: NarrativeForm,
    status: int = 200,
):
    """Render the narrative form beside the preview of the figures for the period shown."""
    threshold = current_app.config["SMALL_CELL_THRESHOLD"]
    preview = None
    start = end = None
    if not period_form.errors:
        start = period_form.start.data or project.start_date
        end = period_form.end.data or project.end_date
        if start <= end:
            preview = collect(
                project,
                start,
                end,
                language=period_form.lang.data or str(get_locale()),
                small_cell_threshold=threshold,
                annex=False,
            )
    generate_form = GenerateForm(formdata=None)
    if preview is not None:
        generate_form.start.data, generate_form.end.data = start, end
        generate_form.lang.data = period_form.lang.data or str(get_locale())
    kept = db.session.scalars(_reports_query(project.id).limit(5)).all()
    kept_total = db.session.scalar(
        select(func.count(GeneratedReport.id)).where(GeneratedReport.project_id == project.id)
    )
    return (
        render_template(
            "builder/edit.html",
            project=project,
            period_form=period_form,
            form=narrative_form,
            generate_form=generate_form,
            preview=preview,
            tables=[published(d, threshold) for d in preview.disaggregations] if preview else [],
            threshold=threshold,
            kept=kept,
            kept_total=kept_total,
            sections=reports.SECTIONS,
        ),
        status,
    )


def _period_form(project: Project) -> PeriodForm:
    form = PeriodForm(request.args)
    form.validate()
    if not form.errors:
        form.start.data = form.start.data or project.start_date
        form.end.data = form.end.data or project.end_date
    if form.lang.data not in LANGUAGES:
        form.lang.data = str(get_locale() or LANGUAGES[0])
    return form


class _StoredNarrative:
    """The saved sections as the narrative form sees them, for the conflict page."""

    def __init__(self, project: Project) -> None:
        rows = reports.narrative_rows(project)
        self._texts = {s: rows[s].text if s in rows else "" for s in reports.SECTIONS}
        self.updated_at = max((r.updated_at for r in rows.values()), default=None)

    def __getattr__(self, name: str) -> str:
        try:
            return self._texts[name]
        except KeyError:
            raise AttributeError(name) from None


def _narrative_conflict(project: Project, form: NarrativeForm):
    for section in reports.SECTIONS:
        form[section].data = reports.clean_text(form[section].data)
    return conflict_page(
        title=_("The narrative of %(code)s", code=project.code),
        form=form,
        record=_StoredNarrative(project),
        fields=reports.SECTIONS,
        back_url=url_for(".edit", project_id=project.id, **request.args.to_dict()),
    )


@bp.route("/<int:project_id>/narrative", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit(project_id: int):
    """Write the report's narrative, beside a preview of the figures for the period."""
    project = get_project_or_404(project_id)
    period_form = _period_form(project)
    form = NarrativeForm()
    if request.method == "GET":
        rows = reports.narrative_rows(project)
        for section in reports.SECTIONS:
            row = rows.get(section)
            form[section].data = row.text if row else ""
            form[f"version_{section}"].data = str(row.version) if row else ""
    elif form.validate_on_submit():
        rows = reports.narrative_rows(project)
        if any(
            section in rows and version_changed(form[f"version_{section}"].data, rows[section])
            for section in reports.SECTIONS
        ):
            return _narrative_conflict(project, form)
        try:
            reports.save_narrative(project, {s: form[s].data for s in reports.SECTIONS})
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
        except (IntegrityError, StaleDataError):
            # saved by someone else between the check and the write
            db.session.rollback()
            return _narrative_conflict(project, form)
        else:
            flash(_("The narrative is saved."), "success")
            return redirect(url_for(".edit", project_id=project.id, **request.args.to_dict()))
    return _edit_page(project, period_form, form, 200 if request.method == "GET" else 400)


@bp.route("/<int:project_id>/generate", methods=["POST"])
@role_required(*MANAGERS)
@security.heavy_work("report")
def generate(project_id: int):
    """Have the donor PDF generated with the saved narrative, kept, then shown.

    A worker makes it (tracker/reports/jobs.py); the job's page shows it when done.
    """
    project = get_project_or_404(project_id)
    form = GenerateForm()
    if form.validate_on_submit():
        language = form.lang.data or str(get_locale() or LANGUAGES[0])
        try:
            # what can be refused at once is, on the form
            start, end = reports.resolve_period(project, form.start.data, form.end.data)
            if language not in LANGUAGES:
                raise DomainError(_("Unknown language: %(lang)s.", lang=language), "lang")
        except DomainError as error:
            field_error(form, error)
        else:
            job = queue.submit(
                "donor_report",
                user=current_user,
                project=project,
                parameters={
                    "from": start.isoformat(),
                    "to": end.isoformat(),
                    "lang": language,
                    # the narrative as saved when "generate" was pressed
                    "narrative": reports.narrative_texts(project),
                },
            )
            return redirect(url_for("jobs.show", job_id=job.id))
    narrative_form = NarrativeForm(formdata=None, data=reports.narrative_texts(project))
    for section, row in reports.narrative_rows(project).items():
        narrative_form[f"version_{section}"].data = str(row.version)
    return _edit_page(project, form, narrative_form, 400)


@bp.route("/generated/<int:report_id>")
@role_required(*READERS)
def report(report_id: int):
    """Show a kept report: its parameters, fingerprint, figures and what changed since."""
    report = _get_report_or_404(report_id)
    changes = reports.compare(report)
    narrative = report.parameters.get("narrative") or {}
    return render_template(
        "builder/report.html",
        report=report,
        changes=changes,
        narrative=[
            (reports.SECTION_LABELS[s], narrative[s]) for s in reports.SECTIONS if narrative.get(s)
        ],
        anything_changed=any(c.changed or c.rows_changed for c in changes),
        merges=merging.merges_since(report.project_id, report.as_of),
        merged_codes=merging.merged_codes,
        today=date.today(),
        current_definitions=indicators.DEFINITIONS_VERSION,
    )


@bp.route("/generated/<int:report_id>.pdf")
@role_required(*READERS)
def download(report_id: int):
    """Send the kept PDF unchanged, after writing who took it to the audit log."""
    report = _get_report_or_404(report_id)
    audit.record_read(
        "generated_report",
        report.id,
        {
            "download": "pdf",
            "project": report.parameters.get("project"),
            "from": report.period_start,
            "to": report.period_end,
            "sha256": report.sha256,
        },
    )
    response = Response(report.content, mimetype="application/pdf")
    response.headers.set(
        "Content-Disposition", "attachment", filename=reports.download_name(report)
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/generated/<int:report_id>-annex.csv")
@role_required(*READERS)
def download_annex(report_id: int):
    """Send the kept annex CSV unchanged, after writing who took it to the audit log."""
    report = _get_report_or_404(report_id)
    if report.annex_content is None:
        # generated before the annex left the PDF: it is in the PDF
        abort(404)
    audit.record_read(
        "generated_report",
        report.id,
        {
            "download": "annex_csv",
            "project": report.parameters.get("project"),
            "from": report.period_start,
            "to": report.period_end,
            "sha256": report.annex_sha256,
        },
    )
    response = Response(report.annex_content, mimetype=CSV_MIMETYPE)
    response.headers.set("Content-Disposition", "attachment", filename=report.annex_name)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
