"""Placements in a job or an income-generating activity, and their follow-ups."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, union
from sqlalchemy.orm import selectinload

from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import (
    ContractType,
    FollowUp,
    Participant,
    Partner,
    PartnerKind,
    Placement,
    PlacementKind,
    TrainingCourse,
)
from tracker.participants import rules
from tracker.participants.consent import require_case_management

#: the follow-ups every placement gets, in months after its start
MILESTONES = (3, 6, 12)
#: the largest income the column holds (Numeric(10, 2)), with room to spare
MAX_INCOME = Decimal("9999999.99")

#: fields an edit of a placement may change, in the order of the form
PLACEMENT_FIELDS = (
    "kind",
    "employer_id",
    "business_name",
    "sector",
    "start_date",
    "end_date",
    "contract_type",
    "monthly_income",
    "referral_partner_id",
    "verified",
)
FOLLOW_UP_FIELDS = ("months_after", "followed_on", "still_active", "monthly_income", "note")


# --- Month arithmetic and the follow-up schedule -----------------------------------


def add_months(day: date, months: int) -> date:
    """Return ``day`` moved by ``months`` calendar months, kept inside the target month.

    31 August + 3 months is 30 November; 31 January + 1 month is 28 or 29 February.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def latest_start_due(today: date, months: int) -> date:
    """Return the latest start date whose ``months``-month follow-up falls on or before ``today``.

    ``add_months`` is monotonic, so a placement's follow-up is due exactly when its
    start is on or before this date; that lets SQL filter without month arithmetic.
    """
    earlier = add_months(today, -months)
    if today.day == calendar.monthrange(today.year, today.month)[1]:
        # today ends its month: every later day of the earlier month lands on today too
        return earlier.replace(day=calendar.monthrange(earlier.year, earlier.month)[1])
    return earlier


@dataclass(frozen=True)
class Milestone:
    """One planned follow-up of a placement: when it is due and whether it is done."""

    months: int
    due_on: date
    follow_up: FollowUp | None
    state: str  # done, overdue, due (today), upcoming

    @property
    def pending(self) -> bool:
        return self.state in ("overdue", "due")


def follow_up_schedule(placement: Placement, today: date | None = None) -> list[Milestone]:
    """Return the 3-, 6- and 12-month follow-ups of ``placement`` with their state on ``today``."""
    today = today or date.today()
    done = {f.months_after: f for f in placement.follow_ups}
    schedule = []
    for months in MILESTONES:
        due_on = add_months(placement.start_date, months)
        follow_up = done.get(months)
        if follow_up is not None:
            state = "done"
        elif due_on < today:
            state = "overdue"
        elif due_on == today:
            state = "due"
        else:
            state = "upcoming"
        schedule.append(Milestone(months, due_on, follow_up, state))
    return schedule


def latest_follow_up(placement: Placement) -> FollowUp | None:
    """Return the most recent follow-up of ``placement``, or None."""
    return max(placement.follow_ups, key=lambda f: (f.followed_on, f.months_after), default=None)


def missing_milestones(placement: Placement, *, keep: FollowUp | None = None) -> list[int]:
    """Return the usual follow-ups (3, 6, 12 months) not recorded yet; ``keep``'s counts as free."""
    taken = {f.months_after for f in placement.follow_ups if f is not keep}
    return [m for m in MILESTONES if m not in taken]


# --- Queries -----------------------------------------------------------------------


def milestone_pending_condition(
    months: int, *, due_by: date, due_after: date | None = None
) -> ColumnElement[bool]:
    """Return the condition: the ``months``-month follow-up is not recorded and falls due
    on or before ``due_by`` (and, given ``due_after``, after that day).

    The due day is ``add_months(start, months)``, as in ``follow_up_schedule``; it is
    monotonic in the start, so each bound is a bound on ``Placement.start_date``.
    """
    recorded = (
        select(FollowUp.id)
        .where(FollowUp.placement_id == Placement.id, FollowUp.months_after == months)
        .exists()
    )
    clauses = [Placement.start_date <= latest_start_due(due_by, months), ~recorded]
    if due_after is not None:
        clauses.append(Placement.start_date > latest_start_due(due_after, months))
    return and_(*clauses)


def follow_up_due_condition(today: date) -> ColumnElement[bool]:
    """Return the condition: a 3-, 6- or 12-month follow-up is due and not recorded."""
    return or_(*(milestone_pending_condition(months, due_by=today) for months in MILESTONES))


