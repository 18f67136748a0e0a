"""Charts drawn with ``reportlab.graphics``: data in, ``Drawing`` out.

The same drawing goes into the donor PDF (a ``Drawing`` is a platypus flowable)
and, through ``to_svg()``, into the web dashboard. Builders take labels already
translated and formatted; they never call Babel, so ``number_format`` (e.g.
``flask_babel.format_decimal``) decides how numbers look.

Palette: a calm blue family (IOM blue #0033A0) with one contrasting orange for a
second series; flat, no 3-D, bars labelled with their values so colour is never
the only carrier of meaning.

reportlab is imported inside the functions that draw, not at the top: it takes
about 0.1 s to import (its colours alone import Pillow), which every command and
worker paid, since the dashboard and the donor report import this module.
The palette is kept as hex codes; ``colour()`` makes reportlab's colours of them.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from tracker.reports import script

if TYPE_CHECKING:
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.colors import Color

BLUE = "#0033A0"
BLUE_RAMP = ("#0033A0", "#1D4FB0", "#3A6AC0", "#5F88CF", "#8AA8DE", "#B3C6EA")
LIGHT_BLUE = "#C9D6F0"
PALE_BLUE = "#EEF2FA"
ORANGE = "#D86018"
INK = "#1F2430"
MUTED_INK = "#5A6270"
GRID = "#DCE1EA"

FONT = "Helvetica"
BOLD = "Helvetica-Bold"
TITLE_SIZE = 10
LABEL_SIZE = 8
VALUE_SIZE = 8
#: on a screen, where a drawing unit is a CSS pixel: no text under 12 px, and a chart
#: that fits a 356 px card (a 390 px phone) with its padding, at its natural size
SCREEN_TEXT_SIZE = 12
SCREEN_TITLE_SIZE = 14
SCREEN_WIDTH = 328
#: a browser sets the charts' text in the system font (static/style.css), up to a fifth
#: wider than the Helvetica widths measured here: room is kept for it on a screen
SCREEN_SLACK = 1.2
ELLIPSIS = "…"

NumberFormat = Callable[[int], str]


@functools.cache
def colour(hex_code: str) -> Color:
    """Return reportlab's colour of a hex code of the palette, e.g. ``colour(BLUE)``."""
    from reportlab.lib.colors import HexColor

    return HexColor(hex_code)


@functools.cache
def _chart_drawing_class() -> type[Drawing]:
    """Return ``ChartDrawing``, defined on first use since its base class is reportlab's."""
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.attrmap import AttrMap, AttrMapValue
    from reportlab.lib.validators import isString

    class ChartDrawing(Drawing):
        """A ``Drawing`` that knows its title and a text description (for SVG readers)."""

        _attrMap = AttrMap(
            BASE=Drawing,
            title=AttrMapValue(isString, desc="chart title, the SVG <title>"),
            description=AttrMapValue(isString, desc="text alternative, the SVG <desc>"),
        )

        def __init__(self, width: float, height: float, *, title: str = "", description: str = ""):
            super().__init__(width, height)
            self.title = title
            self.description = description

    return ChartDrawing


def fit_text(text: str, width: float, font: str | None = None, size: float = LABEL_SIZE) -> str:
    """Return ``text`` shortened with an ellipsis so that it fits in ``width`` points.

    The text stays in reading order (shortened at its end); its width is measured as
    drawn, joined, in an Arabic report.
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    font = font or script.font()
    if stringWidth(script.shown(text), font, size) <= width:
        return text
    while text and stringWidth(script.shown(text + ELLIPSIS), font, size) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def nice_step(largest: float, ticks: int = 5) -> int:
    """Return a round axis step (1, 2, 5, 10, 20, 50 …) giving at most ``ticks`` intervals."""
    magnitude = 1
    while True:
        for base in (1, 2, 5):
            if largest <= base * magnitude * ticks:
                return base * magnitude
        magnitude *= 10


def title_lines(title: str, width: float, size: float = TITLE_SIZE) -> list[str]:
    """Return the title in one line, or two (cut at a space) when it is wider than ``width``."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if not title:
        return []
    bold = script.bold()
    if stringWidth(script.shown(title), bold, size) <= width:
        return [title]
    words = title.split(" ")
    for cut in range(len(words) - 1, 0, -1):
        first = " ".join(words[:cut])
        if stringWidth(script.shown(first), bold, size) <= width:
            return [first, fit_text(" ".join(words[cut:]), width, bold, size)]
    return [fit_text(title, width, bold, size)]


