from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from tracker import audit
from tracker.auth import bp
from tracker.auth.forms import LoginForm
from tracker.auth.services import authenticate, end_sessions
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


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign a user in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            audit.record(db.session, "login_failed", "user")
            db.session.commit()
            flash(_("Unknown e-mail or wrong password."), "error")
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session on sign-in
            if lang:
                session["lang"] = lang
            login_user(user)
            audit.record(db.session, "login", "user", user.id)
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
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language/<lang>", methods=["POST"])
def set_language(lang: str):
    """Switch the interface language."""
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")))
