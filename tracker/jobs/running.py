"""Running a job: claiming it once, its progress, cancelling, failing, and the dead.

The queue message carries a job's id only. A worker *claims* the job with one
conditional UPDATE (``queued`` → ``running``), so a message delivered twice runs it
once; the handler of its kind does its work in the worker's session without
committing, and the job is marked ``done`` **in the same transaction** as the work:
an import's rows, a report's file record and the job's "done" land together or not at
all. A worker killed in the middle leaves a job ``running`` whose heartbeat stops;
``reap`` (run by every worker every ``JOBS_REAP_SECONDS``, and by the job page)
requeues it when its kind may safely start again, or fails it.

Progress and heartbeats go through the queue's own storage (Redis, or the SQLite file
of the embedded default), not the database: a worker in the middle of a long write
transaction holds SQLite's write lock, and the page must still see it move.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from tracker import audit
from tracker.database import READ_ONLY
from tracker.extensions import db
from tracker.models import FINISHED_JOB_STATES, Job, JobState, User, now_utc

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside a job when its cancellation was asked: its transaction is rolled back."""


class JobFailed(Exception):
    """A job cannot be done as asked; ``message`` tells the person what to do."""

    def __init__(self, message: str, *, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: kept as the job's result: what the page links to (the preview to look at…)
        self.result = result


@dataclass(frozen=True)
class Kind:
    name: str
    run: Callable[[Job, Progress], dict[str, Any] | None]
    #: may start again from the beginning after a worker died in the middle: its
    #: writes are one transaction, committed with the job's "done"
    restartable: bool
    #: reads the database and writes a file only: its transaction begins deferred, so
    #: that on SQLite it never holds the write lock (the job's end is written after)
    reads_only: bool


KINDS: dict[str, Kind] = {}


def kind(name: str, *, restartable: bool = True, reads_only: bool = False):
    """Register the function that does the jobs of ``name``.

    It receives the job (in the worker's session) and its progress, works in
    ``db.session`` without committing, and returns the job's result (a dict kept as
    ``Job.result``) or raises ``JobFailed`` with a message for the person.
    """

    def register(function):
        KINDS[name] = Kind(name, function, restartable, reads_only)
        return function

    return register


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- Live state, in the queue's storage ---------------------------------------------------


def _huey():
    return current_app.extensions["huey"]


def _key(job_id: int, what: str) -> str:
    return f"tracker:job:{job_id}:{what}"


def live(job_id: int) -> dict[str, Any] | None:
    """The progress a running job last reported, or None."""
    try:
        return _huey().get(_key(job_id, "progress"), peek=True)
    except Exception:  # the queue's storage is down: the database's state is shown
        log.warning("job %s: its progress could not be read", job_id, exc_info=True)
        return None


def last_beat(job_id: int) -> float | None:
    try:
        return _huey().get(_key(job_id, "beat"), peek=True)
    except Exception:
        log.warning("job %s: its heartbeat could not be read", job_id, exc_info=True)
        return None


def _forget_live(job_id: int) -> None:
    huey = _huey()
    for what in ("progress", "beat", "cancel"):
        try:
            huey.get(_key(job_id, what))  # reads and deletes
        except Exception:
            log.warning("job %s: its live state could not be deleted", job_id, exc_info=True)


def ask_cancel(job_id: int) -> None:
    """Tell a running job to stop at its next step (the database flag is set by the caller)."""
    _huey().put(_key(job_id, "cancel"), True)


class Progress:
    """What a handler reports as it goes: a step in words, and rows or steps done of total."""

    #: at most this often to the queue's storage
    EVERY = 0.5

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.step_label: str | None = None
        self.done = 0
        self.total: int | None = None
        self._sent = 0.0

    def step(self, label: str, total: int | None = None) -> None:
        """Start a step: ``label`` (translated) with ``total`` rows or units to do."""
        self.step_label, self.total, self.done = label, total, 0
        self._send(force=True)

    def update(self, done: int, total: int | None = None) -> None:
        """Say how far the step has gone; raise ``Cancelled`` if the job was cancelled."""
        self.done = done
        if total is not None:
            self.total = total
        self._send()

    def _send(self, *, force: bool = False) -> None:
        moment = time.monotonic()
        if not force and moment - self._sent < self.EVERY:
            return
        self._sent = moment
        huey = _huey()
        if huey.get(_key(self.job_id, "cancel"), peek=True):
            raise Cancelled
        huey.put(
            _key(self.job_id, "progress"),
            {"step": self.step_label, "done": self.done, "total": self.total},
        )


class _Heartbeat:
    """A thread that says every few seconds that the worker running a job is alive."""

    def __init__(self, app: Flask, job_id: int) -> None:
        self.app, self.job_id = app, job_id
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"job-{job_id}-beat", daemon=True)

    def _beat(self) -> None:
        huey = self.app.extensions["huey"]
        every = self.app.config["JOBS_HEARTBEAT_SECONDS"]
        while True:
            try:
                huey.put(_key(self.job_id, "beat"), time.time())
            except Exception:
                log.warning("job %s: heartbeat not sent", self.job_id, exc_info=True)
            if self.stopped.wait(every):
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()


