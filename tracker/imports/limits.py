"""What a sheet may hold, and the refusal of a file that cannot be imported at all.

Shared by the reading of CSV text (``reader``) and the checks of an XLSX archive
before openpyxl opens it (``workbook``).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

MAX_COLUMNS = 200
#: the longest cell: Excel's own limit (a CSV field may be longer; no name or note is)
MAX_CELL_CHARS = 32_767


class FileRefused(ValueError):
    """The file cannot be imported at all (wrong kind, too big, hostile)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_columns(count: int) -> None:
    if count > MAX_COLUMNS:
        raise FileRefused(_("The file has more than %(n)d columns.", n=MAX_COLUMNS))


def check_row(number: int, cells: list[Any] | tuple[Any, ...]) -> None:
    """Refuse a row wider than the column limit, or with a cell longer than a cell can be."""
    if len(cells) > MAX_COLUMNS:
        raise too_wide(number)
    if any(isinstance(c, str) and len(c) > MAX_CELL_CHARS for c in cells):
        raise cell_too_long(number)


def too_wide(number: int) -> FileRefused:
    return FileRefused(
        _(
            "Row %(row)d has more than %(n)d cells: check its separators, or split the file.",
            row=number,
            n=MAX_COLUMNS,
        )
    )


def cell_too_long(number: int) -> FileRefused:
    return FileRefused(
        _(
            "Row %(row)d has a cell longer than %(n)d characters: no name or note is that "
            "long; check its quotes.",
            row=number,
            n=MAX_CELL_CHARS,
        )
    )