def _title_height(title: str, width: float, size: float) -> float:
    lines = len(title_lines(title, width, size))
    return lines * size * 1.2 + 10 - size * 0.2 if lines else 0


def _add_title(
    drawing: Drawing, title: str, top: float, size: float = TITLE_SIZE, room: float | None = None
) -> float:
    """Draw the title at the top left (right in Arabic), on two lines if it needs them;
    return the y below it. ``room`` is the width the title may take (the drawing's by
    default)."""
    from reportlab.graphics.shapes import String

    room = room or drawing.width
    lines = title_lines(title, room, size)
    for i, line in enumerate(lines):
        drawing.add(
            String(
                drawing.width if script.rtl() else 0,
                top - size - i * size * 1.2,
                script.shown(line),
                textAnchor="end" if script.rtl() else "start",
                fontName=script.bold(),
                fontSize=size,
                fillColor=colour(INK),
            )
        )
    return top - _title_height(title, room, size)


def _mirror_for_rtl(drawing: Drawing, first: int) -> Drawing:
    """In an Arabic report, mirror what ``drawing`` holds from its ``first`` shape on.

    Bars start at the right and grow leftward, the names of the rows are on the right
    and their values at the bars' left end, as an Arabic reader reads them. The shapes
    go in a group mirrored by a transform; the texts are moved, not mirrored (mirrored
    glyphs would read backwards), their anchors swapped. The title (shapes before
    ``first``) is already drawn from the right.
    """
    if not script.rtl():
        return drawing
    from reportlab.graphics.shapes import Group, String

    shapes = drawing.contents[first:]
    del drawing.contents[first:]
    group = Group(transform=(-1, 0, 0, 1, drawing.width, 0))
    texts = []
    for shape in shapes:
        if isinstance(shape, String):
            shape.x = drawing.width - shape.x
            shape.textAnchor = {"start": "end", "end": "start"}.get(
                shape.textAnchor, shape.textAnchor
            )
            texts.append(shape)
        else:
            group.add(shape)
    drawing.add(group)
    for text in texts:
        drawing.add(text)
    return drawing


def _hatched_bar(x: float, y: float, w: float, h: float) -> list:
    """Return the shapes of a pale, hatched bar: a value that is not shown exactly."""
    from reportlab.graphics.shapes import Hatching, Rect

    shapes = [
        Rect(x, y, w, h, fillColor=colour(PALE_BLUE), strokeColor=colour(BLUE), strokeWidth=0.6),
    ]
    if w > 1 and h > 1:
        shapes.append(
            Hatching(
                spacings=3,
                angles=45,
                xyLists=[x, y, x + w, y, x + w, y + h, x, y + h],
                strokeColor=colour(BLUE),
                strokeWidth=0.5,
            )
        )
    return shapes


