"""Partners on the web: list and search, the partner's page, record and edit."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import AuditEvent, Partner, PartnerKind, PlacementKind, Role
from tracker.placements.services import record_placement


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English: the messages asserted below are the msgids."""
    client.post("/auth/language/en")


def form_data(**overrides):
    data = {
        "name": "Agence Nationale de Promotion de l'Emploi et des Compétences",
        "acronym": "ANAPEC",
        "kind": "employment_service",
        "city": "Casablanca",
        "country": "MAR",
        "contact_name": "Mme Bennani",
        "contact_email": "focal@anapec.example.org",
        "contact_phone": "+212 522 00 00 00",
    }
    data.update(overrides)
    return data


class TestList:
    @pytest.fixture
    def partners(self, make_partner):
        return [
            make_partner("Entraide Nationale", PartnerKind.GOVERNMENT),
            make_partner(
                "Office de la Formation Professionnelle et de la Promotion du Travail",
                PartnerKind.TRAINING_PROVIDER,
                acronym="OFPPT",
            ),
            make_partner("École Hôtelière de Rabat", PartnerKind.TRAINING_PROVIDER),
            make_partner("Traiteur Mille et Une Semoules", PartnerKind.EMPLOYER),
        ]

    @pytest.mark.parametrize("role", [Role.VIEWER, Role.OFFICER, Role.MANAGER, Role.ADMIN])
    def test_every_role_reads_the_list(self, client, login, make_user, project, partners, role):
        login(make_user(role, [project]))
        page = client.get("/partners/").get_data(as_text=True)
        assert "Entraide Nationale" in page
        assert "4 partners" in page
        may_create = role in (Role.MANAGER, Role.ADMIN)
        assert ('href="/partners/new"' in page) is may_create

    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("entraide", ["Entraide Nationale"]),
            ("ENTRAIDE nationale", ["Entraide Nationale"]),
            ("ecole hoteliere", ["École Hôtelière de Rabat"]),
            ("ofppt", ["OFPPT"]),
            ("formation travail", ["OFPPT"]),
            ("nobody", []),
        ],
    )
    def test_search_ignores_accents_and_case(self, client, login, viewer, partners, q, expected):
        login(viewer)
        page = client.get("/partners/", query_string={"q": q}).get_data(as_text=True)
        names = ["Entraide Nationale", "OFPPT", "École Hôtelière de Rabat", "Traiteur Mille"]
        for name in names:
            assert (name in page) is (name in expected), name
        if not expected:
            assert "No partner matches this search." in page

    def test_filter_by_kind(self, client, login, viewer, partners):
        login(viewer)
        page = client.get("/partners/", query_string={"kind": "training_provider"}).get_data(
            as_text=True
        )
        assert "OFPPT" in page
        assert "École Hôtelière de Rabat" in page
        assert "Entraide Nationale" not in page
        assert "2 partners" in page


