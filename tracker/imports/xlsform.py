"""An XLSForm for KoboToolbox and ODK Collect whose fields are the import columns.

A team uploads the form to KoboToolbox (or ODK Central), registers people offline
on phones with KoboCollect or ODK Collect, downloads the submissions as XLSX or CSV
and imports the file as it comes: the fields carry the names of the import columns
(inside a ``participant`` group, which the import strips), choices carry the codes
the import reads (sex ``F``/``M``, ISO alpha-3 countries, the migration statuses),
and Kobo's ``_uuid`` identifies each submission so a second import of the same
export creates nobody twice. Labels are in French (the default) and English.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import pycountry
from babel import Locale
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from tracker.config import LANGUAGES
from tracker.imports.header import MAX_LENGTH
from tracker.models import EducationLevel, MigrationStatus, Project, Sex

KINDS = ("participants",)
LANGUAGE_NAMES = {"fr": "Français (fr)", "en": "English (en)", "ar": "العربية (ar)"}
GROUP = "participant"

YES_NO = (("yes", _l("Yes")), ("no", _l("No")))
#: the longest name in the other script the import takes (the database's limit)
OTHER_NAME_MAX = MAX_LENGTH["other_name"]

#: (type, name, label, required, extra columns) of each question, in order
_QUESTIONS: tuple[tuple[str, str, Any, bool, dict[str, Any]], ...] = (
    ("text", "given_name", _l("Given name"), True, {}),
    ("text", "family_name", _l("Family name"), True, {}),
    (
        "text",
        "other_name",
        _l("Name in the other script"),
        False,
        {
            "hint": _l(
                "The full name as the person writes it in Arabic, or in Latin letters if the "
                "name above is in Arabic. Search and the duplicate check read both."
            ),
            "constraint": f"string-length(.) <= {OTHER_NAME_MAX}",
            "constraint_message": _l(
                "The name is too long (at most %(num)d characters).",
                num=OTHER_NAME_MAX,
            ),
        },
    ),
    ("select_one sex", "sex", _l("Sex"), True, {}),
    (
        "date",
        "date_of_birth",
        _l("Date of birth"),
        False,
        {
            "constraint": ". <= today() and . >= date('1900-01-01')",
            "constraint_message": _l("The date of birth must be in the past."),
        },
    ),
    (
        "select_one country",
        "nationality",
        _l("Nationality"),
        False,
        {"appearance": "autocomplete"},
    ),
    ("text", "region", _l("Region"), False, {}),
    ("text", "city", _l("City"), False, {}),
    (
        "text",
        "phone",
        _l("Phone"),
        False,
        {
            "constraint": r"regex(., '^\+?[0-9 ]{6,20}$')",
            "constraint_message": _l("Digits only, with + in front for the country code."),
            "appearance": "numbers",
        },
    ),
    (
        "text",
        "email",
        _l("E-mail"),
        False,
        {
            "constraint": r"regex(., '^[^@\s]+@[^@\s]+\.[^@\s]+$')",
            "constraint_message": _l("This is not an e-mail address."),
        },
    ),
    ("select_one migration_status", "migration_status", _l("Migration status"), False, {}),
    ("select_one education_level", "education_level", _l("Education level"), False, {}),
    (
        "text",
        "languages",
        _l("Languages spoken"),
        False,
        {"hint": _l("Two-letter codes separated by ; (e.g. fr;wo)")},
    ),
    (
        "select_one yes_no",
        "consent_given",
        _l("The person consents to case management"),
        True,
        {
            "constraint": ". = 'yes'",
            "constraint_message": _l("Nobody is registered without consent."),
        },
    ),
    (
        "date",
        "consent_date",
        _l("Date of consent"),
        True,
        {"default": "today()", "constraint": ". <= today()"},
    ),
    (
        "date",
        "registered_on",
        _l("Registration date"),
        True,
        {"default": "today()", "constraint": ". <= today()"},
    ),
)

_LOCALISED = ("label", "hint", "constraint_message")
_SURVEY_COLUMNS = ("type", "name", "label", "hint", "required", "constraint", "constraint_message")
_SURVEY_COLUMNS += ("appearance", "default", "calculation")


def _in_each_language(text: Any) -> list[str]:
    values = []
    for lang in LANGUAGES:
        with force_locale(lang):
            values.append(str(text))
    return values


def _header(columns: Iterable[str]) -> list[str]:
    header = []
    for column in columns:
        if column in _LOCALISED:
            header += [f"{column}::{LANGUAGE_NAMES[lang]}" for lang in LANGUAGES]
        else:
            header.append(column)
    return header


def _row(columns: Iterable[str], values: dict[str, Any]) -> list[Any]:
    row: list[Any] = []
    for column in columns:
        value = values.get(column)
        if column in _LOCALISED:
            row += _in_each_language(value) if value is not None else [None] * len(LANGUAGES)
        else:
            row.append(value)
    return row


def _choices() -> list[tuple[str, str, list[str]]]:
    """Return (list name, code, labels per language) of every choice."""
    rows: list[tuple[str, str, list[str]]] = []
    for code, label in YES_NO:
        rows.append(("yes_no", code, _in_each_language(label)))
    for name, enum_cls in (
        ("sex", Sex),
        ("migration_status", MigrationStatus),
        ("education_level", EducationLevel),
    ):
        for member in enum_cls:
            rows.append((name, member.value, _in_each_language(member.label)))
    locales = [Locale.parse(lang) for lang in LANGUAGES]
    countries = sorted(
        pycountry.countries, key=lambda c: locales[0].territories.get(c.alpha_2, c.name)
    )
    for country in countries:
        labels = [locale.territories.get(country.alpha_2, country.name) for locale in locales]
        rows.append(("country", country.alpha_3, labels))
    return rows


def build(kind: str, *, project: Project | None = None) -> bytes:
    """Return the XLSForm (an .xlsx file) that collects ``kind`` for ``project``."""
    if kind not in KINDS:
        raise ValueError(f"no form for {kind}")
    # here, not at the top: openpyxl takes 0.1 s to import, which every command paid
    from openpyxl import Workbook

    workbook = Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(_header(_SURVEY_COLUMNS))
    survey.append(
        _row(_SURVEY_COLUMNS, {"type": "begin_group", "name": GROUP, "label": _l("Participant")})
    )
    for type_, name, label, required, extra in _QUESTIONS:
        values = {"type": type_, "name": name, "label": label, **extra}
        if required:
            values["required"] = "yes"
        survey.append(_row(_SURVEY_COLUMNS, values))
    if project is not None:
        calculation = "'" + project.code.replace("'", "") + "'"
        survey.append(
            _row(
                _SURVEY_COLUMNS,
                {"type": "calculate", "name": "project_code", "calculation": calculation},
            )
        )
    else:
        survey.append(
            _row(
                _SURVEY_COLUMNS,
                {
                    "type": "text",
                    "name": "project_code",
                    "label": _l("Project code"),
                    "required": "yes",
                },
            )
        )
    survey.append(_row(_SURVEY_COLUMNS, {"type": "end_group"}))

    choices = workbook.create_sheet("choices")
    choices.append(["list_name", "name", *(f"label::{LANGUAGE_NAMES[lang]}" for lang in LANGUAGES)])
    for list_name, code, labels in _choices():
        choices.append([list_name, code, *labels])

    settings = workbook.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    title = "tracker participants" + (f" {project.code}" if project else "")
    form_id = "tracker_participants" + (f"_{project.code}" if project else "")
    settings.append([title, form_id.replace("-", "_"), "1", LANGUAGE_NAMES[LANGUAGES[0]]])

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
