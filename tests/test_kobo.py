"""KoboToolbox's REST service: one person per submission however often it is sent."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from tracker.api import tokens
from tracker.extensions import db
from tracker.models import IncomingSubmission, Participant, Role, SubmissionState


@pytest.fixture
def kobo(make_project, make_user):
    project = make_project("P1")
    make_project("P2")
    officer = make_user(Role.OFFICER, projects=[project], email="officer@example.org")
    manager = make_user(Role.MANAGER, projects=[project], email="manager@example.org")
    _token, secret = tokens.create(officer, "KoboToolbox")
    db.session.commit()
    return {"project": project, "secret": secret, "officer": officer, "manager": manager}


def submission(uuid="8f0c1e2a-1111-4c2b-9e7e-1234567890ab", **answers):
    """A submission as Kobo's REST service posts it (the tracker's XLSForm)."""
    body = {
        "_id": 401234,
        "_uuid": uuid,
        "meta/instanceID": f"uuid:{uuid}",
        "_xform_id_string": "aYz3tracker",
        "_submission_time": "2016-11-03T09:12:44",
        "_attachments": [],
        "_geolocation": [None, None],
        "_tags": [],
        "formhub/uuid": "0a1b2c",
        "start": "2016-11-03T09:01:00.000+01:00",
        "participant/given_name": "Mariam",
        "participant/family_name": "Konaté",
        "participant/sex": "F",
        "participant/date_of_birth": "1992-05-14",
        "participant/nationality": "CIV",
        "participant/consent_given": "yes",
        "participant/consent_date": "2016-11-03",
        "participant/registered_on": "2016-11-03",
    }
    body.update({f"participant/{k}": v for k, v in answers.items()})
    return body


def post(client, kobo, body, project="P1", basic=False):
    if basic:
        pair = f"officer@example.org:{kobo['secret']}".encode()
        auth = "Basic " + base64.b64encode(pair).decode()
    else:
        auth = f"Bearer {kobo['secret']}"
    return client.post(
        f"/api/v1/kobo/{project}/submissions", json=body, headers={"Authorization": auth}
    )


def people():
    return db.session.scalar(select(func.count()).select_from(Participant))


def test_a_submission_sent_three_times_registers_one_person(client, kobo):
    first = post(client, kobo, submission())
    assert first.status_code == 201, first.json
    assert first.json["status"] == "registered"
    code = first.json["code"]
    for _ in range(2):  # Kobo's retries, or "resend" pressed in Kobo
        again = post(client, kobo, submission(), basic=True)
        assert again.status_code == 200
        assert again.json == {**again.json, "status": "already_registered", "code": code}
    assert people() == 1
    person = db.session.scalar(select(Participant))
    assert person.given_name == "Mariam" and person.nationality == "CIV"
    assert person.external_id == "8f0c1e2a-1111-4c2b-9e7e-1234567890ab"
    record = db.session.scalar(select(IncomingSubmission))
    assert record.deliveries == 3 and record.state is SubmissionState.REGISTERED
    # registered: the copy of the answers is not kept beside the case file
    assert record.payload is None and record.participant_id == person.id


def test_a_submission_imported_from_a_kobo_spreadsheet_before_is_not_registered_again(client, kobo):
    from datetime import date

    from tracker.imports import services
    from tracker.imports.report import Context

    ctx = Context(user=kobo["officer"], default_project=kobo["project"], today=date.today())
    cells = {k: v for k, v in submission().items() if isinstance(v, str) and k != "meta/instanceID"}
    services.run_record("participants", cells, source="kobo.xlsx", ctx=ctx)
    db.session.commit()
    answer = post(client, kobo, submission())
    assert answer.status_code == 200 and answer.json["status"] == "already_registered"
    assert people() == 1


def test_a_bad_submission_is_refused_listed_fixed_and_registered(client, kobo, login):
    bad = submission(nationality="Wakanda", date_of_birth="2090-01-01")
    answer = post(client, kobo, bad)
    assert answer.status_code == 422
    assert answer.content_type == "application/problem+json"
    assert {"nationality", "date_of_birth"} <= {e["field"] for e in answer.json["errors"]}
    assert people() == 0
    # Kobo retries: still one line in the list, still nobody registered
    assert post(client, kobo, bad).status_code == 422
    record = db.session.scalar(select(IncomingSubmission))
    assert record.state is SubmissionState.INVALID and record.deliveries == 2
    # the manager sees it, corrects it and registers it
    login(kobo["manager"])
    listed = client.get("/imports/incoming").get_data(as_text=True)
    assert f"/imports/incoming/{record.id}" in listed
    page = client.get(f"/imports/incoming/{record.id}").get_data(as_text=True)
    assert "Wakanda" in page
    corrected = {
        "given_name": "Mariam",
        "family_name": "Konaté",
        "sex": "F",
        "date_of_birth": "1992-05-14",
        "nationality": "Wakanda",
        "consent_given": "yes",
        "consent_date": "2016-11-03",
        "registered_on": "2016-11-03",
    }
    still_bad = client.post(f"/imports/incoming/{record.id}", data=corrected)
    assert still_bad.status_code == 200 and people() == 0
    fixed = client.post(f"/imports/incoming/{record.id}", data={**corrected, "nationality": "CIV"})
    assert fixed.status_code == 302
    assert people() == 1
    db.session.expire_all()
    record = db.session.get(IncomingSubmission, record.id)
    assert record.state is SubmissionState.REGISTERED and record.payload is None
    assert record.resolved_by_id == kobo["manager"].id
    # Kobo's last retry of the bad version: answered 200, nobody registered twice
    late = post(client, kobo, bad)
    assert late.status_code == 200 and late.json["status"] == "already_registered"
    assert people() == 1


def test_a_discarded_submission_loses_its_answers_and_is_not_retried(client, kobo, login):
    post(client, kobo, submission(family_name=""))
    record = db.session.scalar(select(IncomingSubmission))
    login(kobo["manager"])
    refused = client.post(f"/imports/incoming/{record.id}/discard", data={"reason": ""})
    assert refused.status_code == 302
    db.session.expire_all()
    assert db.session.get(IncomingSubmission, record.id).state is SubmissionState.INVALID
    client.post(f"/imports/incoming/{record.id}/discard", data={"reason": "test form"})
    db.session.expire_all()
    record = db.session.get(IncomingSubmission, record.id)
    assert record.state is SubmissionState.DISCARDED and record.payload is None
    again = post(client, kobo, submission(family_name=""))
    assert again.status_code == 200 and again.json["status"] == "discarded"


def test_kobo_is_refused_without_a_valid_token_or_outside_its_projects(client, kobo):
    assert client.post("/api/v1/kobo/P1/submissions", json=submission()).status_code == 401
    wrong = base64.b64encode(f"manager@example.org:{kobo['secret']}".encode()).decode()
    answer = client.post(
        "/api/v1/kobo/P1/submissions",
        json=submission(),
        headers={"Authorization": f"Basic {wrong}"},
    )
    assert answer.status_code == 401
    assert "Basic" not in answer.headers.get("WWW-Authenticate", "")
    assert post(client, kobo, submission(), project="P2").status_code == 404
    no_id = {k: v for k, v in submission().items() if k not in ("_uuid", "meta/instanceID")}
    refused = post(client, kobo, no_id)
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "_uuid"
    control = post(client, kobo, {**submission(), "_uuid": "a\x00b"})
    assert control.status_code == 422 and control.json["errors"][0]["field"] == "_uuid"
    assert people() == 0
    # Basic authentication opens the Kobo endpoint only
    basic = base64.b64encode(f"officer@example.org:{kobo['secret']}".encode()).decode()
    other = client.get("/api/v1/participants/", headers={"Authorization": f"Basic {basic}"})
    assert other.status_code == 401


def test_a_busy_database_answers_503_so_that_kobo_retries(client, kobo, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from tracker.imports import incoming

    def busy(*_args, **_kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(incoming, "_receive", busy)
    answer = post(client, kobo, submission())
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert people() == 0


def test_a_submission_nobody_fixes_is_discarded_with_its_answers(client, kobo):
    from datetime import timedelta

    from tracker.imports import incoming
    from tracker.models import AuditEvent, now_utc

    post(client, kobo, submission(uuid="old-one", nationality="Wakanda"))
    post(client, kobo, submission(uuid="new-one", nationality="Wakanda"))
    old = db.session.scalar(
        select(IncomingSubmission).where(IncomingSubmission.submission_uuid == "old-one")
    )
    old.last_received_at = now_utc() - timedelta(days=91)
    db.session.commit()
    assert incoming.purge_stale(90) == 1
    db.session.expire_all()
    states = {
        s.submission_uuid: (s.state, s.payload is None)
        for s in db.session.scalars(select(IncomingSubmission))
    }
    assert states == {
        "old-one": (SubmissionState.DISCARDED, True),
        "new-one": (SubmissionState.INVALID, False),
    }
    line = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "discard"))
    assert line.entity == "incoming_submission" and line.actor_label == "system"
    assert incoming.purge_stale(90) == 0
