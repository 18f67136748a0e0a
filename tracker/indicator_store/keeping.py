"""Keeping the store exact: in the transaction of every change, and rebuilt on demand.

Every write that can move a figure goes through the session: the ORM flush
(web forms, CLI, API, the importer's enrolments and placements) is watched by
``_after_flush``, which notes the people concerned; the bulk paths (the
importer's and the generator's Core inserts, a merge and its undo) call
``touch`` with the ids they write, and a Core INSERT, UPDATE or DELETE on a
watched table that does not say so is refused (``_refuse_unnoted``), so a new
bulk path cannot forget. Just before the transaction commits, ``apply``
recomputes the facts of the people noted, compares them with their stored
facts and adds the difference to the counters (UPSERT ``n = n + delta``), in the
same transaction: the figures and the records commit together or not at all.

Concurrency (PostgreSQL): a person's stored facts are read ``FOR UPDATE``, so two
transactions changing the same person apply one after the other, the second
from the first's result; counters are only ever incremented, in a fixed order,
at the very end of the transaction, so their row locks are held for the
shortest time. A rebuild takes an exclusive advisory lock per project, the
writers a shared one. SQLite has one writer at a time (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import delete, event, func, select, text
from sqlalchemy.orm import ORMExecuteState, Session

from tracker import audit
from tracker.extensions import db
from tracker.indicator_store import facts as facts_
from tracker.models import (
    Enrolment,
    FollowUp,
    IndicatorCell,
    IndicatorPerson,
    IndicatorStale,
    IndicatorTotal,
    IndicatorValue,
    Participant,
    Placement,
    TrainingCourse,
)

#: session.info key: ids of the people whose figures this transaction may move
_TOUCHED = "indicator_touched"
#: execution option of a Core statement whose people were given to ``touch``
NOTED = {"indicator_store": "touched"}
#: the tables whose rows feed the figures of people
WATCHED = frozenset(
    m.__tablename__ for m in (Participant, Enrolment, Placement, FollowUp, TrainingCourse)
)
#: a person's columns that a figure reads (others, e.g. her phone, move nothing)
PERSON_COLUMNS = (
    "project_id",
    "sex",
    "date_of_birth",
    "birth_year",
    "nationality",
    "region",
    "registered_on",
    "merged_into_id",
)
COURSE_COLUMNS = ("project_id", "sector", "provider_id")
#: first key of the advisory locks (the second is the project's id)
LOCK_CLASS = 7_212_001
#: people per statement when facts are read or written in bulk
BATCH = 2_000

_TABLES = {
    "t": (IndicatorTotal.__table__, ("project_id", "indicator", "window")),
    "c": (
        IndicatorCell.__table__,
        ("project_id", "indicator", "window", "sex", "age_group", "nationality", "region"),
    ),
    "v": (
        IndicatorValue.__table__,
        ("project_id", "indicator", "window", "region", "dimension", "category"),
    ),
}


def touch(session: Session, participant_ids: Iterable[int]) -> None:
    """Note people whose figures the current transaction may move (bulk paths)."""
    session.info.setdefault(_TOUCHED, set()).update(int(i) for i in participant_ids if i)


def _changed(obj: Any, columns: Sequence[str]) -> bool:
    state = db.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in columns)


def _old_and_new(obj: Any, name: str) -> list[int]:
    """Return the values a column had and has (loaded if the object was expired)."""
    history = db.inspect(obj).attrs[name].load_history()
    return [v for v in (*history.deleted, *history.unchanged, *history.added) if v]


def _after_flush(session: Session, _context: Any) -> None:
    """Note the people of every flushed change that can move a figure."""
    ids: set[int] = set()
    placements: set[int] = set()
    courses: set[int] = set()
    # a row created or deleted: its people, whatever its columns
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, Participant):
            ids.add(obj.id)
        elif isinstance(obj, Enrolment | Placement):
            ids.update(_old_and_new(obj, "participant_id"))
        elif isinstance(obj, FollowUp):
            placements.update(_old_and_new(obj, "placement_id"))
        elif isinstance(obj, TrainingCourse):
            courses.add(obj.id)  # a new course has nobody enrolled yet: none found
    for obj in session.dirty:
        if isinstance(obj, Participant):
            if _changed(obj, PERSON_COLUMNS):
                ids.add(obj.id)
                ids.update(_old_and_new(obj, "merged_into_id"))
        elif isinstance(obj, Enrolment | Placement):
            if session.is_modified(obj, include_collections=False):
                ids.update(_old_and_new(obj, "participant_id"))
        elif isinstance(obj, FollowUp):
            if session.is_modified(obj, include_collections=False):
                placements.update(_old_and_new(obj, "placement_id"))
        elif isinstance(obj, TrainingCourse) and _changed(obj, COURSE_COLUMNS):
            courses.add(obj.id)
    connection = session.connection()
    if placements:
        ids.update(
            connection.scalars(select(Placement.participant_id).where(Placement.id.in_(placements)))
        )
    if courses:
        ids.update(
            connection.scalars(
                select(Enrolment.participant_id).where(Enrolment.course_id.in_(courses))
            )
        )
    if ids:
        touch(session, ids)


def _refuse_unnoted(state: ORMExecuteState) -> None:
    """Refuse a Core write on a watched table whose people were not given to ``touch``."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in WATCHED:
        return
    if state.execution_options.get("indicator_store") != "touched":
        raise RuntimeError(
            f"a bulk write to {table.name} must give its people to indicator_store.touch() "
            "and run with execution_options(**keeping.NOTED)"
        )


