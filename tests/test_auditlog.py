"""The audit log: append-only from the app, readable by administrators with filters."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from tracker import audit
from tracker.audit import AuditLogIsAppendOnly
from tracker.extensions import db
from tracker.models import AuditEvent, Role


def _line(**kw) -> AuditEvent:
    kw.setdefault("actor_label", "cli:test")
    kw.setdefault("action", "create")
    kw.setdefault("entity", "project")
    event = AuditEvent(**kw)
    db.session.add(event)
    db.session.commit()
    return event


def _stored(event_id: int):
    return db.session.execute(
        text("SELECT action, actor_label FROM audit_event WHERE id = :id"), {"id": event_id}
    ).one_or_none()


# --- append-only ----------------------------------------------------------------


def test_changing_a_committed_line_is_refused(app):
    event = _line(action="login", entity="user")
    event.actor_label = "someone else"
    with pytest.raises(AuditLogIsAppendOnly, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert tuple(_stored(event.id)) == ("login", "cli:test")


def test_deleting_a_committed_line_is_refused(app):
    event = _line()
    db.session.delete(event)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert _stored(event.id) is not None


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).values(actor_label="forged"),
        delete(AuditEvent),
        update(AuditEvent.__table__).values(actor_label="forged"),
        delete(AuditEvent.__table__).where(AuditEvent.__table__.c.action == "create"),
    ],
    ids=["orm update", "orm delete", "core update", "core delete"],
)
def test_bulk_statements_on_the_log_are_refused(app, statement):
    event = _line()
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(statement)
    db.session.rollback()
    assert tuple(_stored(event.id)) == ("create", "cli:test")


def test_a_session_of_its_own_cannot_change_the_log_either(app):
    """The short sessions that write read lines go through the same mapper guard."""
    event_id = _line().id
    db.session.commit()  # the app's session lets go of the database (SQLite: one writer)
    with Session(db.engine) as session:
        session.get(AuditEvent, event_id).action = "view"
        with pytest.raises(AuditLogIsAppendOnly):
            session.commit()
    assert _stored(event_id).action == "create"


def test_a_line_may_be_completed_before_its_transaction_commits(app):
    """An import writes its line first and its totals at the end, in one transaction."""
    event = audit.record(db.session, "import", "participants", None, {})
    db.session.flush()
    event.changes = {"rows": 3}
    db.session.commit()
    assert db.session.get(AuditEvent, event.id).changes == {"rows": 3}
    # committed: from now on it is part of the log
    event.changes = {"rows": 4}
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()


def test_other_tables_still_update_and_delete(make_project, make_partner):
    partner = make_partner("Old name")
    db.session.commit()
    partner.name = "New name"
    db.session.commit()
    db.session.delete(partner)
    db.session.commit()
    assert [
        e.action
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "partner").order_by(AuditEvent.id)
        )
    ] == ["create", "update", "delete"]


# --- the page ---------------------------------------------------------------------


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, [], email="admin@example.org")


def _page(client, **args) -> str:
    response = client.get("/admin/audit/", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _lines(page: str) -> str:
    """The list of lines, without the filter form (whose menus name every user)."""
    start = page.find('<ol class="history audit">')
    return page[start : page.index("</ol>", start)] if start >= 0 else ""


def test_only_administrators_open_the_log(client, signin, admin, officer, manager, viewer):
    for user in (officer, manager, viewer):
        client.post("/auth/logout")
        signin(user)
        assert client.get("/admin/audit/").status_code == 403
        assert "/admin/audit/" not in client.get("/").get_data(as_text=True)
    client.post("/auth/logout")
    signin(admin)
    assert "/admin/audit/" in client.get("/").get_data(as_text=True)
    assert client.get("/admin/audit/").status_code == 200


def test_lines_in_words_newest_first_with_links(
    client, signin, admin, officer, project, make_participant
):
    with audit.acting_as("officer@example.org", officer):
        person = make_participant(project, region="Oriental")
        db.session.commit()
        person.region = "Souss-Massa"
        db.session.commit()
    signin(admin)
    page = _page(client, entity="participant")
    changed = page.index("changed · ")
    created = page.index("created · ")
    assert changed < created  # newest first
    # each value in its own <bdi> (it keeps its direction in an Arabic line)
    assert "Region: Oriental → Souss-Massa" in re.sub(r"</?bdi>", "", page)
    assert f'href="/participants/{person.id}"' in page
    assert f"participant #{person.id}" in page
    assert "officer@example.org" in page


def test_no_personal_value_reaches_the_page(client, signin, admin, project, make_participant):
    person = make_participant(
        project,
        given_name="Zyxw",
        family_name="Qunique",
        phone="+212 611 22 33 44",
        email="zyxw@example.net",
    )
    person.sensitive_notes = "Vulnerable: pregnant"
    db.session.commit()
    person.family_name = "Quniquette"
    person.phone = "+212 699 88 77 66"
    db.session.commit()
    signin(admin)
    client.get(f"/participants/{person.id}")  # a read line too
    page = _page(client)
    for secret in ("Zyxw", "Qunique", "611 22", "699 88", "zyxw@", "pregnant", "***"):
        assert secret not in page
    # the fields are named, their values are not
    assert "Family name" in page and "Phone" in page


def test_filters(client, signin, admin, officer, make_user):
    other = make_user(Role.MANAGER, [], email="other@example.org")
    _line(
        actor_id=officer.id,
        actor_label=officer.email,
        action="login",
        entity="user",
        entity_id=officer.id,
        occurred_at=datetime(2024, 3, 1, 9, tzinfo=UTC),
    )
    _line(
        actor_id=other.id,
        actor_label=other.email,
        action="export",
        entity="participants",
        occurred_at=datetime(2024, 3, 5, 23, 59, tzinfo=UTC),
    )
    _line(
        actor_label="cli:retention",
        action="erase",
        entity="participant",
        entity_id=77,
        occurred_at=datetime(2024, 4, 2, 0, 0, tzinfo=UTC),
    )
    signin(admin)

    def shown(**args):
        page = _lines(_page(client, **args))
        return {label for label in (officer.email, other.email, "cli:retention") if label in page}

    assert shown() == {officer.email, other.email, "cli:retention"}
    assert shown(actor=other.id) == {other.email}
    assert shown(action="erase") == {"cli:retention"}
    assert shown(entity="participants") == {other.email}
    assert shown(record=77) == {"cli:retention"}
    # whole days, both ends included
    assert shown(start="2024-03-05", end="2024-03-05") == {other.email}
    assert shown(start="2024-03-01", end="2024-04-01") == {officer.email, other.email}
    assert shown(start="2024-04-02", end="2024-04-30") == {"cli:retention"}
    assert shown(text="CLI:") == {"cli:retention"}
    assert shown(text="%") == set()  # a LIKE wildcard is taken literally
    assert shown(action="login", start="2024-03-02") == set()


def test_bad_filters_are_named_and_left_out(client, signin, admin):
    _line(actor_label="cli:seed", occurred_at=datetime(2024, 5, 2, tzinfo=UTC))
    _line(actor_label="cli:demo", occurred_at=datetime(2024, 5, 3, tzinfo=UTC))
    signin(admin)
    page = _page(client, start="2024-05-02", end="2024-05-01", record="-3", text="cli:")
    assert "The end of the period is before its start." in page
    assert "The record number is a whole number from 1." in page
    # the filters that are right still apply
    assert "cli:seed" in _lines(page) and "cli:demo" in _lines(page)
    assert "admin@example.org" not in _lines(page)
    page = _page(client, record="abc", text="cli:seed")
    assert "Not a valid integer value." in page
    assert "cli:seed" in _lines(page) and "cli:demo" not in _lines(page)


def test_pages_of_fifty(client, signin, admin):
    for n in range(55):
        db.session.add(
            AuditEvent(
                actor_label=f"cli:n{n:02d}",
                action="create",
                entity="project",
                occurred_at=datetime(2024, 1, 1, 0, n, tzinfo=UTC),
            )
        )
    db.session.commit()
    signin(admin)
    first = _page(client, text="cli:n")
    assert "cli:n54" in first and "cli:n05" in first and "cli:n04" not in first
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = _page(client, text="cli:n", page=2)
    assert "cli:n04" in second and "cli:n00" in second and "cli:n05" not in second
    # the next page link keeps the filter
    assert "text=cli:n&amp;page=2" in first


def test_links_to_records_of_other_kinds(
    client, signin, admin, project, make_participant, make_course
):
    from tracker.trainings.services import enrol

    person = make_participant(project)
    course = make_course(project)
    enrolment = enrol(person, course, on=date(2015, 1, 20))
    db.session.commit()
    signin(admin)
    page = _page(client, entity="enrolment")
    assert f"enrolment #{enrolment.id}" in page
    assert f'href="/participants/{person.id}"' in page
    page = _page(client, entity="training_course")
    assert f'href="/trainings/{course.id}"' in page
