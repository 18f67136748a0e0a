"""Activities on the web: list, read, record, edit, attendance of partner institutions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Activity, ActivityAttendance, ActivityKind, AuditEvent, PartnerKind, Role


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English: the messages asserted below are the msgids."""
    client.post("/auth/language/en")


@pytest.fixture
def elsewhere(make_user, other_project):
    """A manager of another project: activities of IDF-MA-2014 do not exist for her."""
    return make_user(Role.MANAGER, [other_project], email="elsewhere@example.org")


@pytest.fixture
def ofppt(make_partner):
    return make_partner("Office de la Formation Professionnelle", acronym="OFPPT")


@pytest.fixture
def anapec(make_partner):
    return make_partner(
        "Agence Nationale de Promotion de l'Emploi",
        PartnerKind.EMPLOYMENT_SERVICE,
        acronym="ANAPEC",
    )


@pytest.fixture
def workshop(project, make_activity, ofppt, anapec):
    activity = make_activity(
        project, ActivityKind.AWARENESS_WORKSHOP, date(2015, 2, 10), partners=[ofppt, anapec]
    )
    activity.other_women, activity.other_men = 14, 4
    db.session.flush()
    return activity


def form_data(project=None, **overrides):
    data = {
        "kind": "capacity_building",
        "title": "Renforcement des capacités en interculturalité",
        "topic": "Interculturalité",
        "held_on": "2015-03-17",
        "city": "Rabat",
        "description": "Session 1 : communication interculturelle.",
        "other_women": "3",
        "other_men": "2",
    }
    if project is not None:
        data["project_id"] = str(project.id)
    data.update(overrides)
    return data


class TestList:
    def test_columns_and_counts(self, client, login, manager, workshop):
        login(manager)
        page = client.get("/activities/").get_data(as_text=True)
        assert workshop.title in page
        # 2 partners, 2 staff each (make_activity), 14 women and 4 men in their own columns
        row = page[page.index(workshop.title) :]
        row = row[: row.index("</tr>")]
        cells = [c.split("<")[0] for c in row.split('class="num')[1:]]
        assert [c.split(">", 1)[1].strip() for c in cells] == ["2", "4", "14", "4"]
        # the totals never add staff and unregistered attendees together
        assert "22" not in row
        assert "partner staff: 4" in page
        assert "other attendees: 14 women, 4 men" in page

    @pytest.mark.parametrize("role", [Role.VIEWER, Role.OFFICER, Role.MANAGER])
    def test_only_the_users_projects(
        self, client, login, make_user, project, other_project, make_activity, role
    ):
        mine = make_activity(project)
        theirs = make_activity(other_project)
        login(make_user(role, [project]))
        page = client.get("/activities/").get_data(as_text=True)
        assert mine.title in page
        assert theirs.title not in page
        assert ('href="/activities/new"' in page) is (role is Role.MANAGER)

    def test_filters(self, client, login, make_user, project, other_project, make_activity):
        a = make_activity(project, ActivityKind.CAPACITY_BUILDING, date(2015, 3, 1))
        b = make_activity(project, ActivityKind.AWARENESS_WORKSHOP, date(2015, 5, 1))
        c = make_activity(project, ActivityKind.EVENT, date(2016, 5, 1))
        d = make_activity(other_project, ActivityKind.EVENT, date(2016, 6, 1))
        login(make_user(Role.ADMIN))

        def titles(**args):
            page = client.get("/activities/", query_string=args).get_data(as_text=True)
            return {x.title for x in (a, b, c, d) if f">{x.title}</a>" in page}

        assert titles() == {a.title, b.title, c.title, d.title}
        assert titles(year="2015") == {a.title, b.title}
        assert titles(kind="event") == {c.title, d.title}
        assert titles(project=str(project.id), kind="event") == {c.title}
        assert titles(project=str(project.id), year="2016") == {c.title}


