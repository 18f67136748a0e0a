"""Courses, partners, activities and their attendance: the programme's own records.

Each row is recognised by what identifies its record on the forms: a course by its
project, title and start date; a partner by its name or its acronym (whatever the case
and accents); an activity by its project, title and date; an attendance by its activity
and partner. A row naming a record already recorded is skipped and said so (with the
columns whose values differ from the record's), so a file imported twice creates nothing
twice; the same record twice in one file is an error on the second row. The rows are then
written one at a time through the domain services, as the forms write them
(``others.write_each``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, tuple_

from tracker.activities.services import add_attendance, record_activity
from tracker.extensions import db
from tracker.imports import lookups
from tracker.imports.report import Context, Problem, Report, Row, fail
from tracker.models import Activity, ActivityAttendance, Partner, Project, TrainingCourse
from tracker.partners.services import create_partner
from tracker.text import fold
from tracker.trainings.services import create_course

#: the country of a partner whose row leaves it blank, as on the form
DEFAULT_COUNTRY = "MAR"


# --- Shared ---------------------------------------------------------------------------


def _differences(row: Row, stored: Mapping[str, Any]) -> list[str]:
    """Return the columns of the file whose cell, read fine, differs from the record's."""
    changed = []
    for name, value in stored.items():
        if name not in row.values or name in row.failed:
            continue  # not in the file, or already reported as unreadable
        mine = row.values[name]
        if mine is None and value is None:
            continue
        if isinstance(mine, str) and isinstance(value, str):
            if fold(mine) == fold(value):
                continue
        elif mine == value:
            continue
        changed.append(name)
    return changed


def _skip(report: Report, row: Row, column: str, stored: Mapping[str, Any]) -> None:
    """Skip a row naming a record already recorded; say so, and what differs."""
    changed = _differences(row, stored)
    if changed:
        message = _(
            "already recorded, with other values in %(columns)s: skipped (change the "
            "record on its page if the file is right)",
            columns=", ".join(changed),
        )
    else:
        message = _("already recorded: skipped")
    report.warnings.append(Problem(row.number, column, message))
    report.skipped += 1
    row.ok = False


def _drop_problems_of_skipped(report: Report, skipped: set[int]) -> None:
    # a row not imported is not refused either: its problems would refuse the file for
    # a record already there, and count the row twice
    if skipped:
        report.errors = [p for p in report.errors if p.row not in skipped]


def _sort_rows(
    report: Report,
    rows: list[Row],
    key_of: Callable[[Row], Hashable | None],
    existing: Callable[[Hashable], Any],
    stored_of: Callable[[Any], Mapping[str, Any]],
    *,
    column: str,
    repeated: Callable[[int], str],
) -> list[Row]:
    """Skip the rows of records already recorded, refuse repeats; return the rows to write."""
    first_with: dict[Hashable, int] = {}
    skipped: set[int] = set()
    for row in rows:
        key = key_of(row)
        if key is None:
            continue  # what identifies the record is unreadable: already reported
        record = existing(key)
        if record is not None:
            _skip(report, row, column, stored_of(record))
            skipped.add(row.number)
        elif key in first_with:
            fail(report, row, column, repeated(first_with[key]))
        else:
            first_with[key] = row.number
    _drop_problems_of_skipped(report, skipped)
    return [r for r in rows if r.ok]


def _project_key(row: Row, projects: Mapping[str, Project], *names: str) -> tuple | None:
    """Return (project code, *values of names), or None when one is missing or failed."""
    v = row.values
    if v.get("project_code") not in projects or "project_code" in row.failed:
        return None
    parts = [v.get(name) for name in names]
    if any(part is None for part in parts) or any(name in row.failed for name in names):
        return None
    return (v["project_code"], *parts)


# --- Courses ---------------------------------------------------------------------------


def check_courses(ctx: Context, rows: list[Row], report: Report) -> list[Row]:
    """Find each course's project and provider; skip courses already recorded."""
    projects = lookups.projects(ctx, rows, report)
    providers = lookups.partners(rows, ("provider",), report)
    for row in rows:
        row.values["project"] = projects.get(row.values.get("project_code"))
        row.values["provider_partner"] = providers.get(row.values.get("provider") or "")

    def key_of(row: Row) -> tuple | None:
        return _project_key(row, projects, "title", "start_date")

    keys = sorted({k for k in map(key_of, rows) if k is not None}, key=str)
    courses: dict[tuple[str, str, date], TrainingCourse] = {}
    for chunk in lookups.chunks(keys):
        query = (
            select(Project.code, TrainingCourse)
            .join(Project, TrainingCourse.project_id == Project.id)
            .where(tuple_(Project.code, TrainingCourse.title, TrainingCourse.start_date).in_(chunk))
        )
        for code, course in db.session.execute(query):
            courses[(code, course.title, course.start_date)] = course

    def stored_of(course: TrainingCourse) -> dict[str, Any]:
        return {
            "provider": course.provider,
            "sector": course.sector,
            "kind": course.kind,
            "city": course.city,
            "end_date": course.end_date,
            "hours": course.hours,
            "capacity": course.capacity,
        }

    for row in rows:
        # the provider compared as the partner named, however the file names it
        row.values["provider"] = row.values["provider_partner"] or row.values.get("provider")
    return _sort_rows(
        report,
        rows,
        key_of,
        courses.get,
        stored_of,
        column="title",
        repeated=lambda n: _("the same course as row %(row)d (same title and start date)", row=n),
    )


def write_course(ctx: Context, v: dict[str, Any]) -> None:
    create_course(
        v["project"],
        v["provider_partner"],
        title=v["title"],
        sector=v["sector"],
        kind=v["kind"],
        city=v.get("city"),
        start_date=v["start_date"],
        end_date=v["end_date"],
        hours=v.get("hours"),
        capacity=v.get("capacity"),
    )


# --- Partners --------------------------------------------------------------------------


def check_partners(ctx: Context, rows: list[Row], report: Report) -> list[Row]:
    """Skip partners already recorded (same name or acronym); refuse a name and an
    acronym that belong to two different partners."""
    partners = db.session.scalars(select(Partner)).all()  # hundreds at most
    by_name = {fold(p.name): p for p in partners}
    by_acronym = {fold(p.acronym): p for p in partners if p.acronym}
    identified: dict[int, tuple[Partner | None, str]] = {}
    for row in rows:
        v = row.values
        if "country" in v and v["country"] is None and "country" not in row.failed:
            v["country"] = DEFAULT_COUNTRY
        name = fold(v.get("name")) if "name" not in row.failed else ""
        acronym = fold(v.get("acronym")) if "acronym" not in row.failed else ""
        named, abbreviated = by_name.get(name), by_acronym.get(acronym)
        if named is not None and abbreviated is not None and named is not abbreviated:
            fail(
                report,
                row,
                "acronym",
                _(
                    "the acronym %(acronym)s is already used by “%(name)s”",
                    acronym=abbreviated.acronym,
                    name=abbreviated.name,
                ),
            )
            continue
        if named is not None or abbreviated is not None:
            identified[row.number] = (named or abbreviated, "name" if named else "acronym")

    def stored_of(partner: Partner) -> dict[str, Any]:
        return {
            "acronym": partner.acronym,
            "name": partner.name,
            "kind": partner.kind,
            "city": partner.city,
            "country": partner.country,
            "contact_name": partner.contact_name,
            "contact_email": partner.contact_email,
            "contact_phone": partner.contact_phone,
        }

    # rows of the file are told apart by name, then by acronym, as recorded partners are
    first_with: dict[tuple[str, str], int] = {}
    skipped: set[int] = set()
    for row in rows:
        if not row.ok and row.number not in identified:
            continue
        if row.number in identified:
            partner, column = identified[row.number]
            _skip(report, row, column, stored_of(partner))
            skipped.add(row.number)
            continue
        for column in ("name", "acronym"):
            key = fold(row.values.get(column)) if column not in row.failed else ""
            if not key:
                continue
            if (column, key) in first_with:
                fail(
                    report,
                    row,
                    column,
                    _(
                        "the same partner as row %(row)d (same %(column)s)",
                        row=first_with[(column, key)],
                        column=column,
                    ),
                )
                break
        else:
            for column in ("name", "acronym"):
                key = fold(row.values.get(column)) if column not in row.failed else ""
                if key:
                    first_with[(column, key)] = row.number
    _drop_problems_of_skipped(report, skipped)
    return [r for r in rows if r.ok]


def write_partner(ctx: Context, v: dict[str, Any]) -> None:
    create_partner(
        name=v["name"],
        kind=v["kind"],
        acronym=v.get("acronym"),
        city=v.get("city"),
        country=v.get("country") or DEFAULT_COUNTRY,
        contact_name=v.get("contact_name"),
        contact_email=v.get("contact_email"),
        contact_phone=v.get("contact_phone"),
    )


# --- Activities ------------------------------------------------------------------------


def _activities(keys: list[tuple[str, str, date]]) -> dict[tuple[str, str, date], Activity]:
    """Return the activities of (project code, title, date) ``keys``."""
    found: dict[tuple[str, str, date], Activity] = {}
    for chunk in lookups.chunks(sorted(keys, key=str)):
        query = (
            select(Project.code, Activity)
            .join(Project, Activity.project_id == Project.id)
            .where(tuple_(Project.code, Activity.title, Activity.held_on).in_(chunk))
        )
        for code, activity in db.session.execute(query):
            found[(code, activity.title, activity.held_on)] = activity
    return found


def check_activities(ctx: Context, rows: list[Row], report: Report) -> list[Row]:
    """Find each activity's project; skip activities already recorded."""
    projects = lookups.projects(ctx, rows, report)
    for row in rows:
        v = row.values
        v["project"] = projects.get(v.get("project_code"))
        for name in ("other_women", "other_men"):
            # a blank count is nobody, as on the form
            if name in v and v[name] is None and name not in row.failed:
                v[name] = 0

    def key_of(row: Row) -> tuple | None:
        return _project_key(row, projects, "title", "held_on")

    activities = _activities([k for k in map(key_of, rows) if k is not None])

    def stored_of(activity: Activity) -> dict[str, Any]:
        return {
            "kind": activity.kind,
            "topic": activity.topic,
            "city": activity.city,
            "other_women": activity.other_women,
            "other_men": activity.other_men,
            "description": activity.description,
        }

    return _sort_rows(
        report,
        rows,
        key_of,
        activities.get,
        stored_of,
        column="title",
        repeated=lambda n: _("the same activity as row %(row)d (same title and date)", row=n),
    )


def write_activity(ctx: Context, v: dict[str, Any]) -> None:
    record_activity(
        v["project"],
        kind=v["kind"],
        title=v["title"],
        held_on=v["held_on"],
        topic=v.get("topic"),
        city=v.get("city"),
        description=v.get("description"),
        other_women=v.get("other_women") or 0,
        other_men=v.get("other_men") or 0,
    )


# --- Attendance ------------------------------------------------------------------------


def check_attendance(ctx: Context, rows: list[Row], report: Report) -> list[Row]:
    """Find each row's activity and partner; skip partners already recorded as attending."""
    projects = lookups.projects(ctx, rows, report)
    partners = lookups.partners(rows, ("partner",), report)

    def activity_key(row: Row) -> tuple | None:
        return _project_key(row, projects, "activity_title", "held_on")

    activities = _activities([k for k in map(activity_key, rows) if k is not None])
    attended: dict[tuple[int, int], ActivityAttendance] = {}
    ids = sorted({a.id for a in activities.values()})
    for chunk in lookups.chunks(ids):
        for attendance in db.session.scalars(
            select(ActivityAttendance).where(ActivityAttendance.activity_id.in_(chunk))
        ):
            attended[(attendance.activity_id, attendance.partner_id)] = attendance
    for row in rows:
        v = row.values
        if "staff_count" in v and v["staff_count"] is None and "staff_count" not in row.failed:
            v["staff_count"] = 0  # not known: nobody counted, as the seed data has it
        key = activity_key(row)
        v["activity"] = activities.get(key) if key else None
        if key is not None and v["activity"] is None:
            fail(
                report,
                row,
                "activity_title",
                _("no activity of this title on %(day)s in this project", day=v["held_on"]),
            )
        v["partner_record"] = partners.get(v.get("partner") or "")

    def key_of(row: Row) -> tuple[int, int] | None:
        activity, partner = row.values["activity"], row.values["partner_record"]
        if activity is None or partner is None:
            return None
        return (activity.id, partner.id)

    return _sort_rows(
        report,
        rows,
        key_of,
        attended.get,
        lambda attendance: {"staff_count": attendance.staff_count},
        column="partner",
        repeated=lambda n: _("the same partner at the same activity as row %(row)d", row=n),
    )


def write_attendance(ctx: Context, v: dict[str, Any]) -> None:
    add_attendance(v["activity"], v["partner_record"], staff_count=v.get("staff_count") or 0)
