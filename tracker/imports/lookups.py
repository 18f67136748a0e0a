"""Finding what the rows of an import refer to: projects, participants, partners.

Each lookup reads the database a chunk of keys at a time, keeps to the importer's
projects, and reports on its row and column each key that names nothing the importer
may see.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from tracker.extensions import db
from tracker.imports.report import Context, Problem, Report, Row, fail
from tracker.models import Participant, Partner, Project
from tracker.participants import merging


def projects(ctx: Context, rows: Iterable[Row], report: Report) -> dict[str, Project]:
    """Return the projects the rows name, in the user's scope; fail rows naming others."""
    codes = {r.values.get("project_code") for r in rows if r.values.get("project_code")}
    found = {
        p.code: p for p in db.session.scalars(ctx.project_query().where(Project.code.in_(codes)))
    }
    for row in rows:
        code = row.values.get("project_code")
        if code and code not in found and "project_code" not in row.failed:
            fail(report, row, "project_code", _("%(code)s is not a project of yours", code=code))
    return found


def chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    """Yield ``items`` in slices of ``size``: a query per slice stays within bound limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _participants_by_code(ctx: Context, codes: Iterable[str]) -> dict[str, Participant]:
    wanted = sorted(set(codes))
    found: dict[str, Participant] = {}
    for chunk in chunks(wanted):
        query = select(Participant).where(
            Participant.code.in_(chunk), ctx.participant_scope(Participant.project_id)
        )
        # a code merged into another record leads to that record, as its case file does
        found.update((p.code, merging.survivor_of(p)) for p in db.session.scalars(query))
    return found


def attach_people(ctx: Context, rows: list[Row], report: Report) -> None:
    """Find the participant each row names, in the user's scope; fail the rows naming nobody."""
    people = _participants_by_code(ctx, (r.values["participant_code"] for r in rows if r.ok))
    for row in rows:
        if row.ok:
            row.values["participant"] = people.get(row.values["participant_code"])
            person = row.values["participant"]
            if person is None:
                fail(report, row, "participant_code", _("no participant of yours has this code"))
            elif person.code != row.values["participant_code"]:
                report.warnings.append(
                    Problem(
                        row.number,
                        "participant_code",
                        _(
                            "%(code)s was merged into %(into)s: the row is recorded for %(into)s",
                            code=row.values["participant_code"],
                            into=person.code,
                        ),
                    )
                )


def partners(rows: Iterable[Row], names: Sequence[str], report: Report) -> dict[str, Partner]:
    """Return partners by the acronym or name the rows give; fail rows naming unknown ones."""
    keys = {r.values.get(n) for r in rows for n in names if r.values.get(n)}
    found: dict[str, Partner] = {}
    for chunk in chunks(sorted(keys)):
        for partner in db.session.scalars(
            select(Partner).where(Partner.acronym.in_(chunk) | Partner.name.in_(chunk))
        ):
            for key in (partner.acronym, partner.name):
                if key in keys:
                    found.setdefault(key, partner)
    for row in rows:
        for name in names:
            key = row.values.get(name)
            if key and key not in found:
                fail(report, row, name, _("%(name)s is not in the partner list", name=key))
    return found
