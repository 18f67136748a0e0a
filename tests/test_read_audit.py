"""Every page that shows personal data leaves an audit line: who saw which records.

Each test opens a page and finds its ``view`` line with the ids of the records
the page showed, and without any personal value (a name, a phone number, the
words searched, even hashed) in it.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import AuditEvent, PartnerKind, PlacementKind
from tracker.placements.services import record_follow_up, record_placement
from tracker.trainings.services import complete, enrol

TODAY = date.today()
NAME = "Zyxwa"
FAMILY = "Qunique"
PHONE = "+212 611 22 33 44"


def views(entity: str) -> list[AuditEvent]:
    """Return the read lines about ``entity``, oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == "view", AuditEvent.entity == entity)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def assert_no_personal_value(event: AuditEvent, *secrets: str) -> None:
    """The line holds ids and filters only: none of ``secrets``, plain, folded or hashed."""
    text = repr(event.changes).lower()
    for secret in (NAME, FAMILY, PHONE, "611 22 33 44", "611223344", *secrets):
        assert secret.lower() not in text, secret
        for variant in (secret, secret.lower()):
            assert hashlib.sha256(variant.encode()).hexdigest() not in text


@pytest.fixture
def person(project, make_participant):
    return make_participant(
        project, given_name=NAME, family_name=FAMILY, phone=PHONE, date_of_birth=date(1990, 5, 4)
    )


@pytest.fixture
def others(project, make_participant):
    return [make_participant(project, given_name=f"Other{n}") for n in range(3)]


# --- Participants ---------------------------------------------------------------------


def test_edit_form_is_a_logged_read(client, signin, officer, person):
    db.session.commit()
    signin(officer)
    assert client.get(f"/participants/{person.id}/edit").status_code == 200
    (line,) = views("participant")
    assert (line.entity_id, line.actor_id) == (person.id, officer.id)
    assert line.changes == {"page": "edit"}


def test_list_logs_the_ids_shown_and_never_the_name_searched(
    client, signin, officer, person, others
):
    db.session.commit()
    signin(officer)
    page = client.get("/participants/", query_string={"q": NAME.lower()}).get_data(as_text=True)
    assert FAMILY in page
    (line,) = views("participants")
    assert line.entity_id is None and line.actor_id == officer.id
    assert line.changes["participant_ids"] == [person.id]
    assert line.changes["results"] == 1
    assert line.changes["search"] == "name"
    assert_no_personal_value(line, NAME.lower())


def test_phone_search_is_logged_without_the_number(client, signin, officer, person, others):
    db.session.commit()
    signin(officer)
    client.get("/participants/", query_string={"q": "0611 22 33 44"})
    (line,) = views("participants")
    assert line.changes["participant_ids"] == [person.id]
    assert line.changes["search"] == "phone"
    assert_no_personal_value(line, "0611 22 33 44")


def test_the_whole_list_logs_every_id_of_the_page(client, signin, officer, person, others):
    db.session.commit()
    signin(officer)
    client.get("/participants/")
    (line,) = views("participants")
    assert sorted(line.changes["participant_ids"]) == sorted([person.id] + [o.id for o in others])
    assert line.changes["results"] == 4 and line.changes["search"] is None


def test_viewer_list_of_codes_is_logged(app, client, signin, viewer, person, others):
    # small lists are tests/test_small_lists.py's matter: here, every list is shown
    app.config["SMALL_CELL_THRESHOLD"] = 1
    db.session.commit()
    signin(viewer)
    page = client.get("/participants/").get_data(as_text=True)
    assert person.code in page and NAME not in page
    (line,) = views("participants")
    assert line.actor_id == viewer.id and person.id in line.changes["participant_ids"]


def test_duplicate_warning_while_registering_is_logged(client, signin, officer, project, person):
    db.session.commit()
    signin(officer)
    data = {
        "project_id": str(project.id),
        "registered_on": TODAY.isoformat(),
        "consent_given": "y",
        "consent_on": TODAY.isoformat(),
        "given_name": NAME,
        "family_name": FAMILY,
        "sex": "F",
        "date_of_birth": "1990-05-04",
    }
    page = client.post("/participants/new", data=data).get_data(as_text=True)
    assert "This person may already be registered" in page and person.code in page
    (line,) = views("participants")
    assert line.changes == {"context": "duplicate_check", "participant_ids": [person.id]}
    assert_no_personal_value(line, "1990-05-04")


def test_duplicate_warning_while_editing_is_logged(client, signin, officer, person, others):
    db.session.commit()
    target = others[0]
    signin(officer)
    data = {
        "given_name": NAME,
        "family_name": FAMILY,
        "sex": "F",
        "date_of_birth": "1990-05-04",
        "expected_version": str(target.version),
    }
    page = client.post(f"/participants/{target.id}/edit", data=data).get_data(as_text=True)
    assert person.code in page
    line = views("participants")[-1]
    assert line.changes["participant_ids"] == [person.id]
    assert db.session.get(type(target), target.id).given_name == "Other0", "nothing saved"


