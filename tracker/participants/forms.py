"""Forms to register and edit participants, and to search the list."""

from __future__ import annotations

from datetime import date

import pycountry
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from tracker.forms import Form, phone_number
from tracker.i18n import country_name
from tracker.models import ConsentPurpose, EducationLevel, MigrationStatus, Sex
from tracker.text import fold

#: the regions of Morocco (2015 division); other values can be typed
MOROCCO_REGIONS = (
    "Béni Mellal-Khénifra",
    "Casablanca-Settat",
    "Dakhla-Oued Ed-Dahab",
    "Drâa-Tafilalet",
    "Fès-Meknès",
    "Guelmim-Oued Noun",
    "Laâyoune-Sakia El Hamra",
    "L'Oriental",
    "Marrakech-Safi",
    "Rabat-Salé-Kénitra",
    "Souss-Massa",
    "Tanger-Tétouan-Al Hoceïma",
)


def country_choices(blank: str = "") -> list[tuple[str, str]]:
    """Return (alpha-3, name) of every country, named and sorted in the user's language."""
    lang = str(get_locale() or "fr")
    names = [(c.alpha_3, country_name(c.alpha_3, lang)) for c in pycountry.countries]
    return [("", blank)] + sorted(names, key=lambda pair: _sort_key(pair[1]))


def _sort_key(text: str) -> str:
    return fold(text)


def not_in_future(form, field) -> None:
    if field.data and field.data > date.today():
        raise ValidationError(_l("This date cannot be in the future."))


def enum_choices(enum_cls, blank=None) -> list[tuple[str, str]]:
    choices = [(m.value, m.label) for m in enum_cls]
    return [("", blank)] + choices if blank is not None else choices


