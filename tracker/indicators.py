"""Indicator definitions: every figure the app shows or prints comes from here.

Each indicator is a named definition over (projects, period, filters). Its
``rows`` query returns one row per qualifying event (a completed enrolment, a
placement, an attendance…) with the id of the person or institution it
concerns as ``subject_id`` and the project it belongs to as ``project_id``
(the indicator store, ``tracker.indicator_store``, keeps its counters per
project from the same rows); the figure is always the number of **distinct**
subjects, never of rows. Disaggregations group the same rows by a dimension
and count distinct subjects per category, in SQL. The ``definition`` texts are
printed verbatim on the donor report's method page, so the words and the code
live side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    case,
    distinct,
    extract,
    func,
    literal,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from tracker.extensions import db
from tracker.i18n import country_name
from tracker.models import (
    Activity,
    ActivityAttendance,
    ActivityKind,
    Enrolment,
    EnrolmentStatus,
    FollowUp,
    Participant,
    Partner,
    PartnerKind,
    Placement,
    PlacementKind,
    Sex,
    TrainingCourse,
)

#: bump when a definition's meaning changes; printed on reports and stored with them
DEFINITIONS_VERSION = "2026.1"

PEOPLE = "people"
INSTITUTIONS = "institutions"
RATIO = "ratio"


@dataclass(frozen=True)
class Scope:
    """What a figure is computed over: projects, an inclusive period and filters."""

    project_ids: tuple[int, ...]
    start: date | None = None
    end: date | None = None
    region: str | None = None
    # people filters: only people who took a course of this provider in the projects
    provider_id: int | None = None

    def period(self, column: Any) -> list[ColumnElement[bool]]:
        """Return the conditions that put ``column`` inside the period."""
        conditions = []
        if self.start is not None:
            conditions.append(column >= self.start)
        if self.end is not None:
            conditions.append(column <= self.end)
        return conditions


# --- Dimensions ------------------------------------------------------------

AGE_GROUPS = ("under_18", "18_24", "25_34", "35_49", "50_plus", "unknown")
AGE_GROUP_LABELS = {
    "under_18": _l("Under 18"),
    "18_24": _l("18–24"),
    "25_34": _l("25–34"),
    "35_49": _l("35–49"),
    "50_plus": _l("50 and over"),
    "unknown": _l("Unknown"),
}
BOTH_KINDS = "both"


class _DatePart(GenericFunction):
    """The year, month or day of a date column, as an integer.

    ``EXTRACT`` everywhere but SQLite, where SQLAlchemy would write
    ``CAST(STRFTIME('%Y', d) AS INTEGER)``: SQLite keeps dates as ISO text
    (YYYY-MM-DD), and cutting the text is three times cheaper than parsing it,
    which matters when the age of 100,000 people is computed for one breakdown.
    """

    type = Integer()
    inherit_cache = True
    _register = False
    part = ""
    #: where the part sits in YYYY-MM-DD: (first character, length)
    span = (0, 0)


class year_of(_DatePart):  # noqa: N801 (used like a SQL function)
    _register = False
    inherit_cache = True
    part, span = "year", (1, 4)


class month_of(_DatePart):  # noqa: N801
    _register = False
    inherit_cache = True
    part, span = "month", (6, 2)


class day_of(_DatePart):  # noqa: N801
    _register = False
    inherit_cache = True
    part, span = "day", (9, 2)


@compiles(_DatePart)
def _date_part(element: _DatePart, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses.clauses
    return compiler.process(extract(element.part, column), **kw)


@compiles(_DatePart, "sqlite")
def _date_part_sqlite(element: _DatePart, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses.clauses
    first, length = element.span
    return f"CAST(substr({compiler.process(column, **kw)}, {first}, {length}) AS INTEGER)"


def _month_day(column: Any) -> ColumnElement:
    return month_of(column) * 100 + day_of(column)


def age_at(reference: Any) -> ColumnElement:
    """Age in whole years of a participant on ``reference`` (a date column), in SQL."""
    from_birth_date = (
        year_of(reference)
        - year_of(Participant.date_of_birth)
        - case((_month_day(reference) < _month_day(Participant.date_of_birth), 1), else_=0)
    )
    return case(
        (Participant.date_of_birth.is_not(None), from_birth_date),
        (Participant.birth_year.is_not(None), year_of(reference) - Participant.birth_year),
        else_=None,
    )


def age_group_at(reference: Any) -> ColumnElement:
    """Age group (a key of ``AGE_GROUPS``) of a participant on ``reference``."""
    age = age_at(reference)
    return case(
        (age.is_(None), "unknown"),
        (age < 18, "under_18"),
        (age < 25, "18_24"),
        (age < 35, "25_34"),
        (age < 50, "35_49"),
        else_="50_plus",
    )


@dataclass(frozen=True)
class Dimension:
    key: str
    label: Any
    # participant dimensions join the person; row dimensions use a column of the rows
    participant_column: Callable[[], ColumnElement] | None = None
    # a row dimension where one person can have several values: either the rows
    # overlap (a person counted in each of her sectors) or, when combine_as is set,
    # each person falls in one category and several values become ``combine_as``
    combine_as: str | None = None
    # True when one subject can have several values (two courses in two sectors)
    multiple: bool = False


DIMENSIONS: dict[str, Dimension] = {
    d.key: d
    for d in (
        Dimension("sex", _l("Sex"), participant_column=lambda: Participant.sex),
        Dimension(
            "age_group",
            _l("Age group at registration"),
            participant_column=lambda: age_group_at(Participant.registered_on),
        ),
        Dimension(
            "nationality", _l("Nationality"), participant_column=lambda: Participant.nationality
        ),
        Dimension("region", _l("Region"), participant_column=lambda: Participant.region),
        Dimension("sector", _l("Sector"), multiple=True),
        Dimension("provider", _l("Training provider"), multiple=True),
        Dimension("placement_kind", _l("Placement kind"), combine_as=BOTH_KINDS),
        Dimension("partner_kind", _l("Kind of institution")),
    )
}


# --- Indicators -------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    key: str
    label: Any
    definition: Any
    unit: str
    rows: Callable[[Scope], Select] | None = None
    dimensions: tuple[str, ...] = field(default_factory=tuple)


def _not_merged(subject: Any) -> ColumnElement[bool]:
    """Keep people who were not merged into another record (each person counts once).

    A merge moves a record's enrolments and placements to the survivor; what stays
    with the merged record (an enrolment not chosen in a conflict) must not count her
    a second time.
    """
    return subject.not_in(select(Participant.id).where(Participant.merged_into_id.is_not(None)))


def _people_filters(scope: Scope, subject: Any) -> list[ColumnElement[bool]]:
    """Return the people filters of ``scope`` (region, provider) applied to ``subject``."""
    conditions = [_not_merged(subject)]
    if scope.region is not None:
        conditions.append(
            subject.in_(select(Participant.id).where(Participant.region == scope.region))
        )
    if scope.provider_id is not None:
        conditions.append(
            subject.in_(
                select(Enrolment.participant_id)
                .join(TrainingCourse, Enrolment.course_id == TrainingCourse.id)
                .where(
                    TrainingCourse.provider_id == scope.provider_id,
                    TrainingCourse.project_id.in_(scope.project_ids),
                )
            )
        )
    return conditions


def _course_filters(scope: Scope) -> list[ColumnElement[bool]]:
    """Filters of enrolment rows: the region of the person, the provider of the course."""
    conditions = [_not_merged(Enrolment.participant_id)]
    if scope.region is not None:
        conditions.append(
            Enrolment.participant_id.in_(
                select(Participant.id).where(Participant.region == scope.region)
            )
        )
    if scope.provider_id is not None:
        # trained "by this provider": the completion itself is at the provider
        conditions.append(TrainingCourse.provider_id == scope.provider_id)
    return conditions


def registered_rows(scope: Scope) -> Select:
    """Participants of the projects registered in the period."""
    return select(
        Participant.id.label("subject_id"),
        Participant.registered_on.label("on"),
        Participant.project_id.label("project_id"),
    ).where(
        Participant.project_id.in_(scope.project_ids),
        *scope.period(Participant.registered_on),
        *_people_filters(scope, Participant.id),
    )


def enrolled_rows(scope: Scope) -> Select:
    """Enrolments in courses of the projects, enrolled in the period (any outcome)."""
    return (
        select(
            Enrolment.participant_id.label("subject_id"),
            Enrolment.enrolled_on.label("on"),
            TrainingCourse.project_id.label("project_id"),
            TrainingCourse.sector.label("sector"),
            TrainingCourse.provider_id.label("provider"),
        )
        .join(TrainingCourse, Enrolment.course_id == TrainingCourse.id)
        .where(
            TrainingCourse.project_id.in_(scope.project_ids),
            *scope.period(Enrolment.enrolled_on),
            *_course_filters(scope),
        )
    )


def trained_rows(scope: Scope) -> Select:
    """Completed enrolments in courses of the projects, completed in the period."""
    return (
        select(
            Enrolment.participant_id.label("subject_id"),
            Enrolment.completed_on.label("on"),
            TrainingCourse.project_id.label("project_id"),
            TrainingCourse.sector.label("sector"),
            TrainingCourse.provider_id.label("provider"),
        )
        .join(TrainingCourse, Enrolment.course_id == TrainingCourse.id)
        .where(
            Enrolment.status == EnrolmentStatus.COMPLETED,
            TrainingCourse.project_id.in_(scope.project_ids),
            *scope.period(Enrolment.completed_on),
            *_course_filters(scope),
        )
    )


def placed_rows(scope: Scope) -> Select:
    """Placements (employment or IGA) of the projects started in the period."""
    return select(
        Placement.participant_id.label("subject_id"),
        Placement.start_date.label("on"),
        Placement.project_id.label("project_id"),
        Placement.kind.label("placement_kind"),
        Placement.sector.label("sector"),
    ).where(
        Placement.project_id.in_(scope.project_ids),
        *scope.period(Placement.start_date),
        *_people_filters(scope, Placement.participant_id),
    )


def retained_6m_rows(scope: Scope) -> Select:
    """Placements of the period whose 6-month follow-up says the person is still active."""
    return (
        placed_rows(scope)
        .join(FollowUp, FollowUp.placement_id == Placement.id)
        .where(FollowUp.months_after == 6, FollowUp.still_active.is_(True))
    )


def _attendance_rows(kind: ActivityKind) -> Callable[[Scope], Select]:
    def rows(scope: Scope) -> Select:
        return (
            select(
                ActivityAttendance.partner_id.label("subject_id"),
                Activity.held_on.label("on"),
                Partner.kind.label("partner_kind"),
            )
            .join(Activity, ActivityAttendance.activity_id == Activity.id)
            .join(Partner, ActivityAttendance.partner_id == Partner.id)
            .where(
                Activity.kind == kind,
                Activity.project_id.in_(scope.project_ids),
                *scope.period(Activity.held_on),
            )
        )

    rows.__doc__ = f"Partners attending activities of kind {kind.value} in the period."
    return rows


PERSON_DIMENSIONS = ("sex", "age_group", "nationality", "region")

INDICATORS: dict[str, Indicator] = {
    i.key: i
    for i in (
        Indicator(
            "registered",
            _l("Registered participants"),
            _l("Distinct participants of the project whose registration date falls in the period."),
            PEOPLE,
            registered_rows,
            PERSON_DIMENSIONS,
        ),
        Indicator(
            "enrolled",
            _l("Enrolled in a training"),
            _l(
                "Distinct participants enrolled in at least one training course of the project, "
                "with an enrolment date in the period, whatever the outcome."
            ),
            PEOPLE,
            enrolled_rows,
            (*PERSON_DIMENSIONS, "sector", "provider"),
        ),
        Indicator(
            "trained",
            _l("Trained"),
            _l(
                "Distinct participants with at least one completed enrolment in a training "
                "course of the project, completed in the period. Drop-outs are not counted; a "
                "person who completed two courses is counted once."
            ),
            PEOPLE,
            trained_rows,
            (*PERSON_DIMENSIONS, "sector", "provider"),
        ),
        Indicator(
            "placed",
            _l("Placed in a job or an IGA"),
            _l(
                "Distinct participants with at least one placement of the project (employment "
                "or income-generating activity) that started in the period. A person with two "
                "placements is counted once; in the breakdown by kind, a person with both a job "
                "and an IGA appears under “both”."
            ),
            PEOPLE,
            placed_rows,
            (*PERSON_DIMENSIONS, "placement_kind", "sector"),
        ),
        Indicator(
            "placement_rate",
            _l("Placement rate"),
            _l(
                "Trained participants who are also placed, divided by trained participants, "
                "both as defined above over the same period."
            ),
            RATIO,
        ),
        Indicator(
            "retained_6m",
            _l("Still active 6 months after placement"),
            _l(
                "Placed participants (as above) with a follow-up 6 months after the start of a "
                "placement of the period that records the person as still active in it."
            ),
            PEOPLE,
            retained_6m_rows,
            (*PERSON_DIMENSIONS, "placement_kind"),
        ),
        Indicator(
            "institutions_strengthened",
            _l("Institutions strengthened"),
            _l(
                "Distinct partner institutions that attended at least one capacity-building "
                "activity of the project held in the period."
            ),
            INSTITUTIONS,
            _attendance_rows(ActivityKind.CAPACITY_BUILDING),
            ("partner_kind",),
        ),
        Indicator(
            "awareness_partners",
            _l("Partners in awareness workshops"),
            _l(
                "Distinct partner institutions that attended at least one awareness workshop of "
                "the project held in the period."
            ),
            INSTITUTIONS,
            _attendance_rows(ActivityKind.AWARENESS_WORKSHOP),
            ("partner_kind",),
        ),
    )
}

HEADLINE = (
    "registered",
    "enrolled",
    "trained",
    "placed",
    "placement_rate",
    "retained_6m",
    "institutions_strengthened",
    "awareness_partners",
)


def get(key: str) -> Indicator:
    """Return the indicator named ``key`` (KeyError if there is none)."""
    return INDICATORS[key]


def subject_ids(key: str, scope: Scope) -> Select:
    """Return a query of the distinct ids of the people or institutions behind a figure."""
    rows = INDICATORS[key].rows(scope).subquery()
    return select(rows.c.subject_id).distinct()


def count(key: str, scope: Scope) -> int:
    """Return the figure: the number of distinct subjects of indicator ``key``."""
    if key == "placement_rate":
        raise ValueError("placement_rate is a ratio: use placement_rate()")
    rows = INDICATORS[key].rows(scope).subquery()
    return db.session.scalar(select(func.count(distinct(rows.c.subject_id)))) or 0


def registered_before(key: str, scope: Scope) -> int:
    """Of the people behind a figure, how many were registered before the period's start.

    It explains a funnel of a period that widens: people enrolled, trained or placed in
    it were often registered in an earlier one.
    """
    if scope.start is None or INDICATORS[key].unit != PEOPLE:
        return 0
    ids = subject_ids(key, scope)
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Participant)
            .where(Participant.id.in_(ids), Participant.registered_on < scope.start)
        )
        or 0
    )


def trained_and_placed(scope: Scope) -> int:
    """Return the number of trained participants who are also placed."""
    trained = trained_rows(scope).subquery()
    placed = placed_rows(scope).subquery()
    return (
        db.session.scalar(
            select(func.count(distinct(trained.c.subject_id))).where(
                trained.c.subject_id.in_(select(placed.c.subject_id))
            )
        )
        or 0
    )


def placement_rate(scope: Scope) -> float | None:
    """Return trained-and-placed ÷ trained, or None when nobody was trained."""
    trained = count("trained", scope)
    if not trained:
        return None
    return trained_and_placed(scope) / trained


def disaggregate(key: str, dimension: str, scope: Scope) -> list[tuple[Any, int]]:
    """Return (category, distinct subjects) pairs of indicator ``key`` by ``dimension``.

    Categories are raw values (codes, ids, keys); ``category_label`` names them.
    Sorted by count, largest first, then by category.
    """
    indicator = INDICATORS[key]
    if dimension not in indicator.dimensions:
        raise ValueError(f"indicator {key} has no dimension {dimension}")
    dim = DIMENSIONS[dimension]
    rows = indicator.rows(scope).subquery()
    subject = rows.c.subject_id
    if dim.participant_column is not None:
        # each person has one category: count the people whose id is among the subjects
        # (a semi-join reads each person once, where a join reads her once per row)
        category = dim.participant_column().label("category")
        query = (
            select(category, func.count())
            .where(Participant.id.in_(select(subject)))
            .group_by(category)
        )
    elif dim.combine_as is not None:
        per_person = _category_per_subject(rows, dim).subquery()
        query = select(per_person.c.category, func.count()).group_by(per_person.c.category)
    else:
        category = rows.c[dimension]
        query = select(category, func.count(distinct(subject))).group_by(category)
    result = [(_plain(cat), int(n)) for cat, n in db.session.execute(query)]
    return sorted(result, key=lambda pair: (-pair[1], str(pair[0])))


def disaggregate_people(
    key: str, dimensions: Sequence[str], scope: Scope
) -> dict[str, list[tuple[Any, int]]]:
    """Return the breakdowns of ``key`` by several characteristics of a person, in one query.

    A person has exactly one sex, age group, nationality and region, so the
    number of distinct people of each combination of them, added up over the
    other characteristics, is the breakdown by one: the same pairs, in the same
    order, as ``disaggregate(key, dimension, scope)`` for each dimension, from
    one pass over the people instead of one per dimension. The sums run over
    the rows of a small aggregated table, never over people.
    """
    indicator = INDICATORS[key]
    for dimension in dimensions:
        if dimension not in indicator.dimensions:
            raise ValueError(f"indicator {key} has no dimension {dimension}")
        if DIMENSIONS[dimension].participant_column is None:
            raise ValueError(f"{dimension} is not a characteristic of a person")
    rows = indicator.rows(scope).subquery()
    columns = [DIMENSIONS[d].participant_column().label(f"c_{d}") for d in dimensions]
    query = (
        select(*columns, func.count())
        .where(Participant.id.in_(select(rows.c.subject_id)))
        .group_by(*columns)
    )
    totals: dict[str, dict[Any, int]] = {d: {} for d in dimensions}
    for *categories, people in db.session.execute(query):
        for dimension, category in zip(dimensions, categories, strict=True):
            category = _plain(category)
            totals[dimension][category] = totals[dimension].get(category, 0) + int(people)
    return {
        dimension: sorted(counts.items(), key=lambda pair: (-pair[1], str(pair[0])))
        for dimension, counts in totals.items()
    }


def _category_per_subject(rows: Any, dim: Dimension) -> Select:
    column = rows.c[dim.key]
    return select(
        rows.c.subject_id,
        case(
            (func.count(distinct(column)) > 1, literal(dim.combine_as)),
            else_=func.max(column),
        ).label("category"),
    ).group_by(rows.c.subject_id)


def category_by_subject(key: str, dimension: str, scope: Scope) -> dict[int, Any]:
    """Return each subject's single category of a combining dimension (e.g. placement kind)."""
    dim = DIMENSIONS[dimension]
    if dim.combine_as is None:
        raise ValueError(f"{dimension} does not give one category per subject")
    rows = INDICATORS[key].rows(scope).subquery()
    return {
        subject: _plain(category)
        for subject, category in db.session.execute(_category_per_subject(rows, dim))
    }


