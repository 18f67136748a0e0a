"""``flask --app tracker indicators verify|rebuild [--project CODE]``."""

from __future__ import annotations

import time

import click
from sqlalchemy import select

from tracker.commands import project_by_code
from tracker.database import READ_ONLY
from tracker.extensions import db
from tracker.indicator_store import checking, keeping
from tracker.jobs.terminal import TerminalProgress
from tracker.models import Project


def _projects(code: str | None) -> list[Project]:
    if code:
        return [project_by_code(code)]
    return list(db.session.scalars(select(Project).order_by(Project.code)))


@click.group("indicators")
def indicators_group() -> None:
    """Check or rebuild the indicator store (the counters behind the dashboard)."""


@indicators_group.command("verify")
@click.option("--project", "code", default=None, help="Only this project (default: all).")
def verify_command(code: str | None) -> None:
    """Compare the store with the live definitions; print every difference.

    Exits 0 when the store equals the records, 1 otherwise.
    """
    found = 0
    for project in _projects(code):
        db.session.rollback()
        _snapshot()
        started = time.perf_counter()
        mine = 0
        for line in checking.differences(project):
            click.echo(line)
            mine += 1
        found += mine
        if not mine:
            click.echo(
                f"{project.code}: the store equals the records "
                f"({time.perf_counter() - started:.1f} s)."
            )
    db.session.rollback()
    if found:
        click.echo(
            f"{found} difference(s): run `flask --app tracker indicators rebuild`.", err=True
        )
        raise SystemExit(1)


def _snapshot() -> None:
    """Begin a transaction that reads one snapshot and takes no write lock.

    SQLite: a deferred transaction (commands otherwise begin IMMEDIATE and would hold
    writers back for the whole check); PostgreSQL: REPEATABLE READ, so that a change
    committed while the check runs does not show as a difference.
    """
    options: dict = {READ_ONLY: True}
    if db.engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    db.session.connection(execution_options=options)


@indicators_group.command("rebuild")
@click.option("--project", "code", default=None, help="Only this project (default: all).")
def rebuild_command(code: str | None) -> None:
    """Compute the store again from the records, one transaction per project.

    Safe while the app runs: readers see the old counters until each project's
    transaction commits; writers of that project wait for it.
    """
    for project in _projects(code):
        started = time.perf_counter()
        with TerminalProgress() as bar:
            bar.step(project.code)
            people = keeping.rebuild(project.id, progress=bar.update)
        db.session.commit()
        elapsed = time.perf_counter() - started
        click.echo(f"{project.code}: rebuilt from {people} people in {elapsed:.1f} s.")
