"""``flask --app tracker backup | restore | retention``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from tracker import audit
from tracker.commands import fail, project_by_code
from tracker.extensions import db
from tracker.maintenance import backup as backups
from tracker.maintenance import retention


def _live_database() -> Path | None:
    """Return the SQLite file the app uses, or None when it uses PostgreSQL."""
    try:
        return backups.sqlite_path(db.engine.url)
    except backups.BackupError as error:
        fail(str(error))
    return None


def _migrations() -> tuple[str, list[str]]:
    """Return the head revision and every revision of this version of the app, newest first."""
    from alembic.script import ScriptDirectory

    migrate = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    return script.get_current_head(), [rev.revision for rev in script.walk_revisions()]


@click.command("backup")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (an SQLite database).",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
def backup_command(out: Path, overwrite: bool) -> None:
    """Copy the database to OUT, consistently, while the app keeps running.

    The copy holds every person's personal data: it is created readable and
    writable by its owner only (mode 0600). Keep it encrypted and off shared
    folders. SQLite only; for PostgreSQL the command prints the pg_dump to run.
    """
    live = _live_database()
    if live is None:
        fail(backups.pg_dump_advice(db.engine.url))
    try:
        made = backups.backup(live, out, overwrite=overwrite)
    except backups.BackupError as error:
        fail(str(error))
    with audit.acting_as("cli:backup"):
        audit.record(
            db.session,
            "backup",
            "database",
            None,
            {"file": str(out.resolve()), "bytes": made.size, "sha256": made.sha256},
        )
        db.session.commit()
    click.echo(
        f"Wrote {out} ({made.size:,} bytes, {made.participants:,} participants, revision"
        f" {made.revision or 'none'}; SHA-256 {made.sha256[:12]}; mode 0600, personal data)."
    )


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(file: Path, yes: bool) -> None:
    """Replace the database with FILE, a backup made by `backup`.

    FILE is checked first (an SQLite database that passes its integrity check,
    with this app's tables and a migration revision this version knows); nothing
    is replaced unless it passes. The replaced database is kept beside the live
    one with the time in its name (mode 0600). Best done with the app stopped:
    what it writes during the restore is lost. SQLite only; for PostgreSQL the
    command prints the pg_restore to run.
    """
    live = _live_database()
    if live is None:
        fail(backups.pg_restore_advice(db.engine.url))
    head, known = _migrations()
    db.session.remove()
    try:
        candidate = backups.check_candidate(
            file, live, head=head, known_revisions=known, tables=set(db.metadata.tables)
        )
    except backups.BackupError as error:
        fail(f"{error}. Nothing was replaced.")
    if not yes:
        question = (
            f"Replace {live} ({backups.live_participants(live):,} participants) with {file}"
            f" ({candidate.participants:,} participants, revision {candidate.revision})?"
        )
        if not click.confirm(question):
            backups.discard(candidate)
            fail("cancelled. Nothing was replaced.")
    db.engine.dispose()  # no pooled connection in the middle of a transaction
    try:
        kept = backups.restore(candidate, live)
    except backups.BackupError as error:
        backups.discard(candidate)
        fail(str(error))
    db.engine.dispose()
    try:
        with audit.acting_as("cli:restore"):
            audit.record(
                db.session,
                "restore",
                "database",
                None,
                {
                    "file": str(file.resolve()),
                    "sha256": candidate.sha256,
                    "revision": candidate.revision,
                    "replaced_kept_as": str(kept),
                },
            )
            db.session.commit()
    except SQLAlchemyError:
        # an older schema may not take today's audit line; the restore itself is done
        db.session.rollback()
        click.echo("Note: the audit line of the restore could not be written.", err=True)
    click.echo(
        f"Restored {file} ({candidate.participants:,} participants). The replaced database"
        f" is kept at {kept} (mode 0600, personal data)."
    )
    if candidate.upgrade_needed:
        click.echo(
            f"The backup is from an older version (revision {candidate.revision}, current"
            f" {head}): run `flask --app tracker db upgrade` before using the app."
        )


@click.command("retention")
@click.option(
    "--erase", "do_erase", is_flag=True, help="Erase their identity (codes and figures stay)."
)
@click.option("--project", "project_code", default=None, help="Only this project's participants.")
def retention_command(do_erase: bool, project_code: str | None) -> None:
    """List the participants past the retention period (RETENTION_YEARS after their
    last activity); with --erase, erase their identity in one transaction.
    """
    years = current_app.config["RETENTION_YEARS"]
    if not isinstance(years, int) or isinstance(years, bool) or years < 1:
        fail(f"RETENTION_YEARS must be a whole number of years from 1, not {years!r}")
    today = date.today()
    project = project_by_code(project_code) if project_code else None
    cases = retention.past_retention(years, today=today, project=project)
    limit = retention.cutoff(years, today)
    if not cases:
        click.echo(
            f"No participant is past the retention period of {years} years"
            f" (last activity before {limit})."
        )
        return
    click.echo(
        f"{len(cases)} participant(s) past the retention period of {years} years"
        f" (last activity before {limit}):"
    )
    for case in cases:
        click.echo(
            f"  {case.code}  last activity {case.last_activity}"
            f"  {case.years_since(today):.1f} years ago"
        )
    if not do_erase:
        click.echo("Nothing erased. Run again with --erase to erase their identity.")
        return
    with audit.acting_as("cli:retention"):
        try:
            erased = retention.erase_past_retention(cases, years=years)
            db.session.commit()
        except Exception as error:  # whatever went wrong, no identity is half-erased
            db.session.rollback()
            fail(f"{error}; nothing was erased.")
    click.echo(f"Erased the identity of {erased} participant(s); their codes and the figures stay.")
