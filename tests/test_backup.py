"""`backup` makes a consistent copy while the app writes; `restore` checks before replacing."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_migrate import stamp
from sqlalchemy import func, select

from tracker import create_app
from tracker.extensions import db
from tracker.maintenance import backup as backups
from tracker.models import AuditEvent, Participant, Project


@pytest.fixture
def live(app) -> Path:
    """The app's SQLite file, stamped with the current migration like a real deployment."""
    path = backups.sqlite_path(db.engine.url) if db.engine.dialect.name == "sqlite" else None
    if path is None:
        pytest.skip("backup and restore copy SQLite databases")
    stamp()
    db.session.commit()
    return path


@pytest.fixture
def people(live, project, make_participant):
    names = ("Awa", "Fatou", "Mariam")
    made = [make_participant(project, given_name=name) for name in names]
    db.session.commit()
    return made


def _content(path: Path) -> str:
    """Every row of a database as SQL text (the WAL included): what "unchanged" means."""
    connection = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()
    finally:
        connection.close()


def _integrity(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()


def _count(path: Path, table: str) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    finally:
        connection.close()


def _add_raw_line(connection: sqlite3.Connection, label: str) -> None:
    connection.execute(
        "INSERT INTO audit_event (occurred_at, actor_label, action, entity)"
        " VALUES (?, ?, 'create', 'project')",
        (datetime.now(UTC).isoformat(), label),
    )


# --- backup ---------------------------------------------------------------------------


def test_backup_while_another_connection_holds_a_write_transaction(live, people, tmp_path):
    writer = sqlite3.connect(live, isolation_level=None, timeout=15)
    writer.execute("BEGIN IMMEDIATE")
    _add_raw_line(writer, "uncommitted")
    try:
        made = backups.backup(live, tmp_path / "copy.sqlite")
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert _integrity(made.path) == "ok"
    copy = sqlite3.connect(made.path)
    assert copy.execute("SELECT count(*) FROM participant").fetchone()[0] == 3
    labels = {row[0] for row in copy.execute("SELECT actor_label FROM audit_event")}
    copy.close()
    assert "uncommitted" not in labels
    assert made.participants == 3 and made.revision is not None


def test_backup_while_rows_are_written_holds_every_row_committed_before_it(live, tmp_path):
    stop = threading.Event()
    committed = []

    def write() -> None:
        connection = sqlite3.connect(live, isolation_level=None, timeout=15)
        n = 0
        while not stop.is_set() or n < 50:
            _add_raw_line(connection, f"w{n}")  # each row its own transaction
            committed.append(n)
            n += 1
        connection.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(committed) < 20:
            stop.wait(0.01)
        before = len(committed)
        made = backups.backup(live, tmp_path / "copy.sqlite")
    finally:
        stop.set()
        thread.join()
    assert _integrity(made.path) == "ok"
    copy = sqlite3.connect(made.path)
    ids = [row[0] for row in copy.execute("SELECT id FROM audit_event ORDER BY id")]
    written = [row[0] for row in copy.execute("SELECT actor_label FROM audit_event")]
    copy.close()
    # a snapshot: every row committed before the copy began, then an unbroken run
    assert sum(1 for label in written if label.startswith("w")) >= before
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert len(ids) <= _count(live, "audit_event")


def test_backup_command_writes_a_private_file_and_an_audit_line(runner, live, people, tmp_path):
    out = tmp_path / "backup.sqlite"
    result = runner.invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 participants" in result.output and "mode 0600" in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert _integrity(out) == "ok" and _count(out, "participant") == 3
    assert not list(tmp_path.glob(".backup.sqlite.*"))  # no temporary file left
    line = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "backup"))
    assert line.actor_label == "cli:backup" and line.entity == "database"
    assert line.changes["file"] == str(out.resolve())
    assert line.changes["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    db.session.commit()
    # an existing file is kept unless asked
    again = runner.invoke(args=["backup", "--out", str(out)])
    assert again.exit_code == 1 and "already exists" in again.output
    assert runner.invoke(args=["backup", "--out", str(out), "--overwrite"]).exit_code == 0


def test_backup_help_says_the_file_is_personal_data(runner):
    result = runner.invoke(args=["backup", "--help"])
    assert "personal data" in result.output and "0600" in result.output


# --- restore --------------------------------------------------------------------------


@pytest.fixture
def good_backup(runner, people, tmp_path) -> Path:
    out = tmp_path / "good.sqlite"
    assert runner.invoke(args=["backup", "--out", str(out)]).exit_code == 0
    return out


def _corrupt(source: Path, target: Path) -> Path:
    data = bytearray(source.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data), 3 * page):  # scribble over b-tree pages
        data[offset : offset + 200] = b"\xa5" * 200
    target.write_bytes(bytes(data))
    return target


def _other_app(target: Path) -> Path:
    connection = sqlite3.connect(target)
    connection.executescript(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY);"
        "INSERT INTO alembic_version VALUES ('0123abcd');"
        "CREATE TABLE invoice (id INTEGER PRIMARY KEY, total NUMERIC);"
    )
    connection.close()
    return target


