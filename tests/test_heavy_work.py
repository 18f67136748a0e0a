"""Heavy work (exports, uploads, reports): limits per user and a bound per process.

Issue 17: eight viewers exporting an XLSX file of 49,000 people at once took the
home page to 28.5 s and one export to a 500 (each export held two of the pool's 15
connections). Each user now has a limit per kind of heavy work (429, keyed on her
id), each process runs at most ``HEAVY_CONCURRENCY`` of them at once (503 with
Retry-After past it), and an export holds one connection at a time.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tracker.config import Defaults
from tracker.exports import services
from tracker.extensions import db
from tracker.models import AuditEvent, Role

XLSX = "/exports/participants.xlsx?pseudonymous=y"
CSV = "/exports/participants.csv?pseudonymous=y"


def throttled_lines() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "work_throttled")))


@pytest.fixture
def signed_in(app, make_user, project, make_participant):
    """A test client signed in (in English) as a new viewer of the project, per call."""
    for n in range(3):
        make_participant(project, given_name=f"Person{n}")
    db.session.commit()
    made = []

    def sign_in(email=None):
        user = make_user(Role.VIEWER, [project], email=email or f"viewer{len(made)}@example.org")
        client = app.test_client()
        client.post("/auth/language/en")
        assert (
            client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code
            == 302
        )
        made.append(user)
        return client, user

    return sign_in


# --- limits per user -------------------------------------------------------------------


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "EXPORT_RATE_LIMIT": "3 per minute; 60 per hour"}]
)
def test_the_export_past_a_users_limit_gets_429_and_another_user_is_unaffected(signed_in):
    first, user = signed_in()
    other, _ = signed_in()
    # downloads of either format count on the same limit: the user's exports
    for url in (XLSX, CSV, XLSX):
        response = first.get(url)
        assert response.status_code == 200
        response.close()
    refused = first.get(CSV)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 61
    page = refused.get_data(as_text=True)
    assert "You have asked for many exports in a short time" in page
    assert "try again in 1 minute" in page
    # her colleague, from the same address, exports as usual
    response = other.get(XLSX)
    assert response.status_code == 200
    # refusals are audited once per user, kind and window, not once per request
    assert first.get(XLSX).status_code == 429
    lines = throttled_lines()
    assert len(lines) == 1
    assert lines[0].entity_id == user.id
    assert lines[0].changes["work"] == "export"


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "EXPORT_RATE_LIMIT": "2 per minute"}]
)
def test_exports_that_become_jobs_count_on_the_same_limit(app, signed_in):
    app.config["EXPORT_JOB_MIN_ROWS"] = 1
    client, _user = signed_in()
    job = client.get(XLSX)
    assert job.status_code == 302 and "/jobs/" in job.headers["Location"]
    assert client.get(XLSX).status_code == 302
    assert client.get(XLSX).status_code == 429


@pytest.mark.parametrize(
    "app_config",
    [
        {
            "RATELIMIT_ENABLED": True,
            "IMPORT_RATE_LIMIT": "1 per minute",
            "REPORT_RATE_LIMIT": "1 per minute",
        }
    ],
)
def test_uploads_and_reports_are_limited_per_user_too(
    app, client, signin, officer, manager, project
):
    signin(officer)
    assert client.get("/imports/").status_code == 200
    assert client.post("/imports/", data={}).status_code == 400
    # the page itself is not counted; the second upload is
    assert client.get("/imports/").status_code == 200
    refused = client.post("/imports/", data={})
    assert refused.status_code == 429
    assert "You have sent many files to import in a short time" in refused.get_data(as_text=True)

    manager_client = app.test_client()
    manager_client.post("/auth/language/en")
    manager_client.post("/auth/login", data={"email": manager.email, "password": PASSWORD})
    assert manager_client.get(f"/exports/projects/{project.id}/iati.xml").status_code == 200
    refused = manager_client.get(f"/exports/projects/{project.id}/iati.xml")
    assert refused.status_code == 429
    assert "You have asked for many reports in a short time" in refused.get_data(as_text=True)


def test_the_limits_are_configured():
    for setting in ("IMPORT_RATE_LIMIT", "EXPORT_RATE_LIMIT", "REPORT_RATE_LIMIT"):
        assert getattr(Defaults, setting) == "10 per minute; 60 per hour"
    assert Defaults.HEAVY_CONCURRENCY == 2


# --- a bound per process ---------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"HEAVY_CONCURRENCY": 2}])
def test_heavy_work_past_the_bound_is_told_to_come_back_while_the_others_proceed(
    app, signed_in, monkeypatch
):
    real = services.render_xlsx
    inside, release = threading.Semaphore(0), threading.Event()

    def held(*args, **kwargs):
        inside.release()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "render_xlsx", held)
    clients = [signed_in()[0] for _ in range(3)]
    answers = [None, None]

    def export(n):
        answers[n] = clients[n].get(XLSX)

    threads = [threading.Thread(target=export, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    try:
        # both are making their file
        assert inside.acquire(timeout=10) and inside.acquire(timeout=10)
        busy = clients[2].get(XLSX)
        # other pages are served meanwhile
        assert clients[2].get("/").status_code == 200
    finally:
        release.set()
        for thread in threads:
            thread.join(10)
    assert busy.status_code == 503
    assert int(busy.headers["Retry-After"]) == Defaults.HEAVY_RETRY_AFTER
    assert "Too many exports, imports and reports are being made" in busy.get_data(as_text=True)
    assert [a.status_code for a in answers] == [200, 200]
    # the slots are free again
    assert clients[2].get(XLSX).status_code == 200


@pytest.mark.parametrize(
    "app_config",
    [{"HEAVY_CONCURRENCY": 1, "RATELIMIT_ENABLED": True, "EXPORT_RATE_LIMIT": "2/minute"}],
)
def test_a_streamed_file_holds_its_slot_until_its_last_byte(signed_in):
    first, _ = signed_in()
    second, _ = signed_in()
    streaming = first.get(CSV)
    assert streaming.status_code == 200
    # the CSV file is still being sent: no other heavy work in this process
    busy = second.get(XLSX)
    assert busy.status_code == 503
    streaming.close()
    # a busy answer did not count against the limit: two exports are still allowed
    for _n in range(2):
        response = second.get(XLSX)
        assert response.status_code == 200


# --- one connection per export ---------------------------------------------------------


def test_an_xlsx_export_holds_one_connection_while_it_is_written(app, signed_in, monkeypatch):
    real = services.render_xlsx
    seen = []

    def counted(*args, **kwargs):
        seen.append(db.engine.pool.checkedout())
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "render_xlsx", counted)
    client, _ = signed_in()
    db.session.close()
    assert client.get(XLSX).status_code == 200
    assert seen == [1]


def test_a_csv_export_holds_one_connection_while_it_streams(app, signed_in, monkeypatch):
    client, _ = signed_in()
    db.session.close()
    pool = db.engine.pool
    seen = []
    real = services.record_export

    def watched(*args, **kwargs):
        export = real(*args, **kwargs)
        rows = export.rows

        def counted():
            for row in rows:
                seen.append(pool.checkedout())
                yield row

        export.rows = counted()
        seen.append(("counted", pool.checkedout()))
        return export

    monkeypatch.setattr(services, "record_export", watched)
    response = client.get(CSV)
    assert response.status_code == 200
    response.get_data()
    response.close()
    # one connection while counting (the session's), one while the rows stream (its own)
    assert seen[0] == ("counted", 1)
    assert seen[1:] and set(seen[1:]) == {1}
    assert pool.checkedout() == 0
