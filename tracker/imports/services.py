"""Importing participants, enrolments, placements, follow-ups, partners, courses,
activities and their attendance from a spreadsheet.

One function, ``run``, serves the web and the command line:

1. the header is matched with the export columns of ``tracker.columns`` and every cell
   is read (``header``, with the readers of ``cells``); each problem names its row as a
   spreadsheet numbers it (header = row 1), the column and the reason (``report``);
2. every row is checked against the same rules as the forms, what it refers to looked
   up in the importer's projects (``lookups``);
3. the rows are written in the caller's transaction: participants with bulk inserts
   (``participants``, 10,000 rows in about a second), the others through the domain
   services, each row in a savepoint so that a refused row leaves nothing behind
   (``others``, ``programme``). A row naming a partner, course, activity or attendance
   already recorded is skipped, so a file imported twice creates nothing twice.

Nothing is kept when any row is invalid unless ``keep_valid`` is asked, and then exactly
the valid rows are. A dry run checks everything, writes, and rolls back. The caller
commits: the whole import is one transaction, so an interruption leaves the database as
it was. Every import that writes adds an audit line with the file's name, SHA-256 and
counts; each record it creates gets its own "created" line, as if typed in a form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import ColumnElement, delete, func, select

from tracker import audit, columns
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.imports import header, others, participants, programme
from tracker.imports.reader import Sheet
from tracker.imports.report import Context, Problem, Report, Row
from tracker.models import AuditEvent, PendingImport, Project, User, now_utc
from tracker.permissions import sees_all_projects

#: how long an upload waits for its confirmation before it is deleted; past it, it is
#: neither shown nor imported, even before the purge deletes it
PENDING_LIFETIME = timedelta(days=1)


def sha256(data: bytes) -> str:
    """Return the hex SHA-256 of a file, as its import's audit line keeps it."""
    return hashlib.sha256(data).hexdigest()


#: the checks of each kind of row: they return the rows to write
_CHECKS = {
    "participants": participants.check_participants,
    "enrolments": others.check_enrolments,
    "placements": others.check_placements,
    "followups": others.check_follow_ups,
    "partners": programme.check_partners,
    "courses": programme.check_courses,
    "activities": programme.check_activities,
    "attendance": programme.check_attendance,
}
#: how each kind of row other than participants is written, one at a time
_WRITERS = {
    "enrolments": others.write_enrolment,
    "placements": others.write_placement,
    "followups": others.write_follow_up,
    "partners": programme.write_partner,
    "courses": programme.write_course,
    "activities": programme.write_activity,
    "attendance": programme.write_attendance,
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
    include_flagged: bool | Collection[int] = False,
) -> Report:
    """Check ``sheet`` and, unless told not to, write its rows in the current transaction.

    Returns the report. When nothing may be written (a dry run, or invalid rows without
    ``keep_valid``), whatever was written is rolled back to a savepoint taken at the
    start, so the session is left as it was; otherwise the caller commits.

    Rows that may be there already (a likely duplicate, a placement recorded already:
    ``Report.flagged``) are left out unless ``include_flagged`` is True or holds their
    row numbers; a dry run checks them as the others, so the preview can offer them.
    """
    table = columns.TABLES[kind]
    report = Report(kind=kind, filename=filename, sha256=digest)
    if not header.may_import(ctx.user, kind):
        # the upload form offers only what the user may import: a stale form, or a role
        # changed since the upload
        report.errors.append(
            Problem(
                None,
                None,
                _(
                    "Only managers and administrators import this kind of record (%(records)s).",
                    records=table.label,
                ),
            )
        )
        return report
    positions = header.map_header(
        table, sheet.header, report, has_project=ctx.default_project is not None
    )
    if report.file_errors:
        return report
    ctx.announce(_("Reading the rows"), len(sheet.rows))
    rows = header.read_rows(table, sheet, positions, report, ctx)
    if not rows:
        report.errors.append(Problem(None, None, _("The file has no data rows.")))
        return report
    ctx.announce(_("Checking the rows"), None)
    to_write = _CHECKS[kind](ctx, rows, report)
    report.flagged = [row.number for row in to_write if row.flagged]
    kept = _leave_out_flagged(to_write, report, include_flagged)
    if not dry_run:
        # a dry run checks the flagged rows too, and counts those it would leave out
        to_write = kept
    report.valid = len(to_write)
    _note_earlier_import(ctx, report)
    savepoint = db.session.begin_nested()
    # the import's own audit line first: every record written points to it
    import_event = audit.record(db.session, "import", kind, None, {})
    db.session.flush()
    report.import_id = import_event.id
    if not dry_run:
        ctx.announce(_("Writing the rows"), len(to_write))
    if kind == "participants":
        if dry_run:
            # the checks above are all a participant row must pass: no need to write it
            report.written = len(to_write)
        elif to_write:
            participants.write_participants(ctx, to_write, report, import_event.id)
    else:
        others.write_each(ctx, to_write, report, _WRITERS[kind], import_event.id)
    # the rows that passed every rule, the domain services' included
    report.valid = report.written
    _in_row_order(report)
    keep = not dry_run and report.written > 0 and (keep_valid or not report.errors)
    if not keep:
        savepoint.rollback()
        report.written = 0
        report.codes = []
        report.import_id = None
        if not dry_run:
            # a refused import is worth a line too: a file of personal data was handled
            _audit_import(ctx, report, audit.record(db.session, "import", kind, None, {}))
            db.session.flush()
        return report
    _audit_import(ctx, report, import_event, to_write)
    savepoint.commit()
    db.session.flush()
    return report


