"""What every worker does besides jobs: requeue the dead ones, purge the expired ones."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from tracker.extensions import db

log = logging.getLogger(__name__)

#: expired jobs and their files are looked for this often
PURGE_EVERY = 3600.0


class Housekeeper(threading.Thread):
    """Every ``JOBS_REAP_SECONDS``: ``reap``; every hour: ``purge``."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="jobs-housekeeping", daemon=True)
        self.app = app
        self.stopped = threading.Event()

    def run(self) -> None:
        from tracker.imports import incoming
        from tracker.jobs import running

        every = float(self.app.config["JOBS_REAP_SECONDS"])
        last_purge = 0.0
        while not self.stopped.wait(every):
            with self.app.app_context():
                try:
                    running.reap()
                    if time.monotonic() - last_purge > PURGE_EVERY:
                        last_purge = time.monotonic()
                        purged = running.purge()
                        if purged:
                            log.info("%d expired jobs deleted with their files", purged)
                        discarded = incoming.purge_stale(
                            int(self.app.config["INCOMING_RETENTION_DAYS"])
                        )
                        if discarded:
                            log.info("%d unfixed form submissions discarded", discarded)
                except Exception:  # the next round tries again
                    log.exception("jobs housekeeping failed")
                finally:
                    db.session.remove()

    def stop(self) -> None:
        self.stopped.set()
