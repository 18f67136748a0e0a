"""Forms to record and edit partner institutions, and to search the list."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from tracker.forms import Form, archived_choices, archived_field, phone_number
from tracker.models import PartnerKind
from tracker.participants.forms import country_choices


def enum_coerce(enum_cls: type[Enum]) -> Callable:
    """Coerce a submitted value to a member of ``enum_cls``; the empty choice becomes None."""

    def coerce(value):
        if value in (None, ""):
            return None
        return enum_cls(value)

    return coerce


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


class PartnerForm(Form):
    name = StringField(
        _l("Full name of the institution"),
        validators=[DataRequired(), Length(max=300)],
        filters=[_stripped],
    )
    acronym = StringField(
        _l("Acronym"), validators=[Optional(), Length(max=40)], filters=[_stripped]
    )
    kind = SelectField(
        _l("Kind of institution"),
        coerce=enum_coerce(PartnerKind),
        choices=[],
        validators=[InputRequired(message=_l("Choose the kind of institution."))],
    )
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)], filters=[_stripped])
    country = SelectField(
        _l("Country"),
        choices=[],
        default="MAR",
        validators=[InputRequired(message=_l("Choose the country."))],
    )
    contact_name = StringField(
        _l("Contact person"), validators=[Optional(), Length(max=200)], filters=[_stripped]
    )
    contact_email = StringField(
        _l("Contact e-mail"),
        validators=[Optional(), Length(max=254), Email(check_deliverability=False)],
        filters=[_stripped],
        render_kw={"type": "email"},
    )
    contact_phone = StringField(
        _l("Contact phone"),
        validators=[
            Optional(),
            Length(max=40),
            phone_number,
        ],
        filters=[_stripped],
        render_kw={"type": "tel"},
    )
    expected_version = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", str(_l("— choose —")))] + PartnerKind.choices()
        self.country.choices = country_choices(str(_l("— choose —")))

    def values(self) -> dict:
        """Return the submitted fields, empty strings as None, the kind as a member."""
        return {
            "name": self.name.data,
            "acronym": self.acronym.data or None,
            "kind": self.kind.data,
            "city": self.city.data or None,
            "country": self.country.data,
            "contact_name": self.contact_name.data or None,
            "contact_email": self.contact_email.data or None,
            "contact_phone": self.contact_phone.data or None,
        }


class PartnerFilterForm(Form):
    class Meta:
        csrf = False  # a GET form: bookmarkable, changes nothing

    q = StringField(_l("Name or acronym"), validators=[Optional(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=[], validators=[Optional()])
    archived = archived_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", str(_l("All")))] + PartnerKind.choices()
        self.archived.choices = archived_choices()
