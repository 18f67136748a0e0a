"""Synthetic data at scale: ``flask --app tracker seed --synthetic N``."""

from __future__ import annotations

import pytest
from sqlalchemy import func, or_, select

from tracker import indicators, synthetic
from tracker.extensions import db
from tracker.models import (
    Activity,
    ActivityAttendance,
    AuditEvent,
    Consent,
    ConsentPurpose,
    Enrolment,
    EnrolmentStatus,
    FollowUp,
    Participant,
    Placement,
    Project,
    Role,
    TrainingCourse,
    _derive_search_fields,
)
from tracker.participants.services import likely_duplicates

N = 300


def _scope() -> indicators.Scope:
    project = db.session.scalar(select(Project).where(Project.code == synthetic.CODE))
    return indicators.Scope((project.id,), project.start_date, project.end_date)


def _figures() -> dict:
    """What a dashboard shows of the synthetic project: headline figures and a few breakdowns."""
    scope = _scope()
    figures = dict(indicators.headline(scope))
    for key, dimension in (("trained", "sex"), ("trained", "nationality"), ("placed", "sector")):
        figures[f"{key}/{dimension}"] = indicators.disaggregate(key, dimension, scope)
    figures["trend"] = indicators.by_period("trained", scope)
    return figures


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


@pytest.fixture
def synth(app, runner):
    result = runner.invoke(args=["seed", "--synthetic", str(N), "--rng-seed", "5"])
    assert result.exit_code == 0, result.output
    assert f"Created project {synthetic.CODE}" in result.output
    return db.session.scalar(select(Project).where(Project.code == synthetic.CODE))


def test_creates_the_people_and_what_happens_to_them(synth):
    assert _count(Participant, Participant.project_id == synth.id) == N
    assert _count(Participant) == N
    # every person consented to case management, on the day of registration
    assert _count(Consent, Consent.purpose == ConsentPurpose.CASE_MANAGEMENT) == N
    assert _count(Consent) == N
    unregistered = select(Participant.id).where(
        ~Participant.id.in_(select(Consent.participant_id)),
    )
    assert db.session.scalars(unregistered).all() == []
    assert _count(Enrolment) > N
    for status in EnrolmentStatus:
        assert _count(Enrolment, Enrolment.status == status) > 0
    assert _count(TrainingCourse, TrainingCourse.project_id == synth.id) > 10
    assert _count(Placement, Placement.project_id == synth.id) > 30
    assert _count(FollowUp) > 30
    assert _count(Activity, Activity.project_id == synth.id) >= 10
    assert _count(ActivityAttendance) > 10
    codes = db.session.scalars(select(Participant.code).order_by(Participant.code)).all()
    assert codes[0] == "SYNTH-000001" and codes[-1] == f"SYNTH-{N:06d}"


def test_records_follow_the_rules_of_the_domain(synth):
    # the CHECK constraints held on insert; these are the rules no constraint states
    enrolled_before_registration = (
        select(func.count())
        .select_from(Enrolment)
        .join(Participant, Enrolment.participant_id == Participant.id)
        .where(Enrolment.enrolled_on < Participant.registered_on)
    )
    assert db.session.scalar(enrolled_before_registration) == 0
    outside_course = (
        select(func.count())
        .select_from(Enrolment)
        .join(TrainingCourse, Enrolment.course_id == TrainingCourse.id)
        .where(
            or_(
                Enrolment.completed_on != TrainingCourse.end_date,
                Enrolment.dropped_on < TrainingCourse.start_date,
                Enrolment.dropped_on > TrainingCourse.end_date,
            )
        )
    )
    assert db.session.scalar(outside_course) == 0
    # a placement starts after a completed course of the same person
    placed_untrained = (
        select(func.count())
        .select_from(Placement)
        .where(
            ~Placement.participant_id.in_(
                select(Enrolment.participant_id).where(
                    Enrolment.status == EnrolmentStatus.COMPLETED,
                    Enrolment.completed_on < Placement.start_date,
                )
            )
        )
    )
    assert db.session.scalar(placed_untrained) == 0
    # a job has an employer, an IGA a business name; follow-ups come after the start
    assert _count(Placement, Placement.employer_id.is_(None), Placement.kind == "employment") == 0
    assert _count(Placement, Placement.business_name.is_(None), Placement.kind == "iga") == 0
    early = (
        select(func.count())
        .select_from(FollowUp)
        .join(Placement, FollowUp.placement_id == Placement.id)
        .where(FollowUp.followed_on <= Placement.start_date)
    )
    assert db.session.scalar(early) == 0
    # nothing happens after the day the data describes
    for column in (Enrolment.completed_on, Enrolment.dropped_on, FollowUp.followed_on):
        assert db.session.scalar(select(func.max(column))) <= synthetic.AS_OF
    births = db.session.execute(select(Participant.date_of_birth, Participant.birth_year)).all()
    assert all(born is None or born.year == year for born, year in births)
    assert sum(born is not None for born, _year in births) > N * 0.9


