"""The error every service raises when a business rule refuses a change, and archiving."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, true


class DomainError(ValueError):
    """A change that breaks a rule; ``field`` names the input at fault, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StillReferenced(DomainError):
    """A deletion refused because other records refer to the record; ``reasons`` say which.

    Such a record can be archived instead: it leaves the pick lists and keeps counting.
    """

    def __init__(self, message: str, reasons: list[str]) -> None:
        super().__init__(message)
        self.reasons = reasons


ARCHIVED_CHOICES = ("include", "only")


def archived_filter(column, choice: str | None) -> ColumnElement[bool]:
    """Return the condition on ``archived_at`` for a list's filter.

    ``None`` or "" (the default lists): not archived; ``include``: every record;
    ``only``: the archived ones.
    """
    if choice == "include":
        return true()
    if choice == "only":
        return column.is_not(None)
    return column.is_(None)


def delete_unless_referenced(record: Any, reasons: list[str], refused: str) -> None:
    """Delete ``record`` when ``reasons`` (what refers to it) is empty; flush only.

    Otherwise raise ``StillReferenced`` with ``refused`` ("… cannot be deleted: archive
    it instead.") followed by the reasons.
    """
    from tracker.extensions import db

    if reasons:
        raise StillReferenced(refused + " " + " ".join(reasons), reasons)
    db.session.delete(record)
    db.session.flush()


def set_archived(record: Any, archived: bool) -> None:
    """Archive ``record`` (out of the pick lists and default lists; it keeps counting) or
    bring it back; nothing changes when it already is as asked. Flush only."""
    from tracker.extensions import db
    from tracker.models import now_utc

    if archived == (record.archived_at is not None):
        return
    record.archived_at = now_utc() if archived else None
    db.session.flush()
