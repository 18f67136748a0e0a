"""The ``flask --app tracker …`` commands, registered in one place.

Every error prints one line on standard error and exits non-zero.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select
from werkzeug.serving import run_simple

from tracker import audit, seed, synthetic
from tracker.api.cli import create_token_command
from tracker.auditlog.cli import audit_group
from tracker.auth.services import AccountError, create_user
from tracker.commands import fail, parse_date, project_by_code
from tracker.config import LANGUAGES
from tracker.exports.cli import export_command
from tracker.extensions import db
from tracker.imports.cli import import_command, xlsform_command
from tracker.indicator_store import keeping
from tracker.indicator_store.cli import indicators_group
from tracker.jobs.cli import worker_command
from tracker.maintenance.cli import backup_command, restore_command, retention_command
from tracker.models import Project, Role, User
from tracker.participants.cli import (
    duplicates_group,
    merge_command,
    subject_access_command,
    unmerge_command,
)
from tracker.projects.cli import project_group
from tracker.reports.services import generate_donor_report, narrative_texts


@click.command("seed")
@click.option(
    "--from-dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the seed CSV files (default: seed_data/).",
)
@click.option(
    "--synthetic",
    "synthetic",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Instead, create the project SYNTH with N fictitious participants (bulk inserts).",
)
@click.option(
    "--rng-seed",
    "rng_seed",
    type=int,
    default=None,
    help="With --synthetic: the random seed (same seed, same data; default 2019).",
)
def seed_command(directory: Path | None, synthetic: int | None, rng_seed: int | None) -> None:
    """Load the reference programme (IOM Morocco pilot); running it twice changes nothing.

    With --synthetic N, create the project SYNTH with N fictitious participants
    and their trainings, placements, follow-ups and activities instead.
    """
    if synthetic is not None:
        if directory is not None:
            fail("--synthetic and --from-dir cannot be used together", 2)
        _seed_synthetic(synthetic, rng_seed)
        return
    if rng_seed is not None:
        fail("--rng-seed applies to --synthetic only", 2)
    with audit.acting_as("cli:seed"):
        try:
            result = seed.load(directory or seed.SEED_DIR)
        except seed.SeedError as error:
            db.session.rollback()
            fail(str(error))
        db.session.commit()
    if result.total == 0:
        click.echo("The reference programme is already loaded: nothing changed.")
    else:
        added = ", ".join(f"{name.removesuffix('.csv')} {n}" for name, n in result.added.items())
        click.echo(f"Loaded the reference programme: {added}.")


def _seed_synthetic(participants: int, rng_seed: int | None) -> None:
    """Create the SYNTH project, commit, and refresh the planner's statistics."""
    import time

    started = time.perf_counter()
    with audit.acting_as("cli:seed"):
        try:
            result = synthetic.generate(
                participants,
                synthetic.DEFAULT_RNG_SEED if rng_seed is None else rng_seed,
            )
        except synthetic.SyntheticError as error:
            db.session.rollback()
            fail(str(error))
        db.session.commit()
    # after a bulk load the query planner needs fresh statistics to pick the indexes
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    added = ", ".join(f"{name.replace('_', ' ')} {n:,}" for name, n in result.counts.items())
    elapsed = time.perf_counter() - started
    click.echo(f"Created project {synthetic.CODE} in {elapsed:.1f} s: {added}.")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--project", "project_codes", multiple=True, help="Project code (repeatable).")
@click.option("--name", default="", help="The person's name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(
    email: str, role: str, project_codes: tuple[str, ...], name: str, password_stdin: bool
) -> None:
    """Create a user with a role and, for non-admins, the projects they work on."""
    from flask_babel import force_locale

    if not password_stdin:
        fail("give the password on standard input with --password-stdin", 2)
    password = sys.stdin.readline().rstrip("\r\n")
    projects = [project_by_code(code) for code in project_codes]
    # the command speaks English, as its other messages do
    with audit.acting_as("cli:create-user"), force_locale("en"):
        try:
            user = create_user(email, password, Role(role), name=name, projects=projects)
        except AccountError as error:
            db.session.rollback()
            fail(str(error))
        db.session.commit()
    where = ", ".join(p.code for p in projects) or "no project"
    click.echo(f"Created {user.email} ({user.role.value}; {where}).")


@click.group("report")
def report_group() -> None:
    """Build reports."""


