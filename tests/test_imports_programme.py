"""Imports of partners, courses, activities and attendance: the messy files of participants.

Each kind gets the same battery as participants (tests/test_imports.py): a messy file
whose every problem is reported by row and column, nothing written unless the whole
file is valid or the valid rows are asked for, a file imported twice creating nothing
twice, CSV as Excel writes it, XLSX, the project option and the importer's scope, the
command's exit codes, and the web's upload, preview and confirmation.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tracker.activities.services import add_attendance, record_activity
from tracker.columns import TABLES
from tracker.exports import services as exports
from tracker.extensions import db
from tracker.imports import reader, services
from tracker.imports.header import KINDS, kinds_for
from tracker.imports.report import Context
from tracker.models import (
    Activity,
    ActivityAttendance,
    ActivityKind,
    AuditEvent,
    CourseKind,
    Partner,
    PartnerKind,
    PendingImport,
    Role,
    TrainingCourse,
)
from tracker.seed import SEED_DIR

PROGRAMME = ("partners", "courses", "activities", "attendance")


@dataclass(frozen=True)
class Case:
    """One kind's files: a messy one and what its check must find, and a clean one."""

    model: type
    header: str
    #: a file with a bit of everything; row 4 is blank
    messy: tuple[str, ...]
    #: (row, column) of every problem of the messy file
    problems: tuple[tuple[int, str], ...]
    #: (row, column, words of the message) worth reading in full
    messages: tuple[tuple[int, str, str], ...]
    #: the row of a record already recorded, and what its warning says
    skipped: tuple[int, str]
    #: rows that can all be written
    clean: tuple[str, ...]


