"""An XLSX file's archive, checked before openpyxl opens it.

Everything here reads the ZIP's own metadata, or a part's bytes a chunk at a time,
so that a hostile file is refused before it is expanded: too many parts, macros, a
part or the whole beyond its cap or its compression ratio (bombs), shared strings
beyond what a file of the row limit needs (their bytes, then their number), a sheet
holding formulas or cells beyond column ``MAX_COLUMNS``.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from flask_babel import gettext as _

from tracker.imports.limits import FileRefused, too_wide

#: an XLSX may not expand beyond this, nor any part beyond RATIO times its packed size
MAX_UNPACKED = 200 * 1024 * 1024
MAX_RATIO = 200
MAX_PARTS = 200
#: the text of a workbook's cells, unpacked, and how many texts it lists. Our export of
#: 50,000 participants (the row limit, 17 columns) saved by Excel's rules (XlsxWriter)
#: keeps 122,299 texts in 3.9 MB; 850,000 cells could not hold more than 850,000. Each
#: text costs Python about 60 bytes more than its characters: 1,000,000 of them 100 MB.
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024
MAX_SHARED_STRINGS = 1_000_000
#: any other part, the sheet included, unpacked: that export is a 44 MB sheet (text in
#: the cells, as XlsxWriter streams it), 28 MB once Excel moves the text out
MAX_SHEET_BYTES = 96 * 1024 * 1024
#: [Content_Types].xml, read before the rest to find the shared strings (about 1 KB)
MAX_MANIFEST_BYTES = 1024 * 1024
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
#: the place of a cell beyond column MAX_COLUMNS (GR), as its "r" attribute writes it; a
#: literal start, so the scan runs at the speed of a search for the text
_WIDE_PLACE = re.compile(rb'r="(?:G[S-Z]|[H-Z][A-Z]|[A-Z]{3})([0-9]+)"')
_CELL_TAG = re.compile(rb"<(?:\w+:)?c\s")
#: a shared string written with a namespace prefix (no writer does; counted all the same)
_PREFIXED_STRING_TAG = re.compile(rb"<\w+:si[\s>/]")


def check_zip(data: bytes) -> zipfile.ZipFile:
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
    # the sizes in the ZIP are those zipfile (and openpyxl through it) will unpack, no more
    strings = _shared_strings_parts(archive)
    for part in parts:
        if part.filename in strings:
            if part.file_size > MAX_SHARED_STRINGS_BYTES:
                raise _too_much_text()
        elif part.file_size > MAX_SHEET_BYTES:
            raise FileRefused(
                _(
                    "This XLSX file is larger than %(mb)d MB once unpacked: split it into "
                    "smaller files.",
                    mb=MAX_SHEET_BYTES // (1024 * 1024),
                )
            )
    for name in strings:
        _count_shared_strings(archive, name)
    return archive


def _too_much_text() -> FileRefused:
    return FileRefused(
        _(
            "This XLSX file holds more text than %(mb)d MB: split it into smaller files.",
            mb=MAX_SHARED_STRINGS_BYTES // (1024 * 1024),
        )
    )


def _shared_strings_parts(archive: zipfile.ZipFile) -> set[str]:
    """Return the parts openpyxl reads as shared strings: those their declared type says.

    openpyxl finds the shared strings by [Content_Types].xml, whatever their name, so
    the cap follows that declaration (and the usual name, declared or not).
    """
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.xml.constants import ARC_CONTENT_TYPES, SHARED_STRINGS
    from openpyxl.xml.functions import fromstring

    parts = {"xl/sharedStrings.xml"}
    try:
        info = archive.getinfo(ARC_CONTENT_TYPES)
    except KeyError:
        return parts  # openpyxl refuses a workbook without it
    if info.file_size > MAX_MANIFEST_BYTES:
        raise FileRefused(_("This XLSX file is malformed."))
    try:
        manifest = Manifest.from_tree(fromstring(_read_part(archive, ARC_CONTENT_TYPES)))
    except FileRefused:
        raise
    except Exception:  # defusedxml's refusals, a broken XML, a manifest openpyxl refuses
        raise FileRefused(_("This XLSX file is malformed.")) from None
    parts.update(t.PartName[1:] for t in manifest.findall(SHARED_STRINGS) if t.PartName)
    return parts


def _read_part(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
        raise FileRefused(_("This XLSX file is malformed.")) from None


def _count_shared_strings(archive: zipfile.ZipFile, part: str) -> None:
    """Refuse more than MAX_SHARED_STRINGS texts, counted a chunk at a time before openpyxl
    turns each into a Python string (memory flat: the part is never held whole)."""
    if part not in archive.NameToInfo:
        return
    tail = b""
    count = 0
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(1024 * 1024):
                buffer = tail + chunk
                # the tags wholly in the tail were counted with the chunk before
                count += _string_tags(buffer) - _string_tags(tail)
                if count > MAX_SHARED_STRINGS:
                    raise FileRefused(
                        _(
                            "This XLSX file holds more than %(n)d different texts: split it "
                            "into smaller files.",
                            n=MAX_SHARED_STRINGS,
                        )
                    )
                tail = buffer[-256:]
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
        raise FileRefused(_("This XLSX file is malformed.")) from None


def first_sheet_part(archive: zipfile.ZipFile) -> str:
    sheets = sorted(
        n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)
    )
    if not sheets:
        raise FileRefused(_("This XLSX file has no sheet."))
    return sheets[0]


def _string_tags(data: bytes) -> int:
    """Count the shared strings that start in ``data``.

    No other element of the part starts with "si" and text holds no "<", so "<si" is
    one string; bytes.count is thirty times as fast as a regular expression.
    """
    count = data.count(b"<si")
    if b":si" in data:
        count += len(_PREFIXED_STRING_TAG.findall(data))
    return count


def _wide_row(buffer: bytes) -> int | None:
    """Return the row of a cell holding something beyond column MAX_COLUMNS, if any.

    A formatted empty cell, ``<c r="XFD5" s="1"/>`` (Excel) or ``<c r="XFD5" s="1"></c>``
    (openpyxl), holds nothing: only a cell with content counts. A place cut at the
    buffer's end is found again in the next one, whose start repeats this one's end.
    """
    for place in _WIDE_PLACE.finditer(buffer):
        start = buffer.rfind(b"<", 0, place.start())
        end = buffer.find(b">", place.end())
        if start < 0 or end < 0 or end + 2 >= len(buffer) or b">" in buffer[start : place.start()]:
            continue  # cut at an edge, or text that reads like a place
        empty = buffer[end - 1 : end] == b"/" or buffer.startswith(b"</", end + 1)
        if _CELL_TAG.match(buffer, start) and not empty:
            return int(place.group(1))
    return None


def has_formula(archive: zipfile.ZipFile, part: str) -> bool:
    """Scan a sheet's XML for formula elements, a chunk at a time; refuse a damaged part.

    The same pass refuses a row holding a cell beyond the column limit (openpyxl would
    parse the whole row, then give only the columns asked for).
    """
    tail = b""
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(1024 * 1024):
                buffer = tail + chunk
                if _FORMULA_TAG.search(buffer):
                    return True
                if (wide := _wide_row(buffer)) is not None:
                    raise too_wide(wide)
                tail = buffer[-256:]
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
        # a damaged header or data, an unknown compression, a password: nothing to read
        raise FileRefused(_("This XLSX file is malformed.")) from None
    return False
