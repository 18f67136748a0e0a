"""Gather a donor report's figures from the database, through ``tracker.indicators``.

``collect()`` must run inside ``flask_babel.force_locale(language)``: every
label it returns is already in the report's language.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from flask_babel import format_percent
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker import indicators
from tracker.extensions import db
from tracker.i18n import country_name
from tracker.indicator_store import reading
from tracker.models import (
    Activity,
    ActivityAttendance,
    AuditEvent,
    Participant,
    Partner,
    Placement,
    Project,
    TrainingCourse,
    now_utc,
)
from tracker.participants.consent import Use, allowed_sql
from tracker.projects import calendar
from tracker.reports.model import (
    ActivityLine,
    Definition,
    Disaggregation,
    DisaggregationRow,
    DonorReport,
    HeadlineFigure,
    PartnerLine,
    ResultLine,
    ResultSection,
)

#: the breakdowns printed in the donor report, in order
REPORT_BREAKDOWNS = (
    ("trained", "sex"),
    ("trained", "age_group"),
    ("trained", "nationality"),
    ("trained", "region"),
    ("trained", "sector"),
    ("trained", "provider"),
    ("placed", "placement_kind"),
    ("placed", "age_group"),
    ("placed", "nationality"),
    ("placed", "sector"),
    ("institutions_strengthened", "partner_kind"),
)


#: the people breakdowns of each indicator, gathered by one query per indicator
_PEOPLE_BREAKDOWNS = {
    key: tuple(d for k, d in REPORT_BREAKDOWNS if k == key and d in indicators.PERSON_DIMENSIONS)
    for key, _dimension in REPORT_BREAKDOWNS
}


@dataclass(frozen=True)
class Headline:
    """The headline figures of a scope and the distinct ids behind each of them.

    Every counted figure is the number of its distinct subjects, read once with
    ``indicators.subject_ids``: the report prints that number, the kept report
    stores the SHA-256 of those very ids, and the annex marks the trained from
    them, so the three cannot disagree and no figure is queried twice.
    """

    values: dict[str, int | float | None]
    ids: dict[str, frozenset[int]]
    trained_and_placed: int


def gather_headline(scope: indicators.Scope) -> Headline:
    """Return the headline figures of ``scope`` with their ids, one query per figure."""
    values: dict[str, int | float | None] = {}
    ids: dict[str, frozenset[int]] = {}
    for key in indicators.HEADLINE:
        if indicators.get(key).rows is None:
            continue
        # COUNT(DISTINCT …) leaves NULL out: so does this
        subjects = frozenset(db.session.scalars(indicators.subject_ids(key, scope))) - {None}
        ids[key], values[key] = subjects, len(subjects)
    trained, placed = ids["trained"], ids["placed"]
    both = len(trained & placed)
    values["placement_rate"] = both / len(trained) if trained else None
    return Headline({key: values[key] for key in indicators.HEADLINE}, ids, both)


def data_as_of() -> object:
    """Return the time of the last recorded change, the moment the data describes."""
    changes = AuditEvent.action.in_(("create", "update", "delete"))
    return db.session.scalar(select(func.max(AuditEvent.occurred_at)).where(changes)) or now_utc()


def _quarter_label(year: int, quarter: int) -> str:
    return _("Q%(q)d %(y)d", q=quarter, y=year)


def collect(
    project: Project,
    start: date | None = None,
    end: date | None = None,
    *,
    language: str = "fr",
    small_cell_threshold: int = 5,
    narrative: list[tuple[str, str]] | None = None,
    today: date | None = None,
    headline: Headline | None = None,
    annex: bool = True,
) -> DonorReport:
    """Return everything the donor report of ``project`` over [start, end] shows.

    The annex lists the codes that may leave the organisation on ``today`` (default:
    the day it is made); the figures count everybody. ``headline`` passes figures
    already gathered for the same scope (``gather_headline``); ``annex=False``
    leaves the annex out (a preview of the figures does not show it).
    """
    start = start or project.start_date
    end = end or project.end_date
    scope = indicators.Scope((project.id,), start, end)
    headline = headline or gather_headline(scope)
    figures = headline.values
    # the target of the period reported on, never the whole project's against a part of it
    targets = calendar.targets_for([project], indicators.INDICATORS, start, end)
    # each placed person's kind (employment, IGA or both): the note under "placed",
    # its breakdown by kind and the annex, from one query
    kind_of = indicators.category_by_subject("placed", "placement_kind", scope)
    by_kind = Counter(kind_of.values())

    lines = []
    for key in indicators.HEADLINE:
        ind = indicators.get(key)
        value = figures[key]
        note = None
        if key == "placed":
            note = _(
                "employment only %(employment)d, IGA only %(iga)d, both %(both)d",
                employment=by_kind.get("employment", 0),
                iga=by_kind.get("iga", 0),
                both=by_kind.get(indicators.BOTH_KINDS, 0),
            )
        elif key == "placement_rate" and value is not None:
            note = _(
                "%(placed)d of %(trained)d trained participants",
                placed=headline.trained_and_placed,
                trained=figures["trained"],
            )
        lines.append(
            HeadlineFigure(
                key=key,
                label=str(ind.label),
                value=value if value is not None else 0,
                unit=ind.unit,
                target=targets.get(key),
                note=note,
            )
        )

    # the breakdowns and trends from the indicator store where it answers the period,
    # as the dashboard reads them (the headline's ids above are read live: hashed)
    source = reading.figures_for(scope)
    people = {
        key: source.breakdowns(key, dimensions)
        for key, dimensions in _PEOPLE_BREAKDOWNS.items()
        if dimensions
    }

    def breakdown(key: str, dimension: str) -> list[tuple[object, int]]:
        if key in people and dimension in people[key]:
            return people[key][dimension]
        if (key, dimension) == ("placed", "placement_kind"):
            return sorted(by_kind.items(), key=lambda pair: (-pair[1], str(pair[0])))
        return source.breakdowns(key, (dimension,))[dimension]

    disaggregations = []
    for key, dimension in REPORT_BREAKDOWNS:
        ind = indicators.get(key)
        rows = [
            DisaggregationRow(indicators.category_label(dimension, category), value, category)
            for category, value in breakdown(key, dimension)
        ]
        disaggregations.append(
            Disaggregation(
                indicator_key=key,
                dimension_key=dimension,
                title=_(
                    "%(indicator)s by %(dimension)s",
                    indicator=ind.label,
                    dimension=str(indicators.DIMENSIONS[dimension].label).lower(),
                ),
                total=figures[key] or 0,
                rows=rows,
                overlapping=indicators.overlapping(key, dimension),
                identifying=dimension in indicators.PERSON_DIMENSIONS,
            )
        )

    trained_q = {(y, q): n for y, q, n in source.by_period("trained", "quarter")}
    placed_q = {(y, q): n for y, q, n in source.by_period("placed", "quarter")}
    trend = [
        (_quarter_label(y, q), trained_q.get((y, q), 0), placed_q.get((y, q), 0))
        for y, q in _quarters(start, end)
    ]

    return DonorReport(
        language=language,
        project_code=project.code,
        project_title=project.title,
        donor=project.donor,
        counterpart=project.counterpart,
        country=country_name(project.country, language),
        period_start=start,
        period_end=end,
        as_of=data_as_of(),
        headline=lines,
        disaggregations=disaggregations,
        trend=trend,
        partners=_partners(project),
        activities=_activities(project, start, end),
        definitions=[
            Definition(str(ind.label), str(ind.definition))
            for ind in indicators.INDICATORS.values()
        ]
        + [
            Definition(
                str(indicators.DIMENSIONS["age_group"].label),
                _(
                    "Age in whole years on the date of registration, from the date of birth "
                    "(or the year of birth when only the year is known)."
                ),
            )
        ],
        annex_columns=[_("Code"), _("Trained"), _("Placed")],
        annex_rows=_annex(scope, today or date.today(), headline.ids["trained"], kind_of)
        if annex
        else [],
        small_cell_threshold=small_cell_threshold,
        results=_results(project, start, end, today or date.today(), small_cell_threshold),
        results_since_start=start > project.start_date,
        narrative=narrative or [],
        definitions_version=indicators.DEFINITIONS_VERSION,
    )


def _results(
    project: Project, start: date, end: date, today: date, threshold: int
) -> list[ResultSection]:
    """The results framework for the period reported on; shares of small cells withheld."""
    from tracker.results import services as results

    def status(value: str | None) -> str | None:
        return str(calendar.STATUS_LABELS[value]) if value else None

    sections = []
    for block in results.framework(
        project, start, end, today=today, small_cell_threshold=threshold
    ):
        lines = []
        for row in block.rows:
            share = None
            if row.share is not None:
                share = (
                    _("%(category)s: hidden (small numbers)", category=row.share.label)
                    if row.share.hidden
                    else _(
                        "%(category)s: %(percent)s (at least %(minimum)s)",
                        category=row.share.label,
                        percent=format_percent(row.share.percent / 100)
                        if row.share.percent is not None
                        else "–",
                        minimum=format_percent(row.share.minimum / 100),
                    )
                )
                if row.share.status:
                    share = f"{share}, {status(row.share.status)}"
            source = None
            if row.entry is not None:
                source = _("Source: %(source)s", source=row.entry.source)
                if row.entry.note:
                    source = f"{source} · {row.entry.note}"
            lines.append(
                ResultLine(
                    label=row.label,
                    baseline=row.baseline,
                    actual=row.period.actual,
                    target=row.period.target,
                    status=status(row.period.status),
                    cumulative_actual=row.cumulative.actual,
                    cumulative_target=row.cumulative.target,
                    cumulative_status=status(row.cumulative.status),
                    share=share,
                    source=source,
                )
            )
        result = block.result
        sections.append(
            ResultSection(f"{result.level.label} {result.code} – {result.statement}", lines)
        )
    return sections


def _quarters(start: date, end: date) -> list[tuple[int, int]]:
    quarters = []
    year, quarter = start.year, (start.month - 1) // 3 + 1
    while (year, quarter) <= (end.year, (end.month - 1) // 3 + 1):
        quarters.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return quarters


def _partners(project: Project) -> list[PartnerLine]:
    """Return the institutions that worked with the project, each with its roles."""
    roles: dict[int, set[str]] = {}

    def add(ids, role: str) -> None:
        for partner_id in ids:
            if partner_id is not None:
                roles.setdefault(partner_id, set()).add(role)

    add(
        db.session.scalars(
            select(TrainingCourse.provider_id).where(TrainingCourse.project_id == project.id)
        ),
        _("Training provider"),
    )
    add(
        db.session.scalars(select(Placement.employer_id).where(Placement.project_id == project.id)),
        _("Employer"),
    )
    add(
        db.session.scalars(
            select(Placement.referral_partner_id).where(Placement.project_id == project.id)
        ),
        _("Referral"),
    )
    attendance = db.session.execute(
        select(ActivityAttendance.partner_id, Activity.kind)
        .join(Activity)
        .where(Activity.project_id == project.id)
    )
    for partner_id, kind in attendance:
        add([partner_id], _("Attended: %(kind)s", kind=kind.label.lower()))
    if not roles:
        return []
    partners = db.session.scalars(select(Partner).where(Partner.id.in_(roles))).all()
    return [
        PartnerLine(p.display_name, p.kind.label, sorted(roles[p.id]))
        for p in sorted(partners, key=lambda p: (p.kind.value, p.name))
    ]


def _activities(project: Project, start: date, end: date) -> list[ActivityLine]:
    """Return the project's activities; events after the period (closing events) included."""
    activities = db.session.scalars(
        select(Activity)
        .where(Activity.project_id == project.id, Activity.held_on >= start)
        .options(selectinload(Activity.attendances).selectinload(ActivityAttendance.partner))
        .order_by(Activity.held_on)
    )
    return [
        ActivityLine(
            held_on=a.held_on,
            kind_label=a.kind.label,
            title=a.title,
            topic=a.topic,
            city=a.city,
            partners=sorted(att.partner.acronym or att.partner.name for att in a.attendances),
            staff_count=sum(att.staff_count for att in a.attendances),
            other_women=a.other_women,
            other_men=a.other_men,
        )
        for a in activities
        if a.held_on <= end or a.kind.value == "event"
    ]


