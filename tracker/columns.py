"""The spreadsheet columns of every table the tracker exports and imports: one place.

Exports write these columns, in this order, and imports read them, so a file
goes out and comes back in unchanged. Each column has the name that heads it,
an HXL hashtag (the Humanitarian Exchange Language, https://hxlstandard.org)
for the optional second header row, a ``personal`` flag (pseudonymous exports
leave those columns out), a description for people, and ``to_cell`` that turns
a stored value into what the cell holds: dates ``YYYY-MM-DD``, booleans
``yes``/``no``, enums by value, decimals as plain numbers.

``docs/columns.md`` is generated from this module (``python -m tracker.columns``)
and a test checks that it is up to date.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from tracker.models import (
    ActivityKind,
    ContractType,
    CourseKind,
    EducationLevel,
    EnrolmentStatus,
    MigrationStatus,
    PartnerKind,
    PlacementKind,
    Sex,
)
from tracker.paths import PROJECT_ROOT

# what a cell holds; the writers and the documentation use the kind
TEXT = "text"
CODE = "code"
PHONE = "phone"
EMAIL = "email"
COUNTRY = "country"
DATE = "date"
BOOLEAN = "boolean"
CHOICE = "choice"
INTEGER = "integer"
DECIMAL = "decimal"

YES = "yes"
NO = "no"

#: kinds whose cells are text as typed (exports neutralise formulas in them)
TEXT_KINDS = frozenset({TEXT, CODE, PHONE, EMAIL, COUNTRY})
#: what the CSV writer does with a column's cells (``spreadsheets.csv_chunks``)
CSV_TEXT = "text"  # text or nothing: neutralised
CSV_PLAIN = "plain"  # written as they are: no cell of theirs can start a formula
CSV_ANY = "any"  # anything: converted cell by cell


def plain_number(value: Decimal) -> int | Decimal:
    """Return a decimal as a plain number: 2150.00 becomes 2150, 2150.50 becomes 2150.5."""
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


def to_cell(value: Any) -> str | int | Decimal | float | None:
    """Return a stored value as a cell holds it (None for an empty cell)."""
    if value is None or value == "":
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return plain_number(value)
    return value


def iso_date_cell(value: Any) -> str | int | Decimal | float | None:
    """Return ``to_cell(value)`` for a column of dates, without its tests for a date."""
    if value.__class__ is date:
        return value.isoformat()
    return to_cell(value)


def yes_no_cell(value: Any) -> str | None:
    """Return the cell of a boolean read from the database (a bool, or 0/1 on SQLite)."""
    if value is None:
        return None
    return YES if value else NO


@dataclass(frozen=True)
class Column:
    """One column of a spreadsheet: its header, HXL hashtag, meaning and cell format."""

    name: str
    hxl: str
    description: Any
    kind: str = TEXT
    #: identifies or locates a person: left out of pseudonymous exports
    personal: bool = False
    #: an import row without it is refused (``code`` may be blank: one is generated)
    required: bool = False
    choices: type[enum.Enum] | None = None

    def to_cell(self, value: Any) -> str | int | Decimal | float | None:
        """Return ``value`` as the cell holds it (None for an empty cell)."""
        return to_cell(value)

    @property
    def csv_format(self) -> str:
        """Say how a CSV file writes this column's cells: CSV_TEXT, CSV_PLAIN or CSV_ANY.

        Dates (ISO text, or a year alone), yes/no, whole numbers and choices whose
        codes start with a letter or digit can never read as a formula: they are
        written as they are, without a test per cell.
        """
        if self.kind in TEXT_KINDS:
            return CSV_TEXT
        if self.kind in (DATE, BOOLEAN, INTEGER):
            return CSV_PLAIN
        if self.kind == CHOICE and self.choices is not None:
            safe = all(str(m.value)[:1].isalnum() for m in self.choices)
            return CSV_PLAIN if safe else CSV_TEXT
        return CSV_ANY

    def format_text(self) -> str:
        """Say in English what the cells hold (for docs/columns.md)."""
        if self.kind == CHOICE and self.choices is not None:
            return "one of: " + ", ".join(f"`{m.value}`" for m in self.choices)
        return {
            TEXT: "text",
            CODE: "code (text)",
            PHONE: "phone number (text)",
            EMAIL: "e-mail address",
            COUNTRY: "ISO 3166-1 alpha-3 code",
            DATE: "date `YYYY-MM-DD`",
            BOOLEAN: "`yes` or `no`",
            INTEGER: "whole number",
            DECIMAL: "number, `.` before decimals",
        }[self.kind]


@dataclass(frozen=True)
class Table:
    """The columns of one kind of record, as one sheet or one CSV file."""

    key: str
    label: Any
    description: Any
    columns: tuple[Column, ...]
    #: the file of seed_data/ with the same columns, if any
    seed_file: str | None = None
    #: for docs/columns.md (English): how a seed file with other columns relates to these
    seed_note: str | None = None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def visible(self, *, pseudonymous: bool) -> tuple[Column, ...]:
        """Return the columns an export carries: without personal ones if pseudonymous."""
        if not pseudonymous:
            return self.columns
        return tuple(c for c in self.columns if not c.personal)

    @property
    def has_personal(self) -> bool:
        return any(c.personal for c in self.columns)


# --- Columns shared by several tables ------------------------------------------

PARTICIPANT_CODE = Column(
    "participant_code",
    "#beneficiary+code",
    _l("Code of the participant (her pseudonym), as in the participants' file."),
    CODE,
    required=True,
)
PROJECT_CODE = Column(
    "project_code",
    "#activity+project+code",
    _l("Code of the project, e.g. IDF-MA-2014."),
    CODE,
    required=True,
)
MONTHLY_INCOME = Column(
    "monthly_income",
    "#value+income+mad",
    _l("Monthly income in Moroccan dirhams (MAD)."),
    DECIMAL,
)

# --- Tables ----------------------------------------------------------------------

PARTICIPANTS = Table(
    "participants",
    _l("Participants"),
    _l("One row per participant: identity, situation, consent and project."),
    (
        Column(
            "code",
            "#beneficiary+code",
            _l(
                "Pseudonymous code, unique, printed on reports instead of the name. "
                "Left blank in an import, a code is generated."
            ),
            CODE,
        ),
        Column(
            "given_name",
            "#beneficiary+name+given",
            _l("Given name."),
            personal=True,
            required=True,
        ),
        Column(
            "family_name",
            "#beneficiary+name+family",
            _l("Family name."),
            personal=True,
            required=True,
        ),
        Column(
            "other_name",
            "#beneficiary+name+alt",
            _l(
                "Full name in the other script: in Arabic letters, or in Latin letters when "
                "the given and family names are in Arabic. Search and the duplicate check "
                "read it too."
            ),
            personal=True,
        ),
        Column(
            "sex",
            "#beneficiary+sex",
            _l("Sex: F (female) or M (male)."),
            CHOICE,
            required=True,
            choices=Sex,
        ),
        Column(
            "date_of_birth",
            "#date+birth",
            _l("Date of birth; only the year (YYYY) when the exact date is not known."),
            DATE,
            personal=True,
        ),
        Column(
            "nationality",
            "#country+code+nationality",
            _l("Nationality, as the three-letter ISO country code (CIV, COD, SEN…)."),
            COUNTRY,
        ),
        Column("region", "#adm1+name", _l("Region of residence.")),
        Column("city", "#loc+name", _l("City or town of residence."), personal=True),
        Column(
            "phone",
            "#contact+phone",
            _l("Phone number as written, preferably in international form (+212 …)."),
            PHONE,
            personal=True,
        ),
        Column("email", "#contact+email", _l("E-mail address."), EMAIL, personal=True),
        Column(
            "migration_status",
            "#status+migration",
            _l("Migration status."),
            CHOICE,
            choices=MigrationStatus,
        ),
        Column(
            "education_level",
            "#beneficiary+education",
            _l("Highest level of education."),
            CHOICE,
            choices=EducationLevel,
        ),
        Column(
            "languages",
            "#beneficiary+languages",
            _l("Languages spoken, as two-letter codes separated by “;” (e.g. fr;wo)."),
            personal=True,
        ),
        Column(
            "consent_given",
            "#status+consent",
            _l(
                "Whether the person has a current consent to case management; nobody is "
                "registered without it."
            ),
            BOOLEAN,
            required=True,
        ),
        Column(
            "consent_date",
            "#date+consent",
            _l("Date the consent to case management was given."),
            DATE,
            required=True,
        ),
        Column(
            "project_code",
            "#activity+project+code",
            _l("Code of the project the case file belongs to."),
            CODE,
            required=True,
        ),
        Column(
            "registered_on",
            "#date+registered",
            _l("Date of registration in the programme."),
            DATE,
            required=True,
        ),
    ),
    seed_file="participants.csv",
)

ENROLMENTS = Table(
    "enrolments",
    _l("Enrolments"),
    _l("One row per enrolment of a participant in a training course, with its outcome."),
    (
        PARTICIPANT_CODE,
        Column(
            "project_code",
            "#activity+project+code",
            _l("Code of the project the course belongs to."),
            CODE,
            required=True,
        ),
        Column(
            "course_title",
            "#activity+course+name",
            _l("Title of the training course, as in the course list."),
            required=True,
        ),
        Column(
            "course_start_date",
            "#date+start+course",
            _l("First day of the course; with the title, it tells two runs of a course apart."),
            DATE,
            required=True,
        ),
        Column("enrolled_on", "#date+enrolled", _l("Date of enrolment."), DATE, required=True),
        Column(
            "status",
            "#status+enrolment",
            _l("Outcome of the enrolment."),
            CHOICE,
            required=True,
            choices=EnrolmentStatus,
        ),
        Column(
            "completed_on",
            "#date+completed",
            _l("Date the course was completed (status completed only)."),
            DATE,
        ),
        Column(
            "dropped_on",
            "#date+dropped",
            _l("Date the participant dropped out (status dropped_out only)."),
            DATE,
        ),
        Column(
            "attendance_pct",
            "#indicator+attendance+pct",
            _l("Attendance in per cent, from 0 to 100."),
            INTEGER,
        ),
        Column(
            "certificate",
            "#status+certificate",
            _l("Whether a certificate was awarded."),
            BOOLEAN,
        ),
    ),
    seed_file="enrolments.csv",
)

PLACEMENTS = Table(
    "placements",
    _l("Placements"),
    _l("One row per job or income-generating activity (IGA) a participant started."),
    (
        PARTICIPANT_CODE,
        PROJECT_CODE,
        Column(
            "kind",
            "#output+placement+type",
            _l("Employment or income-generating activity (iga)."),
            CHOICE,
            required=True,
            choices=PlacementKind,
        ),
        Column(
            "employer",
            "#org+employer+name",
            _l("Employer, by acronym or name as in the partner list."),
        ),
        Column(
            "business_name",
            "#org+business+name",
            _l("Business name of the participant's own activity (IGA); often her own name."),
            personal=True,
        ),
        Column(
            "sector",
            "#sector+name",
            _l("Trade or sector of the job or activity."),
            required=True,
        ),
        Column(
            "start_date",
            "#date+start",
            _l("Start of the job or activity."),
            DATE,
            required=True,
        ),
        Column("end_date", "#date+end", _l("End of the job or activity, if it ended."), DATE),
        Column(
            "contract_type",
            "#output+contract+type",
            _l("Type of contract."),
            CHOICE,
            choices=ContractType,
        ),
        Column(
            "monthly_income",
            "#value+income+mad",
            _l("Monthly income at the start, in Moroccan dirhams (MAD)."),
            DECIMAL,
        ),
        Column(
            "referral_partner",
            "#org+referral+name",
            _l("Partner that referred the participant, by acronym or name."),
        ),
        Column(
            "verified",
            "#status+verified",
            _l("Whether the placement was verified (contract seen, visit or call)."),
            BOOLEAN,
        ),
    ),
    seed_file="placements.csv",
)

FOLLOW_UPS = Table(
    "followups",
    _l("Follow-ups"),
    _l(
        "One row per follow-up of a placement, usually 3, 6 and 12 months after its start. "
        "The participant's code, the kind and the start date identify the placement."
    ),
    (
        PARTICIPANT_CODE,
        Column(
            "placement_kind",
            "#output+placement+type",
            _l("Kind of the placement followed up."),
            CHOICE,
            required=True,
            choices=PlacementKind,
        ),
        Column(
            "placement_start_date",
            "#date+start+placement",
            _l("Start date of the placement followed up."),
            DATE,
            required=True,
        ),
        Column(
            "months_after",
            "#indicator+followup+months",
            _l("Months after the start of the placement (1 to 60; usually 3, 6 or 12)."),
            INTEGER,
            required=True,
        ),
        Column(
            "followed_on",
            "#date+followup",
            _l("Date of the follow-up."),
            DATE,
            required=True,
        ),
        Column(
            "still_active",
            "#status+active",
            _l("Whether the person is still in the job or the activity."),
            BOOLEAN,
            required=True,
        ),
        MONTHLY_INCOME,
        Column(
            "note",
            "#description+note",
            _l("Short note; it may name the person."),
            personal=True,
        ),
    ),
    seed_file="followups.csv",
)

ACTIVITIES = Table(
    "activities",
    _l("Activities"),
    _l("One row per capacity-building session, awareness workshop or event."),
    (
        PROJECT_CODE,
        Column(
            "kind",
            "#event+type",
            _l("Kind of activity."),
            CHOICE,
            required=True,
            choices=ActivityKind,
        ),
        Column("title", "#event+name", _l("Title of the activity."), required=True),
        Column("topic", "#event+topic", _l("Topic, e.g. interculturality.")),
        Column(
            "held_on",
            "#date+event",
            _l("Date of the activity; with the title, it identifies the activity."),
            DATE,
            required=True,
        ),
        Column("city", "#loc+name", _l("City where the activity took place.")),
        Column(
            "other_women",
            "#reached+f+unregistered",
            _l("Women who attended without being registered participants (a count)."),
            INTEGER,
        ),
        Column(
            "other_men",
            "#reached+m+unregistered",
            _l("Men who attended without being registered participants (a count)."),
            INTEGER,
        ),
        Column("description", "#description", _l("What was done.")),
    ),
    seed_file="activities.csv",
)

ATTENDANCE = Table(
    "attendance",
    _l("Partners at activities"),
    _l("One row per partner institution that took part in an activity, with its staff count."),
    (
        PROJECT_CODE,
        Column(
            "activity_title",
            "#event+name",
            _l("Title of the activity, as in the activities' file."),
            required=True,
        ),
        Column(
            "held_on",
            "#date+event",
            _l("Date of the activity."),
            DATE,
            required=True,
        ),
        Column(
            "partner",
            "#org+name",
            _l("Partner institution, by acronym or name as in the partner list."),
            required=True,
        ),
        Column(
            "staff_count",
            "#reached+staff",
            _l("Number of its staff who attended."),
            INTEGER,
        ),
    ),
    seed_file="attendance.csv",
)

COURSES = Table(
    "courses",
    _l("Training courses"),
    _l(
        "One row per run of a training course. The project, the title and the start date "
        "identify it: two runs of one course differ by their start date."
    ),
    (
        Column(
            "project_code",
            "#activity+project+code",
            _l("Code of the project the course belongs to."),
            CODE,
            required=True,
        ),
        Column("title", "#activity+course+name", _l("Title of the course."), required=True),
        Column(
            "provider",
            "#org+provider+name",
            _l("Institution that gives the course, by acronym or name as in the partner list."),
            required=True,
        ),
        Column(
            "sector",
            "#sector+name",
            _l("Trade or sector the course trains for."),
            required=True,
        ),
        Column(
            "kind",
            "#activity+course+type",
            _l("Kind of course."),
            CHOICE,
            required=True,
            choices=CourseKind,
        ),
        Column("city", "#loc+name", _l("City where the course is given.")),
        Column(
            "start_date",
            "#date+start",
            _l("First day of the course; with the title, it identifies the course."),
            DATE,
            required=True,
        ),
        Column("end_date", "#date+end", _l("Last day of the course."), DATE, required=True),
        Column("hours", "#indicator+hours+num", _l("Length of the course in hours."), INTEGER),
        Column(
            "capacity",
            "#indicator+capacity+num",
            _l("Number of seats; left blank, the course takes anyone."),
            INTEGER,
        ),
    ),
    seed_file="courses.csv",
)

PARTNERS = Table(
    "partners",
    _l("Partner institutions"),
    _l(
        "One row per institution: ministry, training centre, employer, NGO, donor… Partners "
        "are shared by every project; the name, or the acronym, identifies a partner, "
        "whatever the case and accents."
    ),
    (
        Column(
            "acronym",
            "#org+acronym",
            _l("Acronym, e.g. OFPPT; other files name the partner by it."),
        ),
        Column("name", "#org+name", _l("Full name of the institution."), required=True),
        Column(
            "kind",
            "#org+type",
            _l("Kind of institution."),
            CHOICE,
            required=True,
            choices=PartnerKind,
        ),
        Column("city", "#loc+name", _l("City of the institution.")),
        Column(
            "country",
            "#country+code",
            _l("Country, as the three-letter ISO code (MAR when left blank)."),
            COUNTRY,
        ),
        Column(
            "contact_name",
            "#contact+name",
            _l("Name of the contact person."),
            personal=True,
        ),
        Column(
            "contact_email",
            "#contact+email",
            _l("E-mail address of the contact person."),
            EMAIL,
            personal=True,
        ),
        Column(
            "contact_phone",
            "#contact+phone",
            _l("Phone number of the contact person."),
            PHONE,
            personal=True,
        ),
    ),
    seed_note=(
        "`seed_data/partners.csv` has the first five columns and a `source` column, which "
        "an import ignores."
    ),
)

INDICATOR_FIGURES = Table(
    "indicators",
    _l("Indicator tables"),
    _l(
        "Every headline figure and every breakdown of the indicators, one row per cell, "
        "for the chosen projects and period."
    ),
    (
        Column(
            "projects",
            "#activity+project+code",
            _l("Codes of the projects the figures cover, separated by spaces."),
            CODE,
        ),
        Column("period_start", "#date+start", _l("First day of the period."), DATE),
        Column("period_end", "#date+end", _l("Last day of the period."), DATE),
        Column("indicator", "#indicator+code", _l("Key of the indicator."), CODE),
        Column("indicator_label", "#indicator+name", _l("Label of the indicator.")),
        Column(
            "dimension",
            "#meta+dimension+code",
            _l("Key of the breakdown; empty on the row of the figure itself."),
            CODE,
        ),
        Column("dimension_label", "#meta+dimension+name", _l("Label of the breakdown.")),
        Column(
            "category",
            "#meta+category+code",
            _l("Code of the category (e.g. F, CIV, 25_34); empty when not recorded."),
            CODE,
        ),
        Column("category_label", "#meta+category+name", _l("Label of the category.")),
        Column(
            "value",
            "#indicator+num",
            _l(
                "Number of distinct people or institutions (a share from 0 to 1 for the "
                "placement rate). In a file meant to leave the organisation, a count under the "
                "small-number threshold shows as “< 5” (with the threshold in use), and “x” marks "
                "a cell hidden so that it cannot be worked out from the others."
            ),
            DECIMAL,
        ),
    ),
)

#: the tables of records, by key, in the order the exports page lists them
TABLES: dict[str, Table] = {
    t.key: t
    for t in (
        PARTICIPANTS,
        ENROLMENTS,
        PLACEMENTS,
        FOLLOW_UPS,
        ACTIVITIES,
        ATTENDANCE,
        COURSES,
        PARTNERS,
    )
}
ALL_TABLES: dict[str, Table] = {**TABLES, INDICATOR_FIGURES.key: INDICATOR_FIGURES}


def row_to_cells(columns: Sequence[Column], values: Sequence[Any]) -> list[Any]:
    """Return one row of stored values as cells, column by column."""
    return [column.to_cell(value) for column, value in zip(columns, values, strict=True)]


# --- Documentation -----------------------------------------------------------------

DOCS_PATH = PROJECT_ROOT / "docs" / "columns.md"

_PREAMBLE = """\
# Spreadsheet columns

