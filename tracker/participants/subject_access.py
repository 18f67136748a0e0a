"""Everything the programme holds on one person, for her: subject access and portability.

IOM's data protection principles and Morocco's law 09-08 (as the GDPR's articles 15
and 20) give a person the right to know what is held about her and who read it, and
to take it away in a machine-readable form. ``gather`` collects, for one person:

- her identity as recorded (every column, the sensitive notes included: they are
  about her; the one who hands the document over reads it first);
- her consents, enrolments, placements and their follow-ups;
- the records merged into hers (a duplicate registered twice is still her);
- the audit log's lines about her records: who changed what (the values of
  personal fields are masked in the log itself, only the field is named), who
  opened her case file, which lists showed her (participants lists, drill-downs,
  duplicate warnings, course rosters, the API), the export files that held her
  (an export's line names the people of its file; an older line that does not is
  listed when it was of her project, as a file that may have held her), and the
  donor reports whose annex listed her code, with each download of that annex.

Activities (capacity building, awareness) record partner institutions, never people:
nothing of them is about her.

``as_json`` writes it as a JSON document (``FORMAT``): values as stored, dates in ISO
8601, each audit line with its sentence in the language asked. The PDF is
``tracker.reports.subject_pdf``. Producing either is audited (``subject_access``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext
from sqlalchemy import JSON, and_, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import selectinload

from tracker.audit import READ_ACTIONS, in_ranges
from tracker.auditlog import sentences
from tracker.exports.services import PERSON_KINDS
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Consent,
    Enrolment,
    FollowUp,
    GeneratedReport,
    Participant,
    Placement,
    TrainingCourse,
    User,
)
from tracker.participants import services
from tracker.participants.consent import status_of

#: the name and version of the JSON document's layout
FORMAT = "tracker-subject-access/1"

#: her identity's columns, in the order a person reads them
IDENTITY = (
    "code",
    "given_name",
    "family_name",
    "other_name",
    "sex",
    "date_of_birth",
    "birth_year",
    "nationality",
    "region",
    "city",
    "phone",
    "email",
    "migration_status",
    "education_level",
    "languages",
    "sensitive_notes",
    "registered_on",
)

#: the keys under which a list's audit line names the people it showed
PEOPLE_KEYS = ("participant_ids",)
#: the API's record lists name the records shown, by kind
RECORD_KEYS = {"enrolments": "enrolment", "placements": "placement", "followups": "follow_up"}


@dataclass
class AuditEntry:
    """One line of the log that concerns her, with its sentence for the reader."""

    event: AuditEvent
    sentence: str
    details: list[str]
    #: who did it: the user's name and role when the account is known
    who: str
    #: for a file's line: True when it is known to have held her, None when the log
    #: does not say (an export's line written before exports named their people)
    held_her: bool | None = None


@dataclass
class Dossier:
    """What the programme holds on one person; see the module's docstring."""

    person: Participant
    merged: list[Participant]
    consents: list[Consent]
    enrolments: list[Enrolment]
    placements: list[Placement]
    changes: list[AuditEntry]
    reads: list[AuditEntry]
    exports: list[AuditEntry]
    registered_by: str | None
    generated_at: datetime
    generated_by: User
    language: str