def bar_chart(
    rows: Sequence[tuple[str, int]],
    *,
    title: str = "",
    width: float = 440,
    height: float | None = None,
    value_labels: Sequence[str] | None = None,
    muted: Collection[int] = (),
    number_format: NumberFormat = str,
    description: str = "",
) -> Drawing:
    """Return horizontal bars, one per (label, value) row, each with its value at its end.

    ``value_labels`` replaces the printed values (e.g. "< 5"); rows whose index is
    in ``muted`` are drawn pale and hatched, for values that are not exact (a
    suppressed cell drawn at the threshold). Long labels are shortened with "…".
    ``height`` defaults to what the rows need.
    """
    from reportlab.graphics.shapes import Line, Rect, String
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if value_labels is not None and len(value_labels) != len(rows):
        raise ValueError("one value label per row")
    labels = list(value_labels) if value_labels is not None else [number_format(v) for _, v in rows]
    title_h = _title_height(title, width, TITLE_SIZE)
    pitch = 18.0
    if height is None:
        height = title_h + max(len(rows), 1) * pitch + 4
    elif rows:
        pitch = max((height - title_h - 4) / len(rows), 6.0)
    drawing = _chart_drawing_class()(width, height, title=title, description=description)
    top = _add_title(drawing, title, height)
    if not rows:
        return drawing
    first = len(drawing.contents)

    label_w = min(
        max(stringWidth(script.shown(label), script.font(), LABEL_SIZE) for label, _ in rows) + 8,
        width * 0.38,
    )
    value_w = max(stringWidth(script.shown(text), script.bold(), VALUE_SIZE) for text in labels) + 8
    bar_x = label_w
    bar_room = max(width - label_w - value_w, 10)
    largest = max((value for _, value in rows), default=0) or 1
    bar_h = min(pitch * 0.62, 14)

    for i, ((label, value), text) in enumerate(zip(rows, labels, strict=True)):
        centre = top - pitch * (i + 0.5)
        drawing.add(
            String(
                label_w - 8,
                centre - LABEL_SIZE / 2 + 1.5,
                script.shown(fit_text(label, label_w - 8)),
                fontName=script.font(),
                fontSize=LABEL_SIZE,
                fillColor=colour(INK),
                textAnchor="end",
            )
        )
        length = bar_room * max(value, 0) / largest
        y = centre - bar_h / 2
        if i in muted:
            for shape in _hatched_bar(bar_x, y, length, bar_h):
                drawing.add(shape)
        elif length > 0:
            drawing.add(Rect(bar_x, y, length, bar_h, fillColor=colour(BLUE), strokeColor=None))
        drawing.add(
            String(
                bar_x + length + 4,
                centre - VALUE_SIZE / 2 + 1.5,
                script.shown(text),
                fontName=script.bold(),
                fontSize=VALUE_SIZE,
                fillColor=colour(MUTED_INK if i in muted else INK),
            )
        )
    drawing.add(
        Line(
            bar_x,
            top,
            bar_x,
            top - pitch * len(rows),
            strokeColor=colour(MUTED_INK),
            strokeWidth=0.6,
        )
    )
    return _mirror_for_rtl(drawing, first)


