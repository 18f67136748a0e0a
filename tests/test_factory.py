"""The app factory, its configuration and the SQLite engine set-up."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from tracker import create_app
from tracker.extensions import db


def test_testing_flag(app):
    assert app.testing
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).testing is False


def test_secret_key_is_generated_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert len(first.config["SECRET_KEY"]) >= 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]


def test_default_database_is_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    app = create_app({})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'tracker.sqlite'}"


def test_database_url_selects_another_database(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example.org/tracker")
    app = create_app({})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example.org/tracker"


def test_instance_config_and_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    (tmp_path / "config.py").write_text("SMALL_CELL_THRESHOLD = 10\nBABEL_DEFAULT_LOCALE = 'en'\n")
    monkeypatch.setenv("TRACKER_SMALL_CELL_THRESHOLD", "7")
    monkeypatch.setenv("TRACKER_SQLALCHEMY_DATABASE_URI", "sqlite://")
    app = create_app()
    assert app.config["SMALL_CELL_THRESHOLD"] == 7  # environment wins over instance/config.py
    assert app.config["BABEL_DEFAULT_LOCALE"] == "en"


def test_sqlite_is_hardened(app):
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_sqlite_files_are_readable_by_their_owner_only(app):
    if db.engine.dialect.name != "sqlite":
        return
    path = Path(db.engine.url.database)
    path.chmod(0o644)  # as a umask of 022 creates it
    db.engine.dispose()
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    for name in (path, path.with_name(path.name + "-wal")):
        if name.exists():
            assert name.stat().st_mode & 0o077 == 0, name


def test_sqlite_writers_wait_instead_of_failing(app):
    """A second writer waits for the first (BEGIN IMMEDIATE), it does not fail at once."""
    if db.engine.dialect.name != "sqlite":
        return
    import threading
    import time

    from tracker.models import Partner, PartnerKind

    db.session.add(Partner(name="seed", kind=PartnerKind.NGO))
    db.session.commit()
    errors = []

    def writer(name, hold):
        with app.app_context():
            try:
                with db.engine.begin() as conn:
                    conn.execute(text("SELECT count(*) FROM partner")).scalar()
                    time.sleep(hold)
                    conn.execute(
                        text(
                            "INSERT INTO partner (name, kind, country, id, created_at,"
                            " updated_at, version) VALUES (:n, 'ngo', 'MAR', NULL,"
                            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                        ),
                        {"n": name},
                    )
            except Exception as error:  # noqa: BLE001
                errors.append(error)

    threads = [threading.Thread(target=writer, args=(f"w{i}", 0.3)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM partner")).scalar() == 3


def test_a_read_only_connection_never_holds_a_writer_up(app):
    """The export command reads on a READ_ONLY connection: a writer commits meanwhile."""
    if db.engine.dialect.name != "sqlite":
        return
    from tracker.database import READ_ONLY

    with db.engine.connect().execution_options(**{READ_ONLY: True}) as reader:
        before = reader.execute(text("SELECT count(*) FROM partner")).scalar()
        writer = db.engine.connect()
        # no waiting: a write lock held by the reader would fail the writer at once
        writer.connection.driver_connection.execute("PRAGMA busy_timeout=0")
        with writer.begin():
            writer.execute(
                text(
                    "INSERT INTO partner (name, kind, country, id, created_at, updated_at,"
                    " version) VALUES ('during', 'ngo', 'MAR', NULL, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP, 1)"
                )
            )
        writer.close()
        # one snapshot for the whole export
        assert reader.execute(text("SELECT count(*) FROM partner")).scalar() == before
