"""Participants on the web: register, find, read the case file, edit, archive, erase."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from tracker import indicators
from tracker.extensions import db
from tracker.models import AuditEvent, Participant, PlacementKind, Role
from tracker.placements.services import record_placement
from tracker.trainings.services import complete, enrol


def form_data(project, **overrides):
    data = {
        "project_id": str(project.id),
        "registered_on": "2015-03-02",
        "consent_given": "y",
        "consent_on": "2015-03-02",
        "given_name": "Aïssatou",
        "family_name": "N'Diaye",
        "sex": "F",
        "date_of_birth": "1990-05-14",
        "nationality": "SEN",
        "region": "Rabat-Salé-Kénitra",
        "city": "Rabat",
        "phone": "+212 600 11 22 33",
        "email": "",
        "migration_status": "regularised_2014",
        "education_level": "secondary",
        "languages": "Français, wolof",
    }
    data.update(overrides)
    return data


@pytest.fixture
def project(make_project):
    return make_project("IDF-MA-2014", start=date(2014, 6, 1), end=date(2016, 12, 31))


@pytest.fixture
def officer(make_user, project):
    return make_user(Role.OFFICER, [project], email="officer@example.org")


class TestRegister:
    def test_register_with_consent(self, client, login, officer, project):
        login(officer)
        response = client.post("/participants/new", data=form_data(project))
        assert response.status_code == 302
        person = db.session.scalar(select(Participant))
        assert response.headers["Location"] == f"/participants/{person.id}"
        assert person.code == "IDF-MA-2014-0001"
        assert (person.given_name, person.family_name) == ("Aïssatou", "N'Diaye")
        assert person.registered_by_id == officer.id
        (consent,) = person.consents
        assert consent.given_on == date(2015, 3, 2)
        event = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.entity == "participant", AuditEvent.action == "create"
            )
        )
        assert event.actor_id == officer.id

    def test_consent_is_required(self, client, login, officer, project):
        login(officer)
        data = form_data(project)
        del data["consent_given"]
        page = client.post("/participants/new", data=data).get_data(as_text=True)
        assert "Le consentement est requis pour inscrire une personne." in page
        assert db.session.scalar(select(func.count(Participant.id))) == 0

    def test_errors_are_shown_next_to_the_field(self, client, login, officer, project):
        login(officer)
        data = form_data(project, family_name="", date_of_birth="2999-01-01", email="not-an-email")
        page = client.post("/participants/new", data=data).get_data(as_text=True)
        assert 'id="family_name-error"' in page
        assert 'id="date_of_birth-error"' in page
        assert "Cette date ne peut pas être dans le futur." in page
        assert 'id="email-error"' in page
        assert db.session.scalar(select(func.count(Participant.id))) == 0

    def test_error_summary_links_each_error_to_its_field(self, client, login, officer, project):
        login(officer)
        data = form_data(project, family_name="", date_of_birth="2999-01-01", sex="")
        del data["consent_given"]
        page = client.post("/participants/new", data=data).get_data(as_text=True)
        summary = page[
            page.index('<div class="error-summary"') : page.index(
                "</div>", page.index('<div class="error-summary"')
            )
        ]
        # it opens with the focus (no script) and is read out as an alert
        assert 'role="alert"' in summary and 'tabindex="-1"' in summary and "autofocus" in summary
        assert "4 points à corriger" in summary
        links = dict(re.findall(r'<a href="#([\w-]+)">([^<]+)</a>', summary))
        consent = links.pop("consent_given")
        assert consent.endswith(" : Le consentement est requis pour inscrire une personne.")
        assert links == {
            "family_name": "Nom de famille : Ce champ est requis.",
            # radios: the first option, since their fieldset takes no focus
            "sex-0": "Sexe : Ce champ est requis.",
            "date_of_birth": "Date de naissance : Cette date ne peut pas être dans le futur.",
        }
        for anchor in links:
            assert f'id="{anchor}"' in page  # each link leads to an element of the page
        # a valid form has no summary
        assert 'class="error-summary"' not in client.get("/participants/new").get_data(as_text=True)

    def test_likely_duplicate_is_shown_before_saving(
        self, client, login, officer, project, make_participant
    ):
        existing = make_participant(
            project,
            given_name="Aissatou",
            family_name="Ndiaye",
            date_of_birth=date(1990, 5, 14),
            nationality="SEN",
        )
        login(officer)
        page = client.post("/participants/new", data=form_data(project)).get_data(as_text=True)
        assert "Cette personne est peut-être déjà inscrite" in page
        assert existing.code in page
        assert "même date de naissance" in page
        assert db.session.scalar(select(func.count(Participant.id))) == 1
        # the officer checked: a different person; the second save goes through
        response = client.post("/participants/new", data=form_data(project, not_a_duplicate="y"))
        assert response.status_code == 302
        assert db.session.scalar(select(func.count(Participant.id))) == 2

    def test_cannot_register_into_a_project_not_assigned(
        self, client, login, officer, make_project
    ):
        other = make_project("OTHER")
        login(officer)
        client.post("/participants/new", data=form_data(other))
        assert db.session.scalar(select(func.count(Participant.id))) == 0

    def test_viewer_cannot_register(self, client, login, make_user, project):
        login(make_user(Role.VIEWER, [project]))
        assert client.get("/participants/new").status_code == 403
        assert client.post("/participants/new", data=form_data(project)).status_code == 403


class TestList:
    @pytest.fixture
    def people(self, project, make_participant):
        return [
            make_participant(
                project, given_name="Aïssatou", family_name="Ndiaye", phone="+212 600 11 22 33"
            ),
            make_participant(project, given_name="Fatoumata", family_name="Diallo"),
            make_participant(project, given_name="Chantal", family_name="Mputu", nationality="COD"),
        ]

    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("aissatou", ["Aïssatou"]),
            ("AÏSSATOU ndiaye", ["Aïssatou"]),
            ("n'diaye", ["Aïssatou"]),
            ("0600 11 22 33", ["Aïssatou"]),
            ("+212600112233", ["Aïssatou"]),
            ("IDF-MA-2014-0002", ["Fatoumata"]),
            ("diallo fatoumata", ["Fatoumata"]),
            ("nobody", []),
        ],
    )
    def test_search(self, client, login, officer, people, q, expected):
        login(officer)
        page = client.get("/participants/", query_string={"q": q}).get_data(as_text=True)
        for person in people:
            assert (person.given_name in page) == (person.given_name in expected), person

    def test_filters_and_archived(self, client, login, officer, people):
        login(officer)
        page = client.get("/participants/?nationality=COD").get_data(as_text=True)
        assert "Chantal" in page and "Fatoumata" not in page
        people[1].archived_at = datetime(2016, 1, 1, tzinfo=UTC)
        db.session.commit()
        active = client.get("/participants/").get_data(as_text=True)
        assert "Fatoumata" not in active
        archived = client.get("/participants/?status=archived").get_data(as_text=True)
        assert "Fatoumata" in archived and "Chantal" not in archived

    def test_pagination(self, client, login, officer, project, make_participant):
        for i in range(30):
            make_participant(project, given_name=f"Person{i:02d}")
        login(officer)
        first = client.get("/participants/").get_data(as_text=True)
        second = client.get("/participants/?page=2").get_data(as_text=True)
        assert "Person00" in first and "Person29" not in first
        assert "Person29" in second
        assert "Page 1 sur 2" in first or "Page 1 of 2" in first

    def test_officer_sees_only_own_projects(
        self, client, login, officer, people, make_project, make_participant
    ):
        other = make_project("OTHER")
        stranger = make_participant(other, given_name="Stranger")
        login(officer)
        page = client.get("/participants/?status=all").get_data(as_text=True)
        assert "Stranger" not in page
        assert client.get(f"/participants/{stranger.id}").status_code == 404
        assert client.get(f"/participants/{stranger.id}/edit").status_code == 404
        assert client.post(f"/participants/{stranger.id}/archive").status_code == 404

    def test_viewer_sees_codes_never_names(self, app, client, login, make_user, project, people):
        # small lists are tests/test_small_lists.py's matter: here, every list is shown
        app.config["SMALL_CELL_THRESHOLD"] = 1
        login(make_user(Role.VIEWER, [project]))
        page = client.get("/participants/").get_data(as_text=True)
        assert people[0].code in page
        for person in people:
            assert person.given_name not in page and person.family_name not in page
        # searching by name would tell a viewer who is registered: codes only
        by_name = client.get("/participants/?q=Ndiaye").get_data(as_text=True)
        assert people[0].code not in by_name
        assert client.get(f"/participants/{people[0].id}").status_code == 403


class TestCaseFile:
    def test_timeline_history_and_read_audit(
        self, client, login, officer, project, make_participant, make_course
    ):
        person = make_participant(project, given_name="Mariam")
        course = make_course(project, title="Pâtisserie")
        complete(enrol(person, course, on=date(2015, 1, 20)), on=date(2015, 5, 31))
        record_placement(
            person,
            kind=PlacementKind.IGA,
            sector="Restauration",
            start_date=date(2015, 7, 1),
            business_name="Traiteur Mariam",
        )
        login(officer)
        page = client.get(f"/participants/{person.id}").get_data(as_text=True)
        assert "Pâtisserie" in page and "Terminée" in page
        assert "Traiteur Mariam" in page
        timeline = page[page.index('<ol class="timeline">') :]
        assert timeline.index("Pâtisserie") < timeline.index("Traiteur Mariam")
        assert "Historique de la fiche" in page
        # what she comes to do first: the follow-ups due (the oldest first), enrol, record a job
        actions = page[page.index('<nav class="actions case-actions"') :]
        actions = actions[: actions.index("</nav>")]
        job = person.placements[0]
        due = re.findall(r'href="([^"]+)">Enregistrer le suivi à (\d+) mois', actions)
        assert due == [
            (f"/placements/{job.id}?months={months}#record", str(months)) for months in (3, 6, 12)
        ]
        assert (
            f'href="/trainings/enrol/{person.id}"' in actions
            or "Inscrire à une formation" in actions
        )
        assert "Enregistrer un emploi ou une AGR" in actions
        assert page.index("case-actions") < page.index("<h2>Identité</h2>")
        # archiving is out of the way, after the timeline
        assert "Archiver le dossier" not in actions
        assert page.index("Archiver le dossier") > page.index('<ol class="timeline">')
        read = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "view", AuditEvent.entity_id == person.id)
        )
        assert read.actor_id == officer.id

    def test_sensitive_notes_for_managers_only(
        self, client, login, officer, make_user, project, make_participant
    ):
        person = make_participant(project)
        person.sensitive_notes = "Survivor of violence on the route"
        db.session.commit()
        login(officer)
        assert "Survivor" not in client.get(f"/participants/{person.id}").get_data(as_text=True)
        assert "Survivor" not in client.get(f"/participants/{person.id}/edit").get_data(
            as_text=True
        )
        client.post("/auth/logout")
        login(make_user(Role.MANAGER, [project], email="manager@example.org"))
        assert "Survivor" in client.get(f"/participants/{person.id}").get_data(as_text=True)


class TestEdit:
    def edit_data(self, person, **overrides):
        data = {
            "expected_version": str(person.version),
            "given_name": person.given_name,
            "family_name": person.family_name,
            "sex": person.sex.value,
            "nationality": person.nationality or "",
            "region": "Souss-Massa",
            "phone": person.phone or "",
        }
        data.update(overrides)
        return data

    def test_edit(self, client, login, officer, project, make_participant):
        person = make_participant(project, region="L'Oriental")
        login(officer)
        form = client.get(f"/participants/{person.id}/edit").get_data(as_text=True)
        assert f'name="expected_version" type="hidden" value="{person.version}"' in form
        response = client.post(f"/participants/{person.id}/edit", data=self.edit_data(person))
        assert response.status_code == 302
        db.session.refresh(person)
        assert person.region == "Souss-Massa"

    def test_second_editor_gets_a_conflict_page(
        self, client, login, officer, project, make_participant
    ):
        person = make_participant(project, region="L'Oriental")
        seen = self.edit_data(person)  # both officers opened the form at this version
        person.region = "Fès-Meknès"  # the first one saved
        db.session.commit()
        login(officer)
        response = client.post(f"/participants/{person.id}/edit", data=seen)
        assert response.status_code == 409
        page = response.get_data(as_text=True)
        assert "Fès-Meknès" in page and "Souss-Massa" in page
        db.session.refresh(person)
        assert person.region == "Fès-Meknès"


class TestArchiveAndErase:
    def test_archive_keeps_the_figures(
        self, client, login, officer, project, make_participant, make_course
    ):
        person = make_participant(project)
        complete(enrol(person, make_course(project), on=date(2015, 1, 20)), on=date(2015, 5, 31))
        db.session.commit()
        scope = indicators.Scope((project.id,), project.start_date, project.end_date)
        login(officer)
        assert client.post(f"/participants/{person.id}/archive").status_code == 302
        db.session.refresh(person)
        assert person.archived_at is not None
        assert indicators.count("trained", scope) == 1

    def test_erase_by_admin_keeps_code_and_figures(
        self, client, login, make_user, project, make_participant, make_course
    ):
        person = make_participant(
            project, given_name="Mariam", phone="+212 600 99 88 77", date_of_birth=date(1990, 1, 2)
        )
        complete(enrol(person, make_course(project), on=date(2015, 1, 20)), on=date(2015, 5, 31))
        record_placement(
            person,
            kind=PlacementKind.IGA,
            sector="Couture",
            start_date=date(2015, 7, 1),
            business_name="Couture Mariam",
        )
        db.session.commit()
        scope = indicators.Scope((project.id,), project.start_date, project.end_date)
        before = indicators.headline(scope)
        code = person.code
        login(make_user(Role.ADMIN, email="admin@example.org"))
        refused = client.post(f"/participants/{person.id}/erase", data={"confirm_code": "x"})
        assert refused.status_code == 302
        db.session.refresh(person)
        assert person.erased_at is None
        client.post(f"/participants/{person.id}/erase", data={"confirm_code": code})
        db.session.refresh(person)
        assert person.code == code and person.erased_at is not None
        assert (person.given_name, person.phone, person.date_of_birth) == ("[erased]", None, None)
        assert person.birth_year == 1990
        assert person.placements[0].business_name == "[erased]"
        assert "mariam" not in person.search_text
        assert indicators.headline(scope) == before

    def test_only_admins_erase(self, client, login, make_user, project, make_participant):
        person = make_participant(project)
        login(make_user(Role.MANAGER, [project]))
        response = client.post(
            f"/participants/{person.id}/erase", data={"confirm_code": person.code}
        )
        assert response.status_code == 403
