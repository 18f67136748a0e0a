"""The figures IATI and DHIS2 carry, read as the dashboard reads them.

``reading.figures_for`` answers from the indicator store where it can and from
the live definitions otherwise: the same numbers the dashboard shows for the
same projects and period, by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tracker import indicators
from tracker.indicator_store import reading
from tracker.interop.periods import Period

#: the indicators other systems receive, in this order
KEYS = ("trained", "placed", "institutions_strengthened")
SEX = "sex"


@dataclass(frozen=True)
class Figure:
    """One indicator over one period: the figure and, for people, its breakdown by sex."""

    key: str
    period: Period
    total: int
    #: sex code ("F", "M"; None: not recorded) -> distinct people; None for institutions
    by_sex: dict[str | None, int] | None

    @property
    def about_people(self) -> bool:
        return self.by_sex is not None


def about_people(key: str) -> bool:
    """Say whether indicator ``key`` counts people (and so has a breakdown by sex)."""
    return SEX in indicators.get(key).dimensions


def figures(
    project_ids: Sequence[int], period: Period, keys: Sequence[str] = KEYS
) -> dict[str, Figure]:
    """Return the figure of each indicator of ``keys`` for the projects over ``period``."""
    scope = indicators.Scope(tuple(project_ids), period.start, period.end)
    source = reading.figures_for(scope)
    totals = source.headline(tuple(keys))
    found = {}
    for key in keys:
        by_sex = None
        if about_people(key):
            by_sex = dict(source.breakdowns(key, (SEX,))[SEX])
        found[key] = Figure(key, period, int(totals[key] or 0), by_sex)
    return found
