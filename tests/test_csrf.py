"""Every state-changing request without a CSRF token is refused (ASVS 3.5.1).

The rules are read from the app's URL map, so a new POST route is covered the
day it is added. Each is posted, as a signed-in admin (who may use them all),
without a token: the answer is 400 and nothing is written.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from test_access_matrix import API_ACCESS, RULES, url_for_rule, world  # noqa: F401

from tracker.extensions import db
from tracker.models import AuditEvent, Role

POSTS = [
    (endpoint, rule)
    for endpoint, method, rule in RULES
    if method == "POST" and endpoint not in API_ACCESS
]
#: the API's changes: no CSRF token, because the session cookie opens nothing there
API_POSTS = [
    (endpoint, rule)
    for endpoint, method, rule in RULES
    if method in ("POST", "PATCH") and endpoint in API_ACCESS
]


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _sign_in(client, email: str) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/auth/login",
        data={"csrf_token": token, "email": email, "password": "correct horse battery staple"},
    )
    assert response.status_code == 302


def test_there_are_post_routes_to_check():
    assert len(POSTS) > 20


def test_sign_in_without_a_token_is_refused(app, world):  # noqa: F811
    users, _ids = world
    response = app.test_client().post(
        "/auth/login", data={"email": users["admin"].email, "password": "x"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(("endpoint", "rule"), API_POSTS, ids=[e for e, _ in API_POSTS])
def test_a_signed_in_browser_changes_nothing_through_the_api(app, world, endpoint, rule):  # noqa: F811
    users, ids = world
    client = app.test_client()
    _sign_in(client, users["admin"].email)
    before = db.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
    method = "PATCH" if endpoint.endswith("change_participant") else "POST"
    response = client.open(url_for_rule(rule, ids), method=method, json={"version": 1})
    assert response.status_code == 401, (endpoint, response.status_code)
    db.session.rollback()
    changes = select(func.count()).where(
        AuditEvent.action.in_(["create", "update", "delete"]), AuditEvent.id > before
    )
    assert db.session.scalar(changes) == 0


@pytest.mark.parametrize(("endpoint", "rule"), POSTS, ids=[e for e, _ in POSTS])
def test_post_without_token_is_refused_and_changes_nothing(app, world, endpoint, rule):  # noqa: F811
    users, ids = world
    client = app.test_client()
    _sign_in(client, users["admin"].email)
    before = db.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
    response = client.post(url_for_rule(rule, ids), data={"name": "x"})
    assert response.status_code == 400, (endpoint, response.status_code)
    db.session.rollback()
    # only sign-ins and reads may have been logged since; no change went through
    changes = select(func.count()).where(
        AuditEvent.action.in_(["create", "update", "delete"]), AuditEvent.id > before
    )
    assert db.session.scalar(changes) == 0
    assert users["admin"].role is Role.ADMIN
