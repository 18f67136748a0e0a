"""Upload, preview, confirm: an import on the web.

The upload is checked at once (a dry run) and kept in ``pending_import`` until the
user confirms or cancels; the confirmation checks the file again against the
database as it is then, and writes. Only the person who uploaded a file sees it.
"""

from __future__ import annotations

import secrets
from datetime import date

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from tracker.columns import TABLES
from tracker.extensions import db
from tracker.forms import record_id
from tracker.imports import bp, reader, services, xlsform
from tracker.imports.forms import UploadForm
from tracker.imports.header import KINDS
from tracker.imports.report import Context, Report
from tracker.models import PendingImport, Project
from tracker.permissions import EDITORS, in_scope, role_required, visible_projects
from tracker.reports.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, write_csv, write_xlsx
from tracker.text import has_control_characters

#: where each kind of record is listed once imported
LISTS = {
    "participants": "participants.index",
    "enrolments": "trainings.index",
    "placements": "placements.index",
    "followups": "placements.index",
}
#: errors shown on the page; the full list is a download
SHOWN = 200


def _pending(token: str) -> PendingImport:
    pending = db.session.scalar(
        select(PendingImport).where(
            PendingImport.token == token, PendingImport.user_id == current_user.id
        )
    )
    if pending is None:
        abort(404)
    return pending


def _context(project: Project | None) -> Context:
    return Context(user=current_user, default_project=project, today=date.today())


def _upload_name(filename: str | None) -> str:
    """The upload's name as kept and shown: its last part, without control characters.

    The browser sends it as typed on the user's machine; it goes on the preview page
    and in the audit line, which hold no control characters.
    """
    name = "".join(c for c in filename or "" if not has_control_characters(c))
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return (name or "import")[:255]


def _scoped_project(project_id: str | None) -> Project | None:
    if not project_id:
        return None
    try:
        number = record_id(project_id)
    except ValueError:
        abort(404)  # not an id ("?project=x" typed by hand): no such project
    project = db.session.scalar(
        select(Project).where(Project.id == number, in_scope(current_user, Project.id))
    )
    if project is None:
        abort(404)
    return project


@bp.route("/", methods=["GET", "POST"])
@role_required(*EDITORS)
def index():
    """Choose what to import and upload the file; the check runs before anything is kept."""
    projects = visible_projects(current_user)
    form = UploadForm(projects=projects)
    if request.method == "GET" and len(projects) == 1:
        form.project.data = str(projects[0].id)
    if form.validate_on_submit():
        project = _scoped_project(form.project.data)
        upload = form.file.data
        data = upload.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
        filename = _upload_name(upload.filename)
        try:
            if len(data) > current_app.config["IMPORT_MAX_BYTES"]:
                raise reader.FileRefused(
                    _(
                        "The file is larger than %(mb)d MB: split it.",
                        mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024),
                    )
                )
            sheet = reader.read(data, max_rows=current_app.config["IMPORT_MAX_ROWS"])
        except reader.FileRefused as refused:
            form.file.errors.append(refused.message)
        else:
            report = services.run(
                form.kind.data,
                sheet,
                filename=filename,
                digest=services.sha256(data),
                ctx=_context(project),
                dry_run=True,
            )
            services.purge()
            pending = PendingImport(
                token=secrets.token_urlsafe(24),
                user_id=current_user.id,
                kind=form.kind.data,
                project=project,
                filename=filename,
                sha256=report.sha256,
                size=len(data),
                summary=report.to_dict(),
                content=data,
            )
            db.session.add(pending)
            db.session.commit()
            return redirect(url_for("imports.preview", token=pending.token))
    waiting = db.session.scalars(
        select(PendingImport)
        .where(PendingImport.user_id == current_user.id)
        .order_by(PendingImport.created_at.desc())
    ).all()
    status = 400 if form.errors else 200
    return (
        render_template(
            "imports/index.html",
            form=form,
            tables=[TABLES[k] for k in KINDS],
            waiting=waiting,
            max_rows=current_app.config["IMPORT_MAX_ROWS"],
            max_mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024),
        ),
        status,
    )