def funnel_chart(
    stages: Sequence[tuple[str, int]],
    *,
    title: str = "",
    width: float = 440,
    height: float | None = None,
    value_labels: Sequence[str] | None = None,
    number_format: NumberFormat = str,
    description: str = "",
    text_size: float = LABEL_SIZE,
    title_size: float = TITLE_SIZE,
    labels_above: bool = False,
    slack: float = 1.0,
) -> Drawing:
    """Return a funnel: one centred bar per stage (registered → … → retained), widest first.

    Bars are proportional to the first stage's value. ``value_labels`` replaces
    the printed values, e.g. "135 (53 %)". ``labels_above`` writes each stage's
    name above its bar, across the whole width, rather than beside it: on a narrow
    screen, a name beside the bar would be cut short. ``slack`` keeps room for a
    font wider than Helvetica (``SCREEN_SLACK``).
    """
    if labels_above:
        return _funnel_labels_above(
            stages,
            title=title,
            width=width,
            value_labels=value_labels,
            number_format=number_format,
            description=description,
            text_size=text_size,
            title_size=title_size,
            slack=slack,
        )
    from reportlab.graphics.shapes import Polygon, Rect, String
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if value_labels is not None and len(value_labels) != len(stages):
        raise ValueError("one value label per stage")
    labels = (
        list(value_labels) if value_labels is not None else [number_format(v) for _, v in stages]
    )
    title_h = _title_height(title, width, title_size)
    pitch = 26.0
    if height is None:
        height = title_h + max(len(stages), 1) * pitch + 4
    elif stages:
        pitch = max((height - title_h - 4) / len(stages), 8.0)
    drawing = _chart_drawing_class()(width, height, title=title, description=description)
    top = _add_title(drawing, title, height, title_size)
    if not stages:
        return drawing
    first = len(drawing.contents)

    label_w = min(
        max(stringWidth(script.shown(label), script.font(), text_size) for label, _ in stages) + 10,
        width * 0.34,
    )
    value_w = max(stringWidth(script.shown(text), script.bold(), text_size) for text in labels) + 10
    room = max(width - label_w - value_w, 10)
    centre_x = label_w + room / 2
    largest = max(value for _, value in stages) or 1
    bar_h = pitch * 0.72
    previous: tuple[float, float] | None = None  # (half width, bottom y) of the bar above

    for i, ((label, value), text) in enumerate(zip(stages, labels, strict=True)):
        centre_y = top - pitch * (i + 0.5)
        half = max(room * max(value, 0) / largest / 2, 1.0)
        y = centre_y - bar_h / 2
        if previous is not None:
            above_half, above_y = previous
            # a pale trapezoid joins each bar to the one above: the funnel's walls
            drawing.add(
                Polygon(
                    [
                        centre_x - above_half,
                        above_y,
                        centre_x + above_half,
                        above_y,
                        centre_x + half,
                        y + bar_h,
                        centre_x - half,
                        y + bar_h,
                    ],
                    fillColor=colour(PALE_BLUE),
                    strokeColor=None,
                )
            )
        fill = colour(BLUE_RAMP[min(i, len(BLUE_RAMP) - 1)])
        drawing.add(Rect(centre_x - half, y, 2 * half, bar_h, fillColor=fill, strokeColor=None))
        drawing.add(
            String(
                label_w - 10,
                centre_y - text_size / 2 + 1.5,
                script.shown(fit_text(label, label_w - 10, script.font(), text_size)),
                fontName=script.font(),
                fontSize=text_size,
                fillColor=colour(INK),
                textAnchor="end",
            )
        )
        drawing.add(
            String(
                label_w + room + 8,
                centre_y - text_size / 2 + 1.5,
                script.shown(text),
                fontName=script.bold(),
                fontSize=text_size,
                fillColor=colour(INK),
            )
        )
        previous = (half, y)
    return _mirror_for_rtl(drawing, first)


def _funnel_labels_above(
    stages: Sequence[tuple[str, int]],
    *,
    title: str,
    width: float,
    value_labels: Sequence[str] | None,
    number_format: NumberFormat,
    description: str,
    text_size: float,
    title_size: float,
    slack: float,
) -> Drawing:
    """Return the funnel of ``funnel_chart(labels_above=True)``: name, then bar and value."""
    from reportlab.graphics.shapes import Rect, String
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if value_labels is not None and len(value_labels) != len(stages):
        raise ValueError("one value label per stage")
    labels = (
        list(value_labels) if value_labels is not None else [number_format(v) for _, v in stages]
    )
    title_h = _title_height(title, width / slack, title_size)
    bar_h = text_size * 1.2
    pitch = text_size + 4 + bar_h + 8  # name, gap, bar, space before the next stage
    height = title_h + max(len(stages), 1) * pitch
    drawing = _chart_drawing_class()(width, height, title=title, description=description)
    top = _add_title(drawing, title, height, title_size, width / slack)
    if not stages:
        return drawing
    first = len(drawing.contents)
    value_w = (
        max(stringWidth(script.shown(text), script.bold(), text_size) for text in labels) * slack
        + 6
    )
    room = max(width - value_w, 10)
    largest = max(value for _, value in stages) or 1
    for i, ((label, value), text) in enumerate(zip(stages, labels, strict=True)):
        y = top - pitch * i
        drawing.add(
            String(
                0,
                y - text_size,
                script.shown(fit_text(label, width / slack, script.font(), text_size)),
                fontName=script.font(),
                fontSize=text_size,
                fillColor=colour(INK),
            )
        )
        length = max(room * max(value, 0) / largest, 1.0)
        bar_y = y - text_size - 4 - bar_h
        fill = colour(BLUE_RAMP[min(i, len(BLUE_RAMP) - 1)])
        drawing.add(Rect(0, bar_y, length, bar_h, fillColor=fill, strokeColor=None))
        drawing.add(
            String(
                length + 6,
                bar_y + (bar_h - text_size) / 2 + 1.5,
                script.shown(text),
                fontName=script.bold(),
                fontSize=text_size,
                fillColor=colour(INK),
            )
        )
    return _mirror_for_rtl(drawing, first)


