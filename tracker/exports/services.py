"""What goes into an export: the rows of each table, in the user's scope, and the audit line.

Rows are read with SQL selects that join what a row needs (participant code,
project code, course, partners) and return plain tuples, never ORM objects: an
export of 100,000 rows costs about what the bare query costs. Columns that a
pseudonymous export leaves out are not even selected. Sensitive notes are never
exported. Choices, dates, booleans and whole numbers are read as the database
driver returns them (SQLite gives a date as the ISO text the cell holds, and a
choice as its stored value), and each column's conversion to a cell is chosen
once per export, not per cell.

Consent decides whose rows a file carries (``tracker.participants.consent``): a
named export of participants, enrolments, placements or follow-ups leaves out
everyone without a current consent to case management; a pseudonymous one
leaves out everyone whose code may not leave the organisation (she withdrew
her consent to donor reporting, or it expired; or, never asked about donor
reporting, she withdrew her consent to case management). Indicator tables
count everybody: figures are not personal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Date,
    Enum,
    Integer,
    Select,
    String,
    func,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import aliased
from sqlalchemy.types import NullType

from tracker import audit, indicators
from tracker.columns import (
    BOOLEAN,
    CHOICE,
    DATE,
    INDICATOR_FIGURES,
    INTEGER,
    PHONE,
    TABLES,
    TEXT_KINDS,
    Column,
    Table,
    iso_date_cell,
    yes_no_cell,
)
from tracker.extensions import db
from tracker.indicator_store import reading
from tracker.models import (
    Activity,
    ActivityAttendance,
    Consent,
    ConsentPurpose,
    Enrolment,
    FollowUp,
    Participant,
    Partner,
    Placement,
    Project,
    TrainingCourse,
    User,
)
from tracker.participants import consent as consents
from tracker.participants import listing
from tracker.permissions import in_scope
from tracker.reports import disclosure, spreadsheets

RECORD_KINDS = tuple(TABLES)
#: the tables whose rows are about one participant each: consent filters them
PERSON_KINDS = ("participants", "enrolments", "placements", "followups")
INDICATORS = INDICATOR_FIGURES.key
KINDS = (*RECORD_KINDS, INDICATORS)
FORMATS = ("csv", "xlsx")
DELIMITERS = {"semicolon": ";", "comma": ","}
#: rows fetched from the database at a time
BATCH = 1000
#: the most rows an XLSX sheet holds (with its header); config EXPORT_XLSX_MAX_ROWS overrides
#: it. CSV has no limit.
XLSX_MAX_ROWS = 1_048_575


@dataclass
class Export:
    """The content of one export: its columns and its rows of cells."""

    table: Table
    columns: tuple[Column, ...]
    rows: Iterable[list[Any]]
    #: the number of rows, or what counts them, asked only when ``count`` is first read
    size: int | Callable[[], int]
    pseudonymous: bool
    #: what reads the ids of the people the rows are about (None: rows about no person),
    #: for the audit line to say whom the file held
    people: Callable[[], list[int]] | None = None
    #: the people of the rows read so far, and whether every row has been read
    held: set[int] = field(default_factory=set)
    read_all: bool = False
    #: once an audit line has named the file's people before its rows are read (a web
    #: download), the rows of anybody else are left out: the file never holds more
    named: frozenset[int] | None = None

    @property
    def count(self) -> int:
        """Return the number of rows; the command counts what it writes and never asks."""
        if callable(self.size):
            self.size = self.size()
        return self.size

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def hxl(self) -> list[str]:
        return [c.hxl for c in self.columns]

    @property
    def phone_columns(self) -> set[int]:
        return {i for i, c in enumerate(self.columns) if c.kind == PHONE}

    @property
    def date_columns(self) -> set[int]:
        return {i for i, c in enumerate(self.columns) if c.kind == DATE}

    @property
    def csv_formats(self) -> list[str]:
        """Say per column how the CSV writer treats its cells (``spreadsheets.csv_chunks``)."""
        return [c.csv_format for c in self.columns]


# --- The queries, one per table ----------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """How to read one table: an expression per column, the joins, the scope, the order."""

    expressions: dict[str, ColumnElement]
    joins: Callable[[Select], Select]
    #: the project a row belongs to; None for a table shared by every project (partners)
    project_column: ColumnElement | None
    order_by: tuple[ColumnElement, ...]
    #: column name -> (an extra expression, function(value, extra) giving the value)
    fixes: dict[str, tuple[ColumnElement | None, Callable[[Any, Any], Any]]]


def _partner_key(partner: Any) -> ColumnElement:
    # partners are written by acronym, or by name when they have none (as in seed_data/)
    return func.coalesce(partner.acronym, partner.name)


def _latest_case_management_consent(participant_id: Any) -> ColumnElement:
    """Return the date of the person's last consent to case management (one indexed lookup)."""
    return (
        select(func.max(Consent.given_on))
        .where(
            Consent.participant_id == participant_id,
            Consent.purpose == ConsentPurpose.CASE_MANAGEMENT,
        )
        .scalar_subquery()
    )


