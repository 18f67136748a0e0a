"""Fill a language's catalogue from a JSON dictionary; re-runnable after new strings are added.

    .venv/bin/python tools/fill_catalogue.py ar arabic-ar.json [--replace]

Extracts the strings of the source (as babel.cfg says), creates or updates
``tracker/translations/<lang>/LC_MESSAGES/messages.po`` from them (no fuzzy guessing,
obsolete entries dropped), fills every EMPTY or fuzzy msgstr from the dictionary
(``{msgid: msgstr}``; for a plural msgid, a list with one string per plural form of
the language), leaves translations already written alone, writes the Plural-Forms
header of the language (Arabic: 6 forms), compiles the .mo and prints the msgids
still missing. Exit status 1 when some are missing or a translation breaks a
placeholder, so that a script or CI notices. With ``--replace``, every msgstr the
dictionary holds is written, over what the catalogue had.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "tracker" / "translations"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
METHODS = [("tracker/**.py", "python"), ("templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%|\{[a-z_]*\}")


def template() -> Catalog:
    """The strings of the source, as pybabel extract reads them."""
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT),
        method_map=METHODS,
        keywords=KEYWORDS,
        directory_filter=lambda path: not Path(path).name.startswith((".", "__")),
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def fill(
    lang: str, dictionary: dict[str, str | list[str]], replace: bool = False
) -> tuple[list[str], list[str]]:
    """Update and fill the catalogue of ``lang``; return (missing msgids, broken msgids)."""
    po_path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    if po_path.exists():
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
    else:
        catalog = Catalog(locale=Locale.parse(lang), project="tracker")
    catalog.update(template(), no_fuzzy_matching=True)
    catalog.obsolete.clear()
    plural = get_plural(lang)
    missing, broken = [], []
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = (
            [message.string] if isinstance(message.string, str) else list(message.string or [""])
        )
        if "fuzzy" in message.flags or not all(strings) or (replace and key in dictionary):
            message.flags.discard("fuzzy")
            given = dictionary.get(key)
            if isinstance(message.id, str):
                message.string = given if isinstance(given, str) else ""
            elif isinstance(given, list) and len(given) == plural.num_plurals:
                message.string = tuple(given)
            else:
                message.string = ("",) * plural.num_plurals
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if not all(strings):
            missing.append(key)
            continue
        # the source's placeholders, exactly, in every form (the singular's for plurals)
        sources = [message.id] if isinstance(message.id, str) else list(message.id)
        expected = {tuple(placeholders(source)) for source in sources}
        if any(tuple(placeholders(text)) not in expected for text in strings):
            broken.append(key)
    catalog.fuzzy = False  # a fuzzy header would be left out of the .mo, plural rule and all
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, ignore_obsolete=True)
    po_path.parent.mkdir(parents=True, exist_ok=True)
    po_path.write_bytes(buffer.getvalue())
    with po_path.open("rb") as fh:
        compiled = read_po(fh, locale=lang)
    with (po_path.parent / "messages.mo").open("wb") as fh:
        write_mo(fh, compiled)
    return missing, broken


def main(argv: list[str]) -> int:
    replace = "--replace" in argv
    argv = [arg for arg in argv if arg != "--replace"]
    if len(argv) != 2:
        print(__doc__)
        return 2
    lang, dictionary_path = argv
    dictionary = json.loads(Path(dictionary_path).read_text(encoding="utf-8"))
    missing, broken = fill(lang, dictionary, replace)
    for key in missing:
        print(f"missing: {json.dumps(key, ensure_ascii=False)}")
    for key in broken:
        print(f"placeholders differ: {json.dumps(key, ensure_ascii=False)}")
    print(f"{lang}: {len(missing)} missing, {len(broken)} with other placeholders")
    return 1 if missing or broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