def trend_chart(
    points: Sequence[tuple[str, int, int]],
    *,
    series_labels: tuple[str, str] = ("Trained", "Placed"),
    title: str = "",
    width: float = 440,
    height: float = 200,
    number_format: NumberFormat = str,
    description: str = "",
    text_size: float = LABEL_SIZE,
    small_size: float | None = None,
    title_size: float = TITLE_SIZE,
    slack: float = 1.0,
) -> Drawing:
    """Return grouped bars per period (e.g. quarter): two series with a legend.

    ``points`` are (period label, first series, second series), e.g.
    ("Q1 2025", trained, placed). ``small_size`` (the axis and the bars' values)
    defaults to one point under ``text_size``. Period names turn when they do not
    fit under their bars; the values over the bars are left out when they would
    overlap (too many periods for the width). ``slack`` keeps room for a font wider
    than Helvetica (``SCREEN_SLACK``).
    """
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.pdfbase.pdfmetrics import stringWidth

    small = small_size if small_size is not None else text_size - 1
    drawing = _chart_drawing_class()(width, height, title=title, description=description)
    top = _add_title(drawing, title, height, title_size, width / slack)
    colours = (colour(BLUE), colour(ORANGE))

    legend = Legend()
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.fontName = script.font()
    legend.fontSize = text_size
    legend.fillColor = colour(INK)
    legend.strokeColor = None
    legend.dx = legend.dy = 8
    legend.deltax = 12
    legend.boxAnchor = "nw"
    legend.x = 0
    legend.y = top
    legend.colorNamePairs = list(
        zip(colours, [script.shown(label) for label in series_labels], strict=True)
    )
    legend.dxTextSpace = 5
    legend.autoXPadding = 14
    drawing.add(legend)
    top -= text_size + 10
    if not points:
        return drawing

    largest = max(max(p[1] for p in points), max(p[2] for p in points))
    chart = VerticalBarChart()
    chart.x = max(34, stringWidth(number_format(largest), script.font(), small) * slack + 12)
    chart.width = width - chart.x - 4
    group_w = chart.width / len(points)
    widest = max(stringWidth(script.shown(p[0]), script.font(), text_size) for p in points) * slack
    many = len(points) > 8 or widest + 4 > group_w
    chart.y = text_size * 3.6 if many else text_size + 12
    chart.height = max(top - chart.y - 12, 20)
    chart.data = [[p[1] for p in points], [p[2] for p in points]]
    chart.categoryAxis.categoryNames = [script.shown(p[0]) for p in points]
    chart.categoryAxis.labels.fontName = script.font()
    chart.categoryAxis.labels.fontSize = text_size
    chart.categoryAxis.labels.fillColor = colour(INK)
    chart.categoryAxis.strokeColor = colour(MUTED_INK)
    chart.categoryAxis.tickDown = 0
    if many:
        chart.categoryAxis.labels.angle = 35
        chart.categoryAxis.labels.boxAnchor = "ne"
        chart.categoryAxis.labels.dx = 4
    step = nice_step(max(max(chart.data[0]), max(chart.data[1])))
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueStep = step
    chart.valueAxis.valueMax = step * max(
        math.ceil(max(max(chart.data[0]), max(chart.data[1])) / step), 1
    )
    chart.valueAxis.labels.fontName = script.font()
    chart.valueAxis.labels.fontSize = small
    chart.valueAxis.labels.fillColor = colour(MUTED_INK)
    chart.valueAxis.labelTextFormat = lambda v: number_format(int(v)) if v == int(v) else ""
    chart.valueAxis.strokeColor = None
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colour(GRID)
    chart.valueAxis.gridStrokeWidth = 0.5
    chart.valueAxis.forceZero = True
    chart.barSpacing = 1
    chart.groupSpacing = 8
    chart.bars.strokeColor = None
    for i, fill in enumerate(colours):
        chart.bars[i].fillColor = fill
    # a value over each bar, when it fits over its bar (half a period's width, less spacing)
    if (
        stringWidth(number_format(largest), script.font(), small) * slack + 2
        <= (group_w - chart.groupSpacing) / 2
    ):
        chart.barLabelFormat = lambda v: number_format(int(v))
    chart.barLabels.fontName = script.font()
    chart.barLabels.fontSize = small
    chart.barLabels.fillColor = colour(INK)
    chart.barLabels.nudge = 6
    drawing.add(chart)
    return drawing


