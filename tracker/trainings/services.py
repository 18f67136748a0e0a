"""Training courses and the enrolments of participants in them."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import (
    CourseKind,
    Enrolment,
    EnrolmentStatus,
    Participant,
    Partner,
    Project,
    TrainingCourse,
)


def create_course(
    project: Project,
    provider: Partner,
    *,
    title: str,
    sector: str,
    kind: CourseKind,
    start_date: date,
    end_date: date,
    city: str | None = None,
    hours: int | None = None,
    capacity: int | None = None,
) -> TrainingCourse:
    """Create a training course of ``project`` given by ``provider``; flush only."""
    if end_date < start_date:
        raise DomainError(_("The course cannot end before it starts."), "end_date")
    if capacity is not None and capacity <= 0:
        raise DomainError(_("The capacity must be at least 1."), "capacity")
    course = TrainingCourse(
        project=project,
        provider=provider,
        title=title.strip(),
        sector=sector.strip(),
        kind=kind,
        city=city,
        start_date=start_date,
        end_date=end_date,
        hours=hours,
        capacity=capacity,
    )
    db.session.add(course)
    db.session.flush()
    return course


def enrolled_count(course: TrainingCourse) -> int:
    """Return the number of enrolments in ``course`` that hold a seat (not dropped out)."""
    return db.session.scalar(
        select(func.count()).where(
            Enrolment.course_id == course.id, Enrolment.status != EnrolmentStatus.DROPPED_OUT
        )
    )


def enrol(participant: Participant, course: TrainingCourse, *, on: date) -> Enrolment:
    """Enrol ``participant`` in ``course``, within its capacity and dates; flush only."""
    if participant.project_id != course.project_id:
        raise DomainError(_("The course belongs to another project."), "course")
    if participant.erased_at is not None or participant.archived_at is not None:
        raise DomainError(_("An archived or erased record cannot be enrolled."), "participant")
    if on > course.end_date:
        raise DomainError(_("The course has already ended."), "enrolled_on")
    already = db.session.scalar(
        select(func.count()).where(
            Enrolment.course_id == course.id, Enrolment.participant_id == participant.id
        )
    )
    if already:
        raise DomainError(
            _("%(code)s is already enrolled in this course.", code=participant.code),
            "participant",
        )
    if course.capacity is not None and enrolled_count(course) >= course.capacity:
        raise DomainError(
            _("The course is full (%(capacity)d places).", capacity=course.capacity), "course"
        )
    enrolment = Enrolment(participant=participant, course=course, enrolled_on=on)
    db.session.add(enrolment)
    db.session.flush()
    return enrolment


def _check_closing_date(enrolment: Enrolment, on: date, field: str) -> None:
    if enrolment.status is not EnrolmentStatus.ENROLLED:
        raise DomainError(_("This enrolment is already closed."), "status")
    if on < enrolment.enrolled_on or on < enrolment.course.start_date:
        raise DomainError(_("The date is before the enrolment or the course start."), field)


def complete(
    enrolment: Enrolment,
    *,
    on: date,
    attendance_pct: int | None = None,
    certificate: bool = False,
) -> Enrolment:
    """Mark ``enrolment`` completed on ``on``; flush only."""
    _check_closing_date(enrolment, on, "completed_on")
    if attendance_pct is not None and not 0 <= attendance_pct <= 100:
        raise DomainError(_("Attendance must be between 0 and 100 %."), "attendance_pct")
    enrolment.status = EnrolmentStatus.COMPLETED
    enrolment.completed_on = on
    enrolment.attendance_pct = attendance_pct
    enrolment.certificate = certificate
    db.session.flush()
    return enrolment


def drop_out(enrolment: Enrolment, *, on: date, attendance_pct: int | None = None) -> Enrolment:
    """Mark ``enrolment`` dropped out on ``on``; flush only."""
    _check_closing_date(enrolment, on, "dropped_on")
    enrolment.status = EnrolmentStatus.DROPPED_OUT
    enrolment.dropped_on = on
    enrolment.attendance_pct = attendance_pct
    db.session.flush()
    return enrolment