@report_group.command("donor")
@click.option("--project", "project_code", required=True, help="Project code, e.g. IDF-MA-2014.")
@click.option("--from", "start", default=None, help="First day, YYYY-MM-DD (default: start).")
@click.option("--to", "end", default=None, help="Last day, YYYY-MM-DD (default: project end).")
@click.option("--lang", type=click.Choice(LANGUAGES), default="fr", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def donor_report_command(
    project_code: str, start: str | None, end: str | None, lang: str, out: Path
) -> None:
    """Write the donor report of a project as a PDF and its annex as a CSV; keep both.

    The annex (the pseudonymous codes of the people counted) goes next to the PDF,
    named after it: ``report.pdf`` gives ``report-annex.csv``.
    """
    start_date = parse_date(start, "--from")
    end_date = parse_date(end, "--to")
    if start_date and end_date and end_date < start_date:
        fail("--to is before --from")
    if out.parent and not out.parent.exists():
        fail(f"cannot write {out}: the folder {out.parent} does not exist")
    annex_out = out.with_name(f"{out.stem}-annex.csv")
    project = project_by_code(project_code)
    first, last = start_date or project.start_date, end_date or project.end_date
    if last < first:
        fail(f"the period would end ({last}) before it starts ({first})")
    with audit.acting_as("cli:report"):
        report = generate_donor_report(
            project,
            start_date,
            end_date,
            language=lang,
            narrative=narrative_texts(project),
            by=None,
            actor_label="cli:report",
            threshold=current_app.config["SMALL_CELL_THRESHOLD"],
            annex_file_name=annex_out.name,
        )
        written: list[Path] = []
        for path, content in ((out, report.content), (annex_out, report.annex_content)):
            try:
                path.write_bytes(content)
            except OSError as error:
                db.session.rollback()
                # not kept, so no half: a PDF naming an annex that is not there goes too
                for done in written:
                    done.unlink(missing_ok=True)
                fail(f"cannot write {path}: {error.strerror}")
            written.append(path)
        audit.record(
            db.session,
            "report",
            "project",
            project.id,
            {
                "kind": "donor",
                "from": report.period_start.isoformat(),
                "to": report.period_end.isoformat(),
                "lang": lang,
                "generated_report": report.id,
                "sha256": report.sha256,
                "annex": report.annex_name,
                "annex_rows": report.annex_rows,
                "annex_sha256": report.annex_sha256,
            },
        )
        db.session.commit()
    click.echo(
        f"Wrote {out} ({report.size:,} bytes, {report.period_start} to {report.period_end};"
        f" kept as report {report.id}, SHA-256 {report.sha256[:12]})"
        f" and its annex {annex_out} ({report.annex_rows:,} rows,"
        f" SHA-256 {report.annex_sha256[:12]})."
    )


#: one password for the demo accounts: the policy refuses a password holding the
#: e-mail's name, so "demo-<role>-password" for <role>@demo.example.org cannot be used
DEMO_PASSWORD = "morocco-pilot-2016"  # noqa: S105 (printed for the demo, never for real accounts)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo_command(host: str, port: int) -> None:
    """Upgrade the database, load the demo programme and demo users, and serve the app."""
    from flask_migrate import upgrade

    upgrade()
    with audit.acting_as("cli:demo"):
        seed.load(seed.SEED_DIR)
        project = project_by_code("IDF-MA-2014")
        created = []
        for role in Role:
            email = f"{role.value}@demo.example.org"
            if db.session.scalar(select(User.id).where(User.email == email)) is None:
                projects = [] if role is Role.ADMIN else [project]
                create_user(email, DEMO_PASSWORD, role, projects=projects)
                created.append(email)
        # a database created before the store existed: fill it once
        for project_id in sorted(keeping.stale_projects(db.session.scalars(select(Project.id)))):
            keeping.rebuild(project_id)
        db.session.commit()
    # the command's own session must not hold the database (and its write lock) while
    # the app serves
    db.session.remove()
    click.echo(f"Demo ready. Sign in with one of these, password {DEMO_PASSWORD}:")
    for role in Role:
        click.echo(f"  {role.value}@demo.example.org")
    # the development server without the debugger: enough for a demo on one machine
    run_simple(host, port, current_app._get_current_object(), threaded=True)


def register_commands(app: Flask) -> None:
    """Add the tracker's commands to ``flask``."""
    for command in (
        seed_command,
        create_user_command,
        report_group,
        demo_command,
        export_command,
        backup_command,
        restore_command,
        retention_command,
        import_command,
        xlsform_command,
        create_token_command,
        project_group,
        duplicates_group,
        merge_command,
        unmerge_command,
        subject_access_command,
        indicators_group,
        worker_command,
        audit_group,
    ):
        app.cli.add_command(command)
