"""The base of every form of the app: what each field checks beyond its own validators.

Every form derives from ``Form``, whose ``Meta.bind_field`` adds to each field, as it
is bound, the checks that no single form should have to remember
(``tests/test_fuzz.py`` throws arbitrary input at every form to hold them):

- typed text holds no control characters (NUL, escape, the C1 block, ...), the rule
  the importer applies to every cell (``tracker.text.has_control_characters``): a
  stored one breaks exports, PDFs and terminals, and the record no longer imports
  back. A textarea's line ends arrive as CRLF from browsers and are kept as LF;
- ``Optional()`` on a choice field lets an empty value through, not a blank one:
  WTForms strips the raw value before deciding it is empty, which skipped the
  choice check, so that " " reached ``MigrationStatus(" ")`` or ``int(" ")``;
- a whole number is one an integer column holds, and ``NumberRange`` refuses one too
  large for a float (WTForms' own calls ``math.isnan`` on it, which raises
  OverflowError: a 500 for "1" followed by 400 zeros).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import NumberRange, Optional, ValidationError

from tracker.text import has_control_characters, is_phone_number

#: the largest id an integer column holds everywhere (PostgreSQL's INTEGER)
MAX_ID = 2**31 - 1
#: the answer to a date far from what is expected (tracker.plausibility), ``dates_checked``
DATES_CHECKED = _l("I checked: the dates are right")


def record_id(value) -> int:
    """Coerce a submitted record id, for a choice field that does not check its choices.

    Only ASCII digits, up to ``MAX_ID``: ``int()`` also reads "٣" and "1_000", and an
    id beyond the column's range makes the database driver raise (OverflowError)
    instead of finding no record. Anything else raises ValueError, which WTForms
    shows as an invalid choice.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        raise ValueError(f"not a record id: {text[:20]!r}")
    return int(text)


def optional_record_id(value) -> int | None:
    """Coerce a submitted record id like ``record_id``; an empty choice becomes None."""
    return None if value in (None, "") else record_id(value)


def no_control_characters(form, field) -> None:
    """Refuse text holding a control character (tab and line feed are text)."""
    if isinstance(field.data, str) and has_control_characters(field.data):
        raise ValidationError(
            _l("This text contains control characters (invisible codes): remove them.")
        )


def phone_number(form, field) -> None:
    """Refuse what the importer would not read as a phone number: both keep one rule."""
    if field.data and not is_phone_number(field.data.strip()):
        raise ValidationError(
            _l("Give a phone number: at least 6 digits; spaces and + ( ) . - / are allowed.")
        )


def within_column_range(form, field) -> None:
    """Refuse a whole number no integer column holds: the database driver would raise."""
    if isinstance(field.data, int) and abs(field.data) > MAX_ID:
        raise ValidationError(_l("This number is too large."))


def unix_line_ends(value):
    """Keep a textarea's lines as LF: browsers send CRLF, the importer reads LF."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


class SafeNumberRange(NumberRange):
    """``NumberRange`` that compares an integer too large for a float as an infinity."""

    def __call__(self, form, field) -> None:
        data = field.data
        if isinstance(data, int) and not isinstance(data, bool) and abs(data) > 2**53:
            field = SimpleNamespace(
                data=math.inf if data > 0 else -math.inf,
                gettext=field.gettext,
                ngettext=field.ngettext,
            )
        super().__call__(form, field)


def _checked(validator):
    if type(validator) is NumberRange:
        return SafeNumberRange(validator.min, validator.max, validator.message)
    return validator


def _add_checks(field: Field) -> None:
    """Give a bound field the checks every form makes (see the module's docstring)."""
    # a new list: the validators given in the class are shared by every instance
    validators = [_checked(v) for v in field.validators]
    if isinstance(field, SelectField | RadioField | SelectMultipleField):
        validators = [
            Optional(strip_whitespace=False) if type(v) is Optional else v for v in validators
        ]
    is_text = isinstance(field, StringField) and not isinstance(field, HiddenField | PasswordField)
    if is_text:
        validators.append(no_control_characters)
    if isinstance(field, IntegerField):
        validators.append(within_column_range)
    if isinstance(field, TextAreaField):
        field.filters = (unix_line_ends, *field.filters)
    field.validators = validators


class Form(FlaskForm):
    """A Flask-WTF form whose fields also make the checks every form of the app makes."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field = unbound_field.bind(form=form, **options)
            _add_checks(field)
            return field


def archived_field() -> SelectField:
    """The filter of a list that hides archived records by default (courses, partners...)."""
    return SelectField(_l("Archived"), choices=[], validators=[Optional()])


def archived_choices() -> list[tuple[str, str]]:
    return [
        ("", str(_l("Not shown"))),
        ("include", str(_l("Shown too"))),
        ("only", str(_l("Only archived"))),
    ]
