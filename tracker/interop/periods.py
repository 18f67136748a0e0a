"""The reporting periods of a project: one function, so that a reporting calendar can replace it.

A project reports by its calendar (quarters, semesters or years: ``Project.calendar``,
``tracker.projects.calendar``), the first and last periods cut to its start and end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tracker.models import Project


@dataclass(frozen=True)
class Period:
    """An inclusive period of days."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")


def whole_project(project: Project) -> Period:
    """Return the period the whole project covers."""
    return Period(project.start_date, project.end_date)


def _quarter_after(day: date) -> date:
    """Return the first day of the calendar quarter after the one ``day`` is in."""
    first_month = (day.month - 1) // 3 * 3 + 1
    if first_month == 10:
        return date(day.year + 1, 1, 1)
    return date(day.year, first_month + 3, 1)


def quarters(start: date, end: date) -> list[Period]:
    """Return the calendar quarters from ``start`` to ``end``, the first and last cut to them."""
    periods = []
    day = start
    while day <= end:
        next_quarter = _quarter_after(day) if day.year < 9999 or day.month < 10 else None
        last = end if next_quarter is None else min(end, next_quarter - timedelta(days=1))
        periods.append(Period(day, last))
        if next_quarter is None:
            break
        day = next_quarter
    return periods


def reporting_periods(project: Project) -> list[Period]:
    """Return the periods the project reports on, in order, by its reporting calendar."""
    from tracker.projects import calendar

    return [Period(p.start, p.end) for p in calendar.periods(project)]
