"""The donor report as a PDF: ``DonorReport`` in, bytes out.

Pure: no database, no request, no file system. Call it inside an app context and
``flask_babel.force_locale(report.language)``: the few strings of the layout go
through ``gettext`` and dates and numbers are formatted for that locale; the
report's own labels arrive already translated.

Layout (A4 portrait): cover; headline figures; funnel and trend charts;
breakdowns, small cells suppressed by ``disclosure``; narrative; partners and
activities; method page; pseudonymous annex. Every page after the cover carries
"Page X of Y", the project code and the data's as-of time.

reportlab is imported inside the functions that lay the report out, not at the
top: it takes about 0.1 s to import, which every command and worker paid since
the CLI and the report builder's pages import this module. What derives from
its classes (the styles, the canvas, the heading, the document) is made on first
use.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from flask_babel import format_date, format_decimal, format_percent, format_time
from flask_babel import gettext as _

from tracker.reports import charts, disclosure, script
from tracker.reports.model import AnnexFile, Disaggregation, DonorReport, HeadlineFigure

if TYPE_CHECKING:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import BaseDocTemplate, Flowable, Paragraph, Table

# --- page geometry and look -------------------------------------------------------------

#: points in a millimetre and the A4 page in points, computed as reportlab.lib.units.mm
#: and reportlab.lib.pagesizes.A4 are (tests/test_startup.py checks that they agree)
mm = 72.0 / 2.54 * 0.1
A4 = (210 * mm, 297 * mm)
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 20 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 22 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
FRAME_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

BLUE = charts.BLUE
INK = charts.INK
MUTED_INK = charts.MUTED_INK
RULE = "#B8C4DC"
HEADER_FILL = "#E3E9F4"
ZEBRA = "#F4F6FA"

# the fonts are script.font() and script.bold(): Helvetica, or Amiri for Arabic

#: rows per annex table: reportlab splits one long table slowly, so the annex is
#: built as consecutive tables of this many rows
ANNEX_CHUNK = 50

#: an annex delivered as a CSV file is printed in the PDF too up to this many rows (about
#: ten pages); a longer one only in the file: 89,000 codes made 1,700 pages and most of
#: the time and memory of a report
ANNEX_IN_PDF_MAX = 500

#: the funnel's stages, in order, when the headline has them
FUNNEL_KEYS = ("registered", "enrolled", "trained", "placed", "retained_6m")


def _styles() -> dict[str, ParagraphStyle]:
    """Return the paragraph styles by name, in the fonts of the report's script."""
    return _styles_in(script.font(), script.bold())


@functools.cache
def _styles_in(FONT: str, BOLD: str) -> dict[str, ParagraphStyle]:  # noqa: N803
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    ink, blue, muted_ink = charts.colour(INK), charts.colour(BLUE), charts.colour(MUTED_INK)
    return {
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, textColor=ink),
        "h1": ParagraphStyle(
            "h1",
            fontName=BOLD,
            fontSize=15,
            leading=19,
            textColor=blue,
            spaceBefore=16,
            spaceAfter=8,
            keepWithNext=True,
        ),
        "h2": ParagraphStyle(
            "h2",
            fontName=BOLD,
            fontSize=10.5,
            leading=13,
            textColor=blue,
            spaceBefore=10,
            spaceAfter=5,
            keepWithNext=True,
        ),
        "note": ParagraphStyle(
            "note", fontName=FONT, fontSize=7.8, leading=10, textColor=muted_ink
        ),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=10.5, textColor=ink),
        "cell_num": ParagraphStyle(
            "cell_num", fontName=FONT, fontSize=8.5, leading=10.5, textColor=ink, alignment=TA_RIGHT
        ),
        "cell_bold": ParagraphStyle("cell_bold", fontName=BOLD, fontSize=8.5, leading=10.5),
        "cell_bold_num": ParagraphStyle(
            "cell_bold_num", fontName=BOLD, fontSize=8.5, leading=10.5, alignment=TA_RIGHT
        ),
        "cell_note": ParagraphStyle(
            "cell_note", fontName=FONT, fontSize=7.5, leading=9.5, textColor=muted_ink
        ),
        "head": ParagraphStyle("head", fontName=BOLD, fontSize=8.2, leading=10, textColor=blue),
        "head_num": ParagraphStyle(
            "head_num", fontName=BOLD, fontSize=8.2, leading=10, textColor=blue, alignment=TA_RIGHT
        ),
        "cover_kicker": ParagraphStyle(
            "cover_kicker", fontName=BOLD, fontSize=10, leading=13, textColor=muted_ink
        ),
        "cover_title": ParagraphStyle(
            "cover_title", fontName=BOLD, fontSize=24, leading=30, textColor=blue, spaceAfter=6
        ),
        "cover_code": ParagraphStyle(
            "cover_code", fontName=FONT, fontSize=13, leading=17, textColor=muted_ink
        ),
        "cover_label": ParagraphStyle(
            "cover_label", fontName=FONT, fontSize=9.5, leading=13, textColor=muted_ink
        ),
        "cover_value": ParagraphStyle(
            "cover_value", fontName=BOLD, fontSize=10.5, leading=14, textColor=ink
        ),
        "definition": ParagraphStyle(
            "definition", fontName=FONT, fontSize=9, leading=12.5, textColor=ink, leftIndent=10
        ),
    }


CELL_PADDING = 5

# --- text: WinAnsi-safe, escaped, formatted -----------------------------------------------

# Babel's French formats use narrow no-break spaces (U+202F), absent from the
# WinAnsi encoding of the built-in Helvetica: they would print as nothing or a box.
_SUBSTITUTES = str.maketrans(
    {
        "\u202f": "\u00a0",
        "\u2007": "\u00a0",
        "\u2009": " ",
        "\u200b": "",
        # the isolates of the history sentences (auditlog.sentences): Helvetica has no glyph
        "\u2066": "",
        "\u2067": "",
        "\u2068": "",
        "\u2069": "",
        "\u2010": "-",
        "\u2011": "-",
        "\u2212": "-",
        "\u2264": "<=",
        "\u2265": ">=",
        "\u2192": "->",
        "\u2248": "~",
    }
)


