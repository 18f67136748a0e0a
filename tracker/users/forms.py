"""Forms to create and edit user accounts and to set a password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from tracker.auth.forms import new_password_fields
from tracker.forms import Form
from tracker.models import Role
from tracker.partners.forms import enum_coerce


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


class AccountForm(Form):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=200)], filters=[_stripped]
    )
    role = SelectField(
        _l("Role"),
        coerce=enum_coerce(Role),
        choices=[],
        validators=[InputRequired(message=_l("Choose a role."))],
    )
    # drawn as checkboxes by the template
    project_ids = SelectMultipleField(_l("Projects"), coerce=int, choices=[])
    expected_version = HiddenField()

    def __init__(self, *args, projects=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [("", str(_l("— choose —")))] + Role.choices()
        self.project_ids.choices = [(p.id, f"{p.code} – {p.title}") for p in projects]

    def validate_project_ids(self, field) -> None:
        # everyone but an administrator sees only their projects: none would show nothing
        if self.role.data not in (None, Role.ADMIN) and not field.data:
            raise ValidationError(_l("Choose at least one project for this role."))


class NewAccountForm(AccountForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)],
        filters=[_stripped],
        render_kw={"autocomplete": "off"},
    )
    password, confirm = new_password_fields(_l("Initial password"))


class PasswordForm(Form):
    """An administrator sets the password of the account ``email``."""

    password, confirm = new_password_fields(_l("New password"))

    def __init__(self, *args, email: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy_email = email


class AccountFilterForm(Form):
    class Meta:
        csrf = False  # a GET form: bookmarkable, changes nothing

    role = SelectField(_l("Role"), choices=[], validators=[Optional()])
    status = SelectField(_l("Status"), choices=[], validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        everyone = str(_l("All"))
        self.role.choices = [("", everyone)] + Role.choices()
        self.status.choices = [
            ("", everyone),
            ("active", str(_l("Active"))),
            ("inactive", str(_l("Deactivated"))),
        ]