def run_record(kind: str, values: Mapping[str, Any], *, source: str, ctx: Context) -> Report:
    """Check one record given as column -> cell text and, if it holds, write it.

    For what arrives one record at a time (an API call, a form submission pushed by
    KoboToolbox): the same columns, rules, duplicate warnings and audit lines as a file
    of one row. A record sent on purpose is written even when it may be there already;
    its warnings go back with the answer. ``source`` names where it came from on the
    import's audit line.
    """
    names = list(values)
    sheet = Sheet(header=names, rows=[(2, [values[name] for name in names])], format="json")
    digest = sha256(json.dumps(values, sort_keys=True, default=str).encode("utf-8"))
    return run(kind, sheet, filename=source, digest=digest, ctx=ctx, include_flagged=True)


def _leave_out_flagged(
    rows: list[Row], report: Report, include: bool | Collection[int]
) -> list[Row]:
    """Return the rows to write: the flagged ones only if ticked in (or all are included)."""
    if include is True:
        return rows
    ticked = set() if include is False else set(include)
    kept = [row for row in rows if not row.flagged or row.number in ticked]
    report.left_out = [row.number for row in rows if row.flagged and row.number not in ticked]
    return kept


def _in_row_order(report: Report) -> None:
    """Sort the problems by row, the file's own first: the services' come after the checks'."""

    def position(problem: Problem) -> tuple[bool, int]:
        return (problem.row is not None, problem.row or 0)

    # stable: a row's problems keep the order of its columns
    report.errors.sort(key=position)
    report.warnings.sort(key=position)


def _audit_import(
    ctx: Context, report: Report, event: AuditEvent, written: Collection[Row] = ()
) -> None:
    """Write on the import's audit line what file it read, what it did and into which projects."""
    event.changes = {
        "file": report.filename,
        "sha256": report.sha256,
        "rows": report.rows,
        "written": report.written,
        "skipped": report.skipped,
        "left_out": len(report.left_out),
        "invalid": report.invalid,
        "project": ctx.default_project.code if ctx.default_project else None,
        # who may be told of this import later (``_note_earlier_import``)
        "projects": _projects_of(row for row in written if row.ok),
    }