def _winansi(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def pdf_text(text: object) -> str:
    """Return ``text`` with what Helvetica cannot print replaced (accents are kept).

    In an Arabic report (Amiri prints any letter), only the spaces and the bidi marks
    Babel puts in dates: the text stays in reading order (see ``script.shown``).
    """
    text = str(text).translate(_SUBSTITUTES)
    if script.rtl() or script.mixed():
        return script.logical(text)
    if all(_winansi(c) for c in text):
        return text
    out = []
    for char in text:
        if _winansi(char):
            out.append(char)
            continue
        # e.g. "ă" -> "a": drop the accent rather than the letter
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if _winansi(c))
        out.append(base or "?")
    return "".join(out)


def _markup(text: object) -> str:
    """Return ``text`` escaped for a Paragraph (``&``, ``<`` in names, "< 5" cells)."""
    return escape(pdf_text(text))


@functools.cache
def _paragraph_class() -> type[Paragraph]:
    from reportlab.platypus import Paragraph

    class _Paragraph(Paragraph):
        """A paragraph that lays its lines out once per width and height it is given.

        A table that runs over several pages is split at each page, and each split
        lays out every row left again: the activities of a large programme (400 rows,
        30 pages) wrapped the same cells thousands of times. The same size always gives
        the same lines, so a second call with it keeps them.
        """

        _wrapped: tuple[float, float] | None = None
        _size: tuple[float, float] = (0, 0)

        def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
            if self._wrapped != (availWidth, availHeight):
                self._size = super().wrap(availWidth, availHeight)
                self._wrapped = (availWidth, availHeight)
            return self._size

    return _Paragraph


def _p(text: object, style: str = "body") -> Paragraph:
    if script.rtl() or (script.mixed() and script.ARABIC_LETTER.search(str(text))):
        return _rtl_paragraph_class()(pdf_text(text), _styles()[style])
    return _paragraph_class()(_markup(text), _styles()[style])


@functools.cache
def _rtl_paragraph_class() -> type[Flowable]:
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.platypus import Flowable

    class _RtlParagraph(Flowable):
        """A paragraph of an Arabic report: lines broken in reading order, each drawn
        joined and right to left from the right edge (reportlab's Paragraph would break
        the lines of text already put in drawing order, the last words first).

        A number column's style (aligned right in a left-to-right report) draws at the
        left edge: the table is mirrored.
        """

        def __init__(self, text: str, style: ParagraphStyle):
            super().__init__()
            self.text, self.style = text, style
            self.spaceBefore, self.spaceAfter = style.spaceBefore, style.spaceAfter
            self.keepWithNext = getattr(style, "keepWithNext", False)
            self.lines: list[str] = []

        def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
            style = self.style
            room = availWidth - style.leftIndent - style.rightIndent
            self.width = availWidth
            fixed = getattr(self, "_lines_fixed", None)
            self.lines = fixed or script.wrap_lines(self.text, room, style.fontName, style.fontSize)
            self.height = len(self.lines) * style.leading
            return availWidth, self.height

        def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
            self.wrap(availWidth, availHeight)
            fit = int(availHeight // self.style.leading)
            if fit <= 0 or fit >= len(self.lines):
                return []
            first, rest = type(self)("", self.style), type(self)("", self.style)
            # the lines are kept as broken: re-breaking a drawn line would reorder it
            first._lines_fixed, rest._lines_fixed = self.lines[:fit], self.lines[fit:]
            rest.spaceBefore = 0
            return [first, rest]

        def draw(self) -> None:
            style, canv = self.style, self.canv
            lines = getattr(self, "_lines_fixed", None) or self.lines
            canv.setFont(style.fontName, style.fontSize)
            canv.setFillColor(style.textColor)
            y = self.height - style.fontSize
            for line in lines:
                if style.alignment == TA_RIGHT:  # numbers: the end of a mirrored row
                    canv.drawString(style.rightIndent, y, line)
                elif style.alignment == TA_CENTER:
                    canv.drawCentredString(self.width / 2, y, line)
                else:
                    canv.drawRightString(self.width - style.leftIndent, y, line)
                y -= style.leading

    return _RtlParagraph


def _number(value: int | float) -> str:
    return pdf_text(format_decimal(value))


def _percent(value: float) -> str:
    return pdf_text(format_percent(value))


def _date(day: date, format: str = "long") -> str:
    return pdf_text(format_date(day, format))


def _utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC (a naive datetime is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _moment(moment: datetime) -> str:
    """Return e.g. "12 March 2026, 14:05 UTC", in the report's language, always in UTC."""
    moment = _utc(moment)
    clock = format_time(moment.time().replace(tzinfo=None), "short", rebase=False)
    return pdf_text(f"{format_date(moment.date(), 'long')}, {clock} UTC")


# --- tables -------------------------------------------------------------------------------


def _table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    header_rows: int = 1,
    repeat_header: bool = True,
    total_row: bool = False,
    zebra_offset: int = 0,
    compact: bool = False,
    closed: bool = True,
    extra: Sequence[tuple] = (),
) -> Table:
    """Return a table in the house style: pale header, zebra rows, optional bold total row."""

    colour = charts.colour
    commands: list[tuple] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTNAME", (0, 0), (-1, -1), script.font()),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), colour(INK)),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 2 if compact else 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5 if compact else 3.5),
    ]
    if closed:
        commands.append(("LINEBELOW", (0, -1), (-1, -1), 0.6, colour(RULE)))
    if header_rows:
        commands += [
            ("BACKGROUND", (0, 0), (-1, header_rows - 1), colour(HEADER_FILL)),
            ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.9, colour(BLUE)),
            ("VALIGN", (0, 0), (-1, header_rows - 1), "BOTTOM"),
        ]
    last_zebra = len(rows) - (1 if total_row else 0)
    # one BACKGROUND per row rather than ROWBACKGROUNDS: stays right when a table splits
    for i in range(header_rows, last_zebra):
        if (i - header_rows + zebra_offset) % 2 == 1:
            commands.append(("BACKGROUND", (0, i), (-1, i), colour(ZEBRA)))
    if total_row:
        commands += [("LINEABOVE", (0, -1), (-1, -1), 0.9, colour(BLUE))]
    return _make_table(
        rows, widths, commands + list(extra), repeatRows=header_rows if repeat_header else 0
    )


