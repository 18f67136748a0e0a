"""Forms to record activities, their attendance, and to filter the list."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from tracker.forms import Form, archived_choices, archived_field, optional_record_id
from tracker.models import ActivityKind, Partner
from tracker.partners.forms import enum_coerce

MAX_PEOPLE = 100_000


def not_in_future(form, field) -> None:
    if field.data and field.data > date.today():
        raise ValidationError(_l("This date cannot be in the future."))


def optional_int(value) -> int | None:
    """Coerce a submitted id; an empty choice becomes None (and fails InputRequired)."""
    if value in (None, ""):
        return None
    return int(value)


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


def _count_field(label) -> IntegerField:
    return IntegerField(
        label,
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_PEOPLE, message=_l("Give a number of 0 or more.")),
        ],
        render_kw={"inputmode": "numeric", "min": 0},
    )


class ActivityForm(Form):
    project_id = SelectField(
        _l("Project"), coerce=optional_int, choices=[], validators=[InputRequired()]
    )
    kind = SelectField(
        _l("Kind of activity"),
        coerce=enum_coerce(ActivityKind),
        choices=[],
        validators=[InputRequired(message=_l("Choose the kind of activity."))],
    )
    title = StringField(
        _l("Title"), validators=[DataRequired(), Length(max=300)], filters=[_stripped]
    )
    topic = StringField(
        _l("Topic"),
        validators=[Optional(), Length(max=200)],
        filters=[_stripped],
        render_kw={"list": "topics"},
    )
    held_on = DateField(_l("Date"), validators=[DataRequired(), not_in_future])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)], filters=[_stripped])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=5000)], filters=[_stripped]
    )
    other_women = _count_field(_l("Women"))
    other_men = _count_field(_l("Men"))
    expected_version = HiddenField()

    def __init__(self, *args, projects=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.project_id.choices = [(str(p.id), f"{p.code} – {p.title}") for p in projects]
        if len(self.project_id.choices) != 1:
            self.project_id.choices.insert(0, ("", str(_l("— choose —"))))
        self.kind.choices = [("", str(_l("— choose —")))] + ActivityKind.choices()

    def values(self) -> dict:
        """Return the submitted activity fields; empty counts are zero."""
        return {
            "kind": self.kind.data,
            "title": self.title.data,
            "topic": self.topic.data or None,
            "held_on": self.held_on.data,
            "city": self.city.data or None,
            "description": self.description.data or None,
            "other_women": self.other_women.data or 0,
            "other_men": self.other_men.data or 0,
        }


class AttendanceForm(Form):
    # any partner id is accepted here; the view looks it up and the service refuses a repeat
    partner = SelectField(
        _l("Partner institution"),
        coerce=optional_record_id,
        choices=[],
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose a partner."))],
    )
    staff_count = IntegerField(
        _l("Staff who attended"),
        default=1,
        validators=[
            InputRequired(message=_l("Give the number of staff, 0 if unknown.")),
            NumberRange(min=0, max=MAX_PEOPLE, message=_l("Give a number of 0 or more.")),
        ],
        render_kw={"inputmode": "numeric", "min": 0},
    )

    def __init__(self, *args, partners: list[Partner] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.partner.choices = [("", str(_l("— choose a partner —")))] + [
            (str(p.id), p.display_name) for p in partners
        ]


class ActivityFilterForm(Form):
    class Meta:
        csrf = False  # a GET form: bookmarkable, changes nothing

    project = SelectField(_l("Project"), choices=[], validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=[], validators=[Optional()])
    year = SelectField(_l("Year"), choices=[], validators=[Optional()])
    archived = archived_field()

    def __init__(self, *args, projects=(), years=(), **kwargs):
        super().__init__(*args, **kwargs)
        everyone = str(_l("All"))
        self.project.choices = [("", everyone)] + [(str(p.id), p.code) for p in projects]
        self.kind.choices = [("", everyone)] + ActivityKind.choices()
        self.year.choices = [("", everyone)] + [(str(y), str(y)) for y in years]
        self.archived.choices = archived_choices()
