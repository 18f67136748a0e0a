"""What the dashboard shows: figures, breakdowns, trends, drill-down lists, data quality.

Every number comes from ``tracker.indicators``; the charts are drawn by
``tracker.reports.charts``, the same code as the donor PDF's, so the screen and
the document cannot disagree.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, literal_column, select

from tracker import indicators
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Enrolment,
    EnrolmentStatus,
    FollowUp,
    Participant,
    Partner,
    Placement,
    Project,
    TrainingCourse,
)
from tracker.participants import duplicates
from tracker.placements.services import add_months
from tracker.reports import charts

#: the breakdowns shown for each indicator, in order
BREAKDOWNS = {
    "trained": ("sex", "age_group", "nationality", "region", "sector", "provider"),
    "placed": ("placement_kind", "sex", "age_group", "nationality", "region", "sector"),
    "institutions_strengthened": ("partner_kind",),
    "awareness_partners": ("partner_kind",),
}
FUNNEL = ("registered", "enrolled", "trained", "placed", "retained_6m")


@dataclass
class Card:
    key: str
    label: str
    value: int | float | None
    unit: str
    target: int | None = None
    # (label, value, dimension, category) for a figure split in parts, e.g. placed by kind
    parts: list[tuple[str, int, str, Any]] = field(default_factory=list)

    @property
    def progress(self) -> float | None:
        if not self.target or self.value is None or self.unit == indicators.RATIO:
            return None
        return self.value / self.target


@dataclass
class Breakdown:
    key: str
    dimension: str
    title: str
    total: int
    rows: list[tuple[str, int, Any]]  # (label, value, raw category for the drill-down)
    overlapping: bool


@dataclass
class Dashboard:
    scope: indicators.Scope
    cards: list[Card]
    breakdowns: list[Breakdown]
    funnel_svg: str
    trend_svg: str
    trend: list[tuple[str, int, int]]


def targets_of(projects: list[Project]) -> dict[str, int]:
    """Return the targets summed over ``projects`` (a target missing in one is dropped)."""
    totals: dict[str, int] = {}
    counted: dict[str, int] = {}
    for project in projects:
        for target in project.targets:
            totals[target.indicator] = totals.get(target.indicator, 0) + target.target
            counted[target.indicator] = counted.get(target.indicator, 0) + 1
    return {k: v for k, v in totals.items() if counted[k] == len(projects)}


def period_label(year: int, part: int, grain: str) -> str:
    if grain == "month":
        from flask_babel import format_date

        return format_date(date(year, part, 1), "MMM y")
    return _("Q%(q)d %(y)d", q=part, y=year)


def _periods(start: date, end: date, grain: str) -> list[tuple[int, int]]:
    periods = []
    year, part = start.year, start.month if grain == "month" else (start.month - 1) // 3 + 1
    last = (end.year, end.month if grain == "month" else (end.month - 1) // 3 + 1)
    size = 12 if grain == "month" else 4
    while (year, part) <= last and len(periods) < 240:
        periods.append((year, part))
        year, part = (year + 1, 1) if part == size else (year, part + 1)
    return periods


def _breakdown_pairs(
    key: str, dimensions: tuple[str, ...], scope: indicators.Scope
) -> dict[str, list[tuple[Any, int]]]:
    """Return the (category, count) pairs of each breakdown of ``key``.

    The breakdowns by a person's characteristics come from one query together
    (``indicators.disaggregate_people``), the others one query each.
    """
    people = [d for d in dimensions if d in indicators.PERSON_DIMENSIONS]
    pairs = indicators.disaggregate_people(key, people, scope) if people else {}
    for dimension in dimensions:
        if dimension not in pairs:
            pairs[dimension] = indicators.disaggregate(key, dimension, scope)
    return pairs


def build(scope: indicators.Scope, projects: list[Project], grain: str = "quarter") -> Dashboard:
    """Compute everything the dashboard page shows for ``scope`` (live; see ``cached_build``)."""
    figures = indicators.headline(scope)
    targets = targets_of(projects)
    pairs = {key: _breakdown_pairs(key, dims, scope) for key, dims in BREAKDOWNS.items()}
    cards = []
    for key in indicators.HEADLINE:
        ind = indicators.get(key)
        card = Card(key, str(ind.label), figures[key], ind.unit, targets.get(key))
        if key == "placed":
            card.parts = [
                (
                    indicators.category_label("placement_kind", kind),
                    n,
                    "placement_kind",
                    kind,
                )
                for kind, n in pairs["placed"]["placement_kind"]
            ]
        cards.append(card)

    breakdowns = []
    for key, dimensions in BREAKDOWNS.items():
        ind = indicators.get(key)
        for dimension in dimensions:
            rows = [
                (indicators.category_label(dimension, category), n, category)
                for category, n in pairs[key][dimension]
            ]
            breakdowns.append(
                Breakdown(
                    key,
                    dimension,
                    _(
                        "%(indicator)s by %(dimension)s",
                        indicator=ind.label,
                        dimension=str(indicators.DIMENSIONS[dimension].label).lower(),
                    ),
                    figures[key] or 0,
                    rows,
                    indicators.overlapping(key, dimension),
                )
            )

    funnel = charts.funnel_chart(
        [(str(indicators.get(k).label), figures[k] or 0) for k in FUNNEL],
        title=_("From registration to placement"),
        description=_("Distinct people at each stage, over the chosen period."),
        width=520,
    )
    trend = []
    if scope.start and scope.end:
        trained = {(y, p): n for y, p, n in indicators.by_period("trained", scope, grain)}
        placed = {(y, p): n for y, p, n in indicators.by_period("placed", scope, grain)}
        trend = [
            (period_label(y, p, grain), trained.get((y, p), 0), placed.get((y, p), 0))
            for y, p in _periods(scope.start, scope.end, grain)
        ]
    trend_chart = charts.trend_chart(
        trend,
        series_labels=(str(indicators.get("trained").label), _("Placed")),
        title=_("Trained and placed per month")
        if grain == "month"
        else _("Trained and placed per quarter"),
        description=_("Each person counts once, in the period of her or his first event."),
        width=720 if grain == "month" else 520,
        height=220,
    )
    return Dashboard(
        scope=scope,
        cards=cards,
        breakdowns=breakdowns,
        funnel_svg=charts.to_svg(funnel, id_prefix="funnel"),
        trend_svg=charts.to_svg(trend_chart, id_prefix="trend"),
        trend=trend,
    )


# --- Dashboards already computed ----------------------------------------------------
#
# At 100,000 participants the live figures cost seconds (docs/performance.md), so a
# dashboard is kept once computed, and handed out again only while the data it
# counts has not changed. Every change of a record writes an audit line in the
# same transaction (the flush hook, or the bulk paths' own lines), so "nothing
# changed" is: no audit line other than a read since the one that was the last
# when the dashboard was computed. Checking that costs two small queries on the
# audit log's primary key, and the figures shown are never older than the data.

#: audit actions that change no record (reads, sign-ins, exports)
READ_ONLY_ACTIONS = ("view", "login", "login_failed", "logout", "export")
#: dashboards (and filter choices) kept per process; a few kilobytes each
CACHE_SIZE = 64


@dataclass
class _Kept:
    value: Any
    #: the last audit line known to have no change after it but this dashboard's data
    checked_id: int
    #: when that line was written: a database restored from a backup reuses ids
    checked_at: Any


_kept: OrderedDict[tuple, _Kept] = OrderedDict()
_kept_lock = threading.Lock()


def clear_cache() -> None:
    """Forget everything kept by this process (the next views compute live)."""
    with _kept_lock:
        _kept.clear()


def _audit_head() -> tuple[int, Any, bool]:
    """Return (id and time of the last audit line, whether every writer has finished).

    On PostgreSQL an audit id is taken when the row is inserted, not when it
    commits, so a line with a lower id than the last one seen may still be on
    its way: a dashboard is then not kept, and a kept one is not vouched for
    beyond the lines seen. One statement reads both, so both come from the same
    snapshot (under READ COMMITTED each statement has its own). SQLite has one
    writer at a time, so its ids commit in order.
    """
    last = (
        select(AuditEvent.id, AuditEvent.occurred_at)
        .order_by(AuditEvent.id.desc())
        .limit(1)
        .subquery()
    )
    columns = [select(last.c.id).scalar_subquery(), select(last.c.occurred_at).scalar_subquery()]
    if db.engine.dialect.name == "postgresql":
        columns.append(
            literal_column("(SELECT count(*) FROM txid_snapshot_xip(txid_current_snapshot()))")
        )
    head_id, head_at, *writers = db.session.execute(select(*columns)).one()
    return head_id or 0, head_at, not any(writers)


def _unchanged_since(entry: _Kept, head_id: int) -> bool:
    """Say whether no record changed between the entry's last check and ``head_id``."""
    if head_id < entry.checked_id:
        return False  # the audit log went back: another database (a restore)
    if entry.checked_id:
        at = db.session.scalar(
            select(AuditEvent.occurred_at).where(AuditEvent.id == entry.checked_id)
        )
        if at != entry.checked_at:
            return False
    if head_id == entry.checked_id:
        return True
    change = db.session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.id > entry.checked_id,
            AuditEvent.id <= head_id,
            AuditEvent.action.not_in(READ_ONLY_ACTIONS),
        )
        .limit(1)
    )
    return change is None


