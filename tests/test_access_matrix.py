"""Every route × every role: who gets the page, who is refused, who is told it does not exist.

A route that is not declared in ACCESS fails the first test: new routes must say
who may use them. Records live in project A; "stranger" is an officer assigned
to project B only, so every id of project A must answer 404 to her.
"""

from __future__ import annotations

from datetime import date

import pytest

from tracker.activities.services import add_attendance, record_activity
from tracker.api import tokens as api_tokens
from tracker.extensions import db
from tracker.jobs import running
from tracker.models import (
    ActivityKind,
    IncomingSubmission,
    Job,
    PartnerKind,
    PendingImport,
    PlacementKind,
    Role,
    SubmissionState,
)
from tracker.participants import merging
from tracker.placements.services import record_follow_up, record_placement
from tracker.reports.services import generate_donor_report
from tracker.results import services as results
from tracker.trainings.services import enrol

PUBLIC, ALL, EDITORS, MANAGERS, ADMIN = "public", "all", "editors", "managers", "admin"
READERS = "readers"  # donor reports: managers write them, viewers read them, officers neither
OWNER = "owner"  # an upload waiting to be imported: its uploader (the manager) only
TOKEN = "token"  # the manager's API token: hers to revoke; nobody else's to see
JOB = "job"  # the manager's job in project A: hers, and the administrator's; others: none
ALLOWED = {
    READERS: {"viewer", "manager", "admin"},
    ALL: {"viewer", "stranger", "officer", "manager", "admin"},
    EDITORS: {"stranger", "officer", "manager", "admin"},
    MANAGERS: {"manager", "admin"},
    ADMIN: {"admin"},
    OWNER: {"manager"},
    JOB: {"manager", "admin"},
}
#: routes that need a query string to mean something
QUERY = {"dashboard.drill_down": "?indicator=trained", "home.todo_group": "?group=overdue"}
#: actions that remove what they act on: once done, the next allowed role finds nothing
REMOVING = {
    "activities.remove_attendance",
    "imports.cancel",
    "results.remove_result",
    "results.remove_indicator",
}
ROLES = ("anonymous", "viewer", "stranger", "officer", "manager", "admin")

