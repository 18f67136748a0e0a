"""``flask --app tracker export iati`` and ``export dhis2``: a project's figures for other systems.

They join the ``export`` group of ``tracker/exports/cli.py``. Like the other
commands they speak English, print one line per error and exit non-zero.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app
from flask_babel import force_locale

from tracker import audit
from tracker.commands import fail, output_folder, project_by_code, replacing
from tracker.extensions import db
from tracker.interop import dhis2, iati, services
from tracker.interop import push as pushing
from tracker.models import Project

#: a mapping file larger than this is not a mapping file
MAPPING_MAX_BYTES = 1024 * 1024


def _write(out: Path, content: bytes, audited: Callable[[], None]) -> None:
    """Write ``content`` to ``out`` through a temporary file; the file appears once audited."""
    with replacing(out) as temporary:
        temporary.write_bytes(content)
        with audit.acting_as("cli:export"):
            audited()


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
    output_folder(out)
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


def _mapping(path: Path | None, project: Project) -> tuple[Path, dhis2.Mapping]:
    """Return the mapping file's path and content; fail naming the file and the key."""
    if path is None:
        path = Path(current_app.instance_path) / f"dhis2-mapping.{project.code}.json"
        if not path.is_file():
            fail(
                f"no DHIS2 mapping for {project.code}: give --mapping FILE, or put it in {path}"
                " (docs/interop.md describes it)"
            )
    try:
        with path.open("rb") as fh:
            text = fh.read(MAPPING_MAX_BYTES + 1)
    except OSError as error:
        fail(f"--mapping: cannot read {path}: {error.strerror}")
    if len(text) > MAPPING_MAX_BYTES:
        fail(f"--mapping: {path} is larger than {MAPPING_MAX_BYTES // 1024} KB")
    try:
        mapping = dhis2.read_mapping(text)
    except dhis2.MappingError as error:
        fail(f"{path}: {error}")
    if mapping.project is not None and mapping.project != project.code:
        fail(f"{path}: project: the mapping is for {mapping.project}, not {project.code}")
    return path, mapping


def _summary(label: str, summary: pushing.ImportSummary) -> None:
    click.echo(
        f"{label}: {summary.status or 'no status'}; {summary.imported} imported,"
        f" {summary.updated} updated, {summary.ignored} ignored,"
        f" {len(summary.conflicts)} conflicts."
    )
    if summary.description:
        click.echo(f"  {summary.description}")
    for conflict in summary.conflicts:
        click.echo(f"  conflict: {conflict}")


@click.command("dhis2")
@_project_option
@click.option(
    "--period",
    "period_text",
    required=True,
    help="DHIS2 period: a year (2016), half-year (2016S2), quarter (2016Q4) or month (201612).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(dhis2.FORMATS),
    default=dhis2.JSON,
    show_default=True,
    help="dataValueSets JSON or ADX XML.",
)
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The codes of the DHIS2 instance (default: instance/dhis2-mapping.CODE.json).",
)
@click.option(
    "--push",
    "push_url",
    default=None,
    metavar="URL",
    help="Also send it to URL/api/dataValueSets: a dry run, then for real if nothing "
    "conflicts. Credentials from DHIS2_TOKEN, or DHIS2_USERNAME and DHIS2_PASSWORD.",
)
@_out_option
def dhis2_command(
    project_code: str,
    period_text: str,
    fmt: str,
    mapping_path: Path | None,
    push_url: str | None,
    out: Path,
) -> None:
    """Write a project's figures of one DHIS2 period as DHIS2 data values, and send them."""
    with force_locale("en"):
        try:
            period = dhis2.parse_period(period_text)
        except dhis2.PeriodError as error:
            fail(f"--period: {error}")
        output_folder(out)
        project = project_by_code(project_code)
        try:
            services.check_period(project, period)
        except dhis2.PeriodError as error:
            fail(f"--period: {error}")
        path, mapping = _mapping(mapping_path, project)
        url = None
        if push_url is not None:
            # before anything is written: a push that cannot start is a usage error
            try:
                url = pushing.endpoint(push_url)
                pushing.authorization(os.environ)
            except pushing.PushError as error:
                fail(f"--push: {error}")
        try:
            content, count = services.dhis2_file(project, period, mapping, fmt)
        except dhis2.MappingError as error:
            fail(f"{path}: {error}")
        code = project.code
        db.session.rollback()
        detail = {
            "format": fmt,
            "project": code,
            "period": period.code,
            "values": count,
            "mapping": path.name,
        }

        def audited() -> None:
            services.record_audit(services.DHIS2, detail, remote_addr=None)

        _write(out, content, audited)
        click.echo(f"Wrote {out} ({count} data values of {code} for {period.code}, {fmt}).")
        if url is None:
            return
        # the audit line says where the values went, whatever the server answered
        try:
            result = pushing.push(
                push_url,
                content,
                dhis2.MEDIA_TYPES[fmt],
                environ=os.environ,
                id_scheme=mapping.id_scheme,
            )
        except pushing.PushError as error:
            with audit.acting_as("cli:export"):
                services.record_audit(
                    services.DHIS2,
                    {**detail, "pushed_to": url, "error": str(error)},
                    remote_addr=None,
                )
            fail(f"--push: {error}")
        imported = result.imported
        sent = {
            "pushed_to": url,
            "dry_run_conflicts": len(result.dry_run.conflicts),
            "imported": imported.imported if imported else 0,
            "updated": imported.updated if imported else 0,
            "ignored": imported.ignored if imported else 0,
        }
        with audit.acting_as("cli:export"):
            services.record_audit(services.DHIS2, {**detail, **sent}, remote_addr=None)
        _summary("Dry run", result.dry_run)
        if imported is None:
            fail(f"the dry run at {url} was not clean: nothing imported")
        _summary("Import", imported)
        if not imported.clean:
            fail(f"the import at {url} reported conflicts: see above")
