"""``/jobs``: my jobs, one job's progress (page and JSON), cancelling, its result file.

Who sees a job: the person who asked; a manager, the jobs of her projects; an
administrator, every job. Who takes its file: the person who asked, or a manager of its
project, as long as it is kept (``JOBS_RETENTION_DAYS``); each download is in the audit
log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from tracker import audit
from tracker.extensions import db
from tracker.forms import record_id
from tracker.jobs import bp, queue, running
from tracker.models import Job, JobState, PendingImport, Project, Role, now_utc
from tracker.permissions import in_scope, role_required

#: what each kind of job is called on its page
LABELS = {
    "import_check": _l("Check of an import"),
    "import_write": _l("Import of a file"),
    "export": _l("Export"),
    "donor_report": _l("Donor report"),
    "indicators_rebuild": _l("Rebuild of the indicator store"),
    "backup": _l("Backup"),
    "retention": _l("Retention run"),
}
STATE_LABELS = {
    JobState.QUEUED.value: _l("Queued"),
    JobState.RUNNING.value: _l("Running"),
    JobState.DONE.value: _l("Done"),
    JobState.FAILED.value: _l("Failed"),
    JobState.CANCELLED.value: _l("Cancelled"),
}
#: how many jobs "My jobs" lists
LISTED = 50


def visible(query):
    """Keep the jobs the signed-in user may see."""
    if current_user.role is Role.ADMIN:
        return query
    mine = Job.user_id == current_user.id
    if current_user.role is Role.MANAGER:
        return query.where(or_(mine, in_scope(current_user, Job.project_id)))
    return query.where(mine)


def _job_or_404(job_id: int) -> Job:
    job = db.session.scalar(visible(select(Job).where(Job.id == job_id)))
    if job is None:
        abort(404)
    return job


def may_manage(job: Job) -> bool:
    """The asker, or a manager (or administrator) of the job's project."""
    if job.user_id == current_user.id:
        return True
    if job.project_id is None or current_user.role not in (Role.ADMIN, Role.MANAGER):
        return False
    return bool(
        db.session.scalar(
            select(Job.id).where(Job.id == job.id, in_scope(current_user, Job.project_id))
        )
    )


def _look_after(job: Job) -> Job:
    """A job shown as running whose worker died: requeued or failed before it is shown.

    Its page is polled every few seconds: only its own heartbeat is read, and the
    reaper runs only when that one has stopped.
    """
    if running.is_dead(job) and running.reap():
        db.session.refresh(job)
    return job


def state_of(job: Job) -> dict:
    """What ``/jobs/<id>.json`` answers, and what the page shows first."""
    done, total, step = job.done, job.total, job.step
    if job.state == JobState.RUNNING.value:
        now = running.live(job.id)
        if now:
            done, total, step = now.get("done", 0), now.get("total"), now.get("step")
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "state_label": str(STATE_LABELS[job.state]),
        "done": done,
        "total": total,
        "step": step,
        "error": job.error,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "url": url_for("jobs.show", job_id=job.id),
    }


# --- What a finished job leads to ---------------------------------------------------------


def _import_check_next(job: Job) -> str | None:
    token = (job.result or {}).get("pending")
    if token and db.session.scalar(
        select(PendingImport.id).where(
            PendingImport.token == token, PendingImport.user_id == current_user.id
        )
    ):
        return url_for("imports.preview", token=token)
    return None


def _import_write_next(job: Job) -> str | None:
    """After an import of participants, the people just imported (the list filtered to it)."""
    result = job.result or {}
    if result.get("kind") != "participants" or not result.get("import_id"):
        return None
    message = ngettext(
        "%(num)d row imported from %(file)s.",
        "%(num)d rows imported from %(file)s.",
        result.get("written", 0),
        file=job.parameters.get("file", ""),
    )
    if result.get("left_out"):
        message += " " + ngettext(
            "%(num)d row that may be there already was left out.",
            "%(num)d rows that may be there already were left out.",
            result["left_out"],
        )
    flash(message, "success")
    return url_for("participants.index", **{"import": result["import_id"]})


def _report_next(job: Job) -> str | None:
    report_id = (job.result or {}).get("report_id")
    if not report_id:
        return None
    flash(_("The report is generated and kept."), "success")
    return url_for("builder.report", report_id=report_id)


#: a finished job whose result is a page of its own: shown there at once (its asker only)
NEXT: dict[str, Callable[[Job], str | None]] = {
    "import_check": _import_check_next,
    "import_write": _import_write_next,
    "donor_report": _report_next,
}


@bp.route("/")
@login_required
def index():
    """My jobs: the recent ones, and a manager's projects' ones."""
    jobs = db.session.scalars(
        visible(select(Job))
        .options(selectinload(Job.project))
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(LISTED)
    ).all()
    return render_template(
        "jobs/index.html", jobs=jobs, labels=LABELS, state_labels=STATE_LABELS, listed=LISTED
    )


@bp.route("/<int:job_id>")
@login_required
def show(job_id: int):
    """One job: its progress as it runs, then its result or its error and what to do."""
    job = _look_after(_job_or_404(job_id))
    if job.state == JobState.DONE.value and job.kind in NEXT and job.user_id == current_user.id:
        target = NEXT[job.kind](job)
        if target:
            return redirect(target, 303)
    return render_template(
        "jobs/show.html",
        job=job,
        state=state_of(job),
        label=LABELS.get(job.kind, job.kind),
        state_labels=STATE_LABELS,
        may_manage=may_manage(job),
        file_kept=bool(job.file_path) and job.state == JobState.DONE.value,
    )