def _before_commit(session: Session) -> None:
    # SQLAlchemy calls this on the release of a savepoint too: only the transaction's
    # own commit applies, so that a savepoint rolled back later takes nothing with it
    # and the counters are locked once, at the end
    if session.in_nested_transaction():
        return
    apply_pending(session, final=True)


def apply_pending(session: Session, *, final: bool = False) -> None:
    """Apply the changes of the transaction so far (at commit, and before the store is read).

    A transaction that reads figures after changing records sees its own changes, as
    it would computing them live. Before the commit (``final`` False) the people stay
    noted: if a savepoint that holds the changes rolls back, the commit applies them
    again from what is then stored (applying is idempotent).
    """
    # the last changes are flushed first, so that _after_flush has noted their people
    session.flush()
    if session.info.get(_TOUCHED) and session is not db.session():
        raise RuntimeError("the indicator store is kept through db.session only")
    if not final:
        if session.info.get(_TOUCHED):
            apply(set(session.info[_TOUCHED]))
        return
    while session.info.get(_TOUCHED):
        apply(session.info.pop(_TOUCHED))
        session.flush()


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_TOUCHED, None)


def init_app(_app: Any) -> None:
    """Install the hooks once for every session of the app."""
    target = db.session
    if not event.contains(target, "after_flush", _after_flush):
        event.listen(target, "after_flush", _after_flush)
        event.listen(target, "before_commit", _before_commit)
        event.listen(target, "after_transaction_end", _after_transaction_end)
        event.listen(target, "do_orm_execute", _refuse_unnoted)


# --- Applying a change -------------------------------------------------------------------------


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _lock(project_ids: Iterable[int], *, exclusive: bool) -> None:
    """Take the projects' advisory locks (PostgreSQL; SQLite has one writer at a time)."""
    if not _postgresql():
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    for project_id in sorted(set(project_ids)):
        db.session.execute(
            text(f"SELECT {function}(:c, :p)"), {"c": LOCK_CLASS, "p": int(project_id)}
        )


def _chunks(ids: Sequence[int], size: int = BATCH) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def apply(participant_ids: Iterable[int]) -> Counter:
    """Bring these people's stored facts and the counters up to date; return the delta."""
    ids = sorted(set(participant_ids))
    delta: Counter = Counter()
    person = IndicatorPerson.__table__
    for batch in _chunks(ids):
        if _postgresql():
            projects = select(Participant.project_id).where(Participant.id.in_(batch))
            stored = select(person.c.project_id).where(person.c.participant_id.in_(batch))
            _lock(db.session.scalars(projects.union(stored)), exclusive=False)
        old_query = select(person.c.participant_id, person.c.facts).where(
            person.c.participant_id.in_(batch)
        )
        if _postgresql():
            old_query = old_query.with_for_update()
        old = dict(db.session.execute(old_query).all())
        new = facts_.facts_of(batch)
        upserts, gone = [], []
        for pid in batch:
            facts = new.get(pid)
            text_now = facts_.dumps(facts) if facts else None
            before = old.get(pid)
            if text_now == before:
                continue
            delta.update(facts_.contributions(facts or {}))
            delta.subtract(facts_.contributions(facts_.loads(before)))
            if facts:
                upserts.append(
                    {"participant_id": pid, "project_id": _project_of(facts), "facts": text_now}
                )
            elif before is not None:
                gone.append(pid)
        if gone:
            db.session.execute(delete(person).where(person.c.participant_id.in_(gone)))
        if upserts:
            db.session.execute(_upsert("person", _postgresql()), upserts)
    add_to_counters(delta)
    return delta


def _project_of(facts: dict) -> int:
    """Return the project of a person's registration (her own project)."""
    for key in ("registered", *facts_.STORED):
        events = facts["e"].get(key)
        if events:
            return int(events[0][0])
    raise ValueError("facts without events")


def add_to_counters(delta: Counter) -> None:
    """Add ``delta`` to the counters (UPSERT), in a fixed order so writers never deadlock."""
    for kind, (_table, columns) in _TABLES.items():
        rows = [
            {**dict(zip(columns, key[1:], strict=True)), "n": n}
            for key, n in sorted(delta.items())
            if key[0] == kind and n
        ]
        if rows:
            db.session.execute(_upsert(kind, _postgresql()), rows)