def placements_query(
    scope_condition: ColumnElement[bool],
    *,
    project_id: int | None = None,
    kind: PlacementKind | None = None,
    started_from: date | None = None,
    started_to: date | None = None,
    follow_up_due: bool = False,
    today: date | None = None,
) -> Select:
    """Return the placements in scope, filtered, newest start first, with what a list shows."""
    query = (
        select(Placement)
        .where(scope_condition)
        .options(
            selectinload(Placement.participant),
            selectinload(Placement.employer),
            selectinload(Placement.follow_ups),
        )
    )
    if project_id is not None:
        query = query.where(Placement.project_id == project_id)
    if kind is not None:
        query = query.where(Placement.kind == kind)
    if started_from is not None:
        query = query.where(Placement.start_date >= started_from)
    if started_to is not None:
        query = query.where(Placement.start_date <= started_to)
    if follow_up_due:
        query = query.where(follow_up_due_condition(today or date.today()))
    return query.order_by(Placement.start_date.desc(), Placement.id.desc())


def partner(partner_id: int | None) -> Partner | None:
    """Return the partner with this id (partners are shared by every project)."""
    return db.session.get(Partner, partner_id) if partner_id else None


def partners_first(
    kinds: Sequence[PartnerKind], keep: Sequence[int | None] = ()
) -> tuple[list[Partner], list[Partner]]:
    """Return (partners of ``kinds``, every other partner), each by name, none archived.

    ``keep``: ids of partners a placement already names, listed even when archived so
    that the placement can still be edited.
    """
    first, others = [], []
    kept = [partner_id for partner_id in keep if partner_id is not None]
    query = select(Partner).where(Partner.archived_at.is_(None) | Partner.id.in_(kept))
    for candidate in db.session.scalars(query.order_by(Partner.name)):
        (first if candidate.kind in kinds else others).append(candidate)
    return first, others


def sectors(project_ids: Sequence[int]) -> list[str]:
    """Return the sectors already used by placements and courses of these projects."""
    if not project_ids:
        return []
    used = union(
        select(Placement.sector.label("sector")).where(Placement.project_id.in_(project_ids)),
        select(TrainingCourse.sector.label("sector")).where(
            TrainingCourse.project_id.in_(project_ids)
        ),
    ).subquery()
    return list(db.session.scalars(select(used.c.sector).order_by(used.c.sector)))


# --- Placements --------------------------------------------------------------------


def _check_placement(
    participant: Participant,
    *,
    sector: str,
    start_date: date,
    employer: Partner | None,
    business_name: str | None,
    end_date: date | None,
    monthly_income: Decimal | None,
    today: date,
    check_registration: bool = True,
) -> None:
    if employer is None and not (business_name or "").strip():
        raise DomainError(_("Give the employer or the name of the business."), "business_name")
    if not (sector or "").strip():
        raise DomainError(_("The sector is required."), "sector")
    if start_date > today:
        raise DomainError(_("The placement cannot start in the future."), "start_date")
    if check_registration and start_date < participant.registered_on:
        raise DomainError(
            _(
                "The placement cannot start before the person's registration (%(date)s).",
                date=format_date(participant.registered_on),
            ),
            "start_date",
        )
    if end_date is not None and end_date < start_date:
        raise DomainError(_("The placement cannot end before it starts."), "end_date")
    _check_income(monthly_income)


def _check_income(amount: Decimal | None) -> None:
    if amount is None:
        return
    if amount < 0:
        raise DomainError(_("The income cannot be negative."), "monthly_income")
    if amount > MAX_INCOME:
        raise DomainError(_("This amount is too large."), "monthly_income")


def _check_not_erased(participant: Participant) -> None:
    if participant.erased_at is not None:
        raise DomainError(_("An erased record cannot be edited."))
    rules.require_not_merged(participant)


def record_placement(
    participant: Participant,
    *,
    kind: PlacementKind,
    sector: str,
    start_date: date,
    employer: Partner | None = None,
    business_name: str | None = None,
    end_date: date | None = None,
    contract_type: ContractType | None = None,
    monthly_income: Decimal | None = None,
    referral_partner: Partner | None = None,
    verified: bool = False,
    today: date | None = None,
    check_registration: bool = True,
) -> Placement:
    """Record that ``participant`` started a job or an IGA; flush only.

    A start before the person's registration is refused; ``check_registration=False``
    lets it through once confirmed (a form, after the warning of
    ``tracker.plausibility``) or for old paper records (an import, which lists it).
    """
    if participant.erased_at is not None or participant.archived_at is not None:
        raise DomainError(_("An archived or erased case file cannot get a new placement."))
    rules.require_not_merged(participant)
    # see tracker.participants.consent: nothing new is recorded about her
    require_case_management(participant, today)
    _check_placement(
        participant,
        sector=sector,
        start_date=start_date,
        employer=employer,
        business_name=business_name,
        end_date=end_date,
        monthly_income=monthly_income,
        today=today or date.today(),
        check_registration=check_registration,
    )
    placement = Placement(
        participant=participant,
        project_id=participant.project_id,
        kind=kind,
        employer=employer,
        business_name=(business_name or "").strip() or None,
        sector=sector.strip(),
        start_date=start_date,
        end_date=end_date,
        contract_type=contract_type,
        monthly_income=monthly_income,
        referral_partner=referral_partner,
        verified=verified,
    )
    db.session.add(placement)
    db.session.flush()
    return placement