def _birth(value: Any, birth_year: Any) -> Any:
    # only the year is known: the cell holds it alone
    if value is None and birth_year:
        return str(birth_year)
    return value


def _participants(today: date, pseudonymous: bool) -> _Source:
    p = Participant
    # a named export carries only people whose consent to case management holds (the
    # condition of record_query), so the column says yes on every row of it
    consent_given = consents.case_management_holds_sql(p.id, today) if pseudonymous else true()
    return _Source(
        expressions={
            "code": p.code,
            "given_name": p.given_name,
            "family_name": p.family_name,
            "other_name": p.other_name,
            "sex": p.sex,
            "date_of_birth": p.date_of_birth,
            "nationality": p.nationality,
            "region": p.region,
            "city": p.city,
            "phone": p.phone,
            "email": p.email,
            "migration_status": p.migration_status,
            "education_level": p.education_level,
            "languages": p.languages,
            "consent_given": consent_given,
            "consent_date": _latest_case_management_consent(p.id),
            "project_code": Project.code,
            "registered_on": p.registered_on,
        },
        joins=lambda q: q.select_from(p).join(Project, p.project_id == Project.id),
        project_column=p.project_id,
        order_by=(p.code,),
        fixes={"date_of_birth": (p.birth_year, _birth)},
    )


def _enrolments(_today: date, _pseudonymous: bool) -> _Source:
    course = TrainingCourse
    return _Source(
        expressions={
            "participant_code": Participant.code,
            "project_code": Project.code,
            "course_title": course.title,
            "course_start_date": course.start_date,
            "enrolled_on": Enrolment.enrolled_on,
            "status": Enrolment.status,
            "completed_on": Enrolment.completed_on,
            "dropped_on": Enrolment.dropped_on,
            "attendance_pct": Enrolment.attendance_pct,
            "certificate": Enrolment.certificate,
        },
        joins=lambda q: (
            q.select_from(Enrolment)
            .join(Participant, Enrolment.participant_id == Participant.id)
            .join(course, Enrolment.course_id == course.id)
            .join(Project, course.project_id == Project.id)
        ),
        project_column=course.project_id,
        order_by=(Participant.code, course.start_date, course.title),
        fixes={},
    )


def _placements(_today: date, _pseudonymous: bool) -> _Source:
    employer = aliased(Partner, name="employer")
    referral = aliased(Partner, name="referral")
    return _Source(
        expressions={
            "participant_code": Participant.code,
            "project_code": Project.code,
            "kind": Placement.kind,
            "employer": _partner_key(employer),
            "business_name": Placement.business_name,
            "sector": Placement.sector,
            "start_date": Placement.start_date,
            "end_date": Placement.end_date,
            "contract_type": Placement.contract_type,
            "monthly_income": Placement.monthly_income,
            "referral_partner": _partner_key(referral),
            "verified": Placement.verified,
        },
        joins=lambda q: (
            q.select_from(Placement)
            .join(Participant, Placement.participant_id == Participant.id)
            .join(Project, Placement.project_id == Project.id)
            .outerjoin(employer, Placement.employer_id == employer.id)
            .outerjoin(referral, Placement.referral_partner_id == referral.id)
        ),
        project_column=Placement.project_id,
        order_by=(Participant.code, Placement.start_date, Placement.kind),
        fixes={},
    )


