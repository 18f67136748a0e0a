"""The audit log is tamper-evident: triggers refuse changes, a hash chain finds them out.

Run on SQLite and, with DATABASE_URL, on PostgreSQL: the triggers are the database's.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tracker import audit, audit_chain
from tracker.extensions import db
from tracker.models import AuditCheckpoint, AuditEvent


def _lines(n: int, label: str = "cli:test") -> list[int]:
    events = [
        AuditEvent(actor_label=label, action="create", entity="project", entity_id=i)
        for i in range(n)
    ]
    db.session.add_all(events)
    db.session.flush()
    ids = [e.id for e in events]
    db.session.commit()
    return ids


def _raw(sql: str, **params) -> None:
    """Run SQL as someone at a database prompt would: no app, no ORM guard."""
    db.session.commit()  # the test's session lets go of the database (SQLite: one writer)
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def _verify(runner):
    db.session.commit()
    return runner.invoke(args=["audit", "verify"])


def _drop_triggers() -> None:
    db.session.commit()
    with db.engine.begin() as conn:
        audit_chain.drop_triggers(conn)


# --- the triggers ---------------------------------------------------------------------


def test_update_of_a_past_line_is_refused_by_the_database(app):
    line = _lines(1)[0]
    with pytest.raises(DBAPIError, match="append-only"):
        _raw("UPDATE audit_event SET actor_label = 'forged' WHERE id = :id", id=line)
    assert db.session.get(AuditEvent, line).actor_label == "cli:test"


def test_delete_of_a_past_line_is_refused_by_the_database(app):
    line = _lines(2)[0]
    with pytest.raises(DBAPIError, match="append-only"):
        _raw("DELETE FROM audit_event WHERE id = :id", id=line)
    with pytest.raises(DBAPIError, match="append-only"):
        _raw("DELETE FROM audit_event")
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 2


def test_truncate_is_refused_on_postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (a DELETE without WHERE is refused above)")
    _lines(1)
    with pytest.raises(DBAPIError, match="append-only"):
        _raw("TRUNCATE audit_event")
    # the owner's session setting alone lets nothing go: only lines behind a checkpoint
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(f"SET LOCAL {audit_chain.PRUNE_SETTING} = 'on'"))
        conn.execute(text("DELETE FROM audit_event"))
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 1


def test_checkpoints_cannot_be_changed_or_deleted(app):
    _lines(3)
    db.session.commit()
    with db.engine.begin() as conn:
        audit_chain.prune(conn, datetime(2999, 1, 1, tzinfo=UTC), app.config["SECRET_KEY"])
    for sql in ("UPDATE audit_checkpoint SET through_seq = 1", "DELETE FROM audit_checkpoint"):
        with pytest.raises(DBAPIError, match="append-only"):
            _raw(sql)


def test_inserting_stays_possible_for_a_restore(app):
    """A restore loads old lines, their chain columns with them: INSERT is never refused."""
    _raw(
        "INSERT INTO audit_event (occurred_at, actor_label, action, entity)"
        " VALUES (:at, 'restore', 'create', 'project')",
        at=datetime.now(UTC),
    )
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 1


# --- the chain ------------------------------------------------------------------------


def test_every_committed_line_is_sealed_in_order(app, runner):
    ids = _lines(3)
    audit.record_now("view", "participant", 7)
    ids += [db.session.scalar(select(func.max(AuditEvent.id)))]
    rows = db.session.execute(
        select(AuditEvent.id, AuditEvent.chain_seq, AuditEvent.row_hash).order_by(AuditEvent.id)
    ).all()
    assert [r.id for r in rows] == ids
    assert [r.chain_seq for r in rows] == [1, 2, 3, 4]
    assert all(len(r.row_hash) == 64 for r in rows)
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "intact: 4 lines" in result.output
    assert rows[-1].row_hash in result.output


def test_the_hash_covers_every_column_in_its_documented_form(app):
    """Recomputed by hand from the documented canonical form, not with the app's function."""
    import hashlib
    import json

    line = AuditEvent(
        actor_label="cli:é",
        action="update",
        entity="partner",
        entity_id=3,
        changes={"name": ["a", "b"], "acronym": [None, "X"]},
        remote_addr="10.0.0.1",
        occurred_at=datetime(2020, 5, 1, 12, 30, 5, 123, tzinfo=UTC),
    )
    db.session.add(line)
    db.session.commit()
    canonical = (
        '{"action":"update","actor_label":"cli:\\u00e9","chain_seq":1,'
        '"changes":{"acronym":[null,"X"],"name":["a","b"]},"entity":"partner",'
        f'"entity_id":3,"id":{line.id},"occurred_at":"2020-05-01T12:30:05.000123Z",'
        '"remote_addr":"10.0.0.1"}'
    )
    assert json.loads(canonical)  # the text is JSON
    expected = hashlib.sha256(f"{'0' * 64}\n{canonical}".encode()).hexdigest()
    assert db.session.get(AuditEvent, line.id).row_hash == expected