def overlapping(_key: str, dimension: str) -> bool:
    """Say whether a subject can fall in several categories of this breakdown."""
    return DIMENSIONS[dimension].multiple


def by_period(key: str, scope: Scope, grain: str = "quarter") -> list[tuple[int, int, int]]:
    """Return (year, quarter or month, distinct subjects) by each subject's first event.

    Each subject is counted once, in the quarter (or month) of its first
    qualifying event in the period, so the periods add up to the figure.
    """
    if grain not in ("quarter", "month"):
        raise ValueError(f"unknown grain {grain}")
    rows = INDICATORS[key].rows(scope).subquery()
    first = (
        select(rows.c.subject_id, func.min(rows.c.on).label("first_on"))
        .group_by(rows.c.subject_id)
        .subquery()
    )
    year = year_of(first.c.first_on)
    month = month_of(first.c.first_on)
    part = (
        month
        if grain == "month"
        else case((month <= 3, 1), (month <= 6, 2), (month <= 9, 3), else_=4)
    )
    query = (
        select(year.label("y"), part.label("p"), func.count())
        .group_by(year, part)
        .order_by(year, part)
    )
    return [(int(y), int(n), int(c)) for y, n, c in db.session.execute(query)]


def by_quarter(key: str, scope: Scope) -> list[tuple[int, int, int]]:
    """Return (year, quarter, distinct subjects); see ``by_period``."""
    return by_period(key, scope, "quarter")