def _projects_of(rows: Iterable[Row]) -> list[str]:
    """Return the codes of the projects the rows went into (none for partners)."""
    codes = set()
    for row in rows:
        v = row.values
        project, person = v.get("project"), v.get("participant")
        if project is not None:
            codes.add(project.code)
        elif v.get("project_code"):
            codes.add(v["project_code"])
        elif person is not None:  # a follow-up names its participant only
            codes.add(person.project.code)
    return sorted(codes)


def _note_earlier_import(ctx: Context, report: Report) -> None:
    """Warn when the very same file (same SHA-256) was imported before where the user sees.

    Only an import of hers or into one of her projects is told, with its day and who made
    it: one into projects she does not see is none of her business, and telling it, even
    without a name, would say that the people of her file are recorded there (issue 17).
    """
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "import", AuditEvent.entity == report.kind)
        .order_by(AuditEvent.occurred_at.desc())
        .limit(500)
    )
    scope = _scope_codes(ctx)
    for event in events:
        changes = event.changes or {}
        if changes.get("sha256") != report.sha256 or not changes.get("written"):
            continue
        if scope is not None and not _told(ctx, event, scope):
            continue
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


def _told(ctx: Context, event: AuditEvent, scope: set[str]) -> bool:
    """Whether an earlier import is the user's to know of: hers, or into one of her projects.

    One into no project (partners: everybody's records) is everybody's.
    """
    if ctx.user is not None and event.actor_id == ctx.user.id:
        return True
    changes = event.changes or {}
    projects = changes.get("projects")
    if projects is None:  # a line written before the projects were kept
        projects = [changes["project"]] if changes.get("project") else None
    if projects is None:
        return False
    return not projects or any(code in scope for code in projects)


def _scope_codes(ctx: Context) -> set[str] | None:
    """Return the codes of the projects the importer sees, None when she sees them all."""
    if ctx.user is None or sees_all_projects(ctx.user):
        return None
    return set(db.session.scalars(ctx.project_query().with_only_columns(Project.code)))


def purge() -> int:
    """Delete uploads left unconfirmed for more than a day (they hold personal data).

    Run every hour by the job workers' housekeeping (``tracker.jobs.housekeeping``) and
    at each upload; the caller commits.
    """
    cutoff = now_utc() - PENDING_LIFETIME
    result = db.session.execute(delete(PendingImport).where(PendingImport.created_at < cutoff))
    return result.rowcount or 0


def unexpired() -> ColumnElement[bool]:
    """Return the condition that keeps the uploads still waiting: not older than a day."""
    return PendingImport.created_at >= now_utc() - PENDING_LIFETIME


def waiting(user: User) -> list[PendingImport]:
    """Return ``user``'s uploads waiting for her confirmation, newest first."""
    return list(
        db.session.scalars(
            select(PendingImport)
            .where(PendingImport.user_id == user.id, unexpired())
            .order_by(PendingImport.created_at.desc(), PendingImport.id.desc())
        )
    )


class TooManyWaiting(DomainError):
    """A new upload refused: the user has as many uploads waiting as she may."""


def check_room(user: User, limit: int) -> None:
    """Refuse (``TooManyWaiting``) a new upload when ``user`` has ``limit`` waiting already.

    Each upload keeps a whole file of personal data until it is imported or deleted:
    the person imports or deletes one first. Two uploads sent at the same instant are
    counted one after the other: on PostgreSQL her account's row is locked until the
    upload is stored (``FOR NO KEY UPDATE``: her other writes, which only refer to the
    row, are not held up); SQLite's writing requests begin ``IMMEDIATE`` and so wait
    their turn already.
    """
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    count = db.session.scalar(
        select(func.count())
        .select_from(PendingImport)
        .where(PendingImport.user_id == user.id, unexpired())
    )
    if count >= limit:
        raise TooManyWaiting(
            ngettext(
                "You have %(num)d upload checked and not imported: import it or delete it "
                "(below) before uploading another file.",
                "You have %(num)d uploads checked and not imported: import or delete one of "
                "them (below) before uploading another file.",
                count,
            ),
            "file",
        )
