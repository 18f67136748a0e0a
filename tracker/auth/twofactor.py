"""Two-step sign-in: TOTP codes (RFC 6238) and single-use recovery codes.

- A code is 6 digits for a 30-second step; the step before and the one after are
  accepted (a phone's clock drifts). The step a code was accepted for is stored on the
  user, and a code of that step or an earlier one is refused: a code seen over a
  shoulder or in a proxy's log cannot be used again. Claiming the step is one
  conditional UPDATE, so two requests with the same code cannot both pass.
- Ten recovery codes are made at enrolment, 16 base32 characters (80 bits) each,
  shown once; only their SHA-256 is kept, and using one is one conditional UPDATE.
- Required of administrators and managers when ``REQUIRE_2FA`` says so (unset: in
  production only); optional for everybody else. The API's bearer tokens are not
  affected: a token is made by a signed-in user and acts as her.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

import pyotp
import segno
from flask import Flask, current_app
from sqlalchemy import delete, func, or_, select, update

from tracker.config import is_production
from tracker.extensions import db
from tracker.models import RecoveryCode, Role, User, now_utc

ISSUER = "tracker"
DIGITS = 6
STEP_SECONDS = 30
#: steps accepted around the current one (RFC 6238 section 5.2: one step of drift)
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#: roles that must use it when it is required
REQUIRED_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
#: the tests replace it to move time
clock = time.time


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def required_by_setting(app: Flask) -> bool:
    """Say whether this installation requires two-step sign-in of admins and managers."""
    value = app.config.get("REQUIRE_2FA")
    if value is None or (isinstance(value, str) and not value.strip()):
        return is_production(app)
    return _truthy(value)


def is_required(user: User) -> bool:
    """Return True if ``user`` must sign in with a second factor."""
    return user.role in REQUIRED_ROLES and required_by_setting(current_app)


def new_secret() -> str:
    """Return a new random TOTP secret (160 bits, base32, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """Return the otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=ISSUER
    )


def qr_svg(uri: str, title: str) -> str:
    """Return the QR code of ``uri`` as inline SVG (drawn here: no outside service)."""
    qr = segno.make(uri, error="m")
    return qr.svg_inline(scale=4, border=2, dark="#000", light="#fff", title=title, omitsize=True)


def grouped(secret: str) -> str:
    """Return the secret in groups of four characters, as people type it."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str) -> int | None:
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int(clock() // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _digits(code: str) -> str:
    return "".join(code.split())


def code_matches(secret: str, code: str) -> int | None:
    """Return the time step ``code`` is valid for with ``secret`` (now, give or take one)."""
    code = _digits(code or "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    return _matching_step(secret, code)


def _claim_step(user: User, step: int) -> bool:
    """Record ``step`` as used, unless it (or a later one) already was; atomic."""
    table = User.__table__
    claimed = db.session.execute(
        update(table)
        .where(
            table.c.id == user.id,
            or_(table.c.totp_last_step.is_(None), table.c.totp_last_step < step),
        )
        .values(totp_last_step=step)
    ).rowcount
    db.session.expire(user, ["totp_last_step"])
    return claimed == 1


def _recovery_hash(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def _use_recovery_code(user: User, code: str) -> bool:
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now_utc())
        .execution_options(synchronize_session=False)
    ).rowcount
    return used == 1


def check_code(user: User, code: str) -> str | None:
    """Check a sign-in code of ``user``: "totp" or "recovery" when it passes, else None.

    A TOTP code is accepted once; a recovery code once ever. Only flushes.
    """
    if not user.has_second_factor:
        return None
    step = code_matches(user.totp_secret, code)
    if step is not None:
        return "totp" if _claim_step(user, step) else None
    cleaned = "".join(ch for ch in (code or "") if ch.isalnum())
    if len(cleaned) == 16 and _use_recovery_code(user, cleaned):
        return "recovery"
    return None


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_BASE32) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def enrol(user: User, secret: str, code: str) -> list[str] | None:
    """Turn on two-step sign-in with ``secret`` once ``code`` proves the app holds it.

    Returns the ten recovery codes, in clear, to show once (only their hashes are
    kept), or None if the code is wrong. Only flushes.
    """
    step = code_matches(secret, code)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_enabled_at = now_utc()
    user.totp_last_step = step
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(c)) for c in codes)
    db.session.flush()
    return codes


def turn_off(user: User) -> None:
    """Remove ``user``'s second factor and recovery codes, and end her sessions. Only flushes."""
    from tracker.auth.services import end_sessions

    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_sessions(user)
    db.session.flush()
