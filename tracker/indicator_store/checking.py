"""Comparing the store with the live definitions: what ``indicators verify`` prints.

Three comparisons per project, each naming what differs:

1. each person's stored facts with her facts read now from the records;
2. every counter with the sum of every person's contributions read now;
3. the figures the dashboard reads from the store (headline, every breakdown,
   the trends) with ``tracker/indicators.py`` computed live, over the whole
   project, its period and its latest year with events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date

from sqlalchemy import select

from tracker import indicators
from tracker.extensions import db
from tracker.indicator_store import facts as facts_
from tracker.indicator_store import keeping, reading, windows
from tracker.models import Participant, Project


def _codes(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = select(Participant.id, Participant.code).where(Participant.id.in_(ids))
    return dict(db.session.execute(query).all())


def _key_text(key: tuple) -> str:
    kind, _project, indicator, window, *rest = key
    if kind == "t":
        return f"{indicator} {window} total"
    if kind == "c":
        sex, age, nationality, region = rest
        return (
            f"{indicator} {window} sex={sex or '-'} age={age} "
            f"nationality={nationality or '-'} region={region or '-'}"
        )
    region, dimension, category = rest
    return f"{indicator} {window} region={region or '-'} {dimension}={category or '-'}"


def differences(project: Project) -> Iterator[str]:
    """Yield one line per difference between the project's store and its records."""
    if keeping.stale_projects([project.id]):
        yield f"{project.code}: not built since the store was created (run indicators rebuild)"
        return
    expected: Counter = Counter()
    for ids, people in keeping.facts_by_chunk(project.id):
        stored = keeping.stored_facts(ids)
        for facts in people.values():
            expected.update(facts_.contributions(facts))
        wrong = [pid for pid in ids if people.get(pid) != stored.get(pid)]
        codes = _codes(wrong)
        for pid in wrong:
            yield (
                f"{project.code}: participant {codes.get(pid, pid)}: stored facts "
                f"{facts_.dumps(stored.get(pid))} but the records give "
                f"{facts_.dumps(people.get(pid))}"
            )
    for pid in keeping.stored_facts_outside(project.id):
        yield f"{project.code}: participant #{pid} is no longer in the records, still in the store"
    # the stored counters are streamed against the expected ones (one set in memory)
    wrong = []
    for key, n in keeping.iter_stored_counters(project.id):
        should = expected.pop(key, 0)
        if n != should:
            wrong.append((key, n, should))
    wrong.extend((key, 0, n) for key, n in expected.items() if n and key[1] == project.id)
    for key, n, should in sorted(wrong):
        yield f"{project.code}: {_key_text(key)}: stored {n}, records {should}"
    for scope in _scopes(project):
        yield from _figure_differences(project, scope)


def _scopes(project: Project) -> list[indicators.Scope]:
    scopes = [
        indicators.Scope((project.id,)),
        indicators.Scope((project.id,), project.start_date, project.end_date),
    ]
    whole = reading.figures_for(scopes[0])
    years = whole.years_with_events("trained") if isinstance(whole, reading.Stored) else []
    if years:
        scopes.append(
            indicators.Scope((project.id,), date(years[-1], 1, 1), date(years[-1], 12, 31))
        )
    return scopes


def _figure_differences(project: Project, scope: indicators.Scope) -> Iterator[str]:
    stored = reading.figures_for(scope)
    if not isinstance(stored, reading.Stored):
        return  # a period the store does not serve: nothing of it to compare
    live = reading.Live(scope)
    where = f"{project.code} {scope.start or '…'}–{scope.end or '…'}"
    for key, value in stored.headline().items():
        expected = live.headline((key,))[key]
        if value != expected:
            yield f"{where}: {key}: store {value}, live {expected}"
    for key in facts_.STORED:
        dimensions = indicators.INDICATORS[key].dimensions
        from_store = stored.breakdowns(key, dimensions)
        from_live = live.breakdowns(key, dimensions)
        for dimension in dimensions:
            if from_store[dimension] != from_live[dimension]:
                yield (
                    f"{where}: {key} by {dimension}: store {from_store[dimension]}, "
                    f"live {from_live[dimension]}"
                )
        if scope.start is None or stored.window[key] == windows.NOTHING:
            continue
        trend, expected_trend = stored.by_period(key), live.by_period(key)
        if trend != expected_trend:
            yield f"{where}: {key} by quarter: store {trend}, live {expected_trend}"
