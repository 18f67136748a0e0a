"""Merging records of one person into a survivor, and undoing the merge.

A merge keeps everything: the survivor takes, field by field, the value chosen
among the records (by default the most recent non-empty one), and the enrolments,
placements (with their follow-ups) and consents of the other records move to it.
The other records stay in the database, marked ``merged_into_id``: hidden from
lists, duplicate checks and figures, their codes leading to the survivor, their
audit history shown in the survivor's case file. Figures move in the same
transaction (a person counted twice counts once).

Every merge is kept in ``participant_merge`` with the former value of every column
of every row it changed, so that it can be undone exactly, ``version`` and
``updated_at`` included, as long as none of those rows changed since.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, Numeric, select, update

from tracker import audit
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.indicator_store import keeping
from tracker.models import (
    Base,
    Consent,
    Enrolment,
    Participant,
    ParticipantMerge,
    Placement,
    TrainingCourse,
    User,
    now_utc,
)
from tracker.participants import consent as consents
from tracker.participants import duplicates, records
from tracker.text import search_fields

#: the fields whose surviving value is chosen, with their labels, in the form's order
FIELDS: dict[str, Any] = {
    **{name: audit.FIELD_LABELS[name] for name in records.EDITABLE_FIELDS},
    # the value kept is the exact date, or the year alone when only it is known
    "date_of_birth": _l("Date of birth (or year)"),
    "registered_on": audit.FIELD_LABELS["registered_on"],
    "sensitive_notes": audit.FIELD_LABELS["sensitive_notes"],
}
#: the tables whose rows a merge changes, and the column that links them to a person
MOVED = {"enrolment": Enrolment, "placement": Placement, "consent": Consent}


class MergeRefused(DomainError):
    """The records cannot be merged (or the merge undone), for the reason given."""


@dataclass(frozen=True)
class FieldChoice:
    name: str
    label: str
    #: each record's value, in the order of ``Comparison.records``
    values: list[Any]
    #: the id of the record whose value survives by default
    default: int

    @property
    def differs(self) -> bool:
        return len({repr(v) for v in self.values}) > 1


@dataclass(frozen=True)
class Conflict:
    """Enrolments of several records in one course: only one can stay with the survivor."""

    course: TrainingCourse
    enrolments: list[Enrolment]


@dataclass
class Comparison:
    records: list[Participant]
    fields: list[FieldChoice]
    conflicts: list[Conflict]
    matches: dict[int, duplicates.Match | None] = field(default_factory=dict)


def _value(record: Participant, name: str) -> Any:
    if name == "date_of_birth":
        return record.date_of_birth or record.birth_year
    return getattr(record, name)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def default_choice(records: Sequence[Participant], name: str) -> int:
    """Return the id of the record whose value of ``name`` survives unless chosen otherwise.

    The most recently updated record with a value; for the registration date, the
    earliest (the person has been followed since then).
    """
    if name == "registered_on":
        return min(records, key=lambda r: (r.registered_on, r.id)).id
    filled = [r for r in records if not _empty(_value(r, name))]
    if not filled:
        return records[0].id
    return max(filled, key=lambda r: (_utc(r.updated_at), r.id)).id


def _utc(moment: datetime | None) -> datetime:
    """Compare times as naive UTC: SQLite gives them back without their zone."""
    if moment is None:
        return datetime.min
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def refusal(survivor: Participant, others: Sequence[Participant]) -> str | None:
    """Return why these records cannot be merged, or None when they can."""
    records = [survivor, *others]
    if not others:
        return _("Choose at least one other record to merge into the survivor.")
    if len({r.id for r in records}) != len(records):
        return _("A record cannot be merged into itself.")
    for record in records:
        if record.merged_into_id is not None:
            return _("%(code)s was already merged into another record.", code=record.code)
        if record.erased_at is not None:
            return _("%(code)s is erased: an erased record cannot be merged.", code=record.code)
        if not consents.case_management_holds(record):
            return _(
                "%(code)s has no current consent to case management: merging would process "
                "her data again.",
                code=record.code,
            )
    if len({r.project_id for r in records}) > 1:
        return _(
            "The records belong to different projects: each project's figures count its own "
            "case files, so only records of one project can be merged."
        )
    return None


def compare(survivor: Participant, others: Sequence[Participant]) -> Comparison:
    """Return the records side by side: each field's values and default, and the conflicts."""
    records = [survivor, *others]
    fields = [
        FieldChoice(
            name, str(label), [_value(r, name) for r in records], default_choice(records, name)
        )
        for name, label in FIELDS.items()
    ]
    by_course: dict[int, list[Enrolment]] = defaultdict(list)
    for enrolment in db.session.scalars(
        select(Enrolment)
        .where(Enrolment.participant_id.in_([r.id for r in records]))
        .order_by(Enrolment.id)
    ):
        by_course[enrolment.course_id].append(enrolment)
    conflicts = [
        Conflict(enrolments[0].course, enrolments)
        for enrolments in by_course.values()
        if len(enrolments) > 1
    ]
    first = duplicates.Known.of(survivor)
    words = duplicates.reason_words()
    matches = {o.id: duplicates.match(first, duplicates.Known.of(o), words) for o in others}
    return Comparison(records, fields, conflicts, matches)


