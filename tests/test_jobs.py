"""Jobs: their pages and JSON, who sees and downloads what, cancelling, the dead, the old.

Jobs here run when they are sent (``JOBS_WORKER = "immediate"``, in a context and a
session of their own); tests/test_job_workers.py runs real worker processes.
"""

from __future__ import annotations

import io
import time
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from tracker import audit
from tracker.extensions import db
from tracker.imports.reader import MAX_COLUMNS
from tracker.jobs import queue, running
from tracker.models import AuditEvent, Job, JobState, Participant, PendingImport, Role, now_utc

HEADER = (
    "code;given_name;family_name;sex;date_of_birth;nationality;region;city;phone;email;"
    "migration_status;education_level;languages;consent_given;consent_date;project_code;"
    "registered_on"
)


def people(n: int, first: int = 0) -> bytes:
    rows = [
        f";Prénom{i};Famille{i};F;1990;MAR;;;;;;;;oui;2015-01-02;IDF-MA-2014;2015-01-02"
        for i in range(first, first + n)
    ]
    return ("\n".join((HEADER, *rows)) + "\n").encode("utf-8")


def upload(client, data: bytes, name="people.csv", project=""):
    return client.post(
        "/imports/",
        data={"kind": "participants", "project": str(project), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def job_id(response) -> int:
    location = response.headers["Location"]
    assert "/jobs/" in location, location
    return int(location.rstrip("/").rsplit("/", 1)[1])


def send(job_id: int) -> None:
    """Put a job on the queue, as the web does: what the test wrote committed first."""
    db.session.commit()
    queue.send(job_id)
    db.session.expire_all()


def queued_job(user, project=None, kind="export", **parameters) -> Job:
    """A job left on the queue: nobody has taken it yet."""
    job = Job(
        kind=kind,
        state=JobState.QUEUED.value,
        user_id=user.id,
        actor_label=user.email,
        project_id=project.id if project else None,
        locale="en",
        parameters=parameters,
        done=0,
        attempts=0,
        cancel_requested=False,
    )
    db.session.add(job)
    db.session.commit()
    return job


# --- An import, as two jobs --------------------------------------------------------------


def test_an_upload_answers_with_its_job_then_the_preview(client, signin, officer, project):
    signin(officer)
    response = upload(client, people(3), project=project.id)
    assert response.status_code == 302
    job = db.session.get(Job, job_id(response))
    assert (job.kind, job.state, job.user_id, job.project_id) == (
        "import_check",
        "done",
        officer.id,
        project.id,
    )
    assert job.result["rows"] == 3 and job.result["valid"] == 3
    assert job.parameters["file"] == "people.csv"
    # the job's page leads its asker to the preview
    page = client.get(f"/jobs/{job.id}")
    assert page.status_code == 303 and "/imports/" in page.headers["Location"]
    status = client.get(f"/jobs/{job.id}.json").get_json()
    assert status["state"] == "done" and status["kind"] == "import_check"
    assert status["done"] == status["total"] == 3
    assert count(Participant) == 0

    token = db.session.scalar(select(PendingImport.token))
    confirmed = client.post(f"/imports/{token}/confirm")
    write = db.session.get(Job, job_id(confirmed))
    assert write.kind == "import_write" and write.state == "done"
    assert write.result["written"] == 3 and count(Participant) == 3
    assert count(PendingImport) == 0
    # its asker lands on the people just imported, told what was done
    landed = client.get(f"/jobs/{write.id}")
    assert landed.status_code == 303
    assert landed.headers["Location"] == f"/participants/?import={write.result['import_id']}"
    page = client.get(landed.headers["Location"]).get_data(as_text=True)
    assert "3 rows imported from people.csv" in page and "3 participants" in page
    # the same confirmation sent again finds nothing to import: nothing is written twice
    again = client.post(f"/imports/{token}/confirm")
    assert again.status_code == 404 and count(Participant) == 3


def test_a_file_that_cannot_be_read_fails_its_job_with_what_to_do(client, signin, officer, project):
    signin(officer)
    # a file whose start looks fine, refused by the reader as it reads on: found by the job
    bad = (";".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n").encode()
    response = upload(client, bad, project=project.id)
    job = db.session.get(Job, job_id(response))
    assert job.state == "failed" and "upload it again" in job.error
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-state="failed"' in page and 'href="/imports/"' in page
    assert count(PendingImport) == 0  # personal data not kept for nothing


def test_a_cancelled_import_writes_nothing(client, signin, officer, project, app):
    signin(officer)
    upload(client, people(2500), project=project.id)
    pending = db.session.scalar(select(PendingImport))
    job = queued_job(officer, project, kind="import_write", pending=pending.id, file="x.csv")
    # the person cancels while it runs: the worker sees it at its next step
    running.ask_cancel(job.id)
    send(job.id)
    assert db.session.get(Job, job.id).state == "cancelled"
    assert count(Participant) == 0 and count(PendingImport) == 1


def test_cancelling_a_queued_job(client, signin, officer, project):
    signin(officer)
    job = queued_job(officer, project)
    response = client.post(f"/jobs/{job.id}/cancel")
    assert response.status_code == 302
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == "cancelled" and job.finished_at is not None
    # taken from the queue later, it is not run
    send(job.id)
    assert db.session.get(Job, job.id).state == "cancelled"
    line = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "job"))
    assert line.action == "cancel" and line.actor_id == officer.id


# --- Who sees what -------------------------------------------------------------------------


def test_jobs_are_seen_by_their_asker_and_her_projects_managers(
    client, signin, officer, manager, viewer, stranger, make_user, project
):
    mine = queued_job(officer, project)
    signin(stranger)
    assert client.get(f"/jobs/{mine.id}").status_code == 404
    assert client.get(f"/jobs/{mine.id}.json").status_code == 404
    assert client.post(f"/jobs/{mine.id}/cancel").status_code == 404
    assert f"/jobs/{mine.id}" not in client.get("/jobs/").get_data(as_text=True)
    client.post("/auth/logout")
    signin(viewer)
    assert client.get(f"/jobs/{mine.id}").status_code == 404
    client.post("/auth/logout")
    signin(manager)
    page = client.get(f"/jobs/{mine.id}")
    assert page.status_code == 200 and 'data-state="queued"' in page.get_data(as_text=True)
    assert f"/jobs/{mine.id}" in client.get("/jobs/").get_data(as_text=True)
    client.post("/auth/logout")
    other_officer = make_user(Role.OFFICER, [project], email="colleague@example.org")
    signin(other_officer)
    assert client.get(f"/jobs/{mine.id}").status_code == 404


def test_a_large_export_is_a_job_whose_file_its_asker_downloads(
    app, client, signin, officer, viewer, manager, make_participant, project
):
    app.config["EXPORT_JOB_MIN_ROWS"] = 2
    for i in range(3):
        make_participant(project, code=f"IDF-{i:04d}")
    db.session.commit()
    signin(officer)
    small_csv = client.get("/exports/participants.csv")
    assert small_csv.status_code == 200, "CSV under its own threshold streams at once"
    small_csv.close()  # the stream's own database connection ends with the response
    response = client.get(f"/exports/participants.xlsx?project={project.id}")
    job = db.session.get(Job, job_id(response))
    assert job.state == "done" and job.result["rows"] == 3 and job.kind == "export"
    assert job.file_name.startswith("participants-IDF-MA-2014-") and job.file_size > 0
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert f'href="/jobs/{job.id}/file"' in page
    export_line = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "export", AuditEvent.entity == "participants")
        .order_by(AuditEvent.id.desc())
    )
    assert export_line.changes["job"] == job.id and export_line.changes["rows"] == 3
    # the job's file named three people, and the line says which
    assert audit.ranges_size(export_line.changes["participant_ranges"]) == 3
    file = client.get(f"/jobs/{job.id}/file")
    assert file.status_code == 200 and "attachment" in file.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(file.get_data())).active
    codes = sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert codes == ["IDF-0000", "IDF-0001", "IDF-0002"]
    read = db.session.scalar(
        select(AuditEvent).where(AuditEvent.entity == "job", AuditEvent.action == "view")
    )
    assert read.entity_id == job.id and read.actor_id == officer.id
    client.post("/auth/logout")
    # a manager of the project may take it; a viewer of the project does not even see it
    signin(manager)
    assert client.get(f"/jobs/{job.id}/file").status_code == 200
    client.post("/auth/logout")
    signin(viewer)
    assert client.get(f"/jobs/{job.id}/file").status_code == 404