class TestDetail:
    @pytest.fixture
    def story(
        self, project, other_project, make_partner, make_course, make_activity, make_participant
    ):
        """OFPPT in two projects: only what happened in the viewer's project may show."""
        ofppt = make_partner(
            "Office de la Formation Professionnelle",
            PartnerKind.TRAINING_PROVIDER,
            acronym="OFPPT",
            contact_name="Mme Alaoui",
            contact_email="alaoui@ofppt.example.org",
            contact_phone="+212 522 11 11 11",
        )
        make_course(project, provider=ofppt, title="Cuisine et restauration")
        make_course(other_project, provider=ofppt, title="Course of the other project")
        make_activity(project, held_on=date(2015, 6, 1), partners=[ofppt])
        make_activity(other_project, held_on=date(2015, 7, 1), partners=[ofppt])
        for n, p in enumerate((project, project, other_project)):
            person = make_participant(p, given_name=f"Awa{n}")
            record_placement(
                person,
                kind=PlacementKind.EMPLOYMENT,
                sector="Restauration",
                start_date=date(2015, 8, 1),
                employer=ofppt,
            )
        person = make_participant(project, given_name="Fatou")
        record_placement(
            person,
            kind=PlacementKind.IGA,
            sector="Couture",
            start_date=date(2015, 8, 1),
            business_name="Atelier Fatou",
            referral_partner=ofppt,
        )
        return ofppt

    def test_shows_what_the_partner_did_in_the_users_projects(self, client, login, manager, story):
        login(manager)
        page = client.get(f"/partners/{story.id}").get_data(as_text=True)
        assert "Cuisine et restauration" in page
        assert "Course of the other project" not in page
        assert "Activity 1" in page
        assert "Activity 2" not in page
        # two placements with OFPPT as employer in the manager's project, one in the other
        assert "<dt>As employer</dt><dd>2</dd>" in page
        assert "<dt>As referring partner</dt><dd>1</dd>" in page
        assert "alaoui@ofppt.example.org" in page

    def test_admin_sees_every_project(self, client, login, make_user, story):
        login(make_user(Role.ADMIN))
        page = client.get(f"/partners/{story.id}").get_data(as_text=True)
        assert "Course of the other project" in page
        assert "<dt>As employer</dt><dd>3</dd>" in page

    def test_viewer_sees_counts_and_no_names(self, client, login, viewer, story):
        login(viewer)
        response = client.get(f"/partners/{story.id}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "<dt>As employer</dt><dd>2</dd>" in page
        for personal in ("Awa0", "Atelier Fatou", "Mme Alaoui", "alaoui@ofppt", "522 11 11 11"):
            assert personal not in page

    def test_missing_partner_is_404(self, client, login, viewer):
        login(viewer)
        assert client.get("/partners/999").status_code == 404


class TestNew:
    def test_manager_records_a_partner(self, client, login, manager):
        login(manager)
        response = client.post("/partners/new", data=form_data())
        partner = db.session.scalar(select(Partner))
        assert response.status_code == 302
        assert response.headers["Location"] == f"/partners/{partner.id}"
        assert partner.acronym == "ANAPEC"
        assert partner.kind is PartnerKind.EMPLOYMENT_SERVICE
        assert partner.contact_email == "focal@anapec.example.org"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "partner"))
        assert (event.action, event.actor_id) == ("create", manager.id)

    def test_errors_are_shown_next_to_the_field(self, client, login, manager):
        login(manager)
        data = form_data(name="", kind="", contact_email="not-an-email", contact_phone="abc")
        page = client.post("/partners/new", data=data).get_data(as_text=True)
        assert 'id="name-error"' in page
        assert 'id="kind-error"' in page
        assert "Choose the kind of institution." in page
        assert 'id="contact_email-error"' in page
        assert 'id="contact_phone-error"' in page
        assert db.session.scalar(select(func.count(Partner.id))) == 0

    def test_name_must_be_unique_whatever_the_accents(self, client, login, manager, make_partner):
        make_partner("Entraide Nationale", PartnerKind.GOVERNMENT)
        login(manager)
        data = form_data(name="  ENTRAIDE nationalé ", acronym="")
        page = client.post("/partners/new", data=data).get_data(as_text=True)
        assert 'id="name-error"' in page
        assert "A partner named “Entraide Nationale” is already recorded." in page
        assert db.session.scalar(select(func.count(Partner.id))) == 1

    def test_acronym_must_be_unique(self, client, login, manager, make_partner):
        make_partner("Agence de l'emploi", PartnerKind.EMPLOYMENT_SERVICE, acronym="ANAPEC")
        login(manager)
        page = client.post("/partners/new", data=form_data(acronym="anapec")).get_data(as_text=True)
        assert 'id="acronym-error"' in page
        assert "The acronym ANAPEC is already used by “Agence de l&#39;emploi”." in page

    @pytest.mark.parametrize("role", [Role.OFFICER, Role.VIEWER])
    def test_others_may_not_record(self, client, login, make_user, project, role):
        login(make_user(role, [project]))
        assert client.get("/partners/new").status_code == 403
        assert client.post("/partners/new", data=form_data()).status_code == 403
        assert db.session.scalar(select(func.count(Partner.id))) == 0


