"""Turning an uploaded file into a header and rows, refusing what is not a plain sheet.

Accepted: CSV in UTF-8 (with or without the byte-order mark Excel adds), cells
separated by ``;`` or ``,``; and XLSX, first sheet. A CSV file that is not UTF-8 is
read as Windows-1252 (what French Excel writes), with a point to check on the
preview; a UTF-8 file with a few bytes that are not (a name pasted from an older
file) stays UTF-8, and the cells holding those bytes are refused by row. The
file's content decides, not its name: a PDF, an image or an archive is named for
what it is. Refused before anything is parsed: files over the size limit, XLSX
whose ZIP would expand too much (compression bombs: in all, per part, and the
shared strings and sheet parts each capped at what a file of the row limit
needs), with macros, or with too many parts; then, while reading, sheets over
the row limit, rows over the column limit or with a cell longer than a
spreadsheet cell can be, and XLSX cells holding formulas (a formula is never
evaluated: the file must be saved with values). XML is parsed by defusedxml
(openpyxl uses it when installed), so entity bombs are refused too.

The checks of an XLSX archive before openpyxl opens it are in ``workbook``; the caps
on a sheet's width and cells, and ``FileRefused``, in ``limits``.

Row numbers are those a spreadsheet shows: the header is row 1. An optional
second row of HXL hashtags (as exports write it) is skipped; blank rows are
skipped but keep their numbers.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from tracker.imports.limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    FileRefused,
    cell_too_long,
    check_columns,
    check_row,
    too_wide,
)
from tracker.imports.workbook import (
    MAX_RATIO,
    MAX_SHARED_STRINGS,
    MAX_SHARED_STRINGS_BYTES,
    MAX_SHEET_BYTES,
    check_zip,
    first_sheet_part,
    has_formula,
)
from tracker.reports.spreadsheets import restore

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_RATIO",
    "MAX_SHARED_STRINGS",
    "MAX_SHARED_STRINGS_BYTES",
    "MAX_SHEET_BYTES",
    "FileRefused",
    "Sheet",
    "read",
    "sniff",
]

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
#: how the start of a file shows what it is, for those uploaded by mistake
_MAGIC = (
    (b"%PDF-", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"\x1f\x8b", "GZIP"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
    (b"Rar!\x1a\x07", "RAR"),
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: C0 controls but tab, line feed and carriage return, and DEL: text a sheet does not hold
_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: a valid UTF-8 sequence of two bytes or more (RFC 3629)
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
#: a byte that is not UTF-8, as ``surrogateescape`` decodes it
_ESCAPED = re.compile("[\udc80-\udcff]")
#: how the text of a CSV file was decoded
UTF8, UTF8_DAMAGED, CP1252 = "utf-8", "utf-8 with bytes that are not", "cp1252"


@dataclass
class Sheet:
    """The header of a file and its rows, each with the number a spreadsheet shows."""

    header: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    format: str = "csv"
    #: what the preview should point out about the whole file (how it was decoded)
    notes: list[str] = field(default_factory=list)
    #: row number -> positions of its cells that held bytes that are not UTF-8 (now "\ufffd")
    undecodable: dict[int, set[int]] = field(default_factory=dict)


def read(data: bytes, *, max_rows: int) -> Sheet:
    """Return the sheet in ``data`` (CSV or XLSX), or raise ``FileRefused``."""
    sniff(data)
    if data.startswith(XLSX_MAGIC):
        sheet = _read_xlsx(data, max_rows=max_rows)
    else:
        sheet = _read_csv(data, max_rows=max_rows)
    if not any(sheet.header):
        raise FileRefused(_("The first row must hold the column names."))
    return sheet


def sniff(data: bytes) -> None:
    """Refuse at once what cannot be a CSV or XLSX file; ``read`` checks the rest, at length.

    Cheap enough for the upload's request (a few milliseconds for the largest file),
    so that a PDF or an old Excel file is turned away on the form, not by a job.
    """
    if not data.strip():
        raise FileRefused(_("The file is empty."))
    if data.startswith(XLSX_MAGIC):
        return
    if data.startswith(OLE_MAGIC):
        raise FileRefused(
            _("This is an old Excel file (.xls): save it as .xlsx or CSV and upload it again.")
        )
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise FileRefused(
                _(
                    "This is a %(kind)s file, not a sheet: save the sheet as CSV or XLSX and "
                    "upload it again.",
                    kind=kind,
                )
            )
    if data.startswith(_UTF16_BOMS):
        raise FileRefused(
            _(
                'This is a UTF-16 file (Excel\'s "Unicode text"): save the sheet as '
                '"CSV UTF-8" and upload it again.'
            )
        )
    if b"\x00" in data:
        raise FileRefused(_("This file is neither CSV nor XLSX."))
    # the start of the text, cut at a line's end so that no character is cut in two
    start = data[: 1 << 16]
    if len(data) > len(start) and b"\n" in start:
        start = start[: start.rindex(b"\n")]
    # a stray escape in a cell is that cell's problem; one byte in a hundred is no text
    controls = len(_CONTROL_BYTES.findall(start))
    if controls >= 8 and controls * 100 > len(start):
        raise FileRefused(
            _("This file holds control characters, as binary files do: it is neither CSV nor XLSX.")
        )
    _decode(start)


def _decode(data: bytes) -> tuple[str, str]:
    """Return the text of a CSV file and how it was read (``UTF8``, ``UTF8_DAMAGED``, ``CP1252``).

    A file that is not valid UTF-8 is told apart by its multi-byte sequences: when valid
    UTF-8 sequences outnumber the bytes that are not, it is UTF-8 with a few bad bytes
    (a name pasted from an older file) and those bytes are kept as ``surrogateescape``
    characters for ``_read_csv`` to find; otherwise it is Windows-1252, which Excel
    writes in French, and every accent depends on that guess.
    """
    if b"\x00" in data:
        raise FileRefused(_("This file is neither CSV nor XLSX."))
    try:
        return data.decode("utf-8-sig"), UTF8
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8-sig", "surrogateescape")
    bad = len(text) - len(_ESCAPED.sub("", text))
    for valid, _sequence in enumerate(_UTF8_SEQUENCE.finditer(data), start=1):
        if valid > bad:
            return text, UTF8_DAMAGED
    try:
        return data.decode("cp1252"), CP1252
    except UnicodeDecodeError:
        raise FileRefused(
            _("The file's characters cannot be read: save it as UTF-8 CSV.")
        ) from None


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(data: bytes, *, max_rows: int) -> Sheet:
    text, encoding = _decode(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    sheet = Sheet(header=[], format="csv")
    if encoding == CP1252:
        sheet.notes.append(
            _(
                "The file was read as Windows-1252 (Excel's French encoding), not UTF-8: "
                "check that accented names look right."
            )
        )
    # the row a spreadsheet would show: a cell over two lines is still one row
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            if number == 1:
                check_columns(len(row))
            check_row(number, row)
            if encoding == UTF8_DAMAGED:
                row = _mark_undecodable(sheet, number, row)
            if number == 1:
                sheet.header = [h.strip() for h in row]
            else:
                _add(sheet, number, [restore(c) for c in row], max_rows)
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            # the csv module's own limit (131,072 characters) is above MAX_CELL_CHARS
            raise cell_too_long(number + 1) from None
        raise FileRefused(
            _("Row %(row)d cannot be read as CSV: %(error)s", row=reader.line_num, error=error)
        ) from None
    return sheet


def _mark_undecodable(sheet: Sheet, number: int, row: list[str]) -> list[str]:
    """Note the cells holding bytes that are not UTF-8; show each such byte as "\ufffd"."""
    for position, cell in enumerate(row):
        if _ESCAPED.search(cell):
            row[position] = _ESCAPED.sub("\ufffd", cell)
            sheet.undecodable.setdefault(number, set()).add(position)
    return row


def _add(sheet: Sheet, number: int, cells: list[Any], max_rows: int) -> None:
    """Add a row, skipping blank rows and the HXL row; enforce the row limit as we go."""
    if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
        return
    if number == 2 and _is_hxl(cells):
        return
    if len(sheet.rows) >= max_rows:
        raise FileRefused(
            _(
                "The file has more than %(n)d rows: split it into smaller files.",
                n=max_rows,
            )
        )
    sheet.rows.append((number, cells))


def _is_hxl(cells: list[Any]) -> bool:
    filled = [c for c in cells if isinstance(c, str) and c.strip()]
    return bool(filled) and all(c.strip().startswith("#") for c in filled)


def _read_xlsx(data: bytes, *, max_rows: int) -> Sheet:
    from openpyxl import load_workbook

    archive = check_zip(data)
    if has_formula(archive, first_sheet_part(archive)):
        raise FileRefused(
            _(
                "The sheet contains formulas: copy the cells and paste them as values, "
                "then save and upload again."
            )
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise FileRefused(_("This XLSX file cannot be read: %(error)s", error=error)) from None
    try:
        worksheet = workbook.worksheets[0]
        rows = worksheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
        header_row = list(next(rows, ()))
        while header_row and header_row[-1] is None:
            header_row.pop()  # read-only sheets pad rows to the width asked for
        check_columns(len(header_row))
        check_row(1, header_row)
        sheet = Sheet(
            header=[str(h).strip() if h is not None else "" for h in header_row], format="xlsx"
        )
        width = len(sheet.header)
        # blank rows are skipped, but a sheet claiming far more rows than allowed is refused
        last_row = 2 * max_rows + 1000
        for number, row in enumerate(rows, start=2):
            if number > last_row:
                raise FileRefused(
                    _(
                        "The file has more than %(n)d rows: split it into smaller files.",
                        n=max_rows,
                    )
                )
            if len(row) > MAX_COLUMNS and row[MAX_COLUMNS] is not None:
                # a cell past the limit the scan did not see (written without its place)
                raise too_wide(number)
            cells = list(row[:width])
            check_row(number, cells)
            _add(sheet, number, cells, max_rows)
    except FileRefused:
        raise
    except Exception as error:
        raise FileRefused(_("This XLSX file cannot be read: %(error)s", error=error)) from None
    finally:
        workbook.close()
    return sheet
