"""Several processes writing through the app at once to one SQLite file lose nothing."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import traceback
from datetime import date

import pytest
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Participant, Sex

PROCESSES = 4
WRITES = 50


def _write(database_url: str, project_id: int, worker: int, start, results) -> None:
    """In a process of its own: register WRITES participants, each in its own transaction."""
    from tracker import create_app
    from tracker.models import Project
    from tracker.participants.services import register_participant

    try:
        app = create_app(
            {"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": database_url}
        )
        with app.app_context():
            project = db.session.get(Project, project_id)
            db.session.commit()  # do not hold the read transaction while waiting
            start.wait()
            for n in range(WRITES):
                register_participant(
                    project,
                    given_name=f"Worker{worker}",
                    family_name=f"Write{n}",
                    sex=Sex.FEMALE,
                    registered_on=date(2015, 1, 1),
                    consent_on=date(2015, 1, 1),
                )
                db.session.commit()
        results.put((worker, None))
    except Exception:  # reported to the test, which names the worker and the error
        results.put((worker, traceback.format_exc()))


def test_concurrent_writers_lose_nothing(app, database_url, make_project):
    if not database_url.startswith("sqlite"):
        pytest.skip("the SQLite locking is what is tested; PostgreSQL has row locks")
    project_id = make_project("CONC").id
    db.session.commit()  # the test's own session holds no lock while the workers write
    # spawn: a fresh interpreter per process, as separate gunicorn workers would be
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=_write, args=(database_url, project_id, n, start, results))
        for n in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    failures = {worker: error for worker, error in outcomes.items() if error}
    assert not failures, failures
    assert all(process.exitcode == 0 for process in processes)

    db.session.commit()
    assert db.session.scalar(select(func.count(Participant.id))) == PROCESSES * WRITES
    codes = db.session.scalars(select(Participant.code)).all()
    assert len(set(codes)) == PROCESSES * WRITES
    for worker in range(PROCESSES):
        written = db.session.scalar(
            select(func.count(Participant.id)).where(Participant.given_name == f"Worker{worker}")
        )
        assert written == WRITES
    # every audit line of the four writers is in one chain, none forked or left unsealed
    from tracker import audit_chain

    verdict = audit_chain.verify(db.session.connection())
    assert verdict.intact, verdict
    assert verdict.lines >= PROCESSES * WRITES
    path = database_url.removeprefix("sqlite:///")
    assert os.path.exists(path)
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    connection.close()
