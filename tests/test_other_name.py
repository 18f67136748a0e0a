"""The name in the other script (``participant.other_name``) goes wherever a name goes:
the named exports, the imports (and so KoboToolbox), the XLSForm and the API; never a
pseudonymous export nor a viewer's token."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import delete, select

from tracker.api import tokens
from tracker.columns import PARTICIPANTS
from tracker.exports import services as exports
from tracker.extensions import db
from tracker.imports import reader, xlsform
from tracker.imports import services as imports
from tracker.imports.report import Context
from tracker.indicator_store import keeping
from tracker.models import Consent, Participant, Role

#: an Arabic name with a shadda and a hamza, and a Latin one for a name typed in Arabic
ARABIC = "عائشة بنت مُحمّد الإدريسي"
LATIN = "Fatima-Zahra El Idrissi (née Bennani)"
TOO_LONG = "ب" * 241


@pytest.fixture
def project(make_project):
    return make_project("IDF-MA-2014", start=date(2014, 6, 1), end=date(2016, 12, 31))


@pytest.fixture
def people(project, make_participant):
    """Three people: her name in Arabic too, her name in Latin letters too, and neither."""
    made = [
        make_participant(project, given_name="Aïcha", family_name="Idrissi", other_name=ARABIC),
        make_participant(
            project, given_name="فاطمة الزهراء", family_name="الإدريسي", other_name=LATIN
        ),  # fmt: skip
        make_participant(project, given_name="Awa", family_name="Diop"),
    ]
    db.session.commit()
    return made


def _csv_rows(data: bytes, delimiter: str = ";") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def _xlsx_rows(data: bytes) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def _run_import(data: bytes, **options):
    with force_locale("en"):
        sheet = reader.read(data, max_rows=1000)
        ctx = Context(user=None, default_project=None, today=date.today())
        report = imports.run(
            "participants",
            sheet,
            filename="people.csv",
            digest=imports.sha256(data),
            ctx=ctx,
            **options,
        )
    db.session.commit()
    return report


def _export_csv() -> bytes:
    export = exports.record_export("participants", user=None)
    return b"".join(exports.render_csv(export))


# --- exports -----------------------------------------------------------------------------


def test_the_column_comes_right_after_the_family_name_and_is_personal():
    column = PARTICIPANTS.column("other_name")
    assert PARTICIPANTS.names[2:4] == ["family_name", "other_name"]
    assert column.personal and not column.required
    assert column.hxl == "#beneficiary+name+alt"
    assert "other_name" not in [c.name for c in PARTICIPANTS.visible(pseudonymous=True)]


def test_named_exports_keep_the_name_in_the_other_script_exactly(
    client, login, make_user, project, people
):
    login(make_user(Role.MANAGER, [project], email="manager@example.org"))
    answer = client.get(f"/exports/participants.csv?project={project.id}")
    assert answer.status_code == 200
    rows = _csv_rows(answer.data)
    assert list(rows[0])[:4] == ["code", "given_name", "family_name", "other_name"]
    by_code = {row["code"]: row["other_name"] for row in rows}
    assert by_code == {people[0].code: ARABIC, people[1].code: LATIN, people[2].code: ""}
    answer = client.get(f"/exports/participants.xlsx?project={project.id}")
    assert answer.status_code == 200
    by_code = {row["code"]: row["other_name"] for row in _xlsx_rows(answer.data)}
    assert by_code == {people[0].code: ARABIC, people[1].code: LATIN, people[2].code: None}
    # with the HXL row, its tag is the second row's
    answer = client.get(f"/exports/participants.csv?project={project.id}&hxl=y")
    header, tags = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig")), delimiter=";"))[:2]
    assert tags[header.index("other_name")] == "#beneficiary+name+alt"


def test_pseudonymous_exports_never_carry_it(client, login, make_user, project, people):
    login(make_user(Role.MANAGER, [project], email="manager@example.org"))
    for fmt in ("csv", "xlsx"):
        answer = client.get(f"/exports/participants.{fmt}?project={project.id}&pseudonymous=y")
        assert answer.status_code == 200
        rows = _csv_rows(answer.data) if fmt == "csv" else _xlsx_rows(answer.data)
        assert "other_name" not in rows[0]
        shown = " ".join(str(v) for row in rows for v in row.values())
        assert ARABIC not in shown and LATIN not in shown and "Idrissi" not in shown
    client.post("/auth/logout")
    login(make_user(Role.VIEWER, [project], email="viewer@example.org"))
    answer = client.get(f"/exports/participants.csv?project={project.id}&pseudonymous=y")
    assert answer.status_code == 200
    text = answer.data.decode("utf-8-sig")
    assert "other_name" not in text and ARABIC not in text and LATIN not in text


# --- imports -----------------------------------------------------------------------------

HEADER = (
    "code;given_name;family_name;other_name;sex;date_of_birth;nationality;consent_given;"
    "consent_date;project_code;registered_on"
)


def _file(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode("utf-8")


def test_an_import_registers_the_name_in_the_other_script(project):
    db.session.commit()
    report = _run_import(
        _file(
            f";Aïcha;Idrissi;{ARABIC};F;1990-04-02;MAR;yes;2015-01-02;IDF-MA-2014;2015-01-02",
            ";Awa;Diop;;F;1991-05-03;SEN;yes;2015-01-02;IDF-MA-2014;2015-01-02",
        )
    )
    assert (report.errors, report.written) == ([], 2)
    names = dict(db.session.execute(select(Participant.given_name, Participant.other_name)).all())
    assert names == {"Aïcha": ARABIC, "Awa": None}


def test_an_imported_name_in_the_other_script_follows_the_importers_rules(project):
    db.session.commit()
    report = _run_import(
        _file(
            f";Aïcha;Idrissi;{TOO_LONG};F;1990-04-02;MAR;yes;2015-01-02;IDF-MA-2014;2015-01-02",
            ";Awa;Diop;Awa\x07Diop;F;1991-05-03;SEN;yes;2015-01-02;IDF-MA-2014;2015-01-02",
        )
    )
    assert report.written == 0
    assert {(p.row, p.column) for p in report.errors} == {(2, "other_name"), (3, "other_name")}
    # a file without the column (as before it existed) still imports
    old = "code;given_name;family_name;sex;consent_given;consent_date;project_code;registered_on"
    report = _run_import(_file(";Awa;Diop;F;yes;2015-01-02;IDF-MA-2014;2015-01-02", header=old))
    assert (report.errors, report.written) == ([], 1)


def test_a_name_only_in_the_other_script_flags_the_duplicate(project, make_participant):
    make_participant(
        project,
        given_name="Aïcha",
        family_name="Idrissi",
        other_name=ARABIC,
        date_of_birth=date(1990, 4, 2),
    )
    db.session.commit()
    # the same woman, born the same day, under another Latin name: only her Arabic one tells
    row = f";Khadija;Tazi;{ARABIC};F;1990-04-02;MAR;yes;2015-01-02;IDF-MA-2014;2015-01-02"
    assert _run_import(_file(row), dry_run=True).flagged == [2]
    unrelated = row.replace(ARABIC, "خديجة التازي")
    assert _run_import(_file(unrelated), dry_run=True).flagged == []


def test_export_then_import_gives_back_the_same_file(project, people):
    first = _export_csv()
    assert ARABIC in first.decode("utf-8-sig") and LATIN in first.decode("utf-8-sig")
    # the same people, gone from the database, come back from the file
    keeping.touch(db.session, [person.id for person in people])
    db.session.execute(delete(Consent))
    db.session.execute(delete(Participant), execution_options=keeping.NOTED)
    db.session.commit()
    report = _run_import(first)
    assert (report.errors, report.written) == ([], 3)
    assert _export_csv() == first


# --- the XLSForm ---------------------------------------------------------------------------


def test_the_xlsform_asks_for_the_name_in_the_other_script(project):
    content = xlsform.build("participants", project=project)
    survey = openpyxl.load_workbook(io.BytesIO(content))["survey"]
    header, *rows = list(survey.iter_rows(values_only=True))
    questions = [dict(zip(header, row, strict=True)) for row in rows]
    names = [q["name"] for q in questions]
    assert names[names.index("family_name") + 1] == "other_name"
    question = questions[names.index("other_name")]
    assert question["type"] == "text" and question["required"] is None
    assert question["constraint"] == "string-length(.) <= 240"
    assert question["label::English (en)"] == "Name in the other script"
    assert question["label::Français (fr)"] and question["label::العربية (ar)"]
    pyxform = pytest.importorskip("pyxform.xls2xform")
    xml = pyxform.convert(xlsform=io.BytesIO(content), file_type=".xlsx").xform
    assert "/participant/other_name" in xml


# --- the API -------------------------------------------------------------------------------


@pytest.fixture
def api(project, make_user, people):
    secrets = {}
    for role in (Role.OFFICER, Role.VIEWER):
        user = make_user(role, [project], email=f"{role.value}@example.org")
        _token, secrets[role] = tokens.create(user, "script")
    db.session.commit()
    return {role: {"Authorization": f"Bearer {secret}"} for role, secret in secrets.items()}


def _readable(text: str) -> str:
    """JSON text with its \\u escapes (four hex digits) as the characters they stand for."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def test_the_api_registers_reads_and_changes_the_name_in_the_other_script(client, api):
    person = {
        "given_name": "Aminata",
        "family_name": "Coulibaly",
        "other_name": "أميناتا كوليبالي",
        "sex": "F",
        "consent_given": True,
        "consent_date": "2015-03-01",
        "project_code": "IDF-MA-2014",
        "registered_on": "2015-03-01",
    }
    made = client.post("/api/v1/participants/", json=person, headers=api[Role.OFFICER])
    assert made.status_code == 201, made.json
    assert made.json["other_name"] == "أميناتا كوليبالي"
    url = f"/api/v1/participants/{made.json['id']}"
    read = client.get(url, headers=api[Role.OFFICER]).json
    assert read["other_name"] == "أميناتا كوليبالي"
    changed = client.patch(
        url, json={"version": read["version"], "other_name": ARABIC}, headers=api[Role.OFFICER]
    )
    assert changed.status_code == 200 and changed.json["other_name"] == ARABIC
    assert db.session.get(Participant, made.json["id"]).other_name == ARABIC
    too_long = client.patch(
        url,
        json={"version": changed.json["version"], "other_name": TOO_LONG},
        headers=api[Role.OFFICER],
    )
    assert too_long.status_code == 422
    assert too_long.json["errors"][0]["field"] == "other_name"
    removed = client.patch(
        url,
        json={"version": changed.json["version"], "other_name": None},
        headers=api[Role.OFFICER],
    )
    assert removed.status_code == 200 and removed.json["other_name"] is None
    refused = client.post(
        "/api/v1/participants/", json={**person, "other_name": TOO_LONG}, headers=api[Role.OFFICER]
    )
    assert refused.status_code == 422
    assert "other_name" in {e["field"] for e in refused.json["errors"]}
    # the OpenAPI description names the field
    spec = client.get("/api/v1/openapi.json").json
    assert "other_name" in spec["components"]["schemas"]["Participant"]["properties"]