@bp.route("/<int:job_id>.json")
@login_required
def status(job_id: int):
    """The job's state and progress, polled by its page."""
    response = jsonify(state_of(_look_after(_job_or_404(job_id))))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:job_id>/cancel", methods=["POST"])
@login_required
def cancel(job_id: int):
    """Cancel a queued job, or ask a running one to stop: nothing of it is kept."""
    job = _job_or_404(job_id)
    if not may_manage(job):
        abort(403)
    if job.finished:
        flash(_("This job has already ended."), "error")
        return redirect(url_for(".show", job_id=job.id))
    # queued: cancelled at once, unless a worker took it meanwhile
    cancelled = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.state == JobState.QUEUED.value)
        .values(
            state=JobState.CANCELLED.value,
            cancel_requested=True,
            finished_at=now_utc(),
            expires_at=running.expiry(),
        )
    ).rowcount
    if not cancelled:
        db.session.execute(update(Job).where(Job.id == job.id).values(cancel_requested=True))
    audit.record(db.session, "cancel", "job", job.id, {"kind": [None, job.kind]})
    db.session.commit()
    if not cancelled:
        running.ask_cancel(job.id)
        flash(_("The job will stop at its next step; nothing of it will be kept."), "success")
    else:
        flash(_("The job is cancelled."), "success")
    return redirect(url_for(".show", job_id=job.id))


@bp.route("/<int:job_id>/file")
@login_required
def download(job_id: int):
    """Send the job's result file, after writing who took it to the audit log."""
    job = _job_or_404(job_id)
    if not may_manage(job):
        abort(403)
    if job.state != JobState.DONE.value or not job.file_path:
        abort(404)
    path = running.files_dir() / job.file_path
    if not path.is_file():
        abort(404)
    audit.record_read(
        "job",
        job.id,
        {
            "download": job.file_name,
            "kind": job.kind,
            "project": job.project.code if job.project else None,
            "sha256": (job.result or {}).get("sha256"),
        },
    )
    # the file is opened when the body is first read, and closed at its end (send_file
    # opens it at once: a response never read would leave it open)
    response = Response(_chunks(path), mimetype=job.file_type or "application/octet-stream")
    response.headers.set("Content-Disposition", "attachment", filename=job.file_name)
    response.headers["Content-Length"] = str(path.stat().st_size)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _chunks(path, size: int = 1 << 16):
    with path.open("rb") as fh:
        while chunk := fh.read(size):
            yield chunk


def back_link(job: Job) -> tuple[str, str] | None:
    """Where to go from a failed or cancelled job to try again."""
    endpoint = {
        "import_check": "imports.index",
        "import_write": "imports.index",
        "export": "exports.index",
        "donor_report": "builder.index",
    }.get(job.kind)
    if endpoint is None:
        return None
    return url_for(endpoint), str(_l("Start again"))


@bp.app_context_processor
def _helpers() -> dict:
    return {"job_back_link": back_link}


# --- Maintenance, for administrators ------------------------------------------------------

#: what an administrator may start from the maintenance page
MAINTENANCE = ("indicators_rebuild", "backup", "retention")


@bp.route("/maintenance")
@role_required(Role.ADMIN)
def maintenance():
    """Rebuild the indicator store, back up the database, run the retention: as jobs."""
    from tracker.indicator_store import keeping
    from tracker.maintenance import retention

    projects = db.session.scalars(select(Project).order_by(Project.code)).all()
    stale = keeping.stale_projects(p.id for p in projects)
    years = current_app.config["RETENTION_YEARS"]
    past = retention.past_retention(years, today=date.today())
    recent = db.session.scalars(
        select(Job)
        .where(Job.kind.in_(MAINTENANCE))
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(10)
    ).all()
    return render_template(
        "jobs/maintenance.html",
        projects=projects,
        stale=stale,
        years=years,
        past=len(past),
        recent=recent,
        labels=LABELS,
        state_labels=STATE_LABELS,
        database="SQLite" if db.engine.dialect.name == "sqlite" else "PostgreSQL",
    )


@bp.route("/maintenance", methods=["POST"])
@role_required(Role.ADMIN)
def start_maintenance():
    """Queue one maintenance job (``kind``, for ``project`` or all); its page shows how it goes."""
    kind = request.form.get("kind")
    if kind not in MAINTENANCE:
        abort(400)
    project = None
    if request.form.get("project"):
        try:
            project = db.session.get(Project, record_id(request.form["project"]))
        except ValueError:
            abort(400)
        if project is None:
            abort(404)
    if kind == "retention" and not request.form.get("confirm"):
        # irreversible: the page asks a tick, the server checks it
        flash(_("Tick the confirmation to erase these identities."), "error")
        return redirect(url_for(".maintenance"), 303)
    parameters = {"projects": [project.id]} if kind == "indicators_rebuild" and project else {}
    job = queue.submit(kind, user=current_user, project=project, parameters=parameters)
    return redirect(url_for(".show", job_id=job.id))
