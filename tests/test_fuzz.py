"""Fuzzing: arbitrary text, dates and numbers at every form, every filter and the importer.

Hypothesis throws text (Arabic, emoji, combining marks, right-to-left marks, control
characters with NUL, lone surrogates wherever the transport can carry them, very long
strings, a leading ``=`` ``+`` ``-`` ``@``), impossible dates and out-of-range numbers at:

- every POST route of the app: the fields come from the form class the route binds
  (``tracker/*/forms.py``), the valid choices and the version from the page that shows
  the form, so a new field is fuzzed without a word here; a new POST route fails
  ``test_every_post_route_is_fuzzed`` until it is listed below;
- the query string of every GET route (filters, dates, project ids, sort, pages);
- the importer: each cell reader, whole CSV files of arbitrary cells, arbitrary bytes.

Two promises are checked after every request and every import: the app never answers
500 (in tests an exception propagates, which fails the same way), and nothing stored
fails a validator: every row of every table is read back and checked (no control
characters, lengths within the columns, known enum values and country codes, dates
and numbers within the rules), and every exported cell must be accepted by the
importer's own cell readers, since an export is meant to be imported back.

Each test runs a few examples (the file takes about a minute on two cores); a bug once
found stays as an explicit ``@example``. ``FUZZ_EXAMPLES=500`` in the environment runs
every test that many times, to search deeper.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openpyxl
import pytest
from email_validator import validate_email
from flask import url_for
from flask_babel import force_locale
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import Date, Enum, Integer, Numeric, String, select
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FileField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
)
from wtforms.fields.core import UnboundField

from tracker import columns as columns_module
from tracker import create_app
from tracker.activities.forms import (
    MAX_PEOPLE,
    ActivityFilterForm,
    ActivityForm,
    AttendanceForm,
)
from tracker.activities.services import record_activity
from tracker.auditlog.forms import AuditFilterForm
from tracker.auth.forms import CodeForm, LoginForm
from tracker.builder.forms import GenerateForm, NarrativeForm, PeriodForm, PickForm
from tracker.dashboard.forms import FilterForm as DashboardFilterForm
from tracker.exports import services as exports
from tracker.exports.forms import ExportForm, IndicatorForm
from tracker.extensions import db
from tracker.forms import Form
from tracker.imports import cells, header, reader, services
from tracker.imports.cells import CellError
from tracker.imports.report import Context
from tracker.models import (
    Activity,
    ActivityKind,
    Base,
    ContractType,
    CourseKind,
    EducationLevel,
    EnrolmentStatus,
    IncomingSubmission,
    Job,
    MigrationStatus,
    Participant,
    Partner,
    PartnerKind,
    PendingImport,
    Placement,
    PlacementKind,
    Project,
    Role,
    Sex,
    SubmissionState,
    TrainingCourse,
    User,
)
from tracker.participants.forms import (
    ConsentForm,
    EraseForm,
    ParticipantForm,
    RegisterForm,
    SearchForm,
    SubjectAccessForm,
    WithdrawConsentForm,
)
from tracker.participants.rules import is_country_code
from tracker.participants.services import register_participant
from tracker.partners.forms import PartnerFilterForm, PartnerForm
from tracker.partners.services import create_partner
from tracker.placements.forms import FollowUpForm, PlacementFilterForm, PlacementForm
from tracker.placements.services import MAX_INCOME, record_follow_up, record_placement
from tracker.projects.forms import NewProjectForm, ProjectForm
from tracker.reports.services import generate_donor_report
from tracker.results import services as results
from tracker.results.forms import ResultForm, ResultIndicatorForm, ValueForm
from tracker.trainings.forms import (
    CandidateFilterForm,
    CompleteAllForm,
    CompleteForm,
    CourseFilterForm,
    CourseForm,
    DropOutForm,
    EnrolForm,
    EnrolParticipantForm,
)
from tracker.trainings.services import create_course, enrol
from tracker.users.forms import AccountFilterForm, AccountForm, NewAccountForm, PasswordForm

# very long strings (20,001 characters, past the longest column) make long reports of
# the examples: Hypothesis warns about their size, which -W error would turn into a failure
pytestmark = pytest.mark.filterwarnings(
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)
TODAY = date.today()
#: examples per POST route and per run of every GET route: the file runs in about a minute
POST_EXAMPLES = 12
GET_EXAMPLES = 5
#: FUZZ_EXAMPLES=500 in the environment fuzzes every test that much deeper (minutes)
DEEPER = int(os.environ.get("FUZZ_EXAMPLES") or 0)


def fuzz(examples: int) -> settings:
    """Hypothesis settings of this file: no deadline, no example database in the tree."""
    return settings(
        max_examples=DEEPER or examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --- What is thrown ----------------------------------------------------------------------

#: C0 controls (NUL included), DEL and C1 controls
CONTROLS = "".join(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)])
#: bidirectional marks and overrides, zero-width characters, the byte-order mark
MARKS = (
    "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u200b\u200c\u200d\ufeff\u2028\u2029"
)
COMBINING = "\u0301\u0308\u0327\u0651\u064b\u0670\u20dd\u0489"
ARABIC = "مريم بنت محمد الإدريسي ٠١٢٣٤٥٦٧٨٩ ﷺ"
EMOJI = "👩🏽‍🔧🇲🇦🧕🏿👨‍👩‍👧😀"
SURROGATES = "\ud800\udbff\udc00\udfff"
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    '=HYPERLINK("http://evil.example","x")',
    "=cmd|' /C calc'!A0",
    "+212 600 00 00 00",
    "-1+1",
    "@SUM(A1)",
    "<script>alert(1)</script>",
    "' OR 1=1--",
    "{{ 7*7 }}",
    "%s %d %(x)s %%",
    "\u202eevil\u202c",
    "e\u0301\u0301\u0301",
    "مرحبا",
    "👩🏽‍🔧",
    "null",
    "None",
    "NaN",
]


def _alphabet(*, controls: bool) -> st.SearchStrategy[str]:
    special = MARKS + COMBINING + ARABIC + EMOJI + "=+-@'\"<>&%;,"
    if controls:
        special += CONTROLS + SURROGATES
    return st.one_of(st.characters(exclude_categories=("Cs", "Cc")), st.sampled_from(special))


def fuzz_text() -> st.SearchStrategy[str]:
    """Anything a person, a paste or an attacker may type, including what no one should."""
    short = st.text(_alphabet(controls=True), max_size=40)
    return st.one_of(
        short,
        st.builds(str.__add__, st.sampled_from("=+-@\t\r\n\x00 "), short),
        st.sampled_from(NASTY),
        # very long: past every column's limit
        st.builds(
            str.__mul__,
            st.sampled_from(["a", "é", "٣", "😀", "e\u0301", " "]),
            st.sampled_from([121, 201, 301, 2001, 5001, 20_001]),
        ),
    )


def good_text() -> st.SearchStrategy[str]:
    """Text a form should take as it is: any script, marks, emoji, formula prefixes."""
    return st.text(_alphabet(controls=False), min_size=1, max_size=30)


def fuzz_date() -> st.SearchStrategy[str]:
    """Dates of any year, impossible ones, other notations, and text that is no date."""
    return st.one_of(
        st.dates().map(date.isoformat),
        st.sampled_from(
            [
                "0000-00-00",
                "0001-01-01",
                "1899-12-31",
                "2015-02-29",
                "2016-02-29",
                "2015-13-01",
                "2015-00-10",
                "9999-12-31",
                "10000-01-01",
                "2015-1-1",
                "02/03/2015",
                "2015-03-02T10:00:00",
                "-2015-01-01",
                "٢٠١٥-٠٣-٠٢",
                "2015-03-02\x00",
                (TODAY + timedelta(days=1)).isoformat(),
            ]
        ),
        fuzz_text(),
    )


def good_date() -> st.SearchStrategy[str]:
    """A past date; often one of a few, so that a start and an end come in order."""
    usual = ["2015-03-01", "2015-06-01", "2015-09-01", "2016-01-01"]
    return st.one_of(st.sampled_from(usual), st.dates(date(2014, 6, 1), TODAY).map(date.isoformat))


def fuzz_number() -> st.SearchStrategy[str]:
    """Numbers past any range, non-finite ones, other scripts' digits, and text."""
    return st.one_of(
        st.integers().map(str),
        st.integers(-(10**40), 10**40).map(str),
        st.floats().map(repr),
        st.decimals().map(str),
        st.sampled_from(
            [
                "1e999",
                "-0",
                "NaN",
                "Infinity",
                "-inf",
                "١٢",
                "²",
                "0x10",
                "1_000",
                " 12 ",
                "12,5",
                "1 234,50",
                "1,234.56",
                "9" * 400,
                "9223372036854775808",
                "-1",
            ]
        ),
        fuzz_text(),
    )