def subject_ids_in(
    key: str, scope: Scope, dimension: str | None = None, category: Any = None
) -> Select:
    """Return the distinct ids behind one cell of a breakdown (or the whole figure).

    The drill-down of a figure lists exactly these people or institutions, so a
    list always has as many rows as the figure it comes from.
    """
    if dimension is None:
        return subject_ids(key, scope)
    indicator = INDICATORS[key]
    if dimension not in indicator.dimensions:
        raise ValueError(f"indicator {key} has no dimension {dimension}")
    dim = DIMENSIONS[dimension]
    rows = indicator.rows(scope).subquery()
    subject = rows.c.subject_id
    if dim.participant_column is not None:
        column = dim.participant_column()
        query = select(subject).join_from(rows, Participant, Participant.id == subject)
    elif dim.combine_as is not None:
        per_person = _category_per_subject(rows, dim).subquery()
        subject, column = per_person.c.subject_id, per_person.c.category
        query = select(subject)
    else:
        column = rows.c[dimension]
        query = select(subject)
    if category is None or category == "":
        query = query.where(column.is_(None))
    else:
        query = query.where(column == category)
    return query.distinct()


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def category_label(dimension: str, value: Any) -> str:
    """Return the category's name in the current language."""
    if value is None or value == "":
        return _("Not recorded")
    if dimension == "sex":
        return Sex(value).label
    if dimension == "age_group":
        return str(AGE_GROUP_LABELS.get(value, value))
    if dimension == "nationality":
        return country_name(value)
    if dimension == "placement_kind":
        if value == BOTH_KINDS:
            return _("Both employment and IGA")
        return PlacementKind(value).label
    if dimension == "partner_kind":
        return PartnerKind(value).label
    if dimension == "provider":
        partner = db.session.get(Partner, value)
        return partner.display_name if partner else str(value)
    return str(value)


def headline(scope: Scope, keys: Sequence[str] = HEADLINE) -> dict[str, int | float | None]:
    """Return the headline figures for ``scope``, keyed by indicator."""
    figures: dict[str, int | float | None] = {}
    for key in keys:
        if key != "placement_rate":
            figures[key] = count(key, scope)
    if "placement_rate" in keys:
        # placement_rate(), without counting the trained a second time
        trained = figures["trained"] if "trained" in figures else count("trained", scope)
        figures["placement_rate"] = trained_and_placed(scope) / trained if trained else None
    return {key: figures[key] for key in keys}


def placed_by_kind(scope: Scope) -> dict[str, int]:
    """Return distinct placed people per kind: employment, iga and both (each person once)."""
    return dict(disaggregate("placed", "placement_kind", scope))
