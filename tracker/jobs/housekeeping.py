"""What every worker does besides jobs: requeue the dead ones, purge what has expired."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from tracker.extensions import db

log = logging.getLogger(__name__)

#: expired jobs and their files are looked for this often
PURGE_EVERY = 3600.0


def purge(app: Flask) -> None:
    """Delete what is kept for a while only: expired jobs and their files, uploads not
    imported within a day, form submissions nobody fixed (each commits)."""
    from tracker.imports import incoming, services
    from tracker.jobs import running

    purged = running.purge()
    if purged:
        log.info("%d expired jobs deleted with their files", purged)
    # unconfirmed uploads hold whole files of personal data: issue 17 found one 12 days
    # old, still there because nobody had uploaded since
    uploads = services.purge()
    db.session.commit()
    if uploads:
        log.info("%d uploads not imported within a day deleted", uploads)
    discarded = incoming.purge_stale(int(app.config["INCOMING_RETENTION_DAYS"]))
    if discarded:
        log.info("%d unfixed form submissions discarded", discarded)


class Housekeeper(threading.Thread):
    """Every ``JOBS_REAP_SECONDS``: ``reap``; every hour: ``purge``."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="jobs-housekeeping", daemon=True)
        self.app = app
        self.stopped = threading.Event()

    def run(self) -> None:
        from tracker.jobs import running

        every = float(self.app.config["JOBS_REAP_SECONDS"])
        # the first round purges: a worker started often (or on a machine up for less
        # than an hour, monotonic time counting from the boot) would otherwise never do it
        last_purge: float | None = None
        while not self.stopped.wait(every):
            with self.app.app_context():
                try:
                    running.reap()
                    if last_purge is None or time.monotonic() - last_purge > PURGE_EVERY:
                        last_purge = time.monotonic()
                        purge(self.app)
                except Exception:  # the next round tries again
                    log.exception("jobs housekeeping failed")
                finally:
                    db.session.remove()

    def stop(self) -> None:
        self.stopped.set()