class TestDetail:
    @pytest.mark.parametrize("role", [Role.VIEWER, Role.OFFICER, Role.MANAGER, Role.ADMIN])
    def test_every_role_of_the_project_reads_it(
        self, client, login, make_user, project, workshop, role
    ):
        login(make_user(role, [project]))
        response = client.get(f"/activities/{workshop.id}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "<strong>OFPPT</strong>" in page
        assert "Office de la Formation Professionnelle" in page
        assert "<dt>Partner staff</dt><dd>4</dd>" in page
        assert "<dt>Other attendees, women</dt><dd>14</dd>" in page
        may_manage = role in (Role.MANAGER, Role.ADMIN)
        assert ("Add a partner institution" in page) is may_manage
        assert (f"/activities/{workshop.id}/edit" in page) is may_manage

    @pytest.mark.parametrize("role", [Role.VIEWER, Role.OFFICER, Role.MANAGER])
    def test_another_projects_activity_is_404(
        self, client, login, make_user, other_project, workshop, role
    ):
        login(make_user(role, [other_project]))
        assert client.get(f"/activities/{workshop.id}").status_code == 404


class TestNew:
    def test_manager_records_an_activity(self, client, login, manager, project):
        login(manager)
        response = client.post("/activities/new", data=form_data(project))
        activity = db.session.scalar(select(Activity))
        assert response.status_code == 302
        assert response.headers["Location"] == f"/activities/{activity.id}"
        assert activity.kind is ActivityKind.CAPACITY_BUILDING
        assert (activity.other_women, activity.other_men) == (3, 2)
        assert activity.project_id == project.id
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "activity"))
        assert event.actor_id == manager.id

    def test_empty_counts_are_zero(self, client, login, manager, project):
        login(manager)
        client.post("/activities/new", data=form_data(project, other_women="", other_men=""))
        activity = db.session.scalar(select(Activity))
        assert (activity.other_women, activity.other_men) == (0, 0)

    def test_errors_are_shown_next_to_the_field(self, client, login, manager, project):
        login(manager)
        future = (date.today() + timedelta(days=3)).isoformat()
        data = form_data(project, kind="", title="", held_on=future, other_women="-1")
        page = client.post("/activities/new", data=data).get_data(as_text=True)
        assert 'id="kind-error"' in page
        assert "Choose the kind of activity." in page
        assert 'id="title-error"' in page
        assert 'id="held_on-error"' in page
        assert "This date cannot be in the future." in page
        assert 'id="other_women-error"' in page
        assert "Give a number of 0 or more." in page
        assert db.session.scalar(select(func.count(Activity.id))) == 0

    def test_same_title_on_the_same_day_is_refused(self, client, login, manager, project):
        login(manager)
        client.post("/activities/new", data=form_data(project))
        page = client.post("/activities/new", data=form_data(project)).get_data(as_text=True)
        assert 'id="title-error"' in page
        assert "The project already has an activity with this title on this date." in page
        assert db.session.scalar(select(func.count(Activity.id))) == 1

    def test_cannot_record_in_a_project_not_assigned(self, client, login, manager, other_project):
        login(manager)
        response = client.post("/activities/new", data=form_data(other_project))
        assert response.status_code == 200  # not a choice offered: refused by the form
        assert db.session.scalar(select(func.count(Activity.id))) == 0

    @pytest.mark.parametrize("role", [Role.OFFICER, Role.VIEWER])
    def test_others_may_not_record(self, client, login, make_user, project, role):
        login(make_user(role, [project]))
        assert client.get("/activities/new").status_code == 403
        assert client.post("/activities/new", data=form_data(project)).status_code == 403
        assert db.session.scalar(select(func.count(Activity.id))) == 0


class TestEdit:
    def test_manager_edits(self, client, login, manager, workshop):
        login(manager)
        page = client.get(f"/activities/{workshop.id}/edit").get_data(as_text=True)
        assert f'value="{workshop.title}"' in page
        data = form_data(title="Atelier de sensibilisation", expected_version=workshop.version)
        response = client.post(f"/activities/{workshop.id}/edit", data=data)
        assert response.status_code == 302
        assert workshop.title == "Atelier de sensibilisation"
        assert workshop.kind is ActivityKind.CAPACITY_BUILDING
        assert (workshop.other_women, workshop.other_men) == (3, 2)

    def test_stale_form_gets_the_conflict_page(self, client, login, manager, workshop):
        login(manager)
        seen = workshop.version
        workshop.city = "Casablanca"
        db.session.commit()
        data = form_data(title=workshop.title, city="Tanger", expected_version=seen)
        response = client.post(f"/activities/{workshop.id}/edit", data=data)
        assert response.status_code == 409
        assert "Tanger" in response.get_data(as_text=True)
        assert workshop.city == "Casablanca"

    def test_errors_are_shown_next_to_the_field(self, client, login, manager, workshop):
        login(manager)
        data = form_data(title="", other_men="x", expected_version=workshop.version)
        page = client.post(f"/activities/{workshop.id}/edit", data=data).get_data(as_text=True)
        assert 'id="title-error"' in page
        assert 'id="other_men-error"' in page

    def test_another_projects_activity_is_404(self, client, login, elsewhere, workshop):
        login(elsewhere)
        assert client.get(f"/activities/{workshop.id}/edit").status_code == 404
        data = form_data(expected_version=workshop.version)
        assert client.post(f"/activities/{workshop.id}/edit", data=data).status_code == 404

    @pytest.mark.parametrize("role", [Role.OFFICER, Role.VIEWER])
    def test_others_may_not_edit(self, client, login, make_user, project, workshop, role):
        login(make_user(role, [project]))
        assert client.get(f"/activities/{workshop.id}/edit").status_code == 403
        data = form_data(expected_version=workshop.version)
        assert client.post(f"/activities/{workshop.id}/edit", data=data).status_code == 403


