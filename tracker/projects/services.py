"""Setting up projects: create, change, close, staff, targets, and a start from another's set-up.

Plain functions that flush only, called by the admin pages and the ``project`` commands
alike; a rule broken is a ``DomainError`` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

import pycountry
from flask_babel import gettext as _
from sqlalchemy import func, select

from tracker import indicators
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import (
    MANUAL_PREFIX,
    Project,
    ProjectTarget,
    ResultIndicator,
    Role,
    TrainingCourse,
    User,
    now_utc,
    user_project,
)
from tracker.projects import calendar

CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
#: what an edit may change (the code names the project in files and reports: it stays)
EDITABLE = (
    "title",
    "donor",
    "country",
    "counterpart",
    "start_date",
    "end_date",
    "description",
    "calendar",
    "report_due_days",
)
#: the indicators a target may be set for: those the tracker counts
TARGETABLE = tuple(k for k, ind in indicators.INDICATORS.items() if ind.unit != indicators.RATIO)


def _text(value: Any, field: str, limit: int, *, required: bool = False) -> str | None:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise DomainError(_("This field is required."), field)
    if len(text) > limit:
        raise DomainError(_("At most %(num)d characters.", num=limit), field)
    return text or None


def _country(value: Any) -> str:
    code = str(value or "").strip().upper()
    if not code or pycountry.countries.get(alpha_3=code) is None:
        raise DomainError(
            _("Give the country as a three-letter ISO code (MAR, SEN, CIV…)."), "country"
        )
    return code


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """Return the values of a project's fields, cleaned; raise DomainError naming the field."""
    clean: dict[str, Any] = {}
    if "title" in values:
        clean["title"] = _text(values["title"], "title", 300, required=True)
    for name, limit in (("donor", 200), ("counterpart", 300)):
        if name in values:
            clean[name] = _text(values[name], name, limit)
    if "description" in values:
        clean["description"] = str(values["description"] or "").strip() or None
    if "country" in values:
        clean["country"] = _country(values["country"])
    if "calendar" in values:
        if values["calendar"] not in calendar.CALENDARS:
            raise DomainError(_("Choose quarters, semesters or years."), "calendar")
        clean["calendar"] = values["calendar"]
    if "report_due_days" in values:
        days = values["report_due_days"]
        if not isinstance(days, int) or not 0 <= days <= 365:
            raise DomainError(_("From 0 to 365 days."), "report_due_days")
        clean["report_due_days"] = days
    for name in ("start_date", "end_date"):
        if name in values:
            if not isinstance(values[name], date):
                raise DomainError(_("This field is required."), name)
            clean[name] = values[name]
    return clean


def create_project(
    code: str,
    *,
    title: str,
    country: str,
    start_date: date,
    end_date: date,
    donor: str | None = None,
    counterpart: str | None = None,
    description: str | None = None,
    calendar: str = "quarters",
    report_due_days: int = 30,
) -> Project:
    """Create a project; flush only."""
    code = (code or "").strip().upper()
    if not CODE.match(code):
        raise DomainError(
            _(
                "A code of 2 to 32 capital letters, digits, - or _, e.g. IDF-MA-2014.",
            ),
            "code",
        )
    if db.session.scalar(select(func.count()).where(Project.code == code)):
        raise DomainError(_("The code %(code)s is already taken.", code=code), "code")
    values = _checked(
        {
            "title": title,
            "country": country,
            "start_date": start_date,
            "end_date": end_date,
            "donor": donor,
            "counterpart": counterpart,
            "description": description,
            "calendar": calendar,
            "report_due_days": report_due_days,
        }
    )
    if values["end_date"] < values["start_date"]:
        raise DomainError(_("The end is before the start."), "end_date")
    project = Project(code=code, **values)
    db.session.add(project)
    db.session.flush()
    return project


