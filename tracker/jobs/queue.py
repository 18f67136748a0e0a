"""The job queue: Huey, on Redis when one is configured, else on an SQLite file.

``JOBS_WORKER`` says who runs the jobs:

- ``in-process`` (the default without Redis): the web process starts a small consumer
  in threads of its own at its first request, so ``flask run``, ``flask demo`` and
  gunicorn on one machine run jobs with nothing else started;
- ``external`` (the default with Redis): ``flask --app tracker worker`` processes, on
  any host that reaches the database and Redis;
- ``immediate``: each job runs when it is sent, in the sender's thread (tests).

Why Huey and not RQ: docs/deployment.md.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from flask import Flask, current_app
from flask_babel import get_locale
from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from tracker import audit
from tracker.extensions import db
from tracker.jobs.running import run, send
from tracker.models import Job, JobState, Project, User

log = logging.getLogger(__name__)

IN_PROCESS, EXTERNAL, IMMEDIATE = "in-process", "external", "immediate"
#: the longest a consumer waits between two looks at an idle queue
MAX_POLL_SECONDS = 1.0
__all__ = ["init_app", "redis_url", "send", "submit"]


def redis_url(app: Flask) -> str | None:
    return app.config.get("REDIS_URL") or os.environ.get("REDIS_URL") or None


def init_app(app: Flask) -> None:
    """Make the app's queue and the one task it runs: a job, by its id."""
    url = redis_url(app)
    mode = app.config.get("JOBS_WORKER") or (EXTERNAL if url else IN_PROCESS)
    if mode not in (IN_PROCESS, EXTERNAL, IMMEDIATE):
        raise RuntimeError(f"JOBS_WORKER must be in-process, external or immediate, not {mode!r}")
    name = app.config["JOBS_QUEUE_NAME"]
    if mode == IMMEDIATE:
        huey = MemoryHuey(name, immediate=True)
    elif url:
        huey = RedisHuey(name, url=url)
    else:
        huey = SqliteHuey(name, filename=str(Path(app.instance_path) / "jobs.sqlite"))
    app.config["JOBS_WORKER"] = mode

    @huey.task(name="tracker.run_job")
    def run_job(job_id: int) -> None:
        # a context of its own, even when run at once inside a request: its own session
        with app.app_context():
            try:
                run(job_id)
            finally:
                db.session.remove()

    # the kinds of jobs, registered by importing them
    from tracker.exports import jobs as _exports  # noqa: F401
    from tracker.imports import jobs as _imports  # noqa: F401
    from tracker.maintenance import jobs as _maintenance  # noqa: F401
    from tracker.reports import jobs as _reports  # noqa: F401

    app.extensions["huey"] = huey
    app.extensions["huey.run_job"] = run_job
    if mode == IN_PROCESS:
        app.before_request(_start_in_process)


def submit(
    kind: str,
    *,
    user: User | None,
    project: Project | None = None,
    parameters: dict | None = None,
    actor_label: str | None = None,
) -> Job:
    """Record a job for ``user`` and queue it; commit. The caller shows ``/jobs/<id>``."""
    if current_app.config["JOBS_WORKER"] == IN_PROCESS:
        _start_in_process()
    _, label = audit.current_actor()
    job = Job(
        kind=kind,
        state=JobState.QUEUED.value,
        user_id=user.id if user else None,
        actor_label=actor_label or (user.email if user else label),
        project_id=project.id if project else None,
        locale=str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
        parameters=parameters or {},
        done=0,
        attempts=0,
        cancel_requested=False,
    )
    db.session.add(job)
    db.session.flush()
    job_id = job.id
    db.session.commit()
    # the id read before the commit: reading it after would open a transaction (on SQLite
    # a writing one) that a job run at once, on another connection, would wait for
    send(job_id)
    return job


# --- A consumer inside the web process (the embedded default) -------------------------------


class _QuietConsumer(Consumer):
    """Huey's consumer, started from any thread: the server owns the signals."""

    def _set_signal_handlers(self) -> None:
        pass


_consumer_lock = threading.Lock()


def _start_in_process() -> None:
    app = current_app._get_current_object()
    if app.extensions.get("huey.consumer") is not None:
        return
    with _consumer_lock:
        if app.extensions.get("huey.consumer") is not None:
            return
        consumer = _QuietConsumer(
            app.extensions["huey"],
            workers=app.config["JOBS_IN_PROCESS_WORKERS"],
            worker_type="thread",
            periodic=False,
            # an idle queue is looked at every second at most (Huey's default backs off
            # to 10 s: a person would wait that long for her job to start)
            max_delay=MAX_POLL_SECONDS,
        )
        consumer.start()
        app.extensions["huey.consumer"] = consumer
        from tracker.jobs.housekeeping import Housekeeper

        Housekeeper(app).start()
        log.info("jobs run in this process (%s threads)", consumer.workers)
