"""What an officer has to do next: follow-ups due, enrolments left open, incomplete case files.

The rules are the features' own, not new ones: a follow-up falls due 3, 6 and 12
months after the start as ``placements.services`` says; an enrolment is left open,
and a case file lacks key fields, as the data-quality panel says
(``dashboard.quality``). This module picks, in the user's scope and in SQL, the
items someone can act on, most urgent first:

- ``overdue``: follow-ups due before today and not recorded, the most recently due
  first: those can still be caught up, while one missed years ago would otherwise
  hold the top of the list for ever (the group's page lists them all);
- ``due``: follow-ups falling due from today to ``SOON_DAYS`` days ahead, soonest first;
- ``enrolments``: enrolments still marked enrolled after their course ended, the
  latest course first (its trainer and attendance sheets are at hand);
- ``case_files``: case files without nationality, region, or birth date and year,
  the latest registered first.

A follow-up means contacting the person and an edit changes her case file: neither
is allowed without a current consent to case management (the case file is frozen,
tracker.participants.consent, rule 3), so those people, and erased or merged
records, are left out of these groups. Closing an enrolment stays allowed for them
(a correction), so that group keeps them, as the quality panel does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from math import ceil
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    extract,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import selectinload

from tracker.dashboard.quality import (
    missing_key_fields,
    missing_key_fields_condition,
    open_enrolment_condition,
)
from tracker.extensions import db
from tracker.models import Enrolment, Participant, Placement, TrainingCourse, User
from tracker.participants.consent import case_management_holds_sql
from tracker.permissions import can_edit_participants, can_see_names, in_scope
from tracker.placements.services import MILESTONES, add_months, milestone_pending_condition

#: follow-ups falling due from today to this many days ahead are listed as due
SOON_DAYS = 14
#: items of each group on the home page; the group's own page lists them all
HOME_LIMIT = 5
PER_PAGE = 25
GROUPS = ("overdue", "due", "enrolments", "case_files")
#: the order of the key fields in the case-file form: an edit link jumps to the first
FORM_ORDER = ("date_of_birth", "nationality", "region")


@dataclass(frozen=True)
class FollowUpDue:
    """One follow-up of a placement, due on ``due_on`` and not recorded."""

    placement: Placement
    months: int
    due_on: date

    @property
    def participant(self) -> Participant:
        return self.placement.participant


@dataclass(frozen=True)
class IncompleteCaseFile:
    """A case file and the key fields it lacks, as (form field, label)."""

    participant: Participant
    missing: list[tuple[str, str]]

    @property
    def first_field(self) -> str:
        return min((name for name, _label in self.missing), key=FORM_ORDER.index)


@dataclass(frozen=True)
class Group:
    """The first items of one group and how many there are in all."""

    key: str
    total: int
    items: list[Any]


@dataclass(frozen=True)
class Page:
    """One page of a group, with what the pager macro reads (as Flask-SQLAlchemy's)."""

    key: str
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def has_todo_list(user: User) -> bool:
    """Say whether ``user`` gets a to-do list: those who see names and record (not viewers)."""
    return can_see_names(user) and can_edit_participants(user)


# --- The queries: one per group, each in the user's scope, most urgent first ------------


def _may_be_contacted(today: date) -> ColumnElement[bool]:
    """Return the condition on Participant: a live record whose case file may be worked on."""
    return and_(
        Participant.erased_at.is_(None),
        Participant.merged_into_id.is_(None),
        case_management_holds_sql(Participant.id, today),
    )


def _follow_ups_query(user: User, today: date, *, overdue: bool) -> Select:
    """Return (placement_id, months) of the follow-ups overdue (latest due first) or due soon
    (soonest first)."""
    if overdue:
        bounds = {"due_by": today - timedelta(days=1)}
    else:
        bounds = {
            "due_after": today - timedelta(days=1),
            "due_by": today + timedelta(days=SOON_DAYS),
        }
    start = Placement.start_date
    # the due day's month and day, to sort in SQL: add_months keeps the month index
    # (year * 12 + month + months) and clamps the day, which keeps the order of days
    month_index = extract("year", start) * 12 + extract("month", start)
    parts = [
        select(
            Placement.id.label("placement_id"),
            literal_column(str(months), Integer).label("months"),
            (month_index + months).label("due_month"),
            extract("day", start).label("due_day"),
        )
        .join(Participant, Placement.participant_id == Participant.id)
        .where(
            in_scope(user, Placement.project_id),
            _may_be_contacted(today),
            milestone_pending_condition(months, **bounds),
        )
        for months in MILESTONES
    ]
    rows = union_all(*parts).subquery()
    order = (rows.c.due_month, rows.c.due_day, rows.c.placement_id, rows.c.months)
    if overdue:
        order = tuple(column.desc() for column in order)
    return select(rows.c.placement_id, rows.c.months).order_by(*order)


def _enrolments_query(user: User, today: date) -> Select:
    """Return the enrolments left open after their course ended, latest course end first."""
    return (
        select(Enrolment)
        .join(TrainingCourse, Enrolment.course_id == TrainingCourse.id)
        .join(Participant, Enrolment.participant_id == Participant.id)
        .where(in_scope(user, TrainingCourse.project_id), open_enrolment_condition(today))
        .order_by(TrainingCourse.end_date.desc(), TrainingCourse.id.desc(), Enrolment.id)
    )


def _case_files_query(user: User, today: date) -> Select:
    """Return the case files missing key fields, latest registered first."""
    return (
        select(Participant)
        .where(
            in_scope(user, Participant.project_id),
            missing_key_fields_condition(),
            _may_be_contacted(today),
        )
        .order_by(Participant.registered_on.desc(), Participant.id.desc())
    )


def _query(key: str, user: User, today: date) -> Select:
    if key == "overdue":
        return _follow_ups_query(user, today, overdue=True)
    if key == "due":
        return _follow_ups_query(user, today, overdue=False)
    if key == "enrolments":
        return _enrolments_query(user, today)
    if key == "case_files":
        return _case_files_query(user, today)
    raise ValueError(f"unknown to-do group {key!r}")


# --- Loading what a page shows -----------------------------------------------------------


def _follow_ups(rows: list[tuple[int, int]]) -> list[FollowUpDue]:
    placements = {
        p.id: p
        for p in db.session.scalars(
            select(Placement)
            .where(Placement.id.in_({placement_id for placement_id, _m in rows}))
            .options(selectinload(Placement.participant), selectinload(Placement.project))
        )
    }
    return [
        FollowUpDue(placements[pid], months, add_months(placements[pid].start_date, months))
        for pid, months in rows
    ]


def _enrolments(query: Select) -> list[Enrolment]:
    return list(
        db.session.scalars(
            query.options(
                selectinload(Enrolment.participant),
                selectinload(Enrolment.course).selectinload(TrainingCourse.project),
            )
        )
    )


def _case_files(query: Select) -> list[IncompleteCaseFile]:
    people = db.session.scalars(query.options(selectinload(Participant.project)))
    return [IncompleteCaseFile(p, missing_key_fields(p)) for p in people]


LOADERS: dict[str, Callable[[Select], list[Any]]] = {
    "overdue": lambda query: _follow_ups([(row[0], row[1]) for row in db.session.execute(query)]),
    "due": lambda query: _follow_ups([(row[0], row[1]) for row in db.session.execute(query)]),
    "enrolments": _enrolments,
    "case_files": _case_files,
}


def _count(query: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def _slice(key: str, user: User, today: date, offset: int, limit: int) -> tuple[list[Any], int]:
    query = _query(key, user, today)
    total = _count(query)
    items = LOADERS[key](query.offset(offset).limit(limit)) if total > offset else []
    return items, total


def todo_list(user: User, today: date | None = None, limit: int = HOME_LIMIT) -> list[Group]:
    """Return the four groups of ``user``'s to-do list, each with its first ``limit`` items."""
    today = today or date.today()
    groups = []
    for key in GROUPS:
        items, total = _slice(key, user, today, 0, limit)
        groups.append(Group(key, total, items))
    return groups


def todo_page(
    key: str, user: User, page: int = 1, today: date | None = None, per_page: int = PER_PAGE
) -> Page:
    """Return page ``page`` (from 1) of the to-do group ``key`` of ``user``."""
    page = max(page, 1)
    items, total = _slice(key, user, today or date.today(), (page - 1) * per_page, per_page)
    return Page(key, items, total, page, per_page)


def participant_ids(items: list[Any]) -> list[int]:
    """Return the ids of the people the items name, for the read log."""
    return sorted({item.participant.id for item in items})
