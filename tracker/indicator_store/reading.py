"""Figures for a scope, read from the store when it can answer exactly, else computed live.

``figures_for(scope)`` returns a ``Stored`` reader when every figure of people
can be read from standard windows (``windows.equal_window``) of projects whose
store is built, and no training-provider filter is set (that filter selects
people by any course of the provider, which the counters do not hold); else a
``Live`` one. Both answer the same questions with the same shapes as
``tracker/indicators.py``: the headline, the breakdowns, the trends. The
institutions' figures are always computed live: hundreds of rows, not people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from tracker import indicators
from tracker.extensions import db
from tracker.indicator_store import keeping, windows
from tracker.indicator_store.facts import FIRST, STORED, TRAINED_AND_PLACED
from tracker.models import IndicatorCell, IndicatorTotal, IndicatorValue

LIVE = "live"
STORE = "store"


def _sorted(counts: dict[Any, int]) -> list[tuple[Any, int]]:
    return sorted(
        ((c, n) for c, n in counts.items() if n), key=lambda pair: (-pair[1], str(pair[0]))
    )


class Live:
    """Every figure computed from the records (``tracker/indicators.py``)."""

    source = LIVE

    def __init__(self, scope: indicators.Scope) -> None:
        self.scope = scope

    def headline(self, keys: Sequence[str] = indicators.HEADLINE) -> dict[str, int | float | None]:
        return indicators.headline(self.scope, keys)

    def breakdowns(self, key: str, dimensions: Sequence[str]) -> dict[str, list[tuple[Any, int]]]:
        """Return the (category, count) pairs of each breakdown of ``key``.

        The breakdowns by a person's characteristics come from one query together
        (``indicators.disaggregate_people``), the others one query each.
        """
        people = [d for d in dimensions if d in indicators.PERSON_DIMENSIONS]
        pairs = indicators.disaggregate_people(key, people, self.scope) if people else {}
        for dimension in dimensions:
            if dimension not in pairs:
                pairs[dimension] = indicators.disaggregate(key, dimension, self.scope)
        return pairs

    def by_period(self, key: str, grain: str = "quarter") -> list[tuple[int, int, int]]:
        return indicators.by_period(key, self.scope, grain)


class Stored(Live):
    """The figures of people read from the store's counters, in a few indexed reads."""

    source = STORE

    def __init__(
        self, scope: indicators.Scope, chosen: dict[str, str], totals: dict[tuple, int]
    ) -> None:
        super().__init__(scope)
        #: the window equal to the scope's period, per stored indicator
        self.window = chosen
        self._totals = totals

    def _where(self, model: Any, key: str) -> list:
        conditions = [
            model.project_id.in_(self.scope.project_ids),
            model.indicator == key,
            model.window == self.window[key],
            model.n != 0,
        ]
        if self.scope.region is not None:
            conditions.append(model.region == self.scope.region)
        return conditions

    def years_with_events(self, key: str) -> list[int]:
        """Return the years in which ``key`` counts somebody, in the scope's projects."""
        return sorted(int(w) for (k, w), n in self._totals.items() if k == key and len(w) == 4)

    def count(self, key: str) -> int:
        if self.window[key] == windows.NOTHING:
            return 0
        if self.scope.region is None:
            return self._totals.get((key, self.window[key]), 0)
        return db.session.scalar(
            select(func.coalesce(func.sum(IndicatorCell.n), 0)).where(
                *self._where(IndicatorCell, key)
            )
        )

    def headline(self, keys: Sequence[str] = indicators.HEADLINE) -> dict[str, int | float | None]:
        figures: dict[str, int | float | None] = {}
        for key in keys:
            if key in STORED:
                figures[key] = self.count(key)
            elif key == "placement_rate":
                trained = self.count("trained")
                figures[key] = self.count(TRAINED_AND_PLACED) / trained if trained else None
            else:
                figures[key] = indicators.count(key, self.scope)
        return figures

    def breakdowns(self, key: str, dimensions: Sequence[str]) -> dict[str, list[tuple[Any, int]]]:
        if key not in STORED:
            return super().breakdowns(key, dimensions)
        pairs: dict[str, list[tuple[Any, int]]] = {}
        people = [d for d in dimensions if d in indicators.PERSON_DIMENSIONS]
        if people:
            pairs.update(self._people(key, people))
        for dimension in dimensions:
            if dimension not in pairs:
                pairs[dimension] = self._values(key, dimension)
        return pairs

    def _people(self, key: str, dimensions: Sequence[str]) -> dict[str, list[tuple[Any, int]]]:
        totals: dict[str, dict[Any, int]] = {d: defaultdict(int) for d in dimensions}
        if self.window[key] != windows.NOTHING:
            columns = [getattr(IndicatorCell, d) for d in dimensions]
            query = (
                select(*columns, func.sum(IndicatorCell.n))
                .where(*self._where(IndicatorCell, key))
                .group_by(*columns)
            )
            for *categories, n in db.session.execute(query):
                for dimension, category in zip(dimensions, categories, strict=True):
                    totals[dimension][category or None] += int(n)
        return {d: _sorted(totals[d]) for d in dimensions}

    def _values(self, key: str, dimension: str) -> list[tuple[Any, int]]:
        if dimension not in indicators.INDICATORS[key].dimensions:
            raise ValueError(f"indicator {key} has no dimension {dimension}")
        return _sorted(
            {_category(dimension, c): n for c, n in self._value_sums(key, dimension).items()}
        )

    def _value_sums(self, key: str, dimension: str) -> dict[str, int]:
        if self.window[key] == windows.NOTHING:
            return {}
        query = (
            select(IndicatorValue.category, func.sum(IndicatorValue.n))
            .where(*self._where(IndicatorValue, key), IndicatorValue.dimension == dimension)
            .group_by(IndicatorValue.category)
        )
        return {category: int(n) for category, n in db.session.execute(query)}

    def by_period(self, key: str, grain: str = "quarter") -> list[tuple[int, int, int]]:
        if key not in STORED:
            return super().by_period(key, grain)
        if grain not in ("quarter", "month"):
            raise ValueError(f"unknown grain {grain}")
        counts: dict[tuple[int, int], int] = defaultdict(int)
        for month, n in self._value_sums(key, FIRST).items():
            year, number = int(month[:4]), int(month[5:])
            part = number if grain == "month" else (number - 1) // 3 + 1
            counts[(year, part)] += n
        return [(y, p, n) for (y, p), n in sorted(counts.items()) if n]


