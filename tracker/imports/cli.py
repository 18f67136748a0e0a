"""``flask --app tracker import`` and ``xlsform``: spreadsheets and field forms in.

Exit codes of ``import``: 0 when every row was imported (or a dry run found nothing
wrong), 1 when invalid rows were found (with ``--keep-valid`` the valid ones were
still written), 2 when the file or the arguments cannot be used at all.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from tracker import audit
from tracker.commands import fail
from tracker.config import LANGUAGES
from tracker.extensions import db
from tracker.imports import reader, services, xlsform
from tracker.imports.header import KINDS
from tracker.imports.report import Context, Report
from tracker.jobs.terminal import TerminalProgress
from tracker.models import Project
from tracker.text import visible_text

UNUSABLE = 2
INVALID = 1


def fail_unusable(message: str) -> None:
    """End the command: the file or the arguments cannot be used (exit code 2)."""
    fail(message, UNUSABLE)


def read_limited(path: Path, limit: int) -> bytes:
    """Return the bytes of ``path``, refusing a file over ``limit`` without reading it all."""
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise reader.FileRefused(
            _("The file is larger than %(mb)d MB: split it.", mb=limit // (1024 * 1024))
        )
    return data


def print_report(report: Report, *, dry_run: bool, keep_valid: bool) -> None:
    """Print the report: errors, warnings, then what was (or would be) done."""
    click.echo(
        _(
            "%(file)s: %(rows)d rows read, %(valid)d valid, %(invalid)d invalid, "
            "%(skipped)d already imported.",
            file=report.filename,
            rows=report.rows,
            valid=report.valid,
            invalid=report.invalid,
            skipped=report.skipped,
        )
    )
    if report.errors:
        click.echo(_("Errors:"))
        for problem in report.errors:
            click.echo(f"  {problem}")
    if report.warnings:
        click.echo(_("To check:"))
        for problem in report.warnings:
            click.echo(f"  {problem}")
    if report.left_out:
        click.echo(
            _(
                "Left out, as they may be there already: rows %(rows)s. Give --include-row N "
                "to import one anyway, --include-flagged for all.",
                rows=", ".join(str(n) for n in report.left_out),
            )
        )
    if dry_run:
        click.echo(
            _(
                "Dry run: nothing written; %(n)d rows would be imported.",
                n=report.valid - len(report.left_out),
            )
            if not report.errors or keep_valid
            else _("Dry run: nothing written.")
        )
    elif report.written:
        click.echo(_("Imported %(n)d rows.", n=report.written))
    elif report.errors and report.valid:
        click.echo(
            _(
                "Nothing written: correct the rows above, or use --keep-valid to import "
                "the %(n)d valid rows.",
                n=report.valid,
            )
        )
    else:
        click.echo(_("Nothing written."))


@click.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--project",
    "project_code",
    default=None,
    help="Project of the rows whose project_code is blank (a KoboToolbox export has none).",
)
@click.option("--dry-run", is_flag=True, help="Check every row and write nothing.")
@click.option(
    "--keep-valid", is_flag=True, help="Write the valid rows even when others are invalid."
)
@click.option(
    "--include-row",
    "include_rows",
    type=click.IntRange(min=2),
    multiple=True,
    help="Import this row even if it may be there already (a likely duplicate); repeatable.",
)
@click.option("--include-flagged", is_flag=True, help="Import every row that may be there already.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, help="Language of messages.")
def import_command(
    kind: str,
    file: Path,
    project_code: str | None,
    dry_run: bool,
    keep_valid: bool,
    include_rows: tuple[int, ...],
    include_flagged: bool,
    lang: str | None,
) -> None:
    """Import participants, enrolments, placements, follow-ups, partners, courses,
    activities or their attendance from a CSV or XLSX file.

    The columns are those of the exports (docs/columns.md). Every bad row is listed
    with its row number, column and reason; nothing is written when any row is invalid,
    unless --keep-valid is given. A partner, course, activity or attendance already
    recorded is skipped. Rows that may be there already (likely duplicates, a placement
    recorded already) are left out unless --include-row or --include-flagged says
    otherwise. The whole import is one transaction.
    """
    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        _import(
            kind,
            file,
            project_code,
            dry_run=dry_run,
            keep_valid=keep_valid,
            include=True if include_flagged else set(include_rows),
        )


def _import(
    kind: str,
    file: Path,
    project_code: str | None,
    *,
    dry_run: bool,
    keep_valid: bool,
    include: bool | set[int],
):
    config = current_app.config
    project = None
    if project_code is not None:
        project = db.session.scalar(select(Project).where(Project.code == project_code))
        if project is None:
            fail_unusable(_("unknown project %(code)s", code=project_code))
    try:
        data = read_limited(file, config["IMPORT_MAX_BYTES"])
        sheet = reader.read(data, max_rows=config["IMPORT_MAX_ROWS"])
    except reader.FileRefused as refused:
        fail_unusable(f"{file.name}: {refused.message}")
    bar = TerminalProgress()
    ctx = Context(
        user=None,
        default_project=project,
        today=date.today(),
        progress=bar.update,
        step=bar.step,
    )
    with audit.acting_as("cli:import"), bar:
        report = services.run(
            kind,
            sheet,
            filename=visible_text(file.name),
            digest=services.sha256(data),
            ctx=ctx,
            keep_valid=keep_valid,
            dry_run=dry_run,
            include_flagged=include,
        )
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    print_report(report, dry_run=dry_run, keep_valid=keep_valid)
    if report.file_errors:
        sys.exit(UNUSABLE)
    if report.errors:
        sys.exit(INVALID)


@click.command("xlsform")
@click.argument("kind", type=click.Choice(xlsform.KINDS))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="The XLSForm file to write (.xlsx).",
)
@click.option("--project", "project_code", default=None, help="Project the form collects for.")
def xlsform_command(kind: str, out: Path, project_code: str | None) -> None:
    """Write an XLSForm for KoboToolbox or ODK whose fields are the import columns.

    Upload it to KoboToolbox (or ODK Central), collect offline with KoboCollect or ODK
    Collect, then import the export as it comes: `flask --app tracker import
    participants EXPORT.xlsx --project CODE`.
    """
    project = None
    if project_code is not None:
        project = db.session.scalar(select(Project).where(Project.code == project_code))
        if project is None:
            fail_unusable(f"unknown project {project_code!r}")
    if not out.parent.is_dir():
        fail_unusable(f"{out.parent} is not a folder")
    out.write_bytes(xlsform.build(kind, project=project))
    click.echo(f"Wrote {out}")
