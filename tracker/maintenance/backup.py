"""Consistent copies of the SQLite database while the app runs, and checked restores.

SQLite's online backup API copies the database as of one read transaction: in
WAL mode readers never block writers, so the app keeps serving while the copy is
made, and rows committed after the copy began are simply not in it. A restore
first copies and checks the candidate file (integrity, this app's tables, its
migration revision); only a file that passes replaces the live database, and the
replaced one is kept beside it. PostgreSQL has its own tools (pg_dump,
pg_restore); the commands say how to use them instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from tracker.database import BUSY_TIMEOUT_MS

SQLITE_HEADER = b"SQLite format 3\x00"
#: tables every version of the schema has: a file without them is another app's
CORE_TABLES = frozenset({"project", "participant", "user", "audit_event"})


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    size: int
    sha256: str
    revision: str | None
    participants: int


@dataclass(frozen=True)
class Candidate:
    """A file that passed the checks, copied to ``staged`` beside the live database."""

    source: Path
    staged: Path
    sha256: str
    revision: str
    upgrade_needed: bool
    participants: int


def sqlite_path(url: str | URL) -> Path | None:
    """Return the file of an SQLite database URL, or None for another engine."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:" or url.database.startswith("file::memory"):
        raise BackupError("the database is in memory: there is no file to copy or replace")
    return Path(url.database).resolve()


def _pg_url(url: str | URL) -> str:
    """The URL for libpq tools: no driver name, no password (use ~/.pgpass or PGPASSWORD)."""
    url = make_url(url)
    bare = URL.create(
        "postgresql", username=url.username, host=url.host, port=url.port, database=url.database
    )
    return bare.render_as_string(hide_password=False)


def pg_dump_advice(url: str | URL) -> str:
    return (
        "this database is PostgreSQL, which the backup command does not copy. Use pg_dump"
        " (consistent while the app runs), and keep the file readable by you only:\n"
        f"  (umask 077 && pg_dump --format=custom --file=FILE.dump '{_pg_url(url)}')"
    )


def pg_restore_advice(url: str | URL) -> str:
    return (
        "this database is PostgreSQL, which the restore command does not replace. Check the"
        " dump first (pg_restore --list FILE.dump), stop the app, then:\n"
        f"  pg_restore --clean --if-exists --no-owner --dbname='{_pg_url(url)}' FILE.dump\n"
        "and run `flask --app tracker db upgrade` if the dump is from an older version."
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    # mode=rw / ro: never create a database where none is
    mode = "ro" if read_only else "rw"
    return sqlite3.connect(
        f"file:{path}?mode={mode}", uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
    )


@contextlib.contextmanager
def _new_private_file(folder: Path, prefix: str) -> Iterator[Path]:
    """Yield a new empty file in ``folder``, mode 0600 (it holds personal data).

    The file is removed if the block fails.
    """
    fd, name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".part")
    os.close(fd)
    path = Path(name)
    try:
        yield path
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """Copy ``source`` into the file ``target`` in one step, as one self-contained file."""
    destination = sqlite3.connect(target, isolation_level=None)
    try:
        # one step (pages=-1): the copy is one read transaction, so it is consistent
        source.backup(destination)
        destination.execute("PRAGMA journal_mode=DELETE")
    finally:
        destination.close()


def _integrity_problems(connection: sqlite3.Connection) -> list[str]:
    rows = [row[0] for row in connection.execute("PRAGMA integrity_check(20)")]
    return [] if rows == ["ok"] else rows


def _tables(connection: sqlite3.Connection) -> set[str]:
    return {
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }


def _revision(connection: sqlite3.Connection) -> str | None:
    if "alembic_version" not in _tables(connection):
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _participants(connection: sqlite3.Connection) -> int:
    if "participant" not in _tables(connection):
        return 0
    return connection.execute("SELECT count(*) FROM participant").fetchone()[0]