def kept(key: tuple, compute: Callable[[], Any]) -> Any:
    """Return what ``compute()`` returns, computed again only if a record changed since.

    ``key`` names what is computed and everything it depends on besides the
    records (scope, language…); the database's URL is added to it.
    """
    key = (str(db.engine.url), *key)
    head_id, head_at, settled = _audit_head()
    with _kept_lock:
        entry = _kept.get(key)
    if entry is not None and _unchanged_since(entry, head_id):
        if settled:
            entry.checked_id, entry.checked_at = head_id, head_at
        with _kept_lock:
            if key in _kept:
                _kept.move_to_end(key)
        return entry.value
    value = compute()
    if settled:
        with _kept_lock:
            _kept[key] = _Kept(value, head_id, head_at)
            _kept.move_to_end(key)
            while len(_kept) > CACHE_SIZE:
                _kept.popitem(last=False)
    return value


def cached_build(
    scope: indicators.Scope, projects: list[Project], grain: str = "quarter"
) -> Dashboard:
    """Return ``build(scope, projects, grain)``, computed again only if a record changed."""
    key = ("dashboard", scope, tuple(p.id for p in projects), grain, str(get_locale()))
    return kept(key, lambda: build(scope, projects, grain))


def filter_choices(project_ids: list[int]) -> tuple[list[tuple[int, str | None, str]], list[str]]:
    """Return the providers (id, acronym, name) and regions the filters offer for the projects.

    Kept like the dashboards: the regions are read from every participant.
    """

    def compute() -> tuple[list[tuple[int, str | None, str]], list[str]]:
        providers = db.session.execute(
            select(Partner.id, Partner.acronym, Partner.name)
            .where(
                Partner.id.in_(
                    select(TrainingCourse.provider_id).where(
                        TrainingCourse.project_id.in_(project_ids)
                    )
                )
            )
            .order_by(Partner.name)
        ).all()
        regions = db.session.scalars(
            select(Participant.region)
            .where(Participant.project_id.in_(project_ids), Participant.region.is_not(None))
            .distinct()
            .order_by(Participant.region)
        ).all()
        return [tuple(row) for row in providers], list(regions)

    return kept(("filters", tuple(project_ids)), compute)


