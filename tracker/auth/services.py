"""User accounts: creation, password checks, session tokens."""

from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.extensions import db
from tracker.models import Project, Role, User, now_utc

MIN_PASSWORD_LENGTH = 12
# checked against when the account does not exist, so a miss costs as much as a hit
_DUMMY_HASH: dict[str, str] = {}


class AccountError(ValueError):
    """A user account cannot be created or changed as asked."""


def hash_password(password: str) -> str:
    """Hash ``password`` with the configured method (PBKDF2-SHA256, 1,000,000 rounds)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    email: str,
    password: str,
    role: Role,
    *,
    name: str = "",
    projects: list[Project] | None = None,
) -> User:
    """Create an active user with a hashed password; flush only."""
    email = normalise_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise AccountError(f"invalid e-mail address: {email!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    exists = db.session.scalar(select(func.count()).where(User.email == email))
    if exists:
        raise AccountError(f"a user with the e-mail {email} already exists")
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password),
        role=role,
        active=True,
        session_token=new_session_token(),
        projects=list(projects or []),
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with this e-mail and password, else None."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        # spend the same time as a real check: no account enumeration by timing
        method = current_app.config["PASSWORD_HASH_METHOD"]
        if method not in _DUMMY_HASH:
            _DUMMY_HASH[method] = generate_password_hash(secrets.token_hex(8), method=method)
        check_password_hash(_DUMMY_HASH[method], password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    # a sign-in is not an edit: written past the version counter, so an admin's
    # open edit form does not turn into a conflict (the sign-in is audited apart)
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(last_login_at=now_utc())
        .execution_options(synchronize_session="fetch")
    )
    return user


def end_sessions(user: User) -> None:
    """End every session of ``user`` on the server by rotating their token."""
    user.session_token = new_session_token()
