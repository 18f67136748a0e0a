"""Small-cell suppression for documents that leave the organisation.

Cells of a published table that count between 1 and ``threshold - 1`` people are
shown as "< 5" (for a threshold of 5), following OCHA/IASC practice on
humanitarian data. Zeros stay visible, and totals are never suppressed.

When exactly one cell of a table is hidden, the total is printed and the rows do
not overlap (each person in one row), the hidden cell could be recomputed as the
total minus the visible cells; the smallest other non-zero cell is then hidden
too (complementary suppression). A complementary cell is at least ``threshold``,
so it is not shown as "< 5" (that would be false) but with its own mark, "x".

Everything here is pure and language-neutral: no Flask, no Babel.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence

#: what a cell hidden by complementary suppression shows instead of its value
COMPLEMENTARY_MARK = "x"


class Hidden(enum.Enum):
    """Why a cell is (or is not) hidden."""

    NO = "no"
    SMALL = "small"  # 1 .. threshold - 1: shown as "< threshold"
    COMPLEMENTARY = "complementary"  # hidden so that a small cell cannot be recomputed

    def __bool__(self) -> bool:
        return self is not Hidden.NO


def enabled(threshold: int) -> bool:
    """Return whether ``threshold`` hides anything (a threshold of 1 or less disables it)."""
    return threshold > 1


def small_cell_label(threshold: int) -> str:
    """Return what a small cell shows, e.g. "< 5"."""
    return f"< {threshold}"


def classify(
    values: Sequence[int],
    threshold: int,
    *,
    total_shown: bool = True,
    overlapping: bool = False,
) -> list[Hidden]:
    """Return, for each cell of one table, whether and why it must be hidden.

    ``total_shown``: the table prints its total. ``overlapping``: a person can be
    counted in several rows, so the rows do not add up to the total and a hidden
    cell cannot be recomputed by subtraction.
    """
    if any(value < 0 for value in values):
        raise ValueError("counts cannot be negative")
    if not enabled(threshold):
        return [Hidden.NO] * len(values)
    status = [Hidden.SMALL if 0 < value < threshold else Hidden.NO for value in values]
    small = [i for i, hidden in enumerate(status) if hidden]
    if len(small) == 1 and total_shown and not overlapping:
        others = [(value, i) for i, value in enumerate(values) if value > 0 and not status[i]]
        if others:
            _, partner = min(others)
            status[partner] = Hidden.COMPLEMENTARY
    return status


def display(value: int, hidden: Hidden, threshold: int) -> int | str:
    """Return what one cell shows: the value, "< threshold" or the complementary mark."""
    if hidden is Hidden.SMALL:
        return small_cell_label(threshold)
    if hidden is Hidden.COMPLEMENTARY:
        return COMPLEMENTARY_MARK
    return value


def suppress(
    values: Sequence[int],
    threshold: int,
    *,
    total_shown: bool = True,
    overlapping: bool = False,
) -> list[int | str]:
    """Return the cells of one table as they may be published.

    >>> suppress([40, 3, 12, 0], 5)
    [40, '< 5', 'x', 0]
    """
    status = classify(values, threshold, total_shown=total_shown, overlapping=overlapping)
    return [display(v, h, threshold) for v, h in zip(values, status, strict=True)]


def shares(values: Sequence[int], total: int, status: Sequence[Hidden]) -> list[float | None]:
    """Return each cell as a share of ``total`` (0..1), None where the cell is hidden.

    A percentage of a hidden cell would give the cell away (the total is printed),
    so it is hidden with it. None also when the total is 0.
    """
    if len(values) != len(status):
        raise ValueError("one status per value")
    return [
        None if hidden or total <= 0 else value / total
        for value, hidden in zip(values, status, strict=True)
    ]


def coarsen_rare(values: Sequence[str], threshold: int, *, other: str) -> list[str]:
    """Replace the values that occur fewer than ``threshold`` times by ``other``.

    For a column of row-level data (e.g. nationality in a pseudonymous annex):
    counting rows would otherwise reveal the cells the tables hide.
    """
    if not enabled(threshold):
        return list(values)
    counts = Counter(values)
    return [value if counts[value] >= threshold else other for value in values]
