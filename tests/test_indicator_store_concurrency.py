"""On PostgreSQL, transactions that move the same counters at once lose nothing.

Real connections from separate processes, started together: two complete the two
enrolments of the same people (different rows, the same person's facts and the
same counters), two register new people into the same cells. Afterwards the
store equals the records, to the person and to the counter.
"""

from __future__ import annotations

import multiprocessing
import traceback
from datetime import date

import pytest
from sqlalchemy import select

from tests.indicator_store_checks import assert_store_equals_live, assert_verified
from tracker import indicators
from tracker.extensions import db
from tracker.models import Enrolment, Project, Sex
from tracker.trainings.services import enrol

PEOPLE = 30
NEWCOMERS = 30


def _work(database_url: str, project_id: int, job: str, course_id: int, start, results) -> None:
    """In a process of its own: one transaction per write, as a web worker would."""
    from tracker import create_app
    from tracker.participants.services import register_participant
    from tracker.trainings.services import complete

    try:
        app = create_app(
            {"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": database_url}
        )
        with app.app_context():
            project = db.session.get(Project, project_id)
            enrolments = db.session.scalars(
                select(Enrolment.id).where(Enrolment.course_id == course_id).order_by(Enrolment.id)
            ).all()
            db.session.commit()
            start.wait()
            if job == "complete":
                for enrolment_id in enrolments:
                    complete(db.session.get(Enrolment, enrolment_id), on=date(2015, 6, 30))
                    db.session.commit()
            else:
                for n in range(NEWCOMERS):
                    register_participant(
                        project, given_name=job, family_name=f"N{n}", sex=Sex.FEMALE,
                        registered_on=date(2015, 1, 5), consent_on=date(2015, 1, 5),
                        nationality="SEN", region="Rabat",
                    )  # fmt: skip
                    db.session.commit()
        results.put((job, course_id, None))
    except Exception:  # reported to the test, which names the worker and the error
        results.put((job, course_id, traceback.format_exc()))


def test_concurrent_writers_of_the_same_counters_lose_nothing(
    app, database_url, make_project, make_participant, make_course
):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time; PostgreSQL's row locks are tested here")
    project = make_project("CONC", start=date(2014, 1, 1), end=date(2016, 12, 31))
    courses = [make_course(project), make_course(project, sector="Couture")]
    for n in range(PEOPLE):
        person = make_participant(project, family_name=f"P{n}", nationality="SEN", region="Rabat")
        for course in courses:
            enrol(person, course, on=date(2015, 2, 1))
    db.session.commit()
    jobs = [("complete", courses[0].id), ("complete", courses[1].id), ("A", 0), ("B", 0)]
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(jobs))
    results = context.Queue()
    processes = [
        context.Process(target=_work, args=(database_url, project.id, job, cid, start, results))
        for job, cid in jobs
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    failures = [(job, error) for job, _cid, error in outcomes if error]
    assert not failures, "\n".join(f"{job}: {error}" for job, error in failures)

    db.session.expire_all()
    whole = indicators.Scope((project.id,), project.start_date, project.end_date)
    assert indicators.count("trained", whole) == PEOPLE
    assert indicators.count("registered", whole) == PEOPLE + 2 * NEWCOMERS
    assert_store_equals_live(whole)
    assert_verified(project)
