"""Roles and what each may see: the one place access rules live."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Project, Role, User


def sees_all_projects(user: User) -> bool:
    """Admins see every project; others only those assigned to them."""
    return user.role is Role.ADMIN


def can_see_names(user: User) -> bool:
    """Viewers read aggregates and codes, never names or contacts."""
    return user.role in (Role.ADMIN, Role.MANAGER, Role.OFFICER)


def visible_projects(user: User) -> list[Project]:
    """Return the projects ``user`` may see, by code."""
    if sees_all_projects(user):
        return list(db.session.scalars(select(Project).order_by(Project.code)))
    return sorted(user.projects, key=lambda p: p.code)


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


def init_app(app) -> None:
    """Expose the predicates to templates, so pages hide what the server refuses."""
    app.jinja_env.globals.update(can_see_names=can_see_names, Role=Role)
