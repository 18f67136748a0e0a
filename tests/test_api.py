"""The JSON API: tokens, roles and projects, participants, records, indicators, problems."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tracker.api import tokens
from tracker.extensions import db
from tracker.models import ApiToken, AuditEvent, Participant, Role, Sex


@pytest.fixture
def world(make_project, make_participant, make_user):
    """Two projects; a manager, an officer and a viewer of P1; tokens for each."""
    p1 = make_project("P1")
    p2 = make_project("P2")
    awa = make_participant(p1, given_name="Awa", family_name="Diop", phone="+212 600 11 22 33")
    make_participant(p1, given_name="Moussa", family_name="Traoré", sex=Sex.MALE)
    make_participant(p2, given_name="Fatou", family_name="Ndiaye")
    users = {
        role: make_user(role, projects=[p1], email=f"{role.value}@example.org")
        for role in (Role.MANAGER, Role.OFFICER, Role.VIEWER)
    }
    users[Role.ADMIN] = make_user(Role.ADMIN, email="admin@example.org")
    secrets = {}
    for role, user in users.items():
        _token, secrets[role] = tokens.create(user, f"{role.value} script")
    db.session.commit()
    return {"p1": p1, "p2": p2, "awa": awa, "users": users, "secrets": secrets}


def bearer(world, role):
    return {"Authorization": f"Bearer {world['secrets'][role]}"}


def test_a_token_is_stored_as_its_hash_and_shown_once(app, make_user):
    user = make_user(Role.OFFICER)
    token, secret = tokens.create(user, "  Kobo   Casablanca ")
    db.session.commit()
    assert secret.startswith("trk_") and len(secret) > 40
    assert token.name == "Kobo Casablanca"
    assert token.token_hash == tokens.digest(secret) and secret not in token.token_hash
    assert token.prefix == secret[: tokens.SHOWN]
    assert tokens.find(secret).id == token.id
    assert tokens.find(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None


def test_no_token_no_api_and_a_problem_says_why(client, world):
    answer = client.get("/api/v1/participants/")
    assert answer.status_code == 401
    assert answer.content_type == "application/problem+json"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert answer.json["status"] == 401 and "Bearer" in answer.json["detail"]
    assert "Set-Cookie" not in answer.headers
    bad = client.get("/api/v1/participants/", headers={"Authorization": "Bearer trk_nope"})
    assert bad.status_code == 401


def test_a_revoked_an_expired_or_a_deactivated_users_token_opens_nothing(client, world):
    headers = bearer(world, Role.MANAGER)
    assert client.get("/api/v1/participants/", headers=headers).status_code == 200
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.user_id == world["users"][Role.MANAGER].id)
    )
    tokens.revoke(token)
    db.session.commit()
    assert client.get("/api/v1/participants/", headers=headers).status_code == 401
    user = world["users"][Role.OFFICER]
    token, secret = tokens.create(user, "short", days=1)
    from datetime import timedelta

    token.expires_at = token.created_at - timedelta(seconds=1)
    db.session.commit()
    answer = client.get("/api/v1/participants/", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 401
    user.active = False
    db.session.commit()
    assert (
        client.get("/api/v1/participants/", headers=bearer(world, Role.OFFICER)).status_code == 401
    )


def test_a_browser_session_opens_nothing_in_the_api(client, world, login):
    login(world["users"][Role.MANAGER])
    assert client.get("/participants/").status_code == 200
    # the session cookie is sent, but the API reads tokens only: no CSRF hole
    answer = client.post("/api/v1/participants/", json={"given_name": "X"})
    assert answer.status_code == 401
    assert client.get("/api/v1/participants/").status_code == 401


def test_an_officer_lists_her_projects_people_with_names_in_stable_pages(client, world):
    headers = bearer(world, Role.OFFICER)
    first = client.get("/api/v1/participants/?limit=1", headers=headers)
    assert first.status_code == 200
    body = first.json
    assert body["total"] == 2
    assert [p["given_name"] for p in body["items"]] == ["Awa"]
    assert body["next"] and body["next_after"] == body["items"][0]["id"]
    second = client.get(body["next"], headers=headers).json
    assert [p["given_name"] for p in second["items"]] == ["Moussa"]
    assert second["next"] is None
    # never another project's people, not even by id
    other = db.session.scalar(select(Participant).where(Participant.given_name == "Fatou"))
    assert client.get(f"/api/v1/participants/{other.id}", headers=headers).status_code == 404


def test_the_list_has_the_web_filters_and_search(client, world):
    headers = bearer(world, Role.MANAGER)

    def codes(query):
        answer = client.get(f"/api/v1/participants/?{query}", headers=headers)
        assert answer.status_code == 200, answer.json
        return [p["given_name"] for p in answer.json["items"]]

    assert codes("q=diop") == ["Awa"]
    assert codes("q=0600112233") == ["Awa"]
    assert codes("sex=M") == ["Moussa"]
    assert codes(f"code={world['awa'].code}") == ["Awa"]
    assert codes("project=P1") == ["Awa", "Moussa"]
    answer = client.get("/api/v1/participants/?project=P2", headers=headers)
    assert answer.status_code == 422
    assert answer.json["errors"][0]["field"] == "project"


def test_a_viewers_token_gets_codes_never_a_name(app, client, world):
    # small lists are tests/test_small_lists.py's matter: here, every list is shown
    app.config["SMALL_CELL_THRESHOLD"] = 1
    headers = bearer(world, Role.VIEWER)
    listed = client.get("/api/v1/participants/?q=Awa", headers=headers)
    assert listed.status_code == 200
    # a viewer's search is by code: a name finds nobody (it would tell who is here)
    assert listed.json["items"] == []
    everyone = client.get("/api/v1/participants/", headers=headers).json["items"]
    assert {tuple(sorted(p)) for p in everyone} == {("code", "id", "project")}
    assert client.get(f"/api/v1/participants/{world['awa'].id}", headers=headers).status_code == 403
    assert "Awa" not in client.get("/api/v1/enrolments/", headers=headers).get_data(as_text=True)
    assert client.post("/api/v1/participants/", json={}, headers=headers).status_code in (403, 422)


def test_every_list_read_is_audited_with_the_token(client, world):
    client.get("/api/v1/participants/", headers=bearer(world, Role.MANAGER))
    line = db.session.scalar(
        select(AuditEvent).where(AuditEvent.entity == "participants").order_by(AuditEvent.id.desc())
    )
    assert line.actor_id == world["users"][Role.MANAGER].id
    assert "[API trk_" in line.actor_label
    assert line.changes["via"] == "api" and len(line.changes["participant_ids"]) == 2


PERSON = {
    "given_name": "Aminata",
    "family_name": "Coulibaly",
    "sex": "F",
    "date_of_birth": "1990-04-02",
    "nationality": "MLI",
    "consent_given": True,
    "consent_date": "2015-03-01",
    "project_code": "P1",
    "registered_on": "2015-03-01",
}


def test_registering_through_the_api_follows_the_import_rules(client, world):
    headers = bearer(world, Role.OFFICER)
    made = client.post("/api/v1/participants/", json=PERSON, headers=headers)
    assert made.status_code == 201, made.json
    assert made.json["given_name"] == "Aminata" and made.json["code"].startswith("P1-")
    assert made.headers["Location"].endswith(f"/api/v1/participants/{made.json['id']}")
    person = db.session.get(Participant, made.json["id"])
    assert person.nationality == "MLI" and person.date_of_birth == date(1990, 4, 2)
    # the same person again: registered with the duplicate rule's warning, as an import does
    again = client.post("/api/v1/participants/", json=PERSON, headers=headers)
    assert again.status_code == 201
    assert again.json["warnings"], "a likely duplicate is named"
    # a bad value is named, and nothing is written
    before = db.session.scalar(select(func.count()).select_from(Participant))
    bad = client.post(
        "/api/v1/participants/",
        json={**PERSON, "nationality": "XXX", "consent_given": False},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    fields = {e["field"] for e in bad.json["errors"]}
    assert {"nationality", "consent_given"} <= fields
    assert db.session.scalar(select(func.count()).select_from(Participant)) == before
    # a project outside hers is refused by the same rule
    outside = client.post(
        "/api/v1/participants/", json={**PERSON, "project_code": "P2"}, headers=headers
    )
    assert outside.status_code == 422
    missing = client.post("/api/v1/participants/", json={"given_name": "A"}, headers=headers)
    assert missing.status_code == 422
    assert "family_name" in {e["field"] for e in missing.json["errors"]}


def test_a_change_needs_the_version_read_and_a_stale_one_is_409(client, world):
    headers = bearer(world, Role.OFFICER)
    awa = world["awa"]
    read = client.get(f"/api/v1/participants/{awa.id}", headers=headers).json
    changed = client.patch(
        f"/api/v1/participants/{awa.id}",
        json={"version": read["version"], "city": "Tanger"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["city"] == "Tanger" and changed.json["version"] == read["version"] + 1
    stale = client.patch(
        f"/api/v1/participants/{awa.id}",
        json={"version": read["version"], "city": "Fès"},
        headers=headers,
    )
    assert stale.status_code == 409
    assert stale.json["current_version"] == read["version"] + 1
    db.session.expire_all()
    assert db.session.get(Participant, awa.id).city == "Tanger"
    bad = client.patch(
        f"/api/v1/participants/{awa.id}",
        json={"version": read["version"] + 1, "nationality": "ZZZ"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "nationality"
    unknown = client.patch(
        f"/api/v1/participants/{awa.id}",
        json={"version": read["version"] + 1, "sensitive_notes": "x"},
        headers=headers,
    )
    assert unknown.status_code == 422
    viewer = client.patch(
        f"/api/v1/participants/{awa.id}",
        json={"version": read["version"] + 1, "city": "X"},
        headers=bearer(world, Role.VIEWER),
    )
    assert viewer.status_code == 403


def test_the_indicators_are_the_dashboards_with_links_to_their_people(client, seeded, make_user):
    from tracker import indicators

    manager = make_user(Role.MANAGER, projects=[seeded], email="m@example.org")
    viewer = make_user(Role.VIEWER, projects=[seeded], email="v@example.org")
    secrets = {}
    for user in (manager, viewer):
        secrets[user.role] = tokens.create(user, "figures")[1]
    db.session.commit()
    headers = {"Authorization": f"Bearer {secrets[Role.MANAGER]}"}
    query = "project=IDF-MA-2014&from=2014-06-01&to=2016-12-31"
    answer = client.get(f"/api/v1/indicators/?{query}", headers=headers)
    assert answer.status_code == 200, answer.json
    figures = {f["key"]: f for f in answer.json["figures"]}
    assert figures["trained"]["value"] == 135 and figures["placed"]["value"] == 41
    assert figures["trained"]["target"] == 150
    scope = indicators.Scope((seeded.id,), date(2014, 6, 1), date(2016, 12, 31))
    for key, figure in figures.items():
        if key != "placement_rate":
            assert figure["value"] == indicators.count(key, scope), key
    sex = next(b for b in figures["trained"]["breakdowns"] if b["dimension"] == "sex")
    assert sum(c["value"] for c in sex["cells"]) == 135
    # the people behind a figure: as many as it counts
    people = client.get(figures["placed"]["people"] + "&limit=200", headers=headers).json
    assert people["total"] == 41
    strengthened = figures["institutions_strengthened"]
    institutions = client.get(strengthened["people"], headers=headers).json
    assert institutions["total"] == strengthened["value"]
    # a part of the project: no whole-project target against it
    part = client.get(
        "/api/v1/indicators/?project=IDF-MA-2014&from=2015-01-01&to=2015-12-31", headers=headers
    ).json
    assert all(f["target"] is None for f in part["figures"])
    # a viewer: the same figures, small cells withheld, codes only behind them
    seen = client.get(
        f"/api/v1/indicators/?{query}", headers={"Authorization": f"Bearer {secrets[Role.VIEWER]}"}
    ).json
    placed = {f["key"]: f for f in seen["figures"]}["placed"]
    assert placed["value"] == 41
    cells = [c for b in placed["breakdowns"] for c in b["cells"]]
    assert any(c["hidden"] for c in cells)
    assert all(c["value"] is None for c in cells if c["hidden"])
    listed = client.get(
        placed["people"], headers={"Authorization": f"Bearer {secrets[Role.VIEWER]}"}
    ).json
    assert listed["total"] == 41 and set(listed["items"][0]) == {"code", "id", "project"}


def test_records_read_as_the_exports_write_them(client, world, make_course):
    from tracker.trainings.services import enrol

    course = make_course(world["p1"])
    enrol(world["awa"], course, on=date(2015, 1, 20))
    db.session.commit()
    headers = bearer(world, Role.OFFICER)
    listed = client.get("/api/v1/enrolments/", headers=headers).json
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["participant_code"] == world["awa"].code
    assert item["course_title"] == course.title and item["status"] == "enrolled"
    assert item["certificate"] is False
    one = client.get(f"/api/v1/enrolments/{item['id']}", headers=headers)
    assert one.status_code == 200 and one.json == item
    assert client.get("/api/v1/enrolments/999999", headers=headers).status_code == 404
    by_code = client.get(f"/api/v1/enrolments/?code={world['awa'].code}", headers=headers)
    assert by_code.json["total"] == 1
    courses = client.get("/api/v1/courses/", headers=headers).json
    assert courses["items"][0]["enrolled"] == 1
    # another project's officer sees none of it
    other = client.get("/api/v1/enrolments/", headers=bearer(world, Role.ADMIN)).json
    assert other["total"] == 1


def test_the_description_is_openapi_3_1_and_documents_every_route(client, app):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    documented = {path.replace("{", "<").replace("}", ">") for path in spec["paths"]}
    routes = {
        str(rule.rule).replace("<int:", "<")
        for rule in app.url_map.iter_rules()
        if str(rule.rule).startswith("/api/v1/")
        and rule.endpoint.startswith("api_")
        and not rule.endpoint.startswith("api_docs_page")
    }
    assert routes <= documented
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "/api/v1/participants/" in page.get_data(as_text=True)


def test_tokens_page_makes_shows_once_and_revokes(client, world, login):
    user = world["users"][Role.VIEWER]
    login(user)
    page = client.post("/account/tokens/", data={"name": "Tableau M&E", "expires_in_days": "30"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.name == "Tableau M&E")
    )
    start = text.index("trk_", text.index('class="secret"'))
    secret = text[start : text.index("<", start)]
    assert tokens.digest(secret) == token.token_hash
    # shown once: the list shows its first characters only
    assert secret not in client.get("/account/tokens/").get_data(as_text=True)
    assert (
        client.get("/api/v1/indicators/", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    client.post(f"/account/tokens/{token.id}/revoke")
    assert (
        client.get("/api/v1/indicators/", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )
    # another user's token cannot be revoked from here
    theirs = db.session.scalar(
        select(ApiToken).where(ApiToken.user_id == world["users"][Role.MANAGER].id)
    )
    assert client.post(f"/account/tokens/{theirs.id}/revoke").status_code == 404


def test_create_token_command_prints_the_token_alone_on_its_last_line(runner, world):
    result = runner.invoke(
        args=["create-token", "manager@example.org", "--name", "sync", "--expires", "30"]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("trk_") and " " not in secret
    token = tokens.find(secret)
    assert token.user.email == "manager@example.org" and token.expires_at is not None
    nobody = runner.invoke(args=["create-token", "nobody@example.org", "--name", "x"])
    assert nobody.exit_code != 0 and "nobody@example.org" in nobody.output


@pytest.mark.parametrize(
    "app_config",
    [
        {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "API_RATE_LIMIT": "3/minute",
        }
    ],
)
def test_the_rate_limit_is_per_token(client, world, app_config):
    headers = bearer(world, Role.MANAGER)
    answers = [client.get("/api/v1/indicators/", headers=headers).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    last = client.get("/api/v1/indicators/", headers=headers)
    assert last.content_type == "application/problem+json"
    assert int(last.headers["Retry-After"]) >= 1
    # another token has its own count
    other = client.get("/api/v1/indicators/", headers=bearer(world, Role.OFFICER))
    assert other.status_code == 200
