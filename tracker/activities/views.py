"""Activities on the web: list, read, record, edit, and the partners that attended."""

from __future__ import annotations

from contextlib import suppress

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker.activities import bp, services
from tracker.activities.forms import ActivityFilterForm, ActivityForm, AttendanceForm
from tracker.domain import DomainError, StillReferenced
from tracker.extensions import db
from tracker.forms import optional_record_id
from tracker.models import Activity, ActivityAttendance, ActivityKind, Partner
from tracker.permissions import (
    MANAGERS,
    can_manage_activities,
    get_activity_or_404,
    in_scope,
    role_required,
    visible_projects,
)
from tracker.web import conflict_page, field_error, version_changed

PER_PAGE = 25


@bp.route("/")
@login_required
def index():
    """List the activities of the user's projects, filtered by project, kind and year."""
    projects = visible_projects(current_user)
    scope = in_scope(current_user, Activity.project_id)
    form = ActivityFilterForm(request.args, projects=projects, years=services.years(scope))
    filters = {}
    if form.validate():
        filters = {
            "project_id": int(form.project.data) if form.project.data else None,
            "kind": ActivityKind(form.kind.data) if form.kind.data else None,
            "year": int(form.year.data) if form.year.data else None,
            "archived": form.archived.data or None,
        }
    query = services.activities_query(scope, **filters)
    # archived activities left out of the list still count in the figures: say how many
    hidden = 0
    if not filters.get("archived"):
        archived = services.activities_query(scope, **{**filters, "archived": "only"})
        hidden = db.session.scalar(select(func.count()).select_from(archived.subquery()))
    page = db.paginate(
        query.options(selectinload(Activity.project)),
        per_page=PER_PAGE,
        error_out=False,
        max_per_page=100,
    )
    return render_template(
        "activities/index.html",
        form=form,
        page=page,
        totals=services.attendance_totals(a.id for a in page.items),
        reach=services.reach(query),
        projects=projects,
        hidden_archived=hidden,
    )


def _detail_page(activity: Activity, *, attendance_form: AttendanceForm | None = None):
    """Render an activity with its attendance and, for managers, the form to add a partner."""
    may_manage = can_manage_activities(current_user)
    if may_manage and attendance_form is None:
        attendance_form = AttendanceForm(
            formdata=None, partners=services.partners_not_attending(activity)
        )
    return render_template(
        "activities/detail.html",
        activity=activity,
        attendance=services.attendance_list(activity),
        totals=services.attendance_totals([activity.id])[activity.id],
        may_manage=may_manage,
        attendance_form=attendance_form,
        references=services.activity_references(activity) if may_manage else [],
    )


@bp.route("/<int:activity_id>")
@login_required
def detail(activity_id: int):
    """Show an activity and the partner institutions that attended it."""
    return _detail_page(get_activity_or_404(activity_id))