def test_a_pseudonymous_export_for_a_viewer_and_names_refused(
    app, client, signin, viewer, make_participant, project
):
    app.config["EXPORT_JOB_MIN_ROWS"] = 0
    make_participant(project, code="IDF-0001")
    db.session.commit()
    signin(viewer)
    assert client.get("/exports/participants.xlsx").status_code == 403
    response = client.get("/exports/participants.xlsx?pseudonymous=y")
    job = db.session.get(Job, job_id(response))
    assert job.state == "done" and job.parameters["pseudonymous"] is True
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"/jobs/{job.id}/file").get_data()))
    header = [c.value for c in sheet.active[1]]
    assert "given_name" not in header and "code" in header


# --- The dead and the old --------------------------------------------------------------------


def test_a_running_job_whose_worker_died_is_requeued_then_done(
    app, client, signin, officer, project
):
    signin(officer)
    upload(client, people(2), project=project.id)
    pending = db.session.scalar(select(PendingImport))
    job = queued_job(officer, project, kind="import_write", pending=pending.id, file="x.csv")
    # as a worker killed in the middle leaves it: running, no heartbeat for long
    job.state, job.attempts = "running", 1
    job.started_at = now_utc() - timedelta(minutes=10)
    db.session.commit()
    page = client.get(f"/jobs/{job.id}")  # the page looks after it
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == "done" and job.attempts == 2, page.get_data(as_text=True)
    assert count(Participant) == 2


