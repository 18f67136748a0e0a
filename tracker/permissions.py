"""Roles and what each may see and do: the one place access rules live.

Scoped loaders fetch a record with its id **and** the user's project scope in one
query, so a record of another project answers 404, exactly like a missing one.
The ``can_*`` predicates are Jinja globals, so pages hide what the server refuses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, select, true

from tracker.extensions import db
from tracker.models import (
    Activity,
    FollowUp,
    Participant,
    Placement,
    Project,
    Role,
    TrainingCourse,
    User,
    user_project,
)

EDITORS = (Role.ADMIN, Role.MANAGER, Role.OFFICER)
MANAGERS = (Role.ADMIN, Role.MANAGER)


def sees_all_projects(user: User) -> bool:
    """Admins see every project; others only those assigned to them."""
    return user.role is Role.ADMIN


def can_see_names(user: User) -> bool:
    """Viewers read aggregates and codes, never names or contacts."""
    return user.role in EDITORS


def can_edit_participants(user: User) -> bool:
    """Register, edit and archive participants; record enrolments and placements."""
    return user.role in EDITORS


def can_read_sensitive_notes(user: User) -> bool:
    return user.role in MANAGERS


def can_merge(user: User) -> bool:
    """Merge duplicate records of one's projects, and undo a merge."""
    return user.role in MANAGERS


def can_manage_courses(user: User) -> bool:
    return user.role in MANAGERS


def can_manage_partners(user: User) -> bool:
    return user.role in MANAGERS


def can_retire_partners(user: User) -> bool:
    """Delete or archive a partner: partners are shared by every project, so administrators."""
    return user.role is Role.ADMIN


def can_manage_activities(user: User) -> bool:
    return user.role in MANAGERS


def can_read_reports(user: User) -> bool:
    """Donor reports are pseudonymous: managers write them, viewers read them."""
    return user.role in (Role.ADMIN, Role.MANAGER, Role.VIEWER)


def can_publish_results(user: User) -> bool:
    """Take a project's IATI results or DHIS2 aggregates: what a programme manager publishes."""
    return user.role in MANAGERS


def can_import(user: User) -> bool:
    """Import spreadsheets of records into one's own projects (the rows obey the scope)."""
    return user.role in EDITORS


def can_erase(user: User) -> bool:
    return user.role is Role.ADMIN


def can_manage_users(user: User) -> bool:
    return user.role is Role.ADMIN


def can_see_who_opened(user: User) -> bool:
    """Read who opened a case file of one's projects (its page views): managers and admins."""
    return user.role in MANAGERS


def can_read_audit_log(user: User) -> bool:
    """Who did what and when: administrators only (it names every user's actions)."""
    return user.role is Role.ADMIN


def in_scope(user: User, project_column) -> ColumnElement[bool]:
    """Return the condition that keeps rows of ``user``'s projects only."""
    if sees_all_projects(user):
        return true()
    return project_column.in_(
        select(user_project.c.project_id).where(user_project.c.user_id == user.id)
    )


def visible_projects(user: User) -> list[Project]:
    """Return the projects ``user`` may see, by code."""
    return list(
        db.session.scalars(select(Project).where(in_scope(user, Project.id)).order_by(Project.code))
    )


def _one_or_404(query):
    record = db.session.scalar(query)
    if record is None:
        abort(404)
    return record


def get_project_or_404(project_id: int) -> Project:
    return _one_or_404(
        select(Project).where(Project.id == project_id, in_scope(current_user, Project.id))
    )


def get_participant_or_404(participant_id: int) -> Participant:
    """Return the participant if she belongs to one of the user's projects, else 404."""
    return _one_or_404(
        select(Participant).where(
            Participant.id == participant_id, in_scope(current_user, Participant.project_id)
        )
    )


def get_course_or_404(course_id: int) -> TrainingCourse:
    return _one_or_404(
        select(TrainingCourse).where(
            TrainingCourse.id == course_id, in_scope(current_user, TrainingCourse.project_id)
        )
    )


def get_placement_or_404(placement_id: int) -> Placement:
    return _one_or_404(
        select(Placement).where(
            Placement.id == placement_id, in_scope(current_user, Placement.project_id)
        )
    )


def get_follow_up_or_404(follow_up_id: int) -> FollowUp:
    return _one_or_404(
        select(FollowUp)
        .join(Placement)
        .where(FollowUp.id == follow_up_id, in_scope(current_user, Placement.project_id))
    )


def get_activity_or_404(activity_id: int) -> Activity:
    return _one_or_404(
        select(Activity).where(
            Activity.id == activity_id, in_scope(current_user, Activity.project_id)
        )
    )


def role_required(*roles: Role) -> Callable:
    """Refuse (403) a signed-in user whose role is not among ``roles``."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


PREDICATES = {
    name: function
    for name, function in list(globals().items())
    if name.startswith("can_") and callable(function)
}


def init_app(app) -> None:
    """Expose the predicates to templates, so pages hide what the server refuses."""
    app.jinja_env.globals.update(Role=Role, **PREDICATES)
