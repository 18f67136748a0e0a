"""The data a donor report is built from.

``tracker.reports.donor.collect()`` fills these from the database (through
``tracker.indicators``); ``tracker.reports.pdf.build_donor_pdf()`` turns them
into a PDF without touching the database. All strings arrive already
translated into the report's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class HeadlineFigure:
    """One headline indicator, e.g. "Trained: 135 (target 150)"."""

    key: str  # indicator key, e.g. "trained"
    label: str  # translated label, e.g. "Participantes formées"
    value: int | float  # a count, or a ratio 0..1 when unit == "ratio"
    unit: str  # "people", "institutions" or "ratio"
    target: int | float | None = None
    note: str | None = None  # e.g. "employment 18, IGA 24, both 1"


@dataclass(frozen=True)
class DisaggregationRow:
    label: str
    value: int
    # the raw category (code, id, key) behind the label, for links to the people
    category: Any = None


@dataclass(frozen=True)
class Disaggregation:
    """One indicator broken down by one dimension (e.g. trained × nationality)."""

    indicator_key: str
    dimension_key: str
    title: str  # translated, e.g. "Formées par nationalité"
    total: int  # distinct people or institutions: exact, never suppressed
    rows: list[DisaggregationRow]
    # True when a person can fall in several rows (e.g. two courses in two
    # sectors): the rows may then add up to more than the total
    overlapping: bool = False
    # True when the rows say who people are (sex, age, nationality, region): small
    # cells could single someone out and are suppressed. Breakdowns of programme
    # outcomes (sector, provider, placement kind) and of institutions are not.
    identifying: bool = True


@dataclass(frozen=True)
class ActivityLine:
    held_on: date
    kind_label: str
    title: str
    topic: str | None
    city: str | None
    partners: list[str]  # display names of attending institutions
    staff_count: int  # staff of those institutions, summed
    other_women: int
    other_men: int


@dataclass(frozen=True)
class PartnerLine:
    name: str  # display name (acronym – name)
    kind_label: str
    roles: list[str]  # translated roles in the project, e.g. "Training provider"


@dataclass(frozen=True)
class Definition:
    label: str
    definition: str


@dataclass(frozen=True)
class AnnexFile:
    """The annex as the CSV file delivered with the PDF, which says where it is."""

    name: str  # the file name, e.g. "donor-report-IDF-MA-2014-annex.csv"
    rows: int  # participants listed (the header not counted)
    sha256: str  # of the file's bytes, so that an auditor can tie the two


@dataclass(frozen=True)
class ResultLine:
    """One indicator of the results framework, for the period reported on and since the start."""

    label: str
    baseline: int | None
    actual: int | None
    target: int | None
    status: str | None  # translated: achieved, on track, off track
    cumulative_actual: int | None
    cumulative_target: int | None
    cumulative_status: str | None
    # a disaggregated target's sentence, e.g. "Women: 67 % (at least 60 %), achieved"
    share: str | None = None
    # a manual indicator's source (and note) for the period
    source: str | None = None


@dataclass(frozen=True)
class ResultSection:
    """One outcome or output of the results framework, with its indicators."""

    heading: str  # e.g. "Output 1.1 – Migrants are trained in a trade"
    lines: list[ResultLine]


@dataclass
class DonorReport:
    language: str  # "fr" or "en"
    project_code: str
    project_title: str
    donor: str | None
    counterpart: str | None
    country: str  # translated country name
    period_start: date
    period_end: date
    as_of: datetime  # time of the data the figures were computed from (UTC)
    headline: list[HeadlineFigure]
    disaggregations: list[Disaggregation]
    # (label, trained, placed) per quarter of the period, for the trend chart
    trend: list[tuple[str, int, int]]
    partners: list[PartnerLine]
    activities: list[ActivityLine]
    definitions: list[Definition]
    # pseudonymous annex: translated column headings and rows of strings (codes, no names)
    annex_columns: list[str]
    annex_rows: list[list[str]]
    small_cell_threshold: int = 5
    # (heading, text) sections written by the programme manager
    narrative: list[tuple[str, str]] = field(default_factory=list)
    definitions_version: str = ""
    # the annex's CSV file, when one is delivered with the PDF: the PDF then names it and
    # lists its rows itself only up to ``pdf.ANNEX_IN_PDF_MAX``
    annex_file: AnnexFile | None = None
    # the project's results framework for the period (empty when it has none); "since the
    # start" printed only when the period starts after the project
    results: list[ResultSection] = field(default_factory=list)
    results_since_start: bool = False