_MIRRORED_COMMANDS = {
    "LEFTPADDING": "RIGHTPADDING",
    "RIGHTPADDING": "LEFTPADDING",
    "LINEBEFORE": "LINEAFTER",
    "LINEAFTER": "LINEBEFORE",
}


def _make_table(
    rows: Sequence[Sequence[Any]], widths: Sequence[float], commands: Sequence[tuple], **kwargs
) -> Table:
    """Return a reportlab Table; in an Arabic report, mirrored: the first column on the
    right, cell text drawn right to left, paddings and side rules swapped."""
    from reportlab.platypus import Table, TableStyle

    if not script.rtl():
        table = Table(rows, colWidths=list(widths), hAlign="LEFT", **kwargs)
        table.setStyle(TableStyle(list(commands)))
        return table
    count = len(widths)

    def column(index: int) -> int:
        return count - 1 - index if index >= 0 else -1 - index

    def cell(value: Any) -> Any:
        return script.shown(value) if isinstance(value, str) else value

    mirrored = []
    for name, start, end, *rest in commands:
        left, right = sorted((column(start[0]) % count, column(end[0]) % count))
        if name == "ALIGN" and rest:
            rest = [{"LEFT": "RIGHT", "RIGHT": "LEFT"}.get(rest[0], rest[0]), *rest[1:]]
        name = _MIRRORED_COMMANDS.get(name, name)
        mirrored.append((name, (left, start[1]), (right, end[1]), *rest))
    # plain strings (cells too fast to be paragraphs) are drawn from the right edge
    mirrored.append(("ALIGN", (0, 0), (-1, -1), "RIGHT"))
    table = Table(
        [[cell(value) for value in reversed(row)] for row in rows],
        colWidths=list(reversed(widths)),
        hAlign="RIGHT",
        **kwargs,
    )
    table.setStyle(TableStyle(mirrored))
    return table


def _head(text: str, numeric: bool = False) -> Paragraph:
    return _p(text, "head_num" if numeric else "head")


def _fits(text: str, width: float, size: float = 8.5) -> bool:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(script.shown(text), script.font(), size) <= width - 2 * CELL_PADDING


# --- the document: page templates, numbered pages, outline --------------------------------


@functools.cache
def _numbered_canvas_class() -> type[Canvas]:
    from reportlab.pdfgen.canvas import Canvas

    class _NumberedCanvas(Canvas):
        """A canvas that holds its pages back until the end to print "Page X of Y" on them.

        Pages whose template asks for a footer (``footer_wanted``) are numbered among
        themselves: the cover is not counted.
        """

        def __init__(
            self,
            *args: Any,
            footer: Callable[[Canvas, int, int], None],
            created: datetime | None = None,
            **kwargs: Any,
        ):
            super().__init__(*args, **kwargs)
            self._footer = footer
            self._held: list[tuple[dict, bool]] = []
            self.footer_wanted = False
            stamp = getattr(self._doc, "_timeStamp", None)
            if created is not None and stamp is not None and hasattr(stamp, "YMDhms"):
                # the document's CreationDate: the generation time, not reportlab's fixed
                # invariant-mode date (invariant mode makes the same input give the same bytes)
                created = _utc(created)
                stamp.t = created.timestamp()
                stamp.lt = created.utctimetuple()
                stamp.YMDhms = tuple(stamp.lt)[:6]
                stamp.dhh = stamp.dmm = 0
                stamp.tzname = "UTC"

        def showPage(self) -> None:
            self._held.append((dict(self.__dict__), self.footer_wanted))
            self._startPage()
            self.footer_wanted = False

        def save(self) -> None:
            total = sum(1 for _state, wanted in self._held if wanted)
            number = 0
            for state, wanted in self._held:
                self.__dict__.update(state)
                if wanted:
                    number += 1
                    self._footer(self, number, total)
                super().showPage()
            super().save()

    return _NumberedCanvas


@functools.cache
def _heading_class() -> type[Paragraph]:
    from reportlab.platypus import Paragraph

    class _Heading(Paragraph):
        """A section heading that becomes a PDF bookmark (the outline a reader navigates by)."""

        def __init__(self, text: str, style: str = "h1", level: int = 0):
            super().__init__(_markup(text), _styles()[style])
            self.outline_text = pdf_text(text)
            self.outline_level = level

    return _Heading


def _heading(text: str, style: str = "h1", level: int = 0) -> Flowable:
    """Return a section heading that becomes a PDF bookmark."""
    if script.rtl() or (script.mixed() and script.ARABIC_LETTER.search(text)):
        heading = _p(text, style)
        # the outline is Unicode in reading order: the PDF reader lays it out
        heading.outline_text = pdf_text(text)
        heading.outline_level = level
        return heading
    return _heading_class()(text, style, level)


