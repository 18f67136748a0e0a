"""CSV and XLSX writers: rows in, bytes out. Pure: no database, no request, no Flask.

Both writers defuse formula injection (ASVS 1.2.10), each in the way its format
allows:

- **XLSX**: every text cell is written as a string (XlsxWriter's ``write_string``,
  an inline string), which no spreadsheet evaluates, so the text stays exactly as
  it was, ``=`` and ``+`` included. Nothing is ever written as a formula.
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
from pathlib import Path
from typing import IO, Any

#: first characters that make a spreadsheet read a CSV cell as a formula
FORMULA_TRIGGERS = frozenset("=+-@\t\r\0")
ESCAPE = "'"
#: first characters of a text that ``neutralise`` may change
_NEUTRALISED_FIRST = FORMULA_TRIGGERS | {ESCAPE}
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_PLAIN_PHONE = re.compile(r"\+?[0-9 ]+")
#: where a reader using another separator than the file's would split a cell
_SEPARATORS = re.compile(r"([,;\t\r\n])")
_HAS_SEPARATOR = re.compile(r"[,;\t\r\n]")
#: what starts a formula in a part of a cell after such a split (spaces before ignored)
_INNER_TRIGGERS = frozenset("=+-@\0")

CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"


def _neutralise_start(text: str, phone: bool) -> str:
    """The rule for a cell's start: an apostrophe before a formula trigger (or an apostrophe)."""
    if not text:
        return text
    first = text[0]
    if first == ESCAPE:
        return ESCAPE + text
    if first not in FORMULA_TRIGGERS:
        return text
    # a phone column's cells are mostly phone numbers: one pattern, not two, for each
    if (phone and _PLAIN_PHONE.fullmatch(text)) or _PLAIN_NUMBER.fullmatch(text):
        return text
    return ESCAPE + text


def _restore_start(text: str) -> str:
    if len(text) >= 2 and text[0] == ESCAPE and (text[1] in FORMULA_TRIGGERS or text[1] == ESCAPE):
        return text[1:]
    return text


def _inner_needs(segment: str) -> bool:
    """Whether a part of a text after a separator would start a formula if split there."""
    # no exemption for numbers: split by another reader, "-5" runs on into the next field
    return segment.lstrip(" ")[:1] in _INNER_TRIGGERS


def _neutralise_inner(text: str) -> str:
    parts = _SEPARATORS.split(text)
    # parts: text, separator, text, separator, ...; the first text is the cell's start
    for i in range(2, len(parts), 2):
        part = parts[i]
        if part.startswith(ESCAPE) or _inner_needs(part):
            parts[i] = ESCAPE + part
    return "".join(parts)


def _restore_inner(text: str) -> str:
    parts = _SEPARATORS.split(text)
    for i in range(2, len(parts), 2):
        part = parts[i]
        rest = part[1:]
        if part.startswith(ESCAPE) and (rest.startswith(ESCAPE) or _inner_needs(rest)):
            parts[i] = rest
    return "".join(parts)


def neutralise(text: str, *, phone: bool = False) -> str:
    """Return a CSV cell's text so that no spreadsheet runs it as a formula.

    Also the parts of the text after a separator (``,``, ``;``, tab, line break):
    a file written with ";" and opened with "," splits a cell there, quoted or not
    (a lenient reader keeps reading past a closing quote), and ``Injz,=HYPERLINK(A1),``
    would give a cell ``=HYPERLINK(A1)``. Such a part gets an apostrophe too.
    """
    if not text:
        return text
    if _HAS_SEPARATOR.search(text):
        text = _neutralise_inner(text)
    return _neutralise_start(text, phone)


