"""Reading a sheet as an import: which column is where, and the value of every cell.

The header is matched with the export columns of ``tracker.columns``: KoboToolbox
group prefixes such as ``participant/given_name`` are dropped, its ``_uuid`` kept,
the other metadata of form tools ignored. Each cell is read by ``tracker.imports.cells``
within the limits of its column; a cell that cannot be read is reported on its row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from flask_babel import gettext as _

from tracker.columns import (
    BOOLEAN,
    CHOICE,
    CODE,
    COUNTRY,
    DATE,
    DECIMAL,
    EMAIL,
    INTEGER,
    PHONE,
    Column,
    Table,
)
from tracker.i18n import country_name
from tracker.imports import cells
from tracker.imports.cells import CellError
from tracker.imports.reader import Sheet
from tracker.imports.report import Context, Problem, Report, Row, cell_text, fail
from tracker.models import Sex, User
from tracker.permissions import (
    can_import,
    can_manage_activities,
    can_manage_courses,
    can_manage_partners,
)

#: what an import reads, one table of ``tracker.columns`` each
KINDS = (
    "participants",
    "enrolments",
    "placements",
    "followups",
    "partners",
    "courses",
    "activities",
    "attendance",
)
#: who may import each kind: whoever may record such records on their pages
_MAY_IMPORT = {
    "partners": can_manage_partners,
    "courses": can_manage_courses,
    "activities": can_manage_activities,
    "attendance": can_manage_activities,
}


def may_import(user: User | None, kind: str) -> bool:
    """Say whether ``user`` (None: a command on the server) may import ``kind``."""
    return user is None or _MAY_IMPORT.get(kind, can_import)(user)


def kinds_for(user: User) -> list[str]:
    """Return the kinds ``user`` may import, in the order of KINDS."""
    return [kind for kind in KINDS if may_import(user, kind)]


#: the header of KoboToolbox's submission id, kept so a re-import creates nobody twice
KOBO_UUID = "_uuid"
#: other headers that form tools add and the import ignores without a word
FORM_METADATA = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "username",
        "phonenumber",
        "simserial",
        "subscriberid",
        "audit",
        "instancename",
        "key",
        "submissiondate",
        "submitterid",
        "submittername",
        "attachmentspresent",
        "attachmentsexpected",
        "status",
        "reviewstate",
        "edits",
        "formversion",
    }
)
#: longest text each text column may hold (the database's limits)
MAX_LENGTH = {
    "code": 32,
    "participant_code": 32,
    "project_code": 32,
    "given_name": 120,
    "family_name": 120,
    "other_name": 240,
    "region": 120,
    "city": 120,
    "languages": 200,
    "course_title": 300,  # as TrainingCourse.title: a longer limit refused titles it holds
    "employer": 300,
    "business_name": 200,
    "sector": 120,
    "referral_partner": 300,
    "note": 2000,
    # courses, partners, activities and attendance
    "title": 300,
    "provider": 300,
    "name": 300,
    "acronym": 40,
    "contact_name": 200,
    "topic": 200,
    "description": 5000,
    "activity_title": 300,
    "partner": 300,
}
#: the most people a count of attendees holds (as the activity forms)
MAX_PEOPLE = 100_000
#: the lowest and highest whole numbers each integer column accepts
INT_RANGE = {
    "attendance_pct": (0, 100),
    "months_after": (1, 60),
    "hours": (1, MAX_PEOPLE),
    "capacity": (1, MAX_PEOPLE),
    "other_women": (0, MAX_PEOPLE),
    "other_men": (0, MAX_PEOPLE),
    "staff_count": (0, MAX_PEOPLE),
}
SAMPLE_ROWS = 5


# --- Header -------------------------------------------------------------------------


def header_key(name: str) -> str:
    """Return the column a header names: last part after "/", lower case, no spaces."""
    key = name.strip().rsplit("/", 1)[-1].strip().lower().replace(" ", "_").replace("-", "_")
    if key == "instanceid":
        return KOBO_UUID
    return key


def map_header(
    table: Table, header: Sequence[str], report: Report, *, has_project: bool
) -> dict[str, int]:
    """Return column name -> position; record missing, repeated and unknown columns."""
    known = {c.name for c in table.columns}
    positions: dict[str, int] = {}
    unknown = []
    for position, name in enumerate(header):
        key = header_key(name)
        if not key:
            continue
        if key in positions:
            report.errors.append(Problem(None, name, _("this column appears twice; keep only one")))
            continue
        if key in known or (key == KOBO_UUID and table.key == "participants"):
            positions[key] = position
        elif key.startswith("_") or key in FORM_METADATA or name.strip().startswith("meta/"):
            continue
        else:
            unknown.append(name.strip())
    for column in table.columns:
        optional = column.name == "project_code" and has_project
        if column.required and column.name not in positions and not optional:
            report.errors.append(Problem(None, column.name, _("this required column is missing")))
    if unknown:
        report.warnings.append(
            Problem(
                None,
                None,
                _("Columns ignored (not import columns): %(names)s", names=", ".join(unknown)),
            )
        )
    report.columns = [c.name for c in table.columns if c.name in positions]
    return positions


# --- Cells --------------------------------------------------------------------------


def read_cell(column: Column, value: Any) -> Any:
    """Return the stored value of one cell, or raise CellError."""
    if column.kind == DATE:
        return cells.parse_date(value, year_only=column.name == "date_of_birth")
    if column.kind == BOOLEAN:
        return cells.parse_bool(value)
    if column.kind == CHOICE:
        if column.choices is Sex:
            return cells.parse_sex(value)
        return cells.parse_choice(value, column.choices)
    if column.kind == COUNTRY:
        return cells.parse_country(value)
    if column.kind == EMAIL:
        return cells.parse_email(value)
    if column.kind == PHONE:
        return cells.parse_phone(value)
    if column.kind == INTEGER:
        low, high = INT_RANGE.get(column.name, (0, 1_000_000))
        return cells.parse_int(value, low=low, high=high)
    if column.kind == DECIMAL:
        return cells.parse_decimal(value)
    length = MAX_LENGTH.get(column.name, 32 if column.kind == CODE else 500)
    return cells.text(value, max_length=length)


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


#: rows read between two progress reports
PROGRESS_EVERY = 1000


def read_rows(
    table: Table, sheet: Sheet, positions: dict[str, int], report: Report, ctx: Context
) -> list[Row]:
    """Read every cell of every row; record the problems; return the rows."""
    # what the reader noticed about the whole file (how it was decoded): points to check
    report.warnings.extend(Problem(None, None, note) for note in sheet.notes)
    rows = []
    loose: dict[tuple[str, str], list[Row]] = {}
    for number, raw_cells in sheet.rows:
        raw = {
            name: raw_cells[position] if position < len(raw_cells) else None
            for name, position in positions.items()
        }
        row = Row(number, {}, raw)
        for name in positions:
            if name == KOBO_UUID:
                try:
                    uuid = cells.text(raw[name], max_length=64)
                except CellError as error:
                    fail(report, row, name, error.message)
                    continue
                row.values["external_id"] = uuid.removeprefix("uuid:") if uuid else None
                continue
            column = table.column(name)
            try:
                row.values[name] = read_cell(column, raw[name])
            except CellError as error:
                fail(report, row, name, error.message)
                continue
            if column.kind == COUNTRY and row.values[name] is not None:
                _note_loose_country(loose, row, name)
        for name, position in positions.items():
            if position in sheet.undecodable.get(number, ()) and name not in row.failed:
                # "\ufffd" stands for bytes in another encoding: never stored as if typed
                fail(
                    report,
                    row,
                    name,
                    _("holds characters that are not UTF-8 (shown as �): retype them"),
                )
        for column in table.columns:
            if column.name == "project_code" and ctx.default_project is not None:
                if row.values.get("project_code") in (None, ctx.default_project.code):
                    row.values["project_code"] = ctx.default_project.code
                    continue
                fail(
                    report,
                    row,
                    "project_code",
                    _(
                        "is %(code)s, but the import is into project %(project)s",
                        code=row.values["project_code"],
                        project=ctx.default_project.code,
                    ),
                )
                continue
            missing = column.name in positions and row.values.get(column.name) is None
            if column.required and missing and column.name not in row.failed:
                fail(report, row, column.name, _("is missing"))
        if len(report.sample) < SAMPLE_ROWS:
            report.sample.append({name: _show(row.values.get(name)) for name in report.columns})
        rows.append(row)
        if ctx.progress and len(rows) % PROGRESS_EVERY == 0:
            ctx.progress(len(rows), len(sheet.rows))
    report.rows = len(rows)
    _warn_loose_countries(loose, report)
    return rows


#: rows named in one warning about a country read loosely
LISTED_ROWS = 10


def _note_loose_country(loose: dict[tuple[str, str], list[Row]], row: Row, name: str) -> None:
    """Keep the row if its country was read from a name other countries' names hold too."""
    text = str(row.raw[name]).strip()
    if cells.other_countries(text):
        loose.setdefault((name, text), []).append(row)


def _warn_loose_countries(loose: dict[tuple[str, str], list[Row]], report: Report) -> None:
    """One point to check per country name read loosely: what it was read as, and on which rows."""
    for (name, text), rows in loose.items():
        alpha3 = rows[0].values[name]
        others = ", ".join(f"{country_name(code)} ({code})" for code in cells.other_countries(text))
        message = _(
            "read as %(country)s (%(code)s); the name also fits %(others)s: check that it is meant",
            country=country_name(alpha3),
            code=alpha3,
            others=others,
        )
        if len(rows) > 1:
            numbers = ", ".join(str(r.number) for r in rows[:LISTED_ROWS])
            if len(rows) > LISTED_ROWS:
                numbers += ", …"
            message += " " + _("(%(num)d rows: %(rows)s)", num=len(rows), rows=numbers)
        report.warnings.append(Problem(rows[0].number, name, message, cell_text(text)))
