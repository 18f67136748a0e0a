"""Imports within bounds (issue 17): what a check keeps, how many uploads wait and for how
long, and what an officer learns of other projects from the importer's answers."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from tests.test_imports import csv_file, upload
from tracker.extensions import db
from tracker.imports.report import KEPT_PER_KIND, KEPT_PROBLEMS, Problem, Report
from tracker.models import (
    PendingImport,
    now_utc,
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def age(pending: PendingImport, days: float) -> None:
    pending.created_at = now_utc() - timedelta(days=days)
    db.session.commit()


# --- What a check keeps ---------------------------------------------------------------

#: a row with three bad cells: sex, nationality, e-mail
BAD = ";Fatou{n};Traoré;X;;Narnia;;;;pas-un-mail;;;;oui;2015-01-02;IDF-MA-2014;2015-01-02"


def test_a_check_keeps_the_first_problems_of_each_kind_and_counts_every_one(
    client, signin, manager, project
):
    """A file of bad cells stored every problem (issue 17: 294,000, a 31 MB summary)."""
    signin(manager)
    rows = 1_500
    assert upload(client, csv_file(*(BAD.format(n=n) for n in range(rows)))).status_code == 302
    pending = db.session.scalar(select(PendingImport))
    kept = Report.from_dict(pending.summary)
    assert len(kept.errors) <= KEPT_PROBLEMS
    for column in ("sex", "nationality", "email"):
        mine = [p for p in kept.errors if p.column == column]
        # the first ones, in row order
        assert [p.row for p in mine] == list(range(2, 2 + KEPT_PER_KIND))
        (more,) = [o for o in kept.omitted if o.column == column]
        assert (more.severity, more.count) == ("error", rows - KEPT_PER_KIND)
    assert kept.invalid == rows and kept.rows == rows
    assert len(json.dumps(pending.summary)) < 200_000
    page = client.get(f"/imports/{pending.token}").get_data(as_text=True)
    assert f"<dd>{rows}</dd>" in page  # every invalid row counted
    assert f"and {rows - KEPT_PER_KIND} more problems of this kind" in page
    response = client.get(f"/imports/{pending.token}/problems.csv")
    assert response.is_streamed
    listing = response.get_data(as_text=True)
    response.close()
    lines = listing.strip().splitlines()
    assert len(lines) == 1 + 3 * KEPT_PER_KIND + 3
    assert lines[-3:] == [
        f'"";"{column}";"";"error";"and {rows - KEPT_PER_KIND} more problems of this kind"'
        for column in ("sex", "nationality", "email")
    ]


def test_kept_problems_are_bounded_in_all_and_counted_by_kind(app):
    columns = [f"column_{n}" for n in range(8)]
    report = Report(kind="participants", filename="f.csv", sha256="0" * 64, rows=300)
    report.errors = [Problem(row, c, "bad", "x" * 80) for row in range(2, 302) for c in columns]
    report.warnings = [Problem(2, "city", "long " * 1000)]
    kept = Report.from_dict(report.to_dict())
    assert len(kept.errors) == KEPT_PROBLEMS and kept.invalid == 300
    omitted = {o.column: o.count for o in kept.omitted if o.severity == "error"}
    assert sum(omitted.values()) == len(report.errors) - KEPT_PROBLEMS
    for column in columns:
        shown = sum(p.column == column for p in kept.errors)
        assert shown <= KEPT_PER_KIND and shown + omitted.get(column, 0) == 300
    # a message quoting a long cell is kept shortened
    assert len(kept.warnings[0].message) <= 500
    # what is kept once more stays as it is
    again = Report.from_dict(kept.to_dict())
    assert again.to_dict() == kept.to_dict()
