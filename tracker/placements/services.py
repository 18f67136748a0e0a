"""Placements in a job or an income-generating activity, and their follow-ups."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _

from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import (
    ContractType,
    FollowUp,
    Participant,
    Partner,
    Placement,
    PlacementKind,
)


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
) -> Placement:
    """Record that ``participant`` started a job or an IGA; flush only."""
    if employer is None and not (business_name or "").strip():
        raise DomainError(_("Give the employer or the name of the business."), "employer")
    if end_date is not None and end_date < start_date:
        raise DomainError(_("The placement cannot end before it starts."), "end_date")
    if monthly_income is not None and monthly_income < 0:
        raise DomainError(_("The income cannot be negative."), "monthly_income")
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


def record_follow_up(
    placement: Placement,
    *,
    months_after: int,
    followed_on: date,
    still_active: bool,
    monthly_income: Decimal | None = None,
    note: str | None = None,
) -> FollowUp:
    """Record the follow-up of ``placement`` made ``months_after`` months after its start."""
    if followed_on < placement.start_date:
        raise DomainError(_("A follow-up cannot precede the placement."), "followed_on")
    if not 1 <= months_after <= 60:
        raise DomainError(_("Months after start must be between 1 and 60."), "months_after")
    if any(f.months_after == months_after for f in placement.follow_ups):
        raise DomainError(
            _("This placement already has its %(n)d-month follow-up.", n=months_after),
            "months_after",
        )
    follow_up = FollowUp(
        placement=placement,
        months_after=months_after,
        followed_on=followed_on,
        still_active=still_active,
        monthly_income=monthly_income,
        note=note or None,
    )
    db.session.add(follow_up)
    db.session.flush()
    return follow_up
