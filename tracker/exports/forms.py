"""The options of an export: GET forms, so a download link can be bookmarked."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from tracker.forms import Form
from tracker.models import Project

#: what a query string may say for "no" (a checkbox left empty sends nothing)
FALSE_VALUES = (False, "false", "", "0", "no", "n", "off")


def _separators() -> list[SelectChoice]:
    return [
        SelectChoice("semicolon", _l("Semicolon (;), for Excel in French")),
        SelectChoice("comma", _l("Comma (,)")),
    ]


class ExportForm(Form):
    """Options of the exports of records."""

    class Meta:
        csrf = False

    project = SelectField(_l("Project"), choices=[], validators=[Optional()])
    sep = SelectField(_l("Separator in CSV files"), choices=_separators(), default="semicolon")
    pseudonymous = BooleanField(_l("Pseudonymous: codes only"), false_values=FALSE_VALUES)
    hxl = BooleanField(_l("Add a row of HXL hashtags under the header"), false_values=FALSE_VALUES)

    def __init__(self, *args, projects: Sequence[Project] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.project.choices = [("", _l("All my projects"))] + [
            (str(p.id), f"{p.code} – {p.title}") for p in projects
        ]


class IndicatorForm(Form):
    """Options of the indicator tables: projects, period, small numbers."""

    class Meta:
        csrf = False

    project = SelectField(
        _l("Project"), choices=[], validators=[Optional()], id="indicator-project"
    )
    start = DateField(_l("From"), validators=[Optional()], id="indicator-start")
    end = DateField(_l("To"), validators=[Optional()], id="indicator-end")
    sep = SelectField(
        _l("Separator in CSV files"),
        choices=_separators(),
        default="semicolon",
        id="indicator-sep",
    )
    pseudonymous = BooleanField(
        _l("Hide small numbers, for a file that leaves the organisation"),
        false_values=FALSE_VALUES,
        id="indicator-pseudonymous",
    )
    hxl = BooleanField(
        _l("Add a row of HXL hashtags under the header"),
        false_values=FALSE_VALUES,
        id="indicator-hxl",
    )

    def __init__(self, *args, projects: Sequence[Project] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.project.choices = [("", _l("All my projects"))] + [
            (str(p.id), f"{p.code} – {p.title}") for p in projects
        ]

    def validate_end(self, field) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end of the period is before its start."))
