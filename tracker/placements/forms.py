"""Forms for placements (a job or an IGA), their follow-ups and the placement list."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
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
from wtforms.widgets import TextInput

from tracker.forms import DATES_CHECKED, Form
from tracker.models import ContractType, Partner, PlacementKind
from tracker.placements.services import MAX_INCOME, MILESTONES

OTHER = "other"


def not_in_future(form, field) -> None:
    if field.data and field.data > date.today():
        raise ValidationError(_l("This date cannot be in the future."))


def optional_int(value) -> int | None:
    """Coerce a submitted id; an empty choice becomes None."""
    if value in (None, ""):
        return None
    return int(value)


def income(form, field) -> None:
    if field.data is None:
        return
    if field.data < 0:
        raise ValidationError(_l("The income cannot be negative."))
    if field.data > MAX_INCOME:
        raise ValidationError(_l("This amount is too large."))


class AmountField(DecimalField):
    """An amount in dirhams typed the French way too: ``2 150,50`` as well as ``2150.50``.

    A text input (with a decimal keypad on phones), not ``type=number``: a browser
    in a French locale would otherwise drop the comma and send 215050 for 2150,50.
    """

    widget = TextInput()

    def __init__(self, *args, **kwargs):
        render_kw = {"inputmode": "decimal", "autocomplete": "off"}
        render_kw.update(kwargs.pop("render_kw", None) or {})
        super().__init__(*args, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = re.sub(r"[\s\u00a0\u202f]", "", valuelist[0])
        if "," in text and "." in text:
            text = ""  # 1,234.56 or 1.234,56: ambiguous, refuse rather than guess
        try:
            self.data = Decimal(text.replace(",", "."))
        except InvalidOperation:
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value.")) from None
        if not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))


def partner_choices(
    first: Sequence[Partner], others: Sequence[Partner], *, first_group: str, blank: str
) -> list[SelectChoice]:
    """A blank choice, then ``first`` in their own group, then every other partner."""
    choices = [SelectChoice("", blank)]
    choices += [SelectChoice(str(p.id), p.display_name, optgroup=first_group) for p in first]
    other = str(_l("Other partners"))
    choices += [
        SelectChoice(str(p.id), f"{p.display_name} ({p.kind.label})", optgroup=other)
        for p in others
    ]
    return choices


def amount_field(label) -> AmountField:
    return AmountField(
        label,
        places=2,
        validators=[Optional(), income],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )


class PlacementForm(Form):
    kind = RadioField(
        _l("Kind of placement"),
        choices=[],
        validators=[InputRequired(message=_l("Choose a job or an income-generating activity."))],
    )
    employer_id = SelectField(
        _l("Employer"), coerce=optional_int, choices=[], validators=[Optional()]
    )
    business_name = StringField(
        _l("Name of the business or employer"), validators=[Optional(), Length(max=200)]
    )
    sector = StringField(
        _l("Sector"),
        validators=[DataRequired(message=_l("The sector is required.")), Length(max=120)],
        render_kw={"list": "sectors", "autocomplete": "off"},
    )
    start_date = DateField(_l("Start date"), validators=[DataRequired(), not_in_future])
    end_date = DateField(_l("End date"), validators=[Optional()])
    contract_type = SelectField(_l("Contract type"), choices=[], validators=[Optional()])
    monthly_income = amount_field(_l("Monthly income (MAD)"))
    referral_partner_id = SelectField(
        _l("Referred by"), coerce=optional_int, choices=[], validators=[Optional()]
    )
    verified = BooleanField(_l("Verified (contract, payslip or visit)"))
    dates_checked = BooleanField(DATES_CHECKED)
    expected_version = HiddenField()

    def __init__(self, *args, employers=((), ()), referrers=((), ()), **kwargs):
        """``employers`` and ``referrers``: (partners listed first, every other partner)."""
        super().__init__(*args, **kwargs)
        self.kind.choices = PlacementKind.choices()
        not_recorded = str(_l("— not recorded —"))
        self.employer_id.choices = partner_choices(
            *employers, first_group=_("Employers"), blank=_("— not in the list —")
        )
        self.referral_partner_id.choices = partner_choices(
            *referrers,
            first_group=_("Employment services and associations"),
            blank=not_recorded,
        )
        self.contract_type.choices = [("", not_recorded)] + ContractType.choices()

    def validate_end_date(self, field) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("The placement cannot end before it starts."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # shown with the other errors; not inline: Optional() stops an empty field's chain
        no_business = not (self.business_name.data or "").strip()
        if self.employer_id.data is None and no_business and not self.employer_id.errors:
            self.business_name.errors.append(_("Give the employer or the name of the business."))
            valid = False
        return valid

    def values(self) -> dict:
        """Return the submitted fields, stripped, enums as members (partners as ids)."""
        return {
            "kind": PlacementKind(self.kind.data),
            "business_name": (self.business_name.data or "").strip() or None,
            "sector": (self.sector.data or "").strip(),
            "start_date": self.start_date.data,
            "end_date": self.end_date.data,
            "contract_type": ContractType(self.contract_type.data)
            if self.contract_type.data
            else None,
            "monthly_income": self.monthly_income.data,
            "verified": bool(self.verified.data),
        }


class FollowUpForm(Form):
    # the list offers the follow-ups not yet recorded; a usual one recorded meanwhile by
    # someone else is still accepted here, so that the service says why it is refused
    months_after = SelectField(
        _l("Which follow-up"),
        choices=[],
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose which follow-up this is."))],
    )
    other_months = IntegerField(
        _l("Other: months after the start"),
        validators=[
            Optional(),
            NumberRange(min=1, max=60, message=_l("Give a number of months from 1 to 60.")),
        ],
        render_kw={"inputmode": "numeric", "min": 1, "max": 60},
    )
    followed_on = DateField(
        _l("Date of the follow-up"),
        default=date.today,
        validators=[DataRequired(), not_in_future],
    )
    still_active = RadioField(
        _l("Is the person still active in this job or IGA?"),
        choices=[],
        validators=[InputRequired(message=_l("Say whether the person is still active."))],
    )
    monthly_income = amount_field(_l("Monthly income (MAD)"))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    dates_checked = BooleanField(DATES_CHECKED)
    expected_version = HiddenField()

    def __init__(self, *args, milestones=MILESTONES, **kwargs):
        super().__init__(*args, **kwargs)
        self.months_after.choices = [
            (str(m), _("%(n)d-month follow-up", n=m)) for m in milestones
        ] + [(OTHER, _("Another follow-up (give the number of months)"))]
        self.still_active.choices = [("yes", _("Yes, still active")), ("no", _("No longer"))]

    def validate_months_after(self, field) -> None:
        if field.data != OTHER and field.data not in {str(m) for m in MILESTONES}:
            raise ValidationError(_l("Choose which follow-up this is."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # not an inline validator: Optional() stops the chain of an empty field before it
        if self.months_after.data == OTHER and self.other_months.data is None:
            if not self.other_months.errors:
                self.other_months.errors.append(_("Give the number of months after the start."))
            valid = False
        return valid

    def months(self) -> int:
        """Return the number of months after the start this follow-up is for."""
        if self.months_after.data == OTHER:
            return int(self.other_months.data)
        return int(self.months_after.data)

    def values(self) -> dict:
        return {
            "months_after": self.months(),
            "followed_on": self.followed_on.data,
            "still_active": self.still_active.data == "yes",
            "monthly_income": self.monthly_income.data,
            "note": (self.note.data or "").strip() or None,
        }


class PlacementFilterForm(Form):
    class Meta:
        csrf = False  # a GET form: bookmarkable, changes nothing

    project = SelectField(_l("Project"), choices=[], validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=[], validators=[Optional()])
    started_from = DateField(_l("Started from"), validators=[Optional()])
    started_to = DateField(_l("Started until"), validators=[Optional()])
    due = BooleanField(_l("Follow-up due"))

    def __init__(self, *args, projects=(), **kwargs):
        super().__init__(*args, **kwargs)
        everyone = str(_l("All"))
        self.project.choices = [("", everyone)] + [(str(p.id), p.code) for p in projects]
        self.kind.choices = [("", everyone)] + PlacementKind.choices()

    def validate_started_to(self, field) -> None:
        if field.data and self.started_from.data and field.data < self.started_from.data:
            raise ValidationError(_l("The end of the period is before its start."))