CASES = {
    "partners": Case(
        Partner,
        "acronym;name;kind;city;country;contact_name;contact_email;contact_phone",
        (
            # 2: fine: the country by its French name, a phone as typed
            "ANAPEC;Agence Nationale de Promotion de l'Emploi et des Compétences;"
            "employment_service;Rabat;Maroc;Samira Alaoui;samira@example.org;+212 600 00 00 01",
            # 3: fine: the kind by its French label, no country (Morocco)
            ";Fondation Orient-Occident;Fondation;Rabat;;;;",
            "",
            # 5: unknown kind, unknown country, bad e-mail
            "ODCO;Office du Développement de la Coopération;cooperative;Rabat;Narnia;;pas-un-mail;",
            # 6: no name
            "ADS;;government;Rabat;MAR;;;",
            # 7: a name that a spreadsheet would take for a formula, as exports write it
            "GADEM;'=Groupe antiraciste;ngo;Rabat;MAR;;;",
            # 8: the acronym of row 2 again (another case)
            "anapec;Agence nationale pour l'emploi;employment_service;;;;;",
            # 9: OFPPT's name with the acronym of Entraide Nationale
            "EN;Office de la Formation Professionnelle et de la Promotion du Travail;"
            "government;;;;;",
            # 10: OFPPT as recorded (the name in other letter cases)
            "OFPPT;office de la formation professionnelle et de la promotion du travail;"
            "training_provider;;;;;",
        ),
        (
            (5, "kind"),
            (5, "country"),
            (5, "contact_email"),
            (6, "name"),
            (8, "acronym"),
            (9, "acronym"),
        ),
        (
            (5, "kind", "is not one of: government, training_provider"),
            (5, "country", "is not a known country"),
            (6, "name", "is missing"),
            (8, "acronym", "the same partner as row 2 (same acronym)"),
            (9, "acronym", "the acronym EN is already used by “Entraide Nationale”"),
        ),
        (10, "already recorded: skipped"),
        (
            "ANAPEC;Agence Nationale de Promotion de l'Emploi et des Compétences;"
            "employment_service;Rabat;MAR;Samira Alaoui;samira@example.org;+212 600 00 00 01",
            ";Fondation Orient-Occident;foundation;Rabat;MAR;;;",
        ),
    ),
    "courses": Case(
        TrainingCourse,
        "project_code;title;provider;sector;kind;city;start_date;end_date;hours;capacity",
        (
            # 2: fine, day-first dates
            "IDF-MA-2014;Cuisine et restauration;OFPPT;Restauration;vocational;Rabat;"
            "13/10/2014;27/03/2015;360;20",
            # 3: fine: the provider by its name, the kind by its label
            "IDF-MA-2014;Français et darija;Entraide Nationale;Langues;Language;Rabat;"
            "2014-09-15;2014-12-19;;",
            "",
            # 5: unknown kind, impossible date, hours as words, no seat
            "IDF-MA-2014;Couture;OFPPT;Couture;sewing;Rabat;31/02/2015;2015-06-30;abc;0",
            # 6: a project that is not the importer's, a provider nobody knows
            "NOPE;Coiffure;NOBODY;Coiffure;vocational;;2015-01-05;2015-04-30;;",
            # 7: ends before it starts (the rule of the course form)
            "IDF-MA-2014;Pâtisserie;OFPPT;Restauration;vocational;;2015-06-01;2015-05-01;;",
            # 8: row 2 again
            "IDF-MA-2014;Cuisine et restauration;OFPPT;Restauration;vocational;Rabat;"
            "2014-10-13;2015-03-27;360;20",
            # 9: a title a spreadsheet would take for a formula
            "IDF-MA-2014;'=Informatique;EN;Informatique;soft_skills;;2015-01-05;2015-02-05;40;",
            # 10: a course already recorded, with another end date in the file
            "IDF-MA-2014;Existing course;OFPPT;Cuisine;vocational;;2015-02-01;2015-06-30;;",
        ),
        (
            (5, "kind"),
            (5, "start_date"),
            (5, "hours"),
            (5, "capacity"),
            (6, "project_code"),
            (6, "provider"),
            (7, "end_date"),
            (8, "title"),
        ),
        (
            (5, "start_date", "is not a real date"),
            (5, "hours", "is not a whole number"),
            (5, "capacity", "must be between 1 and 100000"),
            (6, "project_code", "NOPE is not a project of yours"),
            (6, "provider", "NOBODY is not in the partner list"),
            (7, "end_date", "The course cannot end before it starts."),
            (8, "title", "the same course as row 2 (same title and start date)"),
        ),
        (10, "already recorded, with other values in end_date: skipped"),
        (
            "IDF-MA-2014;Cuisine et restauration;OFPPT;Restauration;vocational;Rabat;"
            "2014-10-13;2015-03-27;360;20",
            "IDF-MA-2014;Français et darija;Entraide Nationale;Langues;language;Rabat;"
            "2014-09-15;2014-12-19;;",
        ),
    ),
    "activities": Case(
        Activity,
        "project_code;kind;title;topic;held_on;city;other_women;other_men;description",
        (
            # 2: fine, a day-first date
            "IDF-MA-2014;awareness_workshop;Atelier migration;Sensibilisation;10/02/2015;Rabat;"
            "14;4;Présentation du contexte",
            # 3: fine: the kind by its label, no counts (nobody)
            "IDF-MA-2014;Capacity building;Interculturalité 1;Interculturalité;2015-03-17;Rabat;;;",
            "",
            # 5: unknown kind, impossible date, a negative count, a count in words
            "IDF-MA-2014;party;Fête;;31/02/2015;;-3;x;",
            # 6: not the importer's project
            "NOPE;event;Cérémonie;;2015-07-12;;;;",
            # 7: not held yet (the rule of the activity form)
            "IDF-MA-2014;event;Futur;;2999-01-01;;;;",
            # 8: row 2 again
            "IDF-MA-2014;awareness_workshop;Atelier migration;;2015-02-10;;;;",
            # 9: a title a spreadsheet would take for a formula
            "IDF-MA-2014;event;'=Remise des certificats;;2016-07-12;Rabat;;;",
            # 10: an activity already recorded, as recorded
            "IDF-MA-2014;awareness_workshop;Atelier de sensibilisation;;2015-02-10;;;;",
        ),
        (
            (5, "kind"),
            (5, "held_on"),
            (5, "other_women"),
            (5, "other_men"),
            (6, "project_code"),
            (7, "held_on"),
            (8, "title"),
        ),
        (
            (5, "kind", "is not one of: capacity_building, awareness_workshop, event"),
            (5, "held_on", "is not a real date"),
            (5, "other_women", "must be between 0 and 100000"),
            (5, "other_men", "is not a whole number"),
            (7, "held_on", "the date is in the future"),
            (8, "title", "the same activity as row 2 (same title and date)"),
        ),
        (10, "already recorded: skipped"),
        (
            "IDF-MA-2014;awareness_workshop;Atelier migration;Sensibilisation;2015-02-10;Rabat;"
            "14;4;Présentation du contexte",
            "IDF-MA-2014;capacity_building;Interculturalité 1;Interculturalité;2015-03-17;"
            "Rabat;0;0;",
        ),
    ),
    "attendance": Case(
        ActivityAttendance,
        "project_code;activity_title;held_on;partner;staff_count",
        (
            # 2: fine, a day-first date
            "IDF-MA-2014;Atelier de sensibilisation;10/02/2015;OFPPT;3",
            # 3: fine: the partner by its name, no staff count
            "IDF-MA-2014;Atelier de sensibilisation;2015-02-10;"
            "Conseil National des Droits de l'Homme;",
            "",
            # 5: impossible date, a count in words
            "IDF-MA-2014;Atelier de sensibilisation;2015-13-01;OFPPT;beaucoup",
            # 6: no such activity, no such partner
            "IDF-MA-2014;Atelier inconnu;2015-02-10;NOBODY;1",
            # 7: not the importer's project
            "NOPE;Atelier de sensibilisation;2015-02-10;OFPPT;1",
            # 8: row 2 again, another count
            "IDF-MA-2014;Atelier de sensibilisation;2015-02-10;OFPPT;2",
            # 9: Entraide Nationale, recorded as attending with 2 staff
            "IDF-MA-2014;Atelier de sensibilisation;2015-02-10;EN;5",
        ),
        (
            (5, "held_on"),
            (5, "staff_count"),
            (6, "partner"),
            (6, "activity_title"),
            (7, "project_code"),
            (8, "partner"),
        ),
        (
            (5, "held_on", "is not a real date"),
            (5, "staff_count", "is not a whole number"),
            (6, "partner", "NOBODY is not in the partner list"),
            (6, "activity_title", "no activity of this title on 2015-02-10 in this project"),
            (8, "partner", "the same partner at the same activity as row 2"),
        ),
        (9, "already recorded, with other values in staff_count: skipped"),
        (
            "IDF-MA-2014;Atelier de sensibilisation;2015-02-10;OFPPT;3",
            "IDF-MA-2014;Atelier de sensibilisation;2015-02-10;CNDH;0",
        ),
    ),
}