def _follow_ups(_today: date, _pseudonymous: bool) -> _Source:
    return _Source(
        expressions={
            "participant_code": Participant.code,
            "placement_kind": Placement.kind,
            "placement_start_date": Placement.start_date,
            "months_after": FollowUp.months_after,
            "followed_on": FollowUp.followed_on,
            "still_active": FollowUp.still_active,
            "monthly_income": FollowUp.monthly_income,
            "note": FollowUp.note,
        },
        joins=lambda q: (
            q.select_from(FollowUp)
            .join(Placement, FollowUp.placement_id == Placement.id)
            .join(Participant, Placement.participant_id == Participant.id)
        ),
        project_column=Placement.project_id,
        order_by=(Participant.code, Placement.start_date, Placement.kind, FollowUp.months_after),
        fixes={},
    )


def _activities(_today: date, _pseudonymous: bool) -> _Source:
    return _Source(
        expressions={
            "project_code": Project.code,
            "kind": Activity.kind,
            "title": Activity.title,
            "topic": Activity.topic,
            "held_on": Activity.held_on,
            "city": Activity.city,
            "other_women": Activity.other_women,
            "other_men": Activity.other_men,
            "description": Activity.description,
        },
        joins=lambda q: q.select_from(Activity).join(Project, Activity.project_id == Project.id),
        project_column=Activity.project_id,
        order_by=(Activity.held_on, Activity.title, Project.code),
        fixes={},
    )


def _attendance(_today: date, _pseudonymous: bool) -> _Source:
    partner = _partner_key(Partner)
    return _Source(
        expressions={
            "project_code": Project.code,
            "activity_title": Activity.title,
            "held_on": Activity.held_on,
            "partner": partner,
            "staff_count": ActivityAttendance.staff_count,
        },
        joins=lambda q: (
            q.select_from(ActivityAttendance)
            .join(Activity, ActivityAttendance.activity_id == Activity.id)
            .join(Project, Activity.project_id == Project.id)
            .join(Partner, ActivityAttendance.partner_id == Partner.id)
        ),
        project_column=Activity.project_id,
        order_by=(Activity.held_on, Activity.title, Project.code, partner),
        fixes={},
    )


def _courses(_today: date, _pseudonymous: bool) -> _Source:
    course = TrainingCourse
    return _Source(
        expressions={
            "project_code": Project.code,
            "title": course.title,
            "provider": _partner_key(Partner),
            "sector": course.sector,
            "kind": course.kind,
            "city": course.city,
            "start_date": course.start_date,
            "end_date": course.end_date,
            "hours": course.hours,
            "capacity": course.capacity,
        },
        joins=lambda q: (
            q.select_from(course)
            .join(Project, course.project_id == Project.id)
            .join(Partner, course.provider_id == Partner.id)
        ),
        project_column=course.project_id,
        order_by=(course.start_date, course.title, Project.code),
        fixes={},
    )


def _partners(_today: date, _pseudonymous: bool) -> _Source:
    return _Source(
        expressions={
            "acronym": Partner.acronym,
            "name": Partner.name,
            "kind": Partner.kind,
            "city": Partner.city,
            "country": Partner.country,
            "contact_name": Partner.contact_name,
            "contact_email": Partner.contact_email,
            "contact_phone": Partner.contact_phone,
        },
        joins=lambda q: q.select_from(Partner),
        # shared by every project, and listed to every signed-in user: the whole list
        project_column=None,
        order_by=(Partner.name,),
        fixes={},
    )


_SOURCES: dict[str, Callable[[date, bool], _Source]] = {
    "participants": _participants,
    "enrolments": _enrolments,
    "placements": _placements,
    "followups": _follow_ups,
    "activities": _activities,
    "attendance": _attendance,
    "courses": _courses,
    "partners": _partners,
}