def gather(person: Participant, reader: User, *, language: str, now: datetime | None = None):
    """Return the ``Dossier`` of ``person`` (her survivor's, if she was merged).

    ``reader``: who produces it (an administrator, or a manager of her project); the
    audit lines are worded as she may read them. Call it under
    ``force_locale(language)``: the sentences are written in the current language.
    """
    from tracker.participants.merging import survivor_of

    person = survivor_of(person)
    merged_ids = services.merged_into(person)
    merged = (
        list(
            db.session.scalars(
                select(Participant).where(Participant.id.in_(merged_ids)).order_by(Participant.id)
            )
        )
        if merged_ids
        else []
    )
    people = [person.id, *merged_ids]
    consents = list(
        db.session.scalars(
            select(Consent)
            .where(Consent.participant_id.in_(people))
            .options(selectinload(Consent.partner))
            .order_by(Consent.given_on, Consent.id)
        )
    )
    enrolments = list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.participant_id.in_(people))
            .options(selectinload(Enrolment.course).selectinload(TrainingCourse.provider))
            .order_by(Enrolment.enrolled_on, Enrolment.id)
        )
    )
    placements = list(
        db.session.scalars(
            select(Placement)
            .where(Placement.participant_id.in_(people))
            .options(
                selectinload(Placement.employer),
                selectinload(Placement.referral_partner),
                selectinload(Placement.follow_ups),
            )
            .order_by(Placement.start_date, Placement.id)
        )
    )
    own = sorted(services.history(person, limit=None, reads=True), key=_order)
    listed = _lists_showing(people, enrolments, placements, since=_first_moment(person, merged))
    exports, certain = _exports_of(person, merged)
    annexes = _annexes_naming(person, merged)
    certain |= {e.id for e in annexes}
    files = sorted([*exports, *annexes], key=_order)
    entries = _entries([*own, *listed, *files], reader)
    registrar = db.session.get(User, person.registered_by_id) if person.registered_by_id else None
    return Dossier(
        person=person,
        merged=merged,
        consents=consents,
        enrolments=enrolments,
        placements=placements,
        changes=[entries[e.id] for e in own if not _is_read(e)],
        reads=[entries[e.id] for e in sorted({*own, *listed}, key=_order) if _is_read(e)],
        exports=[_held(entries[e.id], e.id in certain) for e in files],
        registered_by=_who(registrar, None) if registrar else None,
        generated_at=now or datetime.now(UTC),
        generated_by=reader,
        language=language,
    )


def _order(event_: AuditEvent) -> tuple[datetime, int]:
    moment = event_.occurred_at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, event_.id


#: what reads her data without changing it: pages and lists, and the copies made for her
READS = READ_ACTIONS | {"subject_access"}


def _is_read(event_: AuditEvent) -> bool:
    return event_.action in READS


def _first_moment(person: Participant, merged: Sequence[Participant]) -> datetime:
    """The earliest a line could name her: when the first of her records was created."""
    return min(
        (p.created_at for p in (person, *merged) if p.created_at is not None),
        default=datetime(1970, 1, 1, tzinfo=UTC),
    )


def _contains_any(key: str, ids: Sequence[int]):
    """The SQL condition "the line's ``changes[key]`` holds one of ``ids``", per database."""
    if db.engine.dialect.name == "postgresql":
        value = cast(AuditEvent.changes, JSONB)[key]
        return or_(*(value.contains(cast(literal([i], JSON), JSONB)) for i in ids))
    members = func.json_each(AuditEvent.changes, f"$.{key}").table_valued("value")
    return select(literal(1)).select_from(members).where(members.c.value.in_(list(ids))).exists()


def _lists_showing(
    people: Sequence[int],
    enrolments: Sequence[Enrolment],
    placements: Sequence[Placement],
    *,
    since: datetime,
) -> list[AuditEvent]:
    """Return the lines of the lists (pages, API, exports of ids) that showed her."""
    conditions = [_contains_any(key, people) for key in PEOPLE_KEYS]
    records = {
        "enrolment": [e.id for e in enrolments],
        "placement": [p.id for p in placements],
        "follow_up": [f.id for p in placements for f in p.follow_ups],
    }
    for kind, entity in RECORD_KEYS.items():
        if records[entity]:
            conditions.append(
                and_(AuditEvent.entity == kind, _contains_any("ids", records[entity]))
            )
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.action.in_(READ_ACTIONS),
            AuditEvent.entity_id.is_(None),
            AuditEvent.occurred_at >= since,
            or_(*conditions),
        )
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    return list(db.session.scalars(query))


