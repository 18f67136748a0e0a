"""User administration on the web: accounts, roles, projects, deactivation, passwords."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from tests.conftest import PASSWORD
from tracker.extensions import db
from tracker.models import AuditEvent, Role, User

NEW_PASSWORD = "a much longer secret 42"


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English: the messages asserted below are the msgids."""
    client.post("/auth/language/en")


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, email="admin@example.org")


@pytest.fixture
def second_client(app):
    """Another browser, for the person whose account the administrator changes."""
    other = app.test_client()
    other.post("/auth/language/en")
    return other


def sign_in(client, user, password=PASSWORD):
    return client.post("/auth/login", data={"email": user.email, "password": password})


def still_signed_in(client) -> bool:
    response = client.get("/")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/auth/login")
        return False
    assert response.status_code == 200
    return True


def new_data(project, **overrides):
    data = {
        "email": "Khadija.Amrani@Example.org",
        "name": "Khadija Amrani",
        "role": "officer",
        "project_ids": [str(project.id)],
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def edit_data(user, **overrides):
    data = {
        "name": user.name or "Someone",
        "role": user.role.value,
        "project_ids": [str(p.id) for p in user.projects],
        "expected_version": str(user.version),
    }
    data.update(overrides)
    return data


NOT_ADMINS = [Role.MANAGER, Role.OFFICER, Role.VIEWER]


class TestAccess:
    @pytest.mark.parametrize("role", NOT_ADMINS)
    def test_only_administrators(self, client, login, make_user, project, officer, role):
        login(make_user(role, [project], email=f"{role.value}-x@example.org"))
        assert client.get("/admin/users/").status_code == 403
        assert client.get("/admin/users/new").status_code == 403
        assert client.post("/admin/users/new", data=new_data(project)).status_code == 403
        assert client.get(f"/admin/users/{officer.id}/edit").status_code == 403
        data = edit_data(officer, role="admin")
        assert client.post(f"/admin/users/{officer.id}/edit", data=data).status_code == 403
        assert client.post(f"/admin/users/{officer.id}/deactivate").status_code == 403
        assert client.post(f"/admin/users/{officer.id}/activate").status_code == 403
        data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        assert client.post(f"/admin/users/{officer.id}/password", data=data).status_code == 403
        assert officer.role is Role.OFFICER and officer.active
        assert check_password_hash(officer.password_hash, PASSWORD)

    @pytest.mark.parametrize("role", NOT_ADMINS)
    def test_menu_hides_users(self, client, login, make_user, project, role):
        login(make_user(role, [project]))
        assert 'href="/admin/users/"' not in client.get("/").get_data(as_text=True)

    def test_signed_out_goes_to_sign_in(self, client):
        response = client.get("/admin/users/")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login")


class TestList:
    def test_lists_accounts(self, client, login, admin, officer, other_project, make_user):
        gone = make_user(Role.VIEWER, [other_project], email="gone@example.org")
        gone.active = False
        db.session.commit()
        login(admin)
        page = client.get("/admin/users/").get_data(as_text=True)
        assert 'href="/admin/users/"' in page  # in the menu
        assert "officer@example.org" in page and "IDF-MA-2014" in page
        assert "Field officer" in page
        assert "gone@example.org" in page and "deactivated" in page
        assert "3 accounts" in page
        page = client.get("/admin/users/", query_string={"status": "inactive"}).get_data(
            as_text=True
        )
        assert "gone@example.org" in page and "officer@example.org" not in page
        page = client.get("/admin/users/", query_string={"role": "officer"}).get_data(as_text=True)
        assert "officer@example.org" in page and "gone@example.org" not in page


class TestNew:
    def test_admin_creates_an_account(self, client, second_client, login, admin, project):
        login(admin)
        response = client.post("/admin/users/new", data=new_data(project))
        assert response.status_code == 302
        user = db.session.scalar(select(User).where(User.email == "khadija.amrani@example.org"))
        assert user.role is Role.OFFICER
        assert [p.code for p in user.projects] == ["IDF-MA-2014"]
        assert user.name == "Khadija Amrani"
        assert user.active
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.entity == "user", AuditEvent.entity_id == user.id)
        )
        assert event.actor_id == admin.id
        assert event.changes["password_hash"] == [None, "***"]
        # the new person signs in with the password typed twice
        sign_in(second_client, user, NEW_PASSWORD)
        assert still_signed_in(second_client)

    def test_errors_are_shown_next_to_the_field(self, client, login, admin, project):
        login(admin)
        data = new_data(
            project, email="not-an-email", name="", role="", password="short", confirm="other"
        )
        page = client.post("/admin/users/new", data=data).get_data(as_text=True)
        for name in ("email", "name", "role", "password", "confirm"):
            assert f'id="{name}-error"' in page, name
        assert "The password must have at least 12 characters." in page
        assert "The two passwords are not the same." in page
        assert db.session.scalar(select(func.count(User.id))) == 1

    def test_passwords_must_match(self, client, login, admin, project):
        login(admin)
        data = new_data(project, confirm=NEW_PASSWORD + "!")
        page = client.post("/admin/users/new", data=data).get_data(as_text=True)
        assert 'id="confirm-error"' in page
        assert db.session.scalar(select(func.count(User.id))) == 1

    def test_email_must_be_free(self, client, login, admin, officer, project):
        login(admin)
        data = new_data(project, email="OFFICER@example.org")
        page = client.post("/admin/users/new", data=data).get_data(as_text=True)
        assert 'id="email-error"' in page
        assert "A user with this e-mail address already exists." in page

    def test_a_project_is_required_except_for_administrators(self, client, login, admin, project):
        login(admin)
        data = new_data(project, project_ids=[])
        page = client.post("/admin/users/new", data=data).get_data(as_text=True)
        assert 'id="project_ids-error"' in page
        assert "Choose at least one project for this role." in page
        data = new_data(project, project_ids=[], role="admin", email="boss@example.org")
        assert client.post("/admin/users/new", data=data).status_code == 302


