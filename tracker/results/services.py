"""A project's results framework: outcomes and outputs, their indicators, and how they stand.

A result holds indicators of two sorts: those the tracker computes (``tracker.indicators``,
whose targets and baselines are the project's targets) and manual ones, whose values a
manager enters for each reporting period with their source (things the tracker does not
record, such as a law adopted or a satisfaction score). Either may carry a disaggregated
target: at least ``share_minimum`` % of the figure in one category (e.g. 60 % women).

**How a figure stands** against its target, for a reporting period or from the project's
start to the end of one (cumulative): *achieved* when the actual reaches the target;
otherwise the target is prorated by the share of the period's days already past (a
period not yet begun expects nothing, a period over expects all of it), and the figure
is *on track* when it reaches ``ON_TRACK`` (90 %) of that, *off track* below. With no
target there is no standing. A disaggregated target is *achieved* or *off track*, from
the shares of the figure of the period.

Plain functions that flush only; a rule broken is a ``DomainError`` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from tracker import indicators
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import (
    MANUAL_PREFIX,
    ManualValue,
    Project,
    ProjectResult,
    ProjectTarget,
    ResultIndicator,
    ResultLevel,
)
from tracker.projects import calendar
from tracker.projects.calendar import (  # noqa: F401 (how a figure stands: there)
    ACHIEVED,
    OFF_TRACK,
    ON_TRACK,
    ON_TRACK_STATUS,
    STATUS_LABELS,
    Standing,
    elapsed,
)

CUMULATIVE_RULES = {
    "sum": _l("Sum of the periods' values"),
    "latest": _l("Latest value entered"),
}
#: the breakdowns a disaggregated target may be set on, with their categories
SHARE_DIMENSIONS = ("sex", "age_group")
SOURCE_MAX, NOTE_MAX, TITLE_MAX, UNIT_MAX = 300, 2000, 300, 40


def computable() -> tuple[str, ...]:
    """The computed indicators a result may hold: the counts (a ratio has no target)."""
    return tuple(k for k, i in indicators.INDICATORS.items() if i.unit != indicators.RATIO)


def _text(value: str | None, field: str, limit: int, *, required: bool = False) -> str | None:
    text = " ".join((value or "").split())
    if required and not text:
        raise DomainError(_("This field is required."), field)
    if len(text) > limit:
        raise DomainError(_("At most %(n)d characters.", n=limit), field)
    return text or None


# --- the framework's set-up --------------------------------------------------------------


def add_result(project: Project, level: str, code: str, statement: str) -> ProjectResult:
    """Add an outcome or an output to ``project``'s framework."""
    try:
        level_ = ResultLevel(level)
    except ValueError:
        raise DomainError(_("Choose outcome or output."), "level") from None
    code_ = _text(code, "code", 16, required=True)
    statement_ = _text(statement, "statement", 500, required=True)
    taken = db.session.scalar(
        select(ProjectResult.id).where(
            ProjectResult.project_id == project.id, ProjectResult.code == code_
        )
    )
    if taken is not None:
        raise DomainError(
            _("%(code)s already numbers a result of this project.", code=code_), "code"
        )
    result = ProjectResult(project_id=project.id, level=level_, code=code_, statement=statement_)
    db.session.add(result)
    db.session.flush()
    return result


def update_result(result: ProjectResult, level: str, code: str, statement: str) -> None:
    """Change a result's level, numbering or wording."""
    try:
        result.level = ResultLevel(level)
    except ValueError:
        raise DomainError(_("Choose outcome or output."), "level") from None
    code_ = _text(code, "code", 16, required=True)
    taken = db.session.scalar(
        select(ProjectResult.id).where(
            ProjectResult.project_id == result.project_id,
            ProjectResult.code == code_,
            ProjectResult.id != result.id,
        )
    )
    if taken is not None:
        raise DomainError(
            _("%(code)s already numbers a result of this project.", code=code_), "code"
        )
    result.code = code_
    result.statement = _text(statement, "statement", 500, required=True)
    db.session.flush()


def _drop_manual_targets(indicator: ResultIndicator) -> None:
    if indicator.manual:
        for target in db.session.scalars(
            select(ProjectTarget).where(
                ProjectTarget.project_id == indicator.project_id,
                ProjectTarget.indicator == indicator.key,
            )
        ):
            db.session.delete(target)


