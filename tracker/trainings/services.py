"""Training courses and the enrolments of participants in them.

Every rule about courses and enrolments lives here, so that the views, the seed
loader, the importer and the CLI refuse the same things with the same words.
Functions only flush; the caller commits once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from flask import has_request_context
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, case, func, select, true
from sqlalchemy.orm import selectinload

from tracker.domain import (
    DomainError,
    archived_filter,
    delete_unless_referenced,
    set_archived,
)
from tracker.extensions import db
from tracker.models import (
    CourseKind,
    Enrolment,
    EnrolmentStatus,
    Participant,
    Partner,
    PartnerKind,
    Project,
    Sex,
    TrainingCourse,
    User,
)
from tracker.participants import listing, rules
from tracker.participants.consent import (
    case_management_holds,
    case_management_holds_sql,
    require_case_management,
)
from tracker.text import fold


def _day(day: date) -> str:
    """A date in a message: in the reader's language on the web, ISO elsewhere (CLI, seed)."""
    return format_date(day) if has_request_context() else day.isoformat()


# --- Courses ----------------------------------------------------------------

#: fields of a course that an edit may change (the project stays)
COURSE_FIELDS = (
    "provider_id",
    "title",
    "sector",
    "kind",
    "city",
    "start_date",
    "end_date",
    "hours",
    "capacity",
)

#: course periods relative to a day, for the list filter
PERIODS = ("running", "upcoming", "finished")


def _check_course_values(
    *, title: str, sector: str, start_date: date, end_date: date, hours, capacity
) -> None:
    if not title.strip():
        raise DomainError(_("The title is required."), "title")
    if not sector.strip():
        raise DomainError(_("The sector or trade is required."), "sector")
    if end_date < start_date:
        raise DomainError(_("The course cannot end before it starts."), "end_date")
    if hours is not None and hours <= 0:
        raise DomainError(_("The number of hours must be at least 1."), "hours")
    if capacity is not None and capacity <= 0:
        raise DomainError(_("The capacity must be at least 1."), "capacity")