def backup(live: Path, out: Path, *, overwrite: bool = False) -> BackupFile:
    """Copy the live database ``live`` to ``out`` (mode 0600), checked, while the app runs."""
    if not live.is_file():
        raise BackupError(f"there is no database at {live}")
    if out.resolve() == live:
        raise BackupError(f"{out} is the live database itself; choose another file")
    if not out.parent.is_dir():
        raise BackupError(f"cannot write {out}: the folder {out.parent} does not exist")
    if out.exists() and not overwrite:
        raise BackupError(f"{out} already exists; choose another name or add --overwrite")
    with _new_private_file(out.parent, f".{out.name}.") as part:
        source = _connect(live)
        try:
            _copy(source, part)
        except sqlite3.Error as error:
            raise BackupError(f"cannot copy {live}: {error}") from error
        finally:
            source.close()
        copy = _connect(part, read_only=True)
        try:
            problems = _integrity_problems(copy)
            if problems:
                raise BackupError(f"the copy fails the integrity check: {'; '.join(problems)}")
            revision, participants = _revision(copy), _participants(copy)
        finally:
            copy.close()
        with part.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(part, 0o600)
        os.replace(part, out)
    return BackupFile(out, out.stat().st_size, _sha256(out), revision, participants)


def check_candidate(
    path: Path, live: Path, *, head: str, known_revisions: list[str], tables: set[str]
) -> Candidate:
    """Copy ``path`` beside ``live`` and check it is a sound database of this app.

    Nothing is replaced here. ``known_revisions`` lists the migrations of this
    version of the app, newest first; ``tables`` the tables of the current schema.
    Raises BackupError naming what is wrong; the staged copy is then removed.
    """
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    if path.resolve() == live:
        raise BackupError(f"{path} is the live database itself")
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path} is not an SQLite database")
    with _new_private_file(live.parent, f".{live.name}.restore-") as staged:
        try:
            source = _connect(path.resolve(), read_only=True)
            try:
                _copy(source, staged)
            finally:
                source.close()
        except sqlite3.Error as error:
            raise BackupError(f"{path} cannot be read as an SQLite database: {error}") from error
        copy = _connect(staged, read_only=True)
        try:
            try:
                problems = _integrity_problems(copy)
            except sqlite3.DatabaseError as error:
                problems = [str(error)]
            if problems:
                raise BackupError(
                    f"{path} fails the integrity check ({'; '.join(problems[:3])}): it is damaged"
                )
            present = _tables(copy)
            revision = _revision(copy)
            participants = _participants(copy)
        finally:
            copy.close()
        if revision is None:
            raise BackupError(f"{path} is not a database of this app (no migration revision)")
        if revision not in known_revisions:
            raise BackupError(
                f"{path} is at revision {revision}, which this version of the app does not know:"
                " it comes from another app or a newer version"
            )
        expected = tables if revision == head else CORE_TABLES
        missing = sorted(expected - present)
        if missing:
            raise BackupError(
                f"{path} is not a database of this app: it lacks the tables {', '.join(missing)}"
            )
        return Candidate(
            source=path,
            staged=staged,
            sha256=_sha256(path),
            revision=revision,
            upgrade_needed=revision != head,
            participants=participants,
        )


def kept_copy_name(live: Path, now: datetime | None = None) -> Path:
    """Return where the replaced database is kept: beside it, with the time in its name."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return live.with_name(f"{live.stem}.replaced-{stamp}{live.suffix}")


def live_participants(live: Path) -> int:
    connection = _connect(live, read_only=True)
    try:
        return _participants(connection)
    finally:
        connection.close()


def restore(candidate: Candidate, live: Path, *, now: datetime | None = None) -> Path:
    """Replace the live database with the checked candidate; return the kept old one.

    The old database is first copied (consistently, mode 0600) beside it. The
    candidate is then written into the live file through SQLite itself, so the
    app's open connections see the restored data rather than a file swapped under
    them. Changes the app makes between the two steps are lost: stop it first.
    """
    kept = backup(live, kept_copy_name(live, now))
    try:
        source = _connect(candidate.staged, read_only=True)
        target = _connect(live)
        try:
            source.backup(target)
            problems = _integrity_problems(target)
        finally:
            source.close()
            target.close()
    except sqlite3.Error as error:
        raise BackupError(
            f"the restore failed ({error}); the database was not replaced, and a copy of it"
            f" is at {kept.path}"
        ) from error
    if problems:
        raise BackupError(
            f"the restored database fails the integrity check ({'; '.join(problems[:3])});"
            f" the database before the restore is kept at {kept.path}"
        )
    candidate.staged.unlink(missing_ok=True)
    return kept.path


def discard(candidate: Candidate) -> None:
    """Remove the staged copy of a candidate that will not be restored."""
    candidate.staged.unlink(missing_ok=True)
