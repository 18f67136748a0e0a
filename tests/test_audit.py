"""One hook writes the audit log; personal values never reach it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker import audit
from tracker.extensions import db
from tracker.models import AuditEvent, Participant


def events(entity=None):
    query = select(AuditEvent).order_by(AuditEvent.id)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    return db.session.scalars(query).all()


def test_create_is_logged_with_personal_fields_masked(make_project, make_participant):
    project = make_project()
    with audit.acting_as("cli:test"):
        person = make_participant(project, given_name="Mariam", phone="+212 600 00 00 01")
        db.session.commit()
    (event,) = events("participant")
    assert (event.action, event.entity_id, event.actor_label) == ("create", person.id, "cli:test")
    assert event.changes["code"] == [None, person.code]
    assert event.changes["given_name"] == [None, "***"]
    assert event.changes["phone"] == [None, "***"]
    assert "mariam" not in str(event.changes).lower()
    assert "600 00" not in str(event.changes)
    # the consent created with the person is logged too
    assert [e.action for e in events("consent")] == ["create"]


def test_update_lists_old_and_new_values(make_project, make_participant):
    project = make_project()
    person = make_participant(project, region="Oriental", family_name="Diallo")
    db.session.commit()
    person.region = "Souss-Massa"
    person.family_name = "Diallo-Bah"
    db.session.commit()
    update = events("participant")[-1]
    assert update.action == "update"
    assert update.changes == {
        "region": ["Oriental", "Souss-Massa"],
        "family_name": ["***", "***"],
    }


def test_no_audit_line_when_nothing_changed(make_project, make_participant):
    person = make_participant(make_project())
    db.session.commit()
    before = len(events())
    person.region = person.region
    db.session.commit()
    assert len(events()) == before


def test_rolled_back_change_leaves_no_audit_line(make_project, make_participant):
    project = make_project()
    db.session.commit()
    make_participant(project)
    db.session.flush()
    db.session.rollback()
    assert events("participant") == []
    assert db.session.scalar(select(Participant.id)) is None


def test_record_for_non_row_events(app, make_project):
    project = make_project()
    with audit.acting_as("cli:report"):
        audit.record(db.session, "report", "project", project.id, {"from": date(2015, 1, 1)})
    db.session.commit()
    (event,) = [e for e in events("project") if e.action == "report"]
    assert (event.entity_id, event.actor_label) == (project.id, "cli:report")
    assert event.changes == {"from": "2015-01-01"}


def test_changes_read_as_sentences(app):
    from flask_babel import force_locale

    with force_locale("fr"):
        assert (
            audit.describe_change("enrolment", "status", ["enrolled", "completed"])
            == "Statut : En cours → Terminée"
        )
        assert audit.describe_change("placement", "kind", [None, "iga"]) == (
            "Type : ∅ → Activité génératrice de revenus"
        )
        assert audit.describe_change("participant", "phone", ["***", "***"]) == "Téléphone"
        assert audit.describe_change("placement", "project_id", [None, 1]) == "project id"
        assert audit.describe_change("placement", "verified", [False, True]) == (
            "Vérifiée : non → oui"
        )
