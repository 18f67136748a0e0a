"""Jobs run by real processes: a worker killed mid-import, two web processes and two
workers on PostgreSQL and Redis, and the embedded default's web process running its jobs.

Each starts ``flask --app tracker worker`` (or ``flask run``, or gunicorn) as a
separate process on the test's database, as an operator would.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.jobs import queue, running
from tracker.models import AuditEvent, GeneratedReport, Job, Participant, PendingImport, Role

ROOT = Path(__file__).resolve().parents[1]
HEADER = (
    "code;given_name;family_name;sex;date_of_birth;nationality;region;city;phone;email;"
    "migration_status;education_level;languages;consent_given;consent_date;project_code;"
    "registered_on"
)
PASSWORD = "correct horse battery staple"


def _letters(i: int) -> str:
    """Ten letters drawn from ``i``: names unlike each other, so none looks like a duplicate."""
    digest = hashlib.sha256(str(i).encode()).digest()
    return "".join(chr(ord("a") + b % 26) for b in digest[:10])


def people(n: int, tag: str) -> bytes:
    rows = [
        f";{tag}{_letters(i)};{_letters(-i - 1).title()};F;1990;MAR;;;;;;;;oui;2015-01-02;"
        "IDF-MA-2014;2015-01-02"
        for i in range(n)
    ]
    return ("\n".join((HEADER, *rows)) + "\n").encode("utf-8")


def count(model, *where) -> int:
    db.session.rollback()  # a fresh read, and no transaction left open on the database
    value = db.session.scalar(select(func.count()).select_from(model).where(*where))
    db.session.rollback()
    return value


def job_row(job_id: int) -> Job:
    db.session.rollback()
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    db.session.expunge(job)  # read as it is now: no transaction left open to refresh it
    db.session.rollback()
    return job


def environment(app, **extra) -> dict[str, str]:
    return {
        **os.environ,
        "TRACKER_INSTANCE_PATH": app.instance_path,
        "TRACKER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TRACKER_SECRET_KEY": app.config["SECRET_KEY"],
        "TRACKER_JOBS_HEARTBEAT_SECONDS": "1",
        "TRACKER_JOBS_STALE_SECONDS": "4",
        "TRACKER_JOBS_REAP_SECONDS": "1",
        **extra,
    }


#: the output of the processes a test started, shown when it fails
LOGS: list[Path] = []


@contextmanager
def processes():
    started: list[subprocess.Popen] = []
    LOGS.clear()

    def start(*args: str, env: dict[str, str]) -> subprocess.Popen:
        log = Path(env["TRACKER_INSTANCE_PATH"]) / f"process-{len(started)}.log"
        LOGS.append(log)
        with log.open("wb") as out:
            process = subprocess.Popen(
                list(args), env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def logs() -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in LOGS if log.exists())


def worker(start, env) -> subprocess.Popen:
    command = [sys.executable, "-m", "flask", "--app", "tracker", "worker", "--threads", "1"]
    return start(*command, env=env)


def wait_for(predicate, *, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"waited {timeout} s for {what}\n{logs()}")


def pending_upload(user, project, data: bytes, name: str) -> PendingImport:
    pending = PendingImport(
        token=secrets.token_urlsafe(24),
        user_id=user.id,
        kind="participants",
        project=project,
        filename=name,
        sha256=f"{len(data):064d}",
        size=len(data),
        summary={"rows": 0},
        content=data,
    )
    db.session.add(pending)
    db.session.commit()
    return pending


# --- A worker killed in the middle of an import -----------------------------------------------


@pytest.fixture
def app_config():
    return {"JOBS_WORKER": "external"}


def test_a_worker_killed_mid_import_leaves_it_done_once_by_another(app, project, make_user):
    officer = make_user(Role.OFFICER, [project], email="officer@example.org")
    rows = 10_000
    pending = pending_upload(officer, project, people(rows, "Kill"), "kill.csv")
    with app.test_request_context():
        job_id = queue.submit(
            "import_write",
            user=officer,
            project=project,
            parameters={"pending": pending.id, "file": "kill.csv", "kind": "participants"},
        ).id
    with force_locale(job_row(job_id).locale):
        label = gettext("Writing the rows")
    env = environment(app)

    def writing():
        with app.app_context():
            now = running.live(job_id)
        return now and now.get("step") == label and now.get("done", 0) > 0

    with processes() as start:
        first = worker(start, env)
        wait_for(writing, timeout=60, what="the first rows written", every=0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        job = job_row(job_id)
        assert job.state == "running" and job.attempts == 1
        # killed in its transaction: not one row of it is kept
        assert count(Participant) == 0 and count(PendingImport) == 1
        worker(start, env)
        done = wait_for(
            lambda: job_row(job_id).state in ("done", "failed") and job_row(job_id),
            timeout=240,
            what="the second worker to finish the import",
        )
    assert done.state == "done", done.error
    assert done.attempts == 2 and done.result["written"] == rows
    assert count(Participant) == rows and count(PendingImport) == 0
    imports = count(AuditEvent, AuditEvent.action == "import")
    assert imports == 1, "the import's audit line is written once, with the rows"


def test_the_worker_refuses_immediate_mode(runner, app):
    app.config["JOBS_WORKER"] = "immediate"
    result = runner.invoke(args=["worker"])
    assert result.exit_code == 2 and "immediate" in result.output


# --- The web ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A person's browser: cookies, the CSRF token of the last form, multipart uploads."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def request(self, path: str, data: bytes | None = None, headers=None):
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def csrf(self, path: str) -> str:
        _status, _headers, body = self.request(path)
        return re.search(rb'name="csrf_token" value="([^"]+)"', body).group(1).decode()

    def post(self, path: str, fields: dict[str, str], *, form_page: str | None = None):
        fields = {"csrf_token": self.csrf(form_page or path), **fields}
        return self.request(path, urllib.parse.urlencode(fields).encode())

    def upload(self, project_id: int, data: bytes, name: str):
        boundary = secrets.token_hex(16)
        token = self.csrf("/imports/")
        parts = []
        for key, value in (
            ("csrf_token", token),
            ("kind", "participants"),
            ("project", str(project_id)),
        ):
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            parts.append(f"{head}{value}\r\n".encode())
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(
            "/imports/",
            b"".join(parts),
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )

    def sign_in(self, email: str) -> None:
        status, headers, _ = self.post("/auth/login", {"email": email, "password": PASSWORD})
        assert status == 302, status

    def job(self, location: str) -> int:
        match = re.search(r"/jobs/(\d+)", location)
        assert match, location
        return int(match.group(1))

    def state(self, job_id: int) -> dict:
        status, _headers, body = self.request(f"/jobs/{job_id}.json")
        assert status == 200, (status, body[:300])
        return json.loads(body)

    def until_ended(self, job_id: int, timeout: float = 180) -> dict:
        return wait_for(
            lambda: (s := self.state(job_id))["state"] in ("done", "failed", "cancelled") and s,
            timeout=timeout,
            what=f"job {job_id}",
            every=0.3,
        )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def serve(start, env) -> str:
    port = free_port()
    start(
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "1",
        "--threads",
        "4",
        "--bind",
        f"127.0.0.1:{port}",
        "tracker:create_app()",
        env=env,
    )
    return serving(port, f"the web process on port {port}")


def serving(port: int, what: str) -> str:
    """Wait until the server on ``port`` answers its sign-in page; its base URL."""
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            with urllib.request.urlopen(base + "/auth/login", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    wait_for(up, timeout=60, what=what)
    return base


def import_through(browser: Browser, other: Browser, project_id: int, data: bytes, name: str):
    """Upload on one web process, follow the jobs from the other, confirm: the write job."""
    status, headers, body = browser.upload(project_id, data, name)
    assert status == 302, body[:500]
    check = browser.job(headers["Location"])
    assert other.until_ended(check)["state"] == "done"
    status, headers, _ = browser.request(f"/jobs/{check}")
    assert status == 303 and "/imports/" in headers["Location"]
    preview = urllib.parse.urlparse(headers["Location"]).path
    status, headers, body = browser.post(preview + "/confirm", {}, form_page=preview)
    assert status == 302, body[:500]
    return browser.job(headers["Location"])


def redis_or_skip(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        if os.environ.get("TRACKER_TEST_REQUIRE_REDIS"):
            raise  # CI: .ci/run started Redis; its absence is a failure, not a skip
        pytest.skip(f"no Redis at {url}")


def test_two_web_processes_and_two_workers_on_postgresql_and_redis(app, project, make_user):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the scale-out set-up runs on PostgreSQL (DATABASE_URL)")
    redis_url = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    redis_or_skip(redis_url)
    officer = make_user(Role.OFFICER, [project], email="officer@example.org").email
    manager = make_user(Role.MANAGER, [project], email="manager@example.org").email
    project_id = project.id
    queue_name = f"tracker-test-{os.getpid()}-{secrets.token_hex(4)}"
    env = environment(
        app,
        TRACKER_REDIS_URL=redis_url,
        TRACKER_JOBS_QUEUE_NAME=queue_name,
        TRACKER_JOBS_FILES_DIR=str(Path(app.instance_path) / "shared-files"),
        TRACKER_RATELIMIT_ENABLED="false",
    )
    db.session.commit()
    files = {f"batch-{n}.csv": people(400, f"Web{n}x") for n in range(4)}
    try:
        with processes() as start:
            worker(start, env)
            worker(start, env)
            one, two = serve(start, env), serve(start, env)
            officer_one, officer_two = Browser(one), Browser(two)
            officer_one.sign_in(officer)
            officer_two.sign_in(officer)
            writes = []
            for n, (name, data) in enumerate(files.items()):
                here, there = (officer_one, officer_two) if n % 2 else (officer_two, officer_one)
                writes.append(import_through(here, there, project_id, data, name))
            # a donor report asked on one, followed on the other, while the imports run
            boss_one, boss_two = Browser(one), Browser(two)
            boss_one.sign_in(manager)
            boss_two.sign_in(manager)
            status, headers, body = boss_two.post(
                f"/reports/{project_id}/generate",
                {"from": "2014-06-01", "to": "2015-12-31", "lang": "en"},
                form_page=f"/reports/{project_id}/narrative",
            )
            assert status == 302, body[:500]
            report_job = boss_two.job(headers["Location"])
            ended = [officer_one.until_ended(j) for j in writes]
            assert [e["state"] for e in ended] == ["done"] * len(files), ended
            assert boss_one.until_ended(report_job)["state"] == "done"
            # the report counted whatever had been written when it ran; a second one, now
            status, headers, _ = boss_one.post(
                f"/reports/{project_id}/generate",
                {"from": "2014-06-01", "to": "2015-12-31", "lang": "en"},
                form_page=f"/reports/{project_id}/narrative",
            )
            final_report = boss_one.job(headers["Location"])
            assert boss_two.until_ended(final_report)["state"] == "done"
    finally:
        import redis

        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"*{queue_name}*"):
            client.delete(key)
    total = 400 * len(files)
    # every row once, every job once
    assert count(Participant) == total
    assert count(PendingImport) == 0
    assert count(AuditEvent, AuditEvent.action == "import") == len(files)
    db.session.rollback()
    jobs = db.session.scalars(select(Job).order_by(Job.id)).all()
    assert len(jobs) == 2 * len(files) + 2
    assert all(j.state == "done" and j.attempts == 1 for j in jobs), [
        (j.id, j.kind, j.state, j.attempts, j.error) for j in jobs
    ]
    assert {j.kind for j in jobs} == {"import_check", "import_write", "donor_report"}
    # the figures: the last report counted everyone, as the live definitions do
    report = db.session.get(GeneratedReport, job_row(final_report).result["report_id"])
    assert report.figures["registered"]["value"] == total
    from tracker.indicator_store import checking

    assert list(checking.differences(project)) == []


# --- The embedded default: one command, no Redis, jobs run ---------------------------------


def test_flask_run_on_the_embedded_default_runs_jobs_itself(app, project, make_user):
    """No worker started: the web process runs the jobs in threads of its own."""
    officer = make_user(Role.OFFICER, [project], email="officer@example.org").email
    project_id = project.id
    db.session.commit()  # nothing left to refresh: the test holds no lock on the database
    env = environment(app)
    port = free_port()
    with processes() as start:
        start(
            sys.executable,
            "-m",
            "flask",
            "--app",
            "tracker",
            "run",
            "--port",
            str(port),
            env=env,
        )
        base = serving(port, "flask run")
        browser = Browser(base)
        browser.sign_in(officer)
        write = import_through(browser, browser, project_id, people(50, "Local"), "local.csv")
        assert browser.until_ended(write)["state"] == "done"
    assert count(Participant) == 50