def update_project(project: Project, **changes: Any) -> Project:
    """Change a project's set-up; flush only. Its code stays."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    values = _checked(changes)
    start = values.get("start_date", project.start_date)
    end = values.get("end_date", project.end_date)
    if end < start:
        raise DomainError(_("The end is before the start."), "end_date")
    if "calendar" in values and values["calendar"] != project.calendar:
        periodic = [t for t in project.all_targets if t.period != calendar.WHOLE]
        if periodic:
            raise DomainError(
                _(
                    "This project has targets per %(calendar)s: remove them before changing "
                    "its calendar.",
                    calendar=str(calendar.CALENDARS[project.calendar]).lower(),
                ),
                "calendar",
            )
    for name, value in values.items():
        setattr(project, name, value)
    db.session.flush()
    return project


def close_project(project: Project) -> None:
    """Close a project: its figures and records stay, nobody is registered into it any more."""
    if project.closed_at is None:
        project.closed_at = now_utc()
        db.session.flush()


def reopen_project(project: Project) -> None:
    if project.closed_at is not None:
        project.closed_at = None
        db.session.flush()


def set_staff(project: Project, users: Iterable[User]) -> None:
    """Make ``users`` the staff of ``project`` (administrators see every project anyway)."""
    wanted = {u.id for u in users if u.role is not Role.ADMIN}
    # the users concerned: those wanted, and those on the project now
    on_project = select(user_project.c.user_id).where(user_project.c.project_id == project.id)
    concerned = select(User).where(User.id.in_(wanted) | User.id.in_(on_project))
    for user in db.session.scalars(concerned):
        has = any(p.id == project.id for p in user.projects)
        if user.id in wanted and not has:
            user.projects.append(project)
        elif user.id not in wanted and has and user.role is not Role.ADMIN:
            if len(user.projects) == 1 and user.active:
                raise DomainError(
                    _(
                        "%(email)s works on this project only: give her another project "
                        "first, or deactivate the account.",
                        email=user.email,
                    ),
                    "staff",
                )
            user.projects.remove(project)
    db.session.flush()


def set_target(
    project: Project,
    indicator: str,
    value: int,
    *,
    period: str = calendar.WHOLE,
    baseline: int | None = None,
) -> ProjectTarget:
    """Set the target (and baseline) of ``indicator`` for the project or one of its periods.

    ``indicator`` is one the tracker computes or a manual indicator of the project's
    results framework (``manual_<n>``).
    """
    if indicator not in TARGETABLE and not _is_manual(project, indicator):
        raise DomainError(
            _(
                "Unknown indicator %(key)s; one of: %(keys)s.",
                key=indicator,
                keys=", ".join(TARGETABLE),
            ),
            "indicator",
        )
    if not isinstance(value, int) or value < 0:
        raise DomainError(_("A whole number, 0 or more."), "target")
    if baseline is not None and (not isinstance(baseline, int) or baseline < 0):
        raise DomainError(_("A whole number, 0 or more."), "baseline")
    period = (period or calendar.WHOLE).strip().upper()
    if period.lower() == calendar.WHOLE:
        period = calendar.WHOLE
    elif calendar.period(project, period) is None:
        keys = ", ".join(p.key for p in calendar.periods(project))
        raise DomainError(
            _(
                "%(period)s is not a reporting period of %(code)s; its periods: %(keys)s.",
                period=period,
                code=project.code,
                keys=keys,
            ),
            "period",
        )
    target = db.session.scalar(
        select(ProjectTarget).where(
            ProjectTarget.project_id == project.id,
            ProjectTarget.indicator == indicator,
            ProjectTarget.period == period,
        )
    )
    if target is None:
        target = ProjectTarget(project_id=project.id, indicator=indicator, period=period)
        db.session.add(target)
    target.target = value
    target.baseline = baseline
    db.session.flush()
    db.session.expire(project, ["targets", "all_targets"])
    return target


def _is_manual(project: Project, key: str) -> bool:
    return key.startswith(MANUAL_PREFIX) and (
        db.session.scalar(
            select(ResultIndicator.id).where(
                ResultIndicator.project_id == project.id, ResultIndicator.key == key
            )
        )
        is not None
    )


def remove_target(project: Project, indicator: str, period: str = calendar.WHOLE) -> bool:
    """Remove one target; return whether there was one."""
    target = db.session.scalar(
        select(ProjectTarget).where(
            ProjectTarget.project_id == project.id,
            ProjectTarget.indicator == indicator,
            ProjectTarget.period == period,
        )
    )
    if target is None:
        return False
    db.session.delete(target)
    db.session.flush()
    db.session.expire(project, ["targets", "all_targets"])
    return True


def copy_setup(source: Project, project: Project) -> dict[str, int]:
    """Start ``project`` from ``source``'s set-up: results framework, targets, courses.

    Courses keep their title, sector, kind, provider, city, hours and capacity, and move
    by the gap between the two projects' starts (cut to the new project's end). Per-period
    targets are not copied: the new project's periods are others.
    """
    from tracker.results.services import copy_framework

    copied = {"results": copy_framework(source, project), "targets": 0, "courses": 0}
    for target in source.targets:
        set_target(project, target.indicator, target.target, baseline=target.baseline)
        copied["targets"] += 1
    shift = project.start_date - source.start_date
    from tracker.trainings.services import create_course

    for course in db.session.scalars(
        select(TrainingCourse)
        # an archived course is no longer offered: a new project does not start with it
        .where(TrainingCourse.project_id == source.id, TrainingCourse.archived_at.is_(None))
        .order_by(TrainingCourse.start_date, TrainingCourse.id)
    ):
        start = course.start_date + shift
        end = min(course.end_date + shift, project.end_date)
        if start > project.end_date or end < start:
            continue
        create_course(
            project,
            course.provider,
            title=course.title,
            sector=course.sector,
            kind=course.kind,
            start_date=start,
            end_date=end,
            city=course.city,
            hours=course.hours,
            capacity=course.capacity,
        )
        copied["courses"] += 1
    return copied