class TestAttendance:
    def test_manager_adds_a_partner(self, client, login, manager, project, make_activity, ofppt):
        activity = make_activity(project)
        login(manager)
        response = client.post(
            f"/activities/{activity.id}/attendance", data={"partner": ofppt.id, "staff_count": 5}
        )
        assert response.status_code == 302
        (attendance,) = activity.attendances
        assert (attendance.partner_id, attendance.staff_count) == (ofppt.id, 5)

    def test_zero_staff_is_allowed(self, client, login, manager, project, make_activity, ofppt):
        activity = make_activity(project)
        login(manager)
        client.post(
            f"/activities/{activity.id}/attendance", data={"partner": ofppt.id, "staff_count": 0}
        )
        assert activity.attendances[0].staff_count == 0

    def test_a_partner_already_attending_is_refused(self, client, login, manager, workshop, ofppt):
        login(manager)
        page = client.post(
            f"/activities/{workshop.id}/attendance", data={"partner": ofppt.id, "staff_count": 1}
        ).get_data(as_text=True)
        assert 'id="partner-error"' in page
        assert "This partner is already recorded as attending." in page
        assert len(workshop.attendances) == 2

    def test_errors_are_shown_next_to_the_field(
        self, client, login, manager, project, make_activity, ofppt
    ):
        activity = make_activity(project)
        login(manager)
        url = f"/activities/{activity.id}/attendance"
        page = client.post(url, data={"partner": "", "staff_count": "-2"}).get_data(as_text=True)
        assert 'id="partner-error"' in page
        assert "Choose a partner." in page
        assert 'id="staff_count-error"' in page
        page = client.post(url, data={"partner": "9999", "staff_count": "1"}).get_data(as_text=True)
        assert "Choose a partner from the list." in page
        assert activity.attendances == []

    def test_manager_removes_a_partner(self, client, login, manager, workshop, ofppt):
        login(manager)
        attendance = next(a for a in workshop.attendances if a.partner_id == ofppt.id)
        response = client.post(f"/activities/{workshop.id}/attendance/{attendance.id}/remove")
        assert response.status_code == 302
        assert [a.partner_id for a in workshop.attendances] != [ofppt.id]
        assert len(workshop.attendances) == 1
        assert db.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.entity == "activity_attendance", AuditEvent.action == "delete"
            )
        )

    def test_attendance_of_another_activity_is_404(
        self, client, login, manager, project, workshop, make_activity
    ):
        other = make_activity(project)
        attendance = workshop.attendances[0]
        login(manager)
        url = f"/activities/{other.id}/attendance/{attendance.id}/remove"
        assert client.post(url).status_code == 404
        assert len(workshop.attendances) == 2

    def test_another_projects_activity_is_404(self, client, login, elsewhere, workshop, ofppt):
        login(elsewhere)
        url = f"/activities/{workshop.id}/attendance"
        assert client.post(url, data={"partner": ofppt.id, "staff_count": 1}).status_code == 404
        attendance = workshop.attendances[0]
        url = f"/activities/{workshop.id}/attendance/{attendance.id}/remove"
        assert client.post(url).status_code == 404
        assert len(workshop.attendances) == 2

    @pytest.mark.parametrize("role", [Role.OFFICER, Role.VIEWER])
    def test_others_may_not_change_attendance(
        self, client, login, make_user, project, workshop, make_partner, role
    ):
        partner = make_partner("Entraide Nationale", PartnerKind.GOVERNMENT)
        login(make_user(role, [project]))
        url = f"/activities/{workshop.id}/attendance"
        assert client.post(url, data={"partner": partner.id, "staff_count": 1}).status_code == 403
        attendance = workshop.attendances[0]
        url = f"/activities/{workshop.id}/attendance/{attendance.id}/remove"
        assert client.post(url).status_code == 403
        assert db.session.scalar(select(func.count(ActivityAttendance.id))) == 2


