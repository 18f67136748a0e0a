from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import security
from tracker.columns import TABLES
from tracker.exports import bp, services
from tracker.exports.forms import ExportForm, IndicatorForm
from tracker.extensions import db
from tracker.interop import services as interop
from tracker.jobs import queue
from tracker.models import Project
from tracker.permissions import (
    MANAGERS,
    can_see_names,
    get_project_or_404,
    role_required,
    visible_projects,
)
from tracker.reports.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE


def _default_period(projects: list[Project]):
    if not projects:
        return None, None
    return min(p.start_date for p in projects), max(p.end_date for p in projects)


def _job_threshold(fmt: str) -> int:
    """Rows above which an export is made by a worker rather than sent at once."""
    if fmt == "csv":
        return current_app.config["EXPORT_CSV_JOB_MIN_ROWS"]
    return current_app.config["EXPORT_JOB_MIN_ROWS"]


def _page(
    form: ExportForm, indicator_form: IndicatorForm, projects: list[Project], status: int = 200
):
    return (
        render_template(
            "exports/index.html",
            form=form,
            indicator_form=indicator_form,
            tables=list(TABLES.values()),
            threshold=current_app.config["SMALL_CELL_THRESHOLD"],
            projects=projects,
        ),
        status,
    )


@bp.route("/")
@login_required
def index():
    """List the exports, with their options; viewers are offered pseudonymous ones only."""
    projects = visible_projects(current_user)
    form = ExportForm(formdata=None, projects=projects)
    indicator_form = IndicatorForm(formdata=None, projects=projects)
    indicator_form.start.data, indicator_form.end.data = _default_period(projects)
    return _page(form, indicator_form, projects)


@bp.route("/<kind>.<fmt>")
@login_required
@security.heavy_work("export")
def download(kind: str, fmt: str):
    """Send one export as an attachment, after writing who took it to the audit log.

    It holds one database connection at a time: the session's while it counts (and
    writes an XLSX file), then, for a streamed CSV file, one of its own from the
    first row to the last, once the session's is back in the pool.
    """
    if kind not in services.KINDS or fmt not in services.FORMATS:
        abort(404)
    projects = visible_projects(current_user)
    indicator_form = IndicatorForm(
        request.args if kind == services.INDICATORS else None, projects=projects
    )
    form = ExportForm(request.args if kind != services.INDICATORS else None, projects=projects)
    bound = indicator_form if kind == services.INDICATORS else form
    pseudonymous = bool(bound.pseudonymous.data)
    if not pseudonymous and not can_see_names(current_user):
        abort(403)
    chosen = projects
    if bound.project.data:
        # a project outside the user's: as if it did not exist
        chosen = [p for p in projects if str(p.id) == bound.project.data]
        if not chosen:
            abort(404)
    if not bound.validate():
        if kind != services.INDICATORS:
            indicator_form.start.data, indicator_form.end.data = _default_period(projects)
        flash(_("Some options are not valid: see the messages below."), "error")
        return _page(form, indicator_form, projects, 400)
    project = chosen[0] if bound.project.data else None
    hxl = bool(bound.hxl.data)

    start = end = None
    if kind == services.INDICATORS:
        default_start, default_end = _default_period(chosen)
        start = indicator_form.start.data or default_start
        end = indicator_form.end.data or default_end
        export = services.indicator_export(
            chosen,
            start,
            end,
            suppress_small=pseudonymous,
            threshold=current_app.config["SMALL_CELL_THRESHOLD"],
        )
    else:
        export = services.record_export(
            kind,
            user=current_user,
            project=project,
            pseudonymous=pseudonymous,
            # a CSV file's rows stream after the view returns, on a connection of their
            # own opened at the first row (the session's is then back in the pool); an
            # XLSX file is written here, on the session's
            connect=db.engine.connect if fmt == "csv" else None,
        )
    limit = current_app.config.get("EXPORT_XLSX_MAX_ROWS", services.XLSX_MAX_ROWS)
    if fmt == "xlsx" and export.count > limit:
        flash(
            _(
                "%(rows)d rows are too many for an XLSX file (at most %(limit)d): take the "
                "CSV file.",
                rows=export.count,
                limit=limit,
            ),
            "error",
        )
        if kind != services.INDICATORS:
            indicator_form.start.data, indicator_form.end.data = _default_period(projects)
        return _page(form, indicator_form, projects, 400)
    if kind != services.INDICATORS and export.count > _job_threshold(fmt):
        # made by a worker, with its progress on the job's page
        job = queue.submit(
            "export",
            user=current_user,
            project=project,
            parameters={
                "kind": kind,
                "fmt": fmt,
                "pseudonymous": pseudonymous,
                "hxl": hxl,
                "sep": bound.sep.data,
                "rows": export.count,
                "remote_addr": request.remote_addr,
            },
        )
        return redirect(url_for("jobs.show", job_id=job.id))
    services.record_audit(
        kind,
        services.audit_detail(
            export,
            fmt=fmt,
            project_codes=[project.code] if project else [],
            hxl=hxl,
            start=start,
            end=end,
        ),
        remote_addr=request.remote_addr,
    )
    if fmt == "csv":
        delimiter = services.DELIMITERS.get(bound.sep.data, ";")
        chunks = services.render_csv(export, hxl=hxl, delimiter=delimiter)
        response = Response(chunks, mimetype=CSV_MIMETYPE)
        rows = export.rows
        if hasattr(rows, "close"):
            # the rows' connection closes with the response, also when its body is never
            # read or read only in part (a client gone)
            response.call_on_close(rows.close)
    else:
        response = Response(services.render_xlsx(export, hxl=hxl), mimetype=XLSX_MIMETYPE)
    name = services.filename(
        kind, fmt, projects=[project] if project else [], pseudonymous=pseudonymous
    )
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/projects/<int:project_id>/iati.xml")
@role_required(*MANAGERS)
@security.heavy_work("report")
def iati(project_id: int):
    """Send a project's IATI results file, after writing who took it to the audit log."""
    project = get_project_or_404(project_id)
    content = interop.iati_file(project, current_app.config)
    interop.record_audit(
        interop.IATI, interop.iati_audit_detail(project), remote_addr=request.remote_addr
    )
    response = Response(content, mimetype="application/xml")
    name = interop.filename(interop.IATI, project, "xml")
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