def to_svg(drawing: Drawing, *, id_prefix: str | None = None) -> str:
    """Return ``drawing`` as a standalone ``<svg>`` element (no XML prolog), for inline HTML.

    The title and description of a ``ChartDrawing`` become the SVG's <title> and
    <desc> (what screen readers announce). reportlab names its clip path "clip"
    in every SVG; ids are prefixed so that several charts can share one page.
    """
    import xml.dom.minidom  # noqa: S408 - parses our own SVG output, never user input

    from reportlab.graphics import renderSVG

    raw = renderSVG.drawToString(drawing)
    prefix = id_prefix or "chart-" + hashlib.sha256(raw.encode()).hexdigest()[:8]
    document = xml.dom.minidom.parseString(raw)  # noqa: S318 - our own renderer's output
    svg = document.documentElement
    title = getattr(drawing, "title", "") or ""
    description = getattr(drawing, "description", "") or ""
    for tag, text in (("title", title), ("desc", description)):
        for node in svg.getElementsByTagName(tag):
            if node.parentNode is svg:
                if text:
                    for child in list(node.childNodes):
                        node.removeChild(child)
                    node.appendChild(document.createTextNode(text))
                    node.setAttribute("id", f"{prefix}-{tag}")
                else:
                    svg.removeChild(node)
    svg.setAttribute("role", "img")
    if title:
        labelled = f"{prefix}-title" + (f" {prefix}-desc" if description else "")
        svg.setAttribute("aria-labelledby", labelled)

    renamed = {}
    for node in svg.getElementsByTagName("*"):
        if node.hasAttribute("id") and not node.getAttribute("id").startswith(prefix):
            old = node.getAttribute("id")
            renamed[old] = f"{prefix}-{old}"
            node.setAttribute("id", renamed[old])
    for node in svg.getElementsByTagName("*"):
        for name in ("style", "clip-path", "href", "xlink:href"):
            if node.hasAttribute(name):
                value = node.getAttribute(name)
                for old, new in renamed.items():
                    value = value.replace(f"#{old})", f"#{new})")
                    if value == f"#{old}":
                        value = f"#{new}"
                node.setAttribute(name, value)
    _styles_to_attributes(svg)
    return svg.toxml()


#: CSS properties that SVG also takes as presentation attributes (SVG 1.1, 11.4 and 10.10)
PRESENTATION_ATTRIBUTES = frozenset(
    {
        "clip-path",
        "clip-rule",
        "color",
        "dominant-baseline",
        "fill",
        "fill-opacity",
        "fill-rule",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "opacity",
        "stroke",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-opacity",
        "stroke-width",
        "text-anchor",
        "visibility",
    }
)


def _styles_to_attributes(svg) -> None:
    """Move reportlab's ``style="…"`` declarations into presentation attributes.

    The pages' Content-Security-Policy allows no inline style (``style-src
    'self'``), which a browser applies to style attributes too; presentation
    attributes are markup, not CSS, so the charts keep their colours. reportlab
    names a bold face "Helvetica-Bold": that becomes a bold weight.
    """
    for node in svg.getElementsByTagName("*"):
        if not node.hasAttribute("style"):
            continue
        for declaration in node.getAttribute("style").split(";"):
            name, _, value = declaration.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name not in PRESENTATION_ATTRIBUTES or not value:
                continue
            if name == "font-family" and value.endswith("-Bold"):
                node.setAttribute("font-weight", "bold")
                value = value.removesuffix("-Bold")
            node.setAttribute(name, value)
        node.removeAttribute("style")
