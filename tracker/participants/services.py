"""Registering participants and recording their consent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pycountry
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, union_all
from sqlalchemy.orm import selectinload

from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Consent,
    ConsentPurpose,
    EducationLevel,
    Enrolment,
    FollowUp,
    MigrationStatus,
    Participant,
    Placement,
    Project,
    Sex,
    TrainingCourse,
    User,
    now_utc,
)
from tracker.participants.consent import require_case_management
from tracker.text import digits, name_similarity, phonetic_key


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


#: fields an edit may change (code, project and registration stay as registered)
EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "sex",
    "date_of_birth",
    "nationality",
    "region",
    "city",
    "phone",
    "email",
    "migration_status",
    "education_level",
    "languages",
)
ERASED = "[erased]"


def update_participant(participant: Participant, **changes) -> Participant:
    """Change the editable fields of ``participant``; flush only."""
    unknown = set(changes) - set(EDITABLE_FIELDS) - {"sensitive_notes"}
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if participant.erased_at is not None:
        raise DomainError(_("An erased record cannot be edited."))
    # a withdrawn or expired consent freezes the case file (tracker.participants.consent)
    require_case_management(participant)
    if not (changes.get("given_name", participant.given_name) or "").strip():
        raise DomainError(_("The given name is required."), "given_name")
    if not (changes.get("family_name", participant.family_name) or "").strip():
        raise DomainError(_("The family name is required."), "family_name")
    dob = changes.get("date_of_birth", participant.date_of_birth)
    if dob is not None and dob > date.today():
        raise DomainError(_("The date of birth cannot be in the future."), "date_of_birth")
    if dob is not None and dob.year < 1900:
        # as at registration; the birth_year column refuses it (a 500, not a message)
        raise DomainError(_("The date of birth is before 1900."), "date_of_birth")
    nationality = changes.get("nationality")
    if nationality and not is_country_code(nationality):
        raise DomainError(_("Unknown country code: %(code)s.", code=nationality), "nationality")
    for name, value in changes.items():
        if isinstance(value, str):
            value = value.strip() or None
            if name in ("given_name", "family_name"):
                value = value or ""
        setattr(participant, name, value)
    if "date_of_birth" in changes and dob is not None:
        participant.birth_year = dob.year
    db.session.flush()
    return participant


def archive(participant: Participant) -> None:
    """Close the case file: the person stays in every figure, but leaves the active lists."""
    if participant.archived_at is None:
        participant.archived_at = now_utc()
        db.session.flush()


def unarchive(participant: Participant) -> None:
    """Reopen an archived case file."""
    if participant.erased_at is not None:
        raise DomainError(_("An erased record cannot be reopened."))
    require_case_management(participant)
    participant.archived_at = None
    db.session.flush()


def erase(participant: Participant) -> None:
    """Erase a person's identity on request, keeping the code so figures do not move.

    Names become "[erased]", contact details, exact birth date, languages and notes
    are removed; sex, birth year, nationality, region and every enrolment and
    placement stay, so that indicators are unchanged.
    """
    participant.given_name = ERASED
    participant.family_name = ERASED
    participant.date_of_birth = None
    participant.phone = None
    participant.email = None
    participant.city = None
    participant.languages = None
    participant.sensitive_notes = None
    for placement in participant.placements:
        # an IGA is often named after its owner; follow-up notes are about her
        if placement.business_name:
            placement.business_name = ERASED
        for follow_up in placement.follow_ups:
            follow_up.note = None
    now = now_utc()
    participant.erased_at = now
    participant.archived_at = participant.archived_at or now
    db.session.flush()


@dataclass(frozen=True)
class DuplicateCandidate:
    participant: Participant
    score: float  # name similarity, 0..1
    reasons: list[str]


DUPLICATE_THRESHOLD = 0.85


def likely_duplicates(
    *,
    given_name: str,
    family_name: str,
    date_of_birth: date | None = None,
    nationality: str | None = None,
    phone: str | None = None,
    exclude_id: int | None = None,
    project_ids: list[int] | None = None,
    limit: int = 5,
) -> list[DuplicateCandidate]:
    """Return records that may be the same person, each with why it matched.

    A candidate has a similar name (after folding accents, case and common
    transliterations) and the same birth date or the same nationality, or
    simply the same phone number.
    """
    full_name = f"{given_name} {family_name}"
    key = " ".join(sorted(phonetic_key(full_name).split()))
    phone_digits = digits(phone)[-9:] if phone else ""
    # block on what must match, then compare names in Python on the few left
    blocks = []
    if date_of_birth is not None:
        blocks.append(Participant.date_of_birth == date_of_birth)
    if nationality:
        blocks.append(Participant.nationality == nationality.upper())
    if phone_digits and len(phone_digits) >= 8:
        blocks.append(Participant.search_text.contains(phone_digits, autoescape=True))
    if key:
        blocks.append(Participant.name_key == key)
    if not blocks:
        return []
    query = select(Participant).where(or_(*blocks), Participant.erased_at.is_(None))
    if exclude_id is not None:
        query = query.where(Participant.id != exclude_id)
    if project_ids is not None:
        query = query.where(Participant.project_id.in_(project_ids))
    candidates = []
    for other in db.session.scalars(query.limit(2000)):
        match = duplicate_match(full_name, date_of_birth, nationality, phone_digits, other)
        if match is not None:
            candidates.append(DuplicateCandidate(other, *match))
    candidates.sort(key=lambda c: (-len(c.reasons), -c.score))
    return candidates[:limit]


def duplicate_reason_words() -> dict[str, str]:
    """Return the words of the duplicate reasons in the current language (for bulk checks)."""
    return {
        # without variables gettext returns the template itself, "%%" included
        "name": _("name %(pct)d %%"),
        "birth": _("same birth date"),
        "country": _("same nationality"),
        "phone": _("same phone number"),
    }


def duplicate_match(
    full_name: str,
    date_of_birth: date | None,
    nationality: str | None,
    phone_digits: str,
    other,
    words: dict[str, str] | None = None,
) -> tuple[float, list[str]] | None:
    """Say whether ``other`` (anything with the participant's fields) may be the same person.

    Returns the name similarity and the reasons in words, or None. The rule: the
    same phone number, or a similar name with the same birth date or nationality.
    ``words`` (from ``duplicate_reason_words``) saves translating them at each call.
    """
    same_phone = bool(phone_digits) and digits(other.phone).endswith(phone_digits)
    same_birth = date_of_birth is not None and other.date_of_birth == date_of_birth
    same_country = bool(nationality) and other.nationality == (nationality or "").upper()
    if not (same_phone or same_birth or same_country):
        return None
    # below the threshold the name counts only beside the same phone, for the order
    at_least = 0.0 if same_phone else DUPLICATE_THRESHOLD
    score = name_similarity(full_name, f"{other.given_name} {other.family_name}", at_least)
    if not (same_phone or score >= DUPLICATE_THRESHOLD):
        return None
    words = words or duplicate_reason_words()
    reasons = []
    if score >= DUPLICATE_THRESHOLD:
        reasons.append(words["name"] % {"pct": round(score * 100)})
    if same_birth:
        reasons.append(words["birth"])
    if same_country:
        reasons.append(words["country"])
    if same_phone:
        reasons.append(words["phone"])
    return score, reasons


@dataclass(frozen=True)
class TimelineEntry:
    on: date
    kind: str  # registered, consent, enrolled, completed, dropped_out, placed, ended, follow_up
    title: str
    detail: str = ""
    link: tuple[str, dict] | None = None  # (endpoint, values) of the record, when it has a page


def timeline(participant: Participant) -> list[TimelineEntry]:
    """Return what happened to ``participant``, oldest first."""
    entries = [TimelineEntry(participant.registered_on, "registered", _("Registered"))]
    for consent in participant.consents:
        entries.append(
            TimelineEntry(consent.given_on, "consent", _("Consent: %(p)s", p=consent.purpose.label))
        )
        if consent.withdrawn_on:
            entries.append(
                TimelineEntry(
                    consent.withdrawn_on,
                    "consent",
                    _("Consent withdrawn: %(p)s", p=consent.purpose.label),
                )
            )
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.participant_id == participant.id)
        .options(selectinload(Enrolment.course).selectinload(TrainingCourse.provider))
    )
    for e in enrolments:
        course = e.course
        link = ("trainings.course", {"course_id": course.id})
        where = f"{course.title} ({course.provider.acronym or course.provider.name})"
        enrolled = _("Enrolled in a course")
        entries.append(TimelineEntry(e.enrolled_on, "enrolled", enrolled, where, link))
        if e.completed_on:
            detail = where
            if e.attendance_pct is not None:
                detail += " · " + _("attendance %(pct)d %%", pct=e.attendance_pct)
            entries.append(TimelineEntry(e.completed_on, "completed", _("Completed"), detail, link))
        if e.dropped_on:
            entries.append(
                TimelineEntry(e.dropped_on, "dropped_out", _("Dropped out"), where, link)
            )
    placements = db.session.scalars(
        select(Placement)
        .where(Placement.participant_id == participant.id)
        .options(selectinload(Placement.employer), selectinload(Placement.follow_ups))
    )
    for p in placements:
        link = ("placements.placement", {"placement_id": p.id})
        detail = f"{p.where} · {p.sector}"
        entries.append(
            TimelineEntry(p.start_date, "placed", _("Started: %(k)s", k=p.kind.label), detail, link)
        )
        if p.end_date:
            entries.append(
                TimelineEntry(p.end_date, "ended", _("Ended: %(k)s", k=p.kind.label), detail, link)
            )
        for f in p.follow_ups:
            state = _("still active") if f.still_active else _("no longer active")
            entries.append(
                TimelineEntry(
                    f.followed_on,
                    "follow_up",
                    _("%(n)d-month follow-up", n=f.months_after),
                    f"{p.where}: {state}",
                    link,
                )
            )
    order = ["registered", "consent", "enrolled", "completed", "dropped_out", "placed"]
    return sorted(
        entries, key=lambda e: (e.on, order.index(e.kind) if e.kind in order else len(order))
    )


def history(participant: Participant, limit: int = 200) -> list[AuditEvent]:
    """Return the audit lines of the record and of what hangs from it, newest first.

    One indexed lookup per kind of record, (entity, entity_id), joined by UNION ALL:
    a single query with OR over sub-selects made SQLite scan the whole log, whose
    size grows with every page anyone opens.
    """
    placement_ids = list(
        db.session.scalars(select(Placement.id).where(Placement.participant_id == participant.id))
    )
    related = {
        "participant": [participant.id],
        "enrolment": list(
            db.session.scalars(
                select(Enrolment.id).where(Enrolment.participant_id == participant.id)
            )
        ),
        "placement": placement_ids,
        "follow_up": list(
            db.session.scalars(select(FollowUp.id).where(FollowUp.placement_id.in_(placement_ids)))
        )
        if placement_ids
        else [],
        "consent": list(
            db.session.scalars(select(Consent.id).where(Consent.participant_id == participant.id))
        ),
    }
    parts = [
        select(AuditEvent.id).where(AuditEvent.entity == entity, AuditEvent.entity_id.in_(ids))
        for entity, ids in related.items()
        if ids
    ]
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.id.in_(union_all(*parts).scalar_subquery()),
            # reads are in the audit log; the case file shows what changed
            AuditEvent.action != "view",
        )
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
