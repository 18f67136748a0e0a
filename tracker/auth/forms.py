"""Sign-in and password forms, and the validator every new-password field uses."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, StopValidation

from tracker.auth import passwords
from tracker.forms import Form

#: longer than any password the policy accepts: the policy gives the clear message
PASSWORD_FIELD_MAX = 1000


class PasswordPolicy:
    """Check a new password against the policy (length, block list, the e-mail's name).

    The account's e-mail is the form's ``policy_email`` attribute when set (an
    existing account), else the data of its ``email`` field (a new account).
    """

    def __call__(self, form, field) -> None:
        email = getattr(form, "policy_email", None)
        if email is None and "email" in form:
            email = form["email"].data
        message = passwords.problem(field.data or "", email=email)
        if message is not None:
            raise StopValidation(message)


def new_password_fields(label, confirm_label=None):
    """Return a new-password field and its confirmation, as every form that sets one uses them."""
    password = PasswordField(
        label,
        validators=[DataRequired(), PasswordPolicy()],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        confirm_label or _l("The same password again"),
        validators=[
            DataRequired(),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=PASSWORD_FIELD_MAX)]
    )
    next = HiddenField()


class ChangePasswordForm(Form):
    """A signed-in user changes their own password: the current one first, the new one twice."""

    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=PASSWORD_FIELD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )
    password, confirm = new_password_fields(_l("New password"))

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy_email = email


class CodeForm(Form):
    """A code of the authenticator app (6 digits) or, at sign-in, a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"},
    )
