"""A person's own copy of everything held on her (issue 17, item 4): JSON and PDF.

One small programme, counted by hand: Awa is registered, consents, is enrolled in one
course, placed, followed up once; a duplicate of her was merged into her record; an
officer opened her case file and listed the project's people; a manager exported the
project's participants. Mariam, in the same project, has her own history: none of it
may reach Awa's copy.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import PASSWORD
from tracker.extensions import db
from tracker.models import AuditEvent, PartnerKind, PlacementKind, Role
from tracker.participants import merging
from tracker.placements.services import record_follow_up, record_placement
from tracker.trainings.services import enrol


@pytest.fixture
def awa(app, project, other_project, make_participant, make_course, make_partner, make_user):
    person = make_participant(
        project,
        given_name="Awa",
        family_name="Diallo",
        other_name="عوا ديالو",
        phone="+212 600 11 22 33",
        languages="arabe, français",
        registered_on=date(2015, 1, 5),
    )
    person.sensitive_notes = "Asked to be called after 17h."
    course = make_course(project, title="Pâtisserie", provider=make_partner("OFPPT"))
    enrol(person, course, on=date(2015, 1, 20))
    placement = record_placement(
        person,
        kind=PlacementKind.EMPLOYMENT,
        sector="Hôtellerie",
        start_date=date(2015, 7, 1),
        employer=make_partner("Hôtel Atlas", PartnerKind.EMPLOYER),
    )
    record_follow_up(
        placement,
        months_after=3,
        followed_on=date(2015, 10, 1),
        still_active=True,
        note="Promoted to head baker.",
    )
    twin = make_participant(project, given_name="Awa", family_name="Diallo")
    merging.merge(person, [twin])
    mariam = make_participant(project, given_name="Mariam", family_name="Sow")
    stranger_person = make_participant(other_project, given_name="Zoé", family_name="Far")
    db.session.commit()
    users = {
        "officer": make_user(Role.OFFICER, [project], email="officer@example.org"),
        "manager": make_user(Role.MANAGER, [project], email="manager@example.org"),
        "other_manager": make_user(Role.MANAGER, [other_project], email="om@example.org"),
        "viewer": make_user(Role.VIEWER, [project], email="viewer@example.org"),
        "admin": make_user(Role.ADMIN, [], email="admin@example.org"),
    }
    users["officer"].name = "Fatima Officer"
    db.session.commit()
    return person, twin, mariam, stranger_person, users


def _as(client, user):
    client.post("/auth/logout")
    client.post("/auth/language/en")
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.text


def _history_made(client, awa):
    person, _twin, mariam, _stranger, users = awa
    _as(client, users["officer"])
    assert client.get(f"/participants/{person.id}").status_code == 200
    assert client.get(f"/participants/{mariam.id}").status_code == 200
    assert client.get("/participants/?q=Awa").status_code == 200  # a list showing her
    assert client.get("/participants/?q=Mariam").status_code == 200  # a list without her
    _as(client, users["manager"])
    export = client.get(f"/exports/participants.csv?project={person.project_id}")
    assert export.status_code == 200
    export.close()


def _copy(client, person, fmt="json", lang="en"):
    page = client.get(f"/participants/{person.id}/subject-access")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    token = token or re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return client.post(
        f"/participants/{person.id}/subject-access",
        data={"csrf_token": token.group(1), "lang": lang, "format": fmt},
    )


def test_the_json_copy_holds_every_record_of_hers_and_every_read(client, awa, app_config):
    person, twin, mariam, _stranger, users = awa
    _history_made(client, awa)
    response = _copy(client, person)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    document = json.loads(response.data)

    assert document["format"] == "tracker-subject-access/1"
    identity = document["person"]
    assert (identity["code"], identity["given_name"], identity["family_name"]) == (
        person.code,
        "Awa",
        "Diallo",
    )
    assert identity["other_name"] == "عوا ديالو"
    assert identity["phone"] == "+212 600 11 22 33"
    assert identity["sensitive_notes"] == "Asked to be called after 17h."
    assert [r["code"] for r in document["records_merged_into_hers"]] == [twin.code]
    assert [c["purpose"] for c in document["consents"]] == ["case_management", "case_management"]
    assert [e["course"]["title"] for e in document["enrolments"]] == ["Pâtisserie"]
    [placement] = document["placements"]
    assert placement["employer"] == "Hôtel Atlas"
    assert [f["note"] for f in placement["follow_ups"]] == ["Promoted to head baker."]
    assert document["activities"] == []

    # changes: her registration, consent, enrolment, placement, follow-up, the merge
    changed = {(c["action"], c["record"]) for c in document["changes"]}
    assert {
        ("create", "participant"),
        ("create", "enrolment"),
        ("create", "placement"),
        ("create", "follow_up"),
        ("merge", "participant"),
    } <= changed
    # the log's masking holds in her copy: no value of a personal field
    registration = next(
        c for c in document["changes"] if c["action"] == "create" and c["record"] == "participant"
    )
    assert "Awa" not in json.dumps(registration["changes"], ensure_ascii=False)

    # reads: her case file opened by the officer, named; the list that showed her; not
    # Mariam's case file nor the list without her
    reads = document["reads"]
    opened = [r for r in reads if r["record"] == "participant" and r["record_id"] == person.id]
    assert any(r["by"] == "Fatima Officer (Field officer)" for r in opened), reads
    lists = [r for r in reads if r["record"] == "participants"]
    assert len(lists) == 1 and lists[0]["by"] == "Fatima Officer (Field officer)"
    assert not any(r["record_id"] == mariam.id for r in reads)
    assert "Mariam" not in response.text and "Sow" not in response.text
    # the page offering her copy was a read too
    assert any("own copy" in " ".join(r["details"]) for r in opened)

    # the export that held her, by the manager; the file's other people stay unsaid
    [export] = document["exports"]
    assert export["record"] == "participants"
    assert export["by"] == "manager@example.org (Programme manager)"
    assert export["held_her"] is True
    assert "participant_ranges" not in export["changes"]


def test_her_copy_lists_the_files_that_held_her_and_no_other(client, awa):
    """An export's line names its people: a file of her project without her is not hers."""
    from tracker import audit

    person, _twin, mariam, stranger, users = awa
    code, awa_id, mariam_id, stranger_id = person.project.code, person.id, mariam.id, stranger.id
    db.session.commit()  # the lines below are written in transactions of their own
    with audit.acting_as("cli:export"):
        # a file of her project that held Mariam only (filtered, or Awa left out by consent)
        audit.record_now(
            "export",
            "participants",
            None,
            {"project": code, "participant_ranges": [[mariam_id, mariam_id]]},
            remote_addr=None,
        )
        # a file that held her among others, as the runs of ids a line keeps
        audit.record_now(
            "export",
            "placements",
            None,
            {"project": None, "participant_ranges": audit.id_ranges([stranger_id, awa_id])},
            remote_addr=None,
        )
        # a file of courses: about no person
        audit.record_now("export", "courses", None, {"project": code}, remote_addr=None)
        # a line written before exports named their people: it may have held her
        audit.record_now("export", "enrolments", None, {"project": code}, remote_addr=None)
    _as(client, users["manager"])
    document = json.loads(_copy(client, person).data)
    listed = [(e["record"], e["held_her"]) for e in document["exports"]]
    assert listed == [("placements", True), ("enrolments", None)]
    older = document["exports"][1]
    assert any("may have held you" in detail for detail in older["details"])
    assert "may have held you" not in " ".join(document["exports"][0]["details"])


