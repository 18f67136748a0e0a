"""Every user-facing string is in the French catalogue, and the compiled catalogues are fresh."""

from __future__ import annotations

import os

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tracker import PROJECT_ROOT
from tracker.i18n import country_name

TRANSLATIONS = PROJECT_ROOT / "tracker" / "translations"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
METHODS = [("tracker/**.py", "python"), ("templates/**.html", "jinja2")]


def source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT),
        method_map=METHODS,
        keywords=KEYWORDS,
        # babel skips folders starting with "_" by default: templates/_macros holds strings
        directory_filter=lambda path: not os.path.basename(path).startswith((".", "__")),
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalogue(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def test_every_source_string_has_a_french_translation():
    fr = catalogue("fr")
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in fr if m.id and m.string}
    fuzzy = {m.id for m in fr if m.id and "fuzzy" in m.flags}
    missing = source_messages() - translated
    assert not missing, f"run pybabel extract/update and translate: {sorted(missing)}"
    assert not fuzzy


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_compiled_catalogue_matches_the_po_file(lang):
    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        compiled = {plain(m.id): plain(m.string) for m in read_mo(fh) if m.id}
    written = {
        plain(m.id): plain(m.string)
        for m in catalogue(lang)
        if m.id and (m.string if isinstance(m.string, str) else any(m.string))
    }
    stale = {k for k, v in written.items() if compiled.get(k) != v}
    assert not stale, f"run: pybabel compile -d tracker/translations ({sorted(stale)[:3]})"


def test_country_names_follow_the_language(app):
    assert country_name("CIV", "fr") == "Côte d’Ivoire"
    assert country_name("CIV", "en") == "Côte d’Ivoire"
    assert country_name("COD", "fr") == "Congo-Kinshasa"
    assert country_name("DEU", "fr") == "Allemagne"
    assert country_name("DEU", "en") == "Germany"
    assert country_name("XXX") == "XXX"
    assert country_name(None) == ""


def test_french_strings_format_like_their_english_source():
    """Jinja formats every translated string with %: a stray "%" would crash a page."""
    from collections import defaultdict

    def formats(text: str) -> bool:
        try:
            text % defaultdict(lambda: 1)
        except (ValueError, TypeError, KeyError):
            return False
        return True

    broken = []
    for message in catalogue("fr"):
        if not message.id or not message.string:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for source in ids[:1]:
            for text in strings:
                if text and formats(source) and not formats(text):
                    broken.append(text)
    assert not broken
