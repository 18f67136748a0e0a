"""The audit log, written by one SQLAlchemy hook rather than by each view.

Every insert, update and delete of a domain record flushed through the session
adds an ``AuditEvent`` to the same transaction, so a change and its audit line
commit or roll back together. Personal fields are listed as changed but their
values are never written ("***"). Sign-ins, reads of personal data and exports
are written with ``record()``.
"""

from __future__ import annotations

import bisect
import contextvars
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import Flask, g, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, object_session

from tracker import audit_chain
from tracker.database import SAFE_METHODS
from tracker.extensions import db
from tracker.models import AuditEvent, Base, Job, Participant, RecoveryCode, User

MASK = "***"
#: lines of a page or a file opened: the log's pages and the case file hide them unless asked
READ_ACTIONS = frozenset({"view"})
#: per entity, fields whose values never reach the audit log
MASKED_FIELDS: dict[str, frozenset[str]] = {
    "participant": frozenset(Participant.PERSONAL_FIELDS),
    # an IGA is often named after its owner; incomes and notes are about one person
    "placement": frozenset({"business_name", "monthly_income"}),
    "follow_up": frozenset({"note", "monthly_income"}),
    "partner": frozenset({"contact_name", "contact_email", "contact_phone"}),
    "user": frozenset({"password_hash", "session_token", "totp_secret"}),
    # an upload waiting for confirmation: its rows (and the sample shown) are personal data
    "pending_import": frozenset({"summary", "content", "token"}),
    # a merge keeps every column of the records as they were, names and phones included
    "participant_merge": frozenset({"before", "after"}),
    "api_token": frozenset({"token_hash"}),
    # a submission waiting for a fix holds the person's answers, and its problems quote them
    "incoming_submission": frozenset({"payload", "problems"}),
}
#: bookkeeping and derived columns (the search columns repeat personal fields)
IGNORED_FIELDS = frozenset(
    {
        "created_at",
        "updated_at",
        "version",
        "search_text",
        "name_key",
        "phone_key",
        "last_used_at",
        "last_used_addr",
        "deliveries",
        "last_received_at",
        "totp_last_step",
    }
)


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when the app tries to change or delete a line of the audit log."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"The audit log is append-only: {what} is refused. Audit lines are only ever added."
        )


_actor: contextvars.ContextVar[tuple[int | None, str] | None] = contextvars.ContextVar(
    "audit_actor", default=None
)


@contextmanager
def acting_as(label: str, user: User | None = None):
    """Attribute the audit lines written inside the block to ``label`` (e.g. "cli:seed")."""
    token = _actor.set((user.id if user else None, label))
    try:
        yield
    finally:
        _actor.reset(token)


def current_actor() -> tuple[int | None, str]:
    """Return (user id, label) of whoever is acting: the signed-in user, the CLI, or system."""
    explicit = _actor.get()
    if explicit is not None:
        return explicit
    if has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            # a program acting with a token: the line says which token
            return current_user.id, g.get("api_token_label") or current_user.email
        return None, "anonymous"
    return None, "system"


def _remote_addr() -> str | None:
    return request.remote_addr if has_request_context() else None


def current_addr() -> str | None:
    """Return the client address of the current request, if any."""
    return _remote_addr()