class TestDeleteAndArchive:
    @pytest.fixture
    def manager(self, make_user, project):
        return make_user(Role.MANAGER, [project], email="manager@example.org")

    def test_an_activity_nobody_attended_is_deleted_and_audited(
        self, client, login, manager, project, make_activity
    ):
        activity = make_activity(project)
        db.session.commit()
        login(manager)
        page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
        assert "Nothing refers to it: it can be deleted" in page
        activity_id, title = activity.id, activity.title
        response = client.post(f"/activities/{activity_id}/delete")
        assert response.headers["Location"] == "/activities/"
        assert db.session.get(Activity, activity_id) is None
        assert db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.entity == "activity",
                AuditEvent.entity_id == activity_id,
                AuditEvent.action == "delete",
            )
        )
        assert f"The activity “{title}” is deleted." in client.get("/activities/").get_data(
            as_text=True
        )

    def test_an_attended_activity_is_archived_with_the_reason_and_keeps_counting(
        self, client, login, manager, workshop
    ):
        from tracker.activities.services import activity_references

        with force_locale("en"):
            references = activity_references(workshop)
        assert references == [
            "2 partner institutions are recorded as attending.",
            "18 other attendees are counted in it.",
        ]
        db.session.commit()
        login(manager)
        page = client.get(f"/activities/{workshop.id}").get_data(as_text=True)
        assert "2 partner institutions are recorded as attending." in page
        assert f'action="/activities/{workshop.id}/delete"' not in page
        page = client.post(f"/activities/{workshop.id}/delete", follow_redirects=True).get_data(
            as_text=True
        )
        assert "The activity cannot be deleted: archive it instead." in page
        assert db.session.scalar(select(func.count(ActivityAttendance.id))) == 2
        page = client.post(f"/activities/{workshop.id}/archive", follow_redirects=True).get_data(
            as_text=True
        )
        assert "is archived: it still counts in the figures" in page
        listed = client.get("/activities/").get_data(as_text=True)
        assert workshop.title not in listed
        assert "1 archived activity is not listed: it still counts in the figures." in listed
        listed = client.get("/activities/?archived=include").get_data(as_text=True)
        assert workshop.title in listed and "archived</span>" in listed
        page = client.post(f"/activities/{workshop.id}/unarchive", follow_redirects=True)
        assert "is back in the list" in page.get_data(as_text=True)
        assert workshop.title in client.get("/activities/").get_data(as_text=True)

    def test_an_archived_partner_cannot_be_added_to_an_attendance(
        self, client, login, manager, project, make_activity, make_partner
    ):
        from tracker.partners.services import archive_partner

        activity = make_activity(project)
        closed = make_partner("Association fermée", PartnerKind.NGO)
        archive_partner(closed)
        db.session.commit()
        login(manager)
        page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
        assert "Association fermée" not in page
        page = client.post(
            f"/activities/{activity.id}/attendance",
            data={"partner": str(closed.id), "staff_count": "2"},
        ).get_data(as_text=True)
        assert "This partner is archived" in page
        assert db.session.scalar(select(func.count(ActivityAttendance.id))) == 0

    def test_others_may_not_delete_or_archive(
        self, client, login, make_user, project, elsewhere, make_activity
    ):
        activity = make_activity(project)
        db.session.commit()
        login(make_user(Role.OFFICER, [project], email="officer@example.org"))
        page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
        assert "/delete" not in page and "/archive" not in page
        for action in ("delete", "archive", "unarchive"):
            assert client.post(f"/activities/{activity.id}/{action}").status_code == 403
        client.post("/auth/logout")
        login(elsewhere)
        for action in ("delete", "archive", "unarchive"):
            assert client.post(f"/activities/{activity.id}/{action}").status_code == 404
        assert db.session.get(Activity, activity.id).archived_at is None
