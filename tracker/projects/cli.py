"""``flask --app tracker project``: create, change, list projects and set their targets."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import func, select

from tracker import audit
from tracker.commands import fail, parse_date, project_by_code
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import Participant, Project
from tracker.projects import calendar, services

CALENDAR = click.Choice(tuple(calendar.CALENDARS))


@click.group("project")
def project_group() -> None:
    """Set up projects: create, edit, list, targets."""


def _apply(action, *args: Any, **kwargs: Any) -> Any:
    """Run a service as the command line, commit; a broken rule ends with its message."""
    with audit.acting_as("cli:project"):
        try:
            done = action(*args, **kwargs)
        except DomainError as error:
            db.session.rollback()
            where = f"--{error.field.replace('_', '-')}: " if error.field else ""
            fail(f"{where}{error.message}")
        db.session.commit()
    return done


@project_group.command("create")
@click.argument("code")
@click.option("--title", required=True)
@click.option("--donor", default=None)
@click.option("--country", required=True, help="ISO 3166 alpha-3 code, e.g. MAR.")
@click.option("--counterpart", default=None, help="The government counterpart.")
@click.option("--start", required=True, help="First day, YYYY-MM-DD.")
@click.option("--end", required=True, help="Last day, YYYY-MM-DD.")
@click.option("--description", default=None)
@click.option("--calendar", "calendar_", type=CALENDAR, default="quarters", show_default=True)
@click.option("--report-due-days", type=int, default=30, show_default=True)
@click.option("--like", "like", default=None, help="Start from this project's set-up.")
def create_command(
    code: str,
    title: str,
    donor: str | None,
    country: str,
    counterpart: str | None,
    start: str,
    end: str,
    description: str | None,
    calendar_: str,
    report_due_days: int,
    like: str | None,
) -> None:
    """Create the project CODE (its targets and courses from --like's, if given)."""
    source = project_by_code(like) if like else None

    def create() -> Project:
        project = services.create_project(
            code,
            title=title,
            donor=donor,
            country=country,
            counterpart=counterpart,
            start_date=parse_date(start, "--start"),
            end_date=parse_date(end, "--end"),
            description=description,
            calendar=calendar_,
            report_due_days=report_due_days,
        )
        if source is not None:
            services.copy_setup(source, project)
        return project

    project = _apply(create)
    click.echo(
        f"Created {project.code} ({project.start_date} to {project.end_date}, "
        f"{project.calendar}); set its targets with: project target {project.code} INDICATOR VALUE"
    )


@project_group.command("edit")
@click.argument("code")
@click.option("--title", default=None)
@click.option("--donor", default=None)
@click.option("--country", default=None)
@click.option("--counterpart", default=None)
@click.option("--start", default=None, help="YYYY-MM-DD")
@click.option("--end", default=None, help="YYYY-MM-DD")
@click.option("--description", default=None)
@click.option("--calendar", "calendar_", type=CALENDAR, default=None)
@click.option("--report-due-days", type=int, default=None)
@click.option("--close", is_flag=True, help="Close the project: nobody is registered into it.")
@click.option("--reopen", is_flag=True, help="Open a closed project again.")
def edit_command(code: str, close: bool, reopen: bool, **options: Any) -> None:
    """Change the set-up of the project CODE (only the options given)."""
    if close and reopen:
        fail("--close and --reopen cannot be used together")
    project = project_by_code(code)
    changes: dict[str, Any] = {}
    for option, field in (
        ("title", "title"),
        ("donor", "donor"),
        ("country", "country"),
        ("counterpart", "counterpart"),
        ("description", "description"),
        ("calendar_", "calendar"),
        ("report_due_days", "report_due_days"),
    ):
        if options[option] is not None:
            changes[field] = options[option]
    if options["start"] is not None:
        changes["start_date"] = parse_date(options["start"], "--start")
    if options["end"] is not None:
        changes["end_date"] = parse_date(options["end"], "--end")
    if not changes and not close and not reopen:
        fail("nothing to change: give at least one option")

    def edit() -> None:
        if changes:
            services.update_project(project, **changes)
        if close:
            services.close_project(project)
        if reopen:
            services.reopen_project(project)

    _apply(edit)
    click.echo(f"Changed {project.code}.")


@project_group.command("list")
def list_command() -> None:
    """List the projects: code, period, calendar, people registered, state."""
    people = dict(
        db.session.execute(
            select(Participant.project_id, func.count()).group_by(Participant.project_id)
        ).all()
    )
    for project in db.session.scalars(select(Project).order_by(Project.code)):
        state = "closed" if project.closed else "open"
        click.echo(
            f"{project.code}\t{project.start_date}\t{project.end_date}\t{project.calendar}\t"
            f"{people.get(project.id, 0)} people\t{state}\t{project.title}"
        )


@project_group.command("target")
@click.argument("code")
@click.argument("indicator")
@click.argument("value", type=int, required=False)
@click.option(
    "--period",
    default=calendar.WHOLE,
    show_default=True,
    help="A reporting period (2025Q1, 2025S1, 2025) or all (the whole project).",
)
@click.option("--baseline", type=int, default=None, help="The value before the project.")
@click.option("--remove", is_flag=True, help="Remove this target.")
def target_command(
    code: str,
    indicator: str,
    value: int | None,
    period: str,
    baseline: int | None,
    remove: bool,
) -> None:
    """Set the target VALUE of INDICATOR (e.g. trained, placed) for the project CODE."""
    project = project_by_code(code)
    key = period.strip().upper() if period.lower() != calendar.WHOLE else calendar.WHOLE
    if remove:
        if not _apply(services.remove_target, project, indicator, key):
            fail(f"{code} has no target for {indicator} ({key})")
        click.echo(f"Removed the target of {indicator} ({key}) of {code}.")
        return
    if value is None:
        fail("give the VALUE of the target (or --remove)")
    _apply(services.set_target, project, indicator, value, period=key, baseline=baseline)
    click.echo(
        f"{code}: {indicator} {key} = {value}"
        + (f", baseline {baseline}" if baseline is not None else "")
    )
    periods = calendar.periods(project)
    if key == calendar.WHOLE and periods:
        click.echo(f"Periods of {code} ({project.calendar}): " + " ".join(p.key for p in periods))
