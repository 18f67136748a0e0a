"""Registering participants and recording their consent."""

from __future__ import annotations

from datetime import date

import pycountry
from flask_babel import gettext as _
from sqlalchemy import func, select

from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import (
    Consent,
    ConsentPurpose,
    EducationLevel,
    MigrationStatus,
    Participant,
    Project,
    Sex,
    User,
)


def is_country_code(code: str | None) -> bool:
    return bool(code) and pycountry.countries.get(alpha_3=code.upper()) is not None


def next_code(project: Project) -> str:
    """Return the next free participant code of ``project`` (e.g. ``IDF-MA-2014-0156``)."""
    prefix = f"{project.code}-"
    taken = db.session.scalars(
        select(Participant.code).where(Participant.code.startswith(prefix, autoescape=True))
    )
    numbers = [int(c[len(prefix) :]) for c in taken if c[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def register_participant(
    project: Project,
    *,
    given_name: str,
    family_name: str,
    sex: Sex,
    registered_on: date,
    consent_on: date | None,
    code: str | None = None,
    date_of_birth: date | None = None,
    birth_year: int | None = None,
    nationality: str | None = None,
    region: str | None = None,
    city: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    migration_status: MigrationStatus | None = None,
    education_level: EducationLevel | None = None,
    languages: str | None = None,
    by: User | None = None,
    today: date | None = None,
) -> Participant:
    """Register a participant who consented to case management; flush only."""
    today = today or date.today()
    if not given_name.strip():
        raise DomainError(_("The given name is required."), "given_name")
    if not family_name.strip():
        raise DomainError(_("The family name is required."), "family_name")
    if consent_on is None:
        raise DomainError(
            _("Consent to case management is required before registering a person."),
            "consent_on",
        )
    if consent_on > today:
        raise DomainError(_("The consent date cannot be in the future."), "consent_on")
    if registered_on > today:
        raise DomainError(_("The registration date cannot be in the future."), "registered_on")
    if date_of_birth is not None:
        if date_of_birth > today:
            raise DomainError(_("The date of birth cannot be in the future."), "date_of_birth")
        if date_of_birth.year < 1900:
            raise DomainError(_("The date of birth is before 1900."), "date_of_birth")
        birth_year = date_of_birth.year
    if nationality is not None and not is_country_code(nationality):
        raise DomainError(_("Unknown country code: %(code)s.", code=nationality), "nationality")
    code = (code or "").strip() or next_code(project)
    if db.session.scalar(select(func.count()).where(Participant.code == code)):
        raise DomainError(_("The code %(code)s is already taken.", code=code), "code")
    participant = Participant(
        project=project,
        code=code,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        sex=sex,
        date_of_birth=date_of_birth,
        birth_year=birth_year,
        nationality=nationality.upper() if nationality else None,
        region=region or None,
        city=city or None,
        phone=phone or None,
        email=email or None,
        migration_status=migration_status,
        education_level=education_level,
        languages=languages or None,
        registered_on=registered_on,
        registered_by_id=by.id if by else None,
    )
    participant.consents.append(
        Consent(purpose=ConsentPurpose.CASE_MANAGEMENT, given_on=consent_on)
    )
    db.session.add(participant)
    db.session.flush()
    return participant