def fuzz_value() -> st.SearchStrategy[Any]:
    """Any field's value: a string, a repeated key (list), or the key left out (None)."""
    one = st.one_of(fuzz_text(), fuzz_number(), fuzz_date())
    return st.one_of(st.none(), one, st.lists(one, min_size=2, max_size=3))


# --- Submitting a form as a browser would ------------------------------------------------


def encode(data: dict[str, Any]) -> bytes:
    """URL-encode a form; surrogates go out as the bytes a broken client would send."""

    def q(text: str) -> str:
        return quote(text.encode("utf-8", "surrogatepass"), safe="")

    pairs = []
    for name, value in data.items():
        for one in value if isinstance(value, list) else [value]:
            if one is not None:
                pairs.append(f"{q(name)}={q(str(one))}")
    return "&".join(pairs).encode("ascii")


class FormReader(HTMLParser):
    """The choices (select, radio, checkbox) and hidden values a page offers, by field name."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.choices: dict[str, list[str]] = defaultdict(list)
        self.hidden: dict[str, str] = {}
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select:
            self.choices[self._select].append(a.get("value", ""))
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                self.choices[a["name"]].append(a.get("value", "y"))
            elif kind == "hidden":
                self.hidden.setdefault(a["name"], a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def form_fields(form_class: type) -> dict[str, type]:
    """Return the submitted name and the field class of every field ``form_class`` declares."""
    found = {}
    for klass in reversed(form_class.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, UnboundField):
                found[value.kwargs.get("name") or attr] = value.field_class
    return found


@dataclass(frozen=True)
class Choice:
    """The n-th value the page offers for the field (modulo how many it offers)."""

    index: int


@dataclass(frozen=True)
class SameAs:
    """The value drawn for another field (a password's confirmation)."""

    name: str


@dataclass(frozen=True)
class FromIds:
    """A value of the records an example acts on (the code of the person to erase)."""

    key: str


#: the value the page holds in a hidden field (the version of the record shown)
SHOWN = "<the value the page holds>"


def good_value(name: str, kind: type) -> st.SearchStrategy[Any]:
    """What a careful user sends in a field of ``kind``: the page's choices, any script."""
    if issubclass(kind, SelectMultipleField):
        return st.lists(st.integers(0, 2**16).map(Choice), max_size=3)
    if issubclass(kind, SelectField | RadioField):
        return st.integers(0, 2**16).map(Choice)
    if issubclass(kind, BooleanField):
        return st.sampled_from(["y", "y", ""])
    if issubclass(kind, HiddenField):
        return st.just(SHOWN)
    if issubclass(kind, PasswordField):
        if name == "confirm":
            return st.just(SameAs("password"))
        return st.sampled_from(["Mango cascade plinth 4711"] * 3 + ["x", ""])
    if issubclass(kind, DateField):
        return good_date()
    if issubclass(kind, IntegerField):
        return st.integers(0, 100).map(str)
    if issubclass(kind, DecimalField):
        return st.decimals(0, 100_000, places=2).map(str)
    if "email" in name:
        return st.one_of(
            st.just(""), st.emails(), st.from_regex(r"[a-z0-9.]{1,12}@example\.org", fullmatch=True)
        )
    if "phone" in name:
        return st.from_regex(r"\+?[0-9][0-9 ]{5,16}[0-9]", fullmatch=True)
    return good_text()


def default_value(name: str, kind: type) -> Any:
    """The value of a field an explicit example leaves out: one that passes."""
    if issubclass(kind, SelectMultipleField):
        return [Choice(1)]
    if issubclass(kind, SelectField | RadioField):
        return Choice(1)  # the first one after the blank choice, where there is one
    if issubclass(kind, HiddenField):
        return SHOWN
    if issubclass(kind, PasswordField):
        return SameAs("password") if name == "confirm" else "Mango cascade plinth 4711"
    for base, value in (
        (BooleanField, "y"),
        (DateField, "2015-06-01"),
        (IntegerField, "10"),
        (DecimalField, "2150.50"),
    ):
        if issubclass(kind, base):
            return value
    if "phone" in name:
        return "+212 600 11 22 33"
    return "" if "email" in name else "Aïcha"


def submitted_fields(form_class: type) -> dict[str, type]:
    """The fields of ``form_class`` a browser submits (files are the upload test's)."""
    return {n: k for n, k in form_fields(form_class).items() if not issubclass(k, FileField)}


@st.composite
def plans(draw, form_class: type, good: dict[str, st.SearchStrategy]) -> dict[str, Any]:
    """A submission of ``form_class``: most fields as a user fills them, some (or all) fuzzed."""
    kinds = submitted_fields(form_class)
    names = sorted(kinds)
    # often none or a few fields fuzzed, so that the rest passes and the record is stored
    fuzzed = draw(
        st.one_of(
            st.just(frozenset()),
            st.sets(st.sampled_from(names), min_size=1, max_size=2),
            st.sets(st.sampled_from(names), max_size=len(names)),
        ),
        label="fuzzed",
    )
    plan = {}
    for name in names:
        if name in fuzzed:
            plan[name] = draw(fuzz_value(), label=name)
        else:
            strategy = good[name] if name in good else good_value(name, kinds[name])
            plan[name] = draw(strategy, label=name)
    return plan


def resolve(
    plan: dict[str, Any], form_class: type, page: FormReader, ids: dict[str, Any]
) -> dict[str, Any]:
    """Turn a plan into form data: choices and hidden values from the page, the rest as is."""
    data: dict[str, Any] = {}

    def one(name: str, value: Any) -> Any:
        if isinstance(value, Choice):
            offered = page.choices.get(name, [])
            return offered[value.index % len(offered)] if offered else ""
        if isinstance(value, SameAs):
            return data.get(value.name)
        if isinstance(value, FromIds):
            return str(ids[value.key])
        if value == SHOWN:
            return page.hidden.get(name, "")
        return value

    fields = submitted_fields(form_class)
    assert set(plan) <= set(fields), f"no such field in {form_class.__name__}: {plan}"
    values = {name: plan.get(name, default_value(name, kind)) for name, kind in fields.items()}
    for name in sorted(values, key=lambda n: isinstance(values[n], SameAs)):
        value = values[name]
        data[name] = [one(name, v) for v in value] if isinstance(value, list) else one(name, value)
    return data


# --- The records the forms act on ------------------------------------------------------------

_numbers = count(1)


@dataclass
class World:
    """A project with a course, a placement, an activity... and an administrator signed in."""

    app: Any
    client: Any
    ids: dict[str, Any] = field(default_factory=dict)
    #: cells naming the world's records, for import files (see the importable fixture)
    references: dict[str, list[str]] = field(default_factory=dict)

    @property
    def project(self):

        return db.session.get(Project, self.ids["project_id"])

    def person(self) -> dict[str, Any]:
        """A new participant, registered in 2015, with her consent."""
        n = next(_numbers)
        person = register_participant(
            self.project,
            given_name=f"Awa{n}",
            family_name=f"Diop{n}",
            sex=Sex.FEMALE,
            registered_on=date(2015, 1, 1),
            consent_on=date(2015, 1, 1),
        )
        return {
            "participant_id": person.id,
            "code": person.code,
            "consent_id": person.consents[0].id,
        }

    def enrolment(self) -> dict[str, Any]:

        ids = self.person()
        course = db.session.get(TrainingCourse, self.ids["course_id"])
        person = db.session.get(Participant, ids["participant_id"])
        return {**ids, "enrolment_id": enrol(person, course, on=date(2015, 3, 1)).id}

    def placement(self) -> dict[str, Any]:

        ids = self.person()
        placement = record_placement(
            db.session.get(Participant, ids["participant_id"]),
            kind=PlacementKind.EMPLOYMENT,
            sector="Hôtellerie",
            start_date=date(2015, 7, 1),
            employer=db.session.get(Partner, self.ids["employer_id"]),
        )
        return {**ids, "placement_id": placement.id}

    def partner(self) -> dict[str, Any]:

        n = next(_numbers)
        return {"partner_id": create_partner(name=f"Partner {n}", kind=PartnerKind.NGO).id}


@pytest.fixture
def database_url(database_url):
    """SQLite in memory-backed files when available: hundreds of commits, each synced."""
    shm = Path("/dev/shm")
    if not database_url.startswith("sqlite:") or not shm.is_dir():
        yield database_url
        return
    with tempfile.TemporaryDirectory(dir=shm) as folder:
        yield f"sqlite:///{folder}/fuzz.sqlite"


@pytest.fixture
def world(app, client, make_project, make_partner, make_course, make_activity, make_user, signin):
    """Records of one project, another account, and the administrator signed in."""
    project = make_project("FZ", start=date(2014, 6, 1), end=TODAY + timedelta(days=365))
    provider = make_partner("Provider", PartnerKind.TRAINING_PROVIDER, acronym="PRV")
    employer = make_partner("Employer", PartnerKind.EMPLOYER, acronym="EMP")
    make_partner("Referrer", PartnerKind.EMPLOYMENT_SERVICE)
    edited = make_partner("Edited", PartnerKind.NGO)
    course = make_course(
        project, provider=provider, start=date(2015, 2, 1), end=TODAY + timedelta(days=200)
    )
    activity = make_activity(project, partners=[provider])
    other = make_user(Role.OFFICER, [project], email="other@example.org")
    admin = make_user(Role.ADMIN, [], email="admin@example.org")
    w = World(
        app,
        client,
        {
            "project_id": project.id,
            "course_id": course.id,
            "employer_id": employer.id,
            "activity_id": activity.id,
            "user_id": other.id,
            "admin_id": admin.id,
        },
    )
    w.ids.update(w.placement())
    placement_id = w.ids["placement_id"]

    follow_up = record_follow_up(
        db.session.get(Placement, placement_id),
        months_after=3,
        followed_on=date(2015, 10, 1),
        still_active=True,
    )
    w.ids.update(w.enrolment(), placement_id=placement_id, follow_up_id=follow_up.id)
    w.ids["edited_partner_id"] = edited.id
    output = results.add_result(project, "output", "1.1", "Trained")
    results.add_indicator(output, "trained")
    manual = results.add_manual_indicator(output, "Employers met", "meetings")
    w.ids.update(code=project.code, result_id=output.id, indicator_id=manual.id)
    db.session.commit()
    signin(admin)
    return w


def url(app, endpoint: str, ids: dict[str, Any]) -> str:
    """The URL of ``endpoint`` with the path arguments taken from ``ids``."""
    (rule,) = app.url_map.iter_rules(endpoint)
    with app.test_request_context():
        return url_for(endpoint, **{k: ids[k] for k in rule.arguments})


# --- The stored rows, read back ----------------------------------------------------------

#: (table, column) whose dates the rules keep out of the future
NOT_IN_FUTURE = {
    ("participant", "registered_on"),
    ("participant", "date_of_birth"),
    ("consent", "given_on"),
    ("consent", "withdrawn_on"),
    ("enrolment", "enrolled_on"),
    ("enrolment", "completed_on"),
    ("enrolment", "dropped_on"),
    ("placement", "start_date"),
    ("follow_up", "followed_on"),
    ("activity", "held_on"),
}
#: (table, column) -> the lowest and highest number the forms and the importer accept
NUMBER_RANGES = {
    ("participant", "birth_year"): (1900, TODAY.year),
    ("enrolment", "attendance_pct"): (0, 100),
    ("training_course", "hours"): (1, 10_000),
    ("training_course", "capacity"): (1, 10_000),
    ("placement", "monthly_income"): (0, MAX_INCOME),
    ("follow_up", "monthly_income"): (0, MAX_INCOME),
    ("follow_up", "months_after"): (1, 60),
    ("activity", "other_women"): (0, MAX_PEOPLE),
    ("activity", "other_men"): (0, MAX_PEOPLE),
    ("activity_attendance", "staff_count"): (0, MAX_PEOPLE),
}
#: (table, column) -> the importer's reader of the same kind of value
SAME_RULE_AS_IMPORT = {
    ("participant", "nationality"): cells.parse_country,
    ("participant", "email"): cells.parse_email,
    ("participant", "phone"): cells.parse_phone,
    ("partner", "contact_email"): cells.parse_email,
    ("partner", "contact_phone"): cells.parse_phone,
    ("user", "email"): cells.parse_email,
}
COUNTRIES = {("participant", "nationality"), ("partner", "country"), ("project", "country")}
#: strings the app makes itself, never typed: not held to the rules of typed text
GENERATED = {("user", "password_hash"), ("user", "session_token")}


def stored_problems() -> list[str]:
    """Read every row of every table back and say what a validator would refuse."""
    problems = []
    db.session.expire_all()
    for table in Base.metadata.sorted_tables:
        try:
            rows = db.session.execute(select(table)).mappings().all()
        except LookupError as error:  # an enum column holding an unknown value
            problems.append(f"{table.name}: {error}")
            continue
        for row in rows:
            for column in table.columns:
                value = row[column.name]
                where = f"{table.name}.{column.name}={value!r:.80}"
                key = (table.name, column.name)
                if value is None or key in GENERATED:
                    continue
                problems += [f"{where}: {p}" for p in _value_problems(key, column, value)]
    problems += _round_trip_problems()
    return problems


def _value_problems(key: tuple[str, str], column, value: Any) -> list[str]:
    found = []
    if isinstance(column.type, String) and not isinstance(column.type, Enum):
        try:  # the importer's rule of text: no control characters, within the length
            cells.text(value, max_length=column.type.length or 10**9)
        except CellError as error:
            found.append(error.message)
    if key in COUNTRIES and not is_country_code(value):
        found.append("not an ISO country code")
    if key in SAME_RULE_AS_IMPORT:
        try:
            SAME_RULE_AS_IMPORT[key](value)
        except CellError as error:
            found.append(f"the importer refuses it: {error.message}")
    if isinstance(column.type, Date):
        if key in NOT_IN_FUTURE and value > date.today():
            found.append("in the future")
        if key == ("participant", "date_of_birth") and value.year < 1900:
            found.append("born before 1900")
    if isinstance(column.type, Integer | Numeric) and key in NUMBER_RANGES:
        low, high = NUMBER_RANGES[key]
        if not low <= value <= high:
            found.append(f"outside {low}..{high}")
    return found


def _round_trip_problems() -> list[str]:
    """Every cell an export writes must be read back by the importer's cell readers."""
    found = []
    for kind in header.KINDS:
        export = exports.record_export(kind, user=None)
        for row in export.rows:
            for column, cell in zip(export.columns, row, strict=True):
                try:
                    header.read_cell(column, cell)
                except CellError as error:
                    found.append(f"export {kind}.{column.name}={cell!r:.80}: {error.message}")
    return found


def assert_stored_rows_valid() -> None:
    with force_locale("en"):
        problems = stored_problems()
    assert not problems, "\n".join(problems)


def assert_answered(client, response, what: str) -> None:
    """Assert a response is no server error, nor is the page it redirects to."""
    assert response.status_code < 500, what
    location = response.headers.get("Location", "")
    if 300 <= response.status_code < 400 and location.startswith("/"):
        follow = client.get(location)
        assert follow.status_code < 500, f"{what} -> {location}"


# --- Every POST route ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A POST route, the form it binds, and the page that shows that form."""

    endpoint: str
    form: type
    #: the page that shows the form; None: the route itself, read with GET
    page: str | None = None
    #: World method making the record(s) one example acts on (a fresh enrolment...)
    fresh: str | None = None
    #: ids of the world renamed for this route (e.g. the partner to edit)
    rename: tuple[tuple[str, str], ...] = ()
    anonymous: bool = False
    #: what a user would type in fields no page suggests: name -> strategy
    good: tuple[tuple[str, st.SearchStrategy], ...] = ()
    #: submissions that once failed (the other fields filled as a user would)
    examples: tuple[dict[str, Any], ...] = ()

    @property
    def slug(self) -> str:
        return self.endpoint.replace(".", "_")


CONTROL_EXAMPLE = "a\x00b\x1b[31m\x9b"
TARGETS = [
    Target(
        "participants.new",
        RegisterForm,
        examples=(
            {"given_name": CONTROL_EXAMPLE},
            # blank, not empty: WTForms' Optional() skipped the choice check -> Enum(" ")
            {"migration_status": " "},
            {"education_level": "\t"},
            {"nationality": "\r\n"},
            {"sensitive_notes": "line one\r\nline two"},
        ),
    ),
    Target(
        "participants.edit",
        ParticipantForm,
        examples=(
            # passed the form, refused by the birth_year CHECK constraint: a 500
            {"date_of_birth": "1000-04-20"},
            {"phone": "+2747  1"},
        ),
    ),
    Target(
        "participants.erase",
        EraseForm,
        page="participants.detail",
        fresh="person",
        good=(("confirm_code", st.sampled_from([FromIds("code"), "x"])),),
    ),
    Target("participants.subject_access_page", SubjectAccessForm),
    Target(
        "participants.add_consent",
        ConsentForm,
        page="participants.detail",
        fresh="person",
        examples=({"partner_id": "\r\n"},),  # int("\r\n") in the view
    ),
    Target(
        "participants.withdraw_consent",
        WithdrawConsentForm,
        page="participants.detail",
        fresh="person",
    ),
    Target("trainings.new_course", CourseForm, examples=({"title": "\x0f"},)),
    Target("trainings.edit_course", CourseForm, examples=({"hours": "9" * 400},)),
    Target(
        "trainings.enrol",
        EnrolForm,
        page="trainings.course",
        fresh="person",
        # int() reads Arabic-Indic digits: an id of 2,001 digits reached SQLite
        examples=({"participant_ids": "٣" * 2001}, {"participant_ids": "9" * 30}),
    ),
    Target("trainings.enrol_participant", EnrolParticipantForm, fresh="person"),
    Target("trainings.complete", CompleteForm, page="trainings.course", fresh="enrolment"),
    Target("trainings.drop_out", DropOutForm, page="trainings.course", fresh="enrolment"),
    Target("trainings.complete_all", CompleteAllForm, page="trainings.course", fresh="enrolment"),
    Target("placements.new", PlacementForm, fresh="person", examples=({"contract_type": " "},)),
    Target("placements.edit", PlacementForm),
    Target(
        "placements.follow_up",
        FollowUpForm,
        page="placements.placement",
        fresh="placement",
        # NumberRange called math.isnan() on it: OverflowError
        examples=({"months_after": "other", "other_months": "9" * 400},),
    ),
    Target("placements.edit_follow_up", FollowUpForm, examples=({"note": "\x00"},)),
    Target(
        "partners.new",
        PartnerForm,
        examples=({"contact_name": "\tb\x94\x8d\x84§\x92ê="}, {"contact_phone": "+2747  1"}),
    ),
    Target(
        "partners.edit",
        PartnerForm,
        rename=(("edited_partner_id", "partner_id"),),
        examples=({"acronym": "\x90V"},),
    ),
    Target("activities.new", ActivityForm, examples=({"other_women": "9" * 400},)),
    Target("activities.edit", ActivityForm, examples=({"description": "\x07"},)),
    Target(
        "activities.add_attendance",
        AttendanceForm,
        page="activities.detail",
        fresh="partner",
        examples=({"partner": "9" * 30},),  # db.session.get(Partner, 10**30): OverflowError
    ),
    Target("users.new", NewAccountForm, examples=({"name": CONTROL_EXAMPLE},)),
    Target("users.edit", AccountForm),
    Target("projects.new", NewProjectForm, examples=({"title": CONTROL_EXAMPLE},)),
    Target("projects.edit", ProjectForm, examples=({"donor": CONTROL_EXAMPLE},)),
    Target("users.reset_password", PasswordForm, page="users.edit"),
    Target("results.add_result", ResultForm, page="results.edit"),
    Target("results.add_indicator", ResultIndicatorForm, page="results.edit"),
    Target("results.values", ValueForm, examples=({"value": "9" * 30, "period": "2015Q1"},)),
    Target("builder.edit", NarrativeForm, examples=({"achievements": "a\x00b"},)),
    Target("builder.generate", GenerateForm, page="builder.edit"),
    Target("auth.login", LoginForm, anonymous=True, examples=({"email": "\x00@x.org"},)),
    Target("auth.two_factor", CodeForm, examples=({"code": "1" * 32},)),
]
#: POST routes not fuzzed here, and why
NOT_FUZZED = {
    "results.remove_result": "no input",
    "results.remove_indicator": "no input",
    "results.set_share": "a category among the listed ones and a percentage, checked in "
    "test_results.py (the form's fields carry the indicator's prefix)",
    "auth.logout": "no input",
    "auth.set_language": "no input but the language in the path (a 404 when unknown)",
    "auth.change_password": "ends the session it runs in; its policy is tested in "
    "test_security_auth.py",
    "participants.archive": "no input",
    "participants.unarchive": "no input",
    "activities.remove_attendance": "no input",
    "activities.delete": "no input",
    "activities.archive": "no input",
    "activities.unarchive": "no input",
    "trainings.delete_course": "no input",
    "trainings.archive_course": "no input",
    "trainings.unarchive_course": "no input",
    "partners.delete": "no input",
    "partners.archive": "no input",
    "partners.unarchive": "no input",
    "users.activate": "no input",
    "users.reset_two_factor": "no input",
    "auth.second_factor": "only after a right password (else a redirect to sign-in); its "
    "code is read by twofactor.check_code, 6 digits or 16 letters, anything else refused: "
    "test_two_factor.py",
    "auth.two_factor_off": "the same code as auth.second_factor: test_two_factor.py",
    "users.deactivate": "no input",
    "imports.index": "the upload: fuzzed by test_uploads_never_fail",
    "imports.confirm": "the import of an upload: fuzzed by test_uploads_never_fail",
    "imports.cancel": "no input",
    "jobs.cancel": "no input",
    "jobs.start_maintenance": "administrators' buttons: kind and project tested in test_jobs",
    "participants.merge": "fields named after the records compared: fuzzed by "
    "test_merge.py::test_the_merge_form_never_fails_on_what_it_is_sent",
    "participants.undo_merge": "no input",
    "projects.close": "no input",
    "projects.reopen": "no input",
    "projects.targets": "cells named after the indicators and periods, read as whole numbers "
    "or refused: test_projects.py",
    "api_participants.create_participant": "JSON, not a form: every documented operation is "
    "fuzzed by schemathesis in test_api_schema.py",
    "api_kobo.submit": "JSON, not a form: fuzzed by schemathesis in test_api_schema.py",
    "tokens.index": "a name and a number of days, checked by tokens.create: test_api.py",
    "tokens.revoke": "no input",
    "imports.incoming_detail": "the import columns, read by the importer's readers (fuzzed "
    "by test_uploads_never_fail): test_kobo.py",
    "imports.incoming_discard": "a reason: test_kobo.py",
}


def _post_rules(app) -> set[str]:
    return {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}


def test_every_post_route_is_fuzzed(app):
    listed = {t.endpoint for t in TARGETS} | set(NOT_FUZZED)
    assert _post_rules(app) - listed == set(), "fuzz the new POST route here"
    assert listed - _post_rules(app) == set()


def post_route_test(target: Target):
    """Return the test of one POST route: never a 500, never a stored value refused."""

    def test(app, world, plan):
        ids = dict(world.ids)
        if target.fresh:
            ids.update(getattr(world, target.fresh)())
            db.session.commit()
        for old, new in target.rename:
            ids[new] = ids[old]
        client = app.test_client() if target.anonymous else world.client
        page_url = url(app, target.page or target.endpoint, ids)
        shown = client.get(page_url)
        assert shown.status_code == 200, page_url
        submitted = resolve(plan, target.form, FormReader(shown.get_data(as_text=True)), ids)
        post_url = url(app, target.endpoint, ids)
        response = client.post(
            post_url, data=encode(submitted), content_type="application/x-www-form-urlencoded"
        )
        event(f"answered {response.status_code}")  # see --hypothesis-show-statistics
        assert_answered(client, response, f"POST {post_url}")
        assert_stored_rows_valid()

    test = given(plan=plans(target.form, dict(target.good)))(test)
    for plan in target.examples:
        test = example(plan=plan)(test)
    test = fuzz(POST_EXAMPLES)(test)
    test.__name__ = f"test_post_{target.slug}"
    test.__doc__ = f"POST {target.endpoint}: never a 500, nothing stored that a validator refuses."
    return test


# one test per route, so that each has its examples and its own fresh database
for _target in TARGETS:
    globals()[f"test_post_{_target.slug}"] = post_route_test(_target)


# --- Every GET route's query string ----------------------------------------------------------


def _rules() -> list:

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    return list(app.url_map.iter_rules())


RULES = _rules()
#: the JSON API's routes are fuzzed by schemathesis, from its description (test_api_schema.py)
GET_ROUTES = sorted(
    {
        r.endpoint
        for r in RULES
        if "GET" in r.methods and not r.endpoint.startswith(("api_", "api-docs"))
    }
    - {"static"}
)
#: the form each list, page or download binds to its query string
GET_FORMS = {
    "participants.index": (SearchForm,),
    "trainings.index": (CourseFilterForm,),
    "trainings.course": (CandidateFilterForm,),
    "placements.index": (PlacementFilterForm,),
    "activities.index": (ActivityFilterForm,),
    "partners.index": (PartnerFilterForm,),
    "users.index": (AccountFilterForm,),
    "auditlog.index": (AuditFilterForm,),
    "dashboard.index": (DashboardFilterForm,),
    "dashboard.drill_down": (DashboardFilterForm,),
    "dashboard.quality": (DashboardFilterForm,),
    "exports.download": (ExportForm, IndicatorForm),
    "builder.index": (PickForm,),
    "builder.edit": (PeriodForm,),
}
#: what a query string may hold besides a form's fields: pages, drill-down, a project
EXTRA_KEYS = ("page", "per_page", "indicator", "dimension", "category", "project", "q", "next")
#: values of the path that are not ids
PATH_CHOICES = {
    "kind": [*exports.KINDS, "nope"],
    "fmt": ["csv", "xlsx", "pdf"],
    "lang": ["fr", "en", "xx"],
    "filename": ["style.css", "../../tracker/config.py"],
}
PLAUSIBLE = [
    "1", "2", "", "0", "-1", "2015-01-01", "2016-12-31", "quarter", "month", "trained",
    "placed", "sex", "nationality", "F", "SEN", "active", "archived", "all", "code", "name",
    "registered", "running", "semicolon", "comma", "y", "false", "fr", "en", "participants",
    "/", "//evil.example",
]  # fmt: skip


def _query_forms() -> set[type]:
    """Every form bound to a query string (no CSRF token): filters, periods, options."""

    found, todo = set(), [Form]
    while todo:
        klass = todo.pop()
        todo += klass.__subclasses__()
        if getattr(getattr(klass, "Meta", None), "csrf", None) is False:
            found.add(klass)
    return found


def test_every_query_form_is_fuzzed():
    fuzzed = {form for forms in GET_FORMS.values() for form in forms}
    assert _query_forms() - fuzzed == set(), "say in GET_FORMS which route binds the new form"


def _query(endpoint: str) -> st.SearchStrategy:
    """(path values, query string) of one GET route: its form's fields and the usual extras."""
    (rule,) = [r for r in RULES if r.endpoint == endpoint]
    path = st.fixed_dictionaries(
        {name: st.sampled_from(PATH_CHOICES[name]) for name in rule.arguments & set(PATH_CHOICES)}
    )
    names = sorted(
        {name for form in GET_FORMS.get(endpoint, ()) for name in form_fields(form)}
        | set(EXTRA_KEYS)
    )
    values = st.one_of(st.sampled_from(PLAUSIBLE), fuzz_value())
    return st.tuples(path, st.dictionaries(st.sampled_from(names), values, max_size=6))


#: text at the edge of what a form takes: right-to-left override, Arabic, emoji, formula
EDGE = "\u202e=مريم👩🏽\u200d🔧e\u0301"
FIRST_DAY, LAST_DAY = date(1, 1, 1), date(9999, 12, 31)


def edge_records(world) -> None:
    """Records at the edges of what the forms take: the pages must show and count them."""
    project = world.project
    provider = create_partner(
        name=(EDGE * 40)[:300], acronym="@SUM(A1)", kind=PartnerKind.TRAINING_PROVIDER
    )
    course = create_course(
        project, provider, title=(EDGE * 40)[:300], sector="=1+1", kind=CourseKind.LANGUAGE,
        start_date=FIRST_DAY, end_date=LAST_DAY, hours=10_000, capacity=10_000,
    )  # fmt: skip
    person = register_participant(
        project, given_name=(EDGE * 20)[:120], family_name="-" + "ع" * 119, sex=Sex.MALE,
        registered_on=FIRST_DAY, consent_on=FIRST_DAY, date_of_birth=date(1900, 1, 1),
        nationality="SEN", region="+" * 120, city=EDGE, phone="+212 600 11 22 33",
        email="x@example.org", languages=EDGE,
    )  # fmt: skip
    enrol(person, course, on=FIRST_DAY)
    placement = record_placement(
        person, kind=PlacementKind.IGA, sector=EDGE, start_date=FIRST_DAY, end_date=LAST_DAY,
        business_name=EDGE, monthly_income=MAX_INCOME,
    )  # fmt: skip
    record_follow_up(
        placement, months_after=60, followed_on=FIRST_DAY, still_active=True,
        monthly_income=MAX_INCOME, note=EDGE * 100,
    )  # fmt: skip
    record_activity(
        project, kind=ActivityKind.EVENT, title=EDGE, held_on=FIRST_DAY, description=EDGE,
        other_women=MAX_PEOPLE, other_men=MAX_PEOPLE,
    )  # fmt: skip


@pytest.fixture
def records(world):
    """What the GET routes of single records need besides the world: a report, an upload,
    and records at the edges of what the forms take."""
    edge_records(world)

    report = generate_donor_report(
        world.project, None, None, language="fr", narrative={}, by=None, actor_label="test",
        threshold=5,
    )  # fmt: skip
    upload = PendingImport(
        token="an-upload",
        user_id=world.ids["admin_id"],
        kind="participants",
        filename="people.csv",
        sha256="0" * 64,
        size=10,
        summary={"kind": "participants", "filename": "people.csv", "sha256": "0" * 64},
        content=b"code;given_name\n;Awa\n",
    )
    db.session.add(upload)
    job = Job(
        kind="export",
        state="done",
        user_id=world.ids["admin_id"],
        actor_label="admin",
        locale="fr",
        parameters={},
        done=0,
        attempts=1,
        cancel_requested=False,
    )
    db.session.add(job)
    submission = IncomingSubmission(
        project=world.project,
        submission_uuid="a-kobo-submission",
        state=SubmissionState.INVALID,
        payload={"participant/given_name": "Awa", "participant/nationality": "Wakanda"},
        problems=[{"field": "nationality", "message": "not a country"}],
    )
    db.session.add(submission)
    db.session.commit()
    return {
        **world.ids,
        "partner_id": world.ids["edited_partner_id"],
        "report_id": report.id,
        "token": upload.token,
        "job_id": job.id,
        "submission_id": submission.id,
    }


HUGE = "9" * 20  # past SQLite's 64-bit integers


@fuzz(GET_EXAMPLES)
@given(queries=st.fixed_dictionaries({endpoint: _query(endpoint) for endpoint in GET_ROUTES}))
# found here: a page and a record number past the database's integers, projects that are
# no number, and the last day there is (no day after it to compare with)
@example(
    queries={
        **{endpoint: ({}, {"page": HUGE}) for endpoint in GET_ROUTES},
        "auditlog.index": ({}, {"record": HUGE, "start": "0001-01-01", "end": "9999-12-31"}),
        "imports.form_download": ({}, {"project": "trained"}),
        # digits to isdigit(), not to int(): a superscript, and more digits than int() reads
        "trainings.new_course": ({}, {"project": "²"}),
        "activities.new": ({}, {"project": "٣" * 5000}),
    }
)
def test_query_strings_never_fail(app, world, records, queries):
    for endpoint in GET_ROUTES:
        path, query = queries.get(endpoint, ({}, {}))
        ids = {**records, **{k: v[0] for k, v in PATH_CHOICES.items()}, **path}
        target = f"{url(app, endpoint, ids)}?{encode(query).decode()}"
        response = world.client.get(target)
        assert response.status_code < 500, target
        response.close()
    assert_stored_rows_valid()


# --- The importer: each cell reader ----------------------------------------------------------

ANY_CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.dates(),
    st.datetimes(),
    fuzz_text(),
    fuzz_number(),
    fuzz_date(),
)