def new_record_changes(entity: str, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Return the audit changes of a record created with ``values`` (for bulk inserts).

    The same as the flush hook writes for a new record: every field set, personal
    values masked.
    """
    masked = MASKED_FIELDS.get(entity, frozenset())
    return {
        name: [None, MASK if name in masked else plain_value(value)]
        for name, value in values.items()
        if value is not None and name != "id" and name not in IGNORED_FIELDS
    }


def plain_value(value: Any) -> Any:
    """Return ``value`` as JSON holds it: enums by value, dates in ISO, amounts as text."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    return value


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """Return ``ids`` as sorted runs ``[first, last]``, for a line that names many records.

    An export of a whole project (49,000 people) is a few runs, not 49,000 numbers:
    ``[[1, 4000], [4002, 4999]]``. ``in_ranges`` asks whether an id is among them.
    """
    runs: list[list[int]] = []
    for id_ in sorted(set(ids)):
        if runs and id_ == runs[-1][1] + 1:
            runs[-1][1] = id_
        else:
            runs.append([id_, id_])
    return runs


def in_ranges(ranges: Any, ids: Iterable[int]) -> bool:
    """Say whether any of ``ids`` is within the runs of ``id_ranges`` (as a line holds them)."""
    runs = [(int(first), int(last)) for first, last in ranges or ()]
    starts = [first for first, _last in runs]
    for id_ in ids:
        at = bisect.bisect_right(starts, id_) - 1
        if at >= 0 and runs[at][0] <= id_ <= runs[at][1]:
            return True
    return False


def ranges_size(ranges: Any) -> int:
    """Return how many ids the runs of ``id_ranges`` hold."""
    return sum(int(last) - int(first) + 1 for first, last in ranges or ())


def record(
    session: Session,
    action: str,
    entity: str,
    entity_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit line for something that is not a row change (sign-in, export, read)."""
    actor_id, label = current_actor()
    event_ = AuditEvent(
        actor_id=actor_id,
        actor_label=label,
        action=action,
        entity=entity,
        entity_id=entity_id,
        changes={k: plain_value(v) for k, v in changes.items()} if changes else None,
        remote_addr=_remote_addr(),
    )
    session.add(event_)
    return event_


def _stored_values(session: Session, obj: Base, names: list[str]) -> dict[str, Any]:
    """Read the stored values of ``names`` (expired after a commit, so not in history)."""
    table = obj.__table__
    row = session.connection().execute(
        select(*(table.c[n] for n in names)).where(table.c.id == obj.id)
    )
    return dict(zip(names, row.one(), strict=True))


def record_read(entity: str, entity_id: int | None, detail: dict[str, Any] | None = None) -> None:
    """Log a read of personal data (a case file opened, an export) at once.

    The line is written and committed in a short transaction of its own, so a
    page that only reads never holds a write lock, and the line stays even if
    the page later fails.
    """
    record_now("view", entity, entity_id, detail)


_CURRENT = object()


def record_now(
    action: str,
    entity: str,
    entity_id: int | None = None,
    detail: dict[str, Any] | None = None,
    *,
    remote_addr: Any = _CURRENT,
) -> None:
    """Write and commit an audit line at once, in a short transaction of its own.

    For what reads (a download, an export, a backup): the caller's transaction stays
    read-only, and the line stays whatever happens next. ``remote_addr``: the
    client's address (default: the current request's, None outside one).
    """
    actor_id, label = current_actor()
    with Session(db.engine) as session:
        session.add(
            AuditEvent(
                actor_id=actor_id,
                actor_label=label,
                action=action,
                entity=entity,
                entity_id=entity_id,
                changes={k: plain_value(v) for k, v in detail.items()} if detail else None,
                remote_addr=_remote_addr() if remote_addr is _CURRENT else remote_addr,
            )
        )
        session.commit()


def record_shown(
    entity: str,
    entity_id: int | None,
    detail: dict[str, Any] | None = None,
    *,
    action: str = "view",
) -> None:
    """Log a read from a page that any method may render, just before it is rendered.

    A GET logs at once (``record_read``). A POST that shows its page again (a form
    with errors, the duplicate warning) has changed nothing it will keep, but its
    transaction holds SQLite's write lock (BEGIN IMMEDIATE), so the line's own
    transaction could not start: that transaction is rolled back first. Call it
    only where the view is about to render, never between a change and its commit.
    ``action``: a read other than a page view (``subject_access``: a person's own copy).
    """
    if not (has_request_context() and request.method not in SAFE_METHODS):
        record_now(action, entity, entity_id, detail)
        return
    # who acts is read first: after the rollback, reading the user would begin again
    token = _actor.set(current_actor())
    try:
        db.session.rollback()
        record_now(action, entity, entity_id, detail)
    finally:
        _actor.reset(token)


def _field_changes(session: Session, obj: Base, entity: str, *, new: bool) -> dict[str, list[Any]]:
    masked = MASKED_FIELDS.get(entity, frozenset())
    state = inspect(obj)
    changed: dict[str, tuple[list[Any], Any]] = {}
    for attr in state.mapper.column_attrs:
        name = attr.key
        if name in IGNORED_FIELDS or name == "id":
            continue
        hist = state.attrs[name].history
        if hist.added and (new or hist.has_changes()):
            changed[name] = (list(hist.deleted), hist.added[0])
    unknown_old = [n for n, (deleted, _) in changed.items() if not deleted and not new]
    stored = _stored_values(session, obj, unknown_old) if unknown_old else {}
    changes: dict[str, list[Any]] = {}
    for name, (deleted, value) in changed.items():
        old = None if new else (deleted[0] if deleted else stored.get(name))
        if old == value or (new and value is None):
            continue
        if name in masked:
            changes[name] = [None if new else MASK, MASK]
        else:
            changes[name] = [plain_value(old), plain_value(value)]
    return changes


#: session.info key: audit lines added in the session's current transaction. A line
#: may be completed before its transaction commits (an import writes its totals at the
#: end); once committed it is part of the log and never changes.
_FRESH = "audit_fresh"


def _is_fresh(session: Session | None, event_: AuditEvent) -> bool:
    return session is not None and event_ in session.info.get(_FRESH, ())


def _guard_audit_log(session: Session) -> None:
    """Refuse to flush a change or deletion of an audit line already committed."""
    fresh = session.info.setdefault(_FRESH, set())
    fresh.update(obj for obj in session.new if isinstance(obj, AuditEvent))
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditLogIsAppendOnly(f"deleting audit line {obj.id}")
    for obj in session.dirty:
        if (
            isinstance(obj, AuditEvent)
            and obj not in fresh
            and session.is_modified(obj, include_collections=False)
        ):
            raise AuditLogIsAppendOnly(f"changing audit line {obj.id}")


def _refuse_row_change(_mapper, _connection, target: AuditEvent) -> None:
    # every session, the short ones of record_read() included, goes through the mapper
    if not _is_fresh(object_session(target), target):
        raise AuditLogIsAppendOnly(f"changing or deleting audit line {target.id}")


def _refuse_bulk_change(state: ORMExecuteState) -> None:
    """Refuse UPDATE and DELETE statements on the audit table run through the session."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == AuditEvent.__tablename__:
        raise AuditLogIsAppendOnly("an UPDATE or DELETE statement on the audit table")


def _forget_fresh(session: Session, transaction) -> None:
    # a savepoint ending leaves the outer transaction, and its uncommitted lines, going
    if transaction.parent is None:
        session.info.pop(_FRESH, None)


#: rows whose changes are not lines of the log: the log itself, jobs (what a job does
#: is logged by the work: the import, the export, the report, the file's download), and
#: recovery codes (their making and use are lines of their own, without the hashes)
NOT_AUDITED = (AuditEvent, Job, RecoveryCode)


def _before_flush(session: Session, _flush_context, _instances) -> None:
    _guard_audit_log(session)
    actor_id, label = current_actor()
    addr = _remote_addr()
    pending: list[tuple[Base, str, dict]] = []
    for obj in session.new:
        if isinstance(obj, Base) and not isinstance(obj, NOT_AUDITED):
            entity = obj.__tablename__
            pending.append((obj, "create", _field_changes(session, obj, entity, new=True)))
    for obj in session.dirty:
        if isinstance(obj, Base) and not isinstance(obj, NOT_AUDITED):
            entity = obj.__tablename__
            changes = _field_changes(session, obj, entity, new=False)
            if changes:
                pending.append((obj, "update", changes))
    for obj in session.deleted:
        if isinstance(obj, Base) and not isinstance(obj, NOT_AUDITED):
            pending.append((obj, "delete", {}))
    if not pending:
        return
    session.info.setdefault("audit_pending", []).extend(
        (obj, action, changes, actor_id, label, addr) for obj, action, changes in pending
    )


def _after_flush(session: Session, _flush_context) -> None:
    # ids of new rows exist only after the flush; the audit rows join the same transaction
    pending = session.info.pop("audit_pending", [])
    for obj, action, changes, actor_id, label, addr in pending:
        session.add(
            AuditEvent(
                actor_id=actor_id,
                actor_label=label,
                action=action,
                entity=obj.__tablename__,
                entity_id=obj.id,
                changes=changes or None,
                remote_addr=addr,
            )
        )


def _after_rollback(session: Session) -> None:
    session.info.pop("audit_pending", None)


ACTION_LABELS = {
    "create": _l("created"),
    "update": _l("changed"),
    "delete": _l("deleted"),
    "view": _l("viewed"),
    "login": _l("signed in"),
    "login_failed": _l("failed sign-in"),
    "login_throttled": _l("sign-in paused: too many attempts"),
    "work_throttled": _l("paused: too many exports, imports or reports"),
    "session_expired": _l("session expired"),
    "logout": _l("signed out"),
    "report": _l("report generated"),
    "export": _l("exported"),
    "import": _l("imported"),
    "erase": _l("identity erased"),
    "subject_access": _l("own copy of a person's data made"),
    "backup": _l("backed up"),
    "restore": _l("restored from a backup"),
    "merge": _l("duplicates merged"),
    "unmerge": _l("merge undone"),
    "rebuild_indicators": _l("indicator store rebuilt"),
    "cancel": _l("cancelled"),
    "discard": _l("discarded"),
    "prune": _l("oldest lines deleted behind a checkpoint"),
    "second_factor_enrolled": _l("two-step sign-in set up"),
    "second_factor_reset": _l("two-step sign-in reset"),
    "second_factor_failed": _l("wrong sign-in code"),
    "recovery_code_used": _l("recovery code used"),
}
ENTITY_LABELS = {
    "participant": _l("participant"),
    "consent": _l("consent"),
    "enrolment": _l("enrolment"),
    "placement": _l("placement"),
    "follow_up": _l("follow-up"),
    "training_course": _l("training course"),
    "partner": _l("partner"),
    "activity": _l("activity"),
    "activity_attendance": _l("attendance"),
    "project": _l("project"),
    "project_target": _l("target"),
    "project_result": _l("result of the results framework"),
    "result_indicator": _l("indicator of the results framework"),
    "manual_value": _l("value of a manual indicator"),
    "courses": _l("training courses"),
    "partners": _l("partners"),
    "user": _l("user"),
    "generated_report": _l("donor report"),
    "participants": _l("participants"),
    "enrolments": _l("enrolments"),
    "placements": _l("placements"),
    "followups": _l("follow-ups"),
    "activities": _l("activities"),
    "attendance": _l("attendance"),
    "indicators": _l("indicator tables"),
    "iati": _l("IATI results file"),
    "dhis2": _l("DHIS2 aggregates"),
    "report_narrative": _l("report narrative"),
    "pending_import": _l("uploaded file"),
    "job": _l("job"),
    "database": _l("database"),
    "participant_merge": _l("merge of duplicates"),
    "api_token": _l("API token"),
    "incoming_submission": _l("incoming form submission"),
    "todo": _l("to-do list"),
    "audit_event": _l("audit log"),
    "audit_checkpoint": _l("checkpoint of the audit log"),
}


FIELD_LABELS = {
    "code": _l("Code"),
    "given_name": _l("Given name"),
    "family_name": _l("Family name"),
    "other_name": _l("Name in the other script"),
    "sex": _l("Sex"),
    "date_of_birth": _l("Date of birth"),
    "birth_year": _l("Year of birth"),
    "nationality": _l("Nationality"),
    "region": _l("Region"),
    "city": _l("City"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "migration_status": _l("Migration status"),
    "education_level": _l("Education level"),
    "languages": _l("Languages spoken"),
    "sensitive_notes": _l("Sensitive notes"),
    "registered_on": _l("Registration date"),
    "archived_at": _l("Archived"),
    "erased_at": _l("Identity erased"),
    "purpose": _l("Consent"),
    "given_on": _l("Date of consent"),
    "expires_on": _l("Expires on"),
    "withdrawn_on": _l("Withdrawn on"),
    "status": _l("Status"),
    "enrolled_on": _l("Enrolment date"),
    "completed_on": _l("Completion date"),
    "dropped_on": _l("Drop-out date"),
    "attendance_pct": _l("Attendance %"),
    "certificate": _l("Certificate"),
    "kind": _l("Kind"),
    "business_name": _l("Business name"),
    "sector": _l("Sector"),
    "start_date": _l("Start"),
    "end_date": _l("End"),
    "contract_type": _l("Contract type"),
    "monthly_income": _l("Monthly income"),
    "verified": _l("Verified"),
    "months_after": _l("Months after start"),
    "followed_on": _l("Date of the follow-up"),
    "still_active": _l("Still active"),
    "note": _l("Note"),
    "merged_into_id": _l("Merged into"),
    "participant_id": _l("Person"),
    "project_id": _l("Project"),
    "course_id": _l("Course"),
    "partner_id": _l("Partner"),
    "provider_id": _l("Training provider"),
    "employer_id": _l("Employer"),
    "referral_partner_id": _l("Referred by"),
    "activity_id": _l("Activity"),
    "placement_id": _l("Placement"),
    "user_id": _l("User"),
    "registered_by_id": _l("Registered by"),
    "created_by_id": _l("Created by"),
    "resolved_by_id": _l("Resolved by"),
    "received_by_id": _l("Received by"),
    "undone_by_id": _l("Undone by"),
    "survivor_id": _l("Surviving record"),
    "external_id": _l("Identifier in another system"),
    # projects, partners, courses, activities, accounts, reports and jobs
    "title": _l("Title"),
    "name": _l("Name"),
    "acronym": _l("Acronym"),
    "donor": _l("Donor"),
    "country": _l("Country"),
    "counterpart": _l("Counterpart"),
    "description": _l("Description"),
    "calendar": _l("Reporting calendar"),
    "report_due_days": _l("Days to send a report"),
    "closed_at": _l("Closed"),
    "contact_name": _l("Contact person"),
    "contact_email": _l("Contact e-mail"),
    "contact_phone": _l("Contact phone"),
    "role": _l("Role"),
    "active": _l("Active"),
    "password_hash": _l("Password"),
    "session_token": _l("Sessions"),
    "last_login_at": _l("Last sign-in"),
    "hours": _l("Hours"),
    "capacity": _l("Seats"),
    "topic": _l("Topic"),
    "held_on": _l("Date held"),
    "other_women": _l("Other women attending"),
    "other_men": _l("Other men attending"),
    "staff_count": _l("Staff attending"),
    "indicator": _l("Indicator"),
    "period": _l("Period"),
    "target": _l("Target"),
    "baseline": _l("Baseline"),
    "level": _l("Level"),
    "statement": _l("Result statement"),
    "key": _l("Indicator"),
    "unit": _l("Unit"),
    "cumulative": _l("Since the start"),
    "share_dimension": _l("Disaggregated target"),
    "share_category": _l("Category"),
    "share_minimum": _l("At least (%)"),
    "value": _l("Value"),
    "recorded_by_label": _l("Entered by"),
    "result_id": _l("Result"),
    "indicator_id": _l("Indicator"),
    "section": _l("Section"),
    "text": _l("Text"),
    "period_start": _l("Start of the period"),
    "period_end": _l("End of the period"),
    "language": _l("Language"),
    "created_by_label": _l("Created by"),
    "as_of": _l("Data as of"),
    "small_cell_threshold": _l("Small-cell threshold"),
    "size": _l("Size (bytes)"),
    "annex_name": _l("Annex"),
    "annex_rows": _l("Rows of the annex"),
    "filename": _l("File"),
    "expires_at": _l("Expires"),
    "revoked_at": _l("Revoked"),
    "state": _l("State"),
    "source": _l("Source"),
    "submission_uuid": _l("Submission"),
    "form_id": _l("Form"),
    "source_id": _l("Identifier at the source"),
    "submitted_at": _l("Submitted"),
    "received_at": _l("Received"),
    "resolved_at": _l("Resolved"),
    "merged_ids": _l("Records merged"),
    "undone_at": _l("Undone"),
    "undone_by_label": _l("Undone by"),
    "projects": _l("Projects"),
    # the lines of a merge and of its undo
    "merge": _l("Merge number"),
    "survivor": _l("Surviving record"),
    "merged": _l("Records merged"),
    "choices": _l("Values kept from"),
    "kept_enrolments": _l("Enrolments kept"),
    "moved": _l("Rows moved"),
    "restored": _l("Rows restored"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def entity_label(entity: str) -> str:
    return str(ENTITY_LABELS.get(entity, entity))


def init_app(app: Flask) -> None:
    """Install the flush hooks once for every session of the app."""
    audit_chain.install_session_hooks()
    target = db.session
    if not event.contains(target, "before_flush", _before_flush):
        event.listen(target, "before_flush", _before_flush)
        event.listen(target, "after_flush", _after_flush)
        event.listen(target, "after_soft_rollback", lambda s, _t: _after_rollback(s))
        event.listen(target, "after_transaction_end", _forget_fresh)
        event.listen(target, "do_orm_execute", _refuse_bulk_change)
    for name in ("before_update", "before_delete"):
        if not event.contains(AuditEvent, name, _refuse_row_change):
            event.listen(AuditEvent, name, _refuse_row_change)
