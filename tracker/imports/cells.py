"""Reading one cell of an imported spreadsheet as what people actually type.

Dates as ``2015-03-02``, ``02/03/2015`` (day first, as in France and Morocco) or
a real spreadsheet date; sex as ``F``/``M``, ``Femme``/``Homme``,
``female``/``male``; countries as ISO codes or their name in French or English,
with or without accents; yes/no as ``oui``/``non``/``1``/``0``/``true``/``false``;
choices by their code or their label in either language. Each reader returns the
value to store or raises ``CellError`` with the reason, in the user's language.
"""

from __future__ import annotations

import enum
import functools
import gettext
import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry
from babel import Locale
from flask_babel import force_locale
from flask_babel import gettext as _

from tracker.config import LANGUAGES
from tracker.models import Sex
from tracker.text import fold, has_control_characters, is_phone_number


class CellError(ValueError):
    """A cell that cannot be read: ``message`` says why, for the person who typed it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.+\-Z]*)?")
_DAY_FIRST = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_YEAR = re.compile(r"\d{4}")


def _str(value: Any) -> str:
    """Return ``str(value)``; a CellError for a number too long to write out.

    Python refuses to write an integer of more than 4,300 digits (ValueError).
    """
    try:
        return str(value)
    except ValueError:
        raise CellError(_("is not a number")) from None


def text(value: Any, *, max_length: int) -> str | None:
    """Return trimmed text (None when empty); refuse control characters and overlong text."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed in a text column (a phone, a code)
    if isinstance(value, datetime | date):
        value = value.isoformat()
    result = _str(value).replace("\r\n", "\n").strip()
    if not result:
        return None
    if has_control_characters(result):
        raise CellError(_("contains control characters"))
    if len(result) > max_length:
        raise CellError(_("is longer than %(n)d characters", n=max_length))
    return result


def parse_date(value: Any, *, year_only: bool = False) -> date | int | None:
    """Return a date from ISO, day-first or spreadsheet form; a year alone if allowed."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and year_only and 1000 <= value <= 9999:
        return int(value)
    raw = _str(value).strip()
    if not raw:
        return None
    if year_only and _YEAR.fullmatch(raw):
        return int(raw)
    match = _ISO_DATE.fullmatch(raw)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _DAY_FIRST.fullmatch(raw)
        if not match:
            if year_only:
                raise CellError(_("is not a date (YYYY-MM-DD, DD/MM/YYYY or a year)"))
            raise CellError(_("is not a date (YYYY-MM-DD or DD/MM/YYYY)"))
        day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(_("is not a real date")) from None


_SEX = {
    "f": Sex.FEMALE,
    "femme": Sex.FEMALE,
    "feminin": Sex.FEMALE,
    "female": Sex.FEMALE,
    "woman": Sex.FEMALE,
    "m": Sex.MALE,
    "h": Sex.MALE,
    "homme": Sex.MALE,
    "masculin": Sex.MALE,
    "male": Sex.MALE,
    "man": Sex.MALE,
}


def parse_sex(value: Any) -> Sex | None:
    raw = fold(_str(value)) if value is not None else ""
    if not raw:
        return None
    try:
        return _SEX[raw]
    except KeyError:
        raise CellError(_("is not a sex (F or M)")) from None


_YES = {"yes", "y", "oui", "o", "1", "true", "vrai", "x"}
_NO = {"no", "n", "non", "0", "false", "faux"}


def parse_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        # a number cell: 1 or 0 (float() of a huge integer would overflow)
        if value in (0, 1):
            return bool(value)
        raise CellError(_("is not yes or no"))
    raw = fold(_str(value))
    if not raw:
        return None
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise CellError(_("is not yes or no"))


def parse_int(value: Any, *, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("is not a whole number"))
        value = int(value)
    if isinstance(value, bool):
        raise CellError(_("is not a whole number"))
    raw = _str(value).strip().removesuffix("%").strip()
    if not raw:
        return None
    if not re.fullmatch(r"[+-]?\d{1,9}", raw):
        raise CellError(_("is not a whole number"))
    number = int(raw)
    if not low <= number <= high:
        raise CellError(_("must be between %(low)d and %(high)d", low=low, high=high))
    return number


def parse_decimal(value: Any) -> Decimal | None:
    """Return a number written ``1234.5``, ``1234,5`` or ``1 234,50``."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError(_("is not a number"))
    if isinstance(value, float) and not math.isfinite(value):
        raise CellError(_("is not a number"))
    if isinstance(value, int | float):
        # a spreadsheet's number follows the rule of typed ones: 12 digits, 2 decimals
        # (2150.5 is "2150.5"; 1e+300 or 0.30000000000000004 are no amount of money)
        value = _str(value)
    raw = re.sub(r"[\s\u00a0\u202f]", "", str(value))
    if not raw:
        return None
    if "," in raw and "." not in raw:
        raw = raw.replace(",", ".")
    if not re.fullmatch(r"[+-]?\d{1,12}(?:\.\d{1,2})?", raw):
        raise CellError(_("is not an amount (e.g. 2150 or 2150.50)"))
    try:
        return Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern allows only numbers
        raise CellError(_("is not a number")) from None


