"""Dashboards already computed, handed out again while the data they count is unchanged.

At 100,000 participants the live figures cost seconds (docs/performance.md), so a
dashboard is kept once computed, and handed out again only while the data it
counts has not changed. Every change of a record writes an audit line in the
same transaction (the flush hook, or the bulk paths' own lines), so "nothing
changed" is: no audit line other than a read since the one that was the last
when the dashboard was computed. Checking that costs two small queries on the
audit log's primary key, and the figures shown are never older than the data.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale
from sqlalchemy import literal_column, select

from tracker import indicators
from tracker.dashboard import services
from tracker.extensions import db
from tracker.models import AuditEvent, Project

#: audit actions that change no record (reads, sign-ins, exports)
READ_ONLY_ACTIONS = ("view", "login", "login_failed", "logout", "export")
#: dashboards (and filter choices) kept per process; a few kilobytes each
CACHE_SIZE = 64


@dataclass
class _Kept:
    value: Any
    #: the last audit line known to have no change after it but this dashboard's data
    checked_id: int
    #: when that line was written: a database restored from a backup reuses ids
    checked_at: Any


_kept: OrderedDict[tuple, _Kept] = OrderedDict()
_kept_lock = threading.Lock()


def clear_cache() -> None:
    """Forget everything kept by this process (the next views compute live)."""
    with _kept_lock:
        _kept.clear()


def _audit_head() -> tuple[int, Any, bool]:
    """Return (id and time of the last audit line, whether every writer has finished).

    On PostgreSQL an audit id is taken when the row is inserted, not when it
    commits, so a line with a lower id than the last one seen may still be on
    its way: a dashboard is then not kept, and a kept one is not vouched for
    beyond the lines seen. One statement reads both, so both come from the same
    snapshot (under READ COMMITTED each statement has its own). Only this
    database's writers count (``pg_stat_activity``), not the whole server's. SQLite has one
    writer at a time, so its ids commit in order.
    """
    last = (
        select(AuditEvent.id, AuditEvent.occurred_at)
        .order_by(AuditEvent.id.desc())
        .limit(1)
        .subquery()
    )
    columns = [select(last.c.id).scalar_subquery(), select(last.c.occurred_at).scalar_subquery()]
    if db.engine.dialect.name == "postgresql":
        # writing transactions of this database only: another database of the same
        # server (a second application, a benchmark) must not keep dashboards from
        # being kept; backend_xid is set once a transaction has written
        columns.append(
            literal_column(
                "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_xid IS NOT NULL AND pid <> pg_backend_pid())"
            )
        )
    head_id, head_at, *writers = db.session.execute(select(*columns)).one()
    return head_id or 0, head_at, not any(writers)


def _unchanged_since(entry: _Kept, head_id: int) -> bool:
    """Say whether no record changed between the entry's last check and ``head_id``."""
    if head_id < entry.checked_id:
        return False  # the audit log went back: another database (a restore)
    if entry.checked_id:
        at = db.session.scalar(
            select(AuditEvent.occurred_at).where(AuditEvent.id == entry.checked_id)
        )
        if at != entry.checked_at:
            return False
    if head_id == entry.checked_id:
        return True
    change = db.session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.id > entry.checked_id,
            AuditEvent.id <= head_id,
            AuditEvent.action.not_in(READ_ONLY_ACTIONS),
        )
        .limit(1)
    )
    return change is None


def kept(key: tuple, compute: Callable[[], Any]) -> Any:
    """Return what ``compute()`` returns, computed again only if a record changed since.

    ``key`` names what is computed and everything it depends on besides the
    records (scope, language…); the database's URL is added to it.
    """
    key = (str(db.engine.url), *key)
    head_id, head_at, settled = _audit_head()
    with _kept_lock:
        entry = _kept.get(key)
    if entry is not None and _unchanged_since(entry, head_id):
        if settled:
            entry.checked_id, entry.checked_at = head_id, head_at
        with _kept_lock:
            if key in _kept:
                _kept.move_to_end(key)
        return entry.value
    value = compute()
    if settled:
        with _kept_lock:
            _kept[key] = _Kept(value, head_id, head_at)
            _kept.move_to_end(key)
            while len(_kept) > CACHE_SIZE:
                _kept.popitem(last=False)
    return value


def cached_build(
    scope: indicators.Scope, projects: list[Project], grain: str = "quarter"
) -> services.Dashboard:
    """Return ``services.build(scope, projects, grain)``, computed again only after a change."""
    key = ("dashboard", scope, tuple(p.id for p in projects), grain, str(get_locale()))
    return kept(key, lambda: services.build(scope, projects, grain))


def cached_filter_choices(
    project_ids: list[int],
) -> tuple[list[tuple[int, str | None, str]], list[str]]:
    """Return ``services.filter_choices(project_ids)``, read again only if a record changed.

    The regions are read from every participant: kept like the dashboards.
    """
    return kept(("filters", tuple(project_ids)), lambda: services.filter_choices(project_ids))