@bp.route("/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new():
    """Record an activity (managers and administrators)."""
    projects = visible_projects(current_user)
    form = ActivityForm(projects=projects)
    if request.method == "GET":
        # "?project=" proposes a project; "²" or "٣" * 5000 pass isdigit() but not int()
        with suppress(ValueError):
            form.project_id.data = optional_record_id(request.args.get("project"))
    if form.validate_on_submit():
        project = next((p for p in projects if p.id == form.project_id.data), None)
        if project is None:
            abort(404)
        try:
            activity = services.record_activity(project, **form.values())
        except DomainError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The activity “%(title)s” is recorded.", title=activity.title), "success")
            return redirect(url_for(".detail", activity_id=activity.id))
    return render_template(
        "activities/form.html",
        form=form,
        activity=None,
        topics=services.topics([p.id for p in projects]),
    )


@bp.route("/<int:activity_id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit(activity_id: int):
    """Edit an activity (managers and administrators); a stale form gets the conflict page."""
    activity = get_activity_or_404(activity_id)
    form = ActivityForm(obj=activity if request.method == "GET" else None)
    # the project of an activity stays: its attendance counts for that project
    del form.project_id
    if request.method == "GET":
        form.expected_version.data = activity.version
    if form.validate_on_submit():
        if version_changed(form.expected_version.data, activity):
            return conflict_page(
                title=activity.title,
                form=form,
                record=activity,
                fields=services.EDITABLE_FIELDS,
                back_url=url_for(".edit", activity_id=activity.id),
            )
        try:
            services.update_activity(activity, **form.values())
        except DomainError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The changes are saved."), "success")
            return redirect(url_for(".detail", activity_id=activity.id))
    return render_template(
        "activities/form.html",
        form=form,
        activity=activity,
        topics=services.topics([activity.project_id]),
    )


@bp.route("/<int:activity_id>/attendance", methods=["POST"])
@role_required(*MANAGERS)
def add_attendance(activity_id: int):
    """Add a partner institution, with its staff count, to the attendance of an activity."""
    activity = get_activity_or_404(activity_id)
    form = AttendanceForm(partners=services.partners_not_attending(activity))
    if form.validate_on_submit():
        partner = db.session.get(Partner, form.partner.data)
        if partner is None:
            form.partner.errors.append(_("Choose a partner from the list."))
        else:
            try:
                services.add_attendance(activity, partner, staff_count=form.staff_count.data)
            except DomainError as error:
                field_error(form, error)
            else:
                db.session.commit()
                flash(
                    _("%(partner)s is added to the attendance.", partner=partner.display_name),
                    "success",
                )
                return redirect(url_for(".detail", activity_id=activity.id) + "#attendance")
    return _detail_page(activity, attendance_form=form)


@bp.route("/<int:activity_id>/attendance/<int:attendance_id>/remove", methods=["POST"])
@role_required(*MANAGERS)
def remove_attendance(activity_id: int, attendance_id: int):
    """Remove a partner institution from the attendance of an activity."""
    activity = get_activity_or_404(activity_id)
    attendance = db.session.scalar(
        select(ActivityAttendance).where(
            ActivityAttendance.id == attendance_id,
            ActivityAttendance.activity_id == activity.id,
        )
    )
    if attendance is None:
        abort(404)
    name = attendance.partner.display_name
    services.remove_attendance(attendance)
    db.session.commit()
    flash(_("%(partner)s is removed from the attendance.", partner=name), "success")
    return redirect(url_for(".detail", activity_id=activity.id) + "#attendance")


# --- Deleting and archiving an activity ---------------------------------------------


@bp.route("/<int:activity_id>/delete", methods=["POST"])
@role_required(*MANAGERS)
def delete(activity_id: int):
    """Delete an activity nobody attended; otherwise say why, and that it can be archived."""
    activity = get_activity_or_404(activity_id)
    title = activity.title
    try:
        services.delete_activity(activity)
    except StillReferenced as error:
        flash(error.message, "error")
        return redirect(url_for(".detail", activity_id=activity.id))
    db.session.commit()
    flash(_("The activity “%(title)s” is deleted.", title=title), "success")
    return redirect(url_for(".index"))


@bp.route("/<int:activity_id>/archive", methods=["POST"])
@role_required(*MANAGERS)
def archive(activity_id: int):
    """Archive an activity: out of the default list, still in every figure."""
    activity = get_activity_or_404(activity_id)
    services.archive_activity(activity)
    db.session.commit()
    flash(
        _(
            "The activity “%(title)s” is archived: it still counts in the figures.",
            title=activity.title,
        ),
        "success",
    )
    return redirect(url_for(".detail", activity_id=activity.id))


@bp.route("/<int:activity_id>/unarchive", methods=["POST"])
@role_required(*MANAGERS)
def unarchive(activity_id: int):
    """Bring an archived activity back into the list."""
    activity = get_activity_or_404(activity_id)
    services.unarchive_activity(activity)
    db.session.commit()
    flash(_("The activity “%(title)s” is back in the list.", title=activity.title), "success")
    return redirect(url_for(".detail", activity_id=activity.id))
