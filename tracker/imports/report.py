"""What an import is about and what it found: the report, its problems, the rows read.

``Report`` is what the preview page and the command line show (kept as JSON between
the preview and the confirmation); ``Row`` is one data row while it is checked;
``Context`` is who imports, into which project, on which day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Project, User
from tracker.permissions import in_scope, sees_all_projects


@dataclass
class Problem:
    """One thing wrong (or worth a look) in the file: where, and why."""

    row: int | None
    column: str | None
    message: str
    #: the cell as the file gives it, shown beside the reason
    value: str | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(_("row %(n)d", n=self.row))
        if self.column:
            where.append(self.column + (f' "{self.value}"' if self.value is not None else ""))
        return f"{', '.join(where)}: {self.message}" if where else self.message


#: problems kept in detail, of each kind (a column's errors, or a column's points to check)
KEPT_PER_KIND = 200
#: and of each severity (errors, points to check): a file of bad cells gave 294,000 problems
#: and a 31 MB summary (issue 17); beyond these, only how many of each kind are counted
KEPT_PROBLEMS = 1_000
#: the longest message kept (a message may quote a cell)
KEPT_MESSAGE = 500


@dataclass
class Omitted:
    """How many problems of one kind were counted but not kept in detail."""

    #: "error" or "warning"
    severity: str
    column: str | None
    count: int


@dataclass
class Report:
    """What an import found and did; kept as JSON between the preview and the confirmation.

    What is kept is bounded (``to_dict``): the first problems of each kind in detail,
    the others counted (``omitted``).
    """

    kind: str
    filename: str
    sha256: str
    rows: int = 0
    valid: int = 0
    skipped: int = 0
    written: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: the first rows as read, column -> text, for the preview page
    sample: list[dict[str, str]] = field(default_factory=list)
    #: the columns of the file the import reads, in the file's order
    columns: list[str] = field(default_factory=list)
    #: the codes of the records written (participants) or of the people concerned
    codes: list[str] = field(default_factory=list)
    #: rows that pass every rule but may be there already (a likely duplicate, a record
    #: already there): left out of the writing unless the person ticks them in
    flagged: list[int] = field(default_factory=list)
    #: of those, the rows this run left out (or a dry run would)
    left_out: list[int] = field(default_factory=list)
    #: the import's audit line, whose id each participant's "created" line holds
    import_id: int | None = None
    #: the problems of each kind not kept in detail (``to_dict`` keeps the first ones)
    omitted: list[Omitted] = field(default_factory=list)
    #: the rows with errors, counted before the errors kept were bounded
    invalid_rows: int | None = None

    @property
    def invalid(self) -> int:
        if self.invalid_rows is not None:
            return self.invalid_rows
        return len({p.row for p in self.errors if p.row is not None})

    @property
    def file_errors(self) -> list[Problem]:
        return [p for p in self.errors if p.row is None]

    @property
    def importable(self) -> bool:
        """Whether a confirmation could write something."""
        return not self.file_errors and self.valid > 0

    def bounded(self) -> Report:
        """Return the report with the first problems of each kind, the others counted.

        Problems are kept in the order given (rows in order): at most ``KEPT_PER_KIND`` of
        each column's errors or warnings, ``KEPT_PROBLEMS`` of each severity; the counts
        (``invalid``, ``omitted``) stay those of every problem found.
        """
        omitted: dict[tuple[str, str | None], int] = {
            (o.severity, o.column): o.count for o in self.omitted
        }
        kept: dict[str, list[Problem]] = {}
        for severity, problems in (("error", self.errors), ("warning", self.warnings)):
            of_kind: dict[str | None, int] = {}
            kept[severity] = []
            for problem in problems:
                taken = of_kind.get(problem.column, 0)
                if taken < KEPT_PER_KIND and len(kept[severity]) < KEPT_PROBLEMS:
                    of_kind[problem.column] = taken + 1
                    kept[severity].append(_shortened(problem))
                else:
                    key = (severity, problem.column)
                    omitted[key] = omitted.get(key, 0) + 1
        return replace(
            self,
            errors=kept["error"],
            warnings=kept["warning"],
            omitted=[Omitted(severity, column, n) for (severity, column), n in omitted.items()],
            invalid_rows=self.invalid,
        )

    def omitted_of(self, severity: str) -> list[Omitted]:
        """Return the kinds of ``severity`` ("error", "warning") with problems not kept."""
        return [o for o in self.omitted if o.severity == severity]

    def to_dict(self) -> dict[str, Any]:
        """Return the report as kept between the check and the confirmation: bounded."""
        return asdict(self.bounded())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        data = dict(data)
        data["errors"] = [Problem(**p) for p in data.get("errors", [])]
        data["warnings"] = [Problem(**p) for p in data.get("warnings", [])]
        data["omitted"] = [Omitted(**o) for o in data.get("omitted", [])]
        return cls(**data)


def _shortened(problem: Problem) -> Problem:
    if len(problem.message) <= KEPT_MESSAGE:
        return problem
    return replace(problem, message=problem.message[: KEPT_MESSAGE - 1] + "…")


@dataclass
class Row:
    """One data row: its number, the values read so far, and whether it holds."""

    number: int
    values: dict[str, Any]
    raw: dict[str, Any]
    ok: bool = True
    #: the columns already reported for this row
    failed: set[str] = field(default_factory=set)
    #: may be there already: written only when ticked in (``Report.flagged``)
    flagged: bool = False


@dataclass
class Context:
    """Who imports, into what, and the day it is."""

    user: User | None
    default_project: Project | None
    today: date
    #: called as (rows done, rows to do) while reading and writing, for progress display
    progress: Callable[[int, int], None] | None = None
    #: called as (what is being done, in words; rows to do) at each step of the import
    step: Callable[[str, int | None], None] | None = None

    def announce(self, label: str, total: int | None) -> None:
        if self.step is not None:
            self.step(label, total)

    def project_query(self):
        query = select(Project)
        if self.user is not None:
            query = query.where(in_scope(self.user, Project.id))
        return query

    def participant_scope(self, column):
        if self.user is None:
            return column.is_not(None)
        return in_scope(self.user, column)

    def scoped_project_ids(self) -> list[int] | None:
        """Return the ids of the projects the importer may see, None for all."""
        if self.user is None or sees_all_projects(self.user):
            return None
        return list(db.session.scalars(self.project_query().with_only_columns(Project.id)))


#: the longest cell shown beside a problem
SHOWN_VALUE = 80


def cell_text(value: Any) -> str | None:
    """Return a cell as the file gives it, short enough to show beside a problem."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, date):
        value = value.isoformat()
    try:
        text = str(value).strip()
    except ValueError:  # an integer too long for Python to write out
        return "…"
    if not text:
        return None
    return text if len(text) <= SHOWN_VALUE else text[: SHOWN_VALUE - 1] + "…"


def fail(report: Report, row: Row, column: str | None, message: str) -> None:
    """Report ``message`` on the row's ``column``, with its cell; the row will not be written."""
    report.errors.append(Problem(row.number, column, message, cell_text(row.raw.get(column))))
    row.ok = False
    row.failed.add(column or "")


def warn(report: Report, row: Row, column: str | None, message: str) -> None:
    """Report ``message`` on the row's ``column``, with its cell, as a point to check."""
    report.warnings.append(Problem(row.number, column, message, cell_text(row.raw.get(column))))


def flag(report: Report, row: Row, column: str | None, message: str) -> None:
    """Warn that the row may be there already: it is written only if ticked in."""
    warn(report, row, column, message)
    row.flagged = True


#: the import column of each domain field whose name differs
_FIELD_TO_COLUMN = {
    "course": "course_title",
    "participant": "participant_code",
    "consent_on": "consent_date",
}


def field_column(field_name: str | None) -> str | None:
    """Return the import column of a domain field (as a DomainError or a rule names it)."""
    if field_name is None:
        return None
    return _FIELD_TO_COLUMN.get(field_name, field_name)