def record_query(
    kind: str,
    *,
    user: User | None,
    project: Project | None = None,
    pseudonymous: bool = False,
    today: date | None = None,
) -> tuple[tuple[Column, ...], Select, _Source]:
    """Return the columns and the query of an export of ``kind``.

    ``user`` None (a command run on the server) reads every project. Partners are
    shared by every project: their export lists them all, whatever ``project``.
    """
    table = TABLES[kind]
    today = today or date.today()
    source = _SOURCES[kind](today, pseudonymous)
    columns = table.visible(pseudonymous=pseudonymous)
    selected = [_as_read(c, source.expressions[c.name]).label(c.name) for c in columns]
    # only the extras of the columns exported: a pseudonymous export selects no birth year
    extras = [
        source.fixes[c.name][0].label(f"_{c.name}")
        for c in columns
        if c.name in source.fixes and source.fixes[c.name][0] is not None
    ]
    query = source.joins(select(*selected, *extras))
    if source.project_column is not None:
        query = query.where(in_scope(user, source.project_column) if user is not None else true())
        if project is not None:
            query = query.where(source.project_column == project.id)
    if kind in PERSON_KINDS:
        # every person table joins Participant; who may appear depends on the file's kind
        use = consents.Use.PSEUDONYMOUS if pseudonymous else consents.Use.NAMED
        allowed = consents.allowed_sql(use, Participant.id, today)
        # a record merged into another is kept for the undo, not exported: its rows are
        # the survivor's now, and a re-import of the file would register her twice
        query = query.where(allowed, Participant.merged_into_id.is_(None))
    return columns, query.order_by(*source.order_by), source


#: SQL types whose values the driver returns as the cell wants them, or nearly (_raw_cell)
_RAW_TYPES = {CHOICE: Enum, DATE: Date, BOOLEAN: Boolean, INTEGER: Integer}


def _read_raw(column: Column, expression: ColumnElement) -> bool:
    """Say whether the column is read as the driver returns it, past SQLAlchemy's types."""
    wanted = _RAW_TYPES.get(column.kind)
    if wanted is None or not isinstance(expression.type, wanted):
        return False
    if wanted is Enum:
        # stored by value (models.enum_column): the stored text is the cell
        members = expression.type.enum_class
        return members is not None and [m.value for m in members] == expression.type.enums
    return True


def _as_read(column: Column, expression: ColumnElement) -> ColumnElement:
    return type_coerce(expression, NullType()) if _read_raw(column, expression) else expression


def _raw_cell(column: Column, dialect: str) -> Callable[[Any], Any] | None:
    """Return what turns a raw value into its cell; None when the value is the cell.

    A choice is its stored value and a whole number an int. A date is ISO text on
    SQLite (SQLAlchemy's storage format, the cell itself), a date object elsewhere; a
    boolean is 0 or 1 on SQLite, a bool elsewhere.
    """
    if column.kind == DATE:
        return None if dialect == "sqlite" else iso_date_cell
    if column.kind == BOOLEAN:
        return yes_no_cell
    return None


def _cells(
    rows: Iterable[Sequence[Any]],
    columns: tuple[Column, ...],
    source: _Source,
    dialect: str,
) -> Iterator[list[Any]]:
    """Turn result rows into rows of cells: the fixes first, then each column's conversion.

    Each column's conversion is chosen once (``_raw_cell``, the text rule, or else
    ``Column.to_cell``), so that a row costs a few steps and no type test per cell.
    """
    count = len(columns)
    # (column index, index of its extra in the row or None, fix), in the select's order
    fixes = []
    extra_at = count
    for index, column in enumerate(columns):
        if column.name in source.fixes:
            expression, fix = source.fixes[column.name]
            fixes.append((index, extra_at if expression is not None else None, fix))
            extra_at += expression is not None
    texts: list[int] = []  # text columns: an empty text is an empty cell
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for index, column in enumerate(columns):
        expression = source.expressions[column.name]
        if _read_raw(column, expression):
            convert = _raw_cell(column, dialect)
        elif (
            column.kind in TEXT_KINDS
            and isinstance(expression.type, String)
            and not isinstance(expression.type, Enum)
        ):
            texts.append(index)
            continue
        else:
            convert = column.to_cell
        if convert is not None:
            converters.append((index, convert))
    for row in rows:
        values = list(row)
        if extra_at > count:
            del values[count:]
        for index, extra, fix in fixes:
            values[index] = fix(values[index], row[extra] if extra is not None else None)
        for index in texts:
            if values[index] == "":
                values[index] = None
        for index, convert in converters:
            values[index] = convert(values[index])
        yield values


