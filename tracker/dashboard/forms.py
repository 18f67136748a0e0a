"""The dashboard's filters: a GET form, so every view can be bookmarked and shared."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from tracker.forms import Form


class FilterForm(Form):
    class Meta:
        csrf = False

    project = SelectField(_l("Project"), choices=[], validators=[Optional()])
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    provider = SelectField(_l("Training provider"), choices=[], validators=[Optional()])
    region = SelectField(_l("Region"), choices=[], validators=[Optional()])
    grain = SelectField(
        _l("Trend by"),
        choices=[SelectChoice("quarter", _l("Quarter")), SelectChoice("month", _l("Month"))],
        default="quarter",
        validators=[Optional()],
    )

    def validate_end(self, field) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end of the period is before its start."))
