"""Upload, preview, confirm: an import on the web.

The upload is kept in ``pending_import`` and checked by a job (a dry run,
``tracker.imports.jobs``) whose page shows its progress, then the preview; it waits
there until the user confirms or cancels. The confirmation is a job too: it checks the
file again against the database as it is then, and writes. Both answer at once, however
long the file. Only the person who uploaded a file sees it.
"""

from __future__ import annotations

import secrets

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from tracker import security
from tracker.columns import TABLES
from tracker.extensions import db
from tracker.forms import record_id
from tracker.imports import bp, reader, services, xlsform
from tracker.imports.forms import UploadForm
from tracker.imports.header import KINDS, kinds_for
from tracker.imports.report import Report
from tracker.jobs import queue
from tracker.models import Job, JobState, PendingImport, Project
from tracker.permissions import EDITORS, in_scope, role_required, visible_projects
from tracker.reports.spreadsheets import (
    CSV_MIMETYPE,
    XLSX_MIMETYPE,
    csv_chunks,
    write_csv,
    write_xlsx,
)
from tracker.text import visible_text

#: errors shown on the page; the full list is a download
SHOWN = 200


def _pending(token: str, *, expired_too: bool = False) -> PendingImport:
    """The user's own upload of ``token``; one older than a day is gone (even unpurged)."""
    pending = db.session.scalar(
        select(PendingImport).where(
            PendingImport.token == token, PendingImport.user_id == current_user.id
        )
    )
    if pending is None:
        abort(404)
    if not expired_too and not _still_waiting(pending):
        flash(
            _(
                "This upload has expired: an upload not imported is deleted after a day. "
                "Upload the file again."
            ),
            "warning",
        )
        abort(redirect(url_for("imports.index")))
    return pending


def _still_waiting(pending: PendingImport) -> bool:
    return (
        db.session.scalar(
            select(PendingImport.id).where(PendingImport.id == pending.id, services.unexpired())
        )
        is not None
    )


def _upload_name(filename: str | None) -> str:
    """The upload's name as kept and shown: its last part, without invisible characters.

    The browser sends it as typed on the user's machine; it goes on the preview page
    and in the audit line, which hold no control characters, and no direction override
    that would show "people\u202excs.csv" as "peoplevsc.scx".
    """
    name = visible_text(filename or "")
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
@security.heavy_work("import", methods=["POST"])
def index():
    """Choose what to import and upload the file; the check runs before anything is kept."""
    projects = visible_projects(current_user)
    kinds = kinds_for(current_user)
    form = UploadForm(projects=projects, kinds=kinds)
    if request.method == "GET" and len(projects) == 1:
        form.project.data = str(projects[0].id)
    if form.validate_on_submit():
        project = _scoped_project(form.project.data)
        upload = form.file.data
        data = upload.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
        filename = _upload_name(upload.filename)
        if len(data) > current_app.config["IMPORT_MAX_BYTES"]:
            form.file.errors.append(
                _(
                    "The file is larger than %(mb)d MB: split it.",
                    mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024),
                )
            )
        else:
            try:
                reader.sniff(data)
            except reader.FileRefused as refused:
                form.file.errors.append(refused.message)
        if not form.file.errors:
            services.purge()
            try:
                services.check_room(current_user, current_app.config["IMPORT_MAX_PENDING"])
            except services.TooManyWaiting as refused:
                form.file.errors.append(refused.message)
        if not form.file.errors:
            pending = PendingImport(
                token=secrets.token_urlsafe(24),
                user_id=current_user.id,
                kind=form.kind.data,
                project=project,
                filename=filename,
                sha256=services.sha256(data),
                size=len(data),
                summary={},
                content=data,
            )
            db.session.add(pending)
            db.session.flush()
            job = queue.submit(
                "import_check",
                user=current_user,
                project=project,
                parameters={"pending": pending.id, "file": filename, "kind": form.kind.data},
            )
            return redirect(url_for("jobs.show", job_id=job.id))
    waiting = services.waiting(current_user)
    status = 400 if form.errors else 200
    return (
        render_template(
            "imports/index.html",
            form=form,
            tables=[TABLES[k] for k in kinds],
            waiting=waiting,
            max_rows=current_app.config["IMPORT_MAX_ROWS"],
            max_mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024),
            max_pending=current_app.config["IMPORT_MAX_PENDING"],
        ),
        status,
    )