def _annex(
    scope: indicators.Scope, today: date, trained: frozenset[int], kind_of: dict[int, object]
) -> list[list[str]]:
    """Return one row per trained or placed person: her code and outcomes, nothing else.

    No sex, age or nationality: counting the annex's rows by those would give back
    the small cells the tables hide (and their combinations single people out).
    The case behind each code is traced inside the organisation, not in the PDF.
    A person whose code may not leave the organisation (she withdrew or let expire
    her consent to donor reporting; see ``tracker.participants.consent``) is left
    out of the annex and still counted in every figure. ``trained`` holds the ids of
    the trained and ``kind_of`` the placement kind of each placed person.
    """
    # the people are chosen by subqueries, not by a list of ids: PostgreSQL takes at
    # most 65,535 parameters in one statement, fewer than a large programme's people
    people = db.session.execute(
        select(Participant.id, Participant.code)
        .where(
            Participant.id.in_(indicators.subject_ids("trained", scope).scalar_subquery())
            | Participant.id.in_(indicators.subject_ids("placed", scope).scalar_subquery()),
            allowed_sql(Use.PSEUDONYMOUS, Participant.id, today),
        )
        .order_by(Participant.code)
    ).all()
    yes, no, none = _("yes"), _("no"), "–"
    # one label per kind, not one lookup per person
    kinds = {
        kind: indicators.category_label("placement_kind", kind) for kind in set(kind_of.values())
    }
    return [
        [code, yes if pid in trained else no, kinds[kind_of[pid]] if pid in kind_of else none]
        for pid, code in people
    ]
