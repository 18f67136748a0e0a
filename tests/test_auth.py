"""Sign-in, sign-out, sessions ended on the server, safe redirects, the home page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tracker import create_app
from tracker.extensions import db
from tracker.models import AuditEvent, Role


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_sign_in_and_home_page(client, login, make_user, make_project):
    project = make_project("IDF-MA-2014")
    user = make_user(Role.MANAGER, [project])
    response = login(user)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "IDF-MA-2014" in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login"))
    assert event.actor_id == user.id and event.entity_id == user.id


def test_wrong_password_and_unknown_account_get_the_same_answer(client, make_user):
    user = make_user()
    wrong = client.post("/auth/login", data={"email": user.email, "password": "nope-nope-nope"})
    unknown = client.post("/auth/login", data={"email": "x@example.org", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 200
    message = "Adresse e-mail inconnue ou mot de passe erroné."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_deactivated_user_cannot_sign_in(client, login, make_user):
    user = make_user()
    user.active = False
    db.session.commit()
    login(user)
    assert client.get("/").status_code == 302


def test_sign_out_ends_the_session_on_the_server(app, client, login, make_user):
    user = make_user()
    login(user)
    assert client.get("/").status_code == 200
    stolen = client.get_cookie("session").value
    client.post("/auth/logout")
    assert client.get("/").status_code == 302
    # replaying the cookie captured before sign-out no longer works
    other = app.test_client()
    other.set_cookie("session", stolen)
    assert other.get("/").status_code == 302


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/some/page?x=1", "/some/page?x=1"),
        ("https://evil.example.org/", "/"),
        ("//evil.example.org/", "/"),
        ("/\\evil.example.org", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_only_goes_to_this_site(client, make_user, target, expected):
    user = make_user()
    from tests.conftest import PASSWORD

    response = client.post(
        "/auth/login", data={"email": user.email, "password": PASSWORD, "next": target}
    )
    assert response.headers["Location"] == expected


def test_language_switch(client, make_user, login):
    login(make_user())
    assert 'lang="fr"' in client.get("/").get_data(as_text=True)
    client.post("/auth/language/en", data={"next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in page and "Your projects" in page


def test_viewer_home_page_shows_figures(client, login, make_user, make_project, make_participant):
    project = make_project()
    make_participant(project, given_name="Aminata", family_name="Traoré")
    db.session.commit()
    login(make_user(Role.VIEWER, [project]))
    page = client.get("/").get_data(as_text=True)
    assert "Aminata" not in page and "Traoré" not in page
    assert project.code in page


def test_officer_sees_only_assigned_projects(client, login, make_user, make_project):
    mine, _other = make_project("MINE"), make_project("OTHER")
    login(make_user(Role.OFFICER, [mine]))
    page = client.get("/").get_data(as_text=True)
    assert "MINE" in page and "OTHER" not in page


def test_forms_are_refused_without_csrf_token(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    client = app.test_client()
    response = client.post("/auth/login", data={"email": "a@example.org", "password": "x"})
    assert response.status_code == 400


def test_sign_in_records_the_time_without_moving_the_version(client, login, make_user):
    user = make_user()
    version = user.version
    login(user)
    db.session.refresh(user)
    assert user.last_login_at is not None
    assert user.version == version


def test_redirects_can_be_followed(client, make_user):
    from tests.conftest import PASSWORD

    user = make_user()
    response = client.post(
        "/auth/login", data={"email": user.email, "password": PASSWORD}, follow_redirects=True
    )
    assert response.status_code == 200 and user.email in response.get_data(as_text=True)