def test_making_the_copy_is_audited_with_the_files_fingerprint(client, awa):
    person, *_rest, users = awa
    _as(client, users["manager"])
    response = _copy(client, person, fmt="pdf", lang="fr")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    [line] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "subject_access")
    ).all()
    assert (line.entity, line.entity_id, line.actor_id) == (
        "participant",
        person.id,
        users["manager"].id,
    )
    assert line.changes == {
        "format": "pdf",
        "lang": "fr",
        "sha256": hashlib.sha256(response.data).hexdigest(),
    }
    # a second copy lists the first among the reads of her data
    again = json.loads(_copy(client, person).data)
    assert any(r["action"] == "subject_access" for r in again["reads"])


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFKC", "\n".join(p.extract_text() for p in reader.pages))


def test_the_pdf_lists_every_record_and_every_read_of_her_case_file(client, awa):
    person, twin, _mariam, _stranger, users = awa
    _history_made(client, awa)
    response = _copy(client, person, fmt="pdf", lang="en")
    text = _text(response.data)
    flat = " ".join(text.split())
    for expected in (
        person.code,
        "Awa",
        "Diallo",
        "+212 600 11 22 33",
        "Asked to be called after 17h.",
        "Pâtisserie",
        "OFPPT",
        "Hôtel Atlas",
        "Promoted to head baker.",
        twin.code,
        "Fatima Officer",
        "Who read your data",
        "Files that held your records",
    ):
        assert expected in flat, expected
    # her name in Arabic script, printed (not "?") in an English document
    assert "ديالو" in text or "ولايد" in text
    assert "Mariam" not in flat


