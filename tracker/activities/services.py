"""Capacity-building activities, awareness workshops and events with partners."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import Activity, ActivityAttendance, ActivityKind, Partner, Project


def record_activity(
    project: Project,
    *,
    kind: ActivityKind,
    title: str,
    held_on: date,
    topic: str | None = None,
    city: str | None = None,
    description: str | None = None,
    other_women: int = 0,
    other_men: int = 0,
) -> Activity:
    """Record an activity of ``project``; flush only."""
    if not title.strip():
        raise DomainError(_("The title is required."), "title")
    if other_women < 0 or other_men < 0:
        raise DomainError(_("Attendee counts cannot be negative."), "other_women")
    activity = Activity(
        project=project,
        kind=kind,
        title=title.strip(),
        held_on=held_on,
        topic=topic,
        city=city,
        description=description,
        other_women=other_women,
        other_men=other_men,
    )
    db.session.add(activity)
    db.session.flush()
    return activity


def add_attendance(activity: Activity, partner: Partner, *, staff_count: int) -> ActivityAttendance:
    """Record that ``partner`` attended ``activity`` with ``staff_count`` staff."""
    if staff_count < 0:
        raise DomainError(_("The staff count cannot be negative."), "staff_count")
    if any(a.partner_id == partner.id for a in activity.attendances):
        raise DomainError(_("This partner is already recorded as attending."), "partner")
    attendance = ActivityAttendance(activity=activity, partner=partner, staff_count=staff_count)
    db.session.add(attendance)
    db.session.flush()
    return attendance
