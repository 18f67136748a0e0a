"""The data-quality panel: the records that weaken the figures, one function per check.

Each check returns a ``QualityCheck``: its first ``limit`` items, each a record with
what is wrong in words, and how many records it finds in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, func, select

from tracker.dashboard.cache import kept
from tracker.extensions import db
from tracker.models import (
    Enrolment,
    EnrolmentStatus,
    FollowUp,
    Participant,
    Placement,
    TrainingCourse,
)
from tracker.participants.duplicates import pairs, register
from tracker.placements.services import add_months


@dataclass
class QualityCheck:
    key: str
    title: str
    explanation: str
    items: list[tuple[Any, str, str]]  # (record, code or title, what is wrong)
    total: int


def quality(
    project_ids: list[int], today: date | None = None, limit: int = 50
) -> list[QualityCheck]:
    """Return the data-quality checks over ``project_ids``, each with up to ``limit`` items."""
    today = today or date.today()
    return [
        missing_fields(project_ids, limit),
        open_enrolments(project_ids, today, limit),
        no_follow_up(project_ids, today, limit),
        duplicates(project_ids, limit),
    ]


def missing_key_fields_condition() -> ColumnElement[bool]:
    """Return the condition: a live record without nationality, region, or birth date and year."""
    return and_(
        Participant.erased_at.is_(None),
        # a record merged into another is kept for the undo, not for data entry
        Participant.merged_into_id.is_(None),
        (Participant.nationality.is_(None))
        | (Participant.region.is_(None))
        | (Participant.date_of_birth.is_(None) & Participant.birth_year.is_(None)),
    )


def missing_key_fields(person: Participant) -> list[tuple[str, str]]:
    """Return (form field, label) of each key field ``person`` lacks."""
    return [
        (name, label)
        for name, label, absent in (
            ("nationality", _("nationality"), person.nationality is None),
            ("region", _("region"), person.region is None),
            (
                "date_of_birth",
                _("birth date"),
                person.date_of_birth is None and person.birth_year is None,
            ),
        )
        if absent
    ]


def missing_fields(project_ids: list[int], limit: int = 50) -> QualityCheck:
    """Check for live records without nationality, region, or birth date and year."""
    query = (
        select(Participant)
        .where(Participant.project_id.in_(project_ids), missing_key_fields_condition())
        .order_by(Participant.code)
    )
    people = db.session.scalars(query.limit(limit)).all()
    return QualityCheck(
        "missing_fields",
        _("Records missing key fields"),
        _("Nationality, region and birth date or year feed every breakdown."),
        [(p, p.code, ", ".join(label for _name, label in missing_key_fields(p))) for p in people],
        _count(query),
    )


def open_enrolment_condition(today: date) -> ColumnElement[bool]:
    """Return the condition on an enrolment joined to its course and participant: still
    marked enrolled after the course ended before ``today``."""
    return and_(
        Enrolment.status == EnrolmentStatus.ENROLLED,
        TrainingCourse.end_date < today,
        Participant.merged_into_id.is_(None),
    )


def open_enrolments(project_ids: list[int], today: date, limit: int = 50) -> QualityCheck:
    """Check for enrolments still marked enrolled after their course ended before ``today``."""
    query = (
        select(Enrolment)
        .join(TrainingCourse)
        .join(Participant, Enrolment.participant_id == Participant.id)
        .where(TrainingCourse.project_id.in_(project_ids), open_enrolment_condition(today))
        .order_by(TrainingCourse.end_date, Enrolment.id)
    )
    enrolments = db.session.scalars(query.limit(limit)).all()
    return QualityCheck(
        "open_enrolments",
        _("Enrolments still open after the course ended"),
        _("Mark each person completed or dropped out, or she counts in no figure."),
        [
            (
                e,
                e.participant.code,
                _(
                    "%(course)s ended on %(date)s",
                    course=e.course.title,
                    date=format_date(e.course.end_date),
                ),
            )
            for e in enrolments
        ],
        _count(query),
    )


def no_follow_up(project_ids: list[int], today: date, limit: int = 50) -> QualityCheck:
    """Check for placements started 6 months before ``today`` or earlier without that follow-up."""
    six_months = FollowUp.__table__.alias("six")
    query = (
        select(Placement)
        .outerjoin(
            six_months,
            and_(six_months.c.placement_id == Placement.id, six_months.c.months_after == 6),
        )
        .where(
            Placement.project_id.in_(project_ids),
            Placement.start_date <= add_months(today, -6),
            six_months.c.id.is_(None),
        )
        .order_by(Placement.start_date)
    )
    placements = db.session.scalars(query.limit(limit)).all()
    return QualityCheck(
        "no_follow_up",
        _("Placements without a follow-up at 6 months"),
        _("Without it, the person cannot count as still active at 6 months."),
        [
            (
                p,
                p.participant.code,
                _(
                    "%(kind)s started on %(date)s",
                    kind=p.kind.label,
                    date=format_date(p.start_date),
                ),
            )
            for p in placements
        ],
        _count(query),
    )


def duplicates(project_ids: list[int], limit: int = 50) -> QualityCheck:
    """Check for pairs of live records the duplicate rule calls likely the same person.

    Every pair of the register is compared: seconds for 100,000 people, so the
    result (plain codes and words) is kept until a record changes, like the dashboard.
    """

    def compute() -> tuple[list, int]:
        found = pairs(register(project_ids))
        return found[:limit], len(found)

    found, total = kept(("duplicate_pairs", tuple(project_ids), str(get_locale()), limit), compute)
    return QualityCheck(
        "duplicates",
        _("Likely duplicates"),
        _(
            "The same phone number, or a similar name with the same birth date or "
            "nationality: the same person registered twice inflates every figure."
        ),
        [
            (
                pair,
                pair.first.label,
                _("like %(code)s (%(why)s)", code=pair.second.label, why=pair.match.why),
            )
            for pair in found
        ],
        total,
    )


def _count(query: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