def test_the_pdf_is_in_her_language(client, awa):
    person, *_rest, users = awa
    _as(client, users["admin"])
    french = _text(_copy(client, person, fmt="pdf", lang="fr").data)
    assert "Vos consentements" in french
    arabic = _text(_copy(client, person, fmt="pdf", lang="ar").data)
    assert "Awa" in arabic and person.code in arabic
    assert re.search(r"[\u0600-\u06ff]{3}", arabic)


def test_the_language_offered_first_is_hers(client, awa):
    person, *_rest, users = awa
    _as(client, users["manager"])
    page = client.get(f"/participants/{person.id}/subject-access")
    assert re.search(r'<option selected value="ar">|<option value="ar" selected>', page.text)


@pytest.mark.parametrize(
    ("who", "status"),
    [("officer", 403), ("viewer", 403), ("other_manager", 404), ("admin", 200), ("manager", 200)],
)
def test_only_managers_of_her_project_and_administrators_make_it(client, awa, who, status):
    person, *_rest, users = awa
    _as(client, users[who])
    assert client.get(f"/participants/{person.id}/subject-access").status_code == status
    made = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "subject_access"))
    assert made.all() == []


def test_a_merged_records_copy_is_the_survivors(client, awa):
    person, twin, *_rest, users = awa
    _as(client, users["manager"])
    document = json.loads(_copy(client, twin).data)
    assert document["person"]["code"] == person.code