def _category(dimension: str, value: str) -> Any:
    if value == "":
        return None
    if dimension == "provider":
        return int(value)
    return value


def regions(project_ids: Sequence[int]) -> list[str]:
    """Return the regions of the people the store counts as registered in the projects."""
    keeping.apply_pending(db.session())
    query = (
        select(IndicatorCell.region)
        .where(
            IndicatorCell.project_id.in_(list(project_ids)),
            IndicatorCell.indicator == "registered",
            IndicatorCell.window == windows.ALL,
            IndicatorCell.n > 0,
            IndicatorCell.region != "",
        )
        .distinct()
        .order_by(IndicatorCell.region)
    )
    return list(db.session.scalars(query))


def figures_for(scope: indicators.Scope) -> Live:
    """Return the reader that answers for ``scope``: the store's when it can, else live."""
    if scope.provider_id is not None or keeping.stale_projects(scope.project_ids):
        return Live(scope)
    keeping.apply_pending(db.session())
    query = (
        select(IndicatorTotal.indicator, IndicatorTotal.window, func.sum(IndicatorTotal.n))
        .where(IndicatorTotal.project_id.in_(scope.project_ids), IndicatorTotal.n != 0)
        .group_by(IndicatorTotal.indicator, IndicatorTotal.window)
    )
    totals = {(key, window): int(n) for key, window, n in db.session.execute(query) if n}
    with_events: dict[str, set[str]] = defaultdict(set)
    for key, window in totals:
        with_events[key].add(window)
    with_events[TRAINED_AND_PLACED] = with_events["trained"] | with_events["placed"]
    chosen = {}
    for key in (*STORED, TRAINED_AND_PLACED):
        window = windows.equal_window(with_events[key], scope.start, scope.end)
        if window is None:
            return Live(scope)
        chosen[key] = window
    return Stored(scope, chosen, totals)