def restore(text: str) -> str:
    """Undo ``neutralise``: remove the apostrophes it added, and only those."""
    text = _restore_start(text)
    if _HAS_SEPARATOR.search(text):
        text = _restore_inner(text)
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
    quote_all: bool = True,
    bom: bool = True,
    phone_columns: Collection[int] = (),
    formats: Sequence[str] | None = None,
    batch: int = 500,
) -> Iterator[bytes]:
    """Yield a CSV file in UTF-8 pieces, a few hundred rows at a time (for streaming).

    Every field is quoted (RFC 4180, ASVS 1.2.10) unless ``quote_all`` is False.

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
    separator = _HAS_SEPARATOR.search
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
                if value and (value[0] in triggers or separator(value)):
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
    # nor may it start or end with an apostrophe
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip().strip("'").strip() or "Sheet"
    return cleaned[:31]


#: characters an XML 1.0 document cannot hold (as openpyxl's ILLEGAL_CHARACTERS_RE)
_ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Excel's serial number of a date is its ordinal minus this (from 1 March 1900 on)
_EXCEL_EPOCH_ORDINAL = date(1899, 12, 30).toordinal()
_FIRST_SERIAL_DAY = date(1900, 3, 1)


def _sheet_text(value: str) -> str:
    """Return a text as a workbook can hold it: no control characters, no lone CR."""
    if _ILLEGAL_CHARACTERS.search(value):
        value = _ILLEGAL_CHARACTERS.sub("", value)
    if "\r" in value:
        # XML reads a carriage return as a line feed: write what every reader will see
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def write_xlsx(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    hxl: Sequence[str] | None = None,
    sheet_title: str = "export",
    date_columns: Collection[int] = (),
) -> bytes:
    """Return an XLSX workbook of one sheet; see ``save_xlsx``."""
    out = io.BytesIO()
    save_xlsx(out, header, rows, hxl=hxl, sheet_title=sheet_title, date_columns=date_columns)
    return out.getvalue()


def save_xlsx(
    out: str | Path | IO[bytes],
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    hxl: Sequence[str] | None = None,
    sheet_title: str = "export",
    date_columns: Collection[int] = (),
    tmpdir: str | Path | None = None,
) -> int:
    """Write an XLSX workbook of one sheet to ``out``: bold frozen header, sized columns.

    Every text cell is an inert string. In ``date_columns``, ISO dates become
    real dates shown as YYYY-MM-DD (other text, such as a year alone, stays text).
    Rows stream: each is written to a temporary file as soon as the next one
    starts (XlsxWriter's constant_memory mode), so memory stays flat however
    many there are. Return the number of rows written under the header.
    """
    from xlsxwriter import Workbook

    options: dict[str, Any] = {"constant_memory": True}
    if tmpdir is not None:
        options["tmpdir"] = str(tmpdir)
    workbook = Workbook(out, options)
    try:
        workbook.set_properties({"author": "tracker"})
        sheet = workbook.add_worksheet(safe_sheet_title(sheet_title))
        dates = frozenset(date_columns)
        iterator = iter(rows)
        sample = list(islice(iterator, WIDTH_SAMPLE))

        for index, name in enumerate(header):
            widest = max(
                [len(name), len(hxl[index]) if hxl else 0]
                + [_width(row[index]) for row in sample if index < len(row)]
            )
            sheet.set_column(index, index, min(max(widest + 2, MIN_WIDTH), MAX_WIDTH))
        header_rows = 2 if hxl is not None else 1
        sheet.freeze_panes(header_rows, 0)
        if hxl is None and header:
            sheet.autofilter(0, 0, 0, len(header) - 1)
            # always a range, also of one column ("A1:A1", as openpyxl wrote it; XlsxWriter
            # would write "A1"): readers that expect a range keep finding one
            sheet.autofilter_ref = f"A1:{_column_letter(len(header) - 1)}1"

        bold = workbook.add_format({"bold": True})
        for index, name in enumerate(header):
            sheet.write_string(0, index, _sheet_text(name), bold)
        if hxl is not None:
            tag_format = workbook.add_format({"italic": True, "font_color": "#555555"})
            for index, tag in enumerate(hxl):
                sheet.write_string(1, index, _sheet_text(tag), tag_format)
        day_format = workbook.add_format({"num_format": DATE_FORMAT})

        write_string, write_number = sheet.write_string, sheet.write_number
        illegal = _ILLEGAL_CHARACTERS
        number = header_rows - 1
        for number, row in enumerate(chain(sample, iterator), start=header_rows):
            # one test per row for characters a workbook cannot hold, not one per cell
            texts = [value for value in row if isinstance(value, str)]
            clean = not illegal.search("".join(texts)) and not any("\r" in t for t in texts)
            for index, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, str):
                    if index in dates and len(value) == 10:
                        try:
                            day = date.fromisoformat(value)
                        except ValueError:
                            pass
                        else:
                            _write_date(sheet, number, index, day, day_format)
                            continue
                    write_string(number, index, value if clean else _sheet_text(value))
                elif isinstance(value, bool):
                    write_string(number, index, "yes" if value else "no")
                elif isinstance(value, date):
                    _write_date(sheet, number, index, value, day_format)
                else:
                    write_number(number, index, value)  # int, float, Decimal
    finally:
        workbook.close()
    return number - header_rows + 1


def _column_letter(index: int) -> str:
    """Return the letters of the column at zero-based ``index`` (0 is A, 26 is AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _write_date(sheet: Any, row: int, column: int, value: date, day_format: Any) -> None:
    if value.__class__ is date and value >= _FIRST_SERIAL_DAY:
        # what write_datetime writes, without its conversions
        sheet.write_number(row, column, value.toordinal() - _EXCEL_EPOCH_ORDINAL, day_format)
    else:
        sheet.write_datetime(row, column, value, day_format)
