from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from tracker import audit, security
from tracker.auth import bp, twofactor
from tracker.auth.forms import ChangePasswordForm, CodeForm, LoginForm
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
        elif attempt.user.has_second_factor:
            # the password is right (not a failure to count); the session stays signed out
            # until the code passes, whose attempts count on the same account
            security.refund_password_attempt(counted)
            security.await_second_factor(attempt.user, form.next.data)
            return redirect(url_for("auth.second_factor"))
        else:
            security.refund_password_attempt(counted)
            security.start_session(attempt.user)
            audit.record(db.session, "login", "user", attempt.user.id)
            db.session.commit()
            return redirect(safe_next(form.next.data))
    return render_template("auth/login.html", form=form)


@bp.route("/code", methods=["GET", "POST"])
def second_factor():
    """Second step of signing in: a code of the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    pending = security.pending_sign_in()
    user = load_user(pending["token"]) if pending else None
    if user is None or not user.has_second_factor:
        security.end_session()
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        # counted before the check, with the password's attempts (security.count_attempt)
        try:
            counted = security.count_code_attempt()
        except security.Throttled as refusal:
            return security.throttled(refusal)
        how = twofactor.check_code(user, form.code.data)
        if how is None:
            db.session.rollback()
            audit.record(db.session, "second_factor_failed", "user", user.id)
            db.session.commit()
            form.code.errors.append(_("This code is not valid, or it was already used."))
        else:
            security.refund_password_attempt(counted)
            target = pending.get("next")
            security.start_session(user)
            audit.record(db.session, "login", "user", user.id, {"second_factor": how})
            if how == "recovery":
                left = twofactor.recovery_codes_left(user)
                audit.record(db.session, "recovery_code_used", "user", user.id, {"left": left})
                flash(
                    _(
                        "You signed in with a recovery code; %(num)d are left. Set up"
                        " two-step sign-in again on your account page to get new ones.",
                        num=left,
                    ),
                    "warning",
                )
            db.session.commit()
            return redirect(safe_next(target))
    return render_template("auth/code.html", form=form)


def _enrolment_page(user: User, form: CodeForm):
    secret = session.get(security.SETUP_SECRET)
    if not secret:
        secret = twofactor.new_secret()
        session[security.SETUP_SECRET] = secret
    uri = twofactor.provisioning_uri(secret, user.email)
    return render_template(
        "auth/two_factor.html",
        form=form,
        qr=Markup(twofactor.qr_svg(uri, _("QR code to scan with an authenticator app"))),  # noqa: S704 (SVG drawn by segno from our own URI)
        key=twofactor.grouped(secret),
        required=twofactor.is_required(user),
        off_form=None,
    )


@bp.route("/two-factor", methods=["GET", "POST"])
@login_required
def two_factor():
    """Set up two-step sign-in (QR code, manual key, a first code), or see that it is on."""
    user = current_user._get_current_object()
    if user.has_second_factor:
        return render_template(
            "auth/two_factor.html",
            form=None,
            required=twofactor.is_required(user),
            left=twofactor.recovery_codes_left(user),
            off_form=CodeForm(),
        )
    form = CodeForm()
    if form.validate_on_submit():
        try:
            counted = security.count_code_attempt(security.account_key(user.email))
        except security.Throttled as refusal:
            return security.throttled(refusal)
        secret = session.get(security.SETUP_SECRET)
        codes = twofactor.enrol(user, secret, form.code.data) if secret else None
        if codes is None:
            form.code.errors.append(
                _("This code does not match. Check the time of your phone and type a new code.")
            )
        else:
            security.refund_password_attempt(counted)
            audit.record(db.session, "second_factor_enrolled", "user", user.id)
            db.session.commit()
            session.pop(security.SETUP_SECRET, None)
            # shown in this answer only: never stored in clear, never sent again
            return render_template("auth/recovery_codes.html", codes=codes)
    return _enrolment_page(user, form)


@bp.route("/two-factor/off", methods=["POST"])
@login_required
def two_factor_off():
    """Turn one's own two-step sign-in off, with a current code; not where it is required."""
    user = current_user._get_current_object()
    if not user.has_second_factor:
        return redirect(url_for("auth.two_factor"))
    if twofactor.is_required(user):
        flash(_("Two-step sign-in is required for your role: it cannot be turned off."), "error")
        return redirect(url_for("auth.two_factor"))
    form = CodeForm()
    try:
        counted = security.count_code_attempt(security.account_key(user.email))
    except security.Throttled as refusal:
        return security.throttled(refusal)
    if form.validate_on_submit() and twofactor.check_code(user, form.code.data) == "totp":
        security.refund_password_attempt(counted)
        twofactor.turn_off(user)
        audit.record(db.session, "second_factor_reset", "user", user.id, {"by": "self"})
        db.session.commit()
        security.start_session(user)  # her token rotated: this browser stays signed in
        flash(_("Two-step sign-in is off. Your other sessions are ended."), "success")
        return redirect(url_for("auth.two_factor"))
    db.session.rollback()
    flash(_("This code is not valid, or it was already used."), "error")
    return redirect(url_for("auth.two_factor"))


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
