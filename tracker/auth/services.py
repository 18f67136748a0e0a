"""User accounts: creation, password checks and changes, session tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.auth import passwords
from tracker.extensions import db
from tracker.models import Project, Role, User, now_utc

# checked against when the account does not exist, so a miss costs as much as a hit
_DUMMY_HASH: dict[str, str] = {}


class AccountError(ValueError):
    """A user account cannot be created or changed as asked."""


class PasswordRejected(AccountError):
    """A new password breaks the policy (or the current one was not given right)."""

    def __init__(self, message: str, field: str = "password") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the user, or why there is none (for the audit only)."""

    user: User | None
    #: None on success; else "unknown_account", "wrong_password" or "deactivated"
    refusal: str | None
    #: the account the attempt named, when it exists (whatever the outcome)
    account: User | None = None


def hash_password(password: str) -> str:
    """Hash ``password`` with the configured method (PBKDF2-SHA256, 1,000,000 rounds)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_fingerprint(email: str) -> str:
    """Return a keyed hash of an e-mail address as typed (normalised), for limits and the audit.

    Keyed with the secret key, so a list of fingerprints cannot be checked
    against a list of addresses by someone who does not hold the key.
    """
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, normalise_email(email).encode(), hashlib.sha256)
    return digest.hexdigest()[:20]


def check_new_password(password: str, email: str) -> None:
    """Raise ``PasswordRejected`` if ``password`` breaks the policy for the account ``email``."""
    try:
        passwords.check(password, email=email)
    except passwords.PasswordRejected as error:
        raise PasswordRejected(error.message) from error


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
    check_new_password(password, email)
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


def _needs_rehash(password_hash: str) -> bool:
    """Say whether a stored hash was made with another method than the configured one."""
    return not password_hash.startswith(current_app.config["PASSWORD_HASH_METHOD"] + "$")


def _spend_a_password_check(password: str) -> None:
    # an unknown account costs one hash check too: no account enumeration by timing
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASH:
        _DUMMY_HASH[method] = generate_password_hash(secrets.token_hex(8), method=method)
    check_password_hash(_DUMMY_HASH[method], password)


def end_transaction_before_hashing() -> None:
    """End the session's transaction, giving its connection back, before a password check.

    A check takes a million rounds of PBKDF2 (about 0.4 s): holding a pooled
    connection through it let a burst of sign-ins empty the pool ("QueuePool limit
    reached") and, on SQLite, hold the write lock (a POST begins IMMEDIATE) so that
    every other writer waited. Called before anything is written in the request;
    rolling back writes nothing, and loaded objects reload when next read.
    """
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("unsaved changes in the session before a password check")
    session.rollback()


def sign_in(email: str, password: str) -> SignIn:
    """Check an e-mail and password; on success record the time (and upgrade an old hash).

    Every outcome costs exactly one password-hash check, so the time taken does
    not tell whether the account exists or is deactivated. The stored hash is
    read, the transaction ended, then the password checked with no connection
    held; a success reads the account again and holds only if its hash and state
    did not change meanwhile.
    """
    stored = db.session.execute(
        select(User.id, User.password_hash, User.active).where(User.email == normalise_email(email))
    ).one_or_none()
    end_transaction_before_hashing()
    if stored is None:
        _spend_a_password_check(password)
        return SignIn(None, "unknown_account")
    right = check_password_hash(stored.password_hash, password)
    # the password is known only now: an older hash is moved to the current method,
    # hashed here too while no connection is held
    upgraded = hash_password(password) if right and _needs_rehash(stored.password_hash) else None
    user = db.session.get(User, stored.id)
    if user is None:  # deleted while the password was checked
        return SignIn(None, "unknown_account")
    if not right or user.password_hash != stored.password_hash:
        return SignIn(None, "wrong_password", user)
    if not user.active or not stored.active:
        return SignIn(None, "deactivated", user)
    values: dict = {"last_login_at": now_utc()}
    if upgraded is not None:
        values["password_hash"] = upgraded
    # a sign-in is not an edit: written past the version counter, so an admin's
    # open edit form does not turn into a conflict (the sign-in is audited apart)
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    return SignIn(user, None, user)


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with this e-mail and password, else None."""
    return sign_in(email, password).user


def end_sessions(user: User) -> None:
    """End every session of ``user`` on the server by rotating their token."""
    user.session_token = new_session_token()


def set_password(user: User, password: str) -> None:
    """Give ``user`` a new password (policy checked) and end all their sessions; flush only."""
    check_new_password(password, user.email)
    user.password_hash = hash_password(password)
    end_sessions(user)
    db.session.flush()


def change_own_password(user: User, current: str, new: str) -> None:
    """Change a user's own password after checking the current one; every session ends.

    The caller signs the user in again in the session they are using.
    """
    stored, email = user.password_hash, user.email
    # both hashes are computed with no connection held (see end_transaction_before_hashing)
    end_transaction_before_hashing()
    if not check_password_hash(stored, current):
        raise PasswordRejected(_("This is not your current password."), field="current")
    if new == current:
        raise PasswordRejected(
            _("The new password must differ from the current one."), field="password"
        )
    check_new_password(new, email)
    new_hash = hash_password(new)
    if user.password_hash != stored:  # changed meanwhile (another session, an admin)
        raise PasswordRejected(_("This is not your current password."), field="current")
    user.password_hash = new_hash
    end_sessions(user)
    db.session.flush()