def csv_file(*rows: str, header: str) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode("utf-8")


def messy(kind: str) -> bytes:
    return csv_file(*CASES[kind].messy, header=CASES[kind].header)


def clean(kind: str) -> bytes:
    return csv_file(*CASES[kind].clean, header=CASES[kind].header)


def run_import(data: bytes, kind: str, *, project=None, user=None, **options):
    with force_locale("en"):
        sheet = reader.read(data, max_rows=50_000)
        ctx = Context(user=user, default_project=project, today=date.today())
        report = services.run(
            kind, sheet, filename="file.csv", digest=services.sha256(data), ctx=ctx, **options
        )
    db.session.commit()
    return report


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def problems(report) -> list[tuple[int | None, str | None]]:
    return sorted((p.row, p.column) for p in report.errors)


@pytest.fixture
def recorded(project, other_project, make_partner, make_course):
    """What the files name: partners, a course and an activity with one partner attending."""
    ofppt = make_partner(
        "Office de la Formation Professionnelle et de la Promotion du Travail",
        PartnerKind.TRAINING_PROVIDER,
        acronym="OFPPT",
    )
    entraide = make_partner("Entraide Nationale", PartnerKind.GOVERNMENT, acronym="EN")
    make_partner("Conseil National des Droits de l'Homme", PartnerKind.GOVERNMENT, acronym="CNDH")
    make_course(
        project,
        provider=ofppt,
        title="Existing course",
        sector="Cuisine",
        kind=CourseKind.VOCATIONAL,
        start=date(2015, 2, 1),
        end=date(2015, 5, 31),
    )
    workshop = record_activity(
        project,
        kind=ActivityKind.AWARENESS_WORKSHOP,
        title="Atelier de sensibilisation",
        held_on=date(2015, 2, 10),
    )
    add_attendance(workshop, entraide, staff_count=2)
    db.session.commit()
    return project


