"""Names in Arabic script (issue 15): search and duplicates across Arabic and Latin letters,
a name kept in both scripts, each shown in its direction."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.test_participants_web import form_data
from tracker.audit import MASK
from tracker.extensions import db
from tracker.models import AuditEvent, Participant, Role
from tracker.participants import duplicates
from tracker.text import name_similarity, search_fields


@pytest.fixture
def project(make_project):
    return make_project("IDF-MA-2014", start=date(2014, 6, 1), end=date(2016, 12, 31))


@pytest.fixture
def officer(make_user, project):
    return make_user(Role.OFFICER, [project], email="officer@example.org")


def codes_found(client, q: str) -> set[str]:
    page = client.get("/participants/", query_string={"q": q}).get_data(as_text=True)
    return set(re.findall(r"IDF-MA-2014-\d{4}", page))


@pytest.fixture
def people(project, make_participant):
    db.session.commit()
    made = {
        "arabic": make_participant(project, given_name="محمد", family_name="العلوي"),
        "latin": make_participant(project, given_name="Mohamed", family_name="Alaoui"),
        "other": make_participant(project, given_name="Youssef", family_name="Benali"),
        "aicha": make_participant(project, given_name="Aïcha", family_name="Diallo"),
    }
    db.session.commit()
    return {key: person.code for key, person in made.items()}


@pytest.mark.parametrize("spelling", ["Mohamed", "Mohammed", "Muhammad", "mohamed"])
def test_a_latin_spelling_finds_the_name_written_in_arabic(
    client, login, officer, people, spelling
):
    login(officer)
    found = codes_found(client, spelling)
    assert people["arabic"] in found
    assert people["other"] not in found


def test_the_arabic_name_finds_its_latin_spellings_and_itself(client, login, officer, people):
    login(officer)
    assert {people["arabic"], people["latin"]} <= codes_found(client, "محمد")
    assert people["other"] not in codes_found(client, "محمد")
    # the family name with or without its article, both words at once
    assert people["latin"] in codes_found(client, "محمد العلوي")
    assert people["arabic"] in codes_found(client, "علوي")
    assert people["aicha"] in codes_found(client, "عائشة")


def test_latin_searches_keep_matching_by_letters(client, login, officer, people):
    login(officer)
    # a part of a word finds by its letters, as before; the sound is for whole words
    assert codes_found(client, "Moha") == {people["latin"]}
    assert codes_found(client, "Benali") == {people["other"]}
    assert codes_found(client, "Aicha Diallo") == {people["aicha"]}


def test_the_duplicate_warning_names_the_match_written_in_the_other_script(
    client, login, officer, project, make_participant
):
    existing = make_participant(
        project,
        given_name="محمد",
        family_name="العلوي",
        date_of_birth=date(1990, 5, 14),
        nationality="MAR",
    )
    db.session.commit()
    login(officer)
    data = form_data(project, given_name="Mohamed", family_name="El Alaoui", nationality="MAR")
    page = client.post("/participants/new", data=data).get_data(as_text=True)
    assert "Cette personne est peut-être déjà inscrite" in page
    assert existing.code in page
    assert "<bdi>محمد العلوي</bdi>" in page
    assert "nom 100 % (lettres arabes et latines)" in page
    assert "même date de naissance" in page
    assert db.session.scalar(select(func.count(Participant.id))) == 1


def test_the_rule_compares_the_name_kept_in_the_other_script(project, make_participant):
    kept = make_participant(
        project,
        given_name="Fatima",
        family_name="Zahra",
        other_name="فاطمة الزهراء",
        date_of_birth=date(1992, 1, 3),
    )
    db.session.commit()
    # typed in Arabic: alike her Arabic name (same script), letter for letter
    arabic = duplicates.Known.of(
        {"given_name": "فاطمة", "family_name": "الزهراء", "date_of_birth": date(1992, 1, 3)}
    )
    found = duplicates.likely_duplicates(arabic)
    assert [c.participant.id for c in found] == [kept.id]
    assert found[0].reasons[0] == "nom 100 %"
    # the rule is symmetric, and another name is no match
    other = duplicates.Known.of(kept)
    assert duplicates.match(arabic, other).why == duplicates.match(other, arabic).why
    stranger = duplicates.Known.of(
        {"given_name": "خديجة", "family_name": "بناني", "date_of_birth": date(1992, 1, 3)}
    )
    assert duplicates.match(stranger, other) is None


@pytest.mark.parametrize(
    ("arabic", "latin"),
    [
        ("محمد", "Mohammed"),
        ("محمد العلوي", "Mohamed El Alaoui"),
        ("فاطمة الزهراء", "Fatima Zahra"),
        ("يوسف", "Youssef"),
        ("خديجة", "Khadija"),
    ],
)
def test_names_in_both_scripts_are_alike(arabic, latin):
    assert name_similarity(arabic, latin) >= duplicates.THRESHOLD
    assert name_similarity(latin, arabic) == name_similarity(arabic, latin)
    assert name_similarity("محمد", "Youssef") < duplicates.THRESHOLD


def test_search_text_marks_the_sound_of_each_word_with_its_script():
    fields = search_fields("Mohamed", "Alaoui", "X-1", None, None, "محمد العلوي")
    assert "~md~" in fields["search_text"] and "=md=" in fields["search_text"]
    assert "mohamed alaoui" in fields["search_text"]


def test_a_participant_carries_her_name_in_both_scripts(client, login, officer, make_user, project):
    login(officer)
    data = form_data(project, given_name="Khadija", family_name="Bennani", other_name="خديجة بناني")
    response = client.post("/participants/new", data=data)
    assert response.status_code == 302
    person = db.session.scalar(select(Participant))
    assert person.other_name == "خديجة بناني"
    page = client.get(f"/participants/{person.id}").get_data(as_text=True)
    # each name in its own direction, the Arabic one marked as Arabic for screen readers
    assert '<bdi dir="ltr">Khadija Bennani</bdi>' in page
    assert '<bdi dir="rtl" lang="ar">خديجة بناني</bdi>' in page
    # found by either name
    assert person.code in codes_found(client, "خديجة")
    assert person.code in codes_found(client, "Bennani")
    # the audit line keeps no personal value
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.entity == "participant").order_by(AuditEvent.id)
    )
    assert event.changes["other_name"][1] == MASK
    # erased with the rest of the identity
    client.post("/auth/logout")
    login(make_user(Role.ADMIN, email="admin@example.org"))
    client.post(f"/participants/{person.id}/erase", data={"confirm_code": person.code})
    db.session.refresh(person)
    assert person.other_name is None
    assert "خديجة" not in person.search_text and "=kdj=" not in person.search_text


def test_the_edit_form_changes_the_name_in_the_other_script(
    client, login, officer, project, make_participant
):
    person = make_participant(project, given_name="Youssef", family_name="Benali")
    db.session.commit()
    login(officer)
    form = client.get(f"/participants/{person.id}/edit").get_data(as_text=True)
    assert 'name="other_name"' in form and 'dir="auto"' in form
    version = re.search(r'name="expected_version"[^>]*value="(\d+)"', form)
    data = form_data(project, given_name="Youssef", family_name="Benali", other_name="يوسف بنعلي")
    data.pop("project_id")
    data["expected_version"] = version.group(1) if version else ""
    response = client.post(f"/participants/{person.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.refresh(person)
    assert person.other_name == "يوسف بنعلي"
    assert person.code in codes_found(client, "بنعلي")


def test_exports_keep_arabic_names_for_excel(client, login, make_user, project, make_participant):
    """CSV in UTF-8 with a byte-order mark (Excel reads it as UTF-8), XLSX natively."""
    import io

    from openpyxl import load_workbook

    make_participant(project, given_name="محمد", family_name="العلوي", phone="+212 600 11 22 33")
    db.session.commit()
    login(make_user(Role.MANAGER, [project], email="manager@example.org"))
    csv_body = client.get(f"/exports/participants.csv?project={project.id}").data
    assert csv_body.startswith(b"\xef\xbb\xbf")
    text = csv_body.decode("utf-8-sig")
    assert "محمد" in text and "العلوي" in text
    xlsx = client.get(f"/exports/participants.xlsx?project={project.id}").data
    sheet = load_workbook(io.BytesIO(xlsx), read_only=True).active
    values = {cell for row in sheet.iter_rows(values_only=True) for cell in row}
    assert {"محمد", "العلوي", "+212 600 11 22 33"} <= values