def _plain_sqlite(target: Path) -> Path:
    connection = sqlite3.connect(target)
    connection.execute("CREATE TABLE invoice (id INTEGER PRIMARY KEY, total NUMERIC)")
    connection.close()
    return target


def _no_tables(target: Path, revision: str) -> Path:
    connection = sqlite3.connect(target)
    connection.executescript(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY);"
        f"INSERT INTO alembic_version VALUES ('{revision}');"
        "CREATE TABLE project (id INTEGER PRIMARY KEY);"
    )
    connection.close()
    return target


def _head() -> str:
    from tracker.maintenance.cli import _migrations

    return _migrations()[0]


@pytest.mark.parametrize(
    ("make_bad", "reason"),
    [
        (
            lambda good, d: (
                d.joinpath("notes.sqlite").write_text("name;phone\n") and d / "notes.sqlite"
            ),
            "is not an SQLite database",
        ),
        (lambda good, d: _corrupt(good, d / "damaged.sqlite"), ""),
        (lambda good, d: _other_app(d / "other.sqlite"), "another app or a newer version"),
        (lambda good, d: _plain_sqlite(d / "plain.sqlite"), "not a database of this app"),
        (lambda good, d: _no_tables(d / "empty.sqlite", _head()), "lacks the tables"),
        (lambda good, d: d / "missing.sqlite", "is not a file"),
    ],
    ids=["not sqlite", "corrupt", "another app", "no revision", "missing tables", "no file"],
)
def test_restore_refuses_a_bad_file_and_replaces_nothing(
    runner, live, good_backup, tmp_path, make_bad, reason
):
    bad = make_bad(good_backup, tmp_path)
    db.session.commit()
    before = _content(live)
    files = sorted(p.name for p in live.parent.iterdir())
    result = runner.invoke(args=["restore", str(bad), "--yes"])
    assert result.exit_code == 1
    assert reason in result.output and "Nothing was replaced." in result.output
    assert _content(live) == before
    assert sorted(p.name for p in live.parent.iterdir()) == files  # no copy left behind


def test_a_corrupt_file_is_named_damaged_or_unreadable(runner, live, good_backup, tmp_path):
    bad = _corrupt(good_backup, tmp_path / "damaged.sqlite")
    result = runner.invoke(args=["restore", str(bad), "--yes"])
    assert "integrity check" in result.output or "cannot be read" in result.output


def test_restore_of_a_good_backup_replaces_and_keeps_the_old(
    runner, live, good_backup, project, make_participant
):
    project_id = project.id
    make_participant(project, given_name="Added", family_name="Later")
    db.session.commit()
    assert db.session.scalar(select(func.count(Participant.id))) == 4
    db.session.commit()
    result = runner.invoke(args=["restore", str(good_backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert "db upgrade" not in result.output
    db.session.remove()
    assert db.session.scalar(select(func.count(Participant.id))) == 3
    assert _integrity(live) == "ok"
    (kept,) = live.parent.glob(f"{live.stem}.replaced-*{live.suffix}")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert _count(kept, "participant") == 4
    line = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "restore"))
    assert line.actor_label == "cli:restore"
    assert line.changes["replaced_kept_as"] == str(kept)
    assert line.changes["file"] == str(good_backup.resolve())
    # the app works on the restored database
    db.session.commit()
    make_participant(db.session.get(Project, project_id), given_name="After", family_name="Re")
    db.session.commit()
    assert db.session.scalar(select(func.count(Participant.id))) == 4


def test_restore_of_an_older_version_says_to_upgrade(runner, live, good_backup):
    from tracker.maintenance.cli import _migrations

    head, known = _migrations()
    if len(known) < 2:
        pytest.skip("one migration only")
    connection = sqlite3.connect(good_backup)
    connection.execute("UPDATE alembic_version SET version_num = ?", (known[-1],))
    connection.commit()
    connection.close()
    db.session.commit()
    result = runner.invoke(args=["restore", str(good_backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert "flask --app tracker db upgrade" in result.output


def test_restore_asks_first(runner, live, good_backup):
    db.session.commit()
    before = _content(live)
    result = runner.invoke(args=["restore", str(good_backup)], input="n\n")
    assert "Replace" in result.output and "3 participants" in result.output
    assert result.exit_code == 1 and "Nothing was replaced." in result.output
    assert _content(live) == before
    assert not list(live.parent.glob("*.part"))


# --- PostgreSQL -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "tool"),
    [(["backup", "--out", "x.dump"], "pg_dump"), (["restore", "x.dump", "--yes"], "pg_restore")],
)
def test_postgresql_is_refused_with_the_command_to_use(tmp_path, monkeypatch, args, tool):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://tracker:s3cret@db.example.org/prod",
        }
    )
    with app.app_context():
        result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert not (tmp_path / "x.dump").exists()
    assert tool in result.output
    assert "postgresql://tracker@db.example.org/prod" in result.output
    assert "s3cret" not in result.output
