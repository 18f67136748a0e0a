"""The standard windows of the store, and which of them a period is equal to.

A window is named by text: ``all`` (no period), ``2015`` (a year), ``2015Q2`` (a
quarter), ``2015-05`` (a month), and ``none`` for the events that have no date
(counted in ``all`` only, since a period leaves them out). Pure functions: no
database.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date

ALL = "all"
UNDATED = "none"


def of_date(day: date | None) -> tuple[str, ...]:
    """Return the dated windows an event of ``day`` falls in (``none`` when undated)."""
    if day is None:
        return (UNDATED,)
    return (
        f"{day.year:04d}",
        f"{day.year:04d}Q{(day.month - 1) // 3 + 1}",
        f"{day.year:04d}-{day.month:02d}",
    )


def month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def is_month(window: str) -> bool:
    return len(window) == 7 and window[4] == "-"


def month_bounds(window: str) -> tuple[date, date]:
    """Return the first and last day of a month window."""
    year, number = int(window[:4]), int(window[5:])
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def quarter_of(window: str) -> str:
    """Return the quarter window a month window is in."""
    return f"{window[:4]}Q{(int(window[5:]) - 1) // 3 + 1}"


#: the answer of ``equal_window`` when the period holds none of the events
NOTHING = ""


def equal_window(with_events: Iterable[str], start: date | None, end: date | None) -> str | None:
    """Return a window holding exactly the events that fall in [start, end], or None.

    ``with_events`` names the windows that hold at least one event (of the
    indicators and projects concerned): its months, and ``none`` if some event has
    no date. A period is served by the store when no month with events is cut by
    its bounds: the events inside it are then whole months, and if those months
    are every month with events, the period equals ``all`` (when no event is
    undated); if they are every month with events of one year, quarter or month,
    it equals that window. ``NOTHING`` when the period holds no event; None when
    it cuts a month with events or holds months of several years but not all:
    such a period is computed live.
    """
    windows = set(with_events)
    if start is None and end is None:
        return ALL
    months = sorted(w for w in windows if is_month(w))
    inside = []
    for window in months:
        first, last = month_bounds(window)
        meets = (end is None or first <= end) and (start is None or last >= start)
        within = (start is None or first >= start) and (end is None or last <= end)
        if meets and not within:
            return None
        if within:
            inside.append(window)
    if not inside:
        return NOTHING
    if inside == months and UNDATED not in windows:
        return ALL
    for window_of in (lambda m: m[:4], quarter_of, lambda m: m):
        names = {window_of(m) for m in inside}
        if len(names) == 1:
            (name,) = names
            if [m for m in months if window_of(m) == name] == inside:
                return name
    return None
