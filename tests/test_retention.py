"""The retention period: cases untouched for RETENTION_YEARS are listed, then erased on request."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.maintenance import retention
from tracker.models import AuditEvent, Enrolment, Participant, PlacementKind
from tracker.participants.services import ERASED, erase
from tracker.placements.services import record_follow_up, record_placement
from tracker.trainings.services import complete, enrol

TODAY = date(2026, 6, 15)  # five years before: 2021-06-15


@pytest.fixture
def cases(make_project, make_participant, make_course):
    """One person per rule, named after what keeps her (or not) within the period."""
    project = make_project("OLD", start=date(2012, 1, 1), end=date(2026, 12, 31))
    other = make_project("ELSEWHERE", start=date(2012, 1, 1), end=date(2026, 12, 31))

    def person(registered_on, project=project, **kw):
        return make_participant(project, registered_on=registered_on, **kw)

    people = {
        "registered_long_ago": person(date(2019, 3, 1)),
        "registered_recently": person(date(2022, 1, 10)),
        "enrolled_recently": person(date(2015, 1, 10)),
        "completed_recently": person(date(2015, 1, 10)),
        "placement_ended_recently": person(date(2015, 1, 10)),
        "followed_up_recently": person(date(2015, 1, 10)),
        "placement_long_ago": person(date(2015, 1, 10)),
        "archived_recently": person(date(2015, 1, 10)),
        "archived_long_ago": person(date(2015, 1, 10)),
        "already_erased": person(date(2015, 1, 10)),
        "other_project": person(date(2016, 5, 5), project=other),
        "exactly_five_years": person(TODAY.replace(year=2021)),
    }
    course = make_course(project, start=date(2021, 9, 1), end=date(2022, 6, 30))
    enrol(people["enrolled_recently"], course, on=date(2021, 8, 20))
    old_course = make_course(project, start=date(2015, 2, 1), end=date(2021, 10, 31))
    enrolment = enrol(people["completed_recently"], old_course, on=date(2015, 1, 20))
    complete(enrolment, on=date(2021, 10, 31))
    record_placement(
        people["placement_ended_recently"],
        kind=PlacementKind.EMPLOYMENT,
        business_name="Restaurant Atlas",
        sector="Cuisine",
        start_date=date(2016, 1, 1),
        end_date=date(2023, 1, 1),
    )
    followed = record_placement(
        people["followed_up_recently"],
        kind=PlacementKind.IGA,
        sector="Couture",
        business_name="Atelier de Fatou",
        start_date=date(2020, 1, 1),
    )
    record_follow_up(
        followed, months_after=24, followed_on=date(2022, 1, 1), still_active=True, today=TODAY
    )
    record_placement(
        people["placement_long_ago"],
        kind=PlacementKind.EMPLOYMENT,
        business_name="Restaurant Atlas",
        sector="Cuisine",
        start_date=date(2016, 1, 1),
        end_date=date(2018, 1, 1),
    )
    people["archived_recently"].archived_at = datetime(2024, 2, 2, 10, tzinfo=UTC)
    people["archived_long_ago"].archived_at = datetime(2017, 2, 2, 23, 30, tzinfo=UTC)
    erase(people["already_erased"])
    people["already_erased"].archived_at = datetime(2016, 1, 1, tzinfo=UTC)
    db.session.commit()
    return people


def _listed(people, **kw):
    found = retention.past_retention(5, today=TODAY, **kw)
    by_id = {p.id: name for name, p in people.items()}
    return {by_id[case.participant_id]: case.last_activity for case in found}


def test_last_activity_is_the_latest_of_every_dated_event(cases):
    assert _listed(cases) == {
        "registered_long_ago": date(2019, 3, 1),
        "placement_long_ago": date(2018, 1, 1),
        "archived_long_ago": date(2017, 2, 2),
        "other_project": date(2016, 5, 5),
    }


def test_one_project_only(cases):
    project = cases["registered_long_ago"].project
    assert set(_listed(cases, project=project)) == {
        "registered_long_ago",
        "placement_long_ago",
        "archived_long_ago",
    }


def test_cutoff_on_the_29th_of_february():
    assert retention.cutoff(5, date(2028, 2, 29)) == date(2023, 2, 28)
    assert retention.cutoff(5, date(2026, 6, 15)) == date(2021, 6, 15)


# --- the command, with dates counted back from today -------------------------------------


def _years_ago(years: int, days: int = 0) -> date:
    today = date.today()
    return retention.cutoff(years, today) - timedelta(days=days)


@pytest.fixture
def recent_and_old(make_project, make_participant):
    project = make_project("P1", start=date(2010, 1, 1), end=date.today())
    second = make_project("P2", start=date(2010, 1, 1), end=date.today())
    old = make_participant(
        project, registered_on=_years_ago(7), given_name="Aminata", phone="+212 600 11 22 33"
    )
    older = make_participant(second, registered_on=_years_ago(9), given_name="Khadija")
    recent = make_participant(project, registered_on=_years_ago(2), given_name="Mariam")
    kept = make_participant(project, registered_on=_years_ago(9), given_name="Grace")
    record_placement(
        kept,
        kind=PlacementKind.EMPLOYMENT,
        business_name="Restaurant Atlas",
        sector="Cuisine",
        start_date=_years_ago(8),
        end_date=_years_ago(4),
    )
    db.session.commit()
    return old, older, recent, kept


def test_the_command_lists_without_erasing(runner, recent_and_old):
    old, older, recent, kept = recent_and_old
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "2 participant(s) past the retention period of 5 years" in result.output
    assert f"{older.code}  last activity {_years_ago(9)}" in result.output
    assert f"{old.code}  last activity {_years_ago(7)}" in result.output
    assert result.output.index(older.code) < result.output.index(old.code)  # oldest first
    assert "9.0 years ago" in result.output
    assert recent.code not in result.output and kept.code not in result.output
    assert "Aminata" not in result.output  # codes only
    assert "Nothing erased" in result.output
    db.session.expire_all()
    assert old.given_name == "Aminata" and old.erased_at is None


def test_erase_keeps_codes_and_figures_and_is_audited(runner, recent_and_old, make_course):
    old, older, recent, kept = recent_and_old
    enrolments = db.session.scalar(select(func.count(Enrolment.id)))
    result = runner.invoke(args=["retention", "--erase", "--project", "P1"])
    assert result.exit_code == 0, result.output
    assert "Erased the identity of 1 participant(s)" in result.output
    db.session.expire_all()
    assert (old.given_name, old.family_name, old.phone) == (ERASED, ERASED, None)
    assert old.erased_at is not None and old.code and old.sex and old.registered_on
    assert older.given_name == "Khadija"  # another project
    assert recent.given_name == "Mariam" and kept.given_name == "Grace"
    assert db.session.scalar(select(func.count(Enrolment.id))) == enrolments
    lines = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "participant", AuditEvent.entity_id == old.id)
    ).all()
    by_action = {line.action: line for line in lines if line.actor_label == "cli:retention"}
    assert set(by_action) == {"update", "erase"}
    assert by_action["erase"].changes == {
        "reason": "retention",
        "last_activity": _years_ago(7).isoformat(),
        "retention_years": 5,
    }
    assert "Aminata" not in str(by_action["update"].changes)
    # run again: nothing left to erase there
    again = runner.invoke(args=["retention", "--project", "P1"])
    assert "No participant is past the retention period" in again.output


def test_erasure_is_all_or_nothing(runner, recent_and_old, monkeypatch):
    old, older, recent, kept = recent_and_old
    calls = []

    def failing_erase(participant):
        calls.append(participant.id)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        erase(participant)

    monkeypatch.setattr(retention, "erase", failing_erase)
    result = runner.invoke(args=["retention", "--erase"])
    assert result.exit_code == 1
    assert "nothing was erased" in result.output
    db.session.expire_all()
    assert len(calls) == 2
    assert db.session.scalar(select(func.count()).where(Participant.erased_at.is_not(None))) == 0
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.actor_label == "cli:retention")
    ).all()


def test_retention_years_comes_from_the_configuration(app, runner, recent_and_old):
    app.config["RETENTION_YEARS"] = 8
    result = runner.invoke(args=["retention"])
    assert "1 participant(s) past the retention period of 8 years" in result.output
    app.config["RETENTION_YEARS"] = 0
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 1
    assert "RETENTION_YEARS must be a whole number of years from 1" in result.output