def test_a_viewers_token_never_gets_the_name_in_the_other_script(app, client, api, people):
    app.config["SMALL_CELL_THRESHOLD"] = 1  # small lists: tests/test_small_lists.py
    listed = client.get("/api/v1/participants/", headers=api[Role.VIEWER])
    assert listed.status_code == 200
    assert {tuple(sorted(p)) for p in listed.json["items"]} == {("code", "id", "project")}
    text = _readable(listed.get_data(as_text=True))
    assert ARABIC not in text and LATIN not in text
    # a search by it finds nobody (it would tell who is there)
    found = client.get("/api/v1/participants/", query_string={"q": ARABIC.split()[0]},
                       headers=api[Role.VIEWER])  # fmt: skip
    assert found.status_code == 200 and found.json["items"] == []
    assert (
        client.get(f"/api/v1/participants/{people[0].id}", headers=api[Role.VIEWER]).status_code
        == 403
    )


# --- KoboToolbox ---------------------------------------------------------------------------


def test_a_kobo_submission_registers_the_name_in_the_other_script(client, make_project, make_user):
    from tests.test_kobo import post, submission

    project = make_project("P1")
    officer = make_user(Role.OFFICER, projects=[project], email="officer@example.org")
    _token, secret = tokens.create(officer, "KoboToolbox")
    db.session.commit()
    kobo = {"secret": secret}
    answer = post(client, kobo, submission(other_name="مريم كوناتي"))
    assert answer.status_code == 201, answer.json
    assert db.session.scalar(select(Participant.other_name)) == "مريم كوناتي"
    # the importer's rules: too long is refused on its field, and kept to be fixed
    refused = post(client, kobo, submission(uuid="8f0c1e2a-2222-4c2b-9e7e-1234567890ab",
                                            other_name=TOO_LONG))  # fmt: skip
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json["errors"]] == ["other_name"]
