"""Languages: French first, English, Arabic (right to left); the choice is kept in the session."""

from __future__ import annotations

import flask_babel
import pycountry
from flask import Flask, has_request_context, request, session
from flask_babel import get_locale

from tracker.config import LANGUAGES, RTL_LANGUAGES
from tracker.extensions import babel
from tracker.paths import PROJECT_ROOT
from tracker.text import is_arabic


def select_locale() -> str:
    """Pick the session's language, else the browser's, else French."""
    if not has_request_context():
        # commands and services outside a request: the default, unless force_locale
        return LANGUAGES[0]
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def text_direction(locale: str | None = None) -> str:
    """Return "rtl" for a language written right to left (Arabic), else "ltr"."""
    lang = locale or str(get_locale() or LANGUAGES[0])
    return "rtl" if lang.split("_")[0] in RTL_LANGUAGES else "ltr"


def country_name(alpha3: str | None, locale: str | None = None) -> str:
    """Return the name of an ISO 3166 alpha-3 country in the given (or current) language."""
    if not alpha3:
        return ""
    country = pycountry.countries.get(alpha_3=alpha3.upper())
    if country is None:
        return alpha3
    from babel import Locale

    lang = locale or str(get_locale() or LANGUAGES[0])
    alpha2 = country.alpha_2
    return Locale.parse(lang).territories.get(alpha2, country.name)


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with the tracker's catalogues and locale selector."""
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES", str(PROJECT_ROOT / "tracker" / "translations")
    )
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        country_name=country_name,
        text_direction=text_direction,
        is_arabic=is_arabic,
        get_locale=get_locale,
        format_date=flask_babel.format_date,
        format_datetime=flask_babel.format_datetime,
        format_decimal=flask_babel.format_decimal,
        format_percent=flask_babel.format_percent,
        format_timedelta=flask_babel.format_timedelta,
    )
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
