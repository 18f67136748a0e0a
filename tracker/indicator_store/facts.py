"""What a person contributes to the figures, derived by the live definitions.

A person's **facts** are her characteristics (sex, age group at registration,
nationality, region) and, for each indicator of people, the events that count
her (date, project and the values of the indicator's other dimensions), read by
the very ``rows`` queries of ``tracker/indicators.py`` restricted to her. Her
**contributions** are the counters she adds one to: in each window that holds
one of her events (``windows.of_date``), once per indicator whatever the number
of events (distinct people stay distinct), once per value of sector or
provider, once in her single placement kind ("both" when she has two kinds),
and once in the month of her first event of the window. ``contributions`` is
pure, so the store is the sum of ``contributions(facts)`` over people, and a
change of one person is the difference of her contributions before and after.
"""

from __future__ import annotations

import functools
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, bindparam, select

from tracker import indicators
from tracker.extensions import db
from tracker.indicator_store import windows
from tracker.models import Participant, Project

#: the indicators of people the store keeps (the institutions' are computed live: small)
STORED = ("registered", "enrolled", "trained", "placed", "retained_6m")
#: people both trained and placed in the same window (the placement rate's numerator)
TRAINED_AND_PLACED = "trained_placed"
#: the value dimension that holds the month of each person's first event in a window
FIRST = "_first"

#: per stored indicator, its dimensions that are not a person's characteristic
VALUE_DIMENSIONS = {
    key: tuple(
        d for d in indicators.INDICATORS[key].dimensions if d not in indicators.PERSON_DIMENSIONS
    )
    for key in STORED
}

#: a counter's key: ("t", project, indicator, window) for a total,
#: ("c", project, indicator, window, sex, age group, nationality, region) for a cell,
#: ("v", project, indicator, window, region, dimension, category) for a value
Key = tuple


def _text(value: Any) -> str:
    """Return a value as the store's text ('' for none)."""
    value = getattr(value, "value", value)
    return "" if value is None else str(value)


def facts_of(participant_ids: Sequence[int]) -> dict[int, dict]:
    """Return the facts of each of these people who counts somewhere, by id.

    A person with no event (merged into another record, or gone) is left out.
    """
    facts: dict[int, dict] = {}
    ids = list(participant_ids)
    for start in range(0, len(ids), IN_LIST):
        facts.update(_facts_of(ids[start : start + IN_LIST]))
    return facts


#: ids per IN list: SQLite 3.40 plans a list of 5,000 over the indicators' subqueries
#: as a scan (6.6 s at 100,000 people, against 5 ms for 1,000)
IN_LIST = 1_000


@functools.cache
def _statements() -> tuple[list[tuple[str, Select]], Select]:
    """Build once the queries of one batch of people's events and cells (ids bound later).

    Built per call, the indicators' subqueries cost more to put together than to run
    (5 ms of the 7 of a write); the same objects let SQLAlchemy reuse their compiled SQL.
    """
    every_project = indicators.Scope(select(Project.id))  # type: ignore[arg-type]
    events = []
    for key in STORED:
        rows = indicators.INDICATORS[key].rows(every_project).subquery()
        dims = VALUE_DIMENSIONS[key]
        query = select(
            rows.c.subject_id, rows.c.project_id, rows.c.on, *(rows.c[d] for d in dims)
        ).where(rows.c.subject_id.in_(bindparam("ids", expanding=True)))
        events.append((key, query))
    cells = select(
        Participant.id,
        Participant.sex,
        indicators.age_group_at(Participant.registered_on),
        Participant.nationality,
        Participant.region,
    ).where(Participant.id.in_(bindparam("ids", expanding=True)))
    return events, cells


def _facts_of(ids: list[int]) -> dict[int, dict]:
    queries, cells = _statements()
    events: dict[int, dict[str, list]] = defaultdict(dict)
    for key, query in queries:
        for subject, project, on, *values in db.session.execute(query, {"ids": ids}):
            event = [project, on.isoformat() if on is not None else None]
            event.extend(getattr(v, "value", v) for v in values)
            events[subject].setdefault(key, []).append(event)
    if not events:
        return {}
    facts = {}
    for pid, *cell in db.session.execute(cells, {"ids": list(events)}):
        facts[pid] = {
            "c": [_text(v) for v in cell],
            "e": {key: sorted(evs, key=_order) for key, evs in events[pid].items()},
        }
    return facts


def _order(event: list) -> tuple:
    return tuple("" if v is None else str(v) for v in event)


def dumps(facts: dict | None) -> str:
    """Return facts as the stored text (the same facts give the same text)."""
    return json.dumps(facts or {}, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def loads(text: str | None) -> dict:
    return json.loads(text) if text else {}


def _add(out: Counter, project: int, key: str, window: str, cell: Sequence[str]) -> None:
    out[("t", project, key, window)] += 1
    out[("c", project, key, window, *cell)] += 1


def contributions(facts: dict) -> Counter:
    """Return the counters one person adds one to (empty facts: none)."""
    out: Counter = Counter()
    if not facts or not facts.get("e"):
        return out
    cell = facts["c"]
    region = cell[3]
    windows_of: dict[str, dict[int, set[str]]] = {}
    for key, events in facts["e"].items():
        dims = VALUE_DIMENSIONS[key]
        by_project: dict[int, list] = defaultdict(list)
        for event in events:
            by_project[event[0]].append(event)
        for project, project_events in by_project.items():
            in_window: dict[str, list] = defaultdict(list)
            for event in project_events:
                in_window[windows.ALL].append(event)
                day = event[1]
                for window in windows.of_date(None if day is None else date.fromisoformat(day)):
                    in_window[window].append(event)
            windows_of.setdefault(key, {})[project] = set(in_window)
            for window, window_events in in_window.items():
                _add(out, project, key, window, cell)
                for i, dim in enumerate(dims):
                    values = {_text(event[2 + i]) for event in window_events}
                    combine = indicators.DIMENSIONS[dim].combine_as
                    if combine is not None and len(values) > 1:
                        values = {combine}
                    for value in values:
                        out[("v", project, key, window, region, dim, value)] += 1
                dated = [event[1] for event in window_events if event[1] is not None]
                if dated and window != windows.UNDATED:
                    out[("v", project, key, window, region, FIRST, min(dated)[:7])] += 1
    trained, placed = windows_of.get("trained", {}), windows_of.get("placed", {})
    for project in trained.keys() & placed.keys():
        for window in (trained[project] & placed[project]) - {windows.UNDATED}:
            _add(out, project, TRAINED_AND_PLACED, window, cell)
    return out