@functools.cache
def _upsert(kind: str, postgresql: bool) -> Any:
    """Return the statement that adds to one table's counters, or sets a person's facts.

    Built once per kind and dialect: see ``facts._statements``.
    """
    if postgresql:
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    if kind == "person":
        statement = insert(IndicatorPerson.__table__)
        return statement.on_conflict_do_update(
            index_elements=["participant_id"],
            set_={"facts": statement.excluded.facts, "project_id": statement.excluded.project_id},
        )
    table, columns = _TABLES[kind]
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(columns), set_={"n": table.c.n + statement.excluded.n}
    )


# --- Rebuilding ---------------------------------------------------------------------------------


def people_of(project_id: int) -> list[int]:
    """Return the ids of the people registered in the project, merged ones included."""
    query = select(Participant.id).where(Participant.project_id == project_id)
    return list(db.session.scalars(query.order_by(Participant.id)))


#: counters held in memory by a rebuild before they are written (bounds its memory)
FLUSH_KEYS = 200_000


def facts_by_chunk(
    project_id: int, size: int = 5_000
) -> Iterator[tuple[list[int], dict[int, dict]]]:
    """Yield (ids, facts by id) of the project's people, read live, a chunk at a time."""
    for batch in _chunks(people_of(project_id), size):
        yield batch, facts_.facts_of(batch)


def rebuild(
    project_id: int,
    *,
    audited: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Compute the project's part of the store again from the records; return its people.

    Runs in the caller's transaction (commit it): readers see the old counters until
    it commits, writers of the project wait for it (PostgreSQL: advisory lock). With
    ``audited``, an audit line says who rebuilt it and when (and tells the kept
    dashboards that the figures may have moved). People are read a chunk at a time
    and the counters written whenever many are held, so memory stays flat.
    ``progress`` is told (people done, people in all) after each chunk.
    """
    db.session.flush()
    _lock([project_id], exclusive=True)
    everyone = 0
    if progress:
        everyone = db.session.scalar(
            select(func.count()).where(Participant.project_id == project_id)
        )
    person = IndicatorPerson.__table__
    for table, _columns in _TABLES.values():
        db.session.execute(delete(table).where(table.c.project_id == project_id))
    db.session.execute(delete(person).where(person.c.project_id == project_id))
    people = 0
    totals: Counter = Counter()
    for _batch, found in facts_by_chunk(project_id):
        people += len(found)
        if progress:
            progress(people, everyone)
        rows = [
            {"participant_id": pid, "project_id": project_id, "facts": facts_.dumps(facts)}
            for pid, facts in sorted(found.items())
        ]
        if rows:
            db.session.execute(person.insert(), rows)
        for facts in found.values():
            totals.update(facts_.contributions(facts))
        if len(totals) > FLUSH_KEYS:
            add_to_counters(Counter({k: n for k, n in totals.items() if k[1] == project_id}))
            totals.clear()
    add_to_counters(Counter({k: n for k, n in totals.items() if k[1] == project_id}))
    db.session.execute(delete(IndicatorStale).where(IndicatorStale.project_id == project_id))
    # the people noted so far are counted as they are now: nothing left to apply for them
    touched = db.session.info.get(_TOUCHED)
    if touched:
        touched.difference_update(people_of(project_id))
    if audited:
        audit.record(db.session, "rebuild_indicators", "project", project_id, {"people": people})
    return people


def stale_projects(project_ids: Iterable[int]) -> set[int]:
    """Return those of the projects whose counters wait for a rebuild."""
    ids = list(project_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(IndicatorStale.project_id).where(IndicatorStale.project_id.in_(ids))
        )
    )


def stored_counters(project_id: int) -> Counter:
    """Return the project's counters as stored (zeros left out)."""
    return Counter(dict(iter_stored_counters(project_id)))


def iter_stored_counters(project_id: int) -> Iterator[tuple[tuple, int]]:
    """Yield (key, n) of the project's stored counters (zeros left out), streamed."""
    for kind, (table, columns) in _TABLES.items():
        query = select(*(table.c[c] for c in columns), table.c.n).where(
            table.c.project_id == project_id, table.c.n != 0
        )
        for *key, n in db.session.execute(query.execution_options(yield_per=10_000)):
            yield (kind, *key), n


def stored_facts(participant_ids: Sequence[int]) -> dict[int, dict]:
    """Return the stored facts of these people (those who count somewhere)."""
    person = IndicatorPerson.__table__
    query = select(person.c.participant_id, person.c.facts).where(
        person.c.participant_id.in_(list(participant_ids))
    )
    return {pid: facts_.loads(text_) for pid, text_ in db.session.execute(query)}


def stored_facts_outside(project_id: int) -> list[int]:
    """Return the ids stored for the project that are no longer people of it."""
    person = IndicatorPerson.__table__
    people = select(Participant.id).where(Participant.project_id == project_id)
    query = select(person.c.participant_id).where(
        person.c.project_id == project_id, person.c.participant_id.not_in(people)
    )
    return list(db.session.scalars(query.order_by(person.c.participant_id)))