class TestEdit:
    @pytest.fixture
    def partner(self, make_partner):
        return make_partner("Fondation Orient-Occident", PartnerKind.NGO, city="Rabat")

    def test_manager_edits(self, client, login, manager, partner):
        login(manager)
        page = client.get(f"/partners/{partner.id}/edit").get_data(as_text=True)
        assert 'value="Fondation Orient-Occident"' in page
        assert f'name="expected_version" type="hidden" value="{partner.version}"' in page
        data = form_data(
            name="Fondation Orient-Occident",
            acronym="FOO",
            kind="foundation",
            expected_version=partner.version,
        )
        response = client.post(f"/partners/{partner.id}/edit", data=data)
        assert response.status_code == 302
        assert partner.acronym == "FOO"
        assert partner.kind is PartnerKind.FOUNDATION
        assert partner.version == 2

    def test_stale_form_gets_the_conflict_page(self, client, login, manager, partner):
        login(manager)
        seen = partner.version
        partner.city = "Casablanca"  # someone else saves first
        db.session.commit()
        data = form_data(name=partner.name, kind="ngo", city="Tanger", expected_version=seen)
        response = client.post(f"/partners/{partner.id}/edit", data=data)
        assert response.status_code == 409
        page = response.get_data(as_text=True)
        assert "Casablanca" in page and "Tanger" in page
        assert partner.city == "Casablanca"

    def test_renaming_onto_another_partner_is_refused(
        self, client, login, manager, partner, make_partner
    ):
        make_partner("Entraide Nationale", PartnerKind.GOVERNMENT)
        login(manager)
        data = form_data(name="Entraide nationale", acronym="", expected_version=partner.version)
        page = client.post(f"/partners/{partner.id}/edit", data=data).get_data(as_text=True)
        assert 'id="name-error"' in page
        assert partner.name == "Fondation Orient-Occident"

    @pytest.mark.parametrize("role", [Role.OFFICER, Role.VIEWER])
    def test_others_may_not_edit(self, client, login, make_user, project, partner, role):
        login(make_user(role, [project]))
        assert client.get(f"/partners/{partner.id}/edit").status_code == 403
        data = form_data(expected_version=partner.version)
        assert client.post(f"/partners/{partner.id}/edit", data=data).status_code == 403
        assert partner.name == "Fondation Orient-Occident"

    def test_missing_partner_is_404(self, client, login, manager):
        login(manager)
        assert client.get("/partners/999/edit").status_code == 404