#: the columns of a person's attributes that the dashboard breaks its counts down by:
#: in a pseudonymous export (a file meant to leave the organisation), a value fewer than
#: SMALL_CELL_THRESHOLD people of the file share reads ``OTHER``, so that nobody counts
#: back from the file a "< 5" cell the tables hide (issue 17; a viewer's lists do the same)
COARSENED_COLUMNS = ("sex", "nationality", "region")
OTHER = "other"


def _coarsened_columns(kind: str, columns: Sequence[Column]) -> list[int]:
    if kind not in PERSON_KINDS:
        return []
    return [i for i, c in enumerate(columns) if c.name in COARSENED_COLUMNS]


def _rare_values(
    reader: Connection, query: Select, indexes: Sequence[int], limit: int
) -> dict[int, frozenset[Any]]:
    """The values of each coarsened column held by fewer than ``limit`` rows of the file."""
    if not disclosure.enabled(limit):
        return {}
    rows = query.order_by(None).subquery()
    rare = {}
    for index in indexes:
        values = frozenset(reader.scalars(listing.rare_values(rows.c[index], limit)))
        if values:
            # read as the cells are: a choice by its stored value
            rare[index] = frozenset(getattr(v, "value", v) for v in values)
    return rare


def _coarsen(rows: Iterable[list[Any]], rare: dict[int, frozenset[Any]]) -> Iterator[list[Any]]:
    for row in rows:
        for index, values in rare.items():
            if row[index] in values or (row[index] is None and "" in values):
                row[index] = OTHER
        yield row


def record_export(
    kind: str,
    *,
    user: User | None,
    project: Project | None = None,
    pseudonymous: bool = False,
    today: date | None = None,
    connection: Connection | None = None,
    connect: Callable[[], Connection] | None = None,
) -> Export:
    """Return the export of ``kind`` for ``user``'s projects (or one of them).

    The rows are read lazily, a batch at a time, when ``rows`` is iterated, and
    counted only when ``count`` is read, on ``connection`` (default: the
    session's). A web response streams them after the view has returned, when
    the session's connection is back in the pool: it passes ``connect`` (e.g. the
    engine's ``connect``, which needs no application context), and the rows are
    read on a connection opened at the first row and closed after the last (or
    when the response is closed), so that an export holds one connection at a time.
    """
    columns, query, source = record_query(
        kind, user=user, project=project, pseudonymous=pseudonymous, today=today
    )

    def count() -> int:
        counting = select(func.count()).select_from(query.order_by(None).subquery())
        reader = connection if connection is not None else db.session.connection()
        return reader.scalar(counting) or 0

    def people() -> list[int]:
        reader = connection if connection is not None else db.session.connection()
        return list(reader.scalars(_people_query(query)))

    coarsened = _coarsened_columns(kind, columns) if pseudonymous else []
    limit = listing.threshold() if coarsened else 0

    about_people = kind in PERSON_KINDS
    # the rows carry their person's id last, noted and dropped before the cells
    read_query = query.add_columns(Participant.id.label("_person")) if about_people else query

    def read(reader: Connection) -> Iterator[list[Any]]:
        rare = _rare_values(reader, query, coarsened, limit) if coarsened else {}
        result = reader.execute(read_query.execution_options(yield_per=BATCH))
        try:
            rows = chain.from_iterable(result.partitions())
            if about_people:
                rows = _noting_people(rows, export)
            cells = _cells(rows, columns, source, reader.dialect.name)
            yield from _coarsen(cells, rare) if rare else cells
            export.read_all = True
        finally:
            result.close()

    def rows() -> Iterator[list[Any]]:
        # executed on the first row asked for: an export never read opens no cursor
        if connect is None:
            yield from read(connection if connection is not None else db.session.connection())
            return
        with connect() as own:
            yield from read(own)

    export = Export(
        TABLES[kind],
        columns,
        rows(),
        count,
        pseudonymous,
        people=people if about_people else None,
    )
    return export


def _noting_people(rows: Iterable[Sequence[Any]], export: Export) -> Iterator[Sequence[Any]]:
    """Note each row's person (its last value) in ``export.held``; yield the row without it.

    A row of somebody the audit line did not name (``export.named``: registered or
    consenting between the line and the read) is left out.
    """
    for row in rows:
        person = row[-1]
        if export.named is not None and person not in export.named:
            continue
        export.held.add(person)
        yield tuple(row)[:-1]