<!-- Generated from tracker/columns.py by `python -m tracker.columns`: edit that module,
     not this file (a test checks that the two agree). -->

Exports (CSV and XLSX, on the web at /exports/ and with `flask --app tracker export`) write
these columns in this order, and imports read the same ones, so a file can go out and come
back in unchanged. The seed files in `seed_data/` have the same headers.

- **Header**: the first row holds the column names below. With the HXL option, a second row
  holds the [HXL](https://hxlstandard.org) hashtags, so humanitarian tools (HDX, HXL Proxy)
  can read the file.
- **Cells**: dates are `YYYY-MM-DD`; booleans `yes` or `no`; choices by their code (the
  values listed); numbers plain, with `.` before decimals; an empty cell means nothing
  recorded.
- **CSV**: UTF-8 with a byte-order mark (so Excel shows accents right), `;` (French Excel)
  or `,` between cells. A text cell that starts with `=`, `+`, `-`, `@`, a tab or a
  carriage return gets a leading `'`, so that no spreadsheet runs it as a formula; a cell
  that starts with `'` gets a second one, so the import can remove exactly one and get the
  text back. Two exceptions stay as written because no spreadsheet can turn them into a
  formula: plain numbers such as `-12.5`, and in phone columns a number made only of `+`,
  digits and spaces, such as `+212 600 11 22 33` (Excel may still show such a number
  oddly when it opens a CSV directly: use XLSX to read phone numbers).
- **XLSX**: every text cell is written as a string, never as a formula, so nothing is
  prefixed; dates are real dates shown as `YYYY-MM-DD`.
- **Pseudonymous exports** leave out the columns marked *personal* (names, in either
  script, birth date, city, phone, e-mail, languages, business name, follow-up note, a
  partner's contact person) and are the only ones an M&E / donor viewer can get. In them,
  a sex, nationality or region fewer than the small-cell threshold (5) of the file's
  people share reads `other`, so that the file cannot be counted to find a cell the
  tables print as "< 5". Sensitive notes are never exported.
- **Imports** read every table below but the indicator tables (on the web at /imports/ and
  with `flask --app tracker import KIND FILE`). A row that names a record already recorded
  (the same course, partner, activity or attendance) is skipped and said so, so importing
  a file twice creates nothing twice. Import partners first, then the courses and the
  attendance that name them, and the activities before their attendance.
"""


def render_markdown() -> str:
    """Return docs/columns.md: every table's columns, in English."""
    with force_locale("en"):
        parts = [_PREAMBLE]
        for table in ALL_TABLES.values():
            parts.append(f"\n## {table.label} (`{table.key}`)\n\n{table.description}\n")
            if table.seed_file:
                parts.append(f"\nSame columns as `seed_data/{table.seed_file}`.\n")
            if table.seed_note:
                parts.append(f"\n{table.seed_note}\n")
            parts.append(
                "\n| column | HXL | cells | required | personal | meaning |\n"
                "|---|---|---|---|---|---|\n"
            )
            for c in table.columns:
                parts.append(
                    f"| `{c.name}` | `{c.hxl}` | {c.format_text()} | "
                    f"{'yes' if c.required else ''} | {'yes' if c.personal else ''} | "
                    f"{c.description} |\n"
                )
    return "".join(parts)


def write_docs(path: Path = DOCS_PATH) -> Path:
    """Write docs/columns.md from the definitions above."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(), encoding="utf-8")
    return path


if __name__ == "__main__":  # pragma: no cover
    print(f"Wrote {write_docs()}")