#: endpoint -> (who may use it, whether its ids are scoped to the user's projects)
ACCESS = {
    "static": (PUBLIC, False),
    "auth.login": (PUBLIC, False),
    "auth.set_language": (PUBLIC, False),
    "auth.logout": (ALL, False),
    "auth.change_password": (ALL, False),
    # the second step of signing in: without a password just given, it sends to sign-in
    "auth.second_factor": (PUBLIC, False),
    "auth.two_factor": (ALL, False),
    "auth.two_factor_off": (ALL, False),
    "home.index": (ALL, False),
    # the to-do list names people: not to viewers; each user's own scope, so never a 404
    "home.todo_group": (EDITORS, False),
    "dashboard.index": (ALL, False),
    "dashboard.drill_down": (ALL, False),
    "dashboard.quality": (EDITORS, False),
    "builder.index": (READERS, False),
    "builder.edit": (MANAGERS, True),
    "builder.generate": (MANAGERS, True),
    "builder.report": (READERS, True),
    "builder.download": (READERS, True),
    "builder.download_annex": (READERS, True),
    "exports.index": (ALL, False),
    "exports.download": (EDITORS, False),
    "exports.iati": (MANAGERS, True),
    "imports.index": (EDITORS, False),
    "imports.template": (EDITORS, False),
    "imports.form_download": (EDITORS, False),
    "imports.preview": (OWNER, False),
    "imports.confirm": (OWNER, False),
    "imports.cancel": (OWNER, False),
    "imports.problems": (OWNER, False),
    "participants.index": (ALL, False),
    "participants.new": (EDITORS, False),
    "participants.detail": (EDITORS, True),
    "participants.edit": (EDITORS, True),
    "participants.archive": (EDITORS, True),
    "participants.unarchive": (EDITORS, True),
    "participants.erase": (ADMIN, True),
    "participants.add_consent": (EDITORS, True),
    "participants.withdraw_consent": (EDITORS, True),
    "participants.merge": (MANAGERS, False),
    "participants.undo_merge": (MANAGERS, True),
    "participants.subject_access_page": (MANAGERS, True),
    "trainings.index": (ALL, False),
    "trainings.course": (ALL, True),
    "trainings.new_course": (MANAGERS, False),
    "trainings.edit_course": (MANAGERS, True),
    "trainings.enrol": (EDITORS, True),
    "trainings.complete": (EDITORS, True),
    "trainings.drop_out": (EDITORS, True),
    "trainings.complete_all": (EDITORS, True),
    "trainings.enrol_participant": (EDITORS, True),
    "trainings.delete_course": (MANAGERS, True),
    "trainings.archive_course": (MANAGERS, True),
    "trainings.unarchive_course": (MANAGERS, True),
    "placements.index": (EDITORS, False),
    "placements.new": (EDITORS, True),
    "placements.placement": (EDITORS, True),
    "placements.edit": (EDITORS, True),
    "placements.follow_up": (EDITORS, True),
    "placements.edit_follow_up": (EDITORS, True),
    "activities.index": (ALL, False),
    "activities.detail": (ALL, True),
    "activities.new": (MANAGERS, False),
    "activities.edit": (MANAGERS, True),
    "activities.add_attendance": (MANAGERS, True),
    "activities.remove_attendance": (MANAGERS, True),
    "activities.delete": (MANAGERS, True),
    "activities.archive": (MANAGERS, True),
    "activities.unarchive": (MANAGERS, True),
    "partners.index": (ALL, False),
    "partners.detail": (ALL, False),
    "partners.new": (MANAGERS, False),
    "partners.edit": (MANAGERS, False),
    # partners are every project's: only administrators delete or archive them
    "partners.delete": (ADMIN, False),
    "partners.archive": (ADMIN, False),
    "partners.unarchive": (ADMIN, False),
    "users.index": (ADMIN, False),
    "users.new": (ADMIN, False),
    "users.edit": (ADMIN, False),
    "users.activate": (ADMIN, False),
    "users.deactivate": (ADMIN, False),
    "users.reset_password": (ADMIN, False),
    "users.reset_two_factor": (ADMIN, False),
    "auditlog.index": (ADMIN, False),
    "jobs.index": (ALL, False),
    "jobs.show": (JOB, False),
    "jobs.status": (JOB, False),
    "jobs.cancel": (JOB, False),
    "jobs.download": (JOB, False),
    "jobs.maintenance": (ADMIN, False),
    "jobs.start_maintenance": (ADMIN, False),
    # the API's description and its page: no data in them
    "api-docs.openapi_json": (PUBLIC, False),
    "api_docs_page.docs": (PUBLIC, False),
    "tokens.index": (ALL, False),
    "projects.index": (ADMIN, False),
    "projects.new": (ADMIN, False),
    "projects.edit": (ADMIN, False),
    "projects.close": (ADMIN, False),
    "projects.reopen": (ADMIN, False),
    "projects.targets": (ADMIN, False),
    "results.index": (ALL, False),
    "results.show": (ALL, True),
    "results.edit": (MANAGERS, True),
    "results.add_result": (MANAGERS, True),
    "results.remove_result": (MANAGERS, True),
    "results.add_indicator": (MANAGERS, True),
    "results.set_share": (MANAGERS, True),
    "results.remove_indicator": (MANAGERS, True),
    "results.values": (MANAGERS, True),
    "tokens.revoke": (TOKEN, False),
    "imports.incoming_list": (MANAGERS, False),
    "imports.incoming_detail": (MANAGERS, True),
    "imports.incoming_discard": (MANAGERS, True),
}
NAMES = "names"  # the API's case files: every role but the viewer (codes only)
#: the API's routes, reached with a token (a session opens nothing there)
API_ACCESS = {
    "api_participants.list_participants": (ALL, False),
    "api_participants.create_participant": (EDITORS, False),
    "api_participants.get_participant": (NAMES, True),
    "api_participants.change_participant": (EDITORS, True),
    "api_enrolments.list_records": (ALL, False),
    "api_enrolments.get_record": (ALL, True),
    "api_placements.list_records": (ALL, False),
    "api_placements.get_record": (ALL, True),
    "api_followups.list_records": (ALL, False),
    "api_followups.get_record": (ALL, True),
    "api_activities.list_records": (ALL, False),
    "api_activities.get_record": (ALL, True),
    "api_courses.list_courses": (ALL, False),
    "api_courses.get_course": (ALL, True),
    "api_partners.list_partners": (ALL, False),
    "api_partners.get_partner": (ALL, False),
    "api_indicators.figures": (ALL, False),
    "api_kobo.submit": (EDITORS, True),
}


