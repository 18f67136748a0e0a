"""What the ``flask`` commands share: one-line errors, dates and projects from their options.

The commands themselves live beside their feature (``exports/cli.py``,
``maintenance/cli.py``…) and are registered in one place, ``tracker/cli.py``.
"""

from __future__ import annotations

from datetime import date
from typing import NoReturn

import click
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Project


class CommandError(click.ClickException):
    """An error that ends a command: click prints ``Error: <message>`` and exits with ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = code


def fail(message: str, code: int = 1) -> NoReturn:
    """End the command with ``Error: <message>`` on standard error and the exit code ``code``."""
    raise CommandError(message, code)


def parse_date(value: str | None, option: str) -> date | None:
    """Return the date given to ``option`` as YYYY-MM-DD, or None when it was not given."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not a date in the form YYYY-MM-DD")


def project_by_code(code: str) -> Project:
    """Return the project with this code; fail, naming the known codes, if there is none."""
    project = db.session.scalar(select(Project).where(Project.code == code))
    if project is None:
        known = ", ".join(db.session.scalars(select(Project.code).order_by(Project.code)))
        fail(f"unknown project {code!r} (known: {known or 'none'})")
    return project
