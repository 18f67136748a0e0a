"""Partner institutions: recording them, finding them, and what they did in a project."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import pycountry
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from tracker.domain import (
    DomainError,
    archived_filter,
    delete_unless_referenced,
    set_archived,
)
from tracker.extensions import db
from tracker.models import (
    Activity,
    ActivityAttendance,
    Consent,
    Partner,
    PartnerKind,
    Placement,
    TrainingCourse,
    User,
)
from tracker.permissions import in_scope
from tracker.text import fold

#: what an edit may change
EDITABLE_FIELDS = (
    "name",
    "acronym",
    "kind",
    "city",
    "country",
    "contact_name",
    "contact_email",
    "contact_phone",
)


def _clean(value):
    if isinstance(value, str) and not isinstance(value, Enum):
        return value.strip() or None
    return value


def _check(values: dict, *, exclude_id: int | None = None) -> None:
    """Refuse an empty or duplicate name, a duplicate acronym and an unknown country."""
    name = values.get("name") or ""
    if not name:
        raise DomainError(_("The name is required."), "name")
    if not isinstance(values.get("kind"), PartnerKind):
        raise DomainError(_("Choose the kind of institution."), "kind")
    country = values.get("country") or ""
    if pycountry.countries.get(alpha_3=country.upper()) is None:
        raise DomainError(_("Unknown country code: %(code)s.", code=country), "country")
    # "Entraide nationale" and "ENTRAIDE NATIONALE" are one institution: compare folded
    folded_name, folded_acronym = fold(name), fold(values.get("acronym"))
    others = db.session.execute(select(Partner.id, Partner.name, Partner.acronym))
    for other_id, other_name, other_acronym in others:
        if other_id == exclude_id:
            continue
        if fold(other_name) == folded_name:
            raise DomainError(
                _("A partner named “%(name)s” is already recorded.", name=other_name), "name"
            )
        if folded_acronym and fold(other_acronym) == folded_acronym:
            raise DomainError(
                _(
                    "The acronym %(acronym)s is already used by “%(name)s”.",
                    acronym=other_acronym,
                    name=other_name,
                ),
                "acronym",
            )


def create_partner(
    *,
    name: str,
    kind: PartnerKind,
    acronym: str | None = None,
    city: str | None = None,
    country: str = "MAR",
    contact_name: str | None = None,
    contact_email: str | None = None,
    contact_phone: str | None = None,
) -> Partner:
    """Record a partner institution; flush only."""
    values = {
        key: _clean(value)
        for key, value in {
            "name": name,
            "acronym": acronym,
            "kind": kind,
            "city": city,
            "country": country,
            "contact_name": contact_name,
            "contact_email": contact_email,
            "contact_phone": contact_phone,
        }.items()
    }
    _check(values)
    values["country"] = values["country"].upper()
    partner = Partner(**values)
    db.session.add(partner)
    db.session.flush()
    return partner


def update_partner(partner: Partner, **changes) -> Partner:
    """Change the editable fields of ``partner``; flush only."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    values = {name: getattr(partner, name) for name in EDITABLE_FIELDS}
    values.update({name: _clean(value) for name, value in changes.items()})
    _check(values, exclude_id=partner.id)
    values["country"] = values["country"].upper()
    for name, value in values.items():
        if getattr(partner, name) != value:
            setattr(partner, name, value)
    db.session.flush()
    return partner


def matching_ids(q: str) -> list[int]:
    """Return the ids of partners whose name or acronym holds every word of ``q``.

    Accents, case and apostrophes do not matter ("entraide", "Entraide Nationale").
    Partners number in the hundreds, so the names are folded here rather than in SQL.
    """
    terms = fold(q).split()
    found = []
    for partner_id, name, acronym in db.session.execute(
        select(Partner.id, Partner.name, Partner.acronym)
    ):
        text = f"{fold(name)} {fold(acronym)}"
        if all(term in text for term in terms):
            found.append(partner_id)
    return found


