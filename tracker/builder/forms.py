"""Forms of the report builder: the period, the narrative, and the generate button."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from tracker.forms import Form
from tracker.reports.services import MAX_SECTION_LENGTH, SECTION_LABELS

#: the languages a report can be written in, each named in its own language
REPORT_LANGUAGES = (
    SelectChoice("fr", "Français"),
    SelectChoice("en", "English"),
    SelectChoice("ar", "العربية"),
)


class _PeriodFields:
    # "from" and "to" in the query string, like the CLI's --from and --to
    start = DateField(_l("From"), name="from", validators=[Optional()])
    end = DateField(_l("To"), name="to", validators=[Optional()])
    lang = SelectField(
        _l("Language of the report"), choices=REPORT_LANGUAGES, validators=[Optional()]
    )

    def validate_end(self, field) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end of the period is before its start."))


class PeriodForm(_PeriodFields, Form):
    """The period and language of the preview: a GET form, so a preview can be bookmarked."""

    class Meta:
        csrf = False


class GenerateForm(_PeriodFields, Form):
    """Generate the PDF for the period shown (the fields travel as hidden inputs)."""


def _section(name: str) -> TextAreaField:
    return TextAreaField(
        SECTION_LABELS[name],
        validators=[Optional(), Length(max=MAX_SECTION_LENGTH)],
        render_kw={"rows": 8},
    )


class NarrativeForm(Form):
    """The four narrative sections, each with the version the user saw."""

    context = _section("context")
    achievements = _section("achievements")
    challenges = _section("challenges")
    lessons = _section("lessons")
    # "" for a section not written yet
    version_context = HiddenField()
    version_achievements = HiddenField()
    version_challenges = HiddenField()
    version_lessons = HiddenField()


class PickForm(PeriodForm):
    """Choose the project to report on, and its period (empty dates: the whole project)."""

    project = SelectField(_l("Project"), choices=[], validators=[Optional()])
