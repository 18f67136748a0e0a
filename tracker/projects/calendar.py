"""A project's reporting calendar: its periods, their keys, and the target of a period.

A donor asks for reports by quarter, semester or year. The periods of a project are
the calendar's periods that meet the project's dates, the first and last cut to them,
named ``2015Q2``, ``2015S1`` or ``2015`` (the keys of ``ProjectTarget.period``; ``all`` is
the whole project). A figure shown for a period is compared with the target **of that
period**: the whole project's target for the whole project, the sum of the targets of
the reporting periods it covers exactly otherwise, and none when the period shown is
not made of whole reporting periods with targets (never a whole-project target against a
part of the project).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

from tracker.models import Project, ProjectTarget

WHOLE = "all"
CALENDARS = {
    "quarters": _l("Quarters"),
    "semesters": _l("Semesters"),
    "years": _l("Years"),
}
#: months in a period of each calendar
_MONTHS = {"quarters": 3, "semesters": 6, "years": 12}
_KEY = re.compile(r"^(?P<year>\d{4})(?:(?P<kind>[QS])(?P<part>\d))?$")


@dataclass(frozen=True)
class ReportingPeriod:
    """One reporting period of a project: its key and days, and when its report is due."""

    key: str
    start: date
    end: date
    due: date


def calendar_of_key(key: str) -> str:
    """Return the calendar a period key belongs to, or raise ValueError."""
    found = _KEY.match(key or "")
    if found is None:
        raise ValueError(f"not a period: {key!r}")
    kind, part = found["kind"], found["part"]
    if kind is None:
        return "years"
    if kind == "Q" and 1 <= int(part) <= 4:
        return "quarters"
    if kind == "S" and 1 <= int(part) <= 2:
        return "semesters"
    raise ValueError(f"not a period: {key!r}")


def _key(calendar: str, year: int, index: int) -> str:
    if calendar == "years":
        return str(year)
    return f"{year}{'Q' if calendar == 'quarters' else 'S'}{index + 1}"


def _bounds(calendar: str, year: int, index: int) -> tuple[date, date]:
    months = _MONTHS[calendar]
    first = date(year, index * months + 1, 1)
    after = (
        date(year + 1, 1, 1)
        if index * months + months == 12
        else date(year, index * months + months + 1, 1)
    )
    return first, after - timedelta(days=1)


def periods(project: Project) -> list[ReportingPeriod]:
    """Return the project's reporting periods, in order, cut to its dates."""
    calendar = project.calendar or "quarters"
    months = _MONTHS[calendar]
    found = []
    year, index = project.start_date.year, (project.start_date.month - 1) // months
    due_days = timedelta(days=project.report_due_days or 0)
    while True:
        start, end = _bounds(calendar, year, index)
        if start > project.end_date:
            break
        start, end = max(start, project.start_date), min(end, project.end_date)
        found.append(ReportingPeriod(_key(calendar, year, index), start, end, end + due_days))
        index += 1
        if index * months >= 12:
            year, index = year + 1, 0
    return found


def period(project: Project, key: str) -> ReportingPeriod | None:
    """Return the reporting period of ``key``, None when the project has no such period."""
    return next((p for p in periods(project) if p.key == key), None)


def covered(project: Project, start: date | None, end: date | None) -> list[ReportingPeriod]:
    """Return the reporting periods that make up ``start``..``end`` exactly, else [].

    A period shown covers whole reporting periods when it starts on the first day of one
    and ends on the last day of one (days outside the project do not count).
    """
    start = max(start or project.start_date, project.start_date)
    end = min(end or project.end_date, project.end_date)
    if end < start:
        return []
    inside = [p for p in periods(project) if p.start >= start and p.end <= end]
    if not inside or inside[0].start != start or inside[-1].end != end:
        return []
    return inside


@dataclass(frozen=True)
class Target:
    """The target of a figure for the period shown, and where it comes from."""

    value: int
    baseline: int | None
    #: "project" (the whole project's) or "periods" (the sum of its reporting periods')
    basis: str
    periods: tuple[str, ...] = ()


def is_whole(project: Project, start: date | None, end: date | None) -> bool:
    """Whether ``start``..``end`` covers the whole project."""
    return (start is None or start <= project.start_date) and (
        end is None or end >= project.end_date
    )


def target_for(
    project: Project,
    indicator: str,
    start: date | None,
    end: date | None,
    targets: Iterable[ProjectTarget] | None = None,
) -> Target | None:
    """Return the target of ``indicator`` for the period shown, None when there is none."""
    rows = list(project.all_targets if targets is None else targets)
    mine = {t.period: t for t in rows if t.indicator == indicator}
    if is_whole(project, start, end):
        whole = mine.get(WHOLE)
        if whole is not None:
            return Target(whole.target, whole.baseline, "project")
        # no whole-project target: the sum of every period's, when each has one
    parts = covered(project, start, end)
    if not parts or any(p.key not in mine for p in parts):
        return None
    first = mine[parts[0].key]
    return Target(
        sum(mine[p.key].target for p in parts),
        first.baseline,
        "periods",
        tuple(p.key for p in parts),
    )


def targets_for(
    projects: Sequence[Project], keys: Iterable[str], start: date | None, end: date | None
) -> dict[str, int]:
    """Return the targets of the period shown, summed over ``projects`` (all must have one)."""
    found: dict[str, int] = {}
    for key in keys:
        values = [target_for(p, key, start, end) for p in projects]
        if projects and all(v is not None for v in values):
            found[key] = sum(v.value for v in values if v is not None)
    return found


# --- how a figure stands against its target ---------------------------------------------

#: share of the prorated target a figure must reach to be "on track"
ON_TRACK = 0.9
ACHIEVED, ON_TRACK_STATUS, OFF_TRACK = "achieved", "on_track", "off_track"
STATUS_LABELS = {
    ACHIEVED: _l("achieved"),
    ON_TRACK_STATUS: _l("on track"),
    OFF_TRACK: _l("off track"),
}


@dataclass(frozen=True)
class Standing:
    """A figure against its target over some days, ``elapsed`` of them past."""

    actual: int | None
    target: int | None
    elapsed: float = 1.0

    @property
    def percent(self) -> int | None:
        if self.actual is None or not self.target:
            return None
        return round(100 * self.actual / self.target)

    @property
    def expected(self) -> float | None:
        return None if self.target is None else self.target * self.elapsed

    @property
    def status(self) -> str | None:
        if self.actual is None or self.target is None:
            return None
        if self.actual >= self.target:
            return ACHIEVED
        return ON_TRACK_STATUS if self.actual >= ON_TRACK * self.expected else OFF_TRACK


def elapsed(start: date, end: date, today: date) -> float:
    """The share of the days ``start``..``end`` already past on ``today`` (0 to 1)."""
    if today >= end:
        return 1.0
    if today < start:
        return 0.0
    return ((today - start).days + 1) / ((end - start).days + 1)