def _rules():
    from tracker import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    return sorted(
        (rule.endpoint, method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    )


RULES = _rules()


def test_every_route_declares_who_may_use_it():
    declared = set(ACCESS) | set(API_ACCESS)
    undeclared = sorted({endpoint for endpoint, _, _ in RULES} - declared)
    assert not undeclared
    assert not declared - {endpoint for endpoint, _, _ in RULES}


@pytest.fixture
def world(app, make_project, make_partner, make_participant, make_course, make_user):
    """Records of project A and one user per role (stranger: an officer of project B)."""
    # who may open what is this module's matter; a viewer's lists of fewer than five
    # people (shown empty, or 403 in the API) are tests/test_small_lists.py's
    app.config["SMALL_CELL_THRESHOLD"] = 1
    a = make_project("A")
    b = make_project("B")
    provider = make_partner("Provider", PartnerKind.TRAINING_PROVIDER)
    person = make_participant(a, given_name="Secret", family_name="Name")
    course = make_course(a, provider=provider, start=date(2015, 2, 1), end=date(2015, 5, 31))
    enrolment = enrol(person, course, on=date(2015, 1, 20))
    placement = record_placement(
        person,
        kind=PlacementKind.EMPLOYMENT,
        sector="Hôtellerie",
        start_date=date(2015, 7, 1),
        employer=make_partner("Employer", PartnerKind.EMPLOYER),
    )
    follow_up = record_follow_up(
        placement, months_after=3, followed_on=date(2015, 10, 1), still_active=True
    )
    activity = record_activity(
        a, kind=ActivityKind.CAPACITY_BUILDING, title="Atelier", held_on=date(2015, 6, 1)
    )
    attendance = add_attendance(activity, provider, staff_count=3)
    # a record registered twice, merged: its undo is a route of its own
    twin = make_participant(a, given_name="Secret", family_name="Twin")
    merge = merging.merge(make_participant(a, given_name="Secret", family_name="Twin"), [twin])
    report = generate_donor_report(
        a, None, None, language="fr", narrative={}, by=None, actor_label="test", threshold=5
    )
    users = {
        "viewer": make_user(Role.VIEWER, [a], email="viewer@example.org"),
        "stranger": make_user(Role.OFFICER, [b], email="stranger@example.org"),
        "officer": make_user(Role.OFFICER, [a], email="officer@example.org"),
        "manager": make_user(Role.MANAGER, [a], email="manager@example.org"),
        "admin": make_user(Role.ADMIN, [], email="admin@example.org"),
    }
    upload = PendingImport(
        token="upload-of-the-manager",
        user_id=users["manager"].id,
        kind="participants",
        filename="people.csv",
        sha256="0" * 64,
        size=10,
        summary={"kind": "participants", "filename": "people.csv", "sha256": "0" * 64},
        content=b"code;given_name\n;Awa\n",
    )
    db.session.add(upload)
    job = Job(
        kind="export",
        state="done",
        user_id=users["manager"].id,
        actor_label="manager@example.org",
        project_id=a.id,
        locale="en",
        parameters={"kind": "participants", "fmt": "csv"},
        done=1,
        total=1,
        attempts=1,
        cancel_requested=False,
        file_name="participants.csv",
        file_type="text/csv",
    )
    db.session.add(job)
    db.session.flush()
    running.new_file(job, ".csv").write_text("code\nA-0001\n")
    token, _secret = api_tokens.create(users["manager"], "sync")
    submission = IncomingSubmission(
        project=a,
        submission_uuid="a-kobo-submission",
        state=SubmissionState.INVALID,
        payload={"participant/given_name": "Secret"},
        problems=[{"field": "family_name", "message": "is missing"}],
    )
    db.session.add(submission)
    output = results.add_result(a, "output", "1.1", "Trained")
    manual = results.add_manual_indicator(output, "Employers met", "meetings")
    db.session.commit()
    ids = {
        "code": a.code,
        "result_id": output.id,
        "indicator_id": manual.id,
        "token": upload.token,
        "job_id": job.id,
        "project_id": a.id,
        "report_id": report.id,
        "participant_id": person.id,
        "consent_id": person.consents[0].id,
        "course_id": course.id,
        "enrolment_id": enrolment.id,
        "placement_id": placement.id,
        "follow_up_id": follow_up.id,
        "activity_id": activity.id,
        "attendance_id": attendance.id,
        "merge_id": merge.id,
        "partner_id": provider.id,
        "user_id": users["viewer"].id,
        "lang": "en",
        "project_code": a.code,
        "token_id": token.id,
        "submission_id": submission.id,
        "record_id": enrolment.id,
        "kind": "participants",
        "fmt": "csv",
        "filename": "style.css",
    }
    return users, ids


def url_for_rule(rule: str, ids: dict) -> str:
    import re

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(ids[m.group(1)]), rule)