def test_a_dead_job_that_may_not_start_again_is_failed(app, officer, project):
    job = queued_job(officer, project, kind="import_write", pending=0)
    job.state, job.attempts = "running", app.config["JOBS_MAX_ATTEMPTS"]
    job.started_at = now_utc() - timedelta(minutes=10)
    db.session.commit()
    with app.test_request_context():
        assert running.reap() == 1
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == "failed" and "stopped before it finished" in job.error


def test_a_job_with_a_recent_heartbeat_is_left_alone(app, officer, project):
    job = queued_job(officer, project)
    job.state, job.attempts = "running", 1
    job.started_at = now_utc() - timedelta(minutes=10)
    db.session.commit()
    huey = app.extensions["huey"]
    huey.put(f"tracker:job:{job.id}:beat", time.time())
    with app.test_request_context():
        assert running.reap() == 0
    assert db.session.get(Job, job.id).state == "running"


def test_expired_jobs_are_purged_with_their_files(app, officer, project):
    job = queued_job(officer, project)
    with app.test_request_context():
        path = running.new_file(job, ".csv")
        path.write_text("code\nIDF-0001\n")
    job.state, job.finished_at = "done", now_utc()
    job.expires_at = now_utc() - timedelta(seconds=1)
    kept = queued_job(officer, project)
    kept.state, kept.expires_at = "done", now_utc() + timedelta(days=1)
    db.session.commit()
    expired_id, kept_id = job.id, kept.id
    with app.test_request_context():
        assert running.purge() == 1
    assert not path.exists()
    db.session.expunge_all()
    assert db.session.get(Job, expired_id) is None and db.session.get(Job, kept_id) is not None


def test_result_files_are_private(app, officer, project):
    job = queued_job(officer, project)
    with app.test_request_context():
        path = running.new_file(job, ".csv")
    assert path.stat().st_mode & 0o077 == 0
    assert path.parent.stat().st_mode & 0o077 == 0


def test_my_jobs_lists_recent_jobs(client, signin, officer, project):
    queued_job(officer, project)
    signin(officer)
    page = client.get("/jobs/").get_data(as_text=True)
    assert 'data-state="queued"' in page and "Export" in page
    assert 'href="/jobs/"' in client.get("/").get_data(as_text=True)


# --- Maintenance, for administrators ------------------------------------------------------------


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, [], email="admin@example.org")


def test_maintenance_is_for_administrators(client, signin, manager, admin):
    signin(manager)
    assert client.get("/jobs/maintenance").status_code == 403
    assert client.post("/jobs/maintenance", data={"kind": "backup"}).status_code == 403
    client.post("/auth/logout")
    signin(admin)
    page = client.get("/jobs/maintenance")
    assert page.status_code == 200 and "IDF-MA-2014" in page.get_data(as_text=True)
    assert client.post("/jobs/maintenance", data={"kind": "drop_tables"}).status_code == 400
    assert count(Job) == 0