def _is_storable_text(value: Any, max_length: int) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= max_length
        and value == value.strip()
        and not cells.has_control_characters(value)
    )


def _is_amount(value: Any) -> bool:
    """What a Numeric(10, 2) column holds: finite, at most 2 decimals, at most 12 digits."""
    return (
        isinstance(value, Decimal)
        and value.is_finite()
        and value.as_tuple().exponent >= -2
        and value.adjusted() < 12
    )


def _is_email(value: Any) -> bool:

    return (
        _is_storable_text(value, 254)
        and validate_email(value, check_deliverability=False).normalized == value
    )


#: each reader of the importer, and what any value it returns must satisfy
CELL_READERS = {
    "text": (lambda v: cells.text(v, max_length=120), lambda r: _is_storable_text(r, 120)),
    "date": (cells.parse_date, lambda r: isinstance(r, date) and not isinstance(r, datetime)),
    "date or year": (
        lambda v: cells.parse_date(v, year_only=True),
        lambda r: (
            (isinstance(r, date) and not isinstance(r, datetime))
            or (type(r) is int and 1000 <= r <= 9999)
        ),
    ),
    "sex": (cells.parse_sex, lambda r: isinstance(r, Sex)),
    "yes or no": (cells.parse_bool, lambda r: type(r) is bool),
    "whole number": (
        lambda v: cells.parse_int(v, low=0, high=100),
        lambda r: type(r) is int and 0 <= r <= 100,
    ),
    "amount": (cells.parse_decimal, _is_amount),
    "e-mail": (cells.parse_email, _is_email),
    "phone": (
        cells.parse_phone,
        lambda r: _is_storable_text(r, 40) and cells.is_phone_number(r),
    ),
    "country": (cells.parse_country, is_country_code),
    **{
        f"choice of {enum.__name__}": (
            lambda v, enum=enum: cells.parse_choice(v, enum),
            lambda r, enum=enum: isinstance(r, enum),
        )
        for enum in (MigrationStatus, EducationLevel, EnrolmentStatus, PlacementKind, ContractType)
    },
}