def remove_result(result: ProjectResult) -> None:
    """Remove a result, its indicators, and the values and targets of its manual ones.

    A computed indicator's targets are the project's and stay.
    """
    for indicator in result.indicators:
        _drop_manual_targets(indicator)
    db.session.delete(result)
    db.session.flush()


def _check_free(project_id: int, key: str) -> None:
    taken = db.session.scalar(
        select(ProjectResult.code)
        .join(ResultIndicator, ResultIndicator.result_id == ProjectResult.id)
        .where(ResultIndicator.project_id == project_id, ResultIndicator.key == key)
    )
    if taken is not None:
        raise DomainError(
            _("This indicator is already under result %(code)s.", code=taken), "indicator"
        )


def add_indicator(result: ProjectResult, key: str) -> ResultIndicator:
    """Put one of the tracker's computed indicators under ``result``."""
    if key not in computable():
        raise DomainError(
            _(
                "Unknown indicator %(key)s; one of: %(keys)s.",
                key=key,
                keys=", ".join(computable()),
            ),
            "indicator",
        )
    _check_free(result.project_id, key)
    indicator = ResultIndicator(result=result, project_id=result.project_id, key=key)
    db.session.add(indicator)
    db.session.flush()
    return indicator


def add_manual_indicator(
    result: ProjectResult,
    title: str,
    unit: str | None = None,
    cumulative: str = "sum",
    *,
    key: str | None = None,
) -> ResultIndicator:
    """Add an indicator the tracker does not compute: its values are entered per period.

    Its key is the next ``manual_<n>`` of the project, or ``key`` (a copied framework
    keeps its keys, so the targets copied with it still apply).
    """
    title_ = _text(title, "title", TITLE_MAX, required=True)
    unit_ = _text(unit, "unit", UNIT_MAX)
    if cumulative not in CUMULATIVE_RULES:
        raise DomainError(_("Choose how the values add up."), "cumulative")
    keys = db.session.scalars(
        select(ResultIndicator.key).where(
            ResultIndicator.project_id == result.project_id,
            ResultIndicator.key.startswith(MANUAL_PREFIX),
        )
    )
    taken = [int(k[len(MANUAL_PREFIX) :]) for k in keys if k[len(MANUAL_PREFIX) :].isdigit()]
    if key is None:
        key = f"{MANUAL_PREFIX}{max(taken, default=0) + 1}"
    else:
        _check_free(result.project_id, key)
    indicator = ResultIndicator(
        result=result,
        project_id=result.project_id,
        key=key,
        title=title_,
        unit=unit_,
        cumulative=cumulative,
    )
    db.session.add(indicator)
    db.session.flush()
    return indicator


def remove_indicator(indicator: ResultIndicator) -> None:
    """Take an indicator out of the framework (a manual one with its values and targets)."""
    _drop_manual_targets(indicator)
    db.session.delete(indicator)
    db.session.flush()


def share_choices() -> list[tuple[str, str]]:
    """The ``dimension:category`` a disaggregated target may be set on, with their labels."""
    choices = []
    for dimension in SHARE_DIMENSIONS:
        dim = indicators.DIMENSIONS[dimension]
        categories = ("F", "M") if dimension == "sex" else indicators.AGE_GROUPS[:-1]
        for category in categories:
            label = indicators.category_label(dimension, category)
            choices.append((f"{dimension}:{category}", f"{dim.label}: {label}"))
    return choices


def set_share(indicator: ResultIndicator, choice: str | None, minimum: int | None) -> None:
    """Set (or, with no choice, remove) the disaggregated target of a computed indicator."""
    if not choice:
        indicator.share_dimension = indicator.share_category = indicator.share_minimum = None
        db.session.flush()
        return
    if indicator.manual:
        raise DomainError(
            _("A disaggregated target needs an indicator the tracker computes."), "share"
        )
    if choice not in dict(share_choices()):
        raise DomainError(_("Choose a category."), "share")
    dimension, category = choice.split(":", 1)
    if dimension not in indicators.get(indicator.key).dimensions:
        raise DomainError(_("This indicator has no breakdown by this category."), "share")
    if minimum is None or not 0 <= minimum <= 100:
        raise DomainError(_("A percentage from 0 to 100."), "minimum")
    indicator.share_dimension, indicator.share_category = dimension, category
    indicator.share_minimum = minimum
    db.session.flush()


