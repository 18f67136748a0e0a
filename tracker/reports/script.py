"""The writing system of the PDF being drawn: Latin (Helvetica) or Arabic, right to left.

reportlab draws glyphs in the order it is given them and does not join Arabic letters.
For an Arabic report, every text drawn goes through :func:`shown`: arabic-reshaper
picks each letter's joined form (initial, medial, final, isolated, lam-alef) and
python-bidi (the Unicode bidirectional algorithm) puts the characters of a line in
the order they appear on the page, right to left, with Latin words, codes and
numbers left to right inside it. The font is Amiri (Debian's ``fonts-hosny-amiri``,
installed by ``.ci/run``), which has Arabic and Latin letters.

The file keeps a line's joined forms in visual order, as every PDF writer does;
a reader (pypdf, a PDF viewer) puts a right-to-left run back in reading order, and
Unicode NFKC folds the joined forms into the letters typed (tests/test_arabic_pdf.py).

Which script is in force is a context variable set by :func:`right_to_left` around
building one report, so that a French report built at the same time in another
thread is not affected.
"""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tracker.config import RTL_LANGUAGES

LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
ARABIC_FONT = "Amiri"
ARABIC_BOLD = "Amiri-Bold"
#: where Debian's fonts-hosny-amiri puts the font (older releases: truetype/)
FONT_FOLDERS = (
    Path("/usr/share/fonts/opentype/fonts-hosny-amiri"),
    Path("/usr/share/fonts/truetype/fonts-hosny-amiri"),
    Path("/usr/share/fonts/truetype/amiri"),
)

_rtl: contextvars.ContextVar[bool] = contextvars.ContextVar("report_rtl", default=False)
#: a left-to-right document that prints Arabic words too (a person's own data: her name
#: in Arabic script in a French document): Amiri for every text, Arabic runs joined
_mixed: contextvars.ContextVar[bool] = contextvars.ContextVar("report_mixed", default=False)

ARABIC_LETTER = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
# marks that steer the bidi algorithm in HTML; once a line is in visual order they
# have done their work, and Amiri has no glyph for them
BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


class FontMissing(RuntimeError):
    """The Arabic font is not installed."""


def is_rtl_language(language: str) -> bool:
    return language.split("_")[0] in RTL_LANGUAGES


def rtl() -> bool:
    """Is the report being drawn written right to left?"""
    return _rtl.get()


@functools.cache
def _register_arabic_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for folder in FONT_FOLDERS:
        regular, bold = folder / "Amiri-Regular.ttf", folder / "Amiri-Bold.ttf"
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont(ARABIC_FONT, str(regular)))
            pdfmetrics.registerFont(TTFont(ARABIC_BOLD, str(bold)))
            pdfmetrics.registerFontFamily(ARABIC_FONT, normal=ARABIC_FONT, bold=ARABIC_BOLD)
            return
    raise FontMissing(
        "the Arabic report needs the Amiri font: apt-get install fonts-hosny-amiri "
        f"(looked in {', '.join(str(f) for f in FONT_FOLDERS)})"
    )


@contextmanager
def right_to_left(language: str) -> Iterator[None]:
    """Draw in the script of ``language`` inside the block (Arabic: right to left)."""
    is_rtl = is_rtl_language(language)
    if is_rtl:
        _register_arabic_fonts()
    token = _rtl.set(is_rtl)
    try:
        yield
    finally:
        _rtl.reset(token)


@contextmanager
def any_script(language: str) -> Iterator[None]:
    """Like ``right_to_left``, for a document whose data may be in any script.

    Arabic: right to left. Otherwise left to right in Amiri, which prints Latin and
    Arabic letters alike (Helvetica prints only Windows-1252), a line holding an
    Arabic letter joined and ordered as ``shown`` says.
    """
    with right_to_left(language):
        if rtl():
            yield
            return
        _register_arabic_fonts()
        token = _mixed.set(True)
        try:
            yield
        finally:
            _mixed.reset(token)


def mixed() -> bool:
    """Is the document left to right, with Arabic words among its data?"""
    return _mixed.get()


def font() -> str:
    return ARABIC_FONT if rtl() or mixed() else LATIN_FONT


def bold() -> str:
    return ARABIC_BOLD if rtl() or mixed() else LATIN_BOLD


def bold_of(name: str) -> bool:
    return name in (LATIN_BOLD, ARABIC_BOLD)


def logical(text: str) -> str:
    """``text`` without bidi control marks (for the file's metadata and outline)."""
    return text.translate(BIDI_CONTROLS)


def shown(text: str) -> str:
    """Return one line of ``text`` as it is drawn: joined and in visual order when RTL.

    A line holding an Arabic letter is laid out right to left (its Latin words and
    numbers keep their order inside it); a line without one, such as a partner's
    French name, left to right.
    """
    if not text or not (rtl() or (mixed() and ARABIC_LETTER.search(text))):
        return text
    import arabic_reshaper

    # python-bidi's pure-Python algorithm: unlike its Rust binding it mirrors brackets
    # and quotes (rule L4), so that "(" opening an Arabic phrase is drawn as ")"
    from bidi.algorithm import get_display

    base = "R" if ARABIC_LETTER.search(text) else "L"
    return logical(get_display(arabic_reshaper.reshape(text), base_dir=base))


def wrap_lines(text: str, width: float, font_name: str, size: float) -> list[str]:
    """Break ``text`` into lines of at most ``width`` points, in reading order, then draw
    order. Breaking comes first: the first words read are on the first line."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if current and stringWidth(shown(candidate), font_name, size) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return [shown(line) for line in lines]