# --- The snapshot of rows, as JSON, and back ---------------------------------------------------


#: a column's value as the snapshot (JSON) keeps it: the audit log's own conversion
_dump = audit.plain_value


def _load(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    if isinstance(column.type, Numeric):
        return Decimal(value)
    return value


def _rows(model: type[Base], ids: Sequence[int]) -> dict[str, dict[str, Any]]:
    """Return every column of the rows ``ids`` as stored, by id (keys are strings, as JSON)."""
    if not ids:
        return {}
    table = model.__table__
    result = db.session.execute(select(table).where(table.c.id.in_(ids))).mappings()
    return {str(row["id"]): {k: _dump(v) for k, v in row.items()} for row in result}


def _marks(model: type[Base], ids: Sequence[int]) -> dict[str, Any]:
    """Return what tells a later change of each row: its version, or its update time."""
    table = model.__table__
    mark = table.c.version if "version" in table.c else table.c.updated_at
    if not ids:
        return {}
    query = select(table.c.id, mark).where(table.c.id.in_(ids))
    return {str(row_id): _dump(value) for row_id, value in db.session.execute(query)}


# --- Merge -------------------------------------------------------------------------------------


def merge(
    survivor: Participant,
    others: Sequence[Participant],
    *,
    choices: Mapping[str, int] | None = None,
    keep: Mapping[int, int] | None = None,
    by: User | None = None,
) -> ParticipantMerge:
    """Merge ``others`` into ``survivor``; return the kept merge. Flush only.

    ``choices`` maps a field to the id of the record whose value survives (the
    default elsewhere). ``keep`` maps a course id to the id of the enrolment that
    stays with the survivor when several records are enrolled in that course; the
    others stay with their merged record. Refused (``MergeRefused``) with the reason
    when the records cannot be merged or a conflict has no choice.
    """
    reason = refusal(survivor, others)
    if reason:
        raise MergeRefused(reason)
    comparison = compare(survivor, others)
    records = {r.id: r for r in comparison.records}
    choices = dict(choices or {})
    keep = dict(keep or {})
    unknown = set(choices) - set(FIELDS)
    if unknown:
        raise MergeRefused(_("Unknown field: %(name)s.", name=", ".join(sorted(unknown))))
    for name, record_id in choices.items():
        if record_id not in records:
            raise MergeRefused(_("The value of %(field)s must come from one of the records.",
                                 field=FIELDS[name]))  # fmt: skip
    kept_enrolments = set()
    for conflict in comparison.conflicts:
        chosen = keep.get(conflict.course.id)
        if chosen not in {e.id for e in conflict.enrolments}:
            raise MergeRefused(
                _(
                    "%(codes)s are all enrolled in %(course)s: choose the enrolment to keep.",
                    codes=", ".join(records[e.participant_id].code for e in conflict.enrolments),
                    course=conflict.course.title,
                ),
                f"keep_{conflict.course.id}",
            )
        kept_enrolments.add(chosen)
    conflicting = {e.id for c in comparison.conflicts for e in c.enrolments}

    other_ids = [o.id for o in others]
    moved_ids: dict[str, list[int]] = {}
    for name, model in MOVED.items():
        ids = db.session.scalars(
            select(model.id).where(model.participant_id.in_(other_ids)).order_by(model.id)
        ).all()
        if name == "enrolment":
            # the survivor's own enrolment in a conflict stays where it is; so do the
            # others' not chosen, on their merged record
            ids = [i for i in ids if i not in conflicting or i in kept_enrolments]
        moved_ids[name] = list(ids)
    # the survivor's enrolment not chosen in a conflict leaves it for the merged record
    # it conflicts with (the one whose enrolment was chosen): nothing is deleted
    handed_back: dict[int, int] = {}
    for conflict in comparison.conflicts:
        own = [e for e in conflict.enrolments if e.participant_id == survivor.id]
        chosen = next(e for e in conflict.enrolments if e.id == keep[conflict.course.id])
        if own and chosen.participant_id != survivor.id:
            handed_back[own[0].id] = chosen.participant_id
    moved_ids["enrolment"] += sorted(handed_back)

    before = {
        "participant": _rows(Participant, [survivor.id, *other_ids]),
        **{name: _rows(MOVED[name], ids) for name, ids in moved_ids.items()},
    }
    final = {name: choices.get(name, f.default) for name, f in
             ((f.name, f) for f in comparison.fields)}  # fmt: skip

    for name, record_id in final.items():
        source = records[record_id]
        if name == "date_of_birth":
            survivor.date_of_birth = source.date_of_birth
            survivor.birth_year = source.birth_year
        else:
            setattr(survivor, name, getattr(source, name))
    for other in others:
        other.merged_into_id = survivor.id
    db.session.flush()
    _move_rows(before, moved_ids, survivor.id, handed_back)
    keeping.touch(db.session, [survivor.id, *other_ids])
    db.session.expire_all()

    after = {
        "participant": _marks(Participant, [survivor.id, *other_ids]),
        **{name: _marks(MOVED[name], ids) for name, ids in moved_ids.items()},
    }
    actor_id, label = audit.current_actor()
    kept = ParticipantMerge(
        survivor_id=survivor.id,
        merged_ids=other_ids,
        choices={name: records[rid].code for name, rid in final.items()},
        before=before,
        after=after,
        created_by_id=by.id if by else actor_id,
        created_by_label=by.email if by else label,
    )
    db.session.add(kept)
    db.session.flush()
    audit.record(
        db.session,
        "merge",
        "participant",
        survivor.id,
        {
            "merge": kept.id,
            "survivor": survivor.code,
            "merged": [records[i].code for i in other_ids],
            "choices": kept.choices,
            "kept_enrolments": sorted(kept_enrolments),
            "moved": {name: len(ids) for name, ids in moved_ids.items()},
        },
    )
    db.session.flush()
    return kept


def _move_rows(
    before: dict[str, dict[str, dict[str, Any]]],
    moved_ids: dict[str, list[int]],
    survivor_id: int,
    handed_back: dict[int, int],
) -> None:
    """Point the moved rows at their new owner, each with its audit line.

    Core statements: an enrolment handed back from the survivor to a merged record
    swaps places with the one chosen, which the unique (person, course) pair allows
    only by taking the first out and putting it back with the same id.
    """
    stamp = now_utc()
    lines = []
    for name, ids in moved_ids.items():
        table = MOVED[name].__table__
        versioned = "version" in table.c
        back = [i for i in ids if i in handed_back] if name == "enrolment" else []
        if back:
            db.session.execute(
                table.delete().where(table.c.id.in_(back)), execution_options=keeping.NOTED
            )
        for row_id in ids:
            old = before[name][str(row_id)]
            owner = handed_back.get(row_id, survivor_id) if name == "enrolment" else survivor_id
            values = {"participant_id": owner, "updated_at": stamp}
            if versioned:
                values["version"] = old["version"] + 1
            if row_id in back:
                restored = {k: _load(table.c[k], v) for k, v in old.items()}
                db.session.execute(
                    table.insert().values(**{**restored, **values}),
                    execution_options=keeping.NOTED,
                )
            else:
                db.session.execute(
                    update(table).where(table.c.id == row_id).values(**values),
                    execution_options=keeping.NOTED,
                )
            lines.append((name, row_id, {"participant_id": [old["participant_id"], owner]}))
    for name, row_id, changes in lines:
        audit.record(db.session, "update", name, row_id, changes)


# --- Undo --------------------------------------------------------------------------------------


def undo_refusal(kept: ParticipantMerge) -> str | None:
    """Return why the merge cannot be undone now, or None when it can."""
    if kept.undone_at is not None:
        return _("This merge was already undone.")
    for name, marks in kept.after.items():
        model = Participant if name == "participant" else MOVED[name]
        now = _marks(model, [int(i) for i in marks])
        for row_id, mark in marks.items():
            if now.get(row_id) != mark:
                return _(
                    "A record of this merge changed since (%(what)s %(id)s): undoing it "
                    "would overwrite that change.",
                    what=audit.entity_label(name),
                    id=row_id,
                )
    return None


def undo(kept: ParticipantMerge, *, by: User | None = None) -> None:
    """Restore every row the merge changed exactly as it was. Flush only.

    Refused (``MergeRefused``) when it was undone already or a row changed since.
    """
    reason = undo_refusal(kept)
    if reason:
        raise MergeRefused(reason)
    db.session.flush()
    keeping.touch(db.session, [kept.survivor_id, *kept.merged_ids])
    # the merged records first: nothing may point to the survivor while it is restored
    order = ["participant", *[n for n in MOVED if n in kept.before]]
    for name in order:
        model = Participant if name == "participant" else MOVED[name]
        table = model.__table__
        rows = kept.before[name]
        if name == "enrolment" and rows:
            # swapped enrolments would meet on the unique (person, course) pair one at a
            # time: they are taken out and put back as they were, ids included
            db.session.execute(
                table.delete().where(table.c.id.in_([int(i) for i in rows])),
                execution_options=keeping.NOTED,
            )
            db.session.execute(
                table.insert(),
                [{k: _load(table.c[k], v) for k, v in values.items()} for values in rows.values()],
                execution_options=keeping.NOTED,
            )
            continue
        for row_id, values in rows.items():
            restored = {k: _load(table.c[k], v) for k, v in values.items() if k != "id"}
            db.session.execute(
                update(table).where(table.c.id == int(row_id)).values(**restored),
                execution_options=keeping.NOTED,
            )
    db.session.expire_all()
    actor_id, label = audit.current_actor()
    kept.undone_at = now_utc()
    kept.undone_by_id = by.id if by else actor_id
    kept.undone_by_label = by.email if by else label
    codes = {
        int(i): row["code"] for i, row in kept.before["participant"].items()
    }  # fmt: skip
    audit.record(
        db.session,
        "unmerge",
        "participant",
        kept.survivor_id,
        {
            "merge": kept.id,
            "survivor": codes[kept.survivor_id],
            "merged": [codes[i] for i in kept.merged_ids],
            "restored": {name: len(rows) for name, rows in kept.before.items()},
        },
    )
    db.session.flush()


def scrub(participant_ids: Sequence[int], erased: Mapping[str, Any], mark: str) -> None:
    """Erase people's identity from the snapshots that merges keep for their undo.

    An erasure must reach every copy of her personal data: her record's columns, and
    the name of an IGA of hers (``mark`` replaces it). An undo after the erasure is
    refused anyway, since the erasure changed her record.
    """
    keys = {str(i) for i in participant_ids}
    for kept in db.session.scalars(select(ParticipantMerge)):
        people = kept.before.get("participant", {})
        placements = kept.before.get("placement", {})
        if not (keys & set(people) or any(p["participant_id"] in participant_ids
                                          for p in placements.values())):  # fmt: skip
            continue
        kept.before = {
            **kept.before,
            "participant": {
                key: _erased_row(row, erased) if key in keys else row for key, row in people.items()
            },
            "placement": {
                key: {**row, "business_name": mark}
                if row["participant_id"] in participant_ids and row["business_name"]
                else row
                for key, row in placements.items()
            },
        }


def _erased_row(row: dict[str, Any], erased: Mapping[str, Any]) -> dict[str, Any]:
    """Return a snapshot row with the identity erased, its search columns derived again."""
    row = {**row, **{k: _dump(v) for k, v in erased.items()}}
    derived = search_fields(
        row["given_name"],
        row["family_name"],
        row["code"],
        row["phone"],
        row["email"],
        row.get("other_name"),
    )
    return {**row, **derived}


def merges_since(project_id: int, moment: datetime) -> list[ParticipantMerge]:
    """Return the merges of the project's records made or undone after ``moment``, oldest first.

    They explain why a kept report's figures moved: a person counted twice counts once
    after a merge, twice again after its undo.
    """
    query = (
        select(ParticipantMerge)
        .join(Participant, ParticipantMerge.survivor_id == Participant.id)
        .where(
            Participant.project_id == project_id,
            (ParticipantMerge.created_at > moment) | (ParticipantMerge.undone_at > moment),
        )
        .order_by(ParticipantMerge.created_at, ParticipantMerge.id)
    )
    return list(db.session.scalars(query))


def merged_codes(kept: ParticipantMerge) -> list[str]:
    """Return the codes of the records merged into the survivor by ``kept``."""
    people = kept.before.get("participant", {})
    return [people[str(i)]["code"] for i in kept.merged_ids if str(i) in people]


def merges_of(participant: Participant) -> list[ParticipantMerge]:
    """Return the merges into ``participant``, newest first."""
    return list(
        db.session.scalars(
            select(ParticipantMerge)
            .where(ParticipantMerge.survivor_id == participant.id)
            .order_by(ParticipantMerge.created_at.desc(), ParticipantMerge.id.desc())
        )
    )


def survivor_of(participant: Participant) -> Participant:
    """Return the record ``participant`` was merged into, following merges of merges."""
    seen = set()
    while participant.merged_into_id is not None and participant.id not in seen:
        seen.add(participant.id)
        participant = db.session.get(Participant, participant.merged_into_id)
    return participant