def record_value(
    indicator: ResultIndicator,
    period: str,
    value: int,
    source: str,
    note: str | None,
    *,
    by: str,
) -> ManualValue:
    """Enter (or replace) a manual indicator's value for one reporting period."""
    if not indicator.manual:
        raise DomainError(_("The tracker computes this indicator: no value to enter."), "value")
    project = db.session.get(Project, indicator.project_id)
    found = calendar.period(project, (period or "").strip().upper())
    if found is None:
        keys = ", ".join(p.key for p in calendar.periods(project))
        raise DomainError(
            _(
                "%(period)s is not a reporting period of %(code)s; its periods: %(keys)s.",
                period=period,
                code=project.code,
                keys=keys,
            ),
            "period",
        )
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DomainError(_("A whole number, 0 or more."), "value")
    source_ = _text(source, "source", SOURCE_MAX, required=True)
    note_ = (note or "").strip() or None
    if note_ and len(note_) > NOTE_MAX:
        raise DomainError(_("At most %(n)d characters.", n=NOTE_MAX), "note")
    entry = db.session.scalar(
        select(ManualValue).where(
            ManualValue.indicator_id == indicator.id, ManualValue.period == found.key
        )
    )
    if entry is None:
        entry = ManualValue(indicator=indicator, period=found.key)
        db.session.add(entry)
    entry.value, entry.source, entry.note, entry.recorded_by_label = value, source_, note_, by
    db.session.flush()
    return entry


def remove_value(entry: ManualValue) -> None:
    db.session.delete(entry)
    db.session.flush()


def results_of(project: Project) -> list[ProjectResult]:
    """The project's results in the donor's numbering (1, 1.1, 1.2, 2 …)."""
    results = db.session.scalars(
        select(ProjectResult).where(ProjectResult.project_id == project.id)
    ).all()
    return sorted(results, key=lambda r: _numbering(r.code))


def _numbering(code: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in code.split("."))


def manual_keys(project: Project) -> dict[str, str]:
    """The project's manual indicators: key → title (they take targets like computed ones)."""
    rows = db.session.execute(
        select(ResultIndicator.key, ResultIndicator.title)
        .where(
            ResultIndicator.project_id == project.id,
            ResultIndicator.key.startswith(MANUAL_PREFIX),
        )
        .order_by(ResultIndicator.id)
    )
    return {key: title for key, title in rows}


def copy_framework(source: Project, project: Project) -> int:
    """Give ``project`` ``source``'s results and indicators (no values); return how many results."""
    copied = 0
    for result in results_of(source):
        new = add_result(project, result.level.value, result.code, result.statement)
        for indicator in result.indicators:
            if indicator.manual:
                made = add_manual_indicator(
                    new, indicator.title, indicator.unit, indicator.cumulative, key=indicator.key
                )
            else:
                made = add_indicator(new, indicator.key)
                if indicator.share_dimension:
                    set_share(
                        made,
                        f"{indicator.share_dimension}:{indicator.share_category}",
                        indicator.share_minimum,
                    )
        copied += 1
    return copied


# --- how it stands ---------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """A disaggregated target: the share of one category in the figure of the period."""

    label: str
    minimum: int
    count: int | None
    total: int | None
    #: the cell is under the small-cell threshold for this reader: not shown
    hidden: bool = False

    @property
    def percent(self) -> int | None:
        if self.count is None or not self.total:
            return None
        return round(100 * self.count / self.total)

    @property
    def status(self) -> str | None:
        if self.hidden or self.percent is None:
            return None
        return ACHIEVED if self.percent >= self.minimum else OFF_TRACK


@dataclass(frozen=True)
class Row:
    indicator: ResultIndicator
    label: str
    unit: str
    baseline: int | None
    period: Standing
    cumulative: Standing
    share: Share | None = None
    #: a manual indicator's value of the period, with its source and note
    entry: ManualValue | None = None
    #: periods up to the one shown that have a value, and how many there are
    entered: tuple[int, int] | None = None