def _check_title_free(
    project_id: int, title: str, start_date: date, exclude_id: int | None = None
) -> None:
    query = select(func.count()).where(
        TrainingCourse.project_id == project_id,
        TrainingCourse.title == title.strip(),
        TrainingCourse.start_date == start_date,
    )
    if exclude_id is not None:
        query = query.where(TrainingCourse.id != exclude_id)
    if db.session.scalar(query):
        raise DomainError(
            _("The project already has a course with this title starting on this date."), "title"
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
    _check_course_values(
        title=title,
        sector=sector,
        start_date=start_date,
        end_date=end_date,
        hours=hours,
        capacity=capacity,
    )
    _check_title_free(project.id, title, start_date)
    course = TrainingCourse(
        project=project,
        provider=provider,
        title=title.strip(),
        sector=sector.strip(),
        kind=kind,
        city=(city or "").strip() or None,
        start_date=start_date,
        end_date=end_date,
        hours=hours,
        capacity=capacity,
    )
    db.session.add(course)
    db.session.flush()
    return course


def update_course(
    course: TrainingCourse,
    *,
    provider: Partner,
    title: str,
    sector: str,
    kind: CourseKind,
    start_date: date,
    end_date: date,
    city: str | None = None,
    hours: int | None = None,
    capacity: int | None = None,
) -> TrainingCourse:
    """Change a course, keeping its enrolments valid (seats, dates); flush only."""
    _check_course_values(
        title=title,
        sector=sector,
        start_date=start_date,
        end_date=end_date,
        hours=hours,
        capacity=capacity,
    )
    _check_title_free(course.project_id, title, start_date, exclude_id=course.id)
    taken = enrolled_count(course)
    if capacity is not None and capacity < taken:
        raise DomainError(
            ngettext(
                "%(num)d seat is already taken: the capacity cannot be lower.",
                "%(num)d seats are already taken: the capacity cannot be lower.",
                taken,
            ),
            "capacity",
        )
    last_enrolled, first_closed = db.session.execute(
        select(
            func.max(Enrolment.enrolled_on),
            func.min(func.coalesce(Enrolment.completed_on, Enrolment.dropped_on)),
        ).where(Enrolment.course_id == course.id)
    ).one()
    if last_enrolled is not None and end_date < last_enrolled:
        raise DomainError(
            _(
                "Someone was enrolled on %(date)s: the course cannot end before that.",
                date=_day(last_enrolled),
            ),
            "end_date",
        )
    if first_closed is not None and start_date > first_closed:
        raise DomainError(
            _(
                "A completion or drop-out is recorded on %(date)s: "
                "the course cannot start after that.",
                date=_day(first_closed),
            ),
            "start_date",
        )
    course.provider = provider
    course.title = title.strip()
    course.sector = sector.strip()
    course.kind = kind
    course.city = (city or "").strip() or None
    course.start_date = start_date
    course.end_date = end_date
    course.hours = hours
    course.capacity = capacity
    db.session.flush()
    return course


def period_condition(period: str, today: date):
    """Return the condition for courses ``running``, ``upcoming`` or ``finished`` on ``today``."""
    if period == "running":
        return (TrainingCourse.start_date <= today) & (TrainingCourse.end_date >= today)
    if period == "upcoming":
        return TrainingCourse.start_date > today
    if period == "finished":
        return TrainingCourse.end_date < today
    raise ValueError(f"unknown period {period!r}")


def courses_query(
    scope_condition,
    *,
    project_id: int | None = None,
    provider_id: int | None = None,
    kind: CourseKind | None = None,
    period: str | None = None,
    q: str | None = None,
    archived: str | None = None,
    today: date | None = None,
) -> Select:
    """Return the query of the courses in scope, filtered, newest first.

    Archived courses are left out unless ``archived`` is ``include`` or ``only``.
    """
    query = (
        select(TrainingCourse)
        .where(scope_condition, archived_filter(TrainingCourse.archived_at, archived))
        .options(selectinload(TrainingCourse.provider), selectinload(TrainingCourse.project))
    )
    if project_id:
        query = query.where(TrainingCourse.project_id == project_id)
    if provider_id:
        query = query.where(TrainingCourse.provider_id == provider_id)
    if kind:
        query = query.where(TrainingCourse.kind == kind)
    if period:
        query = query.where(period_condition(period, today or date.today()))
    for term in (q or "").split():
        query = query.where(
            TrainingCourse.title.icontains(term, autoescape=True)
            | TrainingCourse.sector.icontains(term, autoescape=True)
        )
    return query.order_by(TrainingCourse.start_date.desc(), TrainingCourse.title)


@dataclass(frozen=True)
class Seats:
    """What happened to the seats of a course: taken counts everyone not dropped out."""

    enrolled: int = 0
    completed: int = 0
    dropped_out: int = 0

    @property
    def taken(self) -> int:
        return self.enrolled + self.completed


def _not_merged() -> ColumnElement[bool]:
    """Leave out the enrolments kept by a record merged into another (a person counts once).

    After a merge, the enrolment not chosen in a course where both records were
    enrolled stays with the merged record: kept, but neither a seat nor a completion.
    """
    return Enrolment.participant_id.not_in(
        select(Participant.id).where(Participant.merged_into_id.is_not(None))
    )


def seats(course_ids: Iterable[int]) -> dict[int, Seats]:
    """Return the enrolment counts of each course, in one aggregate query."""
    ids = list(course_ids)
    if not ids:
        return {}

    def counted(status: EnrolmentStatus):
        return func.coalesce(func.sum(case((Enrolment.status == status, 1), else_=0)), 0)

    rows = db.session.execute(
        select(
            Enrolment.course_id,
            counted(EnrolmentStatus.ENROLLED),
            counted(EnrolmentStatus.COMPLETED),
            counted(EnrolmentStatus.DROPPED_OUT),
        )
        .where(Enrolment.course_id.in_(ids), _not_merged())
        .group_by(Enrolment.course_id)
    )
    result = {course_id: Seats() for course_id in ids}
    for course_id, enrolled, completed, dropped in rows:
        result[course_id] = Seats(int(enrolled), int(completed), int(dropped))
    return result


def partner(partner_id: int | None) -> Partner | None:
    """Return the partner with this id (partners are shared by every project)."""
    return db.session.get(Partner, partner_id) if partner_id else None


def providers_in(scope_condition) -> list[Partner]:
    """Return the partners that give at least one course in scope, by name."""
    return list(
        db.session.scalars(
            select(Partner)
            .where(Partner.id.in_(select(TrainingCourse.provider_id).where(scope_condition)))
            .order_by(Partner.name)
        )
    )


def provider_choices(keep: int | None = None) -> tuple[list[Partner], list[Partner]]:
    """Return (training providers, other partners), each by name, archived ones left out.

    ``keep``: the id of the partner already chosen (a course's provider), listed even
    when archived, so that the course can still be edited.
    """
    partners = db.session.scalars(
        select(Partner)
        .where(Partner.archived_at.is_(None) | (Partner.id == keep))
        .order_by(Partner.name)
    )
    providers, others = [], []
    for partner in partners:
        (providers if partner.kind is PartnerKind.TRAINING_PROVIDER else others).append(partner)
    return providers, others


def sectors(project_ids: Sequence[int]) -> list[str]:
    """Return the sectors already used by courses of these projects, to suggest them."""
    return list(
        db.session.scalars(
            select(TrainingCourse.sector)
            .where(TrainingCourse.project_id.in_(project_ids))
            .distinct()
            .order_by(TrainingCourse.sector)
        )
    )


def course_references(course: TrainingCourse) -> list[str]:
    """Return what refers to ``course`` and stops its deletion, in words (empty: none)."""
    enrolments = db.session.scalar(
        select(func.count(Enrolment.id)).where(Enrolment.course_id == course.id)
    )
    if not enrolments:
        return []
    return [
        ngettext(
            "%(num)d enrolment refers to this course.",
            "%(num)d enrolments refer to this course.",
            enrolments,
        )
    ]


def delete_course(course: TrainingCourse) -> None:
    """Delete a course nothing refers to; raise ``StillReferenced`` otherwise; flush only."""
    delete_unless_referenced(
        course, course_references(course), _("The course cannot be deleted: archive it instead.")
    )


def archive_course(course: TrainingCourse) -> None:
    """Take a course out of the pick lists and the default list; its figures stay."""
    set_archived(course, True)


def unarchive_course(course: TrainingCourse) -> None:
    """Bring an archived course back into the lists."""
    set_archived(course, False)


# --- Enrolments -------------------------------------------------------------


def enrolled_count(course: TrainingCourse) -> int:
    """Return the number of enrolments in ``course`` that hold a seat (not dropped out)."""
    return db.session.scalar(
        select(func.count()).where(
            Enrolment.course_id == course.id,
            Enrolment.status != EnrolmentStatus.DROPPED_OUT,
            _not_merged(),
        )
    )


def enrol(participant: Participant, course: TrainingCourse, *, on: date) -> Enrolment:
    """Enrol ``participant`` in ``course``, within its capacity and dates; flush only."""
    if participant.project_id != course.project_id:
        raise DomainError(_("The course belongs to another project."), "course")
    if course.archived_at is not None:
        raise DomainError(_("The course is archived: nobody is enrolled in it any more."), "course")
    if participant.erased_at is not None or participant.archived_at is not None:
        raise DomainError(_("An archived or erased record cannot be enrolled."), "participant")
    rules.require_not_merged(participant)
    # imports call this directly: the consent rule holds for them too
    require_case_management(participant)
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


@dataclass(frozen=True)
class Refusal:
    """Why one person could not be enrolled, or her enrolment closed.

    ``field`` names the input at fault: ``enrolled_on`` for a date, ``course`` for
    a full course, ``participant`` for the person herself.
    """

    code: str
    reason: str
    field: str = "participant"

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


class EnrolmentRefused(DomainError):
    """A group action that wrote nothing, with the people it refused and why."""

    def __init__(self, message: str, refusals: list[Refusal], field: str | None = None) -> None:
        super().__init__(message, field)
        self.refusals = refusals


def enrolment_refusal(participant: Participant, course: TrainingCourse, on: date) -> Refusal | None:
    """Return why ``participant`` cannot be enrolled in ``course`` on ``on``, or None.

    The seats left are checked for the whole group by ``enrol_many``.
    """
    code = participant.code
    if participant.project_id != course.project_id:
        return Refusal(code, _("registered in another project"))
    if participant.erased_at is not None:
        return Refusal(code, _("identity erased"))
    if participant.archived_at is not None:
        return Refusal(code, _("case file archived"))
    if participant.merged_into_id is not None:
        return Refusal(code, _("merged into another record"))
    if not case_management_holds(participant):
        # see tracker.participants.consent: nothing new is recorded about her
        return Refusal(code, _("no current consent to case management"))
    if on > course.end_date:
        return Refusal(
            code,
            _(
                "the course ended on %(date)s, before the enrolment date",
                date=_day(course.end_date),
            ),
            "enrolled_on",
        )
    if on < participant.registered_on:
        return Refusal(
            code,
            _(
                "registered on %(date)s, after the enrolment date",
                date=_day(participant.registered_on),
            ),
            "enrolled_on",
        )
    return None


def enrol_many(
    participants: Sequence[Participant], course: TrainingCourse, *, on: date
) -> list[Enrolment]:
    """Enrol several people at once, or nobody: raise ``EnrolmentRefused`` naming who and why.

    Nothing is written unless every person can be enrolled on ``on`` and the
    seats left hold them all.
    """
    if not participants:
        raise DomainError(_("Choose at least one person to enrol."), "participant_ids")
    _require_open(course)
    people = sorted({p.id: p for p in participants}.values(), key=lambda p: p.code)
    already = set(
        db.session.scalars(
            select(Enrolment.participant_id).where(
                Enrolment.course_id == course.id,
                Enrolment.participant_id.in_([p.id for p in people]),
            )
        )
    )
    refusals = []
    for person in people:
        if person.id in already:
            refusals.append(Refusal(person.code, _("already enrolled in this course")))
        elif refusal := enrolment_refusal(person, course, on):
            refusals.append(refusal)
    if refusals:
        raise EnrolmentRefused(
            _("Nobody was enrolled: the people below cannot be."), refusals, "participant_ids"
        )
    if course.capacity is not None:
        left = max(course.capacity - enrolled_count(course), 0)
        if len(people) > left:
            reason = _("no place left (capacity %(capacity)d)", capacity=course.capacity)
            raise EnrolmentRefused(
                ngettext(
                    "Nobody was enrolled: only %(num)d place is left, fewer than the people "
                    "chosen.",
                    "Nobody was enrolled: only %(num)d places are left, fewer than the people "
                    "chosen.",
                    left,
                ),
                [Refusal(p.code, reason, "course") for p in people[left:]],
                "participant_ids",
            )
    return [enrol(person, course, on=on) for person in people]


def _require_open(course: TrainingCourse) -> None:
    if course.archived_at is not None:
        raise DomainError(
            _("The course is archived: nobody is enrolled in it any more."), "participant_ids"
        )


def seats_left(course: TrainingCourse) -> int | None:
    """Return how many more people the course can take (None: no capacity set)."""
    if course.capacity is None:
        return None
    return max(course.capacity - enrolled_count(course), 0)


@dataclass(frozen=True)
class GroupEnrolment:
    """What a group enrolment did: who was enrolled, and who was left out and why."""

    enrolled: list[Enrolment]
    left_out: list[Refusal]


def enrol_those_who_fit(
    participants: Sequence[Participant], course: TrainingCourse, *, on: date
) -> GroupEnrolment:
    """Enrol the people who can be enrolled on ``on``, within the seats left; flush only.

    The others are left out, each with the reason; when seats run short, the people
    are taken by code and the rest are left out for want of a place.
    """
    if not participants:
        raise DomainError(_("Choose at least one person to enrol."), "participant_ids")
    _require_open(course)
    people = sorted({p.id: p for p in participants}.values(), key=lambda p: p.code)
    already = set(
        db.session.scalars(
            select(Enrolment.participant_id).where(
                Enrolment.course_id == course.id,
                Enrolment.participant_id.in_([p.id for p in people]),
            )
        )
    )
    left_out, fitting = [], []
    for person in people:
        if person.id in already:
            left_out.append(Refusal(person.code, _("already enrolled in this course")))
        elif refusal := enrolment_refusal(person, course, on):
            left_out.append(refusal)
        else:
            fitting.append(person)
    left = seats_left(course)
    if left is not None and len(fitting) > left:
        reason = _("no place left (capacity %(capacity)d)", capacity=course.capacity)
        left_out += [Refusal(p.code, reason, "course") for p in fitting[left:]]
        fitting = fitting[:left]
    enrolled = [enrol(person, course, on=on) for person in fitting]
    return GroupEnrolment(enrolled, sorted(left_out, key=lambda r: r.code))


def _check_closing_date(enrolment: Enrolment, on: date, field: str) -> None:
    rules.require_not_merged(enrolment.participant)
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
    if attendance_pct is not None and not 0 <= attendance_pct <= 100:
        raise DomainError(_("Attendance must be between 0 and 100 %."), "attendance_pct")
    enrolment.status = EnrolmentStatus.DROPPED_OUT
    enrolment.dropped_on = on
    enrolment.attendance_pct = attendance_pct
    db.session.flush()
    return enrolment


def complete_all(course: TrainingCourse, *, on: date, certificate: bool = False) -> int:
    """Mark every enrolment of ``course`` still open as completed on ``on``, or none.

    Return how many were completed; raise ``EnrolmentRefused`` naming the people
    whose enrolment cannot close on that date.
    """
    remaining = list(
        db.session.scalars(
            select(Enrolment)
            .join(Participant)
            .where(
                Enrolment.course_id == course.id,
                Enrolment.status == EnrolmentStatus.ENROLLED,
                Participant.merged_into_id.is_(None),
            )
            .options(selectinload(Enrolment.participant))
            .order_by(Participant.code)
        )
    )
    if not remaining:
        raise DomainError(_("Nobody is left to mark as completed."), "completed_on")
    refusals = []
    for enrolment in remaining:
        try:
            _check_closing_date(enrolment, on, "completed_on")
        except DomainError as error:
            refusals.append(Refusal(enrolment.participant.code, error.message))
    if refusals:
        raise EnrolmentRefused(
            _("Nobody was marked as completed: the people below cannot be."),
            refusals,
            "completed_on",
        )
    for enrolment in remaining:
        complete(enrolment, on=on, certificate=certificate)
    return len(remaining)


def roster(course: TrainingCourse, user: User | None = None) -> list[Enrolment]:
    """Return the enrolments of ``course`` with their participants, by code.

    For ``user``, only the people her lists may show (``tracker.participants.listing``).
    """
    allowed = listing.listable(user, Participant.id) if user is not None else true()
    return list(
        db.session.scalars(
            select(Enrolment)
            .join(Participant)
            .where(Enrolment.course_id == course.id, Participant.merged_into_id.is_(None), allowed)
            .options(selectinload(Enrolment.participant))
            .order_by(Participant.code)
        )
    )


def candidates_query(
    course: TrainingCourse,
    q: str | None = None,
    *,
    by_name: bool = True,
    sex: Sex | None = None,
    nationality: str | None = None,
    registered_since: date | None = None,
):
    """Return the query of the active participants of the course's project not enrolled in it.

    ``q`` filters by code, or also by name (folded, every word) when ``by_name``; ``sex``,
    ``nationality`` and ``registered_since`` (registered on or after) narrow it further.
    """
    query = select(Participant).where(
        Participant.project_id == course.project_id,
        Participant.archived_at.is_(None),
        Participant.erased_at.is_(None),
        Participant.merged_into_id.is_(None),
        case_management_holds_sql(Participant.id, date.today()),
        Participant.id.not_in(
            select(Enrolment.participant_id).where(Enrolment.course_id == course.id)
        ),
    )
    if sex is not None:
        query = query.where(Participant.sex == sex)
    if nationality:
        query = query.where(Participant.nationality == nationality)
    if registered_since is not None:
        query = query.where(Participant.registered_on >= registered_since)
    q = (q or "").strip()
    if q and by_name:
        for term in fold(q).split():
            query = query.where(Participant.search_text.contains(term, autoescape=True))
    elif q:
        query = query.where(Participant.code.icontains(q, autoescape=True))
    return query.order_by(Participant.code)


def candidate_nationalities(course: TrainingCourse) -> list[str]:
    """Return the nationalities of the course's project's active participants, for a filter."""
    return list(
        db.session.scalars(
            select(Participant.nationality)
            .where(
                Participant.project_id == course.project_id,
                Participant.archived_at.is_(None),
                Participant.merged_into_id.is_(None),
                Participant.nationality.is_not(None),
            )
            .distinct()
            .order_by(Participant.nationality)
        )
    )


def open_courses_for(participant: Participant, today: date) -> list[TrainingCourse]:
    """Return the running and upcoming courses of her project that she is not in, soonest first."""
    return list(
        db.session.scalars(
            select(TrainingCourse)
            .where(
                TrainingCourse.project_id == participant.project_id,
                TrainingCourse.end_date >= today,
                TrainingCourse.archived_at.is_(None),
                TrainingCourse.id.not_in(
                    select(Enrolment.course_id).where(Enrolment.participant_id == participant.id)
                ),
            )
            .options(selectinload(TrainingCourse.provider))
            .order_by(TrainingCourse.start_date, TrainingCourse.title)
        )
    )
