"""The retention period: case files left untouched for longer lose their identity.

A case's last activity is the latest of its registration, its enrolments
(enrolled, completed, dropped out), its placements (start, end), their
follow-ups and its archiving. Past ``RETENTION_YEARS`` after it, the person's
identity is erased with the same ``erase()`` an administrator uses on request:
the code, the outcomes and so every figure stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Date, func, select, type_coerce, union_all

from tracker import audit
from tracker.extensions import db
from tracker.models import Enrolment, FollowUp, Participant, Placement, Project
from tracker.participants.services import erase


@dataclass(frozen=True)
class PastRetention:
    participant_id: int
    code: str
    last_activity: date

    def years_since(self, today: date) -> float:
        return (today - self.last_activity).days / 365.25


def cutoff(years: int, today: date) -> date:
    """Return the day ``years`` years before ``today``; activity before it is past retention."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def last_activity():
    """Return a subquery of (participant_id, last_activity), one row per participant."""
    archived_on = type_coerce(func.date(Participant.archived_at), Date)
    days = union_all(
        select(Participant.id.label("pid"), Participant.registered_on.label("day")),
        select(Participant.id, archived_on).where(Participant.archived_at.is_not(None)),
        select(Enrolment.participant_id, Enrolment.enrolled_on),
        select(Enrolment.participant_id, Enrolment.completed_on),
        select(Enrolment.participant_id, Enrolment.dropped_on),
        select(Placement.participant_id, Placement.start_date),
        select(Placement.participant_id, Placement.end_date),
        select(Placement.participant_id, FollowUp.followed_on).join(FollowUp.placement),
    ).subquery("days")
    return (
        select(days.c.pid, type_coerce(func.max(days.c.day), Date).label("last_activity"))
        .group_by(days.c.pid)
        .subquery("activity")
    )


def past_retention(
    years: int, *, today: date, project: Project | None = None
) -> list[PastRetention]:
    """Return the participants not yet erased whose last activity is before the cutoff."""
    activity = last_activity()
    query = (
        select(Participant.id, Participant.code, activity.c.last_activity)
        .join(activity, activity.c.pid == Participant.id)
        .where(Participant.erased_at.is_(None), activity.c.last_activity < cutoff(years, today))
        .order_by(activity.c.last_activity, Participant.code)
    )
    if project is not None:
        query = query.where(Participant.project_id == project.id)
    return [PastRetention(*row) for row in db.session.execute(query)]


def erase_past_retention(cases: list[PastRetention], *, years: int) -> int:
    """Erase the identity of each case, with an audit line saying why; only flushes.

    The caller commits once, so either every identity is erased or none is.
    """
    for case in cases:
        participant = db.session.get(Participant, case.participant_id)
        erase(participant)
        audit.record(
            db.session,
            "erase",
            "participant",
            participant.id,
            {
                "reason": "retention",
                "last_activity": case.last_activity,
                "retention_years": years,
            },
        )
    db.session.flush()
    return len(cases)