@dataclass(frozen=True)
class Block:
    result: ProjectResult
    rows: list[Row]


def _targets(project: Project) -> list[ProjectTarget]:
    return list(
        db.session.scalars(select(ProjectTarget).where(ProjectTarget.project_id == project.id))
    )


def _baseline(rows: list[ProjectTarget], key: str) -> int | None:
    whole = next((t for t in rows if t.indicator == key and t.period == calendar.WHOLE), None)
    return whole.baseline if whole is not None else None


def _share(
    indicator: ResultIndicator, scope: indicators.Scope, total: int, threshold: int | None
) -> Share:
    dimension, category = indicator.share_dimension, indicator.share_category
    counts = dict(indicators.disaggregate(indicator.key, dimension, scope))
    count = counts.get(category, 0)
    label = indicators.category_label(dimension, category)
    hidden = threshold is not None and (0 < count < threshold or 0 < total - count < threshold)
    return Share(
        str(label),
        indicator.share_minimum,
        None if hidden else count,
        None if hidden else total,
        hidden,
    )


def _added(values: list[int], rule: str) -> int | None:
    if not values:
        return None
    return sum(values) if rule == "sum" else values[-1]


def framework(
    project: Project,
    start: date | None = None,
    end: date | None = None,
    *,
    today: date,
    small_cell_threshold: int | None = None,
) -> list[Block]:
    """How each indicator of each result stands for ``start``..``end`` (default: the project).

    ``cumulative`` runs from the project's start to the end of the period shown. A
    manual indicator has a value for the period shown when the period is made of whole
    reporting periods with values (their sum, or the latest, by its rule).
    ``small_cell_threshold``, for a reader who must not see small cells, hides the
    disaggregated shares with a category under it.
    """
    start = max(start or project.start_date, project.start_date)
    end = min(end or project.end_date, project.end_date)
    targets = _targets(project)
    period_days = elapsed(start, end, today)
    cumulative_days = elapsed(project.start_date, end, today)
    parts = [p.key for p in calendar.covered(project, start, end)]
    keys = [p.key for p in calendar.periods(project) if p.end <= end]
    blocks = []
    for result in results_of(project):
        rows = []
        for indicator in result.indicators:
            target = calendar.target_for(project, indicator.key, start, end, targets)
            running = calendar.target_for(project, indicator.key, project.start_date, end, targets)
            baseline = _baseline(targets, indicator.key)
            if indicator.manual:
                values = {v.period: v for v in indicator.values}
                seen = [values[k].value for k in keys if k in values]
                actual = _added(
                    [values[k].value for k in parts if k in values], indicator.cumulative
                )
                rows.append(
                    Row(
                        indicator,
                        indicator.title or indicator.key,
                        indicator.unit or "",
                        baseline,
                        Standing(actual, target.value if target else None, period_days),
                        Standing(
                            _added(seen, indicator.cumulative),
                            running.value if running else None,
                            cumulative_days,
                        ),
                        entry=values.get(parts[0]) if len(parts) == 1 else None,
                        entered=(len(seen), len(keys)),
                    )
                )
                continue
            ind = indicators.get(indicator.key)
            scope = indicators.Scope((project.id,), start, end)
            actual = indicators.count(indicator.key, scope)
            running_actual = (
                actual
                if start <= project.start_date
                else indicators.count(
                    indicator.key, indicators.Scope((project.id,), project.start_date, end)
                )
            )
            share = (
                _share(indicator, scope, actual, small_cell_threshold)
                if indicator.share_dimension
                else None
            )
            rows.append(
                Row(
                    indicator,
                    str(ind.label),
                    ind.unit,
                    baseline,
                    Standing(actual, target.value if target else None, period_days),
                    Standing(running_actual, running.value if running else None, cumulative_days),
                    share=share,
                )
            )
        blocks.append(Block(result, rows))
    return blocks


def count_results(project: Project) -> int:
    return (
        db.session.scalar(
            select(func.count(ProjectResult.id)).where(ProjectResult.project_id == project.id)
        )
        or 0
    )