@functools.cache
def _doc_template_class() -> type[BaseDocTemplate]:
    from reportlab.platypus import BaseDocTemplate

    class _DonorDocTemplate(BaseDocTemplate):
        def afterFlowable(self, flowable: Flowable) -> None:
            if getattr(flowable, "outline_text", None) is not None:
                # numbered, not id(): the same report must give the same bytes
                self._headings = getattr(self, "_headings", 0) + 1
                key = f"section-{self._headings}"
                self.canv.bookmarkPage(key)
                self.canv.addOutlineEntry(flowable.outline_text, key, level=flowable.outline_level)

    return _DonorDocTemplate


# --- the page: margins, running texts, footer --------------------------------------------


def _start_x(canv: Canvas, y: float, text: str) -> None:
    """Draw a line at the side reading starts from: left, or right in Arabic."""
    if script.rtl():
        canv.drawRightString(PAGE_WIDTH - MARGIN_X, y, text)
    else:
        canv.drawString(MARGIN_X, y, text)


def _end_x(canv: Canvas, y: float, text: str) -> None:
    """Draw a line at the side reading ends at: right, or left in Arabic."""
    if script.rtl():
        canv.drawString(MARGIN_X, y, text)
    else:
        canv.drawRightString(PAGE_WIDTH - MARGIN_X, y, text)


def page_footer(left: str) -> Callable[[Canvas, int, int], None]:
    """Return what draws a page's footer: a rule, ``left`` where reading starts, and
    "Page X of Y" where it ends (the numbered canvas's ``footer``)."""

    def draw_footer(canv: Canvas, page: int, pages: int) -> None:
        canv.saveState()
        y = MARGIN_BOTTOM - 10 * mm
        canv.setStrokeColor(charts.colour(RULE))
        canv.setLineWidth(0.5)
        canv.line(MARGIN_X, y + 10, PAGE_WIDTH - MARGIN_X, y + 10)
        canv.setFont(script.font(), 7.5)
        canv.setFillColor(charts.colour(MUTED_INK))
        _start_x(canv, y, script.shown(left))
        _end_x(
            canv, y, script.shown(pdf_text(_("Page %(page)d of %(pages)d", page=page, pages=pages)))
        )
        canv.restoreState()

    return draw_footer


def body_frame(name: str, top_offset: float = 0) -> Any:
    """Return the frame of a page's text, within the margins (``top_offset`` lower)."""
    from reportlab.platypus import Frame

    return Frame(
        MARGIN_X,
        MARGIN_BOTTOM,
        FRAME_WIDTH,
        FRAME_HEIGHT - top_offset,
        id=name,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )


# --- sections -----------------------------------------------------------------------------