def update_placement(
    placement: Placement,
    *,
    kind: PlacementKind,
    sector: str,
    start_date: date,
    employer: Partner | None = None,
    business_name: str | None = None,
    end_date: date | None = None,
    contract_type: ContractType | None = None,
    monthly_income: Decimal | None = None,
    referral_partner: Partner | None = None,
    verified: bool = False,
    today: date | None = None,
    check_registration: bool = True,
) -> Placement:
    """Change a placement; its follow-ups must stay after its start. Flush only.

    ``check_registration=False``: a start before the registration was confirmed.
    """
    participant = placement.participant
    _check_not_erased(participant)
    _check_placement(
        participant,
        sector=sector,
        start_date=start_date,
        employer=employer,
        business_name=business_name,
        end_date=end_date,
        monthly_income=monthly_income,
        today=today or date.today(),
        check_registration=check_registration,
    )
    first = min((f.followed_on for f in placement.follow_ups), default=None)
    if first is not None and start_date > first:
        raise DomainError(
            _(
                "A follow-up is recorded on %(date)s: the placement cannot start after that.",
                date=format_date(first),
            ),
            "start_date",
        )
    placement.kind = kind
    placement.employer = employer
    placement.business_name = (business_name or "").strip() or None
    placement.sector = sector.strip()
    placement.start_date = start_date
    placement.end_date = end_date
    placement.contract_type = contract_type
    placement.monthly_income = monthly_income
    placement.referral_partner = referral_partner
    placement.verified = verified
    db.session.flush()
    return placement


# --- Follow-ups --------------------------------------------------------------------


def _check_follow_up(
    placement: Placement,
    *,
    months_after: int,
    followed_on: date,
    monthly_income: Decimal | None,
    today: date,
    keep: FollowUp | None = None,
) -> None:
    if followed_on < placement.start_date:
        raise DomainError(_("A follow-up cannot precede the placement."), "followed_on")
    if followed_on > today:
        raise DomainError(_("A follow-up cannot be dated in the future."), "followed_on")
    if not 1 <= months_after <= 60:
        raise DomainError(_("Months after start must be between 1 and 60."), "months_after")
    if any(f.months_after == months_after for f in placement.follow_ups if f is not keep):
        raise DomainError(
            _("This placement already has its %(n)d-month follow-up.", n=months_after),
            "months_after",
        )
    _check_income(monthly_income)


def record_follow_up(
    placement: Placement,
    *,
    months_after: int,
    followed_on: date,
    still_active: bool,
    monthly_income: Decimal | None = None,
    note: str | None = None,
    today: date | None = None,
) -> FollowUp:
    """Record the follow-up of ``placement`` made ``months_after`` months after its start."""
    _check_not_erased(placement.participant)
    # a follow-up means contacting her: not without her consent to case management
    require_case_management(placement.participant, today)
    _check_follow_up(
        placement,
        months_after=months_after,
        followed_on=followed_on,
        monthly_income=monthly_income,
        today=today or date.today(),
    )
    follow_up = FollowUp(
        placement=placement,
        months_after=months_after,
        followed_on=followed_on,
        still_active=still_active,
        monthly_income=monthly_income,
        note=(note or "").strip() or None,
    )
    db.session.add(follow_up)
    db.session.flush()
    return follow_up


def update_follow_up(
    follow_up: FollowUp,
    *,
    months_after: int,
    followed_on: date,
    still_active: bool,
    monthly_income: Decimal | None = None,
    note: str | None = None,
    today: date | None = None,
) -> FollowUp:
    """Change a follow-up; it stays unique for its month count. Flush only."""
    placement = follow_up.placement
    _check_not_erased(placement.participant)
    _check_follow_up(
        placement,
        months_after=months_after,
        followed_on=followed_on,
        monthly_income=monthly_income,
        today=today or date.today(),
        keep=follow_up,
    )
    follow_up.months_after = months_after
    follow_up.followed_on = followed_on
    follow_up.still_active = still_active
    follow_up.monthly_income = monthly_income
    follow_up.note = (note or "").strip() or None
    db.session.flush()
    return follow_up


def due_count(scope_condition: ColumnElement[bool], today: date | None = None) -> int:
    """Return how many placements in scope wait for a follow-up that is due."""
    condition = follow_up_due_condition(today or date.today())
    return (
        db.session.scalar(select(func.count(Placement.id)).where(scope_condition, condition)) or 0
    )