def partners_query(
    *, q: str | None = None, kind: PartnerKind | None = None, archived: str | None = None
) -> Select:
    """Return the query of partners matching the search and kind, by name.

    Archived partners are left out unless ``archived`` is ``include`` or ``only``.
    """
    query = select(Partner).where(archived_filter(Partner.archived_at, archived))
    if q and fold(q):
        query = query.where(Partner.id.in_(matching_ids(q)))
    if kind is not None:
        query = query.where(Partner.kind == kind)
    return query.order_by(Partner.name)


@dataclass(frozen=True)
class Involvement:
    """What a partner did in the projects a user may see."""

    courses: list[TrainingCourse]
    #: (activity, staff count of the partner)
    activities: list[tuple[Activity, int]]
    placements_as_employer: int
    referrals: int


def involvement(partner: Partner, user: User) -> Involvement:
    """Return the courses, activities and placement counts of ``partner`` in ``user``'s projects."""
    courses = db.session.scalars(
        select(TrainingCourse)
        .where(
            TrainingCourse.provider_id == partner.id,
            in_scope(user, TrainingCourse.project_id),
        )
        .options(selectinload(TrainingCourse.project))
        .order_by(TrainingCourse.start_date.desc(), TrainingCourse.title)
    )
    activities = db.session.execute(
        select(Activity, ActivityAttendance.staff_count)
        .join(ActivityAttendance, ActivityAttendance.activity_id == Activity.id)
        .where(ActivityAttendance.partner_id == partner.id, in_scope(user, Activity.project_id))
        .options(selectinload(Activity.project))
        .order_by(Activity.held_on.desc(), Activity.title)
    )
    counts = db.session.execute(
        select(
            func.count(Placement.id).filter(Placement.employer_id == partner.id),
            func.count(Placement.id).filter(Placement.referral_partner_id == partner.id),
        ).where(
            (Placement.employer_id == partner.id) | (Placement.referral_partner_id == partner.id),
            in_scope(user, Placement.project_id),
        )
    ).one()
    return Involvement(
        courses=list(courses),
        activities=[(activity, staff) for activity, staff in activities],
        placements_as_employer=int(counts[0] or 0),
        referrals=int(counts[1] or 0),
    )


def partner_references(partner: Partner) -> list[str]:
    """Return what refers to ``partner`` in every project and stops its deletion, in words."""

    def count(column) -> int:
        return db.session.scalar(select(func.count()).where(column == partner.id)) or 0

    found = [
        (
            count(TrainingCourse.provider_id),
            lambda n: ngettext(
                "%(num)d course is given by this partner.",
                "%(num)d courses are given by this partner.",
                n,
            ),
        ),
        (
            count(Placement.employer_id),
            lambda n: ngettext(
                "%(num)d placement names it as employer.",
                "%(num)d placements name it as employer.",
                n,
            ),
        ),
        (
            count(Placement.referral_partner_id),
            lambda n: ngettext(
                "%(num)d placement names it as referring partner.",
                "%(num)d placements name it as referring partner.",
                n,
            ),
        ),
        (
            count(ActivityAttendance.partner_id),
            lambda n: ngettext(
                "It attended %(num)d activity.", "It attended %(num)d activities.", n
            ),
        ),
        (
            count(Consent.partner_id),
            lambda n: ngettext(
                "%(num)d consent to share data names it.",
                "%(num)d consents to share data name it.",
                n,
            ),
        ),
    ]
    return [words(n) for n, words in found if n]


def delete_partner(partner: Partner) -> None:
    """Delete a partner nothing refers to; raise ``StillReferenced`` otherwise; flush only."""
    delete_unless_referenced(
        partner,
        partner_references(partner),
        _("The partner cannot be deleted: archive it instead."),
    )


def archive_partner(partner: Partner) -> None:
    """Take a partner out of the pick lists and the default list; its figures stay."""
    set_archived(partner, True)


def unarchive_partner(partner: Partner) -> None:
    """Bring an archived partner back into the lists."""
    set_archived(partner, False)
