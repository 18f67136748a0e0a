"""The audit log made tamper-evident: a hash chain, database triggers, signed checkpoints.

Each line of ``audit_event`` carries ``chain_seq`` (its place in the chain: 1, 2, 3…)
and ``row_hash``, the SHA-256 of the previous line's hash and of every other column of
the line, in this canonical form (``canonical_line``)::

    row_hash = sha256(utf8(previous_hash + "\\n" + canonical_json))

- ``previous_hash`` is the ``row_hash`` of the line numbered ``chain_seq - 1``, or, for
  the first line left after a retention, the ``through_hash`` of the checkpoint made
  then; for line 1 it is 64 zeros (``GENESIS``);
- ``canonical_json`` is the JSON object of the line's columns, ``row_hash`` excepted,
  whose value is not NULL: keys sorted, no spaces (separators ``,`` and ``:``), non-ASCII
  characters escaped as ``\\u`` and four hex digits (``json.dumps``' default);
  ``occurred_at`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``;
  ``changes`` as the JSON it holds (keys sorted at every level). A column added later
  is NULL on older lines and so leaves their hash unchanged.

A line is *sealed* (given its number and hash) when its transaction commits
(``seal``), not when it is inserted: a line may be completed before its transaction
commits (an import writes its totals at the end), and lines are numbered in the order
their transactions commit. On PostgreSQL the sealing takes a transaction-level advisory
lock, so two transactions committing at once are chained one after the other, never
both after the same line (and a unique index on ``chain_seq`` would refuse a fork
anyway); it is held only while committing. SQLite has one writer at a time.

Triggers (``TRIGGERS``) refuse, for every role, the table owner included: an UPDATE
of a sealed line, a DELETE of a line that no checkpoint covers (on PostgreSQL also
without the session setting ``tracker.audit_prune = 'on'``) and a TRUNCATE; and any
change or deletion of a checkpoint. They raise an error, never skip the change
silently. Someone who drops them (the owner can) and edits a line is found by
``verify``: the line's hash no longer matches, or the next line's number does not
follow.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    event,
    func,
    insert,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import ORMExecuteState, Session

from tracker.models import AuditCheckpoint, AuditEvent

GENESIS = "0" * 64
#: lines read at a time by ``verify`` and ``seal``: memory stays bounded
BATCH = 2000
#: key of the PostgreSQL advisory lock that serialises sealing (any constant bigint)
LOCK_KEY = 0x7472616B5F61756E  # "trak_aun"
#: the PostgreSQL session setting that lets a retention delete checkpointed lines
PRUNE_SETTING = "tracker.audit_prune"

EVENTS = AuditEvent.__table__
CHECKPOINTS = AuditCheckpoint.__table__
TABLES = ("audit_event", "audit_checkpoint")
#: session.info key: this transaction may hold lines still to seal
_UNSEALED = "audit_unsealed"


# --- the canonical form -------------------------------------------------------------


def _utc_text(moment: datetime) -> str:
    # SQLite gives back UTC times without their zone
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc_text(value)
    return value


def canonical_line(row: dict[str, Any]) -> str:
    """Return the canonical JSON of a line: every column but ``row_hash`` that is not NULL."""
    values = {k: _plain(v) for k, v in row.items() if k != "row_hash" and v is not None}
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def line_hash(previous: str, row: dict[str, Any]) -> str:
    """Return the hash of a line chained to ``previous`` (the previous line's hash)."""
    return hashlib.sha256(f"{previous}\n{canonical_line(row)}".encode()).hexdigest()


def checkpoint_signature(
    through_seq: int, through_id: int, through_hash: str, key: str | bytes
) -> str:
    """Return the HMAC-SHA256 (hex) of a checkpoint with ``key`` (the app's secret key)."""
    key = key if isinstance(key, bytes) else str(key).encode()
    message = f"audit-checkpoint\n{through_seq}\n{through_id}\n{through_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _secret_keys() -> list[str]:
    config = current_app.config
    return [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or [])]


