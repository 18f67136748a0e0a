"""Capacity-building activities, awareness workshops and events with partners."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import ColumnElement, Select, distinct, extract, func, select
from sqlalchemy.orm import selectinload

from tracker.domain import (
    DomainError,
    archived_filter,
    delete_unless_referenced,
    set_archived,
)
from tracker.extensions import db
from tracker.models import Activity, ActivityAttendance, ActivityKind, Partner, Project

#: what an edit may change (the project stays: attendance counts for that project)
EDITABLE_FIELDS = (
    "kind",
    "title",
    "topic",
    "held_on",
    "city",
    "description",
    "other_women",
    "other_men",
)


def _check(
    project_id: int | None,
    *,
    title: str,
    held_on: date,
    other_women: int,
    other_men: int,
    exclude_id: int | None = None,
) -> None:
    if not title.strip():
        raise DomainError(_("The title is required."), "title")
    if held_on > date.today():
        raise DomainError(
            _("An activity is recorded once it has taken place: the date is in the future."),
            "held_on",
        )
    if other_women < 0:
        raise DomainError(_("Attendee counts cannot be negative."), "other_women")
    if other_men < 0:
        raise DomainError(_("Attendee counts cannot be negative."), "other_men")
    if project_id is not None:
        query = select(func.count(Activity.id)).where(
            Activity.project_id == project_id,
            Activity.title == title.strip(),
            Activity.held_on == held_on,
        )
        if exclude_id is not None:
            query = query.where(Activity.id != exclude_id)
        if db.session.scalar(query):
            raise DomainError(
                _("The project already has an activity with this title on this date."), "title"
            )


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
    _check(
        project.id,
        title=title,
        held_on=held_on,
        other_women=other_women,
        other_men=other_men,
    )
    activity = Activity(
        project=project,
        kind=kind,
        title=title.strip(),
        held_on=held_on,
        topic=(topic or "").strip() or None,
        city=(city or "").strip() or None,
        description=(description or "").strip() or None,
        other_women=other_women,
        other_men=other_men,
    )
    db.session.add(activity)
    db.session.flush()
    return activity


def update_activity(activity: Activity, **changes) -> Activity:
    """Change the editable fields of ``activity``; flush only."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    values = {name: getattr(activity, name) for name in EDITABLE_FIELDS}
    for name, value in changes.items():
        if isinstance(value, str) and not isinstance(value, ActivityKind):
            value = value.strip() or None
        values[name] = value
    values["title"] = values["title"] or ""
    values["other_women"] = values["other_women"] or 0
    values["other_men"] = values["other_men"] or 0
    _check(
        activity.project_id,
        title=values["title"],
        held_on=values["held_on"],
        other_women=values["other_women"],
        other_men=values["other_men"],
        exclude_id=activity.id,
    )
    for name, value in values.items():
        if getattr(activity, name) != value:
            setattr(activity, name, value)
    db.session.flush()
    return activity


def add_attendance(activity: Activity, partner: Partner, *, staff_count: int) -> ActivityAttendance:
    """Record that ``partner`` attended ``activity`` with ``staff_count`` staff."""
    if staff_count < 0:
        raise DomainError(_("The staff count cannot be negative."), "staff_count")
    if partner.archived_at is not None:
        raise DomainError(
            _("This partner is archived: bring it back to the lists first."), "partner"
        )
    if any(a.partner_id == partner.id for a in activity.attendances):
        raise DomainError(_("This partner is already recorded as attending."), "partner")
    attendance = ActivityAttendance(activity=activity, partner=partner, staff_count=staff_count)
    db.session.add(attendance)
    db.session.flush()
    return attendance


def remove_attendance(attendance: ActivityAttendance) -> None:
    """Remove a partner from the attendance of an activity; flush only."""
    activity = attendance.activity
    activity.attendances.remove(attendance)
    db.session.delete(attendance)
    db.session.flush()


def activities_query(
    scope: ColumnElement[bool],
    *,
    project_id: int | None = None,
    kind: ActivityKind | None = None,
    year: int | None = None,
    archived: str | None = None,
) -> Select:
    """Return the activities in ``scope`` matching the filters, newest first.

    Archived activities are left out unless ``archived`` is ``include`` or ``only``.
    """
    query = select(Activity).where(scope, archived_filter(Activity.archived_at, archived))
    if project_id is not None:
        query = query.where(Activity.project_id == project_id)
    if kind is not None:
        query = query.where(Activity.kind == kind)
    if year is not None:
        query = query.where(Activity.held_on.between(date(year, 1, 1), date(year, 12, 31)))
    return query.order_by(Activity.held_on.desc(), Activity.title)


