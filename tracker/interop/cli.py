"""``flask --app tracker export iati``: a project's figures for other systems.

It joins the ``export`` group of ``tracker/exports/cli.py``. Like the other
commands it speaks English, prints one line per error and exits non-zero.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app
from flask_babel import force_locale

from tracker import audit
from tracker.commands import fail, project_by_code
from tracker.extensions import db
from tracker.interop import iati, services


def _folder(out: Path) -> Path:
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        fail(f"cannot write {out}: the folder {folder} does not exist")
    return folder


def _write(out: Path, content: bytes, audited: Callable[[], None]) -> None:
    """Write ``content`` to ``out`` through a temporary file; the file appears once audited."""
    folder = _folder(out)
    temporary: Path | None = None
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".part")
        temporary = Path(name)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        with audit.acting_as("cli:export"):
            audited()
        os.replace(temporary, folder / out.name)
    except OSError as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        fail(f"cannot write {out}: {error.strerror}")
    except BaseException:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise


_project_option = click.option(
    "--project", "project_code", required=True, help="Project code, e.g. IDF-MA-2014."
)
_out_option = click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path)
)


@click.command("iati")
@_project_option
@_out_option
def iati_command(project_code: str, out: Path) -> None:
    """Write a project's IATI 2.03 activity file with its results.

    Targets and actuals of trained, placed and institutions strengthened, for
    each reporting period (calendar quarters) and for the whole project; the
    breakdown by sex of a period is left out when a cell is under the
    small-cell threshold (the file is public).
    """
    _folder(out)
    project = project_by_code(project_code)
    code = project.code
    detail = services.iati_audit_detail(project)
    with force_locale("en"):
        content = services.iati_file(project, current_app.config)
    db.session.rollback()

    def audited() -> None:
        services.record_audit(services.IATI, detail, remote_addr=None)

    _write(out, content, audited)
    click.echo(
        f"Wrote {out} (IATI {iati.VERSION}, project {code}, {detail['periods']} reporting periods)."
    )
