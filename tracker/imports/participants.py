"""Participant rows: the rules of registration, duplicates, and bulk inserts.

A row is checked against the same rules as the registration form
(``tracker.participants.rules``); its code must be free and not given twice; a form
submission imported before is skipped. Rows that may be someone already registered,
or a row above, are flagged by the one duplicate rule (a warning, not an error): they
are left out of the writing unless the person ticks them in.
The rows are then written in bulk, with their consents and audit lines
(``tracker.participants.records``): 10,000 rows in about a second.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from tracker import columns
from tracker.extensions import db
from tracker.imports import lookups
from tracker.imports.header import KOBO_UUID
from tracker.imports.report import (
    Context,
    Problem,
    Report,
    Row,
    cell_text,
    fail,
    field_column,
    flag,
)
from tracker.models import Participant, Project, now_utc
from tracker.participants import duplicates, records, rules
from tracker.permissions import sees_all_projects


def check_participants(ctx: Context, rows: list[Row], report: Report) -> list[Row]:
    """Check the rules of registration; flag likely duplicates; return the rows to write."""
    projects = lookups.projects(ctx, rows, report)
    for row in rows:
        v = row.values
        v["project"] = projects.get(v.get("project_code"))
        if v["project"] is not None and v["project"].closed:
            fail(
                report,
                row,
                "project_code",
                _(
                    "the project %(code)s is closed: nobody is registered into it",
                    code=v["project"].code,
                ),
            )
        _check_registration(ctx, row, report)
    _check_numbering(ctx, rows, report)
    # codes: unique in the file and not taken
    given_codes = [r.values["code"] for r in rows if r.values.get("code")]
    taken = set()
    for chunk in lookups.chunks(sorted(set(given_codes))):
        taken.update(
            db.session.scalars(select(Participant.code).where(Participant.code.in_(chunk)))
        )
    uuids = [r.values["external_id"] for r in rows if r.values.get("external_id")]
    imported = set()
    for chunk in lookups.chunks(sorted(set(uuids))):
        imported.update(
            db.session.scalars(
                select(Participant.external_id).where(Participant.external_id.in_(chunk))
            )
        )
    first_with: dict[tuple[str, str], int] = {}
    to_write = []
    skipped = set()
    for row in rows:
        v = row.values
        uuid = v.get("external_id")
        if uuid and (uuid in imported or ("uuid", uuid) in first_with):
            report.skipped += 1
            skipped.add(row.number)
            report.warnings.append(
                Problem(
                    row.number,
                    KOBO_UUID,
                    _("already imported (same form submission): skipped"),
                    cell_text(uuid),
                )
            )
            row.ok = False
            continue
        if uuid:
            first_with[("uuid", uuid)] = row.number
        code = v.get("code")
        if code:
            if code in taken:
                fail(report, row, "code", _("the code %(code)s is already taken", code=code))
            elif ("code", code) in first_with:
                fail(
                    report,
                    row,
                    "code",
                    _(
                        "the code %(code)s is also on row %(row)d",
                        code=code,
                        row=first_with[("code", code)],
                    ),
                )
            else:
                first_with[("code", code)] = row.number
        if row.ok:
            to_write.append(row)
    if skipped:
        # a submission imported already is skipped whatever its cells say: its problems
        # would refuse the file for a row that is not imported, and count it twice
        report.errors = [p for p in report.errors if p.row not in skipped]
    report.valid = len(to_write)
    if to_write:
        _flag_duplicates(ctx, to_write, report)
    return to_write


def _check_numbering(ctx: Context, rows: list[Row], report: Report) -> None:
    """Refuse, for someone who sees only some projects, a code outside her row's project.

    Codes are unique across projects: were any code accepted, "already taken" would tell
    her that a code of a project she does not see exists (issue 17). In her project's own
    numbering (its code, a dash, a number: as codes are generated) the answer is hers to
    know; any other code is refused with the same words, whoever holds it. A row whose
    project is refused has its code left unchecked (and unlooked-up) too.
    """
    if ctx.user is None or sees_all_projects(ctx.user):
        return  # an administrator sees every project: any code (an earlier system's)
    for row in rows:
        code = row.values.get("code")
        if not code or "code" in row.failed:
            continue
        project = row.values.get("project")
        if project is None or "project_code" in row.failed:
            row.values["code"] = None  # nothing to say about it: the row is refused
            continue
        prefix = f"{project.code}-"
        number = code.removeprefix(prefix)
        if number == code or not _DIGITS.fullmatch(number):
            fail(
                report,
                row,
                "code",
                _(
                    "a code given in the file is the project's code, a dash and a number "
                    "(%(example)s): leave the cell blank and one is given",
                    example=prefix + "0001",
                ),
            )
            row.values["code"] = None


_DIGITS = re.compile(r"[0-9]+")


def _person_values(values: dict[str, Any]) -> dict[str, Any]:
    """Return the row's values as a participant's fields: a year alone is a birth year."""
    birth = values.get("date_of_birth")
    return {
        **values,
        "date_of_birth": birth if isinstance(birth, date) else None,
        "birth_year": birth if isinstance(birth, int) else None,
    }


_COLUMN_ORDER = {column.name: i for i, column in enumerate(columns.PARTICIPANTS.columns)}


def _check_registration(ctx: Context, row: Row, report: Report) -> None:
    """Report what the rules of registration refuse in the row, each on its column.

    A cell that could not be read is not checked again: its problem is already told.
    """
    v = row.values
    values = {
        **_person_values(v),
        # "no" in consent_given is no consent, whatever the consent date says
        "consent_on": None if v.get("consent_given") is False else v.get("consent_date"),
    }
    found = []
    for problem in rules.registration_problems(values, ctx.today):
        if problem.field == "consent_on" and v.get("consent_given") is False:
            column = "consent_given"
        else:
            column = field_column(problem.field)
        if column not in row.failed:
            found.append((column, problem.message))
    # in the order of the columns, as the problems found while reading the row
    for column, message in sorted(found, key=lambda item: _COLUMN_ORDER.get(item[0], 0)):
        fail(report, row, column, message)


def _flag_duplicates(ctx: Context, rows: list[Row], report: Report) -> None:
    """Flag rows that may be someone already registered or a row above (the one rule)."""
    index = duplicates.Index()
    for known in duplicates.register(ctx.scoped_project_ids()):
        index.add(known)
    words = duplicates.reason_words()
    for row in rows:
        person = duplicates.Known.of(row.values, label=_("row %(n)d", n=row.number))
        for other, match in index.matches(person, words, limit=3):
            flag(
                report,
                row,
                None,
                _("may be the same person as %(who)s (%(why)s)", who=other.label, why=match.why),
            )
        index.add(person)


def write_participants(ctx: Context, rows: list[Row], report: Report, import_event: int) -> None:
    """Insert the participants, their consents and their audit lines in bulk."""
    # a generated code must not be one that a later row of the file gives explicitly
    given = {row.values["code"] for row in rows if row.values.get("code")}
    codes: dict[int, Iterator[str]] = {}
    stamp = now_utc()
    people = []
    for row in rows:
        v = row.values
        project: Project = v["project"]
        code = v.get("code")
        if not code:
            if project.id not in codes:
                codes[project.id] = records.free_codes(project, given)
            code = next(codes[project.id])
        row_values = records.participant_row(
            _person_values(v),
            project_id=project.id,
            code=code,
            registered_on=v["registered_on"],
            registered_by_id=ctx.user.id if ctx.user else None,
            external_id=v.get("external_id"),
            stamp=stamp,
        )
        people.append((row_values, v["consent_date"]))
        report.codes.append(code)
    done = 0
    for chunk in lookups.chunks(people, 2000):
        records.insert_people(chunk, audit_extra={"import": [None, import_event]})
        done += len(chunk)
        if ctx.progress:
            ctx.progress(done, len(people))
    report.written = len(people)
