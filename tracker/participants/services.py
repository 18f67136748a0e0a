"""Registering participants and recording their consent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select, true, union_all
from sqlalchemy.orm import selectinload

from tracker.audit import READ_ACTIONS
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
from tracker.participants import duplicates, merging, records, rules
from tracker.participants.consent import require_case_management


def register_participant(
    project: Project,
    *,
    given_name: str,
    family_name: str,
    sex: Sex,
    registered_on: date,
    consent_on: date | None,
    other_name: str | None = None,
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
    if project.closed:
        raise DomainError(
            _("The project %(code)s is closed: nobody is registered into it.", code=project.code),
            "project_id",
        )
    values = {
        "given_name": given_name,
        "family_name": family_name,
        "other_name": other_name,
        "sex": sex,
        "date_of_birth": date_of_birth,
        "birth_year": birth_year,
        "nationality": nationality,
        "region": region,
        "city": city,
        "phone": phone,
        "email": email,
        "migration_status": migration_status,
        "education_level": education_level,
        "languages": languages,
    }
    problems = rules.registration_problems(
        {**values, "consent_on": consent_on, "registered_on": registered_on}, today
    )
    if problems:
        raise DomainError(problems[0].message, problems[0].field)
    code = (code or "").strip() or records.next_code(project)
    if db.session.scalar(select(func.count()).where(Participant.code == code)):
        raise DomainError(_("The code %(code)s is already taken.", code=code), "code")
    participant = Participant(
        project=project,
        code=code,
        **records.clean(values),
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
EDITABLE_FIELDS = records.EDITABLE_FIELDS
ERASED = "[erased]"
#: what an erasure writes over a person's identity
ERASED_VALUES = {
    "given_name": ERASED,
    "family_name": ERASED,
    "other_name": None,
    "date_of_birth": None,
    "phone": None,
    "email": None,
    "city": None,
    "languages": None,
    "sensitive_notes": None,
}


def update_participant(participant: Participant, **changes) -> Participant:
    """Change the editable fields of ``participant``; flush only."""
    unknown = set(changes) - set(EDITABLE_FIELDS) - {"sensitive_notes"}
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if participant.erased_at is not None:
        raise DomainError(_("An erased record cannot be edited."))
    rules.require_not_merged(participant)
    # a withdrawn or expired consent freezes the case file (tracker.participants.consent)
    require_case_management(participant)
    after = {name: changes.get(name, getattr(participant, name)) for name in EDITABLE_FIELDS}
    after["birth_year"] = participant.birth_year
    problems = rules.edit_problems(after, date.today())
    if problems:
        raise DomainError(problems[0].message, problems[0].field)
    for name, value in changes.items():
        if isinstance(value, str):
            value = value.strip() or None
            if name in ("given_name", "family_name"):
                value = value or ""
        setattr(participant, name, value)
    if changes.get("date_of_birth") is not None:
        participant.birth_year = changes["date_of_birth"].year
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
    rules.require_not_merged(participant)
    require_case_management(participant)
    participant.archived_at = None
    db.session.flush()


def erase(participant: Participant) -> None:
    """Erase a person's identity on request, keeping the code so figures do not move.

    Names become "[erased]", contact details, exact birth date, languages and notes
    are removed; sex, birth year, nationality, region and every enrolment and
    placement stay, so that the figures stay, except that the age group, then
    computed from the birth year alone, can move by one year (born in September,
    registered in March: "under 18" may become "18–24"). The indicator store
    follows the change in the same transaction.
    """
    # the records merged into hers are her too: their identity goes with hers
    records = [participant, *(db.session.get(Participant, i) for i in merged_into(participant))]
    now = now_utc()
    for record in records:
        for name, value in ERASED_VALUES.items():
            setattr(record, name, value)
        for placement in record.placements:
            # an IGA is often named after its owner; follow-up notes are about her
            if placement.business_name:
                placement.business_name = ERASED
            for follow_up in placement.follow_ups:
                follow_up.note = None
        record.erased_at = now
        record.archived_at = record.archived_at or now
    # and so do the copies a merge keeps for its undo
    merging.scrub([r.id for r in records], ERASED_VALUES, ERASED)
    db.session.flush()


def likely_duplicates_of(
    participant: Participant, project_ids: list[int] | None = None
) -> list[duplicates.Candidate]:
    """Return the records that may be ``participant`` herself (the case file's suggestion)."""
    return duplicates.likely_duplicates(
        duplicates.Known.of(participant), exclude_id=participant.id, project_ids=project_ids
    )


def likely_duplicates(
    *,
    given_name: str,
    family_name: str,
    date_of_birth: date | None = None,
    nationality: str | None = None,
    phone: str | None = None,
    other_name: str | None = None,
    exclude_id: int | None = None,
    project_ids: list[int] | None = None,
    limit: int = 5,
) -> list[duplicates.Candidate]:
    """Return records that may be the same person, each with why it matched (the one rule)."""
    person = duplicates.Known.of(
        {
            "given_name": given_name,
            "family_name": family_name,
            "date_of_birth": date_of_birth,
            "nationality": nationality,
            "phone": phone,
            "other_name": other_name,
        }
    )
    return duplicates.likely_duplicates(
        person, exclude_id=exclude_id, project_ids=project_ids, limit=limit
    )


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


def merged_into(participant: Participant) -> list[int]:
    """Return the ids of the records merged into ``participant``, directly or through others."""
    found: list[int] = []
    frontier = [participant.id]
    while frontier:
        frontier = list(
            db.session.scalars(
                select(Participant.id).where(Participant.merged_into_id.in_(frontier))
            )
        )
        found += frontier
    return found


def history(
    participant: Participant, limit: int | None = 200, *, reads: bool = False
) -> list[AuditEvent]:
    """Return the audit lines of the record and of what hangs from it, newest first.

    ``limit``: at most this many (None: every one, for the person's own copy).

    ``reads``: the pages of it opened too (who opened the case file, an edit form).

    One indexed lookup per kind of record, (entity, entity_id), joined by UNION ALL:
    a single query with OR over sub-selects made SQLite scan the whole log, whose
    size grows with every page anyone opens.
    """
    # the records merged into this one brought their history with them
    people = [participant.id, *merged_into(participant)]
    placement_ids = list(
        db.session.scalars(select(Placement.id).where(Placement.participant_id.in_(people)))
    )
    related = {
        "participant": people,
        "enrolment": list(
            db.session.scalars(select(Enrolment.id).where(Enrolment.participant_id.in_(people)))
        ),
        "placement": placement_ids,
        "follow_up": list(
            db.session.scalars(select(FollowUp.id).where(FollowUp.placement_id.in_(placement_ids)))
        )
        if placement_ids
        else [],
        "consent": list(
            db.session.scalars(select(Consent.id).where(Consent.participant_id.in_(people)))
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
            # the case file shows what changed; who opened it, on request
            true() if reads else AuditEvent.action.not_in(READ_ACTIONS),
        )
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