@bp.route("/<token>")
@role_required(*EDITORS)
def preview(token: str):
    """Show what the check found: errors by row, what to look at, the first rows as read."""
    pending = _pending(token)
    if not pending.summary:
        # still being checked: its job shows how far
        job_id = _job_of(pending, "import_check")
        if job_id is None:
            abort(404)
        return redirect(url_for("jobs.show", job_id=job_id))
    report = Report.from_dict(pending.summary)
    refused = {p.row for p in report.errors}
    # the rows that may be there already, offered one by one (a refused row is not offered)
    flagged = [n for n in report.flagged if n not in refused]
    warnings_of: dict[int, list] = {n: [] for n in flagged}
    to_check = []
    for problem in report.warnings:
        if problem.row in warnings_of:
            warnings_of[problem.row].append(problem)
        else:
            to_check.append(problem)
    # a row is offered with its reasons: those past the problems kept stay left out
    offered = [n for n in flagged if warnings_of[n]][:SHOWN]
    return render_template(
        "imports/preview.html",
        pending=pending,
        report=report,
        table=TABLES[pending.kind],
        shown=SHOWN,
        flagged=flagged,
        offered=offered,
        plain=report.valid - len(flagged),
        warnings_of=warnings_of,
        to_check=to_check,
    )


@bp.route("/<token>/confirm", methods=["POST"])
@role_required(*EDITORS)
def confirm(token: str):
    """Check the file again against today's records and write it, in one transaction."""
    pending = _pending(token)
    # a second click (or a resent form) follows the import already under way
    under_way = _job_of(pending, "import_write", unfinished=True)
    if under_way is not None:
        return redirect(url_for("jobs.show", job_id=under_way))
    job = queue.submit(
        "import_write",
        user=current_user,
        project=pending.project,
        parameters={
            "pending": pending.id,
            "file": pending.filename,
            "kind": pending.kind,
            "keep_valid": request.form.get("keep_valid") == "1",
            "include": _ticked_in(pending),
        },
    )
    return redirect(url_for("jobs.show", job_id=job.id))


def _ticked_in(pending: PendingImport) -> list[int]:
    """The flagged rows the person ticked in: row numbers the check flagged, nothing else."""
    flagged = set((pending.summary or {}).get("flagged") or [])
    ticked = {int(n) for n in request.form.getlist("include") if n.isdigit() and len(n) < 10}
    return sorted(ticked & flagged)


def _job_of(pending: PendingImport, kind: str, *, unfinished: bool = False) -> int | None:
    """The latest job of ``kind`` on ``pending``, by its uploader."""
    query = select(Job.id).where(
        Job.kind == kind,
        Job.user_id == pending.user_id,
        Job.parameters["pending"].as_integer() == pending.id,
    )
    if unfinished:
        query = query.where(Job.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]))
    return db.session.scalar(query.order_by(Job.id.desc()).limit(1))


@bp.route("/<token>/cancel", methods=["POST"])
@role_required(*EDITORS)
def cancel(token: str):
    """Forget an upload without importing it (an expired one too: it goes sooner)."""
    db.session.delete(_pending(token, expired_too=True))
    db.session.commit()
    flash(_("The upload was deleted; nothing was imported."), "success")
    return redirect(url_for("imports.index"))


@bp.route("/<token>/problems.csv")
@role_required(*EDITORS)
def problems(token: str):
    """Every problem of an upload as a CSV, to fix a long file row by row."""
    pending = _pending(token)
    report = Report.from_dict(pending.summary)
    flagged = set(report.flagged)
    rows = [[p.row, p.column or "", p.value or "", _("error"), p.message] for p in report.errors]
    rows += [
        [
            p.row,
            p.column or "",
            p.value or "",
            _("left out unless ticked") if p.row in flagged else _("to check"),
            p.message,
        ]
        for p in report.warnings
    ]
    rows.sort(key=lambda r: (r[0] is not None, r[0] or 0))
    # what was counted but not kept: one line per kind, at the end
    rows += [
        [
            None,
            omitted.column or "",
            "",
            _("error") if omitted.severity == "error" else _("to check"),
            ngettext(
                "and %(num)d more problem of this kind",
                "and %(num)d more problems of this kind",
                omitted.count,
            ),
        ]
        for omitted in report.omitted
    ]
    # the report kept is bounded (``Report.bounded``): so is the file, sent as it is written
    return Response(
        csv_chunks(["row", "column", "value", "kind", "message"], rows),
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