def expected(role: str, who: str, scoped: bool) -> set[int]:
    if role == "anonymous":
        return {302}
    if who == OWNER and role in ALLOWED[EDITORS] - ALLOWED[OWNER]:
        return {404}  # someone else's upload does not exist for them
    if who == TOKEN:
        return {302} if role == "manager" else {404}
    if who == JOB and role not in ALLOWED[JOB]:
        return {404}  # someone else's job, of a project not theirs to manage
    if role not in ALLOWED[who]:
        # refused for the role; a scoped loader may answer first for another project
        return {403, 404} if role == "stranger" and scoped else {403}
    if role == "stranger" and scoped:
        return {404}
    # allowed; an empty form may be answered 400 (invalid input), never 403 or 404
    return {200, 302, 400, 409}


@pytest.mark.parametrize(
    ("endpoint", "method", "rule"),
    [r for r in RULES if ACCESS.get(r[0], (PUBLIC,))[0] != PUBLIC],
    ids=[f"{m} {e}" for e, m, _ in RULES if ACCESS.get(e, (PUBLIC,))[0] != PUBLIC],
)
def test_route_for_every_role(app, world, login, endpoint, method, rule):
    users, ids = world
    who, scoped = ACCESS[endpoint]
    url = url_for_rule(rule, ids) + QUERY.get(endpoint, "")
    removed = False
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            login_response = client.post(
                "/auth/login",
                data={"email": users[role].email, "password": "correct horse battery staple"},
            )
            assert login_response.status_code == 302, role
        response = client.open(url, method=method, data={})
        allowed = expected(role, who, scoped)
        if removed and 200 in allowed:
            allowed = allowed | {404}
        assert response.status_code in allowed, (role, method, url)
        if endpoint in REMOVING and 200 in allowed and response.status_code == 302:
            removed = True
        if role == "anonymous":
            assert response.headers["Location"].startswith("/auth/login")
        if role == "viewer" and response.status_code == 200 and response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            assert "Secret" not in page and "Name" not in page.replace("name=", "")


def expected_api(role: str, who: str, scoped: bool) -> set[int]:
    if role == "anonymous":
        return {401}
    allowed = ALLOWED[EDITORS] if who == NAMES else ALLOWED[who]
    if role not in allowed:
        return {403, 404} if role == "stranger" and scoped else {403}
    if role == "stranger" and scoped:
        return {404}
    # allowed; an empty body is answered 422 (invalid input), never 403 or 404
    return {200, 201, 422}


API_RULES = [r for r in RULES if r[0] in API_ACCESS]


@pytest.mark.parametrize(
    ("endpoint", "method", "rule"), API_RULES, ids=[f"{m} {e}" for e, m, _ in API_RULES]
)
def test_api_route_for_every_role(app, world, endpoint, method, rule):
    users, ids = world
    who, scoped = API_ACCESS[endpoint]
    url = url_for_rule(rule, ids)
    secrets = {role: api_tokens.create(user, "matrix")[1] for role, user in users.items()}
    db.session.commit()
    for role in ROLES:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {secrets[role]}"} if role != "anonymous" else {}
        response = client.open(url, method=method, json={}, headers=headers)
        assert response.status_code in expected_api(role, who, scoped), (role, method, url)
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json"
        if role == "viewer" and response.status_code == 200:
            assert "Secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/auth/login", "/static/style.css"])
def test_public_pages(client, path):
    response = client.get(path)
    assert response.status_code == 200
    response.close()


def test_pages_hide_what_the_server_refuses(app, world, login):
    users, ids = world
    viewer = app.test_client()
    viewer.post(
        "/auth/login",
        data={"email": users["viewer"].email, "password": "correct horse battery staple"},
    )
    course_page = viewer.get(f"/trainings/{ids['course_id']}").get_data(as_text=True)
    assert f"/trainings/{ids['course_id']}/enrol" not in course_page
    assert "/participants/new" not in viewer.get("/participants/").get_data(as_text=True)
    assert "/placements/" not in viewer.get("/").get_data(as_text=True)
    officer = app.test_client()
    officer.post(
        "/auth/login",
        data={"email": users["officer"].email, "password": "correct horse battery staple"},
    )
    case_file = officer.get(f"/participants/{ids['participant_id']}").get_data(as_text=True)
    assert "/erase" not in case_file
    assert "/admin/users/" not in case_file
