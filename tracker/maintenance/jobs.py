"""Maintenance as jobs an administrator starts from the web: the indicator store's
rebuild, a backup of the database, and the retention run.

The commands (``indicators rebuild``, ``backup``, ``retention --erase``) do the same
work synchronously, for cron and for the operator's terminal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from tracker import audit
from tracker.extensions import db
from tracker.indicator_store import keeping
from tracker.jobs.running import JobFailed, Progress, kind, private_dir
from tracker.maintenance import backup as backups
from tracker.maintenance import retention
from tracker.models import Job, Project, now_utc


def backup_dir() -> Path:
    """Where backups made from the web go: ``BACKUP_DIR``, else ``instance/backups``."""
    return private_dir("BACKUP_DIR", "backups")


@kind("indicators_rebuild")
def rebuild(job: Job, progress: Progress) -> dict:
    """Rebuild the store of the projects named (default: every project), in one transaction."""
    ids = job.parameters.get("projects")
    query = select(Project).order_by(Project.code)
    if ids:
        query = query.where(Project.id.in_(ids))
    projects = db.session.scalars(query).all()
    people = 0
    for project in projects:
        progress.step(_("Rebuilding the figures of %(code)s", code=project.code))
        people += keeping.rebuild(project.id, progress=progress.update)
    return {"projects": len(projects), "people": people}


@kind("backup", reads_only=True)
def backup(job: Job, progress: Progress) -> dict:
    """Copy the database to a private file of the backups' folder, on the server."""
    progress.step(_("Copying the database"))
    stamp = now_utc().strftime("%Y%m%d-%H%M%S")
    url = db.engine.url
    live = backups.sqlite_path(url)
    if live is not None:
        out = backup_dir() / f"tracker-{stamp}-job{job.id}.sqlite"
        try:
            made = backups.backup(live, out, overwrite=True)
        except backups.BackupError as error:
            raise JobFailed(str(error)) from None
        size, sha256, participants = made.size, made.sha256, made.participants
    else:
        out = backup_dir() / f"tracker-{stamp}-job{job.id}.dump"
        size, participants = _pg_dump(url, out), None
        sha256 = backups._sha256(out)
    detail = {"file": str(out), "bytes": size, "sha256": sha256, "job": job.id}
    # the line of a backup, at once, in a transaction of its own (this one only reads)
    audit.record_now("backup", "database", None, detail, remote_addr=None)
    progress.update(1, 1)
    return {"file": out.name, "folder": str(out.parent), "bytes": size, "sha256": sha256,
            "participants": participants}  # fmt: skip


def _pg_dump(url, out: Path) -> int:
    """Dump a PostgreSQL database with pg_dump (custom format, mode 0600); its size."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise JobFailed(backups.pg_dump_advice(url))
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    command = [pg_dump, "--format=custom", f"--file={out}", backups._pg_url(url)]
    options = url.query.get("options")
    if options:
        env["PGOPTIONS"] = options if isinstance(options, str) else " ".join(options)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        out.unlink(missing_ok=True)
        raise JobFailed(_("pg_dump failed: %(error)s", error=done.stderr.strip()[-500:]))
    return out.stat().st_size


@kind("retention")
def retention_run(job: Job, progress: Progress) -> dict:
    """Erase the identity of every case past the retention period, in one transaction."""
    years = current_app.config["RETENTION_YEARS"]
    if not isinstance(years, int) or isinstance(years, bool) or years < 1:
        raise JobFailed(_("RETENTION_YEARS must be a whole number of years from 1."))
    progress.step(_("Looking for the case files past retention"))
    cases = retention.past_retention(years, today=date.today(), project=job.project)
    progress.step(_("Erasing identities"), len(cases))
    erased = retention.erase_past_retention(cases, years=years)
    progress.update(erased)
    return {"erased": erased, "years": years}