def _cover(report: DonorReport, generated_at: datetime) -> list[Flowable]:
    from reportlab.platypus import Spacer

    period = f"{_date(report.period_start)} – {_date(report.period_end)}"
    facts = [
        (_("Donor"), report.donor),
        (_("Counterpart"), report.counterpart),
        (_("Country"), report.country),
        (_("Reporting period"), period),
        (_("Project code"), report.project_code),
    ]
    rows = [[_p(label, "cover_label"), _p(value, "cover_value")] for label, value in facts if value]
    table = _make_table(
        rows,
        [45 * mm, FRAME_WIDTH - 45 * mm],
        [
            ("VALIGN", (0, 0), (-1, -1), "BASELINE"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ("LINEBELOW", (0, 0), (-1, -1), 0.5, charts.colour(RULE)),
        ],
    )
    generated = _(
        "Generated on %(generated)s — data as of %(as_of)s",
        generated=_date(_utc(generated_at).date()),
        as_of=_moment(report.as_of),
    )
    return [
        Spacer(1, 38 * mm),
        _p(_("Donor report"), "cover_kicker"),
        Spacer(1, 3 * mm),
        _heading(report.project_title, "cover_title"),
        _p(report.project_code, "cover_code"),
        Spacer(1, 16 * mm),
        table,
        Spacer(1, 10 * mm),
        _p(generated, "body"),
    ]


def _headline_value(figure: HeadlineFigure, value: int | float | None) -> str:
    if value is None:
        return "–"
    if figure.unit == "ratio":
        return _percent(value)
    return _number(value)


def _headline(report: DonorReport) -> list[Flowable]:
    rows: list[list[Any]] = [
        [
            _head(_("Indicator")),
            _head(_("Value"), numeric=True),
            _head(_("Target"), numeric=True),
            _head(_("Share of target"), numeric=True),
        ]
    ]
    for figure in report.headline:
        label: list[Flowable] = [_p(figure.label, "cell")]
        if figure.note:
            label.append(_p(figure.note, "cell_note"))
        reached = figure.value / figure.target if figure.target else None
        rows.append(
            [
                label,
                _p(_headline_value(figure, figure.value), "cell_bold_num"),
                _p(_headline_value(figure, figure.target), "cell_num"),
                _p(_percent(reached) if reached is not None else "–", "cell_num"),
            ]
        )
    num_w = 26 * mm
    widths = [FRAME_WIDTH - 3 * num_w, num_w, num_w, num_w]
    return [_heading(_("Headline figures")), _table(rows, widths)]


def _standing(actual: int | None, target: int | None, status: str | None) -> list[Flowable]:
    text = _("not entered") if actual is None else _number(actual)
    if target is not None:
        text = f"{text} / {_number(target)}"
    cell: list[Flowable] = [_p(text, "cell")]
    if status:
        cell.append(_p(status, "cell_note"))
    return cell


def _results(report: DonorReport) -> list[Flowable]:
    """The results framework: each result's indicators for the period and since the start."""
    if not report.results:
        return []
    since = report.results_since_start
    note = (
        _(
            "Each indicator of the period against the target of the period, and since "
            "the start of the project against the targets of the periods up to the end "
            "of this one. A figure without a target of its own for the period is not "
            "judged."
        )
        if since
        else _(
            "Each indicator of the period against the target of the period. A figure "
            "without a target of its own for the period is not judged."
        )
    )
    flowables: list[Flowable] = [_heading(_("Results framework")), _p(note, "note")]
    num_w, wide_w = 18 * mm, 32 * mm
    widths = [FRAME_WIDTH - num_w - (2 if since else 1) * wide_w, num_w, wide_w]
    head = [
        _head(_("Indicator")),
        _head(_("Baseline"), numeric=True),
        _head(_("Period: actual / target")),
    ]
    if since:
        widths.append(wide_w)
        head.append(_head(_("Since the start: actual / target")))
    for section in report.results:
        rows: list[list[Any]] = [head]
        for line in section.lines:
            label: list[Flowable] = [_p(line.label, "cell")]
            for extra in (line.share, line.source):
                if extra:
                    label.append(_p(extra, "cell_note"))
            row = [
                label,
                _p(_number(line.baseline) if line.baseline is not None else "–", "cell_num"),
                _standing(line.actual, line.target, line.status),
            ]
            if since:
                row.append(
                    _standing(
                        line.cumulative_actual, line.cumulative_target, line.cumulative_status
                    )
                )
            rows.append(row)
        flowables += [_heading(section.heading, "h2", level=1)]
        if section.lines:
            flowables.append(_table(rows, widths))
        else:
            flowables.append(_p(_("No indicator under this result yet."), "note"))
    return flowables


def _progress_charts(report: DonorReport) -> list[Flowable]:
    from reportlab.platypus import Spacer

    flowables: list[Flowable] = []
    by_key = {f.key: f for f in report.headline}
    stages = [
        (pdf_text(by_key[k].label), int(by_key[k].value))
        for k in FUNNEL_KEYS
        if k in by_key and by_key[k].unit != "ratio"
    ]
    if len(stages) >= 2:
        first = stages[0][1]
        labels = [
            _number(value) + (f" ({_percent(value / first)})" if i and first else "")
            for i, (_label, value) in enumerate(stages)
        ]
        flowables += [
            Spacer(1, 8),
            charts.funnel_chart(
                stages,
                title=pdf_text(_("From registration to placement")),
                width=FRAME_WIDTH,
                value_labels=labels,
                number_format=_number,
            ),
        ]
        if first:
            flowables.append(_p(_("Percentages: share of the first stage of the funnel."), "note"))
    if report.trend:
        flowables += [
            Spacer(1, 14),
            charts.trend_chart(
                [(pdf_text(label), a, b) for label, a, b in report.trend],
                series_labels=(pdf_text(_("Trained")), pdf_text(_("Placed"))),
                title=pdf_text(_("Trained and placed per quarter")),
                width=FRAME_WIDTH,
                height=200,
                number_format=_number,
            ),
        ]
    if flowables:
        flowables.insert(0, _heading(_("Progress"), "h2", level=1))
    return flowables


def _breakdown(item: Disaggregation, threshold: int) -> list[Flowable]:
    from reportlab.platypus import Spacer

    values = [row.value for row in item.rows]
    status = disclosure.classify(values, threshold, overlapping=item.overlapping)
    shares = disclosure.shares(values, item.total, status)
    rows: list[list[Any]] = [
        [
            _head(_("Category")),
            _head(_("Number"), numeric=True),
            _head(_("Share of total"), numeric=True),
        ]
    ]
    for row, hidden, share in zip(item.rows, status, shares, strict=True):
        shown = disclosure.display(row.value, hidden, threshold)
        rows.append(
            [
                _p(row.label, "cell"),
                _p(shown if isinstance(shown, str) else _number(shown), "cell_num"),
                _p(_percent(share) if share is not None else "–", "cell_num"),
            ]
        )
    rows.append(
        [
            _p(_("Total"), "cell_bold"),
            _p(_number(item.total), "cell_bold_num"),
            _p(_percent(1) if item.total and not item.overlapping else "", "cell_bold_num"),
        ]
    )
    num_w = 30 * mm
    flowables: list[Flowable] = [
        _heading(item.title, "h2", level=1),
        _table(rows, [FRAME_WIDTH - 2 * num_w, num_w, num_w], total_row=True),
    ]
    notes = []
    if item.overlapping:
        notes.append(_("A person can appear in several rows; the total counts each person once."))
    if any(h is disclosure.Hidden.SMALL for h in status):
        notes.append(_small_cell_note(threshold))
    if any(h is disclosure.Hidden.COMPLEMENTARY for h in status):
        notes.append(
            _(
                "“%(mark)s”: withheld so that the small count cannot be worked out from the total.",
                mark=disclosure.COMPLEMENTARY_MARK,
            )
        )
    if notes:
        flowables.append(Spacer(1, 3))
        flowables += [_p(note, "note") for note in notes]
    if not item.rows:
        flowables.insert(1, _p(_("Nobody to count in this period."), "note"))
    return flowables


def _small_cell_note(threshold: int) -> str:
    return _(
        "“< %(threshold)d”: a count between 1 and %(below)d, withheld with its percentage so "
        "that no one can be identified.",
        threshold=threshold,
        below=threshold - 1,
    )


def _breakdown_chart(item: Disaggregation, threshold: int) -> list[Flowable]:
    """Return the bar chart of one breakdown as published: no exact bar for a hidden cell."""
    from reportlab.platypus import Spacer

    values = [row.value for row in item.rows]
    status = disclosure.classify(values, threshold, overlapping=item.overlapping)
    bars: list[tuple[str, int]] = []
    labels: list[str] = []
    muted: set[int] = set()
    for row, hidden in zip(item.rows, status, strict=True):
        if hidden is disclosure.Hidden.COMPLEMENTARY:
            continue  # any bar would tell its size
        if hidden is disclosure.Hidden.SMALL:
            muted.add(len(bars))
            bars.append((pdf_text(row.label), threshold))
            labels.append(disclosure.small_cell_label(threshold))
        else:
            bars.append((pdf_text(row.label), row.value))
            labels.append(_number(row.value))
    if not bars:
        return []
    flowables: list[Flowable] = [
        Spacer(1, 10),
        charts.bar_chart(
            bars,
            title=pdf_text(item.title),
            width=FRAME_WIDTH,
            value_labels=labels,
            muted=muted,
            number_format=_number,
        ),
    ]
    notes = []
    if muted:
        notes.append(
            _(
                "Hatched bars: fewer than %(threshold)d, drawn at %(threshold)d.",
                threshold=threshold,
            )
        )
    if any(h is disclosure.Hidden.COMPLEMENTARY for h in status):
        notes.append(
            _(
                "Rows marked “%(mark)s” in the table are not drawn.",
                mark=disclosure.COMPLEMENTARY_MARK,
            )
        )
    flowables += [_p(note, "note") for note in notes]
    return flowables


def _breakdowns(report: DonorReport) -> list[Flowable]:
    from reportlab.platypus import KeepTogether, PageBreak

    if not report.disaggregations:
        return []
    threshold = report.small_cell_threshold
    flowables: list[Flowable] = [PageBreak(), _heading(_("Breakdowns"))]
    charted = next(
        (
            d
            for d in report.disaggregations
            if d.indicator_key == "trained" and d.dimension_key == "nationality"
        ),
        None,
    )
    for item in report.disaggregations:
        # only breakdowns by who people are can single someone out
        cut = threshold if item.identifying else 0
        flowables.append(KeepTogether(_breakdown(item, cut)))
        if item is charted:
            flowables.append(KeepTogether(_breakdown_chart(item, cut)))
    return flowables


def _narrative(report: DonorReport) -> list[Flowable]:
    from reportlab.platypus import CondPageBreak, Paragraph, Spacer

    if not report.narrative:
        return []
    flowables: list[Flowable] = [CondPageBreak(60 * mm), _heading(_("Narrative"))]
    for heading, text in report.narrative:
        flowables.append(_heading(heading, "h2", level=1))
        for paragraph in text.replace("\r\n", "\n").split("\n\n"):
            if paragraph.strip() and script.rtl():
                flowables.append(_p(paragraph.strip(), "body"))  # keeps its line breaks
                flowables.append(Spacer(1, 5))
            elif paragraph.strip():
                markup = "<br/>".join(_markup(line) for line in paragraph.strip().split("\n"))
                flowables.append(Paragraph(markup, _styles()["body"]))
                flowables.append(Spacer(1, 5))
    return flowables


def _partners_and_activities(report: DonorReport) -> list[Flowable]:
    from reportlab.platypus import PageBreak, Spacer

    flowables: list[Flowable] = [PageBreak(), _heading(_("Partners and activities"))]
    flowables.append(_heading(_("Partners"), "h2", level=1))
    if report.partners:
        rows: list[list[Any]] = [
            [_head(_("Institution")), _head(_("Type")), _head(_("Role in the project"))]
        ]
        for partner in report.partners:
            rows.append(
                [
                    _p(partner.name, "cell"),
                    _p(partner.kind_label, "cell"),
                    _p("; ".join(partner.roles), "cell"),
                ]
            )
        widths = [FRAME_WIDTH * 0.42, FRAME_WIDTH * 0.2, FRAME_WIDTH * 0.38]
        flowables.append(_table(rows, widths))
    else:
        flowables.append(_p(_("No partner institution recorded."), "note"))

    flowables.append(_heading(_("Activities"), "h2", level=1))
    if not report.activities:
        flowables.append(_p(_("No activity recorded in the period."), "note"))
        return flowables
    rows = [
        [
            _head(_("Date")),
            _head(_("Type")),
            _head(_("Activity")),
            _head(_("Partners")),
            _head(_("Staff"), numeric=True),
            _head(_("Other attendees"), numeric=True),
            "",
        ],
        ["", "", "", "", "", _head(_("Women"), numeric=True), _head(_("Men"), numeric=True)],
    ]
    for activity in report.activities:
        title: list[Flowable] = [_p(activity.title, "cell")]
        where = " · ".join(pdf_text(x) for x in (activity.topic, activity.city) if x)
        if where:
            title.append(_p(where, "cell_note"))
        rows.append(
            [
                _p(_date(activity.held_on, "medium"), "cell"),
                _p(activity.kind_label, "cell"),
                title,
                _p(", ".join(activity.partners) or "–", "cell"),
                _p(_number(activity.staff_count), "cell_num"),
                _p(_number(activity.other_women), "cell_num"),
                _p(_number(activity.other_men), "cell_num"),
            ]
        )
    num_w = 18 * mm
    date_w, kind_w = 22 * mm, 25 * mm
    rest = FRAME_WIDTH - date_w - kind_w - 3 * num_w
    widths = [date_w, kind_w, rest * 0.62, rest * 0.38, num_w, num_w, num_w]
    flowables.append(
        _table(
            rows,
            widths,
            header_rows=2,
            extra=[
                *[("SPAN", (col, 0), (col, 1)) for col in range(5)],
                ("SPAN", (5, 0), (6, 0)),
                ("LINEBELOW", (5, 0), (6, 0), 0.5, charts.colour(RULE)),
                # the two kinds of attendees never add up: a rule keeps them apart
                ("LINEBEFORE", (5, 0), (5, -1), 0.6, charts.colour(RULE)),
                ("TOPPADDING", (0, 1), (-1, 1), 1),
            ],
        )
    )
    flowables += [
        Spacer(1, 4),
        _p(
            _(
                "Partner staff: staff of the registered partner institutions that attended. "
                "Other attendees: people who came without a registered institution. The two "
                "are counted separately and never added together."
            ),
            "note",
        ),
    ]
    return flowables


def _method(report: DonorReport) -> list[Flowable]:
    from reportlab.platypus import KeepTogether, PageBreak, Paragraph, Spacer

    flowables: list[Flowable] = [PageBreak(), _heading(_("Method and definitions"))]
    flowables.append(
        _p(
            _(
                "Every figure counts distinct people or institutions, never records: a person "
                "trained twice is counted once."
            )
        )
    )
    flowables.append(Spacer(1, 6))
    for definition in report.definitions:
        flowables.append(
            KeepTogether(
                [
                    _p(definition.label, "cell_bold")
                    if script.rtl()
                    else Paragraph(f"<b>{_markup(definition.label)}</b>", _styles()["body"]),
                    _p(definition.definition, "definition"),
                    Spacer(1, 6),
                ]
            )
        )
    flowables.append(_heading(_("Small cells"), "h2", level=1))
    threshold = report.small_cell_threshold
    if disclosure.enabled(threshold):
        rule = _(
            "In this document, counts of people by sex, age group, nationality or region from "
            "1 to %(below)d are shown as “< %(threshold)d” so "
            "that no one can be singled out; zeros and totals are exact, and the percentage "
            "of a hidden count is not shown. When a single count of a table is hidden and "
            "the rows add up to the total, the next smallest count is hidden too and marked "
            "“%(mark)s”, so that the hidden count cannot be worked out by subtraction.",
            below=threshold - 1,
            threshold=threshold,
            mark=disclosure.COMPLEMENTARY_MARK,
        )
    else:
        rule = _("No count is hidden in this document: the small-cell rule is turned off.")
    flowables.append(_p(rule))
    if report.definitions_version:
        flowables += [
            Spacer(1, 8),
            _p(
                _(
                    "Indicator definitions, version %(version)s.",
                    version=report.definitions_version,
                ),
                "note",
            ),
        ]
    return flowables


def _annex_widths(report: DonorReport) -> list[float]:
    """Return column widths that fit the longest text of each column, scaled to the frame."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    columns = len(report.annex_columns)
    natural = []
    for i in range(columns):
        texts = [report.annex_columns[i]] + [row[i] for row in report.annex_rows[:500]]
        widest = max(stringWidth(script.shown(pdf_text(t)), script.font(), 8.5) for t in texts)
        natural.append(min(widest, FRAME_WIDTH * 0.4) + 2 * CELL_PADDING + 2)
    scale = FRAME_WIDTH / sum(natural)
    return [w * scale for w in natural]


def _annex_header(report: DonorReport, widths: Sequence[float]) -> Table:
    return _table(
        [[_head(c) for c in report.annex_columns]],
        widths,
        repeat_header=False,
        compact=True,
        closed=False,
    )


def _annex_cell(text: str, width: float) -> str | Paragraph:
    from reportlab.platypus import Paragraph

    # plain strings are much faster than Paragraphs; wrap only what does not fit
    text = pdf_text(text)
    if not _fits(text, width):
        return _p(text, "cell") if script.rtl() else Paragraph(escape(text), _styles()["cell"])
    return text


def _annex_file(report: DonorReport, file: AnnexFile) -> list[Flowable]:
    """Return where the annex is: its file's name, format, rows and SHA-256."""
    from reportlab.platypus import Paragraph, Spacer

    code_style = _styles()["cell"].clone("hash", fontName="Courier", fontSize=8.2)
    facts = [
        (_("File"), _p(file.name, "cell_bold")),
        (_("Format"), _p(_("CSV, UTF-8, columns separated by semicolons"), "cell")),
        (_("Columns"), _p("; ".join(report.annex_columns), "cell")),
        (_("Rows"), _p(_number(file.rows), "cell")),
        (_("SHA-256"), Paragraph(escape(file.sha256), code_style)),
    ]
    label_width = 30 * mm
    table = _make_table(
        [[_p(label, "cell_note"), value] for label, value in facts],
        [label_width, FRAME_WIDTH - label_width],
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
            ("BACKGROUND", (0, 0), (-1, -1), charts.colour(ZEBRA)),
            ("LINEABOVE", (0, 0), (-1, 0), 0.9, charts.colour(BLUE)),
            ("LINEBELOW", (0, -1), (-1, -1), 0.6, charts.colour(RULE)),
        ],
    )
    if not report.annex_rows:
        where = None
    elif file.rows > ANNEX_IN_PDF_MAX:
        where = _(
            "With more than %(max)s rows, the list is not printed in this document: the "
            "file is the annex.",
            max=_number(ANNEX_IN_PDF_MAX),
        )
    else:
        where = _("The same list is printed below.")
    flowables: list[Flowable] = [
        _p(_("The annex is delivered with this report as a separate file:")),
        Spacer(1, 4),
        table,
        Spacer(1, 4),
        _p(
            _(
                "Its SHA-256 ties the file to this report: compute it on a copy (for example "
                "with “sha256sum” or “certutil -hashfile … SHA256”); any other value means "
                "that the copy is not this report's annex."
            ),
            "note",
        ),
    ]
    if where:
        flowables += [Spacer(1, 4), _p(where)]
    flowables.append(Spacer(1, 8))
    return flowables