@pytest.mark.parametrize("reader_name", sorted(CELL_READERS))
@fuzz(150)
@given(value=ANY_CELL)
# found here: a float past any amount, and integers too long for str() or float()
@example(value=2.8900311888258524e299)
@example(value=float("inf"))
@example(value=10**5000)
@example(value=-(10**400))
def test_cell_readers_return_storable_values_or_say_why_not(app, reader_name, value):
    read, holds = CELL_READERS[reader_name]
    with force_locale("en"):
        try:
            result = read(value)
        except CellError as error:
            assert error.message
            return
    assert result is None or holds(result), f"{reader_name}({value!r}) -> {result!r}"


# --- The importer: whole files ----------------------------------------------------------------


def _zip(parts: dict[str, bytes]) -> bytes:
    """A ZIP archive, byte for byte the same on every run (fixed dates)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), content)
    return out.getvalue()


WORKBOOK = _zip({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"<worksheet/>"})
#: the sheet's local header names another file than the directory does: BadZipFile
BAD_LOCAL_HEADER = WORKBOOK.replace(b"worksheets/sheet1", b"worksheets\xb8sheet1", 1)
#: the directory asks for a ZIP version from the future (18.7): NotImplementedError
_DIRECTORY = WORKBOOK.index(b"PK\x01\x02")
FUTURE_VERSION = WORKBOOK[: _DIRECTORY + 6] + bytes([187, 0]) + WORKBOOK[_DIRECTORY + 8 :]


@given(
    data=st.one_of(
        st.binary(max_size=3000),
        st.builds(
            bytes.__add__,
            st.sampled_from(
                [reader.XLSX_MAGIC, reader.OLE_MAGIC, b"\xef\xbb\xbf", b"code;given_name\n"]
            ),
            st.binary(max_size=500),
        ),
    )
)
@example(data=BAD_LOCAL_HEADER)
@example(data=FUTURE_VERSION)
@fuzz(150)
def test_any_bytes_are_a_sheet_or_refused(app, data):
    with force_locale("en"):
        try:
            sheet = reader.read(data, max_rows=100)
        except reader.FileRefused as refused:
            assert refused.message
            return
    assert isinstance(sheet, reader.Sheet) and any(sheet.header)
    assert all(isinstance(number, int) and number >= 2 for number, _ in sheet.rows)


def _legal_in_xml(value: Any) -> Any:
    """openpyxl refuses to write the characters XML cannot hold: leave them out."""

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        return value.encode("utf-8", "ignore").decode("utf-8")
    return value


def xlsx_bytes(header: list[str], rows: list[list[Any]], *, formulas: bool = True) -> bytes:
    """A workbook of these cells; text starting with "=" is a formula unless told not."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [header, *rows]:
        sheet.append([_legal_in_xml(v) for v in row])
    if not formulas:
        for line in sheet.iter_rows():
            for cell in line:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@given(
    cells_=st.lists(
        st.lists(
            st.one_of(
                fuzz_text(),
                st.integers(),
                st.floats(allow_nan=False),
                st.dates(),
                st.booleans(),
                st.none(),
            ),
            max_size=5,
        ),
        max_size=4,
    ),
    damage=st.one_of(st.none(), st.tuples(st.integers(0, 10**6), st.integers(0, 255))),
)
@fuzz(60)
def test_spreadsheets_and_damaged_spreadsheets_are_a_sheet_or_refused(app, cells_, damage):
    data = bytearray(xlsx_bytes(["code", "given_name", "x"], cells_))
    if damage is not None:
        position, byte = damage
        data[position % len(data)] = byte
    with force_locale("en"):
        try:
            sheet = reader.read(bytes(data), max_rows=100)
        except reader.FileRefused as refused:
            assert refused.message
            return
    assert isinstance(sheet, reader.Sheet)


