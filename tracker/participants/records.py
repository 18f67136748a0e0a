"""The rows of a new participant, her consent and their audit lines, for bulk writes.

``services.register_participant`` writes one person through the ORM (its flush hook
derives the search columns and writes the audit lines). The importer and the
synthetic generator write thousands at once with Core inserts; they build the very
same rows here, so that a person imported or generated is stored exactly as one
typed in the form, and audited alike.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select

from tracker import audit
from tracker.extensions import db
from tracker.indicator_store import keeping
from tracker.models import AuditEvent, Consent, ConsentPurpose, Participant, Project, now_utc
from tracker.text import search_fields

#: the fields of a person an edit may change (code, project and registration stay)
EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "other_name",
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
#: the fields a registration may fill, besides code, project and registration
PERSON_FIELDS = (*EDITABLE_FIELDS, "birth_year")
#: bookkeeping columns of a new row that its audit line leaves out
_NOT_AUDITED = frozenset(
    {"search_text", "name_key", "phone_key", "version", "created_at", "updated_at"}
)


def clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the person's fields as stored: text stripped, blanks None, birth year filled."""
    out: dict[str, Any] = {}
    for name in PERSON_FIELDS:
        value = values.get(name)
        if isinstance(value, str) and not isinstance(value, enum.Enum):
            value = value.strip()
            if name not in ("given_name", "family_name"):
                value = value or None
        out[name] = value
    if out["nationality"]:
        out["nationality"] = out["nationality"].upper()
    if out["date_of_birth"] is not None:
        out["birth_year"] = out["date_of_birth"].year
    return out


def participant_row(
    values: Mapping[str, Any],
    *,
    project_id: int,
    code: str,
    registered_on: date,
    registered_by_id: int | None = None,
    external_id: str | None = None,
    stamp: datetime | None = None,
) -> dict[str, Any]:
    """Return the ``participant`` row of a new person, derived columns included."""
    stamp = stamp or now_utc()
    person = clean(values)
    return {
        "code": code,
        "project_id": project_id,
        **person,
        "sensitive_notes": None,
        "registered_on": registered_on,
        "registered_by_id": registered_by_id,
        "archived_at": None,
        "erased_at": None,
        "merged_into_id": None,
        "external_id": external_id,
        **search_fields(
            person["given_name"],
            person["family_name"],
            code,
            person["phone"],
            person["email"],
            person["other_name"],
        ),
        "version": 1,
        "created_at": stamp,
        "updated_at": stamp,
    }


def consent_row(participant_id: int, given_on: date, stamp: datetime) -> dict[str, Any]:
    """Return the row of a consent to case management given on ``given_on``."""
    return {
        "participant_id": participant_id,
        "purpose": ConsentPurpose.CASE_MANAGEMENT,
        "partner_id": None,
        "given_on": given_on,
        "expires_on": None,
        "withdrawn_on": None,
        "created_at": stamp,
        "updated_at": stamp,
    }


def created_line(
    entity: str, entity_id: int, row: Mapping[str, Any], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return the fields of a "create" audit line of a row written in bulk (values masked)."""
    stored = {k: v for k, v in row.items() if k not in _NOT_AUDITED}
    return {
        "action": "create",
        "entity": entity,
        "entity_id": entity_id,
        "changes": {**audit.new_record_changes(entity, stored), **(extra or {})},
    }


def insert_people(
    people: Sequence[tuple[dict[str, Any], date]],
    *,
    audit_extra: Mapping[str, Any] | None = None,
    audited: bool = True,
) -> dict[str, int]:
    """Insert participant rows and their consents; return each code's id. Flush only.

    ``people`` pairs each row of ``participant_row`` with its consent date. With
    ``audited``, each person and each consent gets its "create" line, as the flush hook
    writes for a form; ``audit_extra`` is added to each person's line (the import's id).
    """
    if not people:
        return {}
    table = Participant.__table__
    ids = dict(
        db.session.execute(
            insert(table).returning(table.c.code, table.c.id),
            [row for row, _on in people],
            execution_options=keeping.NOTED,
        ).all()
    )
    keeping.touch(db.session, ids.values())
    stamp = people[0][0]["updated_at"]
    consents = [consent_row(ids[row["code"]], given_on, stamp) for row, given_on in people]
    consent_table = Consent.__table__
    consent_ids = db.session.execute(
        insert(consent_table).returning(consent_table.c.id, sort_by_parameter_order=True),
        consents,
    ).scalars()
    if audited:
        actor_id, label = audit.current_actor()
        common = {
            "occurred_at": stamp,
            "actor_id": actor_id,
            "actor_label": label,
            "remote_addr": audit.current_addr(),
        }
        lines = [
            {**common, **created_line("participant", ids[row["code"]], row, audit_extra)}
            for row, _on in people
        ]
        lines += [
            {**common, **created_line("consent", consent_id, values)}
            for consent_id, values in zip(consent_ids, consents, strict=True)
        ]
        db.session.execute(insert(AuditEvent.__table__), lines)
    return ids


def next_code(project: Project) -> str:
    """Return the next free participant code of ``project`` (e.g. ``IDF-MA-2014-0156``).

    Two registrations of a project at once would otherwise take the same number on
    PostgreSQL: the project's row is locked until the transaction ends, so the second
    waits and reads the first's code (SQLite has one writer at a time already).
    """
    db.session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    prefix = f"{project.code}-"
    taken = db.session.scalars(
        select(Participant.code).where(Participant.code.startswith(prefix, autoescape=True))
    )
    numbers = [int(c[len(prefix) :]) for c in taken if c[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def free_codes(project: Project, taken: set[str]) -> Iterator[str]:
    """Yield the project's next free participant codes in order, skipping ``taken`` ones.

    An import generates codes for rows without one: never one that a later row gives.
    """
    prefix, number = next_code(project).rsplit("-", 1)
    n = int(number)
    while True:
        code = f"{prefix}-{n:04d}"
        if code not in taken:
            yield code
        n += 1
