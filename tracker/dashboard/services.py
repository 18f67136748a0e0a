"""What the dashboard shows: figures, breakdowns, trends, filter choices, drill-down lists.

Every number comes from ``tracker.indicators``, read from the indicator store
when it answers the scope exactly (``tracker.indicator_store.reading``); the charts are drawn by
``tracker.reports.charts``, the same code as the donor PDF's, so the screen and
the document cannot disagree. Everything here is computed live: the views read
the dashboard through ``cache`` (kept while no record changes); the data-quality
panel is ``quality``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from tracker import indicators
from tracker.extensions import db
from tracker.indicator_store import keeping, reading
from tracker.models import Participant, Partner, Project, TrainingCourse
from tracker.projects import calendar
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
    #: the whole project's target, when the period shown has none of its own
    project_target: int | None = None
    # (label, value, dimension, category) for a figure split in parts, e.g. placed by kind
    parts: list[tuple[str, int, str, Any]] = field(default_factory=list)
    #: the share of the period shown already past (a target is expected in proportion)
    elapsed: float = 1.0

    @property
    def progress(self) -> float | None:
        if not self.target or self.value is None or self.unit == indicators.RATIO:
            return None
        return self.value / self.target

    @property
    def status(self) -> str | None:
        """Achieved, on track or off track, as in the results framework (``tracker.results``)."""
        if self.target is None or self.value is None or self.unit == indicators.RATIO:
            return None
        return calendar.Standing(int(self.value), self.target, self.elapsed).status


@dataclass
class Breakdown:
    key: str
    dimension: str
    title: str
    total: int
    rows: list[tuple[str, int, Any]]  # (label, value, raw category for the drill-down)
    overlapping: bool

    @property
    def largest(self) -> int:
        """The largest number shown (a hidden small number is text): the longest bar's."""
        return max((n for _, n, _ in self.rows if isinstance(n, int)), default=0)


@dataclass
class Dashboard:
    scope: indicators.Scope
    cards: list[Card]
    breakdowns: list[Breakdown]
    funnel_svg: str
    trend_svg: str
    trend: list[tuple[str, int, int]]
    #: where the figures of people came from: reading.STORE or reading.LIVE
    source: str = reading.LIVE
    #: (stage, of whom registered before the period, all at the stage) for a period's funnel
    registered_before: list[tuple[str, int, int]] = field(default_factory=list)
    #: the names of the trend's two series, for its table of figures
    trend_series: tuple[str, str] = ("", "")


def targets_of(
    projects: list[Project], start: date | None = None, end: date | None = None
) -> dict[str, int]:
    """Return the targets of the period shown, summed over ``projects``.

    The whole project's target for the whole project, the sum of the reporting periods'
    targets for a period made of whole reporting periods, else none: never a
    whole-project target against a part of the project (``tracker.projects.calendar``).
    A target missing in one project is dropped.
    """
    return calendar.targets_for(projects, indicators.INDICATORS, start, end)


def period_label(year: int, part: int, grain: str) -> str:
    if grain == "month":
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


def build(scope: indicators.Scope, projects: list[Project], grain: str = "quarter") -> Dashboard:
    """Compute everything the dashboard page shows for ``scope``.

    The figures of people come from the indicator store when its standard windows
    answer the scope exactly (``indicator_store.reading``), else live.
    """
    source = reading.figures_for(scope)
    figures = source.headline()
    targets = targets_of(projects, scope.start, scope.end)
    past = (
        calendar.elapsed(scope.start, scope.end, date.today()) if scope.start and scope.end else 1.0
    )
    whole = targets_of(projects) if len(targets) < len(indicators.HEADLINE) else {}
    pairs = {key: source.breakdowns(key, dims) for key, dims in BREAKDOWNS.items()}
    cards = []
    for key in indicators.HEADLINE:
        ind = indicators.get(key)
        card = Card(key, str(ind.label), figures[key], ind.unit, targets.get(key), elapsed=past)
        if card.target is None:
            card.project_target = whole.get(key)
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

    before = [
        (str(indicators.get(k).label), indicators.registered_before(k, scope), figures[k] or 0)
        for k in FUNNEL[1:4]
    ]
    funnel = charts.funnel_chart(
        [(str(indicators.get(k).label), figures[k] or 0) for k in FUNNEL],
        title=_("From registration to placement"),
        description=_("Distinct people at each stage, over the chosen period."),
        # drawn for the screen: 12 px text, as wide as a phone's card (charts.SCREEN_*)
        width=charts.SCREEN_WIDTH,
        text_size=charts.SCREEN_TEXT_SIZE,
        title_size=charts.SCREEN_TITLE_SIZE,
        labels_above=True,
        slack=charts.SCREEN_SLACK,
    )
    trend = []
    if scope.start and scope.end:
        trained = {(y, p): n for y, p, n in source.by_period("trained", grain)}
        placed = {(y, p): n for y, p, n in source.by_period("placed", grain)}
        trend = [
            (period_label(y, p, grain), trained.get((y, p), 0), placed.get((y, p), 0))
            for y, p in _periods(scope.start, scope.end, grain)
        ]
    series = (str(indicators.get("trained").label), _("Placed"))
    trend_chart = charts.trend_chart(
        trend,
        series_labels=series,
        title=_("Trained and placed per month")
        if grain == "month"
        else _("Trained and placed per quarter"),
        description=_("Each person counts once, in the period of her or his first event."),
        width=charts.SCREEN_WIDTH,
        height=260,
        text_size=charts.SCREEN_TEXT_SIZE,
        small_size=charts.SCREEN_TEXT_SIZE,
        title_size=charts.SCREEN_TITLE_SIZE,
        slack=charts.SCREEN_SLACK,
    )
    return Dashboard(
        scope=scope,
        cards=cards,
        breakdowns=breakdowns,
        funnel_svg=charts.to_svg(funnel, id_prefix="funnel"),
        trend_svg=charts.to_svg(trend_chart, id_prefix="trend"),
        trend=trend,
        source=source.source,
        registered_before=before if any(n for _, n, _ in before) else [],
        trend_series=series,
    )


def filter_choices(project_ids: list[int]) -> tuple[list[tuple[int, str | None, str]], list[str]]:
    """Return the providers (id, acronym, name) and regions the filters offer for the projects.

    The views read it through ``cache.cached_filter_choices``. The regions come from
    the indicator store (the regions of the people it counts as registered: a few
    hundred rows) unless a project's store waits for a rebuild; reading them from
    every participant took 250 ms at 1,000,000 people, after every change.
    """
    providers = db.session.execute(
        select(Partner.id, Partner.acronym, Partner.name)
        .where(
            Partner.id.in_(
                select(TrainingCourse.provider_id).where(TrainingCourse.project_id.in_(project_ids))
            )
        )
        .order_by(Partner.name)
    ).all()
    if project_ids and not keeping.stale_projects(project_ids):
        regions = reading.regions(project_ids)
    else:
        regions = db.session.scalars(
            select(Participant.region)
            .where(Participant.project_id.in_(project_ids), Participant.region.is_not(None))
            .distinct()
            .order_by(Participant.region)
        ).all()
    return [tuple(row) for row in providers], list(regions)


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


# --- Period ------------------------------------------------------------------


def default_period(projects: list[Project]) -> tuple[date | None, date | None]:
    """Return the span of ``projects``' periods (the dashboard's default period)."""
    if not projects:
        return None, None
    return min(p.start_date for p in projects), max(p.end_date for p in projects)


def last_days(days: int, today: date | None = None) -> tuple[date, date]:
    today = today or date.today()
    return today - timedelta(days=days), today
