"""The web pages of the API: a user's tokens, and the API's description to read."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from tracker.api import tokens
from tracker.api.openapi import api
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import ApiToken
from tracker.web import field_error

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")
docs_bp = Blueprint("api_docs_page", __name__, url_prefix="/api/v1")


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=tokens.NAME_LENGTH)],
        description=_l("What the token is for, e.g. “KoboToolbox Casablanca” or “M&E dashboard”."),
    )
    expires_in_days = IntegerField(
        _l("Expires after (days)"),
        validators=[Optional(), NumberRange(min=1, max=tokens.MAX_DAYS)],
        default=90,
        description=_l("Leave empty for a token that lasts until it is revoked."),
    )


class RevokeForm(FlaskForm):
    pass


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    """List the signed-in user's tokens; make a new one (its secret is shown once)."""
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        try:
            token, secret = tokens.create(
                current_user, form.name.data, days=form.expires_in_days.data
            )
        except DomainError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "The token “%(name)s” is made. Copy it now: it will not be shown again.",
                    name=token.name,
                ),
                "success",
            )
            form = TokenForm(formdata=None)
    return render_template(
        "api/tokens.html",
        form=form,
        secret=secret,
        tokens=tokens.tokens_of(current_user),
        revoke_form=RevokeForm(),
    )


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    """Revoke one of the signed-in user's tokens, for good."""
    form = RevokeForm()
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == current_user.id)
    )
    if token is None:
        abort(404)
    if form.validate_on_submit():
        tokens.revoke(token)
        db.session.commit()
        flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(url_for(".index"))


@docs_bp.route("/docs")
def docs():
    """The API's description as a page: every operation, its parameters and answers."""
    spec = api.spec.to_dict()
    return render_template("api/docs.html", spec=spec)
