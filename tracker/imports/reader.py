"""Turning an uploaded file into a header and rows, refusing what is not a plain sheet.

Accepted: CSV in UTF-8 (with or without the byte-order mark Excel adds; files
that are not UTF-8 are read as Windows-1252, what French Excel writes), cells
separated by ``;`` or ``,``; and XLSX, first sheet. The file's content decides,
not its name. Refused before anything is parsed: files over the size limit, XLSX
whose ZIP would expand too much (compression bombs), with macros, or with too
many parts; then, while reading, sheets over the row or column limit, and XLSX
cells holding formulas (a formula is never evaluated: the file must be saved
with values). XML is parsed by defusedxml (openpyxl uses it when installed), so
entity bombs are refused too.

Row numbers are those a spreadsheet shows: the header is row 1. An optional
second row of HXL hashtags (as exports write it) is skipped; blank rows are
skipped but keep their numbers.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from tracker.reports.spreadsheets import restore

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
#: an XLSX may not expand beyond this, nor any part beyond RATIO times its packed size
MAX_UNPACKED = 200 * 1024 * 1024
MAX_RATIO = 200
MAX_PARTS = 200
MAX_COLUMNS = 200
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


class FileRefused(ValueError):
    """The file cannot be imported at all (wrong kind, too big, hostile)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Sheet:
    """The header of a file and its rows, each with the number a spreadsheet shows."""

    header: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    format: str = "csv"


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
    if b"\x00" in data:
        raise FileRefused(_("This file is neither CSV nor XLSX."))
    # the start of the text, cut at a line's end so that no character is cut in two
    start = data[: 1 << 16]
    if len(data) > len(start) and b"\n" in start:
        start = start[: start.rindex(b"\n")]
    _decode(start)


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise FileRefused(_("This file is neither CSV nor XLSX."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise FileRefused(
                _("The file's characters cannot be read: save it as UTF-8 CSV.")
            ) from None


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(data: bytes, *, max_rows: int) -> Sheet:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader, [])
        sheet = Sheet(header=[h.strip() for h in header], format="csv")
        _check_columns(len(header))
        for number, row in enumerate(reader, start=2):
            cells = [restore(c) for c in row]
            _add(sheet, number, cells, max_rows)
    except csv.Error as error:
        raise FileRefused(
            _("Row %(row)d cannot be read as CSV: %(error)s", row=reader.line_num, error=error)
        ) from None
    return sheet


def _check_columns(count: int) -> None:
    if count > MAX_COLUMNS:
        raise FileRefused(_("The file has more than %(n)d columns.", n=MAX_COLUMNS))


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


def _check_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        # NotImplementedError: a damaged header claiming a ZIP version from the future
        raise FileRefused(_("This file is neither CSV nor XLSX.")) from None
    names = {p.filename for p in parts}
    if "xl/workbook.xml" not in names:
        raise FileRefused(_("This file is neither CSV nor XLSX."))
    if len(parts) > MAX_PARTS:
        raise FileRefused(_("This XLSX file has too many parts to be a plain sheet."))
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise FileRefused(
            _("This workbook contains macros: save it as a plain .xlsx without macros.")
        )
    total = 0
    for part in parts:
        total += part.file_size
        packed = max(part.compress_size, 1)
        if part.filename.startswith("/") or ".." in part.filename:
            raise FileRefused(_("This XLSX file is malformed."))
        if part.file_size > 1024 * 1024 and part.file_size / packed > MAX_RATIO:
            raise FileRefused(_("This XLSX file expands too much to be read safely."))
    if total > MAX_UNPACKED:
        raise FileRefused(_("This XLSX file expands too much to be read safely."))
    return archive


def _first_sheet_part(archive: zipfile.ZipFile) -> str:
    sheets = sorted(
        n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)
    )
    if not sheets:
        raise FileRefused(_("This XLSX file has no sheet."))
    return sheets[0]


def _has_formula(archive: zipfile.ZipFile, part: str) -> bool:
    """Scan a sheet's XML for formula elements, a chunk at a time; refuse a damaged part."""
    tail = b""
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(1024 * 1024):
                if _FORMULA_TAG.search(tail + chunk):
                    return True
                tail = chunk[-16:]
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
        # a damaged header or data, an unknown compression, a password: nothing to read
        raise FileRefused(_("This XLSX file is malformed.")) from None
    return False


def _read_xlsx(data: bytes, *, max_rows: int) -> Sheet:
    from openpyxl import load_workbook

    archive = _check_zip(data)
    if _has_formula(archive, _first_sheet_part(archive)):
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
        _check_columns(len(header_row))
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
            _add(sheet, number, list(row[:width]), max_rows)
    except FileRefused:
        raise
    except Exception as error:
        raise FileRefused(_("This XLSX file cannot be read: %(error)s", error=error)) from None
    finally:
        workbook.close()
    return sheet