# --- Claiming, running, ending ------------------------------------------------------------


def _claim(job_id: int) -> str | None:
    """Mark the job running for this worker, if it is still queued; commit; its kind."""
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED.value, ~Job.cancel_requested)
        .values(
            state=JobState.RUNNING.value,
            started_at=now_utc(),
            attempts=Job.attempts + 1,
            worker=worker_name(),
            error=None,
        )
    ).rowcount
    name = db.session.scalar(select(Job.kind).where(Job.id == job_id)) if claimed else None
    db.session.commit()
    return name


#: what a handler sets on its job when it makes a file
FILE_COLUMNS = ("file_path", "file_name", "file_type", "file_size")


def _end(job_id: int, state: JobState, **values: Any) -> None:
    """Write how a job ended, on its own (the work's transaction was rolled back)."""
    db.session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(state=state.value, finished_at=now_utc(), expires_at=expiry(), **values)
    )
    db.session.commit()


def expiry():
    return now_utc() + timedelta(days=current_app.config["JOBS_RETENTION_DAYS"])


def _transient(error: BaseException) -> bool:
    """A failure that trying again later may not meet: a lost or busy database."""
    if isinstance(error, OperationalError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def run(job_id: int) -> None:
    """Run job ``job_id`` to its end in this worker (in an app context)."""
    app = current_app._get_current_object()
    name = _claim(job_id)
    if name is None:
        log.info("job %s: not queued any more (done, cancelled or taken); skipped", job_id)
        return
    handler = KINDS.get(name)
    if handler is not None and handler.reads_only:
        db.session.connection(execution_options={READ_ONLY: True})
    job = db.session.get(Job, job_id)
    progress = Progress(job_id)
    user = db.session.get(User, job.user_id) if job.user_id else None
    log.info("job %s (%s) started, attempt %s", job_id, job.kind, job.attempts)
    with _Heartbeat(app, job_id), force_locale(job.locale), audit.acting_as(job.actor_label, user):
        try:
            if handler is None:
                raise JobFailed(_("This kind of job is unknown to this version of the app."))
            result = handler.run(job, progress)
            ending = {
                "result": result or {},
                "done": progress.done,
                "total": progress.total,
                "step": None,
                **{column: getattr(job, column) for column in FILE_COLUMNS},
            }
            if handler.reads_only:
                # a transaction of its own, which may write
                db.session.rollback()
                _end(job_id, JobState.DONE, **ending)
            else:
                # with the job's work: both kept, or neither
                for column, value in ending.items():
                    setattr(job, column, value)
                job.state = JobState.DONE.value
                job.finished_at = now_utc()
                job.expires_at = expiry()
                db.session.commit()
        except Cancelled:
            db.session.rollback()
            _discard_file(job_id)
            _end(job_id, JobState.CANCELLED, step=None)
            log.info("job %s cancelled; nothing of it was kept", job_id)
        except JobFailed as failed:
            db.session.rollback()
            _discard_file(job_id)
            _end(job_id, JobState.FAILED, error=failed.message, result=failed.result, step=None)
            log.info("job %s failed: %s", job_id, failed.message)
        except Exception as error:
            db.session.rollback()
            _discard_file(job_id)
            attempts = db.session.scalar(select(Job.attempts).where(Job.id == job_id)) or 0
            retry = (
                handler is not None
                and handler.restartable
                and _transient(error)
                and attempts < app.config["JOBS_MAX_ATTEMPTS"]
            )
            log.exception("job %s (%s) stopped by an error%s", job_id, name, retry * "; retried")
            if retry:
                _requeue(job_id, delay=app.config["JOBS_RETRY_DELAY_SECONDS"] * attempts)
            else:
                _end(
                    job_id,
                    JobState.FAILED,
                    step=None,
                    error=_(
                        "An unexpected error stopped the job; nothing of it was kept. Try "
                        "again; if it fails again, tell an administrator (job %(id)d).",
                        id=job_id,
                    ),
                )
        finally:
            _forget_live(job_id)


def send(job_id: int, *, delay: float = 0) -> None:
    """Put ``job_id`` on the queue (committed first: the worker reads it from the database)."""
    task = current_app.extensions["huey.run_job"]
    if delay and current_app.config["JOBS_WORKER"] != "immediate":
        task.schedule((job_id,), delay=delay)
    else:
        task(job_id)


def _requeue(job_id: int, *, delay: float = 0) -> None:
    db.session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(state=JobState.QUEUED.value, worker=None, started_at=None, step=None)
    )
    db.session.commit()
    send(job_id, delay=delay)


# --- The dead, and the old ---------------------------------------------------------------