def _signed(checkpoint: Any) -> bool:
    return any(
        hmac.compare_digest(
            checkpoint.signature,
            checkpoint_signature(
                checkpoint.through_seq, checkpoint.through_id, checkpoint.through_hash, key
            ),
        )
        for key in _secret_keys()
    )


# --- sealing ------------------------------------------------------------------------


def _head(conn: Connection) -> tuple[int, str]:
    """Return the number and hash of the last sealed line (or of the latest checkpoint)."""
    last = conn.execute(
        select(EVENTS.c.chain_seq, EVENTS.c.row_hash)
        .where(EVENTS.c.chain_seq.is_not(None))
        .order_by(EVENTS.c.chain_seq.desc())
        .limit(1)
    ).first()
    checkpoint = conn.execute(
        select(CHECKPOINTS.c.through_seq, CHECKPOINTS.c.through_hash)
        .order_by(CHECKPOINTS.c.through_seq.desc())
        .limit(1)
    ).first()
    candidates = [tuple(r) for r in (last, checkpoint) if r is not None]
    return max(candidates, default=(0, GENESIS))


def seal(conn: Connection) -> int:
    """Number and hash the lines not sealed yet, in id order; return how many.

    Run inside the transaction that wrote them, just before it commits.
    """
    if conn.dialect.name == "postgresql":
        # held until this transaction ends: the next one reads the head we write
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    seq, previous = _head(conn)
    sealed = 0
    columns = [c for c in EVENTS.c if c.name != "row_hash"]
    set_chain = (
        update(EVENTS)
        .where(EVENTS.c.id == bindparam("line_id"))
        .values(chain_seq=bindparam("seq"), row_hash=bindparam("digest"))
    )
    while True:
        rows = conn.execute(
            select(*columns).where(EVENTS.c.row_hash.is_(None)).order_by(EVENTS.c.id).limit(BATCH)
        ).all()
        if not rows:
            return sealed
        changes = []
        for row in rows:
            seq += 1
            values = {**row._asdict(), "chain_seq": seq}
            previous = line_hash(previous, values)
            changes.append({"line_id": row.id, "seq": seq, "digest": previous})
        conn.execute(set_chain, changes)
        sealed += len(changes)


def _seal_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    # the commit flushes after this hook, and the flush hook adds the audit lines of a
    # flush to the next one: flush until clean, as the commit would, then seal
    for _ in range(100):
        if session._is_clean():
            break
        session.flush()
    if not session.info.get(_UNSEALED):
        return
    seal(session.connection())
    session.info.pop(_UNSEALED, None)


def _note_new_lines(session: Session, _context, _instances) -> None:
    if any(isinstance(obj, AuditEvent) for obj in session.new):
        session.info[_UNSEALED] = True


def _note_bulk_insert(state: ORMExecuteState) -> None:
    if state.is_insert and getattr(state.statement, "table", None) is EVENTS:
        state.session.info[_UNSEALED] = True


def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_UNSEALED, None)


def install_session_hooks() -> None:
    """Seal the audit lines of every session's transaction as it commits (all sessions)."""
    for name, hook in (
        ("before_flush", _note_new_lines),
        ("before_commit", _seal_before_commit),
        ("after_transaction_end", _forget),
        ("do_orm_execute", _note_bulk_insert),
    ):
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)


# --- verifying ----------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What ``verify`` found: ``broken_at`` is the id of the first line altered or removed."""

    lines: int
    broken_at: int | None = None
    reason: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS

    @property
    def intact(self) -> bool:
        return self.broken_at is None and not self.reason