def _exports_of(person: Participant, merged: Sequence[Participant]) -> list[AuditEvent]:
    """Return the export files that held her, by name or by code.

    An export's line names the people of its file (``participant_ranges``) and is
    listed when she is among them. A line written before exports named their people
    says only its project (none: every project of the one who took it): an export
    of her project's records made while she was registered is listed then, as one
    that may have held her (``held_her``).
    """
    people = [person.id, *(m.id for m in merged)]
    codes = {p.project.code for p in (person, *merged)}
    end = person.erased_at
    query = select(AuditEvent).where(
        AuditEvent.action == "export",
        AuditEvent.entity.in_(PERSON_KINDS),
        AuditEvent.occurred_at >= _first_moment(person, merged),
    )
    if end is not None:
        query = query.where(AuditEvent.occurred_at <= end)
    found, certain = [], set()
    for event_ in db.session.scalars(query.order_by(AuditEvent.occurred_at, AuditEvent.id)):
        changes = event_.changes or {}
        if "participant_ranges" in changes:
            if in_ranges(changes["participant_ranges"], people):
                found.append(event_)
                certain.add(event_.id)
            continue
        named = str(changes.get("project") or "").split()
        if not named or codes.intersection(named):
            found.append(event_)
    return found, certain


def _annexes_naming(person: Participant, merged: Sequence[Participant]) -> list[AuditEvent]:
    """Return the lines of the donor reports whose pseudonymous annex lists her code.

    The annex (a CSV kept with the report) is read for her codes, cell by cell; the
    lines are the report's making (on the web or with the command) and each download
    of its annex: who took her code away. A report's PDF holds no annex since the annex
    left it; an older report whose annex is in its PDF is not read.
    """
    codes = {p.code for p in (person, *merged)}
    projects = {p.project_id for p in (person, *merged)}
    reports = db.session.execute(
        select(GeneratedReport.id, GeneratedReport.annex_content).where(
            GeneratedReport.project_id.in_(projects),
            GeneratedReport.annex_content.is_not(None),
            GeneratedReport.created_at >= _first_moment(person, merged),
        )
    )
    ids = {id_ for id_, annex in reports if _lists_a_code(annex, codes)}
    if not ids:
        return []
    lines = db.session.scalars(
        select(AuditEvent).where(
            or_(
                and_(AuditEvent.entity == "generated_report", AuditEvent.entity_id.in_(ids)),
                and_(
                    AuditEvent.action == "report",
                    AuditEvent.entity == "project",
                    AuditEvent.entity_id.in_(projects),
                ),
            )
        )
    )
    return [
        e
        for e in lines
        if (e.entity == "generated_report" and (e.action == "create" or _annex_taken(e)))
        or (e.entity == "project" and (e.changes or {}).get("generated_report") in ids)
    ]


def _annex_taken(event_: AuditEvent) -> bool:
    return (event_.changes or {}).get("download") == "annex_csv"


def _lists_a_code(annex: bytes, codes: set[str]) -> bool:
    """Say whether a cell of an annex (``reports.services.annex_csv``'s CSV) is one of ``codes``."""
    rows = csv.reader(io.StringIO(annex.decode("utf-8-sig")), delimiter=";")
    return any(codes.intersection(cell.strip() for cell in row) for row in rows)


def _held(entry: AuditEntry, certain: bool) -> AuditEntry:
    """Mark a file's line as holding her, or say that the line does not tell."""
    entry.held_her = True if certain else None
    if not certain:
        entry.details.append(
            gettext(
                "This line does not name the people of the file: it may have held you, "
                "as your consents allowed."
            )
        )
    return entry


def _who(user: User | None, label: str | None) -> str:
    """A user as the document names her: name and role; the stored label otherwise."""
    if user is None:
        return label or ""
    if user.id is None:  # the command line's reader, no account
        return user.email
    name = user.name or user.email
    return f"{name} ({user.role.label})"


def _entries(events: Iterable[AuditEvent], reader: User) -> dict[int, AuditEntry]:
    unique = {e.id: e for e in events}
    ordered = sorted(unique.values(), key=_order)
    users = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_({e.actor_id for e in ordered if e.actor_id}))
        )
    }
    lines = sentences.describe(ordered, reader)
    return {
        line.event.id: AuditEntry(
            event=line.event,
            sentence=str(line.sentence),
            details=[str(d) for d in line.details],
            who=_who(users.get(line.event.actor_id), line.event.actor_label),
        )
        for line in lines
    }


# --- the JSON document --------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value as JSON holds it: enums by value, dates in ISO 8601, decimals as text."""
    if value is None or isinstance(value, bool | int | str):
        return value.value if hasattr(value, "value") else value
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value"):
        return value.value
    return str(value)


