"""Form submissions pushed by KoboToolbox: registered once, or kept until someone fixes them.

KoboToolbox's REST service posts each submission as JSON (group paths such as
``participant/given_name``, and ``_id``, ``_uuid``, ``meta/instanceID``,
``_xform_id_string``, ``_submission_time``). It is registered through the importer's
rules (``services.run_record``), Kobo's ``_uuid`` kept as the participant's
``external_id``: a submission sent again (Kobo retries after 60, 600 and 6,000 s, and
users press "resend") is recognised and registers nobody twice. One
``IncomingSubmission`` per submission is the delivery log; an invalid submission keeps
its content there until a manager fixes it and registers it, or discards it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker import audit
from tracker.extensions import db
from tracker.imports import services
from tracker.imports.header import KOBO_UUID
from tracker.imports.report import Context
from tracker.models import (
    IncomingSubmission,
    Participant,
    Project,
    SubmissionState,
    User,
    now_utc,
)
from tracker.text import has_control_characters

SOURCE = "kobo"
#: the longest submission kept (characters of JSON): a form of ours is far smaller
MAX_FIELDS = 300


class Refused(ValueError):
    """A submission that cannot even be filed (no identifier): nothing is kept."""

    def __init__(self, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field_name


@dataclass
class Outcome:
    """What became of one delivery: for the answer to Kobo and the manager's list."""

    submission: IncomingSubmission
    #: "registered" (created now), "already_registered", "discarded" or "invalid"
    status: str
    problems: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def code(self) -> str | None:
        participant = self.submission.participant
        return participant.code if participant is not None else None


def submission_uuid(payload: dict[str, Any]) -> str:
    """Return the submission's identifier: ``_uuid``, else ``meta/instanceID``."""
    for key in (KOBO_UUID, "meta/instanceID", "instanceID"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            uuid = value.strip().removeprefix("uuid:")
            if has_control_characters(uuid):
                raise Refused(_("The submission's identifier holds control characters."), key)
            if len(uuid) > 64:
                raise Refused(_("The submission's identifier is too long."), key)
            return uuid
    raise Refused(_("The submission has no _uuid nor meta/instanceID."), KOBO_UUID)


def cells_of(payload: dict[str, Any]) -> dict[str, str]:
    """Return the submission's answers as cells the importer reads (text per field path).

    Kobo's own lists and objects (attachments, geolocation, notes, tags, validation
    status) are left out; ``_uuid`` is kept once (``meta/instanceID`` repeats it).
    """
    cells: dict[str, str] = {}
    for key, value in payload.items():
        if not isinstance(key, str) or isinstance(value, list | dict):
            continue
        if key in ("meta/instanceID", "instanceID"):
            continue
        if value is None:
            cells[key] = ""
        elif isinstance(value, bool):
            cells[key] = "yes" if value else "no"
        else:
            cells[key] = str(value)
    return cells


def _submitted_at(payload: dict[str, Any]) -> datetime | None:
    value = payload.get("_submission_time")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.now().astimezone().tzinfo)


def _short(value: Any, length: int) -> str | None:
    """Return an identifier Kobo sent, as text kept for the list (no control characters)."""
    if value in (None, ""):
        return None
    text = "".join(c for c in str(value) if not has_control_characters(c))
    return text[:length] or None


def _find(project: Project, uuid: str) -> IncomingSubmission | None:
    return db.session.scalar(
        select(IncomingSubmission).where(
            IncomingSubmission.project_id == project.id,
            IncomingSubmission.source == SOURCE,
            IncomingSubmission.submission_uuid == uuid,
        )
    )


def receive(project: Project, payload: dict[str, Any], *, user: User) -> Outcome:
    """File and register one delivery of a submission; commit. Raises ``Refused``.

    Safe to call again with the same submission (Kobo's retries), and at the same time
    (two deliveries racing): the second finds the first's record.
    """
    if len(payload) > MAX_FIELDS:
        raise Refused(_("The submission has too many fields."))
    uuid = submission_uuid(payload)
    try:
        return _receive(project, payload, uuid, user=user)
    except IntegrityError:
        # the same submission registered by a delivery running at the same time
        db.session.rollback()
        return _receive(project, payload, uuid, user=user)


