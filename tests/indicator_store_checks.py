"""What the indicator store's tests compare: every figure from the store and computed live."""

from __future__ import annotations

from tracker import indicators
from tracker.indicator_store import checking, reading
from tracker.indicator_store.facts import STORED
from tracker.models import Project


def assert_store_equals_live(scope: indicators.Scope) -> None:
    """Every figure, breakdown and trend the store gives for ``scope`` equals the live one."""
    stored = reading.figures_for(scope)
    assert isinstance(stored, reading.Stored), f"the store does not serve {scope}"
    live = reading.Live(scope)
    assert stored.headline() == live.headline()
    for key in STORED:
        dimensions = indicators.INDICATORS[key].dimensions
        assert stored.breakdowns(key, dimensions) == live.breakdowns(key, dimensions), key
        if scope.start is not None:
            for grain in ("quarter", "month"):
                assert stored.by_period(key, grain) == live.by_period(key, grain), (key, grain)


def assert_verified(project: Project) -> None:
    assert list(checking.differences(project)) == []