@dataclass(frozen=True)
class Attendance:
    """The partner institutions of an activity and their staff, counted apart from others."""

    partners: int = 0
    staff: int = 0


def attendance_totals(activity_ids: Iterable[int]) -> dict[int, Attendance]:
    """Return, per activity, how many partners attended and with how many staff."""
    ids = list(activity_ids)
    result = {activity_id: Attendance() for activity_id in ids}
    if not ids:
        return result
    rows = db.session.execute(
        select(
            ActivityAttendance.activity_id,
            func.count(ActivityAttendance.partner_id),
            func.coalesce(func.sum(ActivityAttendance.staff_count), 0),
        )
        .where(ActivityAttendance.activity_id.in_(ids))
        .group_by(ActivityAttendance.activity_id)
    )
    for activity_id, partners, staff in rows:
        result[activity_id] = Attendance(int(partners), int(staff))
    return result


@dataclass(frozen=True)
class Reach:
    """Totals over a list of activities; partner staff and other attendees stay apart."""

    activities: int = 0
    institutions: int = 0  # distinct partners
    staff: int = 0
    other_women: int = 0
    other_men: int = 0


def reach(query: Select) -> Reach:
    """Return the totals of the activities selected by ``query``, in SQL."""
    ids = query.with_only_columns(Activity.id).order_by(None).subquery()
    activities, women, men = db.session.execute(
        select(
            func.count(Activity.id),
            func.coalesce(func.sum(Activity.other_women), 0),
            func.coalesce(func.sum(Activity.other_men), 0),
        ).where(Activity.id.in_(select(ids.c.id)))
    ).one()
    institutions, staff = db.session.execute(
        select(
            func.count(distinct(ActivityAttendance.partner_id)),
            func.coalesce(func.sum(ActivityAttendance.staff_count), 0),
        ).where(ActivityAttendance.activity_id.in_(select(ids.c.id)))
    ).one()
    return Reach(int(activities), int(institutions), int(staff), int(women), int(men))


def years(scope: ColumnElement[bool]) -> list[int]:
    """Return the years in which activities in ``scope`` were held, newest first."""
    year = extract("year", Activity.held_on)
    query = select(year).where(scope).distinct().order_by(year.desc())
    return [int(y) for y in db.session.scalars(query) if y]


def topics(project_ids: Sequence[int]) -> list[str]:
    """Return the topics already used in these projects, to suggest them."""
    return list(
        db.session.scalars(
            select(Activity.topic)
            .where(Activity.project_id.in_(project_ids), Activity.topic.is_not(None))
            .distinct()
            .order_by(Activity.topic)
        )
    )


def attendance_list(activity: Activity) -> list[ActivityAttendance]:
    """Return the attendance of ``activity`` with its partners, by partner name."""
    return list(
        db.session.scalars(
            select(ActivityAttendance)
            .join(Partner, ActivityAttendance.partner_id == Partner.id)
            .where(ActivityAttendance.activity_id == activity.id)
            .options(selectinload(ActivityAttendance.partner))
            .order_by(Partner.name)
        )
    )


def partners_not_attending(activity: Activity) -> list[Partner]:
    """Return the partners that may still be added to ``activity``, by name (not archived)."""
    attending = select(ActivityAttendance.partner_id).where(
        ActivityAttendance.activity_id == activity.id
    )
    return list(
        db.session.scalars(
            select(Partner)
            .where(Partner.id.not_in(attending), Partner.archived_at.is_(None))
            .order_by(Partner.name)
        )
    )


def activity_references(activity: Activity) -> list[str]:
    """Return what the figures hold of ``activity`` and stops its deletion, in words."""
    reasons = []
    partners = db.session.scalar(
        select(func.count()).where(ActivityAttendance.activity_id == activity.id)
    )
    if partners:
        reasons.append(
            ngettext(
                "%(num)d partner institution is recorded as attending.",
                "%(num)d partner institutions are recorded as attending.",
                partners,
            )
        )
    others = (activity.other_women or 0) + (activity.other_men or 0)
    if others:
        reasons.append(
            ngettext(
                "%(num)d other attendee is counted in it.",
                "%(num)d other attendees are counted in it.",
                others,
            )
        )
    return reasons


def delete_activity(activity: Activity) -> None:
    """Delete an activity nobody attended; raise ``StillReferenced`` otherwise; flush only."""
    delete_unless_referenced(
        activity,
        activity_references(activity),
        _("The activity cannot be deleted: archive it instead."),
    )


def archive_activity(activity: Activity) -> None:
    """Take an activity out of the default list; its figures stay."""
    set_archived(activity, True)


def unarchive_activity(activity: Activity) -> None:
    """Bring an archived activity back into the list."""
    set_archived(activity, False)