# --- A messy real-world file, for each kind -----------------------------------------------


@pytest.mark.parametrize("kind", PROGRAMME)
def test_dry_run_of_a_messy_file_lists_every_problem_and_writes_nothing(recorded, kind):
    case = CASES[kind]
    before, lines_before = count(case.model), count(AuditEvent)
    report = run_import(messy(kind), kind, dry_run=True)
    assert problems(report) == sorted(case.problems)
    # in the order of the rows, those the services refuse included
    assert [p.row for p in report.errors] == sorted(p.row for p in report.errors)
    messages = {(p.row, p.column): p.message for p in report.errors}
    for row, column, words in case.messages:
        assert words in messages[(row, column)], (row, column, messages[(row, column)])
    row, words = case.skipped
    (warning,) = [w.message for w in report.warnings if w.row == row]
    assert warning.startswith(words), warning
    invalid = len({r for r, _c in case.problems})
    valid = len(case.messy) - 1 - invalid - 1  # less the blank line and the skipped row
    assert (report.rows, report.valid, report.invalid, report.skipped) == (
        len(case.messy) - 1,
        valid,
        invalid,
        1,
    )
    assert count(case.model) == before and count(AuditEvent) == lines_before


@pytest.mark.parametrize("kind", PROGRAMME)
def test_without_keep_valid_an_invalid_row_stops_everything(recorded, kind):
    before = count(CASES[kind].model)
    report = run_import(messy(kind), kind)
    assert report.written == 0 and report.errors
    assert count(CASES[kind].model) == before
    (line,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import"))
    assert line.entity == kind and line.changes["written"] == 0
    assert line.changes["skipped"] == 1 and line.changes["invalid"] == report.invalid


@pytest.mark.parametrize("kind", PROGRAMME)
def test_keep_valid_writes_exactly_the_valid_rows(recorded, kind):
    before = count(CASES[kind].model)
    creations = select(func.count()).where(AuditEvent.action == "create")
    lines_before = db.session.scalar(creations)
    report = run_import(messy(kind), kind, keep_valid=True)
    assert report.written == report.valid > 0
    assert count(CASES[kind].model) == before + report.written
    assert report.codes == []  # no person concerned
    (line,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import"))
    assert line.changes["written"] == report.written
    # each record written has its own line, as if recorded on its form
    assert db.session.scalar(creations) - lines_before == report.written


def test_the_rows_written_hold_what_the_file_says(recorded):
    run_import(messy("partners"), "partners", keep_valid=True)
    anapec = db.session.scalar(select(Partner).where(Partner.acronym == "ANAPEC"))
    assert (anapec.kind, anapec.country, anapec.contact_email) == (
        PartnerKind.EMPLOYMENT_SERVICE,
        "MAR",
        "samira@example.org",
    )
    foundation = db.session.scalar(select(Partner).where(Partner.name.like("Fondation%")))
    assert foundation.kind is PartnerKind.FOUNDATION and foundation.country == "MAR"
    assert db.session.scalar(select(Partner).where(Partner.name == "=Groupe antiraciste"))

    run_import(messy("courses"), "courses", keep_valid=True)
    courses = {c.title: c for c in db.session.scalars(select(TrainingCourse))}
    cooking = courses["Cuisine et restauration"]
    assert (cooking.start_date, cooking.end_date, cooking.hours, cooking.capacity) == (
        date(2014, 10, 13),
        date(2015, 3, 27),
        360,
        20,
    )
    assert cooking.provider.acronym == "OFPPT"
    assert courses["Français et darija"].provider.acronym == "EN"
    assert courses["Français et darija"].kind is CourseKind.LANGUAGE
    assert "=Informatique" in courses
    assert courses["Existing course"].end_date == date(2015, 5, 31), "skipped, not changed"

    run_import(messy("activities"), "activities", keep_valid=True)
    activities = {a.title: a for a in db.session.scalars(select(Activity))}
    workshop = activities["Atelier migration"]
    assert (workshop.held_on, workshop.other_women, workshop.other_men) == (
        date(2015, 2, 10),
        14,
        4,
    )
    assert activities["Interculturalité 1"].kind is ActivityKind.CAPACITY_BUILDING
    assert activities["Interculturalité 1"].other_women == 0
    assert "=Remise des certificats" in activities

    run_import(messy("attendance"), "attendance", keep_valid=True)
    staff = {
        a.partner.acronym: a.staff_count
        for a in db.session.scalars(select(ActivityAttendance))
        if a.activity.title == "Atelier de sensibilisation"
    }
    assert staff == {"EN": 2, "OFPPT": 3, "CNDH": 0}


@pytest.mark.parametrize("kind", PROGRAMME)
def test_the_same_file_twice_creates_nothing_twice(recorded, kind):
    data = clean(kind)
    first = run_import(data, kind)
    assert first.written == 2 and not first.errors, first.errors
    before = count(CASES[kind].model)
    again = run_import(data, kind)
    assert (again.written, again.skipped, again.invalid, again.errors) == (0, 2, 0, [])
    assert "imported on" in again.warnings[0].message
    assert [w.message for w in again.warnings[1:]] == ["already recorded: skipped"] * 2
    assert count(CASES[kind].model) == before


@pytest.mark.parametrize("kind", PROGRAMME)
def test_csv_with_commas_bom_windows_encoding_and_hxl_row(recorded, kind):
    case = CASES[kind]
    header = case.header.replace(";", ",")
    hxl = ",".join(c.hxl for c in TABLES[kind].columns)
    rows = [row.replace(";", ",") for row in case.clean]
    data = ("\ufeff" + "\n".join((header, hxl, *rows))).encode("utf-8")
    report = run_import(data, kind)
    assert report.written == 2 and not report.errors, report.errors
    # French Excel's encoding: the accented names read the same, so nothing is new
    latin = "\r\n".join((case.header, *case.clean)).encode("cp1252")
    again = run_import(latin, kind)
    assert (again.written, again.skipped, again.errors) == (0, 2, [])


def xlsx_file(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_cell(column_kind: str, text: str):
    """The cell a spreadsheet holds for ``text``: real dates and numbers."""
    if not text:
        return None
    if column_kind == "date":
        return datetime.fromisoformat(text)
    if column_kind == "integer":
        return int(text)
    return text


@pytest.mark.parametrize("kind", PROGRAMME)
def test_xlsx_with_real_dates_and_numbers(recorded, kind):
    table = TABLES[kind]
    rows = [table.names]
    for line in CASES[kind].clean:
        cells = next(csv.reader([line], delimiter=";"))
        rows.append([xlsx_cell(c.kind, v) for c, v in zip(table.columns, cells, strict=True)])
    before = count(CASES[kind].model)
    report = run_import(xlsx_file(rows), kind)
    assert report.written == 2 and not report.errors, report.errors
    assert count(CASES[kind].model) == before + 2


@pytest.mark.parametrize("kind", PROGRAMME)
def test_missing_required_columns_unknown_ones_and_too_many(recorded, kind):
    table = TABLES[kind]
    kept = [c.name for c in table.columns if not c.required]
    report = run_import(csv_file("x;y", header=";".join([*kept[:1], "colour"])), kind)
    missing = {p.column for p in report.file_errors}
    required = {c.name for c in table.columns if c.required}
    assert missing == required
    assert any("colour" in w.message for w in report.warnings)
    assert report.rows == 0
    wide = ";".join([*table.names, *(f"extra{i}" for i in range(reader.MAX_COLUMNS))])
    with force_locale("en"), pytest.raises(reader.FileRefused, match="more than 200 columns"):
        reader.read(csv_file(header=wide), max_rows=10)


@pytest.mark.parametrize("kind", ["courses", "activities", "attendance"])
def test_the_project_option_fills_blank_project_codes_and_refuses_others(recorded, kind):
    rows = [row.removeprefix("IDF-MA-2014") for row in CASES[kind].clean]
    rows[1] = "OTHER" + rows[1]
    report = run_import(csv_file(*rows, header=CASES[kind].header), kind, project=recorded)
    assert problems(report) == [(3, "project_code")]
    assert "OTHER" in report.errors[0].message and "IDF-MA-2014" in report.errors[0].message
    # a file without the column at all goes into the chosen project too
    header = CASES[kind].header.removeprefix("project_code;")
    rows = [row.removeprefix("IDF-MA-2014;") for row in CASES[kind].clean]
    report = run_import(csv_file(*rows, header=header), kind, project=recorded)
    assert report.written == 2 and not report.errors, report.errors


def test_partners_are_shared_so_the_project_option_does_not_matter(recorded):
    assert run_import(clean("partners"), "partners", project=recorded).written == 2


@pytest.mark.parametrize("kind", PROGRAMME)
def test_officers_import_none_of_these(recorded, kind, officer):
    report = run_import(clean(kind), kind, user=officer)
    with force_locale("en"):
        label = str(TABLES[kind].label)
    assert [p.message for p in report.file_errors] == [
        f"Only managers and administrators import this kind of record ({label})."
    ]
    assert report.written == 0
    assert kind not in kinds_for(officer) and "participants" in kinds_for(officer)


@pytest.mark.parametrize("kind", ["courses", "activities", "attendance"])
def test_managers_import_into_their_own_projects_only(recorded, kind, make_user, other_project):
    manager = make_user(Role.MANAGER, [other_project], email="elsewhere@example.org")
    assert kinds_for(manager) == list(KINDS)
    report = run_import(clean(kind), kind, user=manager)
    assert problems(report) == [(2, "project_code"), (3, "project_code")]
    assert "IDF-MA-2014 is not a project of yours" in report.errors[0].message
    assert report.written == 0


# --- What goes out comes back in --------------------------------------------------------------


def seed_rows(name: str) -> list[list[str]]:
    with (SEED_DIR / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def export_file(kind: str) -> bytes:
    return b"".join(exports.render_csv(exports.record_export(kind, user=None), delimiter=","))


def export_rows(kind: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(export_file(kind).decode("utf-8-sig"))))


def test_seed_files_imported_then_exported_give_the_same_files(project):
    db.session.commit()
    for kind in PROGRAMME:
        report = run_import((SEED_DIR / f"{kind}.csv").read_bytes(), kind)
        assert not report.errors and report.written == report.rows, (kind, report.errors[:3])
    assert [w.message for w in report.warnings] == []
    for kind in PROGRAMME:
        original = seed_rows(f"{kind}.csv")
        exported = export_rows(kind)
        if kind == "partners":
            # the seed file says where each name comes from; nothing else is lost
            original = [row[:5] for row in original]
            exported = [row[:5] for row in exported]
        assert exported[0] == original[0], kind
        assert sorted(exported[1:]) == sorted(original[1:]), kind
    # and the exports imported again create nothing
    for kind in PROGRAMME:
        report = run_import(export_file(kind), kind)
        assert (report.written, report.invalid) == (0, 0) and report.skipped == report.rows, kind


# --- The command line ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", PROGRAMME)
def test_command_exit_codes(runner, recorded, kind, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(clean(kind))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(messy(kind))
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04junk")
    before = count(CASES[kind].model)

    def run(*args):
        return runner.invoke(args=["import", kind, *args, "--lang", "en"])

    assert run(str(good), "--dry-run").exit_code == 0
    invalid = run(str(bad))
    assert invalid.exit_code == 1 and "Nothing written" in invalid.output
    row, column = CASES[kind].problems[0]
    assert f"row {row}, {column}" in invalid.output
    assert count(CASES[kind].model) == before
    assert run(str(junk)).exit_code == 2
    done = run(str(good))
    assert done.exit_code == 0 and "Imported 2 rows" in done.output, done.output
    again = run(str(good))
    assert again.exit_code == 0 and "2 already imported" in again.output, again.output
    assert count(CASES[kind].model) == before + 2


# --- The web ----------------------------------------------------------------------------


def upload(client, data: bytes, kind: str, name="file.csv"):
    return client.post(
        "/imports/",
        data={"kind": kind, "project": "", "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("kind", PROGRAMME)
def test_web_upload_preview_and_import_of_the_valid_rows(client, signin, manager, recorded, kind):
    signin(manager)
    before = count(CASES[kind].model)
    page = client.get("/imports/").get_data(as_text=True)
    assert f'<option value="{kind}">' in page
    assert f'href="/imports/template/{kind}.csv"' in page
    response = upload(client, messy(kind), kind)
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    html = client.get(response.headers["Location"], follow_redirects=True).get_data(as_text=True)
    _row, _column, words = CASES[kind].messages[0]
    assert words in html
    valid = len(CASES[kind].messy) - 2 - len({r for r, _c in CASES[kind].problems})
    assert f"Import the {valid} valid rows only" in html
    assert CASES[kind].skipped[1] in html
    token = db.session.scalar(select(PendingImport.token))
    done = client.post(f"/imports/{token}/confirm", data={"keep_valid": "1"})
    job_page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'data-state="done"' in job_page and f"{valid} rows imported" in job_page
    assert count(CASES[kind].model) == before + valid and count(PendingImport) == 0


def test_web_officers_are_offered_their_kinds_only(client, signin, officer, recorded):
    signin(officer)
    page = client.get("/imports/").get_data(as_text=True)
    for kind in PROGRAMME:
        assert f'<option value="{kind}">' not in page
        assert f'href="/imports/template/{kind}.csv"' not in page
        assert upload(client, clean(kind), kind).status_code == 400
    assert '<option value="participants"' in page
    assert count(PendingImport) == 0


@pytest.mark.parametrize("kind", PROGRAMME)
def test_templates_are_the_import_columns(client, signin, manager, kind):
    signin(manager)
    response = client.get(f"/imports/template/{kind}.csv")
    header = next(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
    assert header == TABLES[kind].names
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/imports/template/{kind}.xlsx").data))
    assert [c.value for c in book.active[1]] == TABLES[kind].names


def test_course_and_partner_exports_keep_to_the_scope_and_leave_contacts_out(
    client, login, make_user, project, other_project, make_partner, make_course
):
    provider = make_partner(
        "Centre Atlas", acronym="CA", contact_name="Karim Idrissi", contact_email="k@example.org"
    )
    make_course(project, provider=provider, title="Couture")
    make_course(other_project, provider=provider, title="Coiffure")
    db.session.commit()
    login(make_user(Role.OFFICER, [other_project], email="officer-b@example.org"))
    courses = client.get("/exports/courses.csv?sep=comma").get_data(as_text=True)
    assert "Coiffure" in courses and "Couture" not in courses
    named = client.get("/exports/partners.csv?sep=comma").get_data(as_text=True)
    assert "Karim Idrissi" in named and "contact_email" in named.splitlines()[0]
    client.post("/auth/logout")
    login(make_user(Role.VIEWER, [project], email="viewer-a@example.org"))
    shared = client.get("/exports/partners.csv?sep=comma&pseudonymous=y").get_data(as_text=True)
    assert next(csv.reader(io.StringIO(shared.lstrip("\ufeff")))) == [
        "acronym",
        "name",
        "kind",
        "city",
        "country",
    ]
    assert "Centre Atlas" in shared and "Karim" not in shared and "@" not in shared
