"""CSV and XLSX writers: rows in, bytes out. Pure: no database, no request, no Flask.

Both writers defuse formula injection (ASVS 1.2.10), each in the way its format
allows:

- **XLSX**: every text cell is written as an inline string (``data_type = "s"``),
  which no spreadsheet evaluates, so the text stays exactly as it was, ``=`` and
  ``+`` included. (openpyxl would otherwise store any text starting with ``=`` as
  a live formula.)
- **CSV** has no string type: a spreadsheet opening it evaluates a cell starting
  with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one). Such
  text gets a leading apostrophe. Two kinds of cells are left as written because
  no spreadsheet can make a formula of them: plain numbers (``-12.5``), and, in
  phone columns, numbers made only of ``+``, digits and spaces
  (``+212 600 11 22 33``). A text that already starts with an apostrophe gets a
  second one, so that ``restore()`` (used by the import) gives back exactly the
  original text by removing one.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from itertools import chain, islice
from typing import Any

#: first characters that make a spreadsheet read a CSV cell as a formula
FORMULA_TRIGGERS = frozenset("=+-@\t\r\0")
ESCAPE = "'"
#: first characters of a text that ``neutralise`` may change
_NEUTRALISED_FIRST = FORMULA_TRIGGERS | {ESCAPE}
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_PLAIN_PHONE = re.compile(r"\+?[0-9 ]+")

CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"


def neutralise(text: str, *, phone: bool = False) -> str:
    """Return a CSV cell's text so that no spreadsheet runs it as a formula."""
    if not text:
        return text
    first = text[0]
    if first == ESCAPE:
        return ESCAPE + text
    if first not in FORMULA_TRIGGERS:
        return text
    if _PLAIN_NUMBER.fullmatch(text) or (phone and _PLAIN_PHONE.fullmatch(text)):
        return text
    return ESCAPE + text


def restore(text: str) -> str:
    """Undo ``neutralise``: remove the apostrophe it added, and only that one."""
    if len(text) >= 2 and text[0] == ESCAPE and (text[1] in FORMULA_TRIGGERS or text[1] == ESCAPE):
        return text[1:]
    return text


def _csv_text(value: Any, phone: bool) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value, phone=phone)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value  # int, float: written by the csv module as numbers


def csv_chunks(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    hxl: Sequence[str] | None = None,
    delimiter: str = ";",
    quote_all: bool = False,
    bom: bool = True,
    phone_columns: Collection[int] = (),
    formats: Sequence[str] | None = None,
    batch: int = 500,
) -> Iterator[bytes]:
    """Yield a CSV file in UTF-8 pieces, a few hundred rows at a time (for streaming).

    ``rows`` may be a generator: nothing is held beyond one batch. Header and
    HXL cells are neutralised like any other text. ``formats`` says per column
    what its cells are (``tracker.columns``): "text" (text or None: neutralised),
    "plain" (None, numbers, or text that cannot start a formula: written as they
    are) or "any" (converted cell by cell, the default for every column).
    """
    if delimiter not in (";", ",", "\t"):
        raise ValueError(f"unsupported delimiter {delimiter!r}")
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=delimiter,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        lineterminator="\r\n",
    )
    phones = frozenset(phone_columns)
    if bom:
        buffer.write(BOM)
    writer.writerow([neutralise(h) for h in header])
    if hxl is not None:
        writer.writerow([neutralise(tag) for tag in hxl])
    # each column's treatment, chosen once: (index, is a phone column)
    texts: list[tuple[int, bool]] = []
    anything: list[tuple[int, bool]] = []
    for index, treatment in enumerate(formats or ()):
        if treatment == "text":
            texts.append((index, index in phones))
        elif treatment != "plain":
            anything.append((index, index in phones))
    triggers = _NEUTRALISED_FIRST
    pending = 0
    for row in rows:
        if formats is None:
            writer.writerow([_csv_text(value, i in phones) for i, value in enumerate(row)])
            pending += 1
            if pending >= batch:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
                pending = 0
            continue
        cells = list(row)
        for index, phone in texts:
            value = cells[index]
            if value.__class__ is str:
                if value and value[0] in triggers:
                    cells[index] = neutralise(value, phone=phone)
            elif value is not None:
                cells[index] = _csv_text(value, phone)
        for index, phone in anything:
            cells[index] = _csv_text(cells[index], phone)
        writer.writerow(cells)
        pending += 1
        if pending >= batch:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], **options: Any) -> bytes:
    """Return a whole CSV file; see ``csv_chunks`` for the options."""
    return b"".join(csv_chunks(header, rows, **options))


# --- XLSX -------------------------------------------------------------------------

MIN_WIDTH = 8
MAX_WIDTH = 50
#: rows looked at to size the columns (a write-only sheet needs widths before any row)
WIDTH_SAMPLE = 200
DATE_FORMAT = "yyyy-mm-dd"


def _width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, date):
        return 10
    text = str(value)
    return max((len(line) for line in text.splitlines()), default=0)


def safe_sheet_title(title: str) -> str:
    """Return a valid sheet title: at most 31 characters, none of []:*?/\\."""
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip() or "Sheet"
    return cleaned[:31]


def write_xlsx(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    hxl: Sequence[str] | None = None,
    sheet_title: str = "export",
    date_columns: Collection[int] = (),
) -> bytes:
    """Return an XLSX workbook of one sheet: bold frozen header, sized columns.

    Every text cell is an inert string. In ``date_columns``, ISO dates become
    real dates shown as YYYY-MM-DD (other text, such as a year alone, stays text).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    workbook.properties.creator = "tracker"
    sheet = workbook.create_sheet(safe_sheet_title(sheet_title))
    dates = frozenset(date_columns)
    iterator = iter(rows)
    sample = list(islice(iterator, WIDTH_SAMPLE))

    for index, name in enumerate(header):
        widest = max(
            [len(name), len(hxl[index]) if hxl else 0]
            + [_width(row[index]) for row in sample if index < len(row)]
        )
        letter = get_column_letter(index + 1)
        sheet.column_dimensions[letter].width = min(max(widest + 2, MIN_WIDTH), MAX_WIDTH)
    header_rows = 2 if hxl is not None else 1
    sheet.freeze_panes = f"A{header_rows + 1}"
    if hxl is None and header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}1"

    def text_cell(value: str, font: Font | None = None) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet)
        # assigning the value would make a formula of "=…"; set the string type directly
        cell._value = ILLEGAL_CHARACTERS_RE.sub("", value)[:32767]
        cell.data_type = "s"
        if font is not None:
            cell.font = font
        return cell

    def date_cell(value: date) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell

    bold = Font(bold=True)
    sheet.append([text_cell(name, bold) for name in header])
    if hxl is not None:
        sheet.append([text_cell(tag, Font(italic=True, color="555555")) for tag in hxl])

    for row in chain(sample, iterator):
        cells: list[Any] = []
        for index, value in enumerate(row):
            if isinstance(value, str):
                if index in dates and len(value) == 10:
                    try:
                        cells.append(date_cell(date.fromisoformat(value)))
                        continue
                    except ValueError:
                        pass
                cells.append(text_cell(value) if value else None)
            elif isinstance(value, bool):
                cells.append(text_cell("yes" if value else "no"))
            elif isinstance(value, date):
                cells.append(date_cell(value))
            else:
                cells.append(value)  # None, int, float, Decimal: numbers
        sheet.append(cells)

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
