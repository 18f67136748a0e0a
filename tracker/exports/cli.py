"""``flask --app tracker export``: the same exports as the web, written to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import current_app
from sqlalchemy import select

from tracker import audit
from tracker.commands import fail, output_folder, parse_date, project_by_code, replacing
from tracker.database import READ_ONLY
from tracker.exports import services
from tracker.extensions import db
from tracker.interop.cli import dhis2_command, iati_command
from tracker.jobs.terminal import TerminalProgress
from tracker.models import Project

#: the options of ``export KIND``, the same for every table (as before ``export`` was a group)
_TABLE_OPTIONS = (
    click.option(
        "--format", "fmt", type=click.Choice(services.FORMATS), default="csv", show_default=True
    ),
    click.option("--project", "project_code", default=None, help="Project code (default: all)."),
    click.option(
        "--pseudonymous",
        is_flag=True,
        help="Codes only: no names, birth dates, contacts (indicators: small numbers hidden).",
    ),
    click.option("--hxl", is_flag=True, help="Add a row of HXL hashtags under the header."),
    click.option(
        "--delimiter",
        type=click.Choice(sorted(services.DELIMITERS)),
        default="semicolon",
        show_default=True,
        help="CSV separator.",
    ),
    click.option("--from", "start", default=None, help="Indicators: first day, YYYY-MM-DD."),
    click.option("--to", "end", default=None, help="Indicators: last day, YYYY-MM-DD."),
    click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path)),
)


@click.group("export")
def export_command() -> None:
    """Export a table (CSV, XLSX), a project's IATI results or its DHIS2 aggregates.

    A table: export KIND [--format csv|xlsx] --out FILE, KIND being a table of
    records or "indicators" (the indicator tables).
    """


def _table_command(kind: str) -> click.Command:
    """Return the ``export KIND`` command of one table."""

    def command(**options: Any) -> None:
        export_table(kind, **options)

    for option in reversed(_TABLE_OPTIONS):
        command = option(command)

    help_text = (
        "Export the indicator tables: every headline figure and breakdown, for a period."
        if kind == services.INDICATORS
        else f"Export the table {kind} (CSV or XLSX)."
    )
    return click.command(kind, help=help_text)(command)


def export_table(
    kind: str,
    *,
    fmt: str,
    project_code: str | None,
    pseudonymous: bool,
    hxl: bool,
    delimiter: str,
    start: str | None,
    end: str | None,
    out: Path,
) -> None:
    """Write one table of records, or the indicator tables, to ``out``."""
    start_date = parse_date(start, "--from")
    end_date = parse_date(end, "--to")
    if kind != services.INDICATORS and (start_date or end_date):
        fail("--from and --to apply to the indicator tables only")
    if start_date and end_date and end_date < start_date:
        fail("--to is before --from")
    output_folder(out)
    project = project_by_code(project_code) if project_code is not None else None
    chosen = (
        [project]
        if project is not None
        else list(db.session.scalars(select(Project).order_by(Project.code)))
    )
    # codes now: after the read transaction ends, ORM objects would reload (and lock)
    project_codes = [project_code] if project_code is not None else []

    connection = None
    if kind == services.INDICATORS:
        start_date = start_date or min((p.start_date for p in chosen), default=None)
        end_date = end_date or max((p.end_date for p in chosen), default=None)
        export = services.indicator_export(
            chosen,
            start_date,
            end_date,
            suppress_small=pseudonymous,
            threshold=current_app.config["SMALL_CELL_THRESHOLD"],
        )
    else:
        # rows stream from a read-only snapshot: commands otherwise take SQLite's write
        # lock when they begin, and would hold every writer up while the file is written
        connection = db.engine.connect().execution_options(**{READ_ONLY: True})
        export = services.record_export(
            kind,
            user=None,
            project=project,
            pseudonymous=pseudonymous,
            connection=connection,
        )
    db.session.rollback()
    written = 0
    bar = TerminalProgress()
    if bar.shown and kind != services.INDICATORS:
        # on a terminal only: counting the rows costs a query the pipe does not need
        bar.step("rows written", export.count)

    def counted(rows):
        nonlocal written
        for row in rows:
            written += 1
            if written % 1000 == 0:
                bar.update(written)
            yield row
        bar.close()

    try:
        with replacing(out) as temporary:
            rows = counted(export.rows)
            if fmt == "csv":
                chunks = services.render_csv(
                    export, rows=rows, hxl=hxl, delimiter=services.DELIMITERS[delimiter]
                )
                with temporary.open("wb") as fh:
                    for chunk in chunks:
                        fh.write(chunk)
            else:
                # written row by row as they are read: memory stays flat
                with temporary.open("wb") as fh:
                    services.save_xlsx(export, fh, rows=rows, hxl=hxl)
            # whom the file held: the people of the rows written
            detail = services.audit_detail(
                export,
                fmt=fmt,
                project_codes=project_codes,
                hxl=hxl,
                rows=written,
                start=start_date if kind == services.INDICATORS else None,
                end=end_date if kind == services.INDICATORS else None,
            )
            if connection is not None:
                connection.close()
                connection = None
            db.session.rollback()
            # the file appears only once its export is in the audit log
            with audit.acting_as("cli:export"):
                services.record_audit(kind, detail, remote_addr=None)
    finally:
        if connection is not None:
            connection.close()
    what = "pseudonymous " if pseudonymous and kind != services.INDICATORS else ""
    click.echo(f"Wrote {out} ({written:,} rows of {what}{kind}).")


for _kind in services.KINDS:
    export_command.add_command(_table_command(_kind))
export_command.add_command(iati_command)
export_command.add_command(dhis2_command)