def _good_cell(column, refs: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """A cell a careful user would type in ``column``, naming records that exist."""

    if column.name in refs:
        return st.sampled_from(refs[column.name])
    if column.kind == columns_module.DATE:
        return st.one_of(good_date(), good_date().map(lambda d: "/".join(reversed(d.split("-")))))
    if column.kind == columns_module.BOOLEAN:
        return st.sampled_from(["yes", "no", "oui", "non", "1", "0", ""])
    if column.kind == columns_module.CHOICE:
        return st.sampled_from([m.value for m in column.choices] + [""])
    if column.kind == columns_module.COUNTRY:
        return st.sampled_from(["SEN", "civ", "Côte d'Ivoire", "Maroc", ""])
    if column.kind == columns_module.EMAIL:
        return st.one_of(st.just(""), st.emails())
    if column.kind == columns_module.PHONE:
        return st.from_regex(r"\+?[0-9][0-9 ]{5,16}[0-9]", fullmatch=True)
    if column.kind == columns_module.INTEGER:
        return st.integers(0, 100).map(str)
    if column.kind == columns_module.DECIMAL:
        return st.decimals(0, 100_000, places=2).map(str)
    if column.kind == columns_module.CODE:
        return st.one_of(st.just(""), st.from_regex(r"[A-Z]{2}-[0-9]{4}", fullmatch=True))
    return good_text()


@pytest.fixture
def importable(world):
    """People an import can name: each with a placement, none enrolled yet.

    Their codes and what else the files name are learnt once, in ``world.references``:
    a strategy must not change as the examples add records.
    """

    for _ in range(6):
        world.placement()
    db.session.commit()

    with_placement = select(Placement.participant_id)
    codes = sorted(
        db.session.scalars(select(Participant.code).where(Participant.id.in_(with_placement)))
    )
    course = db.session.get(TrainingCourse, world.ids["course_id"])
    activity = db.session.get(Activity, world.ids["activity_id"])
    world.references = {
        "participant_code": codes,
        "project_code": [world.project.code],
        "course_title": [course.title],
        "course_start_date": [course.start_date.isoformat()],
        "status": ["enrolled", "enrolled", "completed", "dropped_out"],
        "completed_on": ["", "2015-05-01"],
        "dropped_on": ["", "2015-04-01"],
        "placement_start_date": ["2015-07-01"],
        "placement_kind": ["employment"],
        "months_after": ["6", "12", "9", "3"],
        "followed_on": ["2016-01-05", "2016-07-01", "2015-12-01"],
        "employer": ["EMP", "Employer", ""],
        "referral_partner": ["Referrer", ""],
        # courses, activities and attendance name partners and activities that exist
        "provider": ["PRV", "Provider", "Employer"],
        "partner": ["PRV", "Employer", "Referrer", "Edited"],
        "activity_title": [activity.title],
        "held_on": [activity.held_on.isoformat(), "2015-03-01", "01/06/2015"],
    }
    return world


@st.composite
def import_file(draw, world, kind: str):
    """A file of ``kind``: the right columns (or not quite), each row partly fuzzed."""
    table = columns_module.TABLES[kind]
    names = list(table.names)
    header = draw(st.permutations(names)) if draw(st.booleans()) else names
    dropped = draw(st.one_of(st.just(set()), st.sets(st.sampled_from(names), max_size=2)))
    header = [h for h in header if h not in dropped]
    header += draw(
        st.lists(st.sampled_from(["_uuid", "meta/instanceID", "extra", "code"]), max_size=2)
    )
    refs = world.references
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        fuzzed = draw(
            st.one_of(
                st.just(set()),
                st.sets(st.sampled_from(header), min_size=1, max_size=2),
                st.sets(st.sampled_from(header), max_size=len(header)),
            )
        )
        row = []
        for name in header:
            column = table.column(name) if name in names else None
            if name in fuzzed or column is None:
                row.append(draw(st.one_of(fuzz_text(), fuzz_number(), fuzz_date())))
            else:
                row.append(draw(_good_cell(column, refs)))
        rows.append(row)
    if draw(st.booleans()):
        # a formula is refused whole (see the tests of the reader): cells typed as text
        return "file.xlsx", xlsx_bytes(header, rows, formulas=False)
    out = io.StringIO()
    csv.writer(out, delimiter=draw(st.sampled_from([";", ","]))).writerows([header, *rows])
    # a NUL refuses the whole file (see the tests of the reader): keep the rows to import
    text = out.getvalue().replace("\x00", "")
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return "file.csv", text.encode(encoding, "surrogatepass" if "8" in encoding else "replace")


@pytest.mark.parametrize("kind", header.KINDS)
@fuzz(25)
@given(data=st.data())
def test_imports_write_valid_rows_or_report_each_by_number(app, importable, kind, data):
    world = importable
    filename, content = data.draw(import_file(world, kind), label="file")
    keep_valid = data.draw(st.booleans(), label="keep_valid")
    dry_run = data.draw(st.booleans(), label="dry_run")
    user = data.draw(st.sampled_from([None, world.ids["admin_id"]]), label="user")
    project = data.draw(st.sampled_from([None, world.project]), label="project")

    before = db.session.scalar(select(db.func.count(Participant.id)))
    with force_locale("en"):
        try:
            sheet = reader.read(content, max_rows=100)
        except reader.FileRefused as refused:
            event(f"file refused: {refused.message[:40]}")
            return
        ctx = Context(
            user=db.session.get(User, user) if user else None,
            default_project=project,
            today=TODAY,
        )
        report = services.run(
            kind, sheet, filename=filename, digest=services.sha256(content), ctx=ctx,
            keep_valid=keep_valid, dry_run=dry_run,
        )  # fmt: skip
    db.session.commit()
    event(f"rows written: {'some' if report.written else 'none'}")
    numbers = {number for number, _ in sheet.rows}
    assert {p.row for p in report.errors + report.warnings} - {None} <= numbers
    if report.written:
        assert not dry_run and (keep_valid or not report.errors)
    if not report.file_errors and sheet.rows:
        # each row once: written (or, when nothing is kept, valid), invalid, skipped, or left
        # out as it may be there already (a dry run counts those among the valid: it checks them)
        left_out = 0 if dry_run else len(report.left_out)
        assert report.valid + report.invalid + report.skipped + left_out == report.rows
        assert report.rows == len(numbers)
        assert set(report.left_out) <= set(report.flagged) <= numbers
    if kind == "participants":
        after = db.session.scalar(select(db.func.count(Participant.id)))
        assert after - before == report.written
    assert_stored_rows_valid()


# --- The importer on the web: upload, preview, confirm ---------------------------------------


@fuzz(10)
@given(data=st.data())
def test_uploads_never_fail(app, importable, data):
    world = importable
    kind = data.draw(st.sampled_from(header.KINDS), label="kind")
    filename, content = data.draw(import_file(world, kind), label="file")
    # found here: a name with control characters was kept and shown as sent
    filename = data.draw(st.sampled_from([filename, f"{CONTROL_EXAMPLE}.csv", "..\\x.csv"]))
    project = data.draw(st.sampled_from(["", str(world.ids["project_id"]), "x", HUGE]))
    client = world.client
    response = client.post(
        "/imports/",
        data={"kind": kind, "project": project, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code < 500
    if response.status_code == 302:
        # the check's job, then the preview it leads to
        preview = response.headers["Location"]
        assert client.get(preview, follow_redirects=True).status_code == 200
        keep_valid = data.draw(st.sampled_from(["", "1"]), label="keep_valid")
        confirmed = client.post(f"{preview}/confirm", data={"keep_valid": keep_valid})
        assert_answered(client, confirmed, f"confirm {filename}")
    assert_stored_rows_valid()
