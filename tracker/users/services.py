"""Administering user accounts: create, change role and projects, deactivate, reset password.

A change of what a user may see or do ends their sessions at once (the session
token rotates), so a narrowed account cannot keep using what it had before.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from tracker import audit
from tracker.auth.services import (
    AccountError,
    PasswordRejected,
    check_new_password,
    create_user,
    end_sessions,
    normalise_email,
    set_password,
)
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import Project, Role, User


def _check_password(password: str, email: str, field: str = "password") -> None:
    """Turn a password-policy refusal into an error on the form's field."""
    try:
        check_new_password(password, email)
    except PasswordRejected as error:
        raise DomainError(error.message, field) from error


def _check_projects(role: Role, projects: Sequence[Project]) -> None:
    # everyone but an administrator sees only their projects: none would show nothing
    if role is not Role.ADMIN and not projects:
        raise DomainError(_("Choose at least one project for this role."), "project_ids")


def create_account(
    *,
    email: str,
    name: str,
    role: Role,
    projects: Sequence[Project],
    password: str,
) -> User:
    """Create an active account; flush only."""
    email = normalise_email(email)
    if db.session.scalar(select(func.count(User.id)).where(User.email == email)):
        raise DomainError(_("A user with this e-mail address already exists."), "email")
    if not name.strip():
        raise DomainError(_("The name is required."), "name")
    _check_password(password, email)
    _check_projects(role, projects)
    try:
        return create_user(email, password, role, name=name.strip(), projects=list(projects))
    except AccountError as error:
        raise DomainError(_("This e-mail address is not valid."), "email") from error


def update_account(
    user: User, *, name: str, role: Role, projects: Sequence[Project], by: User
) -> bool:
    """Change name, role and projects; return whether the user's sessions were ended.

    Changing the role or the projects ends the user's sessions: they sign in
    again and get exactly the new rights. An administrator cannot change their
    own role, so that the last administrator cannot lock everyone out.
    """
    if not name.strip():
        raise DomainError(_("The name is required."), "name")
    if user.id == by.id and role is not user.role:
        raise DomainError(_("You cannot change your own role: ask another administrator."), "role")
    _check_projects(role, projects)
    rights_changed = role is not user.role or {p.id for p in projects} != {
        p.id for p in user.projects
    }
    if user.name != name.strip():
        user.name = name.strip()
    if rights_changed:
        before = sorted(p.code for p in user.projects)
        user.role = role
        user.projects = sorted(projects, key=lambda p: p.code)
        after = sorted(p.code for p in user.projects)
        if before != after:
            # a many-to-many change is not a column: the flush hook cannot see it
            audit.record(db.session, "update", "user", user.id, {"projects": [before, after]})
        end_sessions(user)
    db.session.flush()
    return rights_changed


def deactivate(user: User, *, by: User) -> None:
    """Close an account: it can no longer sign in, and its sessions end now."""
    if user.id == by.id:
        raise DomainError(_("You cannot deactivate your own account."))
    user.active = False
    end_sessions(user)
    db.session.flush()


def activate(user: User) -> None:
    """Reopen a closed account; the user signs in with their password."""
    user.active = True
    db.session.flush()


def reset_password(user: User, password: str) -> None:
    """Set a new password chosen by an administrator, ending the user's sessions."""
    _check_password(password, user.email)
    set_password(user, password)


def accounts_query(*, role: Role | None = None, active: bool | None = None) -> Select:
    """Return the query of accounts, active ones first, by e-mail."""
    query = select(User).options(selectinload(User.projects))
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    return query.order_by(User.active.desc(), User.email)


def projects_by_id(ids: Sequence[int]) -> list[Project]:
    """Return the projects with these ids (unknown ids are left out)."""
    if not ids:
        return []
    return list(db.session.scalars(select(Project).where(Project.id.in_(ids))))


def all_projects() -> list[Project]:
    return list(db.session.scalars(select(Project).order_by(Project.code)))