# --- Drill-down ---------------------------------------------------------------


def drill_down_people(
    key: str, scope: indicators.Scope, dimension: str | None, category: Any
) -> Any:
    """Return a query of the participants behind a figure or a breakdown cell."""
    ids = indicators.subject_ids_in(key, scope, dimension, category)
    return select(Participant).where(Participant.id.in_(ids)).order_by(Participant.code)


def drill_down_partners(
    key: str, scope: indicators.Scope, dimension: str | None, category: Any
) -> Any:
    """Return a query of the institutions behind a figure or a breakdown cell."""
    ids = indicators.subject_ids_in(key, scope, dimension, category)
    return select(Partner).where(Partner.id.in_(ids)).order_by(Partner.name)


# --- Data quality -------------------------------------------------------------


@dataclass
class QualityCheck:
    key: str
    title: str
    explanation: str
    items: list[tuple[Any, str, str]]  # (record, code or title, what is wrong)
    total: int


def quality(project_ids: list[int], today: date | None = None, limit: int = 50) -> list:
    """Return the data-quality checks over ``project_ids``, each with up to ``limit`` items."""
    today = today or date.today()
    checks = []

    missing = (
        select(Participant)
        .where(
            Participant.project_id.in_(project_ids),
            Participant.erased_at.is_(None),
            (Participant.nationality.is_(None))
            | (Participant.region.is_(None))
            | (Participant.date_of_birth.is_(None) & Participant.birth_year.is_(None)),
        )
        .order_by(Participant.code)
    )
    people = db.session.scalars(missing.limit(limit)).all()
    checks.append(
        QualityCheck(
            "missing_fields",
            _("Records missing key fields"),
            _("Nationality, region and birth date or year feed every breakdown."),
            [
                (
                    p,
                    p.code,
                    ", ".join(
                        label
                        for label, absent in (
                            (_("nationality"), p.nationality is None),
                            (_("region"), p.region is None),
                            (
                                _("birth date"),
                                p.date_of_birth is None and p.birth_year is None,
                            ),
                        )
                        if absent
                    ),
                )
                for p in people
            ],
            _count(missing),
        )
    )

    open_enrolments = (
        select(Enrolment)
        .join(TrainingCourse)
        .where(
            TrainingCourse.project_id.in_(project_ids),
            Enrolment.status == EnrolmentStatus.ENROLLED,
            TrainingCourse.end_date < today,
        )
        .order_by(TrainingCourse.end_date, Enrolment.id)
    )
    enrolments = db.session.scalars(open_enrolments.limit(limit)).all()
    checks.append(
        QualityCheck(
            "open_enrolments",
            _("Enrolments still open after the course ended"),
            _("Mark each person completed or dropped out, or she counts in no figure."),
            [
                (
                    e,
                    e.participant.code,
                    _(
                        "%(course)s ended on %(date)s",
                        course=e.course.title,
                        date=format_date(e.course.end_date),
                    ),
                )
                for e in enrolments
            ],
            _count(open_enrolments),
        )
    )

    six_months = FollowUp.__table__.alias("six")
    six_months_ago = add_months(today, -6)
    no_follow_up = (
        select(Placement)
        .outerjoin(
            six_months,
            and_(six_months.c.placement_id == Placement.id, six_months.c.months_after == 6),
        )
        .where(
            Placement.project_id.in_(project_ids),
            Placement.start_date <= six_months_ago,
            six_months.c.id.is_(None),
        )
        .order_by(Placement.start_date)
    )
    placements = db.session.scalars(no_follow_up.limit(limit)).all()
    checks.append(
        QualityCheck(
            "no_follow_up",
            _("Placements without a follow-up at 6 months"),
            _("Without it, the person cannot count as still active at 6 months."),
            [
                (
                    p,
                    p.participant.code,
                    _(
                        "%(kind)s started on %(date)s",
                        kind=p.kind.label,
                        date=format_date(p.start_date),
                    ),
                )
                for p in placements
            ],
            _count(no_follow_up),
        )
    )

    found = duplicates.pairs(duplicates.register(project_ids))
    checks.append(
        QualityCheck(
            "duplicates",
            _("Likely duplicates"),
            _(
                "The same phone number, or a similar name with the same birth date or "
                "nationality: the same person registered twice inflates every figure."
            ),
            [
                (
                    pair,
                    pair.first.label,
                    _("like %(code)s (%(why)s)", code=pair.second.label, why=pair.match.why),
                )
                for pair in found[:limit]
            ],
            len(found),
        )
    )
    return checks


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def default_period(projects: list[Project]) -> tuple[date | None, date | None]:
    """Return the span of ``projects``' periods (the dashboard's default period)."""
    if not projects:
        return None, None
    return min(p.start_date for p in projects), max(p.end_date for p in projects)


def last_days(days: int, today: date | None = None) -> tuple[date, date]:
    today = today or date.today()
    return today - timedelta(days=days), today