def _record(obj: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in names}


def _person_json(person: Participant) -> dict[str, Any]:
    return {
        "id": person.id,
        **_record(person, IDENTITY),
        "project": {"code": person.project.code, "title": person.project.title},
        "source_submission": person.external_id,
        "archived_at": _plain(person.archived_at),
        "erased_at": _plain(person.erased_at),
    }


#: what her copy keeps of a file's line: what the file was, never what else it held (the
#: file's other people, a report's narrative or figures)
FILE_KEYS = frozenset(
    {
        "format",
        "project",
        "pseudonymous",
        "hxl",
        "rows",
        "from",
        "to",
        "job",
        "kind",
        "lang",
        "language",
        "period_start",
        "period_end",
        "download",
        "sha256",
        "size",
        "annex",
        "annex_name",
        "annex_rows",
        "annex_sha256",
    }
)


def _export_json(entry: AuditEntry) -> dict[str, Any]:
    """A file's line: what the file was and whether it named her, nothing of its content."""
    line = _audit_json(entry, with_changes=True)
    line["changes"] = {k: v for k, v in (line["changes"] or {}).items() if k in FILE_KEYS}
    line["held_her"] = entry.held_her
    return line


def _audit_json(entry: AuditEntry, *, with_changes: bool) -> dict[str, Any]:
    event_ = entry.event
    line: dict[str, Any] = {
        "id": event_.id,
        "at": _plain(event_.occurred_at),
        "by": entry.who,
        "action": event_.action,
        "record": event_.entity,
        "record_id": event_.entity_id,
        "description": entry.sentence,
        "details": entry.details,
    }
    if with_changes:
        # the log's own masking holds: personal fields show as "***"
        line["changes"] = event_.changes
    return line


def as_json(dossier: Dossier) -> dict[str, Any]:
    """Return the dossier as a JSON-ready dict (see ``FORMAT``)."""
    person = dossier.person
    return {
        "format": FORMAT,
        "generated_at": _plain(dossier.generated_at),
        "generated_by": _who(dossier.generated_by, None),
        "language": dossier.language,
        "person": _person_json(person),
        "registered_by": dossier.registered_by,
        "records_merged_into_hers": [_person_json(p) for p in dossier.merged],
        "consents": [
            {
                **_record(c, ("purpose", "given_on", "expires_on", "withdrawn_on")),
                "partner": c.partner.name if c.partner else None,
                "status": status_of(c),
            }
            for c in dossier.consents
        ],
        "enrolments": [
            {
                **_record(
                    e,
                    (
                        "enrolled_on",
                        "status",
                        "completed_on",
                        "dropped_on",
                        "attendance_pct",
                        "certificate",
                    ),
                ),
                "course": {
                    **_record(e.course, ("title", "kind", "start_date", "end_date")),
                    "provider": e.course.provider.name,
                },
            }
            for e in dossier.enrolments
        ],
        "placements": [
            {
                **_record(
                    p,
                    (
                        "kind",
                        "business_name",
                        "sector",
                        "start_date",
                        "end_date",
                        "contract_type",
                        "monthly_income",
                        "verified",
                    ),
                ),
                "employer": p.employer.name if p.employer else None,
                "referred_by": p.referral_partner.name if p.referral_partner else None,
                "follow_ups": [
                    _record(
                        f,
                        ("months_after", "followed_on", "still_active", "monthly_income", "note"),
                    )
                    for f in p.follow_ups
                ],
            }
            for p in dossier.placements
        ],
        "activities": [],
        "changes": [_audit_json(e, with_changes=True) for e in dossier.changes],
        "reads": [_audit_json(e, with_changes=False) for e in dossier.reads],
        "exports": [_export_json(e) for e in dossier.exports],
    }


def follow_ups(dossier: Dossier) -> list[tuple[Placement, FollowUp]]:
    """Her follow-ups with the placement each is about, in date order."""
    pairs = [(p, f) for p in dossier.placements for f in p.follow_ups]
    return sorted(pairs, key=lambda pair: (pair[1].followed_on, pair[1].id))
