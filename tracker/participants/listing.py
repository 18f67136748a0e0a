"""Which people a list shows a user, and whether it may be shown at all: one place.

Every list of people a user reaches (the participants list, the dashboard's
drill-downs, course rosters, the API's lists) asks two things here:

- **consent** (``tracker.participants.consent``): a user who may see names works
  the case files (``Use.CASE_WORK``: everybody, a frozen case file included); a
  viewer reads codes, which are pseudonymous data leaving the case workers
  (``Use.PSEUDONYMOUS``: only people whose donor-reporting consent, or when never
  asked their case-management consent, holds), as in a pseudonymous export;
- **small lists** (``small_list``): a viewer reads the dashboard with cells under
  ``SMALL_CELL_THRESHOLD`` hidden; a list of fewer people than that, whatever the
  filters that made it (a region, a nationality, a code, a course), would give the
  hidden cell's people away with their sex, age group and nationality. So a
  viewer's list of 1 to threshold - 1 people is not shown: the page says "fewer
  than 5" and lists nobody; the API answers 403. Zero is shown (an empty list
  says nothing about anyone).
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement

from tracker.models import User
from tracker.participants import consent
from tracker.permissions import can_see_names
from tracker.reports import disclosure


def list_use(user: User) -> consent.Use:
    """The use a list of people serves for ``user``: case work, or codes for a viewer."""
    return consent.Use.CASE_WORK if can_see_names(user) else consent.Use.PSEUDONYMOUS


def listable(user: User, participant_id, today: date | None = None) -> ColumnElement[bool]:
    """Return the condition that ``user``'s lists may show the participant ``participant_id``."""
    return consent.allowed_sql(list_use(user), participant_id, today)


def threshold() -> int:
    return int(current_app.config["SMALL_CELL_THRESHOLD"])


def small_list(user: User, people: int) -> bool:
    """Say whether a list of ``people`` people must not be shown to ``user`` (too few)."""
    limit = threshold()
    return not can_see_names(user) and disclosure.enabled(limit) and 0 < people < limit


def small_list_message() -> str:
    """What a refused list says instead of its people."""
    return _(
        "Fewer than %(num)d people match: they are not listed for your role, "
        "so that nobody can be singled out.",
        num=threshold(),
    )
