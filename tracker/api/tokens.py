"""Personal access tokens: made by a user for herself, shown once, kept as a hash.

A token is ``trk_`` and 43 random URL-safe characters (256 bits). Only its SHA-256 is
stored: a stolen copy of the database opens nothing, and a slow password hash would buy
nothing against a secret that cannot be guessed. A token acts with exactly its user's
role and projects, so a user who is deactivated, or whose role changes, takes her
tokens with her.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import ApiToken, User, aware, now_utc

PREFIX = "trk_"
#: characters of the secret shown in lists to tell tokens apart (never enough to use one)
SHOWN = len(PREFIX) + 6
NAME_LENGTH = 100
#: the longest a token may live, in days
MAX_DAYS = 3650
#: how often a token's "last used" is written: a read of the API is not a write each time
LAST_USE_PRECISION = timedelta(minutes=1)


def digest(secret: str) -> str:
    """Return the stored form of a token: the hex SHA-256 of its text."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create(user: User, name: str, *, days: int | None = None) -> tuple[ApiToken, str]:
    """Make a token for ``user``; return it and its secret (to be shown once); flush only."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("Give the token a name, to recognise it later."), "name")
    if len(name) > NAME_LENGTH:
        raise DomainError(
            _("The name is too long (at most %(num)d characters).", num=NAME_LENGTH), "name"
        )
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise DomainError(
            _("A token lasts from 1 to %(num)d days.", num=MAX_DAYS),
            "expires_in_days",
        )
    if not user.active:
        raise DomainError(_("This account is deactivated."))
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        prefix=secret[:SHOWN],
        token_hash=digest(secret),
        expires_at=now_utc() + timedelta(days=days) if days else None,
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def find(secret: str, moment: datetime | None = None) -> ApiToken | None:
    """Return the active token whose secret is ``secret`` (of an active user), else None."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    wanted = digest(secret)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == wanted))
    # the lookup is by an index on the hash; compare again in constant time all the same
    if token is None or not hmac.compare_digest(token.token_hash, wanted):
        return None
    if not token.active_at(moment or now_utc()) or not token.user.active:
        return None
    return token


def revoke(token: ApiToken) -> None:
    """Stop ``token`` from opening the API, for good; flush only."""
    if token.revoked_at is None:
        token.revoked_at = now_utc()
        db.session.flush()


def tokens_of(user: User) -> list[ApiToken]:
    """Return ``user``'s tokens, the newest first."""
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def note_use(token_id: int, last: datetime | None, addr: str | None, *, writes: bool) -> None:
    """Write when and from where a token was last used, at most once a minute.

    A request that reads does it in a short transaction of its own, like the audit line
    of a read: its own transaction stays read-only (on SQLite, a read must not take the
    write lock). A request that writes (``writes``) already holds that lock: the line
    goes into its transaction, and is kept when the request's change is.
    """
    moment = now_utc()
    if last is not None and moment - aware(last) < LAST_USE_PRECISION:
        return
    statement = (
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .values(last_used_at=moment, last_used_addr=(addr or "")[:64] or None)
    )
    if writes:
        db.session.execute(statement)
        return
    with Session(db.engine) as session:
        session.execute(statement)
        session.commit()