class ParticipantForm(Form):
    # dir="auto": a name typed in Arabic runs right to left, whatever the page's language
    given_name = StringField(
        _l("Given name"),
        validators=[DataRequired(), Length(max=120)],
        render_kw={"dir": "auto"},
    )
    family_name = StringField(
        _l("Family name"),
        validators=[DataRequired(), Length(max=120)],
        render_kw={"dir": "auto"},
    )
    other_name = StringField(
        _l("Name in the other script"),
        validators=[Optional(), Length(max=240)],
        render_kw={"dir": "auto", "autocomplete": "off"},
    )
    sex = RadioField(_l("Sex"), choices=[], validators=[InputRequired()])
    date_of_birth = DateField(
        _l("Date of birth"), validators=[Optional(), not_in_future], render_kw={"max": "9999-12-31"}
    )
    nationality = SelectField(_l("Nationality"), choices=[], validators=[Optional()])
    region = StringField(
        _l("Region of residence"),
        validators=[Optional(), Length(max=120)],
        render_kw={"list": "regions"},
    )
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    phone = StringField(
        _l("Phone"),
        validators=[
            Optional(),
            Length(max=40),
            phone_number,
        ],
        render_kw={"type": "tel", "autocomplete": "off"},
    )
    email = StringField(
        _l("E-mail"),
        validators=[Optional(), Length(max=254), Email(check_deliverability=False)],
        render_kw={"type": "email"},
    )
    migration_status = SelectField(_l("Migration status"), choices=[], validators=[Optional()])
    education_level = SelectField(_l("Education level"), choices=[], validators=[Optional()])
    languages = StringField(_l("Languages spoken"), validators=[Optional(), Length(max=200)])
    sensitive_notes = TextAreaField(
        _l("Sensitive notes (managers only)"), validators=[Optional(), Length(max=5000)]
    )
    # hidden: the version the user saw (edit), and their answer to the duplicate warning
    expected_version = HiddenField()
    not_a_duplicate = BooleanField(_l("I checked: this is a different person"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sex.choices = enum_choices(Sex)
        self.nationality.choices = country_choices(str(_l("— not recorded —")))
        self.migration_status.choices = enum_choices(MigrationStatus, str(_l("— not recorded —")))
        self.education_level.choices = enum_choices(EducationLevel, str(_l("— not recorded —")))

    def values(self) -> dict:
        """Return the submitted identity fields, empty strings as None, enums as members."""
        return {
            "given_name": self.given_name.data.strip(),
            "family_name": self.family_name.data.strip(),
            "other_name": (self.other_name.data or "").strip() or None,
            "sex": Sex(self.sex.data),
            "date_of_birth": self.date_of_birth.data,
            "nationality": self.nationality.data or None,
            "region": (self.region.data or "").strip() or None,
            "city": (self.city.data or "").strip() or None,
            "phone": (self.phone.data or "").strip() or None,
            "email": (self.email.data or "").strip() or None,
            "migration_status": MigrationStatus(self.migration_status.data)
            if self.migration_status.data
            else None,
            "education_level": EducationLevel(self.education_level.data)
            if self.education_level.data
            else None,
            "languages": (self.languages.data or "").strip() or None,
        }


class RegisterForm(ParticipantForm):
    project_id = SelectField(_l("Project"), coerce=int, choices=[], validators=[InputRequired()])
    registered_on = DateField(
        _l("Registration date"), default=date.today, validators=[DataRequired(), not_in_future]
    )
    consent_given = BooleanField(
        _l("The person consents to the recording of her or his data for case management"),
        validators=[DataRequired(message=_l("Consent is required to register a person."))],
    )
    consent_on = DateField(
        _l("Date of consent"), default=date.today, validators=[DataRequired(), not_in_future]
    )


class SearchForm(Form):
    class Meta:
        csrf = False  # a GET form: bookmarkable, changes nothing

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    project = SelectField(_l("Project"), choices=[], validators=[Optional()])
    sex = SelectField(_l("Sex"), choices=[], validators=[Optional()])
    nationality = SelectField(_l("Nationality"), choices=[], validators=[Optional()])
    status = SelectField(_l("Status"), choices=[], validators=[Optional()], default="active")
    sort = SelectField(_l("Sort by"), choices=[], validators=[Optional()], default="code")

    def __init__(self, *args, projects=(), **kwargs):
        super().__init__(*args, **kwargs)
        everyone = str(_l("All"))
        self.project.choices = [("", everyone)] + [(str(p.id), p.code) for p in projects]
        self.sex.choices = enum_choices(Sex, everyone)
        self.nationality.choices = country_choices(everyone)
        self.status.choices = [
            ("active", str(_l("Active"))),
            ("archived", str(_l("Archived"))),
            ("all", everyone),
        ]
        self.sort.choices = [
            ("code", str(_l("Code"))),
            ("name", str(_l("Name"))),
            ("registered", str(_l("Registration date, newest first"))),
        ]


class EraseForm(Form):
    confirm_code = StringField(
        _l("Type the participant's code to confirm"), validators=[DataRequired()]
    )


class ConsentForm(Form):
    """Record a consent from the case file: its purpose, partner, date and expiry."""

    purpose = SelectField(_l("Purpose"), choices=[], validators=[InputRequired()])
    partner_id = SelectField(
        _l("Partner (sharing only)"), choices=[], validators=[Optional()], coerce=str
    )
    given_on = DateField(
        _l("Date of consent"), default=date.today, validators=[DataRequired(), not_in_future]
    )
    expires_on = DateField(_l("Expires on"), validators=[Optional()])

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.purpose.choices = enum_choices(ConsentPurpose)
        self.partner_id.choices = [("", str(_l("— none —")))] + [
            (str(p.id), p.display_name) for p in partners
        ]


class WithdrawConsentForm(Form):
    """Record the withdrawal of one consent, on a date (today by default)."""

    withdrawn_on = DateField(
        _l("Withdrawn on"), default=date.today, validators=[DataRequired(), not_in_future]
    )


class SubjectAccessForm(Form):
    """Produce a person's own copy of her data: the language of its PDF, and the format."""

    lang = SelectField(_l("Her language"), choices=[], validators=[InputRequired()])
    format = RadioField(
        _l("Format"),
        choices=[
            SelectChoice("pdf", _l("PDF, to read and hand over")),
            SelectChoice("json", _l("JSON, to take to another service")),
        ],
        default="pdf",
        validators=[InputRequired()],
    )

    def __init__(self, *args, **kwargs) -> None:
        from tracker.builder.forms import REPORT_LANGUAGES

        super().__init__(*args, **kwargs)
        self.lang.choices = list(REPORT_LANGUAGES)