def _people_query(query: Select) -> Select:
    """The distinct ids of the people an export's rows are about (every person table joins them)."""
    return (
        query.with_only_columns(Participant.id, maintain_column_froms=True)
        .order_by(None)
        .distinct()
    )


def people_in(
    kind: str,
    *,
    user: User,
    project: Project | None,
    pseudonymous: bool,
    where: Sequence[ColumnElement[bool]] = (),
) -> int:
    """Return how many distinct people the rows of the export of ``kind`` are about."""
    _columns, query, _source = record_query(
        kind, user=user, project=project, pseudonymous=pseudonymous
    )
    people = _people_query(query.where(*where))
    return db.session.scalar(select(func.count()).select_from(people.subquery())) or 0


def record_page(
    kind: str,
    id_column: ColumnElement,
    *,
    user: User,
    project: Project | None,
    pseudonymous: bool,
    after: int,
    limit: int,
    where: Sequence[ColumnElement[bool]] = (),
    counted: bool = True,
) -> tuple[tuple[Column, ...], list[tuple[int, list[Any]]], int | None, bool]:
    """Return a page of the export of ``kind`` in ``id_column`` order, for the API.

    The same columns, scope and consent rules as the export, one row per record after
    the cursor ``after``: (columns, [(id, cells)], how many match (None unless
    ``counted``), whether more follow).
    """
    columns, query, source = record_query(
        kind, user=user, project=project, pseudonymous=pseudonymous
    )
    query = query.where(*where)
    total = (
        db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        if counted
        else None
    )
    paged = (
        query.add_columns(id_column.label("_id"))
        .where(id_column > after)
        .order_by(None)
        .order_by(id_column)
        .limit(limit + 1)
    )
    connection = db.session.connection()
    result = connection.execute(paged)
    rows = list(result)
    ids = [row[-1] for row in rows]
    trimmed = [tuple(row)[:-1] for row in rows]
    cells = list(_cells(trimmed, columns, source, connection.dialect.name))
    pairs = list(zip(ids, cells, strict=True))
    return columns, pairs[:limit], total, len(pairs) > limit


# --- Indicator tables ------------------------------------------------------------------


def _figure(value: int | float | None) -> int | Decimal | None:
    if isinstance(value, float):
        return Decimal(str(round(value, 4)))
    return value


def indicator_export(
    projects: Sequence[Project],
    start: date | None,
    end: date | None,
    *,
    suppress_small: bool,
    threshold: int,
) -> Export:
    """Return every headline figure and every breakdown of the indicators as rows.

    With ``suppress_small`` (a file meant to leave the organisation, or a
    viewer's), the cells of breakdowns by a person's characteristics (sex, age
    group, nationality, region) under ``threshold`` are hidden as the donor
    report hides them; the figures themselves stay exact.
    """
    scope = indicators.Scope(tuple(p.id for p in projects), start, end)
    codes = " ".join(p.code for p in projects)
    # read as the dashboard reads them: from the indicator store where it answers
    source = reading.figures_for(scope)
    figures = source.headline()
    rows: list[list[Any]] = []
    for key in indicators.HEADLINE:
        indicator = indicators.get(key)
        label = str(indicator.label)
        rows.append([codes, start, end, key, label, None, None, None, None, _figure(figures[key])])
        for dimension in indicator.dimensions:
            pairs = source.breakdowns(key, (dimension,))[dimension]
            values: list[Any] = [n for _category, n in pairs]
            if suppress_small and dimension in indicators.PERSON_DIMENSIONS:
                values = disclosure.suppress(
                    values,
                    threshold,
                    total_shown=True,
                    overlapping=indicators.overlapping(key, dimension),
                )
            dimension_label = str(indicators.DIMENSIONS[dimension].label)
            for (category, _n), value in zip(pairs, values, strict=True):
                rows.append(
                    [
                        codes,
                        start,
                        end,
                        key,
                        label,
                        dimension,
                        dimension_label,
                        category,
                        indicators.category_label(dimension, category),
                        value,
                    ]
                )
    columns = INDICATOR_FIGURES.columns
    cells = [[c.to_cell(v) for c, v in zip(columns, row, strict=True)] for row in rows]
    return Export(INDICATOR_FIGURES, columns, cells, len(cells), suppress_small)