def test_a_line_completed_before_its_commit_is_sealed_as_completed(app, runner):
    event = audit.record(db.session, "import", "participants", None, {})
    db.session.flush()
    event.changes = {"rows": 3}
    db.session.commit()
    assert _verify(runner).exit_code == 0


def test_a_line_altered_behind_the_triggers_back_is_found(app, runner):
    ids = _lines(5)
    _drop_triggers()  # as the owner of the tables could
    _raw("UPDATE audit_event SET actor_label = 'someone else' WHERE id = :id", id=ids[2])
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"broken at line {ids[2]}:" in result.output
    assert "no longer matches" in result.output


def test_a_changed_json_or_time_is_found_too(app, runner):
    ids = _lines(2)
    _drop_triggers()
    _raw(
        "UPDATE audit_event SET occurred_at = :at WHERE id = :id",
        at=datetime(2001, 1, 1, tzinfo=UTC),
        id=ids[1],
    )
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"broken at line {ids[1]}:" in result.output


def test_a_removed_line_is_found_at_the_next_one(app, runner):
    ids = _lines(5)
    _drop_triggers()
    _raw("DELETE FROM audit_event WHERE id = :id", id=ids[1])
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"broken at line {ids[2]}:" in result.output
    assert "removed" in result.output


def test_removing_the_first_lines_is_found(app, runner):
    ids = _lines(3)
    _drop_triggers()
    _raw("DELETE FROM audit_event WHERE id = :id", id=ids[0])
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"broken at line {ids[1]}:" in result.output


def test_a_line_rehashed_alone_breaks_the_next(app, runner):
    """Recomputing the altered line's own hash is not enough: the next line names the old one."""
    ids = _lines(3)
    _drop_triggers()
    with db.engine.begin() as conn:
        row = conn.execute(select(AuditEvent.__table__).where(AuditEvent.id == ids[0])).one()
        values = {**row._asdict(), "actor_label": "forged"}
        digest = audit_chain.line_hash(audit_chain.GENESIS, values)
        conn.execute(
            text("UPDATE audit_event SET actor_label = 'forged', row_hash = :h WHERE id = :id"),
            {"h": digest, "id": ids[0]},
        )
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"broken at line {ids[1]}:" in result.output


def test_a_line_slipped_in_outside_the_chain_is_found(app, runner):
    _lines(2)
    _drop_triggers()
    _raw(
        "INSERT INTO audit_event (occurred_at, actor_label, action, entity)"
        " VALUES (:at, 'forged', 'login', 'user')",
        at=datetime.now(UTC),
    )
    forged = db.session.scalar(select(func.max(AuditEvent.id)))
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"broken at line {forged}:" in result.output


