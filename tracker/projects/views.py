"""The project pages (administrators): list, create, change, staff, close, targets."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from tracker import indicators
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import Participant, Project, Role, User, user_project
from tracker.permissions import role_required
from tracker.projects import bp, calendar, services
from tracker.projects.forms import ActionForm, NewProjectForm, ProjectForm
from tracker.results.services import manual_keys
from tracker.web import conflict_page, field_error, version_changed

admin_only = role_required(Role.ADMIN)

FIELDS = (
    "title",
    "donor",
    "country",
    "counterpart",
    "start_date",
    "end_date",
    "description",
    "calendar",
    "report_due_days",
)


@bp.context_processor
def _calendars() -> dict:
    return {"calendars": calendar.CALENDARS}


def _project_or_404(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None:
        abort(404)
    return project


def _staff_candidates() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role != Role.ADMIN, User.active.is_(True))
            .order_by(User.role, User.email)
        )
    )


@bp.route("/")
@admin_only
def index():
    """List every project with its period, calendar, staff, people and state."""
    projects = list(
        db.session.scalars(select(Project).order_by(Project.closed_at.is_not(None), Project.code))
    )
    people = dict(
        db.session.execute(
            select(Participant.project_id, func.count())
            .where(Participant.merged_into_id.is_(None))
            .group_by(Participant.project_id)
        ).all()
    )
    staff = dict(
        db.session.execute(
            select(user_project.c.project_id, func.count()).group_by(user_project.c.project_id)
        ).all()
    )
    return render_template("projects/index.html", projects=projects, people=people, staff=staff)


@bp.route("/new", methods=["GET", "POST"])
@admin_only
def new():
    """Create a project, possibly from another's set-up (targets, courses), with its staff."""
    projects = list(db.session.scalars(select(Project).order_by(Project.code)))
    candidates = _staff_candidates()
    form = NewProjectForm(projects=projects, users=candidates)
    if form.validate_on_submit():
        try:
            project = services.create_project(
                form.code.data,
                **{name: form[name].data for name in FIELDS},
            )
            if form.like.data:
                source = next((p for p in projects if p.code == form.like.data), None)
                if source is not None:
                    services.copy_setup(source, project)
            services.set_staff(project, _chosen_staff(form, candidates))
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The project %(code)s is created.", code=project.code), "success")
            return redirect(url_for(".targets", project_id=project.id))
    return render_template("projects/form.html", form=form, project=None)


def _chosen_staff(form: ProjectForm, candidates: list[User]) -> list[User]:
    ids = set(form.staff.data or [])
    return [u for u in candidates if u.id in ids]


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@admin_only
def edit(project_id: int):
    """Change a project's set-up and staff (its code stays)."""
    project = _project_or_404(project_id)
    candidates = _staff_candidates()
    form = ProjectForm(obj=project, users=candidates)
    if request.method == "GET":
        form.expected_version.data = project.version
        form.staff.data = list(
            db.session.scalars(
                select(user_project.c.user_id).where(user_project.c.project_id == project.id)
            )
        )
    if form.validate_on_submit():
        if version_changed(form.expected_version.data, project):
            return conflict_page(
                title=_("Project %(code)s", code=project.code),
                form=form,
                record=project,
                fields=[f for f in FIELDS if f != "description"],
                back_url=url_for(".edit", project_id=project.id),
            )
        try:
            services.update_project(project, **{name: form[name].data for name in FIELDS})
            services.set_staff(project, _chosen_staff(form, candidates))
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The project %(code)s is saved.", code=project.code), "success")
            return redirect(url_for(".index"))
    return render_template("projects/form.html", form=form, project=project, action=ActionForm())


def _change_state(
    project_id: int, change: Callable[[Project], None], message: Callable[[Project], str]
):
    project = _project_or_404(project_id)
    if ActionForm().validate_on_submit():
        change(project)
        db.session.commit()
        flash(message(project), "success")
    return redirect(url_for(".index"))


@bp.route("/<int:project_id>/close", methods=["POST"])
@admin_only
def close(project_id: int):
    """Close a project: its records and figures stay; nobody is registered into it."""
    return _change_state(
        project_id,
        services.close_project,
        lambda p: _("The project %(code)s is closed.", code=p.code),
    )


@bp.route("/<int:project_id>/reopen", methods=["POST"])
@admin_only
def reopen(project_id: int):
    """Open a closed project again."""
    return _change_state(
        project_id,
        services.reopen_project,
        lambda p: _("The project %(code)s is open again.", code=p.code),
    )


def _cell_name(kind: str, key: str, period: str) -> str:
    return f"{kind}-{key}-{period}"


@bp.route("/<int:project_id>/targets", methods=["GET", "POST"])
@admin_only
def targets(project_id: int):
    """The project's targets: for the whole project and each reporting period, baselines."""
    project = _project_or_404(project_id)
    periods = calendar.periods(project)
    columns = [calendar.WHOLE, *(p.key for p in periods)]
    manual = manual_keys(project)
    keys = [*services.TARGETABLE, *manual]
    stored = {(t.indicator, t.period): t for t in project.all_targets}
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    form = ActionForm()
    if form.validate_on_submit():
        wanted: dict[tuple[str, str], tuple[int | None, int | None]] = {}
        for key in keys:
            baseline_text = request.form.get(_cell_name("b", key, calendar.WHOLE), "").strip()
            baseline = _whole(baseline_text, _cell_name("b", key, calendar.WHOLE), errors)
            for column in columns:
                name = _cell_name("t", key, column)
                text = request.form.get(name, "").strip()
                values[name] = text
                value = _whole(text, name, errors)
                wanted[(key, column)] = (value, baseline if column == calendar.WHOLE else None)
            values[_cell_name("b", key, calendar.WHOLE)] = baseline_text
        if not errors:
            for (key, column), (value, baseline) in wanted.items():
                if value is None:
                    if column == calendar.WHOLE and baseline is not None:
                        errors[_cell_name("b", key, column)] = _(
                            "A baseline goes with a target for the whole project."
                        )
                    elif (key, column) in stored:
                        services.remove_target(project, key, column)
                    continue
                services.set_target(project, key, value, period=column, baseline=baseline)
        if errors:
            db.session.rollback()
            flash(_("Some targets are not whole numbers: see the cells marked."), "error")
        else:
            db.session.commit()
            flash(_("The targets of %(code)s are saved.", code=project.code), "success")
            return redirect(url_for(".targets", project_id=project.id))
    else:
        for (key, column), target in stored.items():
            values[_cell_name("t", key, column)] = str(target.target)
            if column == calendar.WHOLE and target.baseline is not None:
                values[_cell_name("b", key, column)] = str(target.baseline)
    return render_template(
        "projects/targets.html",
        project=project,
        periods=periods,
        keys=keys,
        labels={k: manual[k] if k in manual else indicators.get(k).label for k in keys},
        values=values,
        errors=errors,
        form=form,
        cell=_cell_name,
        WHOLE=calendar.WHOLE,
    )


def _whole(text: str, name: str, errors: dict[str, str]) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        errors[name] = _("A whole number, 0 or more.")
        return None
    return int(text)
