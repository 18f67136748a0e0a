"""``flask --app tracker worker``: run jobs, on this host, from the app's queue."""

from __future__ import annotations

import logging

import click
from flask import current_app
from huey.consumer import Consumer

from tracker.jobs import queue, running
from tracker.jobs.housekeeping import Housekeeper


@click.command("worker")
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Jobs run at once by this worker.",
)
def worker_command(threads: int) -> None:
    """Run the jobs of the queue (Redis when REDIS_URL is set, else instance/jobs.sqlite).

    Start as many as needed, on any host that reaches the database, the queue and the
    job files' folder (JOBS_FILES_DIR). Stop with Ctrl-C or SIGTERM: the jobs running
    finish first.
    """
    app = current_app._get_current_object()
    if app.config["JOBS_WORKER"] == queue.IMMEDIATE:
        raise click.UsageError("JOBS_WORKER is 'immediate': jobs run where they are sent.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # jobs a dead worker left "running": requeued or failed before taking new ones
    running.reap()
    housekeeper = Housekeeper(app)
    housekeeper.start()
    where = "Redis" if queue.redis_url(app) else app.extensions["huey"].storage.filename
    click.echo(f"worker {running.worker_name()}: {threads} threads, queue {where}", err=True)
    consumer = Consumer(
        app.extensions["huey"],
        workers=threads,
        worker_type="thread",
        periodic=False,
        max_delay=queue.MAX_POLL_SECONDS,
    )
    try:
        consumer.run()
    finally:
        housekeeper.stop()