class TestEdit:
    def test_admin_changes_role_and_projects_and_ends_sessions(
        self, client, second_client, login, admin, officer, other_project
    ):
        sign_in(second_client, officer)
        assert still_signed_in(second_client)
        login(admin)
        page = client.get(f"/admin/users/{officer.id}/edit").get_data(as_text=True)
        assert 'value="officer"' in page and "checked" in page
        data = edit_data(
            officer, name="Officer Two", role="manager", project_ids=[str(other_project.id)]
        )
        response = client.post(f"/admin/users/{officer.id}/edit", data=data)
        assert response.status_code == 302
        assert officer.role is Role.MANAGER
        assert [p.code for p in officer.projects] == ["OTHER"]
        assert officer.name == "Officer Two"
        assert not still_signed_in(second_client)
        assert still_signed_in(client)

    def test_a_new_name_alone_keeps_sessions(self, client, second_client, login, admin, officer):
        sign_in(second_client, officer)
        login(admin)
        client.post(f"/admin/users/{officer.id}/edit", data=edit_data(officer, name="Renamed"))
        assert officer.name == "Renamed"
        assert still_signed_in(second_client)

    def test_stale_form_gets_the_conflict_page(self, client, login, admin, officer):
        login(admin)
        data = edit_data(officer, name="Mine", role="viewer")
        officer.name = "Theirs"  # another administrator saves first
        db.session.commit()
        response = client.post(f"/admin/users/{officer.id}/edit", data=data)
        assert response.status_code == 409
        page = response.get_data(as_text=True)
        assert "Theirs" in page and "Mine" in page
        assert "M&amp;E / donor viewer" in page
        assert officer.role is Role.OFFICER

    def test_errors_are_shown_next_to_the_field(self, client, login, admin, officer):
        login(admin)
        data = edit_data(officer, name="", project_ids=[])
        page = client.post(f"/admin/users/{officer.id}/edit", data=data).get_data(as_text=True)
        assert 'id="name-error"' in page
        assert 'id="project_ids-error"' in page
        assert [p.code for p in officer.projects] == ["IDF-MA-2014"]

    def test_admin_cannot_change_own_role(self, client, login, admin, project):
        login(admin)
        data = edit_data(admin, name="Admin", role="manager", project_ids=[str(project.id)])
        page = client.post(f"/admin/users/{admin.id}/edit", data=data).get_data(as_text=True)
        assert 'id="role-error"' in page
        assert "You cannot change your own role" in page
        assert admin.role is Role.ADMIN

    def test_admin_changing_own_projects_stays_signed_in(self, client, login, admin, project):
        login(admin)
        data = edit_data(admin, name="Admin", project_ids=[str(project.id)])
        assert client.post(f"/admin/users/{admin.id}/edit", data=data).status_code == 302
        assert [p.code for p in admin.projects] == ["IDF-MA-2014"]
        assert still_signed_in(client)

    def test_missing_user_is_404(self, client, login, admin):
        login(admin)
        assert client.get("/admin/users/999/edit").status_code == 404