# --- Files ---------------------------------------------------------------------------------


def render_csv(
    export: Export,
    *,
    rows: Iterable[list[Any]] | None = None,
    hxl: bool = False,
    delimiter: str = ";",
) -> Iterator[bytes]:
    """Yield the export (or ``rows`` in its columns) as CSV, a batch of rows at a time."""
    return spreadsheets.csv_chunks(
        export.header,
        export.rows if rows is None else rows,
        hxl=export.hxl if hxl else None,
        delimiter=delimiter,
        phone_columns=export.phone_columns,
        formats=export.csv_formats,
    )


def render_xlsx(
    export: Export, *, rows: Iterable[list[Any]] | None = None, hxl: bool = False
) -> bytes:
    """Return the export (or ``rows`` in its columns) as an XLSX workbook."""
    return spreadsheets.write_xlsx(
        export.header,
        export.rows if rows is None else rows,
        hxl=export.hxl if hxl else None,
        sheet_title=export.table.key,
        date_columns=export.date_columns,
    )


def save_xlsx(
    export: Export,
    out: str | Path | IO[bytes],
    *,
    rows: Iterable[list[Any]] | None = None,
    hxl: bool = False,
    tmpdir: str | Path | None = None,
) -> int:
    """Write the export (or ``rows`` in its columns) to ``out`` as XLSX, row by row.

    Return the number of rows written. ``tmpdir``: where XlsxWriter keeps its
    temporary files meanwhile (default: the system's).
    """
    return spreadsheets.save_xlsx(
        out,
        export.header,
        export.rows if rows is None else rows,
        hxl=export.hxl if hxl else None,
        sheet_title=export.table.key,
        date_columns=export.date_columns,
        tmpdir=tmpdir,
    )


def filename(
    kind: str,
    fmt: str,
    *,
    projects: Sequence[Project] = (),
    pseudonymous: bool = False,
    today: date | None = None,
) -> str:
    """Return the server-made file name, e.g. participants-IDF-MA-2014-2026-11-29.csv."""
    parts = [kind]
    if pseudonymous and kind != INDICATORS:
        parts.append("pseudonymous")
    parts.append(projects[0].code if len(projects) == 1 else "all-projects")
    parts.append((today or date.today()).isoformat())
    name = "-".join(parts)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) + f".{fmt}"


def record_audit(kind: str, detail: dict[str, Any], *, remote_addr: str | None) -> None:
    """Write the audit line of an export at once, in a transaction of its own.

    Like ``audit.record_read``: a download is a read, so the request's own
    session stays read-only, and the line stays even if the download breaks off.
    ``remote_addr`` is the client's address for a download, None for the command.
    """
    audit.record_now("export", kind, None, detail, remote_addr=remote_addr)


def audit_detail(
    export: Export,
    *,
    fmt: str,
    project_codes: Sequence[str],
    hxl: bool,
    rows: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    """Return what the audit line says of an export: format, filter, row count, people.

    For rows about people, ``participant_ranges`` names whom the file held (their ids
    as runs, ``audit.id_ranges``), read now: a person's copy of her data
    (``participants.subject_access``) lists the files that held her, and after a lost
    laptop the data protection officer knows whom its file named. Called once the rows
    are written (the command, a job), it names the people of the rows written; called
    before (a web download, audited before it streams), it reads them, and the rows of
    anybody else are then left out of the file.
    """
    detail: dict[str, Any] = {
        "format": fmt,
        "project": " ".join(project_codes) or None,
        "pseudonymous": export.pseudonymous,
        "hxl": hxl,
        "rows": export.count if rows is None else rows,
    }
    if start is not None or end is not None:
        detail["from"] = start.isoformat() if start else None
        detail["to"] = end.isoformat() if end else None
    if export.people is not None:
        if export.read_all:
            people = export.held  # the file is written: the people of its rows
        else:
            people = export.people()  # read before the rows: they are kept to these
            export.named = frozenset(people)
        detail["participant_ranges"] = audit.id_ranges(people)
    return detail