def _receive(project: Project, payload: dict[str, Any], uuid: str, *, user: User) -> Outcome:
    record = _find(project, uuid)
    now = now_utc()
    if record is not None and record.state is not SubmissionState.INVALID:
        record.deliveries += 1
        record.last_received_at = now
        db.session.commit()
        status = "discarded" if record.state is SubmissionState.DISCARDED else "already_registered"
        return Outcome(record, status)
    if record is None:
        record = IncomingSubmission(
            project=project,
            source=SOURCE,
            submission_uuid=uuid,
            form_id=_short(payload.get("_xform_id_string"), 120),
            source_id=_short(payload.get("_id"), 40),
            submitted_at=_submitted_at(payload),
            received_by_id=user.id,
            received_at=now,
            deliveries=0,
            state=SubmissionState.INVALID,
        )
    return register(record, payload, by=user, delivered=now)


def register(
    record: IncomingSubmission,
    payload: dict[str, Any],
    *,
    by: User,
    delivered: datetime | None = None,
) -> Outcome:
    """Run the importer's rules on ``payload`` and register the person if it holds; commit.

    Used for a delivery (``delivered``: when it arrived) and for a manager's replay after
    a fix (``payload`` then holds her corrections). An invalid submission keeps
    ``payload`` and its problems.
    """
    project = record.project
    cells = cells_of(payload)
    cells.setdefault(KOBO_UUID, record.submission_uuid)
    source = f"KoboToolbox {record.form_id or ''} #{record.source_id or record.submission_uuid}"
    ctx = Context(user=by, default_project=project, today=date.today())
    report = services.run_record("participants", cells, source=source.strip(), ctx=ctx)
    warnings = [{"field": p.column, "message": p.message} for p in report.warnings]
    if report.errors:
        problems = [{"field": p.column, "message": p.message} for p in report.errors]
        db.session.rollback()
        _delivered(record, delivered)
        record.state = SubmissionState.INVALID
        record.payload = payload
        record.problems = problems
        if record.id is None:
            db.session.add(record)
        db.session.commit()
        return Outcome(record, "invalid", problems=problems)
    if report.skipped:
        # registered before, by an import of Kobo's spreadsheet or an earlier delivery: in
        # this project, it is linked; elsewhere, it is not named (issue 17: the list and
        # the answer gave the code of another project's participant)
        participant = db.session.scalar(
            select(Participant).where(
                Participant.external_id == record.submission_uuid,
                Participant.project_id == project.id,
            )
        )
        status, state = "already_registered", SubmissionState.DUPLICATE
    else:
        participant = db.session.scalar(
            select(Participant).where(Participant.code == report.codes[0])
        )
        status, state = "registered", SubmissionState.REGISTERED
    _delivered(record, delivered)
    record.state = state
    record.participant = participant
    # registered: the case file holds the person now; the copy sent by Kobo goes
    record.payload = None
    record.problems = None
    if record.resolved_at is None and record.id is not None:
        record.resolved_at = now_utc()
        record.resolved_by_id = by.id
    if record.id is None:
        db.session.add(record)
    db.session.commit()
    return Outcome(record, status, warnings=warnings)


def purge_stale(days: int, now: datetime | None = None) -> int:
    """Discard the refused submissions nobody fixed within ``days``; commit; return how many.

    Their answers are personal data kept only to be fixed: past the period, they are
    deleted, as a manager's discard does, with an audit line each.
    """
    limit = (now or now_utc()) - timedelta(days=days)
    stale = list(
        db.session.scalars(
            select(IncomingSubmission).where(
                IncomingSubmission.state == SubmissionState.INVALID,
                IncomingSubmission.last_received_at < limit,
            )
        )
    )
    reason = _("not fixed within %(num)d days", num=days)
    for record in stale:
        record.state = SubmissionState.DISCARDED
        record.payload = None
        record.problems = [{"field": None, "message": reason}]
        record.resolved_at = now or now_utc()
        audit.record(
            db.session,
            "discard",
            "incoming_submission",
            record.id,
            {"reason": reason, "uuid": record.submission_uuid},
        )
    db.session.commit()
    return len(stale)


def _delivered(record: IncomingSubmission, moment: datetime | None) -> None:
    if moment is not None:
        record.deliveries = (record.deliveries or 0) + 1
        record.last_received_at = moment


def discard(record: IncomingSubmission, *, by: User, reason: str) -> None:
    """Give up on an invalid submission: its content is deleted, its trace stays; commit."""
    record.state = SubmissionState.DISCARDED
    record.payload = None
    record.problems = [{"field": None, "message": reason}]
    record.resolved_at = now_utc()
    record.resolved_by_id = by.id
    audit.record(
        db.session,
        "discard",
        "incoming_submission",
        record.id,
        {"reason": reason, "uuid": record.submission_uuid},
    )
    db.session.commit()
