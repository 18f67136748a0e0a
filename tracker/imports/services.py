"""Importing participants, enrolments, placements and follow-ups from a spreadsheet.

One function, ``run``, serves the web and the command line:

1. the header is matched with the export columns of ``tracker.columns`` (KoboToolbox
   group prefixes such as ``participant/given_name`` are dropped, its ``_uuid`` kept);
2. every cell is read (``tracker.imports.cells``) and every row checked against the
   same rules as the forms; each problem names its row as a spreadsheet numbers it
   (header = row 1), the column and the reason;
3. the rows are written in the caller's transaction: participants with bulk inserts
   (10,000 rows in about a second), the others through the domain services, each row in
   a savepoint so that a refused row leaves nothing behind.

Nothing is kept when any row is invalid unless ``keep_valid`` is asked, and then exactly
the valid rows are. A dry run checks everything, writes, and rolls back. The caller
commits: the whole import is one transaction, so an interruption leaves the database as
it was. Every import that writes adds an audit line with the file's name, SHA-256 and
counts; each record it creates gets its own "created" line, as if typed in a form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select, tuple_

from tracker import audit, columns
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.imports import header, lookups, participants
from tracker.imports.reader import Sheet
from tracker.imports.report import Context, Problem, Report, Row, fail, field_column
from tracker.models import (
    AuditEvent,
    EnrolmentStatus,
    PendingImport,
    Placement,
    Project,
    TrainingCourse,
    now_utc,
)

#: how long an upload waits for its confirmation before it is deleted
PENDING_LIFETIME = timedelta(days=1)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Enrolments, placements, follow-ups: through the domain services, a row at a time ---


def _check_enrolments(ctx: Context, rows: list[Row], report: Report) -> list[Row]:
    lookups.projects(ctx, rows, report)
    lookups.attach_people(ctx, rows, report)
    keys = {
        (r.values["project_code"], r.values["course_title"], r.values["course_start_date"])
        for r in rows
        if r.ok
    }
    courses: dict[tuple[str, str, date], TrainingCourse] = {}
    for chunk in lookups.chunks(sorted(keys, key=str)):
        query = (
            select(Project.code, TrainingCourse)
            .join(Project, TrainingCourse.project_id == Project.id)
            .where(tuple_(Project.code, TrainingCourse.title, TrainingCourse.start_date).in_(chunk))
        )
        for project_code, course in db.session.execute(query):
            courses[(project_code, course.title, course.start_date)] = course
    for row in rows:
        if not row.ok:
            continue
        v = row.values
        v["course"] = courses.get((v["project_code"], v["course_title"], v["course_start_date"]))
        if v["course"] is None:
            fail(
                report,
                row,
                "course_title",
                _(
                    "no course of this title starts on %(day)s in this project",
                    day=v["course_start_date"],
                ),
            )
        status = v["status"]
        if status is EnrolmentStatus.COMPLETED and v.get("completed_on") is None:
            fail(report, row, "completed_on", _("is required when the status is completed"))
        if status is EnrolmentStatus.DROPPED_OUT and v.get("dropped_on") is None:
            fail(report, row, "dropped_on", _("is required when the status is dropped_out"))
        if status is not EnrolmentStatus.COMPLETED and v.get("completed_on") is not None:
            fail(report, row, "completed_on", _("must be empty unless the status is completed"))
        if status is not EnrolmentStatus.DROPPED_OUT and v.get("dropped_on") is not None:
            fail(report, row, "dropped_on", _("must be empty unless the status is dropped_out"))
        for name in ("enrolled_on", "completed_on", "dropped_on"):
            if v.get(name) is not None and v[name] > ctx.today:
                fail(report, row, name, _("is in the future"))
    return [r for r in rows if r.ok]


def _write_enrolment(ctx: Context, v: dict[str, Any]) -> str:
    from tracker.trainings.services import complete, drop_out, enrol

    enrolment = enrol(v["participant"], v["course"], on=v["enrolled_on"])
    if v["status"] is EnrolmentStatus.COMPLETED:
        complete(
            enrolment,
            on=v["completed_on"],
            attendance_pct=v.get("attendance_pct"),
            certificate=bool(v.get("certificate")),
        )
    elif v["status"] is EnrolmentStatus.DROPPED_OUT:
        drop_out(enrolment, on=v["dropped_on"], attendance_pct=v.get("attendance_pct"))
    elif v.get("attendance_pct") is not None:
        enrolment.attendance_pct = v["attendance_pct"]
    return v["participant"].code


def _check_placements(ctx: Context, rows: list[Row], report: Report) -> list[Row]:
    lookups.projects(ctx, rows, report)
    partners = lookups.partners(rows, ("employer", "referral_partner"), report)
    lookups.attach_people(ctx, rows, report)
    for row in rows:
        if not row.ok:
            continue
        v = row.values
        person = v["participant"]
        if person.project.code != v["project_code"]:
            fail(
                report,
                row,
                "project_code",
                _(
                    "%(code)s belongs to project %(project)s",
                    code=person.code,
                    project=person.project.code,
                ),
            )
        v["employer_partner"] = partners.get(v.get("employer") or "")
        v["referral"] = partners.get(v.get("referral_partner") or "")
    return [r for r in rows if r.ok]


def _write_placement(ctx: Context, v: dict[str, Any]) -> str:
    from tracker.placements.services import record_placement

    record_placement(
        v["participant"],
        kind=v["kind"],
        employer=v["employer_partner"],
        business_name=v.get("business_name"),
        sector=v["sector"],
        start_date=v["start_date"],
        end_date=v.get("end_date"),
        contract_type=v.get("contract_type"),
        monthly_income=v.get("monthly_income"),
        referral_partner=v["referral"],
        verified=bool(v.get("verified")),
        today=ctx.today,
        # old paper records often carry approximate registration dates
        check_registration=False,
    )
    return v["participant"].code


def _check_follow_ups(ctx: Context, rows: list[Row], report: Report) -> list[Row]:
    lookups.attach_people(ctx, rows, report)
    ids = [r.values["participant"].id for r in rows if r.ok]
    placements: dict[tuple[int, Any, date], Placement] = {}
    for chunk in lookups.chunks(ids):
        for placement in db.session.scalars(
            select(Placement).where(Placement.participant_id.in_(chunk))
        ):
            placements[(placement.participant_id, placement.kind, placement.start_date)] = placement
    for row in rows:
        if not row.ok:
            continue
        v = row.values
        person = v["participant"]
        v["placement"] = placements.get((person.id, v["placement_kind"], v["placement_start_date"]))
        if v["placement"] is None:
            fail(
                report,
                row,
                "placement_start_date",
                _("%(code)s has no placement of this kind starting on this date", code=person.code),
            )
    return [r for r in rows if r.ok]


def _write_follow_up(ctx: Context, v: dict[str, Any]) -> str:
    from tracker.placements.services import record_follow_up

    record_follow_up(
        v["placement"],
        months_after=v["months_after"],
        followed_on=v["followed_on"],
        still_active=v["still_active"],
        monthly_income=v.get("monthly_income"),
        note=v.get("note"),
        today=ctx.today,
    )
    return v["participant_code"]


def _write_each(ctx, rows: list[Row], report: Report, write: Callable, import_event: int) -> None:
    """Write the rows one by one, each in a savepoint: a refused row leaves nothing behind."""
    for done, row in enumerate(rows, start=1):
        try:
            with db.session.begin_nested():
                code = write(ctx, row.values)
        except DomainError as error:
            fail(report, row, field_column(error.field), error.message)
        else:
            report.written += 1
            report.codes.append(code)
        if ctx.progress and (done % 500 == 0 or done == len(rows)):
            ctx.progress(done, len(rows))


_CHECKS = {
    "participants": participants.check_participants,
    "enrolments": _check_enrolments,
    "placements": _check_placements,
    "followups": _check_follow_ups,
}
_WRITERS = {
    "enrolments": _write_enrolment,
    "placements": _write_placement,
    "followups": _write_follow_up,
}


# --- The whole import ------------------------------------------------------------------


def run(
    kind: str,
    sheet: Sheet,
    *,
    filename: str,
    digest: str,
    ctx: Context,
    keep_valid: bool = False,
    dry_run: bool = False,
) -> Report:
    """Check ``sheet`` and, unless told not to, write its rows in the current transaction.

    Returns the report. When nothing may be written (a dry run, or invalid rows without
    ``keep_valid``), whatever was written is rolled back to a savepoint taken at the
    start, so the session is left as it was; otherwise the caller commits.
    """
    table = columns.TABLES[kind]
    report = Report(kind=kind, filename=filename, sha256=digest)
    positions = header.map_header(
        table, sheet.header, report, has_project=ctx.default_project is not None
    )
    if report.file_errors:
        return report
    rows = header.read_rows(table, sheet, positions, report, ctx)
    if not rows:
        report.errors.append(Problem(None, None, _("The file has no data rows.")))
        return report
    to_write = _CHECKS[kind](ctx, rows, report)
    report.valid = len(to_write)
    _note_earlier_import(report)
    savepoint = db.session.begin_nested()
    # the import's own audit line first: every record written points to it
    import_event = audit.record(db.session, "import", kind, None, {})
    db.session.flush()
    if kind == "participants":
        if dry_run:
            # the checks above are all a participant row must pass: no need to write it
            report.written = len(to_write)
        elif to_write:
            participants.write_participants(ctx, to_write, report, import_event.id)
    else:
        _write_each(ctx, to_write, report, _WRITERS[kind], import_event.id)
    # the rows that passed every rule, the domain services' included
    report.valid = report.written
    keep = not dry_run and report.written > 0 and (keep_valid or not report.errors)
    if not keep:
        savepoint.rollback()
        report.written = 0
        report.codes = []
        if not dry_run:
            # a refused import is worth a line too: a file of personal data was handled
            _audit_import(ctx, report, audit.record(db.session, "import", kind, None, {}))
            db.session.flush()
        return report
    _audit_import(ctx, report, import_event)
    savepoint.commit()
    db.session.flush()
    return report


def _audit_import(ctx: Context, report: Report, event: AuditEvent) -> None:
    event.changes = {
        "file": report.filename,
        "sha256": report.sha256,
        "rows": report.rows,
        "written": report.written,
        "skipped": report.skipped,
        "invalid": report.invalid,
        "project": ctx.default_project.code if ctx.default_project else None,
    }


def _note_earlier_import(report: Report) -> None:
    """Warn when the very same file was imported before (same SHA-256)."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "import", AuditEvent.entity == report.kind)
        .order_by(AuditEvent.occurred_at.desc())
        .limit(500)
    )
    for event in events:
        changes = event.changes or {}
        if changes.get("sha256") == report.sha256 and changes.get("written"):
            report.warnings.insert(
                0,
                Problem(
                    None,
                    None,
                    _(
                        "This very file was imported on %(day)s by %(who)s.",
                        day=event.occurred_at.date().isoformat(),
                        who=event.actor_label,
                    ),
                ),
            )
            return


def purge() -> int:
    """Delete uploads left unconfirmed for more than a day (they hold personal data)."""
    cutoff = now_utc() - PENDING_LIFETIME
    result = db.session.execute(delete(PendingImport).where(PendingImport.created_at < cutoff))
    return result.rowcount or 0