def _walk(conn: Connection) -> Iterator[dict[str, Any]]:
    """Yield the sealed lines in chain order, ``BATCH`` at a time (keyset pagination)."""
    last = 0
    while True:
        rows = conn.execute(
            select(EVENTS)
            .where(EVENTS.c.chain_seq > last)
            .order_by(EVENTS.c.chain_seq)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            yield row._asdict()
        last = rows[-1].chain_seq


def verify(conn: Connection) -> Verdict:
    """Walk the chain from its start (or its latest checkpoint) and recompute every hash."""
    checkpoints = {}
    for cp in conn.execute(select(CHECKPOINTS).order_by(CHECKPOINTS.c.through_seq)):
        if not _signed(cp):
            return Verdict(
                0,
                cp.through_id,
                f"checkpoint {cp.id} (through line {cp.through_id}) is not signed"
                " with this secret key",
            )
        checkpoints[cp.through_seq] = cp
    lines = 0
    expected: int | None = None
    previous = GENESIS
    for row in _walk(conn):
        seq = row["chain_seq"]
        if expected is None:
            if seq == 1:
                previous = GENESIS
            elif seq - 1 in checkpoints:
                previous = checkpoints[seq - 1].through_hash
            else:
                return Verdict(lines, row["id"], "the lines before it were removed")
        elif seq != expected:
            return Verdict(lines, row["id"], "the line before it in the chain was removed")
        if line_hash(previous, row) != row["row_hash"]:
            return Verdict(lines, row["id"], "its content no longer matches its hash")
        cp = checkpoints.get(seq)
        if cp is not None and cp.through_hash != row["row_hash"]:
            return Verdict(lines, row["id"], f"checkpoint {cp.id} does not match this line")
        previous = row["row_hash"]
        expected = seq + 1
        lines += 1
    last_cp = max(checkpoints, default=0)
    if expected is not None and last_cp >= expected:
        return Verdict(lines, checkpoints[last_cp].through_id, "lines after it were removed")
    outside = conn.scalar(
        select(func.min(EVENTS.c.id)).where(
            (EVENTS.c.chain_seq.is_(None)) | (EVENTS.c.row_hash.is_(None))
        )
    )
    if outside is not None:
        return Verdict(lines, outside, "a line outside the chain (never sealed)")
    if expected is None:
        return Verdict(0, head_seq=last_cp, head_hash=_cp_hash(checkpoints, last_cp))
    return Verdict(lines, head_seq=expected - 1, head_hash=previous)


def _cp_hash(checkpoints: dict, seq: int) -> str:
    return checkpoints[seq].through_hash if seq in checkpoints else GENESIS


# --- retention ----------------------------------------------------------------------


def _prefix_before(conn: Connection, before: datetime):
    """Return (number, id, hash) of the last line of the chain's prefix written before."""
    first_kept = conn.scalar(
        select(func.min(EVENTS.c.chain_seq)).where(EVENTS.c.occurred_at >= before)
    )
    return conn.execute(
        select(EVENTS.c.chain_seq, EVENTS.c.id, EVENTS.c.row_hash)
        .where(EVENTS.c.chain_seq.is_not(None))
        .where(EVENTS.c.chain_seq < first_kept if first_kept is not None else true())
        .order_by(EVENTS.c.chain_seq.desc())
        .limit(1)
    ).first()


def count_before(conn: Connection, before: datetime) -> int:
    """Return how many lines ``prune`` would delete."""
    through = _prefix_before(conn, before)
    if through is None:
        return 0
    return conn.scalar(select(func.count()).where(EVENTS.c.chain_seq <= through.chain_seq))


def prune(conn: Connection, before: datetime, key: str) -> tuple[int, AuditCheckpoint | None]:
    """Delete the oldest lines, up to the last one before ``before``, behind a checkpoint.

    Only a prefix of the chain is deleted (lines are kept from the first one at or
    after ``before``), after the whole chain was verified: evidence of tampering is
    never deleted. The checkpoint stores the hash of the last line deleted, signed
    with ``key``. Returns (lines deleted, the checkpoint's values) ; flushes nothing
    through the ORM, the caller commits.
    """
    verdict = verify(conn)
    if not verdict.intact:
        raise ValueError(
            f"the audit chain is broken at line {verdict.broken_at} ({verdict.reason});"
            " nothing was deleted"
        )
    through = _prefix_before(conn, before)
    if through is None:
        return 0, None
    doomed = EVENTS.c.chain_seq <= through.chain_seq
    values = {
        "through_seq": through.chain_seq,
        "through_id": through.id,
        "through_hash": through.row_hash,
        "lines_deleted": conn.scalar(select(func.count()).where(doomed)),
        "signature": checkpoint_signature(through.chain_seq, through.id, through.row_hash, key),
    }
    # the checkpoint first: the triggers let a line go only when one covers it
    conn.execute(insert(CHECKPOINTS).values(created_at=datetime.now(UTC), **values))
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SET LOCAL {PRUNE_SETTING} = 'on'"))
    deleted = conn.execute(delete(EVENTS).where(doomed)).rowcount
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SET LOCAL {PRUNE_SETTING} = 'off'"))
    return deleted, AuditCheckpoint(**values)


# --- the triggers -------------------------------------------------------------------

_SQLITE = {
    "audit_event": [
        """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event
        WHEN OLD.row_hash IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: a sealed line cannot be changed');
        END""",
        """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event
        WHEN NOT EXISTS (
            SELECT 1 FROM audit_checkpoint WHERE audit_checkpoint.through_seq >= OLD.chain_seq
        )
        BEGIN SELECT RAISE(ABORT,
            'audit_event is append-only: a line no checkpoint covers cannot be deleted');
        END""",
    ],
    "audit_checkpoint": [
        """CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_update
        BEFORE UPDATE ON audit_checkpoint
        BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END""",
        """CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_delete
        BEFORE DELETE ON audit_checkpoint
        BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END""",
    ],
}

_POSTGRESQL = {
    "audit_event": [
        """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                RAISE EXCEPTION 'audit_event is append-only: TRUNCATE refused'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF TG_OP = 'UPDATE' AND OLD.row_hash IS NULL THEN
                RETURN NEW;  -- not sealed yet: its own transaction is completing it
            END IF;
            IF TG_OP = 'DELETE'
                AND current_setting('tracker.audit_prune', true) = 'on'
                AND EXISTS (
                    SELECT 1 FROM audit_checkpoint c WHERE c.through_seq >= OLD.chain_seq
                )
            THEN
                RETURN OLD;  -- a retention, behind a signed checkpoint
            END IF;
            RAISE EXCEPTION 'audit_event is append-only: % of line % refused', TG_OP, OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END $$""",
        "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
        """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
        "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
        """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
    ],
    "audit_checkpoint": [
        """CREATE OR REPLACE FUNCTION audit_checkpoint_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_checkpoint is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$""",
        "DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_checkpoint",
        """CREATE TRIGGER audit_checkpoint_append_only
        BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoint
        FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoint_append_only()""",
    ],
}

TRIGGERS = {"sqlite": _SQLITE, "postgresql": _POSTGRESQL}

DROP_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_event_no_update",
        "DROP TRIGGER IF EXISTS audit_event_no_delete",
        "DROP TRIGGER IF EXISTS audit_checkpoint_no_update",
        "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
        "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
        "DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_checkpoint",
        "DROP FUNCTION IF EXISTS audit_event_append_only()",
        "DROP FUNCTION IF EXISTS audit_checkpoint_append_only()",
    ],
}


def create_triggers(conn: Connection, tables: tuple[str, ...] = TABLES) -> None:
    """Create the append-only triggers of the dialect on ``tables``."""
    for table in tables:
        for statement in TRIGGERS.get(conn.dialect.name, {}).get(table, []):
            conn.execute(text(statement))


def drop_triggers(conn: Connection) -> None:
    """Drop the triggers (as the owner could): for the migration's downgrade and the tests."""
    for statement in DROP_TRIGGERS.get(conn.dialect.name, []):
        conn.execute(text(statement))


def _after_create(target, connection: Connection, **_kw) -> None:
    create_triggers(connection, (target.name,))


# ``create_all`` (tests, init-db) creates the triggers with the tables; the migration
# creates them for a database upgraded from an older schema
for _table in (EVENTS, CHECKPOINTS):
    if not event.contains(_table, "after_create", _after_create):
        event.listen(_table, "after_create", _after_create)
del _table