def parse_email(value: Any) -> str | None:
    # here, as WTForms' Email validator does: not every command needs email_validator
    from email_validator import EmailNotValidError, validate_email

    address = text(value, max_length=254)
    if address is None:
        return None
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        raise CellError(_("is not a valid e-mail address")) from None


def parse_phone(value: Any) -> str | None:
    phone = text(value, max_length=40)
    if phone is None:
        return None
    if not is_phone_number(phone):
        raise CellError(_("is not a phone number"))
    return phone


@functools.cache
def _country_index() -> dict[str, str]:
    """Folded names and codes of every country, in English and French, to alpha-3."""
    index: dict[str, str] = {}
    locales = [Locale.parse(lang) for lang in LANGUAGES]
    catalogues = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
        for lang in LANGUAGES
    ]
    for country in pycountry.countries:
        alpha3 = country.alpha_3
        names = {country.alpha_3, country.alpha_2, country.name}
        for attribute in ("official_name", "common_name"):
            names.add(getattr(country, attribute, "") or "")
        for locale in locales:
            names.add(locale.territories.get(country.alpha_2, ""))
        for catalogue in catalogues:
            for name in list(names):
                names.add(catalogue.gettext(name) if name else "")
        for name in names:
            key = fold(name)
            if key:
                index.setdefault(key, alpha3)
    # names people write that no list above gives
    for name, alpha3 in {
        "cote divoire": "CIV",
        "ivory coast": "CIV",
        "rdc": "COD",
        "republique democratique du congo": "COD",
        "drc": "COD",
        "rd congo": "COD",
        "congo kinshasa": "COD",
        "congo brazzaville": "COG",
        "guinee conakry": "GIN",
        "guinea conakry": "GIN",
        "guinee bissau": "GNB",
        "syrie": "SYR",
        "syria": "SYR",
        "centrafrique": "CAF",
    }.items():
        index.setdefault(name, alpha3)
    return index


def parse_country(value: Any) -> str | None:
    raw = text(value, max_length=120)
    if raw is None:
        return None
    alpha3 = _country_index().get(fold(raw))
    if alpha3 is None:
        raise CellError(_("is not a known country"))
    return alpha3


def _words(name: str) -> frozenset[str]:
    """The words of a name, folded; "Guinée-Bissau" is two words."""
    return frozenset(fold(name.replace("-", " ")).split())


@functools.cache
def _short_names() -> dict[str, list[frozenset[str]]]:
    """The words of each country's everyday names (not its official one), by alpha-3."""
    locales = [Locale.parse(lang) for lang in LANGUAGES]
    catalogues = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
        for lang in LANGUAGES
    ]
    names: dict[str, list[frozenset[str]]] = {}
    for country in pycountry.countries:
        everyday = {country.name, getattr(country, "common_name", "") or ""}
        everyday |= {locale.territories.get(country.alpha_2, "") for locale in locales}
        everyday |= {c.gettext(name) for c in catalogues for name in list(everyday) if name}
        names[country.alpha_3] = [_words(name) for name in everyday if name]
    return names


@functools.cache
def _official_keys() -> frozenset[str]:
    """The folded codes and official names of every country: never a loose match."""
    catalogues = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
        for lang in LANGUAGES
    ]
    keys = set()
    for country in pycountry.countries:
        keys |= {fold(country.alpha_2), fold(country.alpha_3)}
        official = getattr(country, "official_name", "") or ""
        if official:
            keys |= {fold(official)} | {fold(c.gettext(official)) for c in catalogues}
    return frozenset(keys)


@functools.lru_cache(maxsize=4096)
def _others_of(key: str, alpha3: str, raw: str) -> tuple[str, ...]:
    if key in _official_keys():
        return ()
    words = _words(raw)
    return tuple(
        sorted(
            other
            for other, names in _short_names().items()
            if other != alpha3 and any(words < name for name in names)
        )
    )


def other_countries(value: Any) -> tuple[str, ...]:
    """Return the other countries whose everyday names also hold every word of ``value``.

    "Congo" is read as the Republic of the Congo, but the Democratic Republic of the
    Congo is "Congo" too; "Guinée" is Guinea, and Guinea-Bissau holds the word. Such a
    loose match is read all the same and reported as a point to check. A code or an
    official name is never loose.
    """
    try:
        raw = text(value, max_length=120)
    except CellError:
        return ()
    if raw is None:
        return ()
    alpha3 = _country_index().get(fold(raw))
    if alpha3 is None:
        return ()
    return _others_of(fold(raw), alpha3, raw)


@functools.cache
def _choice_index(choices: type[enum.Enum]) -> dict[str, enum.Enum]:
    """Folded codes and labels (in every language) of the members of ``choices``."""
    index: dict[str, enum.Enum] = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            for member in choices:
                index.setdefault(fold(str(getattr(member, "label", member.value))), member)
    for member in choices:
        index[fold(str(member.value))] = member  # codes win over a label that looks alike
    return index


def parse_choice(value: Any, choices: type[enum.Enum]) -> enum.Enum | None:
    """Return the member of ``choices`` named by its code or its label (French or English)."""
    raw = text(value, max_length=200)
    if raw is None:
        return None
    member = _choice_index(choices).get(fold(raw))
    if member is not None:
        return member
    allowed = ", ".join(str(m.value) for m in choices)
    raise CellError(_("is not one of: %(allowed)s", allowed=allowed))
