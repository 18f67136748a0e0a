"""The forms of the project pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from tracker.forms import Form, record_id
from tracker.participants.forms import country_choices
from tracker.projects import calendar


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


class ProjectForm(Form):
    title = StringField(
        _l("Title"), validators=[DataRequired(), Length(max=300)], filters=[_stripped]
    )
    donor = StringField(_l("Donor"), validators=[Optional(), Length(max=200)], filters=[_stripped])
    country = SelectField(_l("Country"), choices=[], validators=[InputRequired()])
    counterpart = StringField(
        _l("Government counterpart"),
        validators=[Optional(), Length(max=300)],
        filters=[_stripped],
    )
    start_date = DateField(_l("Start"), validators=[InputRequired()])
    end_date = DateField(_l("End"), validators=[InputRequired()])
    calendar = SelectField(
        _l("Reporting calendar"),
        choices=[],
        default="quarters",
    )
    report_due_days = IntegerField(
        _l("Reports due (days after each period)"),
        default=30,
        validators=[InputRequired(), NumberRange(min=0, max=365)],
    )
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=5000)], filters=[_stripped]
    )
    staff = SelectMultipleField(_l("Staff"), coerce=record_id, choices=[])
    expected_version = HiddenField()

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(blank=str(_l("— choose —")))
        self.calendar.choices = list(calendar.CALENDARS.items())
        self.staff.choices = [
            (
                u.id,
                f"{u.name} ({u.email}, {u.role.label})"
                if u.name
                else f"{u.email} ({u.role.label})",
            )
            for u in users
        ]


class NewProjectForm(ProjectForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32)],
        filters=[_stripped],
        description=_l("Capital letters, digits, - or _, e.g. IDF-MA-2014. It cannot change."),
    )
    like = SelectField(_l("Start from the set-up of"), coerce=str, choices=[], default="")

    def __init__(self, *args, projects=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.like.choices = [("", str(_l("— none —")))] + [
            (p.code, f"{p.code} – {p.title}") for p in projects
        ]


class ActionForm(Form):
    """A button that acts (close, reopen): its CSRF token only."""
