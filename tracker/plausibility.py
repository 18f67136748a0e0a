"""Plausibility: dates far from what is expected, said as warnings and never refused.

A date can be possible and still probably wrong: a 12-month follow-up recorded nine
years after it was due, an enrolment left open in a course that ended long ago, a
placement that starts before the person was registered. Old paper records hold such
dates for good reasons, so the rules below do not refuse them: the web forms show the
warning and ask to confirm, the import preview lists it under "To check", the API
answers it in ``warnings``. Each rule is a pure function of the dates (no database),
used by all of them, so that one record gets the same warning in the same words
whichever way it comes in.

The thresholds are named here; a rule fires at its threshold and not below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import format_date, format_timedelta
from flask_babel import gettext as _

from tracker.placements.services import add_months

#: a follow-up dated this many months or more after its due day (placement start +
#: its months) is late enough to be a wrong date or a wrong follow-up chosen
FOLLOW_UP_LATE_MONTHS = 6
#: a follow-up dated this many months or more before its due day is probably the
#: wrong follow-up (the 12-month one done at three months)
FOLLOW_UP_EARLY_MONTHS = 1
#: an enrolment recorded open (neither completed nor dropped out) this many days or
#: more after its course ended: its outcome is known and missing
COURSE_ENDED_DAYS = 30
#: a placement that starts this many days or more before the person's registration
PLACEMENT_BEFORE_REGISTRATION_DAYS = 1


@dataclass(frozen=True)
class Doubt:
    """A value worth a second look: the field it is about and why, in words."""

    field: str
    message: str


def _span(days: int) -> str:
    """A number of days as people say it: "9 years", "3 months", "12 days"."""
    return format_timedelta(timedelta(days=days), granularity="day", threshold=1)


def follow_up(*, placement_start: date, months_after: int, followed_on: date) -> list[Doubt]:
    """Doubt a follow-up dated far from its due day (start + ``months_after`` months)."""
    due = add_months(placement_start, months_after)
    if followed_on >= add_months(due, FOLLOW_UP_LATE_MONTHS):
        return [
            Doubt(
                "followed_on",
                _(
                    "The %(n)d-month follow-up was due on %(due)s: this date is %(gap)s "
                    "later. Check the date and which follow-up this is.",
                    n=months_after,
                    due=format_date(due),
                    gap=_span((followed_on - due).days),
                ),
            )
        ]
    if followed_on <= add_months(due, -FOLLOW_UP_EARLY_MONTHS):
        return [
            Doubt(
                "followed_on",
                _(
                    "The %(n)d-month follow-up is due on %(due)s: this date is %(gap)s "
                    "earlier. Check the date and which follow-up this is.",
                    n=months_after,
                    due=format_date(due),
                    gap=_span((due - followed_on).days),
                ),
            )
        ]
    return []


def open_enrolment(*, course_end: date, today: date) -> list[Doubt]:
    """Doubt an enrolment recorded open today in a course that ended a while ago."""
    if (today - course_end).days >= COURSE_ENDED_DAYS:
        return [
            Doubt(
                "enrolled_on",
                _(
                    "The course ended on %(end)s, %(gap)s ago, and this enrolment stays "
                    "open: record whether the person completed it or dropped out.",
                    end=format_date(course_end),
                    gap=_span((today - course_end).days),
                ),
            )
        ]
    return []


def placement(*, start_date: date, registered_on: date) -> list[Doubt]:
    """Doubt a placement that starts before the person was registered."""
    if (registered_on - start_date).days >= PLACEMENT_BEFORE_REGISTRATION_DAYS:
        return [
            Doubt(
                "start_date",
                _(
                    "The placement starts on %(start)s, %(gap)s before the person's "
                    "registration (%(registered)s). Check both dates.",
                    start=format_date(start_date),
                    gap=_span((registered_on - start_date).days),
                    registered=format_date(registered_on),
                ),
            )
        ]
    return []
