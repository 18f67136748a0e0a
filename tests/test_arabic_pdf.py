"""The donor report in Arabic (issue 15): right to left, in Amiri, readable back as Arabic."""

from __future__ import annotations

import re
import unicodedata

import pytest
from flask_babel import force_locale, gettext
from pypdf import PdfReader

from tracker.indicators import INDICATORS
from tracker.reports import script

# the joined forms are drawn without their short vowels and shadda (arabic-reshaper's
# default, as most printed Arabic): the text read back is the label without them
HARAKAT = re.compile(r"[\u064b-\u0652\u0670]")


def plain(text: str) -> str:
    return HARAKAT.sub("", unicodedata.normalize("NFKC", text))


def label(msgid: str) -> str:
    with force_locale("ar"):
        return plain(gettext(msgid))


def indicator_label(key: str) -> str:
    with force_locale("ar"):
        return plain(str(INDICATORS[key].label))


@pytest.fixture
def arabic_report(seeded, runner, tmp_path):
    out = tmp_path / "ar.pdf"
    result = runner.invoke(
        args=["report", "donor", "--project", "IDF-MA-2014", "--lang", "ar", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return PdfReader(out)


def page_lines(reader: PdfReader, number: int) -> list[str]:
    return [line.strip() for line in plain(reader.pages[number].extract_text()).splitlines()]


def test_the_arabic_report_reads_back_as_arabic_with_the_published_figures(arabic_report):
    text = "\n".join(plain(page.extract_text()) for page in arabic_report.pages)
    for msgid in ("Donor report", "Headline figures", "Breakdowns", "Method and definitions"):
        assert label(msgid) in text, msgid
    assert "الأرقام الرئيسية" in text  # the catalogue says so, letter by letter
    # the headline table, each label right of its value (the table is mirrored): in the
    # order the file draws them, the value comes just before its label
    lines = page_lines(arabic_report, 1)
    for key, value in (("trained", "135"), ("placed", "41"), ("registered", "154")):
        row = lines.index(indicator_label(key))
        assert lines[row - 1] == value, (key, lines[row - 3 : row + 1])
    # Western digits, and the page numbers in Arabic words
    assert "135" in text and "41" in text
    assert not re.search(r"[\u0660-\u0669]", text)
    assert plain(label("Page %(page)d of %(pages)d").split("%")[0].strip()) in text


def test_the_arabic_report_is_laid_out_right_to_left_in_an_arabic_font(arabic_report):
    # where the headline table draws its heading words: "Indicator" at the right edge;
    # every text in Amiri (but the SHA-256 of the annex, in Courier)
    placed: dict[str, float] = {}
    fonts: set[str] = set()

    def visit(text, cm, tm, font, size):
        words = plain(text).strip()
        if words:
            placed.setdefault(words, tm[4] + cm[4])
            fonts.add(str(font["/BaseFont"]) if font else "?")

    arabic_report.pages[1].extract_text(visitor_text=visit)
    assert fonts and all("Amiri" in name for name in fonts), fonts
    indicator, value = placed[label("Indicator")], placed[label("Value")]
    assert indicator > value > 0
    assert indicator > 400  # the right half of an A4 page, 595 points wide


def test_mixed_lines_keep_latin_runs_whole_and_mirror_brackets(app):
    with script.right_to_left("ar"):
        line = script.shown("مؤسسة ANAPEC (الرباط): 135")
    # drawn left to right: the number, then the Latin name in its own order
    assert "ANAPEC" in line and "135" in line
    assert line.index("135") < line.index("ANAPEC")
    # the bracket opening the Arabic phrase is drawn as ")" at its right
    assert unicodedata.normalize("NFKC", line).count("(") == 1
    with script.right_to_left("fr"):
        assert script.shown("Agence (ANAPEC)") == "Agence (ANAPEC)"


def test_a_report_in_french_is_unchanged_by_arabic_support(seeded, runner, tmp_path):
    out = tmp_path / "fr.pdf"
    result = runner.invoke(args=["report", "donor", "--project", "IDF-MA-2014", "--out", str(out)])
    assert result.exit_code == 0, result.output
    reader = PdfReader(out)
    fonts = {
        font["/BaseFont"]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].get_object().values()
    }
    assert not any("Amiri" in name for name in fonts)
