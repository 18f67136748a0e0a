from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import audit, security
from tracker.auth import bp
from tracker.auth.forms import ChangePasswordForm, LoginForm
from tracker.auth.services import (
    PasswordRejected,
    change_own_password,
    email_fingerprint,
    end_sessions,
    sign_in,
)
from tracker.config import LANGUAGES
from tracker.extensions import db, login_manager
from tracker.models import User


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """Find the active user whose current session token is ``token``."""
    return db.session.scalar(select(User).where(User.session_token == token, User.active.is_(True)))


def safe_next(target: str | None) -> str:
    """Return ``target`` if it is a path on this site, else the home page."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("home.index")


def _audit_refusal(email: str, refusal: str, account: User | None) -> None:
    """Audit a refused sign-in: the account if it exists, else only a keyed hash of the e-mail."""
    changes = {"reason": refusal, "email_hash": email_fingerprint(email)}
    audit.record(db.session, "login_failed", "user", account.id if account else None, changes)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign a user in with e-mail and password.

    The attempt is counted against the limits before the password is checked
    (a free check slot first, else 503), and taken back when the password is right.
    """
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        with security.password_check_slot() as free:
            if not free:
                return security.busy()
            try:
                counted = security.count_password_attempt(form.email.data)
            except security.Throttled as refusal:
                return security.throttled(refusal)
            attempt = sign_in(form.email.data, form.password.data)
        if attempt.user is None:
            _audit_refusal(form.email.data, attempt.refusal, attempt.account)
            db.session.commit()
            # one message for an unknown account, a wrong password and a closed account
            flash(_("Unknown e-mail or wrong password."), "error")
        else:
            security.refund_password_attempt(counted)
            security.start_session(attempt.user)
            audit.record(db.session, "login", "user", attempt.user.id)
            db.session.commit()
            return redirect(safe_next(form.next.data))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out, ending this user's sessions everywhere."""
    user = current_user._get_current_object()
    audit.record(db.session, "logout", "user", user.id)
    end_sessions(user)
    db.session.commit()
    security.end_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; every other session of the user ends.

    A wrong current password counts against the sign-in limits as a failed
    sign-in does (counted before the check, taken back when it was right).
    """
    user = current_user._get_current_object()
    form = ChangePasswordForm(email=user.email)
    if form.validate_on_submit():
        with security.password_check_slot() as free:
            if not free:
                return security.busy()
            try:
                counted = security.count_password_attempt(user.email)
            except security.Throttled as refusal:
                return security.throttled(refusal)
            try:
                change_own_password(user, form.current.data, form.password.data)
            except PasswordRejected as error:
                failure = error
            else:
                failure = None
        if failure is None or failure.field != "current":
            security.refund_password_attempt(counted)
        if failure is not None:
            form[failure.field].errors.append(failure.message)
        else:
            db.session.commit()
            # the token rotated: this browser signs in again on a new session, the others are out
            security.start_session(user)
            flash(_("Your password is changed. Your other sessions are ended."), "success")
            return redirect(url_for("home.index"))
    return render_template("auth/password.html", form=form)


@bp.route("/language/<lang>", methods=["POST"])
def set_language(lang: str):
    """Switch the interface language."""
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")))