class TestDeleteAndArchive:
    @pytest.fixture
    def admin(self, make_user):
        return make_user(Role.ADMIN, [], email="admin@example.org")

    def test_references_count_every_kind_of_link(
        self, project, make_partner, make_course, make_activity, make_participant
    ):
        from tracker.models import ConsentPurpose
        from tracker.participants.consent import record_consent
        from tracker.partners.services import partner_references

        partner = make_partner("Entraide Nationale", PartnerKind.GOVERNMENT)
        assert partner_references(partner) == []
        make_course(project, provider=partner)
        make_course(project, provider=partner)
        make_activity(project, partners=[partner])
        employed, referred = make_participant(project), make_participant(project)
        record_placement(
            employed,
            kind=PlacementKind.EMPLOYMENT,
            sector="Restauration",
            start_date=date(2015, 8, 1),
            employer=partner,
        )
        record_placement(
            referred,
            kind=PlacementKind.IGA,
            sector="Couture",
            start_date=date(2015, 8, 1),
            business_name="Atelier",
            referral_partner=partner,
        )
        record_consent(
            referred, ConsentPurpose.PARTNER_SHARING, given_on=date(2015, 1, 1), partner=partner
        )
        with force_locale("en"):
            references = partner_references(partner)
        assert references == [
            "2 courses are given by this partner.",
            "1 placement names it as employer.",
            "1 placement names it as referring partner.",
            "It attended 1 activity.",
            "1 consent to share data names it.",
        ]

    def test_an_unused_partner_is_deleted_and_audited(self, client, login, admin, make_partner):
        partner = make_partner("Association fermée", PartnerKind.NGO)
        db.session.commit()
        login(admin)
        page = client.get(f"/partners/{partner.id}").get_data(as_text=True)
        assert "Nothing refers to it: it can be deleted" in page
        partner_id = partner.id
        response = client.post(f"/partners/{partner_id}/delete")
        assert response.headers["Location"] == "/partners/"
        assert db.session.get(Partner, partner_id) is None
        assert db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.entity == "partner",
                AuditEvent.entity_id == partner_id,
                AuditEvent.action == "delete",
            )
        )
        assert "“Association fermée” is deleted." in client.get("/partners/").get_data(as_text=True)

    def test_a_used_partner_is_archived_with_the_reason_shown(
        self, client, login, admin, project, make_partner, make_course, make_activity
    ):
        partner = make_partner("Office de la Formation", acronym="OFPPT")
        make_course(project, provider=partner)
        activity = make_activity(project, partners=[])
        db.session.commit()
        login(admin)
        page = client.get(f"/partners/{partner.id}").get_data(as_text=True)
        assert "1 course is given by this partner." in page
        assert f'action="/partners/{partner.id}/delete"' not in page
        page = client.post(f"/partners/{partner.id}/delete", follow_redirects=True).get_data(
            as_text=True
        )
        assert "The partner cannot be deleted: archive it instead." in page
        assert db.session.get(Partner, partner.id) is not None
        page = client.post(f"/partners/{partner.id}/archive", follow_redirects=True).get_data(
            as_text=True
        )
        assert "is archived: it still counts in the figures" in page
        # out of the default list, back with the filter
        listed = client.get("/partners/").get_data(as_text=True)
        assert "OFPPT" not in listed
        listed = client.get("/partners/?archived=include").get_data(as_text=True)
        assert "OFPPT" in listed and "archived</span>" in listed
        # out of the pick lists: an activity's attendance, a new course
        detail = client.get(f"/activities/{activity.id}").get_data(as_text=True)
        assert 'id="partner"' in detail and "OFPPT" not in detail
        new_course = client.get("/trainings/new").get_data(as_text=True)
        assert 'id="provider_id"' in new_course and "OFPPT" not in new_course
        page = client.post(f"/partners/{partner.id}/unarchive", follow_redirects=True).get_data(
            as_text=True
        )
        assert "is back in the lists" in page
        assert "OFPPT" in client.get("/partners/").get_data(as_text=True)

    def test_the_placement_form_leaves_out_archived_partners_but_keeps_the_chosen_one(
        self, client, login, make_user, project, make_partner, make_participant
    ):
        from tracker.partners.services import archive_partner

        employer = make_partner("Hôtel du Port", PartnerKind.EMPLOYER)
        closed = make_partner("Traiteur fermé", PartnerKind.EMPLOYER)
        person = make_participant(project)
        placement = record_placement(
            person,
            kind=PlacementKind.EMPLOYMENT,
            sector="Restauration",
            start_date=date(2015, 8, 1),
            employer=employer,
        )
        archive_partner(employer)
        archive_partner(closed)
        db.session.commit()
        login(make_user(Role.OFFICER, [project], email="officer@example.org"))
        new = client.get(f"/placements/new/{person.id}").get_data(as_text=True)
        assert "Hôtel du Port" not in new and "Traiteur fermé" not in new
        edit = client.get(f"/placements/{placement.id}/edit").get_data(as_text=True)
        assert "Hôtel du Port" in edit and "Traiteur fermé" not in edit

    @pytest.mark.parametrize("role", [Role.VIEWER, Role.OFFICER, Role.MANAGER])
    def test_only_administrators_delete_or_archive(
        self, client, login, make_user, project, make_partner, role
    ):
        partner = make_partner("Association", PartnerKind.NGO)
        db.session.commit()
        login(make_user(role, [project]))
        page = client.get(f"/partners/{partner.id}").get_data(as_text=True)
        assert "/delete" not in page and "/archive" not in page
        for action in ("delete", "archive", "unarchive"):
            assert client.post(f"/partners/{partner.id}/{action}").status_code == 403
        assert db.session.get(Partner, partner.id).archived_at is None
