"""An import on the web, as two jobs: the check of an upload, then its writing.

Both read the upload kept in ``pending_import``. The check is a dry run whose report
becomes the preview; the writing checks again against the records as they are then and
writes, in one transaction with the job's "done" and the upload's deletion: a worker
killed in the middle leaves nothing written, and the job, started again, writes the
rows once.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from tracker.extensions import db
from tracker.imports import reader, services
from tracker.imports.report import Context
from tracker.jobs.running import JobFailed, Progress, kind
from tracker.models import Job, PendingImport

#: where each kind of record is listed once imported
LISTS = {
    "participants": "participants.index",
    "enrolments": "trainings.index",
    "placements": "placements.index",
    "followups": "placements.index",
    "partners": "partners.index",
    "courses": "trainings.index",
    "activities": "activities.index",
    "attendance": "activities.index",
}


def _pending(job: Job) -> PendingImport:
    # an upload older than a day is gone, even before the purge deletes it
    pending = db.session.scalar(
        select(PendingImport).where(
            PendingImport.id == job.parameters["pending"], services.unexpired()
        )
    )
    if pending is None or pending.user_id != job.user_id:
        raise JobFailed(
            _("The upload is no longer kept (imported, cancelled or older than a day).")
        )
    return pending


def _run(job: Job, pending: PendingImport, sheet: reader.Sheet, progress: Progress, **options):
    """The importer on the upload, as the job's asker, its progress reported to the job."""
    ctx = Context(
        user=job.user,
        default_project=pending.project,
        today=date.today(),
        progress=progress.update,
        step=progress.step,
    )
    return services.run(
        pending.kind,
        sheet,
        filename=pending.filename,
        digest=pending.sha256,
        ctx=ctx,
        **options,
    )


def _sheet(pending: PendingImport, progress: Progress) -> reader.Sheet:
    progress.step(_("Reading the file"))
    return reader.read(pending.content, max_rows=current_app.config["IMPORT_MAX_ROWS"])


@kind("import_check")
def check(job: Job, progress: Progress) -> dict:
    """Check an upload without writing it: its report is the preview."""
    pending = _pending(job)
    try:
        sheet = _sheet(pending, progress)
    except reader.FileRefused as refused:
        # nothing to preview: the upload (personal data) is not kept
        db.session.delete(pending)
        db.session.commit()
        raise JobFailed(
            refused.message + " " + _("Correct the file and upload it again.")
        ) from None
    report = _run(job, pending, sheet, progress, dry_run=True)
    pending.summary = report.to_dict()
    progress.step(_("Checked"), report.rows)
    progress.update(report.rows)
    return {
        "pending": pending.token,
        "rows": report.rows,
        "valid": report.valid,
        "invalid": report.invalid,
    }


@kind("import_write")
def write(job: Job, progress: Progress) -> dict:
    """Check the upload again against today's records and write it, with the job's end."""
    pending = _pending(job)
    try:
        sheet = _sheet(pending, progress)
    except reader.FileRefused as refused:  # it was read by the check
        raise JobFailed(refused.message) from None
    report = _run(
        job,
        pending,
        sheet,
        progress,
        keep_valid=bool(job.parameters.get("keep_valid")),
        include_flagged=job.parameters.get("include") or [],
    )
    if not report.written:
        # the records changed since the check (or nothing was valid): the preview shows why
        pending.summary = report.to_dict()
        db.session.commit()
        if report.left_out and not report.errors:
            message = _(
                "Nothing was imported: every valid row may be there already. Tick the rows "
                "to import anyway on the check's page."
            )
        else:
            message = _(
                "Nothing was imported: the records changed since the check, or no row is valid."
            )
        raise JobFailed(message, result={"pending": pending.token})
    db.session.delete(pending)
    return {
        "written": report.written,
        "rows": report.rows,
        "left_out": len(report.left_out),
        "list": LISTS[pending.kind],
        "kind": pending.kind,
        # the people just imported: the participants list filtered to this import
        "import_id": report.import_id,
    }