def test_figures_are_plausible(synth):
    figures = _figures()
    assert figures["registered"] == N
    # like the reference programme: ~88 % of the registered trained, ~30 % of those placed
    assert 0.78 <= figures["trained"] / N <= 0.95
    assert 0.2 <= figures["placement_rate"] <= 0.42
    assert 0 < figures["retained_6m"] < figures["placed"]
    assert figures["institutions_strengthened"] > 0
    assert figures["awareness_partners"] > 0
    assert {sex for sex, _n in figures["trained/sex"]} == {"F", "M"}
    assert len(figures["trained/nationality"]) >= 8
    assert sum(n for _y, _q, n in figures["trend"]) == figures["trained"]
    kinds = indicators.placed_by_kind(_scope())
    assert kinds["employment"] > 0 and kinds["iga"] > 0
    assert sum(kinds.values()) == figures["placed"]


def test_one_audit_line_for_the_whole_generation(synth):
    lines = db.session.scalars(select(AuditEvent)).all()
    assert len(lines) == 1
    (line,) = lines
    assert (line.action, line.entity, line.entity_id) == ("create", "project", synth.id)
    assert line.actor_label == "cli:seed"
    assert line.changes["participants"] == N
    assert line.changes["rng_seed"] == 5
    assert line.changes["enrolments"] == _count(Enrolment)


def test_search_fields_are_those_the_orm_would_write(synth):
    people = db.session.scalars(select(Participant).order_by(Participant.id).limit(50)).all()
    for person in people:
        stored = (person.search_text, person.name_key)
        _derive_search_fields(None, None, person)
        assert (person.search_text, person.name_key) == stored
        assert person.name_key
    db.session.rollback()


def test_search_and_duplicate_check_find_a_synthetic_person(synth, client, signin, make_user):
    person = db.session.scalar(
        select(Participant).where(Participant.email.is_not(None)).order_by(Participant.code)
    )
    manager = make_user(Role.MANAGER, [synth], email="synth-manager@example.org")
    signin(manager)
    family = person.family_name.upper()
    response = client.get("/participants/", query_string={"q": f"{person.given_name} {family}"})
    assert response.status_code == 200
    assert person.code in response.text
    response = client.get("/participants/", query_string={"q": person.phone.replace(" ", "")})
    assert person.code in response.text
    found = likely_duplicates(
        given_name=person.given_name,
        family_name=person.family_name,
        date_of_birth=person.date_of_birth,
        nationality=person.nationality,
    )
    assert person.id in {c.participant.id for c in found}


def test_same_seed_same_figures_other_seed_other_figures(app):
    synthetic.generate(N, 11)
    first = _figures()
    db.session.rollback()
    synthetic.generate(N, 11)
    assert _figures() == first
    db.session.rollback()
    synthetic.generate(N, 12)
    assert _figures() != first
    db.session.rollback()


def test_generates_once(synth, runner):
    result = runner.invoke(args=["seed", "--synthetic", "10"])
    assert result.exit_code == 1
    assert "Error: project SYNTH already exists (300 participants)" in result.output
    assert _count(Participant) == N
    with pytest.raises(synthetic.SyntheticError, match="already exists"):
        synthetic.generate(10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--synthetic", "0"], "0 is not in the range x>=1"),
        (["--rng-seed", "3"], "--rng-seed applies to --synthetic only"),
        (["--synthetic", "5", "--from-dir", "seed_data"], "cannot be used together"),
    ],
)
def test_command_errors(runner, args, message):
    result = runner.invoke(args=["seed", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert _count(Participant) == 0


def test_courses_still_running_keep_their_people_enrolled(synth):
    finished_early = (
        select(func.count())
        .select_from(Enrolment)
        .join(TrainingCourse, Enrolment.course_id == TrainingCourse.id)
        .where(
            TrainingCourse.end_date > synthetic.AS_OF,
            Enrolment.status == EnrolmentStatus.COMPLETED,
        )
    )
    assert db.session.scalar(finished_early) == 0