def test_two_transactions_committing_at_once_do_not_fork_the_chain(app, runner):
    """Each thread holds lines, waits for the other, then both commit at the same time."""
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []
    rounds = 10

    def write(label: str) -> None:
        try:
            with app.app_context():
                for n in range(rounds):
                    with Session(db.engine) as session:
                        session.add_all(
                            AuditEvent(actor_label=label, action="view", entity="x", entity_id=n)
                            for _ in range(3)
                        )
                        if db.engine.dialect.name == "postgresql":
                            # PostgreSQL: both hold uncommitted lines before either commits
                            session.flush()
                        barrier.wait()
                        session.commit()
        except BaseException as error:  # reported below with the thread's name
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=write, args=(f"t{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    seqs = db.session.scalars(select(AuditEvent.chain_seq).order_by(AuditEvent.chain_seq)).all()
    assert seqs == list(range(1, 2 * rounds * 3 + 1))
    assert _verify(runner).exit_code == 0


# --- retention ------------------------------------------------------------------------


def _dated_lines(days: list[date]) -> list[int]:
    events = [
        AuditEvent(
            actor_label="cli:test",
            action="view",
            entity="participant",
            occurred_at=datetime(d.year, d.month, d.day, 9, tzinfo=UTC),
        )
        for d in days
    ]
    db.session.add_all(events)
    db.session.flush()
    ids = [e.id for e in events]
    db.session.commit()
    return ids


def _prune(runner, before: str, *extra: str):
    db.session.commit()  # the test's role owns the tables, as the command's must
    return runner.invoke(args=["audit", "prune", "--before", before, *extra])


def test_prune_deletes_the_oldest_lines_behind_a_signed_checkpoint(app, runner):
    ids = _dated_lines([date(2015, 1, 1), date(2015, 6, 1), date(2020, 1, 1), date(2021, 1, 1)])
    told = _prune(runner, "2016-01-01")
    assert told.exit_code == 0, told.output
    assert "2 audit line(s)" in told.output
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 4  # nothing without --yes
    done = _prune(runner, "2016-01-01", "--yes")
    assert done.exit_code == 0, done.output
    kept = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
    assert kept[:2] == ids[2:]
    # the deletion itself is a line of the log, chained after the rest
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (last.action, last.changes["deleted"], last.changes["through_line"]) == (
        "prune",
        2,
        ids[1],
    )
    checkpoint = db.session.scalars(select(AuditCheckpoint)).one()
    assert (checkpoint.through_id, checkpoint.lines_deleted) == (ids[1], 2)
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    # the first line kept, altered behind the triggers' back, is still found
    _drop_triggers()
    _raw("UPDATE audit_event SET entity = 'user' WHERE id = :id", id=ids[2])
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"broken at line {ids[2]}:" in result.output


def test_a_checkpoint_made_without_the_secret_key_is_found(app, runner):
    ids = _dated_lines([date(2015, 1, 1), date(2015, 6, 1), date(2020, 1, 1)])
    db.session.commit()
    with db.engine.begin() as conn:
        audit_chain.prune(conn, datetime(2016, 1, 1, tzinfo=UTC), "not the app's secret key")
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"broken at line {ids[1]}:" in result.output
    assert "not signed" in result.output


def test_lines_no_checkpoint_covers_stay_undeletable(app):
    ids = _dated_lines([date(2015, 1, 1), date(2020, 1, 1)])
    db.session.commit()
    with db.engine.begin() as conn:
        audit_chain.prune(conn, datetime(2016, 1, 1, tzinfo=UTC), app.config["SECRET_KEY"])
    with pytest.raises(DBAPIError, match="append-only"):
        _raw("DELETE FROM audit_event WHERE id = :id", id=ids[1])


def test_prune_refuses_a_broken_chain_and_deletes_nothing(app, runner):
    ids = _dated_lines([date(2015, 1, 1), date(2015, 2, 1), date(2020, 1, 1)])
    _drop_triggers()
    _raw("UPDATE audit_event SET action = 'login' WHERE id = :id", id=ids[0])
    with db.engine.begin() as conn:
        audit_chain.create_triggers(conn)
    result = _prune(runner, "2016-01-01", "--yes")
    assert result.exit_code == 1
    assert f"broken at line {ids[0]}" in result.output
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 3


# --- migration ------------------------------------------------------------------------


def test_the_migration_chains_the_lines_already_there(app, runner):
    db.drop_all()
    upgrade(revision="ca7a1e9e0b01")
    for n in range(3):
        _raw(
            "INSERT INTO audit_event (occurred_at, actor_label, action, entity, entity_id,"
            " changes) VALUES (:at, 'old', 'update', 'partner', :n, :changes)",
            at=datetime(2016, 1, 1 + n, tzinfo=UTC),
            n=n,
            changes='{"name": ["a", "b"]}',
        )
    upgrade()
    seqs = db.session.scalars(select(AuditEvent.chain_seq).order_by(AuditEvent.id)).all()
    assert seqs == [1, 2, 3]
    assert _verify(runner).exit_code == 0
    first = db.session.scalar(select(func.min(AuditEvent.id)))
    with pytest.raises(DBAPIError, match="append-only"):
        _raw("UPDATE audit_event SET action = 'login' WHERE id = :id", id=first)
    db.session.commit()
    downgrade(revision="ca7a1e9e0b01")
    _raw("UPDATE audit_event SET action = 'login' WHERE id = :id", id=first)
