"""Forms for courses, enrolments and their outcomes."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from tracker.forms import DATES_CHECKED, Form, archived_choices, archived_field, record_id
from tracker.models import CourseKind, Partner, Sex

EVERYONE = _l("All")


def not_in_future(form, field) -> None:
    if field.data and field.data > date.today():
        raise ValidationError(_l("This date cannot be in the future."))


def percentage(form, field) -> None:
    if field.data is not None and not 0 <= field.data <= 100:
        # not NumberRange: its message is %-formatted, and this one ends with "%"
        raise ValidationError(_l("Attendance must be between 0 and 100 %."))


def optional_int(value) -> int | None:
    """Coerce a submitted id; an empty choice becomes None (and fails InputRequired)."""
    if value in (None, ""):
        return None
    return int(value)


def provider_choices(providers: list[Partner], others: list[Partner]) -> list[SelectChoice]:
    """Training providers first, then every other partner, each group in its own optgroup."""
    choices = [SelectChoice("", str(_l("— choose a partner —")))]
    choices += [
        SelectChoice(str(p.id), p.display_name, optgroup=str(_l("Training providers")))
        for p in providers
    ]
    other = str(_l("Other partners"))
    choices += [
        SelectChoice(str(p.id), f"{p.display_name} ({p.kind.label})", optgroup=other)
        for p in others
    ]
    return choices


class CourseForm(Form):
    project_id = SelectField(
        _l("Project"), coerce=optional_int, choices=[], validators=[InputRequired()]
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    provider_id = SelectField(
        _l("Training provider"),
        coerce=optional_int,
        choices=[],
        validators=[InputRequired(message=_l("Choose the partner that gives the course."))],
    )
    sector = StringField(
        _l("Sector or trade"),
        validators=[DataRequired(), Length(max=120)],
        render_kw={"list": "sectors"},
    )
    kind = SelectField(_l("Kind of course"), choices=[], validators=[InputRequired()])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    end_date = DateField(_l("End date"), validators=[DataRequired()])
    hours = IntegerField(
        _l("Hours of training"),
        validators=[
            Optional(),
            NumberRange(min=1, max=10000, message=_l("Give a number of hours of at least 1.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    capacity = IntegerField(
        _l("Capacity (seats)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=10000, message=_l("The capacity must be at least 1.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    expected_version = HiddenField()

    def __init__(self, *args, projects=(), providers=(), others=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.project_id.choices = [(str(p.id), f"{p.code} – {p.title}") for p in projects]
        self.provider_id.choices = provider_choices(list(providers), list(others))
        self.kind.choices = CourseKind.choices()

    def validate_end_date(self, field) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("The course cannot end before it starts."))

    def values(self) -> dict:
        """Return the submitted course fields, stripped, the kind as a member."""
        return {
            "title": self.title.data.strip(),
            "sector": self.sector.data.strip(),
            "kind": CourseKind(self.kind.data),
            "city": (self.city.data or "").strip() or None,
            "start_date": self.start_date.data,
            "end_date": self.end_date.data,
            "hours": self.hours.data,
            "capacity": self.capacity.data,
        }


class CourseFilterForm(Form):
    class Meta:
        csrf = False  # a GET form: bookmarkable, changes nothing

    q = StringField(_l("Title or sector"), validators=[Optional(), Length(max=100)])
    project = SelectField(_l("Project"), choices=[], validators=[Optional()])
    provider = SelectField(_l("Provider"), choices=[], validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=[], validators=[Optional()])
    period = SelectField(_l("When"), choices=[], validators=[Optional()])
    archived = archived_field()

    def __init__(self, *args, projects=(), providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        everyone = str(EVERYONE)
        self.project.choices = [("", everyone)] + [(str(p.id), p.code) for p in projects]
        self.provider.choices = [("", everyone)] + [(str(p.id), p.display_name) for p in providers]
        self.kind.choices = [("", everyone)] + CourseKind.choices()
        self.period.choices = [
            ("", everyone),
            ("running", str(_l("Running"))),
            ("upcoming", str(_l("Upcoming"))),
            ("finished", str(_l("Finished"))),
        ]
        self.archived.choices = archived_choices()


class CandidateFilterForm(Form):
    """Narrow the people who can be enrolled in a course (a GET form on the course page)."""

    class Meta:
        csrf = False  # a GET form: bookmarkable, changes nothing

    q = StringField(_l("Find by name or code"), validators=[Optional(), Length(max=100)])
    sex = SelectField(_l("Sex"), choices=[], validators=[Optional()])
    nationality = SelectField(_l("Nationality"), choices=[], validators=[Optional()])
    since = DateField(_l("Registered since"), validators=[Optional()])

    def __init__(self, *args, nationalities=(), **kwargs):
        """``nationalities``: (ISO alpha-3 code, name) of the project's people."""
        super().__init__(*args, **kwargs)
        everyone = str(EVERYONE)
        self.sex.choices = [("", everyone)] + Sex.choices()
        self.nationality.choices = [("", everyone)] + list(nationalities)

    def filters(self) -> dict:
        """Return the valid filters as ``candidates_query`` takes them; a wrong one is ignored."""
        self.validate()

        def valid(field):
            return None if field.errors or not field.data else field.data

        sex = valid(self.sex)
        return {
            "q": (valid(self.q) or "").strip(),
            "sex": Sex(sex) if sex else None,
            "nationality": valid(self.nationality),
            "registered_since": valid(self.since),
        }


class EnrolForm(Form):
    """Enrol several people at once; the checkboxes are drawn by the template."""

    participant_ids = SelectMultipleField(
        _l("People to enrol"), coerce=record_id, choices=[], validate_choice=False
    )
    enrolled_on = DateField(
        _l("Enrolment date"), default=date.today, validators=[DataRequired(), not_in_future]
    )
    # the filters that drew the list, to draw it again when the form comes back
    q = HiddenField()
    sex = HiddenField()
    nationality = HiddenField()
    since = HiddenField()
    dates_checked = BooleanField(DATES_CHECKED)


class EnrolParticipantForm(Form):
    """Enrol one person, from her case file, in one course."""

    course_id = RadioField(
        _l("Course"),
        coerce=optional_int,
        choices=[],
        validators=[InputRequired(message=_l("Choose a course."))],
    )
    enrolled_on = DateField(
        _l("Enrolment date"), default=date.today, validators=[DataRequired(), not_in_future]
    )


class CompleteForm(Form):
    completed_on = DateField(_l("Completed on"), validators=[DataRequired(), not_in_future])
    attendance_pct = IntegerField(
        _l("Attendance (%)"),
        validators=[Optional(), percentage],
        render_kw={"inputmode": "numeric"},
    )
    certificate = BooleanField(_l("Certificate obtained"))


class DropOutForm(Form):
    dropped_on = DateField(_l("Dropped out on"), validators=[DataRequired(), not_in_future])
    attendance_pct = IntegerField(
        _l("Attendance (%)"),
        validators=[Optional(), percentage],
        render_kw={"inputmode": "numeric"},
    )


class CompleteAllForm(Form):
    completed_on = DateField(_l("Completed on"), validators=[DataRequired(), not_in_future])
    certificate = BooleanField(_l("Everyone obtained the certificate"))
