"""A large export, made by a worker into a file its asker downloads from the job's page.

The web streams small exports at once; above ``EXPORT_JOB_MIN_ROWS`` rows (XLSX, about
12,000 rows a second) or ``EXPORT_CSV_JOB_MIN_ROWS`` (CSV, about 110,000 a second) the
file is made here, with its progress shown, so that no web process waits on it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from flask_babel import gettext as _

from tracker.exports import services
from tracker.extensions import db
from tracker.jobs import running
from tracker.jobs.running import JobFailed, Progress, kind
from tracker.models import Job, Project
from tracker.permissions import can_see_names, in_scope
from tracker.reports.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE

#: rows between two progress reports
EVERY = 1000


def _counted(rows: Iterable[list[Any]], progress: Progress) -> Iterator[list[Any]]:
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % EVERY == 0:
            progress.update(done)
    progress.update(done)


@kind("export", reads_only=True)
def export(job: Job, progress: Progress) -> dict:
    """Write the export the job names to its file, as the web would have sent it."""
    p = job.parameters
    user = job.user
    if user is None:
        raise JobFailed(_("The account that asked for this export no longer exists."))
    pseudonymous = bool(p.get("pseudonymous"))
    # rights as they are now, not as they were when the job was queued
    if not pseudonymous and not can_see_names(user):
        raise JobFailed(_("Your account may no longer export names."))
    project = None
    if job.project_id is not None:
        project = db.session.scalar(
            db.select(Project).where(Project.id == job.project_id, in_scope(user, Project.id))
        )
        if project is None:
            raise JobFailed(_("You no longer work on this project."))
    fmt = p["fmt"]
    connection = db.session.connection()
    export = services.record_export(
        p["kind"], user=user, project=project, pseudonymous=pseudonymous, connection=connection
    )
    # the web counted the rows (and refused an XLSX too long) when it queued the job: no
    # second count; the progress bar's end is that count
    progress.step(_("Writing the rows"), p.get("rows"))
    rows = _counted(export.rows, progress)
    hxl = bool(p.get("hxl"))
    name = services.filename(
        p["kind"], fmt, projects=[project] if project else [], pseudonymous=pseudonymous
    )
    path = running.new_file(job, f".{fmt}")
    digest = hashlib.sha256()
    if fmt == "csv":
        delimiter = services.DELIMITERS.get(p.get("sep") or "", ";")
        with path.open("wb") as out:
            for chunk in services.render_csv(export, rows=rows, hxl=hxl, delimiter=delimiter):
                out.write(chunk)
                digest.update(chunk)
    else:
        # XlsxWriter's temporary files beside the result, private, not in /tmp
        services.save_xlsx(export, str(path), rows=rows, hxl=hxl, tmpdir=path.parent)
        with path.open("rb") as written_file:
            for block in iter(lambda: written_file.read(1 << 16), b""):
                digest.update(block)
    written = progress.done
    services.record_audit(
        p["kind"],
        {
            **services.audit_detail(
                export,
                fmt=fmt,
                project_codes=[project.code] if project else [],
                hxl=hxl,
                rows=written,
            ),
            "job": job.id,
        },
        remote_addr=p.get("remote_addr"),
    )
    job.file_name = name
    job.file_type = CSV_MIMETYPE if fmt == "csv" else XLSX_MIMETYPE
    job.file_size = path.stat().st_size
    return {"rows": written, "sha256": digest.hexdigest()}