class TestDeactivate:
    def test_deactivated_users_session_stops_at_once(
        self, client, second_client, login, admin, officer
    ):
        sign_in(second_client, officer)
        assert still_signed_in(second_client)
        login(admin)
        response = client.post(f"/admin/users/{officer.id}/deactivate")
        assert response.status_code == 302
        assert not officer.active
        response = second_client.get("/")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login")
        # and signing in again is refused
        sign_in(second_client, officer)
        assert not still_signed_in(second_client)

    def test_reactivated_user_signs_in_again(self, client, second_client, login, admin, officer):
        officer.active = False
        db.session.commit()
        login(admin)
        assert client.post(f"/admin/users/{officer.id}/activate").status_code == 302
        assert officer.active
        sign_in(second_client, officer)
        assert still_signed_in(second_client)

    def test_admin_cannot_deactivate_themself(self, client, login, admin):
        login(admin)
        response = client.post(f"/admin/users/{admin.id}/deactivate")
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "You cannot deactivate your own account." in page
        assert admin.active
        assert still_signed_in(client)

    def test_edit_page_offers_the_right_button(self, client, login, admin, officer):
        login(admin)
        page = client.get(f"/admin/users/{officer.id}/edit").get_data(as_text=True)
        assert f'action="/admin/users/{officer.id}/deactivate"' in page
        page = client.get(f"/admin/users/{admin.id}/edit").get_data(as_text=True)
        assert f'action="/admin/users/{admin.id}/deactivate"' not in page


class TestResetPassword:
    def test_admin_sets_a_new_password_and_ends_sessions(
        self, client, second_client, login, admin, officer
    ):
        sign_in(second_client, officer)
        login(admin)
        data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        response = client.post(f"/admin/users/{officer.id}/password", data=data)
        assert response.status_code == 302
        assert check_password_hash(officer.password_hash, NEW_PASSWORD)
        assert not still_signed_in(second_client)
        sign_in(second_client, officer, NEW_PASSWORD)
        assert still_signed_in(second_client)

    def test_errors_are_shown_next_to_the_field(self, client, login, admin, officer):
        login(admin)
        url = f"/admin/users/{officer.id}/password"
        page = client.post(url, data={"password": "short", "confirm": "short"}).get_data(
            as_text=True
        )
        assert 'id="password-error"' in page
        assert "The password must have at least 12 characters." in page
        page = client.post(
            url, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "?"}
        ).get_data(as_text=True)
        assert 'id="confirm-error"' in page
        assert check_password_hash(officer.password_hash, PASSWORD)

    def test_missing_user_is_404(self, client, login, admin):
        login(admin)
        data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        assert client.post("/admin/users/999/password", data=data).status_code == 404


def test_project_access_changes_are_in_the_audit_log(app, make_project, make_user):
    from sqlalchemy import select

    from tracker.extensions import db
    from tracker.models import AuditEvent, Role
    from tracker.users.services import update_account

    first, second = make_project("FIRST"), make_project("SECOND")
    admin = make_user(Role.ADMIN, [], email="audit-admin@example.org")
    officer = make_user(Role.OFFICER, [first], email="audit-officer@example.org")
    update_account(officer, name="Officer", role=Role.OFFICER, projects=[first, second], by=admin)
    db.session.commit()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "user", AuditEvent.entity_id == officer.id)
    )
    (event,) = [e for e in events if e.changes and "projects" in e.changes]
    assert event.changes["projects"] == [["FIRST"], ["FIRST", "SECOND"]]
