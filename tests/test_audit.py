"""One hook writes the audit log; personal values never reach it."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
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

    from tracker.auditlog.sentences import describe_change

    with force_locale("fr"):
        assert describe_change("enrolment", "status", ["enrolled", "completed"]) == (
            "Statut : Terminée au lieu de En cours"
        )
        # an empty side is said in words, never "∅ →"
        assert describe_change("placement", "kind", [None, "iga"]) == (
            "Type : Activité génératrice de revenus (auparavant vide)"
        )
        assert describe_change("participant", "region", ["Oriental", ""]) == (
            # the value typed is isolated from the sentence's direction (FSI…PDI)
            "Région : valeur \u2068Oriental\u2069 effacée"
        )
        assert describe_change("participant", "phone", ["***", "***"]) == (
            "Téléphone : valeur modifiée (non conservée dans le journal)"
        )
        assert describe_change("placement", "verified", [False, True]) == (
            "Vérifiée : oui au lieu de non"
        )
        assert describe_change("enrolment", "completed_on", [None, "2015-05-31"]) == (
            "Date de fin : 31 mai 2015 (auparavant vide)"
        )
    with force_locale("en"):
        assert describe_change("enrolment", "status", ["enrolled", "completed"]) == (
            "Status changed from Enrolled to Completed"
        )
        assert describe_change("placement", "kind", [None, "iga"]) == (
            "Kind set to Income-generating activity"
        )
        assert describe_change("participant", "region", ["Oriental", None]) == (
            "Region removed (was \u2068Oriental\u2069)"
        )
        assert describe_change("participant", "phone", ["***", "***"]) == (
            "Phone changed (the value is not kept in the log)"
        )
        assert describe_change("placement", "verified", [False, True]) == (
            "Verified changed from no to yes"
        )
        assert describe_change("enrolment", "completed_on", [None, "2015-05-31"]) == (
            "Completion date set to May 31, 2015"
        )
        assert describe_change("participant", "nationality", ["CMR", "CIV"]) == (
            "Nationality changed from Cameroon to Côte d’Ivoire"
        )


def test_business_names_notes_incomes_and_contacts_stay_out_of_the_log(
    make_project, make_participant, make_partner
):
    from decimal import Decimal

    from tracker.models import PlacementKind
    from tracker.placements.services import record_follow_up, record_placement

    person = make_participant(make_project(), given_name="Fatou", family_name="Sow")
    placement = record_placement(
        person,
        kind=PlacementKind.IGA,
        sector="Couture",
        start_date=date(2015, 7, 1),
        business_name="Couture Fatou Sow",
        monthly_income=Decimal("2100"),
    )
    record_follow_up(
        placement,
        months_after=3,
        followed_on=date(2015, 10, 1),
        still_active=True,
        note="Fatou a déménagé chez sa sœur",
    )
    make_partner("Employer", contact_name="Karim Alaoui", contact_phone="+212 600 00 00 09")
    db.session.commit()
    logged = str([e.changes for e in events()])
    for secret in ("Couture Fatou Sow", "2100", "déménagé", "Karim", "600 00 00 09"):
        assert secret not in logged, secret


def test_erasure_removes_follow_up_notes(make_project, make_participant):
    from tracker.models import PlacementKind
    from tracker.participants.services import erase
    from tracker.placements.services import record_follow_up, record_placement

    person = make_participant(make_project())
    placement = record_placement(
        person,
        kind=PlacementKind.IGA,
        sector="Couture",
        start_date=date(2015, 7, 1),
        business_name="Atelier",
    )
    follow_up = record_follow_up(
        placement, months_after=3, followed_on=date(2015, 10, 1), still_active=True, note="x"
    )
    erase(person)
    db.session.commit()
    assert follow_up.note is None and follow_up.still_active is True


@settings(deadline=None)
@given(st.sets(st.integers(1, 60), max_size=40), st.integers(0, 62))
def test_id_ranges_hold_exactly_the_ids_given(ids, probe):
    """An export's line keeps its people as runs of ids: none lost, none added."""
    ranges = audit.id_ranges(ids)
    assert audit.in_ranges(ranges, [probe]) == (probe in ids)
    assert audit.ranges_size(ranges) == len(ids)
    # sorted, disjoint and never touching: the shortest form
    assert all(first <= last for first, last in ranges)
    assert all(a[1] + 1 < b[0] for a, b in zip(ranges, ranges[1:], strict=False))


def test_id_ranges_of_a_whole_project_are_a_few_pairs():
    assert audit.id_ranges([*range(1, 4001), *range(4002, 5000), 7]) == [[1, 4000], [4002, 4999]]
    assert audit.id_ranges([]) == [] and not audit.in_ranges([], [1])
