"""The audit log's filters: a GET form, so a filtered view can be bookmarked."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from tracker.forms import Form


class AuditFilterForm(Form):
    class Meta:
        csrf = False  # a GET form: bookmarkable, changes nothing

    actor = SelectField(_l("User"), choices=[], validators=[Optional()])
    action = SelectField(_l("Action"), choices=[], validators=[Optional()])
    entity = SelectField(_l("Record kind"), choices=[], validators=[Optional()])
    record = IntegerField(
        _l("Record number"),
        validators=[Optional()],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    text = StringField(
        _l("Who (contains)"),
        validators=[
            Optional(),
            Length(max=100, message=_l("Search at most %(max)d characters.", max=100)),
        ],
        render_kw={"placeholder": _l("e-mail or cli:…")},
    )
    reads = BooleanField(_l("Show page views too"))

    def validate_record(self, field) -> None:
        if field.data is not None and field.data < 1:
            raise ValidationError(_l("The record number is a whole number from 1."))

    def validate_end(self, field) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end of the period is before its start."))
