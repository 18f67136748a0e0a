"""Reading the audit log: filters, choices, and the page each line's record lives on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from tracker.audit import ACTION_LABELS, ENTITY_LABELS, READ_ACTIONS
from tracker.extensions import db
from tracker.models import (
    Activity,
    ActivityAttendance,
    AuditEvent,
    Consent,
    Enrolment,
    FollowUp,
    GeneratedReport,
    Participant,
    Partner,
    Placement,
    Project,
    ProjectTarget,
    ReportNarrative,
    TrainingCourse,
    User,
)


@dataclass(frozen=True)
class AuditFilters:
    """What the administrator asked for; None means "any"."""

    actor_id: int | None = None
    action: str | None = None
    entity: str | None = None
    entity_id: int | None = None
    start: date | None = None
    end: date | None = None
    text: str | None = None
    #: page views too (hidden by default: every page opened is a line)
    reads: bool = False


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def events_query(filters: AuditFilters) -> Select:
    """Return the audit lines matching ``filters``, newest first.

    The period is in whole days, both ends included (UTC, the log's clock). Page views
    are left out unless asked for, or unless the action asked for is one.
    """
    query = select(AuditEvent)
    if not filters.reads and filters.action not in READ_ACTIONS:
        query = query.where(AuditEvent.action.not_in(READ_ACTIONS))
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.entity:
        query = query.where(AuditEvent.entity == filters.entity)
    if filters.entity_id is not None:
        query = query.where(AuditEvent.entity_id == filters.entity_id)
    if filters.start:
        query = query.where(AuditEvent.occurred_at >= _day_start(filters.start))
    if filters.end and filters.end < date.max:  # 9999-12-31 has no next day: no bound
        query = query.where(AuditEvent.occurred_at < _day_start(filters.end + timedelta(days=1)))
    if filters.text and filters.text.strip():
        needle = filters.text.strip().lower()
        query = query.where(func.lower(AuditEvent.actor_label).contains(needle, autoescape=True))
    return query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


def actors() -> list[tuple[int, str]]:
    """Return (id, e-mail) of every account, the ones that may appear as actors."""
    return [
        (row[0], row[1])
        for row in db.session.execute(select(User.id, User.email).order_by(User.email))
    ]


def actions() -> list[str]:
    """Return the actions the log knows."""
    return list(ACTION_LABELS)


def entities() -> list[str]:
    """Return the kinds of record the log knows."""
    return list(ENTITY_LABELS)


#: entity -> (endpoint, its argument, the column keyed by the audit line's id, the
#: column giving the argument): lines about a record that has a page link to it;
#: a line about an enrolment opens the person's case file, one about a follow-up
#: its placement, and so on
LINKS: dict[str, tuple[str, str, Any, Any]] = {
    "participant": ("participants.detail", "participant_id", Participant.id, Participant.id),
    "consent": ("participants.detail", "participant_id", Consent.id, Consent.participant_id),
    "enrolment": ("participants.detail", "participant_id", Enrolment.id, Enrolment.participant_id),
    "placement": ("placements.placement", "placement_id", Placement.id, Placement.id),
    "follow_up": ("placements.placement", "placement_id", FollowUp.id, FollowUp.placement_id),
    "training_course": ("trainings.course", "course_id", TrainingCourse.id, TrainingCourse.id),
    "activity": ("activities.detail", "activity_id", Activity.id, Activity.id),
    "activity_attendance": (
        "activities.detail",
        "activity_id",
        ActivityAttendance.id,
        ActivityAttendance.activity_id,
    ),
    "partner": ("partners.detail", "partner_id", Partner.id, Partner.id),
    "user": ("users.edit", "user_id", User.id, User.id),
    "generated_report": ("builder.report", "report_id", GeneratedReport.id, GeneratedReport.id),
    "project": ("dashboard.index", "project", Project.id, Project.id),
    "project_target": ("dashboard.index", "project", ProjectTarget.id, ProjectTarget.project_id),
    "report_narrative": (
        "builder.edit",
        "project_id",
        ReportNarrative.id,
        ReportNarrative.project_id,
    ),
}


def record_links(events: Iterable[AuditEvent]) -> dict[tuple[str, int], tuple[str, dict]]:
    """Return, per (entity, id) of ``events``, the endpoint and arguments of its page.

    One query per kind of record on the page; records deleted since have no link.
    """
    wanted: dict[str, set[int]] = defaultdict(set)
    for event_ in events:
        if event_.entity in LINKS and event_.entity_id is not None:
            wanted[event_.entity].add(event_.entity_id)
    links = {}
    for entity, ids in wanted.items():
        endpoint, argument, key, target = LINKS[entity]
        for record_id, target_id in db.session.execute(select(key, target).where(key.in_(ids))):
            if target_id is not None:
                links[(entity, record_id)] = (endpoint, {argument: target_id})
    return links
