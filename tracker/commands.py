"""What the ``flask`` commands share: one-line errors, dates and projects from their options.

The commands themselves live beside their feature (``exports/cli.py``,
``maintenance/cli.py``…) and are registered in one place, ``tracker/cli.py``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
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


def output_folder(out: Path) -> Path:
    """Return the folder ``out`` is to be written in; fail if it does not exist."""
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        fail(f"cannot write {out}: the folder {folder} does not exist")
    return folder


@contextmanager
def replacing(out: Path) -> Iterator[Path]:
    """Yield a new empty file beside ``out`` (mode 0600: personal data); put it in place of
    ``out`` when the block ends. A failed block leaves ``out`` as it was and no stray file."""
    folder = output_folder(out)
    temporary: Path | None = None
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".part")
        os.close(fd)
        temporary = Path(name)
        yield temporary
        os.replace(temporary, folder / out.name)
    except OSError as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        fail(f"cannot write {out}: {error.strerror}")
    except BaseException:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise
