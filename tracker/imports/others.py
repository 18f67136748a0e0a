"""Enrolments, placements and follow-ups: rows about people already registered.

Each row names its participant by code (in the importer's projects) and what it is
about: a course by its title and start date, partners by acronym or name, a
placement by its kind and start date. Each row is then written through the same
domain services as the forms, in a savepoint of its own, so that a row the services
refuse leaves nothing behind and is reported on its column. Dates far from what is
expected are reported by the rules of ``tracker.plausibility`` (points to check, not
errors); a placement recorded already is flagged, written only if ticked in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, tuple_

from tracker import plausibility
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.imports import lookups
from tracker.imports.report import Context, Report, Row, fail, field_column, flag, warn
from tracker.models import EnrolmentStatus, Placement, Project, TrainingCourse
from tracker.placements.services import record_follow_up, record_placement
from tracker.trainings.services import complete, drop_out, enrol


def check_enrolments(ctx: Context, rows: list[Row], report: Report) -> list[Row]:
    lookups.projects(ctx, rows, report)
    lookups.attach_people(ctx, rows, report)
    keys = {
        (r.values["project_code"], r.values["course_title"], r.values["course_start_date"])
        for r in rows
        if r.ok
    }
    courses: dict[tuple[str, str, date], TrainingCourse] = {}
    for chunk in lookups.chunks(sorted(keys, key=str)):
        query = (
            select(Project.code, TrainingCourse)
            .join(Project, TrainingCourse.project_id == Project.id)
            .where(tuple_(Project.code, TrainingCourse.title, TrainingCourse.start_date).in_(chunk))
        )
        for project_code, course in db.session.execute(query):
            courses[(project_code, course.title, course.start_date)] = course
    for row in rows:
        if not row.ok:
            continue
        v = row.values
        v["course"] = courses.get((v["project_code"], v["course_title"], v["course_start_date"]))
        if v["course"] is None:
            fail(
                report,
                row,
                "course_title",
                _(
                    "no course of this title starts on %(day)s in this project",
                    day=v["course_start_date"],
                ),
            )
        status = v["status"]
        if status is EnrolmentStatus.COMPLETED and v.get("completed_on") is None:
            fail(report, row, "completed_on", _("is required when the status is completed"))
        if status is EnrolmentStatus.DROPPED_OUT and v.get("dropped_on") is None:
            fail(report, row, "dropped_on", _("is required when the status is dropped_out"))
        if status is not EnrolmentStatus.COMPLETED and v.get("completed_on") is not None:
            fail(report, row, "completed_on", _("must be empty unless the status is completed"))
        if status is not EnrolmentStatus.DROPPED_OUT and v.get("dropped_on") is not None:
            fail(report, row, "dropped_on", _("must be empty unless the status is dropped_out"))
        for name in ("enrolled_on", "completed_on", "dropped_on"):
            if v.get(name) is not None and v[name] > ctx.today:
                fail(report, row, name, _("is in the future"))
        if row.ok and status is EnrolmentStatus.ENROLLED:
            ended = v["course"].end_date
            for doubt in plausibility.open_enrolment(course_end=ended, today=ctx.today):
                warn(report, row, "status", doubt.message)
    return [r for r in rows if r.ok]


def write_enrolment(ctx: Context, v: dict[str, Any]) -> str:
    enrolment = enrol(v["participant"], v["course"], on=v["enrolled_on"])
    if v["status"] is EnrolmentStatus.COMPLETED:
        complete(
            enrolment,
            on=v["completed_on"],
            attendance_pct=v.get("attendance_pct"),
            certificate=bool(v.get("certificate")),
        )
    elif v["status"] is EnrolmentStatus.DROPPED_OUT:
        drop_out(enrolment, on=v["dropped_on"], attendance_pct=v.get("attendance_pct"))
    elif v.get("attendance_pct") is not None:
        enrolment.attendance_pct = v["attendance_pct"]
    return v["participant"].code


def check_placements(ctx: Context, rows: list[Row], report: Report) -> list[Row]:
    lookups.projects(ctx, rows, report)
    partners = lookups.partners(rows, ("employer", "referral_partner"), report)
    lookups.attach_people(ctx, rows, report)
    for row in rows:
        if not row.ok:
            continue
        v = row.values
        person = v["participant"]
        if person.project.code != v["project_code"]:
            fail(
                report,
                row,
                "project_code",
                _(
                    "%(code)s belongs to project %(project)s",
                    code=person.code,
                    project=person.project.code,
                ),
            )
        v["employer_partner"] = partners.get(v.get("employer") or "")
        v["referral"] = partners.get(v.get("referral_partner") or "")
        if row.ok:
            for doubt in plausibility.placement(
                start_date=v["start_date"], registered_on=person.registered_on
            ):
                warn(report, row, field_column(doubt.field), doubt.message)
    _flag_placements_already_there(rows, report)
    return [r for r in rows if r.ok]


def _flag_placements_already_there(rows: list[Row], report: Report) -> None:
    """Flag a placement recorded already, or twice in the file: same person, kind and start."""
    ids = sorted({r.values["participant"].id for r in rows if r.ok})
    recorded = set()
    for chunk in lookups.chunks(ids):
        query = select(Placement.participant_id, Placement.kind, Placement.start_date).where(
            Placement.participant_id.in_(chunk)
        )
        recorded.update((person, kind, start) for person, kind, start in db.session.execute(query))
    first_with: dict[tuple[int, Any, date], int] = {}
    for row in rows:
        if not row.ok:
            continue
        v = row.values
        key = (v["participant"].id, v["kind"], v["start_date"])
        if key in recorded:
            flag(
                report,
                row,
                "start_date",
                _(
                    "%(code)s already has a placement of this kind starting on this day",
                    code=v["participant"].code,
                ),
            )
        elif key in first_with:
            flag(
                report,
                row,
                "start_date",
                _("the same placement is also on row %(row)d", row=first_with[key]),
            )
        else:
            first_with[key] = row.number


def write_placement(ctx: Context, v: dict[str, Any]) -> str:
    record_placement(
        v["participant"],
        kind=v["kind"],
        employer=v["employer_partner"],
        business_name=v.get("business_name"),
        sector=v["sector"],
        start_date=v["start_date"],
        end_date=v.get("end_date"),
        contract_type=v.get("contract_type"),
        monthly_income=v.get("monthly_income"),
        referral_partner=v["referral"],
        verified=bool(v.get("verified")),
        today=ctx.today,
        # old paper records often carry approximate registration dates
        check_registration=False,
    )
    return v["participant"].code


def check_follow_ups(ctx: Context, rows: list[Row], report: Report) -> list[Row]:
    lookups.attach_people(ctx, rows, report)
    ids = [r.values["participant"].id for r in rows if r.ok]
    placements: dict[tuple[int, Any, date], Placement] = {}
    for chunk in lookups.chunks(ids):
        for placement in db.session.scalars(
            select(Placement).where(Placement.participant_id.in_(chunk))
        ):
            placements[(placement.participant_id, placement.kind, placement.start_date)] = placement
    for row in rows:
        if not row.ok:
            continue
        v = row.values
        person = v["participant"]
        v["placement"] = placements.get((person.id, v["placement_kind"], v["placement_start_date"]))
        if v["placement"] is None:
            fail(
                report,
                row,
                "placement_start_date",
                _("%(code)s has no placement of this kind starting on this date", code=person.code),
            )
            continue
        for doubt in plausibility.follow_up(
            placement_start=v["placement"].start_date,
            months_after=v["months_after"],
            followed_on=v["followed_on"],
        ):
            warn(report, row, doubt.field, doubt.message)
    return [r for r in rows if r.ok]


def write_follow_up(ctx: Context, v: dict[str, Any]) -> str:
    record_follow_up(
        v["placement"],
        months_after=v["months_after"],
        followed_on=v["followed_on"],
        still_active=v["still_active"],
        monthly_income=v.get("monthly_income"),
        note=v.get("note"),
        today=ctx.today,
    )
    return v["participant_code"]


def write_each(
    ctx: Context, rows: list[Row], report: Report, write: Callable, import_event: int
) -> None:
    """Write the rows one by one, each in a savepoint: a refused row leaves nothing behind."""
    for done, row in enumerate(rows, start=1):
        try:
            with db.session.begin_nested():
                code = write(ctx, row.values)
        except DomainError as error:
            fail(report, row, field_column(error.field), error.message)
        else:
            report.written += 1
            if code is not None:  # the people concerned; courses and partners have none
                report.codes.append(code)
        if ctx.progress and (done % 500 == 0 or done == len(rows)):
            ctx.progress(done, len(rows))
