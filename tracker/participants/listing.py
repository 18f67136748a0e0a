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
- **rare values** (``coarsen``): in a viewer's larger list, a sex, nationality,
  region or age group held by fewer than ``SMALL_CELL_THRESHOLD`` people *of that
  list* (all its pages) is shown as "Other", the donor annex's rule
  (``disclosure.coarsen_rare``). Counted in the list, not in the project: a list
  is the population of the cells it can be compared with (a drill-down's people
  are exactly those its figure counts, so a nationality common in the project but
  held by 3 of the people placed is the dashboard's hidden "< 5" cell), and a
  value rare in the project is rare in any list of its people too.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, func, select

from tracker.extensions import db
from tracker.models import Participant, User
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


#: what a viewer's lists show of each person, which the dashboard breaks its counts down by
ATTRIBUTES: Mapping[str, ColumnElement] = {
    "sex": Participant.sex,
    "nationality": Participant.nationality,
    "region": Participant.region,
}


@dataclass(frozen=True)
class Coarsened:
    """The values of each attribute a list shows as "Other" (none for who sees names)."""

    rare: Mapping[str, frozenset[Hashable]] = field(default_factory=dict)

    def hides(self, attribute: str, value: Any) -> bool:
        """Say whether ``value`` of ``attribute`` is shown as "Other" in this list."""
        return value in self.rare.get(attribute, ())

    def show(self, attribute: str, value: Any, shown: Any) -> Any:
        """Return ``shown`` (the value as the page writes it), or "Other" if it is rare."""
        return _("Other") if self.hides(attribute, value) else shown


def coarsen(
    user: User,
    query: Select,
    attributes: Mapping[str, ColumnElement] = ATTRIBUTES,
) -> Coarsened:
    """Return which values of ``attributes`` ``user``'s list ``query`` shows as "Other".

    ``query`` selects the list's people (``Participant``), whatever its filters and
    pages: a value held by fewer than ``SMALL_CELL_THRESHOLD`` of its distinct people
    is rare, for a viewer (``disclosure.coarsen_rare``'s rule, counted in SQL). A
    missing value counts as a value. Users who see names see every value.
    """
    limit = threshold()
    if can_see_names(user) or not disclosure.enabled(limit):
        return Coarsened()
    people = (
        query.order_by(None)
        .with_only_columns(
            Participant.id.label("person"),
            *(expression.label(name) for name, expression in attributes.items()),
            maintain_column_froms=True,
        )
        .distinct()
        .subquery()
    )
    return Coarsened(
        {
            name: frozenset(db.session.scalars(rare_values(people.c[name], limit)))
            for name in attributes
        }
    )


def rare_values(column: ColumnElement, limit: int) -> Select:
    """The values of ``column`` (of a list with one row per person) fewer than ``limit``
    rows hold: what a viewer's list, and a pseudonymous export, show as "Other"."""
    return select(column).group_by(column).having(func.count() < limit)