def _annex(report: DonorReport, widths: Sequence[float]) -> list[Flowable]:
    from reportlab.platypus import NextPageTemplate, PageBreak, Spacer

    flowables: list[Flowable] = [
        PageBreak(),
        _heading(_("Pseudonymous annex")),
        _p(
            _(
                "Participants appear by pseudonymous code only; names and contact details "
                "never leave the tracker."
            ),
            "note",
        ),
        _p(
            _(
                "People whose consent to donor reporting was withdrawn or has expired are "
                "not listed; they are counted in the figures."
            ),
            "note",
        ),
        Spacer(1, 6),
    ]
    if report.annex_file is not None:
        flowables += _annex_file(report, report.annex_file)
    if not report.annex_rows:
        flowables.append(_p(_("No participant to list."), "note"))
        return flowables
    if report.annex_file is not None and len(report.annex_rows) > ANNEX_IN_PDF_MAX:
        return flowables
    # pages after this one use the "annex" template, which draws the column headings
    flowables.append(NextPageTemplate("annex"))
    header = [_head(c) for c in report.annex_columns]
    count = len(report.annex_rows)
    for start in range(0, count, ANNEX_CHUNK):
        chunk = [
            [_annex_cell(text, w) for text, w in zip(row, widths, strict=False)]
            for row in report.annex_rows[start : start + ANNEX_CHUNK]
        ]
        # consecutive chunks read as one table: one header, one closing rule
        last = start + ANNEX_CHUNK >= count
        if start == 0:
            table = _table([header, *chunk], widths, repeat_header=False, compact=True, closed=last)
        else:
            table = _table(
                chunk, widths, header_rows=0, zebra_offset=start, compact=True, closed=last
            )
        flowables.append(table)
    return flowables


