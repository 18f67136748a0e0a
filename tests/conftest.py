"""Fixtures: a fresh app and database per test, on SQLite or on DATABASE_URL."""

from __future__ import annotations

import contextvars
import os
from datetime import date, timedelta
from itertools import count

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tracker import create_app
from tracker.extensions import db, limiter
from tracker.models import (
    ActivityKind,
    CourseKind,
    Partner,
    PartnerKind,
    Project,
    Role,
    Sex,
)

# tests hash passwords with few rounds; production uses the configured 1,000,000
FAST_HASH = "pbkdf2:sha256:1000"
PASSWORD = "correct horse battery staple"


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL") or os.environ.get("TRACKER_DATABASE_URL")
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@pytest.fixture(scope="session")
def postgres_url():
    """The PostgreSQL database of this test process, or None on SQLite.

    When the suite runs on several cores (pytest-xdist), each worker gets a
    database of its own beside DATABASE_URL's, not only schemas of its own:
    advisory locks and ``pg_stat_activity`` (the audit chain's lock, the
    dashboard cache's check for writers) are per database, and one worker's
    tests must not wait on, or be seen by, another's.
    """
    url = _postgres_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url is None or not worker:
        yield url
        return
    name = f"{make_url(url).database}_{worker}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(url).set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture
def database_url(tmp_path, postgres_url):
    url = postgres_url
    if url is None:
        yield f"sqlite:///{tmp_path / 'test.sqlite'}"
        return
    # a fresh schema per test on the server named by DATABASE_URL
    engine = create_engine(url)
    schema = f"t_{os.getpid()}_{next(_schemas)}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    parsed = make_url(url)
    query = dict(parsed.query)
    query["options"] = f"-csearch_path={schema}"
    yield parsed.set(query=query).render_as_string(hide_password=False)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


_schemas = count()


class IsolatedClient(FlaskClient):
    """A test client whose requests run in their own app context, as in production.

    The ``app`` fixture keeps an app context pushed for the test's own database
    work; without this, requests would share its ``g`` (and so the cached
    locale and signed-in user) and its database session.
    """

    def open(self, *args, **kwargs):
        if not has_app_context():
            # a redirect being followed: already inside the request's own context
            return super().open(*args, **kwargs)
        # what the test set up is committed before the "browser" acts, as it would be
        db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def app_config():
    """Extra configuration of the ``app`` fixture; a test module overrides it."""
    return {}


@pytest.fixture
def app(tmp_path, database_url, monkeypatch, app_config):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": FAST_HASH,
            # sign-in limits are on by default; tests/test_security_auth.py turns them on
            "RATELIMIT_ENABLED": False,
            # jobs run when they are sent, in a context of their own (tests/test_jobs.py
            # runs real workers)
            "JOBS_WORKER": "immediate",
            **app_config,
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()
        if app.config["RATELIMIT_ENABLED"]:
            # counts must not leak into the next test (Redis keeps them across apps)
            limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_project(app):
    def make(code="P1", start=date(2015, 1, 1), end=date(2015, 12, 31), **kw):
        project = Project(
            code=code,
            title=kw.pop("title", f"Project {code}"),
            country=kw.pop("country", "MAR"),
            start_date=start,
            end_date=end,
            **kw,
        )
        db.session.add(project)
        db.session.flush()
        return project

    return make


@pytest.fixture
def make_partner(app):
    numbers = count(1)

    def make(name=None, kind=PartnerKind.TRAINING_PROVIDER, **kw):
        partner = Partner(name=name or f"Partner {next(numbers)}", kind=kind, **kw)
        db.session.add(partner)
        db.session.flush()
        return partner

    return make


@pytest.fixture
def make_participant(app):
    from tracker.participants.services import register_participant

    def make(project, *, sex=Sex.FEMALE, registered_on=date(2014, 12, 1), **kw):
        kw.setdefault("given_name", "Awa")
        kw.setdefault("family_name", "Diop")
        kw.setdefault("consent_on", registered_on)
        return register_participant(project, sex=sex, registered_on=registered_on, **kw)

    return make


@pytest.fixture
def make_course(app, make_partner):
    from tracker.trainings.services import create_course

    numbers = count(1)

    def make(project, *, provider=None, start=date(2015, 2, 1), end=date(2015, 5, 31), **kw):
        kw.setdefault("title", f"Course {next(numbers)}")
        kw.setdefault("sector", "Cuisine")
        kw.setdefault("kind", CourseKind.VOCATIONAL)
        return create_course(
            project, provider or make_partner(), start_date=start, end_date=end, **kw
        )

    return make


@pytest.fixture
def make_activity(app):
    from tracker.activities.services import add_attendance, record_activity

    numbers = count(1)

    def make(project, kind=ActivityKind.CAPACITY_BUILDING, held_on=date(2015, 6, 1), partners=()):
        activity = record_activity(
            project, kind=kind, title=f"Activity {next(numbers)}", held_on=held_on
        )
        for partner in partners:
            add_attendance(activity, partner, staff_count=2)
        return activity

    return make


@pytest.fixture
def make_user(app):
    from tracker.auth.services import create_user

    def make(role=Role.OFFICER, projects=(), email=None):
        user = create_user(
            email or f"{role.value}-{len(projects)}@example.org",
            PASSWORD,
            role,
            projects=list(projects),
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    def do(user, password=PASSWORD):
        return client.post("/auth/login", data={"email": user.email, "password": password})

    return do


@pytest.fixture
def seeded(app):
    """The reference programme, loaded from seed_data/."""
    from tracker import seed

    seed.load()
    db.session.commit()
    return db.session.scalar(db.select(Project).where(Project.code == "IDF-MA-2014"))


# --- People and projects of the web tests: IDF-MA-2014 runs until next year, so
# courses and placements can be recorded today; "stranger" works on another project.

TODAY = date.today()


@pytest.fixture
def project(make_project):
    return make_project("IDF-MA-2014", start=date(2014, 6, 1), end=TODAY + timedelta(days=365))


@pytest.fixture
def other_project(make_project):
    return make_project("OTHER", start=date(2014, 6, 1), end=TODAY + timedelta(days=365))


@pytest.fixture
def signin(client, login):
    """Sign in and read the pages in English, whose words do not depend on the catalogue."""

    def do(user):
        client.post("/auth/language/en")
        response = login(user)
        assert response.status_code == 302
        return user

    return do


@pytest.fixture
def officer(make_user, project):
    return make_user(Role.OFFICER, [project], email="officer@example.org")


@pytest.fixture
def manager(make_user, project):
    return make_user(Role.MANAGER, [project], email="manager@example.org")


@pytest.fixture
def viewer(make_user, project):
    return make_user(Role.VIEWER, [project], email="viewer@example.org")


@pytest.fixture
def stranger(make_user, other_project):
    """An officer assigned to another project only."""
    return make_user(Role.OFFICER, [other_project], email="stranger@example.org")