def test_conflict_page_is_a_logged_read(client, signin, officer, person):
    db.session.commit()
    signin(officer)
    data = {"given_name": "Changed", "family_name": FAMILY, "sex": "F", "expected_version": "0"}
    response = client.post(f"/participants/{person.id}/edit", data=data)
    assert response.status_code == 409
    line = views("participant")[-1]
    assert (line.entity_id, line.changes) == (person.id, {"page": "conflict"})


# --- Courses -----------------------------------------------------------------------------


@pytest.fixture
def course(project, make_course, person, others):
    course = make_course(project, start=TODAY - timedelta(days=10), end=TODAY + timedelta(days=20))
    enrol(person, course, on=TODAY - timedelta(days=10))
    return course


def test_course_roster_and_candidates_are_logged(client, signin, officer, course, person, others):
    db.session.commit()
    signin(officer)
    page = client.get(f"/trainings/{course.id}").get_data(as_text=True)
    assert FAMILY in page and "Other0" in page
    (line,) = views("training_course")
    assert (line.entity_id, line.actor_id) == (course.id, officer.id)
    assert line.changes["participant_ids"] == [person.id]
    assert sorted(line.changes["candidate_ids"]) == sorted(o.id for o in others)
    assert_no_personal_value(line)


def test_viewer_roster_of_codes_is_logged(app, client, signin, viewer, course, person):
    # small lists are tests/test_small_lists.py's matter: here, every list is shown
    app.config["SMALL_CELL_THRESHOLD"] = 1
    db.session.commit()
    signin(viewer)
    client.get(f"/trainings/{course.id}")
    (line,) = views("training_course")
    assert line.changes == {"participant_ids": [person.id]}


def test_roster_shown_again_after_a_refused_enrolment_is_logged(
    client, signin, officer, course, person, others
):
    """A POST page: its line is written although the request held the write lock."""
    db.session.commit()
    signin(officer)
    response = client.post(
        f"/trainings/{course.id}/enrol",
        data={"participant_ids": [str(others[0].id)], "enrolled_on": "2000-01-01"},
    )
    assert response.status_code == 200
    (line,) = views("training_course")
    assert line.changes["participant_ids"] == [person.id]
    assert len(course.enrolments) == 1, "nobody enrolled"


# --- Placements ------------------------------------------------------------------------


@pytest.fixture
def job(person, make_partner):
    placement = record_placement(
        person,
        kind=PlacementKind.IGA,
        sector="Couture",
        start_date=date(2015, 8, 31),
        business_name=f"Couture {NAME}",
        monthly_income=2000,
    )
    record_follow_up(
        placement,
        months_after=3,
        followed_on=date(2015, 12, 1),
        still_active=True,
        note="She moved to Tangier",
    )
    return placement


def test_placement_list_is_logged(client, signin, officer, job, person):
    db.session.commit()
    signin(officer)
    page = client.get("/placements/").get_data(as_text=True)
    assert f"Couture {NAME}" in page or FAMILY in page
    (line,) = views("placements")
    assert line.changes["placement_ids"] == [job.id]
    assert line.changes["participant_ids"] == [person.id]
    assert_no_personal_value(line, "Couture")


def test_placement_page_and_forms_are_logged(client, signin, officer, job, person):
    db.session.commit()
    signin(officer)
    client.get(f"/placements/{job.id}")
    client.get(f"/placements/{job.id}/edit")
    shown, edited = views("placement")
    assert (shown.entity_id, shown.changes) == (job.id, {"participant_ids": [person.id]})
    assert (edited.entity_id, edited.changes["page"]) == (job.id, "edit")
    follow_up = job.follow_ups[0]
    client.get(f"/placements/follow-ups/{follow_up.id}/edit")
    (line,) = views("follow_up")
    assert (line.entity_id, line.changes["participant_ids"]) == (follow_up.id, [person.id])
    for event in (shown, edited, line):
        assert_no_personal_value(event, "Tangier", "2000")


# --- Dashboard drill-down --------------------------------------------------------------


def test_viewer_drill_down_logs_the_codes_shown(
    app, client, signin, viewer, project, make_course, person, others
):
    # small lists are tests/test_small_lists.py's matter: here, every list is shown
    app.config["SMALL_CELL_THRESHOLD"] = 1
    course = make_course(project, start=date(2015, 2, 1), end=date(2015, 5, 31))
    complete(enrol(person, course, on=date(2015, 1, 20)), on=date(2015, 5, 31))
    db.session.commit()
    signin(viewer)
    page = client.get("/dashboard/list", query_string={"indicator": "trained"})
    assert person.code in page.get_data(as_text=True)
    (line,) = views("participants")
    assert line.actor_id == viewer.id
    assert line.changes["list"] == "trained"
    assert line.changes["participant_ids"] == [person.id]
    assert line.changes["rows"] == 1
    assert_no_personal_value(line)


def test_institution_drill_down_is_not_a_personal_read(
    client, signin, viewer, project, make_activity, make_partner
):
    make_activity(
        project, held_on=date(2015, 6, 1), partners=[make_partner("Centre", PartnerKind.NGO)]
    )
    db.session.commit()
    signin(viewer)
    response = client.get(
        "/dashboard/list", query_string={"indicator": "institutions_strengthened"}
    )
    assert response.status_code == 200
    assert views("participants") == []
