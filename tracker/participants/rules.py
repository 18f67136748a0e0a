"""The rules of a participant's values: pure checks, no database, one wording each.

The registration and edit services raise the first problem as a ``DomainError``;
the importer lists every problem of every row. Both read the same rules here, so a
value the form refuses, the import refuses too, for the same reason in the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pycountry
from flask_babel import gettext as _

from tracker.domain import DomainError

#: the earliest birth year the register accepts (as the birth_year column's check)
EARLIEST_BIRTH_YEAR = 1900


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field, in words a person can act on."""

    field: str
    message: str


def is_country_code(code: str | None) -> bool:
    """Say whether ``code`` is an ISO 3166 alpha-3 country code."""
    return bool(code) and pycountry.countries.get(alpha_3=code.upper()) is not None


def _names(values: Mapping[str, Any]) -> list[Problem]:
    problems = []
    if not (values.get("given_name") or "").strip():
        problems.append(Problem("given_name", _("The given name is required.")))
    if not (values.get("family_name") or "").strip():
        problems.append(Problem("family_name", _("The family name is required.")))
    return problems


def _birth(values: Mapping[str, Any], today: date) -> list[Problem]:
    birth = values.get("date_of_birth")
    if birth is not None:
        if birth > today:
            return [Problem("date_of_birth", _("The date of birth cannot be in the future."))]
        if birth.year < EARLIEST_BIRTH_YEAR:
            return [Problem("date_of_birth", _("The date of birth is before 1900."))]
        return []
    year = values.get("birth_year")
    if year is not None and not EARLIEST_BIRTH_YEAR <= year <= today.year:
        return [Problem("date_of_birth", _("The year of birth is not plausible."))]
    return []


def _nationality(values: Mapping[str, Any]) -> list[Problem]:
    code = values.get("nationality")
    if code and not is_country_code(code):
        return [Problem("nationality", _("Unknown country code: %(code)s.", code=code))]
    return []


def registration_problems(values: Mapping[str, Any], today: date) -> list[Problem]:
    """Return what stops registering a person with ``values``, in field order.

    ``values`` holds the registration fields; ``consent_on`` is the date of the
    consent to case management (nobody is registered without one).
    """
    problems = _names(values)
    consent_on = values.get("consent_on")
    if consent_on is None:
        problems.append(
            Problem("consent_on", _("Nobody is registered without consent to case management."))
        )
    elif consent_on > today:
        problems.append(Problem("consent_on", _("The consent date cannot be in the future.")))
    registered_on = values.get("registered_on")
    if registered_on is not None and registered_on > today:
        problems.append(
            Problem("registered_on", _("The registration date cannot be in the future."))
        )
    return problems + _birth(values, today) + _nationality(values)


def edit_problems(values: Mapping[str, Any], today: date) -> list[Problem]:
    """Return what stops a record from holding ``values`` (its fields after an edit)."""
    return _names(values) + _birth(values, today) + _nationality(values)


def require_not_merged(participant: Any) -> None:
    """Refuse (DomainError) any change to a record merged into another: work on the survivor."""
    if participant.merged_into_id is not None:
        raise DomainError(
            _(
                "%(code)s was merged into another record: work on that record instead.",
                code=participant.code,
            )
        )