# --- the builder --------------------------------------------------------------------------


def build_donor_pdf(report: DonorReport, *, generated_at: datetime | None = None) -> bytes:
    """Return the donor report as PDF bytes.

    ``generated_at`` (default: now) prints on the cover and is the file's creation
    date; the same report and ``generated_at`` give the same bytes. A report in Arabic
    is laid out right to left, in Amiri (see ``tracker.reports.script``).
    """
    with script.right_to_left(report.language):
        return _build_donor_pdf(report, generated_at=generated_at)


def _build_donor_pdf(report: DonorReport, *, generated_at: datetime | None) -> bytes:
    from reportlab.lib.colors import white
    from reportlab.pdfbase.pdfdoc import PDFPageLabel
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import NextPageTemplate, PageBreak, PageTemplate

    generated_at = generated_at or datetime.now(UTC)
    as_of = _moment(report.as_of)
    data_as_of = _("Data as of %(when)s", when=as_of)
    running_title = pdf_text(report.project_title)
    code = pdf_text(report.project_code)

    def draw_cover(canv: Canvas, doc: BaseDocTemplate) -> None:
        canv.saveState()
        canv.setFillColor(charts.colour(BLUE))
        canv.rect(0, PAGE_HEIGHT - 30 * mm, PAGE_WIDTH, 30 * mm, stroke=0, fill=1)
        canv.setFillColor(white)
        canv.setFont(script.bold(), 11)
        _start_x(canv, PAGE_HEIGHT - 18 * mm, code)
        canv.setStrokeColor(charts.colour(RULE))
        canv.setLineWidth(0.6)
        canv.line(MARGIN_X, 32 * mm, PAGE_WIDTH - MARGIN_X, 32 * mm)
        notice = _p(_("Contains no names: participants appear by pseudonymous code only."), "note")
        _w, h = notice.wrap(FRAME_WIDTH, 20 * mm)
        notice.drawOn(canv, MARGIN_X, 32 * mm - 4 - h)
        canv.restoreState()
        canv.showOutline()
        canv.addPageLabel(0, prefix=pdf_text(_("Cover")))
        canv.addPageLabel(1, style=PDFPageLabel.ARABIC, start=1)

    def draw_running_head(canv: Canvas, doc: BaseDocTemplate) -> None:
        canv.saveState()
        canv.setFont(script.font(), 7.5)
        canv.setFillColor(charts.colour(MUTED_INK))
        top = PAGE_HEIGHT - MARGIN_TOP + 8 * mm
        room = FRAME_WIDTH - stringWidth(code, script.bold(), 7.5) - 12
        title = charts.fit_text(running_title, room, script.font(), 7.5)
        _start_x(canv, top, script.shown(title))
        canv.setFont(script.bold(), 7.5)
        _end_x(canv, top, code)
        canv.restoreState()
        canv.footer_wanted = True

    widths = _annex_widths(report) if report.annex_columns else []
    header_h = _annex_header(report, widths).wrap(FRAME_WIDTH, FRAME_HEIGHT)[1] if widths else 0

    def draw_annex_page(canv: Canvas, doc: BaseDocTemplate) -> None:
        draw_running_head(canv, doc)
        header = _annex_header(report, widths)
        header.wrapOn(canv, FRAME_WIDTH, FRAME_HEIGHT)
        header.drawOn(canv, MARGIN_X, PAGE_HEIGHT - MARGIN_TOP - header_h)

    draw_footer = page_footer(f"{code} · {pdf_text(data_as_of)}")

    buffer = io.BytesIO()
    doc = _doc_template_class()(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=pdf_text(report.project_title),
        author=pdf_text(_("Project team %(code)s", code=report.project_code)),
        subject=pdf_text(
            _("Donor report") + f", {_date(report.period_start)} – {_date(report.period_end)}"
        ),
        keywords=[pdf_text(k) for k in (report.project_code, report.donor, report.country) if k],
        creator="tracker",
        lang=report.language,
        displayDocTitle=True,
        invariant=1,
        pageTemplates=[
            PageTemplate("cover", [body_frame("cover")], onPage=draw_cover),
            PageTemplate("body", [body_frame("body")], onPage=draw_running_head),
            PageTemplate("annex", [body_frame("annex", header_h)], onPage=draw_annex_page),
        ],
    )
    story: list[Flowable] = [*_cover(report, generated_at), NextPageTemplate("body"), PageBreak()]
    story += _headline(report)
    story += _results(report)
    story += _progress_charts(report)
    story += _breakdowns(report)
    story += _narrative(report)
    story += _partners_and_activities(report)
    story += _method(report)
    story += _annex(report, widths)
    doc.build(
        story,
        canvasmaker=partial(_numbered_canvas_class(), footer=draw_footer, created=generated_at),
    )
    return buffer.getvalue()