def _read(statement) -> list:
    """Run ``statement`` in a short read of its own: on SQLite it takes no write lock."""
    db.session.rollback()
    db.session.connection(execution_options={READ_ONLY: True})
    rows = db.session.execute(statement).all()
    db.session.rollback()
    return rows


def is_dead(job: Job) -> bool:
    """Whether ``job``, shown as running, has had no heartbeat for ``JOBS_STALE_SECONDS``."""
    stale = current_app.config["JOBS_STALE_SECONDS"]
    if job.state != JobState.RUNNING.value or job.started_at is None:
        return False
    started = job.started_at if job.started_at.tzinfo else job.started_at.replace(tzinfo=UTC)
    if now_utc() - started < timedelta(seconds=stale):
        return False
    beat = last_beat(job.id)
    return beat is None or time.time() - beat >= stale


def reap() -> int:
    """Requeue or fail the running jobs whose worker stopped beating; return how many."""
    stale = current_app.config["JOBS_STALE_SECONDS"]
    now = time.time()
    found = 0
    cutoff = now_utc() - timedelta(seconds=stale)
    running = _read(
        select(Job.id, Job.kind, Job.attempts, Job.locale, Job.cancel_requested).where(
            Job.state == JobState.RUNNING.value, Job.started_at < cutoff
        )
    )
    for job_id, kind_name, attempts, locale, cancelled in running:
        beat = last_beat(job_id)
        if beat is not None and now - beat < stale:
            continue
        found += 1
        handler = KINDS.get(kind_name)
        again = (
            not cancelled  # its cancellation was asked: it ends cancelled, not started again
            and handler is not None
            and handler.restartable
            and attempts < current_app.config["JOBS_MAX_ATTEMPTS"]
        )
        # only if still running as read: another reaper may have been first
        values: dict[str, Any] = {"worker": None, "step": None}
        if cancelled:
            values.update(
                state=JobState.CANCELLED.value, finished_at=now_utc(), expires_at=expiry()
            )
        elif again:
            values.update(state=JobState.QUEUED.value, started_at=None)
        else:
            with force_locale(locale):  # the language of the person who asked
                error = _(
                    "The worker running this job stopped before it finished; nothing of it "
                    "was kept. Start it again."
                )
            values.update(
                state=JobState.FAILED.value,
                finished_at=now_utc(),
                expires_at=expiry(),
                error=error,
            )
        changed = db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.RUNNING.value, Job.attempts == attempts)
            .values(**values)
        ).rowcount
        db.session.commit()
        if changed:
            _forget_live(job_id)
            if again:
                send(job_id)
            log.warning("job %s: its worker stopped; %s", job_id, values["state"])
    return found + _resend_lost(cutoff - timedelta(seconds=4 * stale))


def _resend_lost(before) -> int:
    """Queue again the jobs queued long ago whose message is not on the queue any more.

    A Redis that restarted empty, or a worker killed between taking a message and
    claiming its job, loses the message; the job, in the database, is still "queued".
    """
    waiting = [
        job_id
        for (job_id,) in _read(
            select(Job.id).where(Job.state == JobState.QUEUED.value, Job.created_at < before)
        )
    ]
    if not waiting:
        return 0
    huey = _huey()
    on_queue = {task.args[0] for task in [*huey.pending(), *huey.scheduled()] if task.args}
    lost = [job_id for job_id in waiting if job_id not in on_queue]
    for job_id in lost:
        log.warning("job %s: queued but not on the queue; sent again", job_id)
        send(job_id)
    return len(lost)


def purge() -> int:
    """Delete the finished jobs past their expiry, with their files; return how many."""
    # looked for without the write lock (SQLite): most rounds find nothing to delete
    expired = _read(
        select(Job.id, Job.file_path).where(
            Job.state.in_([s.value for s in FINISHED_JOB_STATES]), Job.expires_at < now_utc()
        )
    )
    for _job_id, path in expired:
        if path:
            _remove(files_dir() / path)
    for batch in range(0, len(expired), 1000):
        ids = [job_id for job_id, _path in expired[batch : batch + 1000]]
        db.session.execute(delete(Job).where(Job.id.in_(ids)))
    db.session.commit()
    return len(expired)


# --- Result files -------------------------------------------------------------------------


def private_dir(setting: str, default: str) -> Path:
    """The folder the setting names, else ``instance/<default>``; made private (0700)."""
    configured = current_app.config.get(setting)
    folder = Path(configured) if configured else Path(current_app.instance_path) / default
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def files_dir() -> Path:
    """The folder of job results: shared storage when workers run on other hosts."""
    return private_dir("JOBS_FILES_DIR", "job-files")


def new_file(job: Job, suffix: str) -> Path:
    """A new private file (mode 0600) for ``job``'s result; any earlier try's is replaced."""
    _discard_file(job.id)
    name = f"job-{job.id}{suffix}"
    path = files_dir() / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    job.file_path = name
    return path


def _discard_file(job_id: int) -> None:
    folder = files_dir()
    for path in folder.glob(f"job-{job_id}.*"):
        _remove(path)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
