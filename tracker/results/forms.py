"""The forms of the results framework pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from tracker.forms import Form
from tracker.models import ResultLevel
from tracker.results import services


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


class ResultForm(Form):
    level = SelectField(_l("Level"), choices=[], validators=[InputRequired()])
    code = StringField(
        _l("Number"), validators=[DataRequired(), Length(max=16)], filters=[_stripped]
    )
    statement = StringField(
        _l("Result statement"), validators=[DataRequired(), Length(max=500)], filters=[_stripped]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.level.choices = ResultLevel.choices()


class ResultIndicatorForm(Form):
    """Put an indicator under a result: one the tracker computes, or a manual one."""

    result_id = SelectField(_l("Result"), choices=[], validators=[InputRequired()])
    indicator = SelectField(_l("Indicator"), choices=[], validators=[InputRequired()])
    title = StringField(
        _l("Wording of a manual indicator"),
        validators=[Optional(), Length(max=services.TITLE_MAX)],
        filters=[_stripped],
    )
    unit = StringField(
        _l("Unit"), validators=[Optional(), Length(max=services.UNIT_MAX)], filters=[_stripped]
    )
    cumulative = SelectField(_l("Since the start"), choices=[], validators=[Optional()])

    def __init__(self, *args, results=(), **kwargs):
        super().__init__(*args, **kwargs)
        from tracker import indicators

        self.result_id.choices = [(str(r.id), f"{r.code} – {r.statement}") for r in results]
        self.indicator.choices = [
            (key, str(indicators.get(key).label)) for key in services.computable()
        ] + [("manual", _l("A manual indicator (values entered per period)"))]
        self.cumulative.choices = [(k, str(v)) for k, v in services.CUMULATIVE_RULES.items()]


class ShareForm(Form):
    """A disaggregated target: at least N % of the figure in one category."""

    share = SelectField(_l("Category"), choices=[], validators=[Optional()])
    minimum = IntegerField(_l("At least (%)"), validators=[Optional(), NumberRange(min=0, max=100)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.share.choices = [("", _l("No disaggregated target"))] + services.share_choices()


class ValueForm(Form):
    """A manual indicator's value for one reporting period."""

    period = SelectField(_l("Reporting period"), choices=[], validators=[InputRequired()])
    value = IntegerField(_l("Value"), validators=[InputRequired(), NumberRange(min=0)])
    source = StringField(
        _l("Source"),
        validators=[DataRequired(), Length(max=services.SOURCE_MAX)],
        filters=[_stripped],
    )
    note = TextAreaField(
        _l("Note"), validators=[Optional(), Length(max=services.NOTE_MAX)], filters=[_stripped]
    )

    def __init__(self, *args, periods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.period.choices = [(p.key, p.key) for p in periods]