def test_the_command_writes_a_private_file_and_audits_it(runner, awa, tmp_path):
    person, *_rest = awa
    out = tmp_path / "awa.json"
    result = runner.invoke(
        args=["subject-access", person.code, "--format", "json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    document = json.loads(out.read_text())
    assert document["person"]["code"] == person.code
    line = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "subject_access"))
    assert line.actor_label == "cli:subject-access"
    assert line.changes["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    unknown = runner.invoke(args=["subject-access", "NOPE", "--out", str(tmp_path / "x.pdf")])
    assert unknown.exit_code == 1 and "NOPE" in unknown.output


def test_a_demo_participants_pdf_lists_every_record_and_read(client, seeded, make_user):
    from tracker.models import Enrolment, Participant, Placement

    person = db.session.scalar(select(Participant).where(Participant.code == "IDF-MA-2014-0011"))
    courses = db.session.scalars(
        select(Enrolment).where(Enrolment.participant_id == person.id)
    ).all()
    placements = db.session.scalars(
        select(Placement).where(Placement.participant_id == person.id)
    ).all()
    assert len(courses) == 2 and len(placements) == 1
    officer = make_user(Role.OFFICER, [seeded], email="reader@example.org")
    manager = make_user(Role.MANAGER, [seeded], email="dpo@example.org")
    _as(client, officer)
    for _time in range(3):
        assert client.get(f"/participants/{person.id}").status_code == 200
    _as(client, manager)
    flat = " ".join(_text(_copy(client, person, fmt="pdf", lang="fr").data).split())
    for enrolment in courses:
        assert enrolment.course.title in flat
    assert placements[0].employer.name in flat
    assert len(placements[0].follow_ups) == 3
    # the three openings of her case file, each on its line, by whom
    assert flat.count("reader@example.org") == 3


def test_her_copy_does_not_depend_on_her_consents_and_survives_erasure(client, awa):
    """Her right of access holds after she withdrew every consent; after an erasure her
    copy says what stays (code, trainings, placements) and that her identity is gone."""
    from tracker.participants.consent import withdraw_consent
    from tracker.participants.services import erase

    person, *_rest, users = awa
    for consent in person.consents:
        withdraw_consent(consent, on=date(2016, 1, 1))
    db.session.commit()
    _as(client, users["admin"])
    document = json.loads(_copy(client, person).data)
    assert {c["status"] for c in document["consents"]} == {"withdrawn"}
    assert document["person"]["given_name"] == "Awa"

    erase(person)
    db.session.commit()
    document = json.loads(_copy(client, person).data)
    assert document["person"]["erased_at"] is not None
    assert "Diallo" not in json.dumps(document, ensure_ascii=False)
    assert [e["course"]["title"] for e in document["enrolments"]] == ["Pâtisserie"]
    flat = " ".join(_text(_copy(client, person, fmt="pdf").data).split())
    assert "Identity erased on" in flat and person.code in flat


def test_her_copy_lists_the_donor_reports_whose_annex_gave_her_code(client, seeded, make_user):
    """A donor report's annex hands codes to the donor: her copy says which, and who took it."""
    from tracker.models import Participant
    from tracker.reports.services import generate_donor_report

    manager = make_user(Role.MANAGER, [seeded], email="dpo@example.org")
    report = generate_donor_report(
        seeded,
        None,
        None,
        language="en",
        narrative={"context": "Fatou's story, told to the donor"},
        by=manager,
        actor_label=manager.email,
        threshold=5,
    )
    db.session.commit()
    annex = report.annex_content.decode("utf-8-sig")
    listed = set(re.findall(r"IDF-MA-2014-\d{4}", annex))
    codes = set(db.session.scalars(select(Participant.code)))
    left_out = sorted(codes - listed)
    assert listed and left_out, "the annex lists the trained and placed, not everybody"
    _as(client, manager)
    taken = client.get(f"/reports/generated/{report.id}-annex.csv")
    assert taken.status_code == 200

    def files_of(code):
        person = db.session.scalar(select(Participant).where(Participant.code == code))
        return json.loads(_copy(client, person).data)["exports"]

    held = files_of(sorted(listed)[0])
    about_report = [f for f in held if f["record"] == "generated_report"]
    # its making, then the download of its annex by the manager
    assert [f["action"] for f in about_report] == ["create", "view"], held
    assert all(f["held_her"] is True for f in about_report)
    assert about_report[1]["by"] == "dpo@example.org (Programme manager)"
    assert not any("may have held you" in " ".join(f["details"]) for f in about_report)
    # what the report was, not what else it holds: no narrative, no figures
    assert about_report[0]["changes"]["period_start"] == [None, "2014-06-01"]
    assert "Fatou" not in json.dumps(held) and "figures" not in about_report[0]["changes"]
    assert not any(f["record"] == "generated_report" for f in files_of(left_out[0]))