@bp.route("/<token>")
@role_required(*EDITORS)
def preview(token: str):
    """Show what the check found: errors by row, what to look at, the first rows as read."""
    pending = _pending(token)
    report = Report.from_dict(pending.summary)
    return render_template(
        "imports/preview.html",
        pending=pending,
        report=report,
        table=TABLES[pending.kind],
        shown=SHOWN,
    )


@bp.route("/<token>/confirm", methods=["POST"])
@role_required(*EDITORS)
def confirm(token: str):
    """Check the file again against today's records and write it, in one transaction."""
    pending = _pending(token)
    keep_valid = request.form.get("keep_valid") == "1"
    try:
        sheet = reader.read(pending.content, max_rows=current_app.config["IMPORT_MAX_ROWS"])
    except reader.FileRefused:  # pragma: no cover - it was read at upload
        abort(400)
    report = services.run(
        pending.kind,
        sheet,
        filename=pending.filename,
        digest=pending.sha256,
        ctx=_context(pending.project),
        keep_valid=keep_valid,
    )
    if not report.written:
        # the records changed since the preview (or nothing was valid): show what now holds
        pending.summary = report.to_dict()
        db.session.commit()
        flash(_("Nothing was imported: see the problems below."), "error")
        return redirect(url_for("imports.preview", token=token))
    db.session.delete(pending)
    db.session.commit()
    flash(
        _(
            "%(n)d rows imported from %(file)s.",
            n=report.written,
            file=report.filename,
        ),
        "success",
    )
    return redirect(url_for(LISTS[pending.kind]))


@bp.route("/<token>/cancel", methods=["POST"])
@role_required(*EDITORS)
def cancel(token: str):
    """Forget an upload without importing it."""
    db.session.delete(_pending(token))
    db.session.commit()
    flash(_("The upload was deleted; nothing was imported."), "success")
    return redirect(url_for("imports.index"))


@bp.route("/<token>/problems.csv")
@role_required(*EDITORS)
def problems(token: str):
    """Every problem of an upload as a CSV, to fix a long file row by row."""
    pending = _pending(token)
    report = Report.from_dict(pending.summary)
    rows = [[p.row, p.column or "", _("error"), p.message] for p in report.errors] + [
        [p.row, p.column or "", _("to check"), p.message] for p in report.warnings
    ]
    rows.sort(key=lambda r: (r[0] is not None, r[0] or 0))
    body = write_csv(["row", "column", "kind", "message"], rows)
    return Response(
        body,
        mimetype=CSV_MIMETYPE,
        headers={
            "Content-Disposition": "attachment; filename=import-problems.csv",
            "Cache-Control": "no-store",
        },
    )


@bp.route("/template/<kind>.<fmt>")
@role_required(*EDITORS)
def template(kind: str, fmt: str):
    """An empty file with the import columns of ``kind``: a header row and nothing else."""
    if kind not in KINDS or fmt not in ("csv", "xlsx"):
        abort(404)
    header = TABLES[kind].names
    if fmt == "csv":
        body = write_csv(header, [])
        mimetype = CSV_MIMETYPE
    else:
        body = write_xlsx(header, [], sheet_title=kind)
        mimetype = XLSX_MIMETYPE
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename={kind}-template.{fmt}"},
    )


@bp.route("/xlsform.xlsx")
@role_required(*EDITORS)
def form_download():
    """The XLSForm of participants for KoboToolbox / ODK, for one of the user's projects."""
    project = _scoped_project(request.args.get("project"))
    body = xlsform.build("participants", project=project)
    name = "tracker-participants" + (f"-{project.code}" if project else "") + ".xlsx"
    return Response(
        body,
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