def test_an_administrator_rebuilds_a_projects_store(
    client, signin, admin, make_participant, project
):
    from tracker.indicator_store import checking, keeping
    from tracker.models import IndicatorStale

    for i in range(3):
        make_participant(project, code=f"IDF-{i:04d}")
    # as the migration that created the store marks a project (a Core insert: not audited)
    db.session.execute(IndicatorStale.__table__.insert().values(project_id=project.id))
    db.session.commit()
    signin(admin)
    assert "to rebuild" in client.get("/jobs/maintenance").get_data(as_text=True)
    response = client.post(
        "/jobs/maintenance", data={"kind": "indicators_rebuild", "project": str(project.id)}
    )
    job = db.session.get(Job, job_id(response))
    assert job.state == "done" and job.result == {"projects": 1, "people": 3}
    assert job.done == job.total == 3
    assert keeping.stale_projects([project.id]) == set()
    assert list(checking.differences(project)) == []
    line = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "rebuild_indicators"))
    assert line.actor_id == admin.id


def test_an_administrator_backs_up_the_database(app, client, signin, admin, project):
    signin(admin)
    response = client.post("/jobs/maintenance", data={"kind": "backup"})
    job = db.session.get(Job, job_id(response))
    assert job.state == "done", job.error
    path = Path(job.result["folder"]) / job.result["file"]
    assert path.is_file() and path.stat().st_mode & 0o077 == 0
    assert job.file_path is None, "a copy of every case file is not downloadable"
    line = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "backup"))
    assert line.actor_id == admin.id and line.changes["sha256"] == job.result["sha256"]
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert job.result["file"] in page


def test_an_administrator_runs_the_retention(client, signin, admin, make_participant, project):
    today = date.today()
    old = make_participant(project, registered_on=today.replace(year=today.year - 8))
    recent = make_participant(project, registered_on=today.replace(year=today.year - 1))
    old_id, recent_id = old.id, recent.id
    db.session.commit()
    signin(admin)
    page = client.get("/jobs/maintenance").get_data(as_text=True)
    assert "1 case file is past the retention period" in page
    unconfirmed = client.post("/jobs/maintenance", data={"kind": "retention"})
    assert unconfirmed.status_code == 303 and count(Job) == 0, "irreversible: asked twice"
    confirmed = client.post("/jobs/maintenance", data={"kind": "retention", "confirm": "1"})
    job = db.session.get(Job, job_id(confirmed))
    assert job.state == "done" and job.result["erased"] == 1
    db.session.expire_all()
    assert db.session.get(Participant, old_id).erased_at is not None
    assert db.session.get(Participant, recent_id).erased_at is None


def test_a_queued_job_whose_message_was_lost_is_sent_again(app, client, signin, officer, project):
    signin(officer)
    upload(client, people(2), project=project.id)
    pending = db.session.scalar(select(PendingImport))
    # queued long ago, but its message is on no queue (a Redis restarted empty)
    job = queued_job(officer, project, kind="import_write", pending=pending.id, file="x.csv")
    job.created_at = now_utc() - timedelta(hours=1)
    recent = queued_job(officer, project)
    db.session.commit()
    job_id_, recent_id = job.id, recent.id
    with app.test_request_context():
        assert running.reap() == 1
    db.session.expire_all()
    assert db.session.get(Job, job_id_).state == "done" and count(Participant) == 2
    assert db.session.get(Job, recent_id).state == "queued", "a recent one is left waiting"


# --- The commands' progress on a terminal ------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_commands_show_a_progress_bar_on_a_terminal_only():
    from tracker.jobs.terminal import TerminalProgress

    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        with TerminalProgress(stream=stream) as bar:
            bar.step("Writing the rows", 4000)
            bar.update(2000)
            bar.update(4000)
            bar.step("A step whose size comes later")
            bar.update(500, 3000)
    shown = terminal.getvalue()
    assert "Writing the rows" in shown and "100%" in shown
    assert "A step whose size comes later" in shown
    assert pipe.getvalue() == "", "piped or in cron: silent"


def test_a_dead_job_whose_cancellation_was_asked_is_not_started_again(
    app, client, signin, officer, project
):
    signin(officer)
    upload(client, people(2), project=project.id)
    pending = db.session.scalar(select(PendingImport))
    job = queued_job(officer, project, kind="import_write", pending=pending.id, file="x.csv")
    # cancelled while it ran, then its worker died before it saw the cancellation
    job.state, job.attempts, job.cancel_requested = "running", 1, True
    job.started_at = now_utc() - timedelta(minutes=10)
    db.session.commit()
    client.get(f"/jobs/{job.id}.json")
    db.session.expire_all()
    assert db.session.get(Job, job.id).state == "cancelled"
    assert count(Participant) == 0
