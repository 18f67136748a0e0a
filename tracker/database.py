"""Engine set-up that the default SQLite deployment needs to be safe.

SQLite is opened with WAL (readers do not block the writer), a busy timeout,
foreign keys on and full synchronous writes. Every transaction starts with
``BEGIN IMMEDIATE``: a deferred transaction that reads, then writes after
another connection committed, fails at once with "database is locked" whatever
the busy timeout (SQLITE_BUSY_SNAPSHOT); taking the write lock up front makes
the second writer wait instead. Requests that change something (POST) and
commands are short, so serialising them costs little at the scale of a country
mission. GET requests only read, so they begin deferred and never wait for a
writer; a GET that must write (an audit line for a read) does it in a
transaction of its own that writes before it reads. A connection given the
execution option ``READ_ONLY`` (the export command's) begins deferred too: it
reads one snapshot for as long as it streams, and never holds up a writer.
"""

from __future__ import annotations

import os

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 15_000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: execution option of a connection that only reads (see the module's docstring)
READ_ONLY = "tracker_read_only"


def configure_engine(engine: Engine) -> None:
    """Install the SQLite pragmas and immediate transactions on ``engine``."""
    if engine.dialect.name != "sqlite" or event.contains(engine, "connect", _on_connect):
        return
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)


def _on_connect(dbapi_connection, _record) -> None:
    # let SQLAlchemy emit BEGIN itself (pysqlite otherwise defers it)
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    path = cursor.execute("PRAGMA database_list").fetchone()[2]
    if path:  # a file, not :memory:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        _owner_only(path)
    cursor.close()


def _owner_only(path: str) -> None:
    """Make the database and its WAL files readable by their owner only (personal data).

    SQLite creates them with the process umask, often 644: any account of the
    machine could copy every case file.
    """
    for name in (path, f"{path}-wal", f"{path}-shm"):
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except OSError:
            continue  # not there yet, or not ours to change


def _on_begin(connection) -> None:
    if connection.get_execution_options().get(READ_ONLY) or (
        has_request_context() and request.method in SAFE_METHODS
    ):
        # pages that only read run deferred, so they never wait for a writer (WAL)
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
