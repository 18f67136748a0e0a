"""Projects set up without a developer: calendar, targets per period, the target shown."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import Project, Role
from tracker.projects import calendar, services


@pytest.fixture
def project(app):
    made = services.create_project(
        "NEW-2025",
        title="Nouveau projet",
        country="mar",
        start_date=date(2025, 2, 15),
        end_date=date(2026, 3, 31),
        donor="Fonds",
    )
    db.session.commit()
    return made


def test_quarters_are_cut_to_the_project_and_due_after_them(project):
    periods = calendar.periods(project)
    assert [p.key for p in periods] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"]
    assert (periods[0].start, periods[0].end) == (date(2025, 2, 15), date(2025, 3, 31))
    assert periods[-1].end == date(2026, 3, 31)
    assert periods[1].due == date(2025, 7, 30)  # 30 days after 30 June


def test_semesters_and_years(project):
    services.update_project(project, calendar="semesters")
    assert [p.key for p in calendar.periods(project)] == ["2025S1", "2025S2", "2026S1"]
    services.update_project(project, calendar="years", report_due_days=60)
    years = calendar.periods(project)
    assert [p.key for p in years] == ["2025", "2026"]
    assert years[0].due == date(2026, 3, 1)


def test_the_target_shown_is_the_target_of_the_period_shown(project):
    services.set_target(project, "trained", 100)
    services.set_target(project, "trained", 20, period="2025Q2", baseline=3)
    services.set_target(project, "trained", 30, period="2025q3")
    db.session.commit()
    whole = calendar.target_for(project, "trained", None, None)
    assert (whole.value, whole.basis) == (100, "project")
    q2 = calendar.target_for(project, "trained", date(2025, 4, 1), date(2025, 6, 30))
    assert (q2.value, q2.basis, q2.baseline) == (20, "periods", 3)
    both = calendar.target_for(project, "trained", date(2025, 4, 1), date(2025, 9, 30))
    assert both.value == 50 and both.periods == ("2025Q2", "2025Q3")
    # a part of the project not made of whole periods with targets: no target at all
    assert calendar.target_for(project, "trained", date(2025, 4, 1), date(2025, 5, 31)) is None
    assert calendar.target_for(project, "trained", date(2025, 1, 1), date(2025, 12, 31)) is None
    assert calendar.target_for(project, "placed", None, None) is None
    # the first quarter is cut to the project's start: asked from January, it still counts
    services.set_target(project, "placed", 2, period="2025Q1")
    first = calendar.target_for(project, "placed", date(2025, 1, 1), date(2025, 3, 31))
    assert first.value == 2


def test_targets_are_checked_and_named(project):
    with pytest.raises(DomainError) as unknown:
        services.set_target(project, "happiness", 3)
    assert unknown.value.field == "indicator"
    with pytest.raises(DomainError) as outside:
        services.set_target(project, "trained", 3, period="2024Q4")
    assert outside.value.field == "period" and "2025Q1" in outside.value.message
    with pytest.raises(DomainError) as negative:
        services.set_target(project, "trained", -1)
    assert negative.value.field == "target"
    with pytest.raises(DomainError) as rate:
        services.set_target(project, "placement_rate", 1)
    assert rate.value.field == "indicator"
    # setting it again replaces it
    services.set_target(project, "trained", 5)
    services.set_target(project, "trained", 7, baseline=1)
    db.session.commit()
    assert [(t.indicator, t.target, t.baseline) for t in project.targets] == [("trained", 7, 1)]


def test_the_calendar_stays_while_targets_use_it(project):
    services.set_target(project, "trained", 20, period="2025Q2")
    with pytest.raises(DomainError) as refused:
        services.update_project(project, calendar="years")
    assert refused.value.field == "calendar"
    services.remove_target(project, "trained", "2025Q2")
    services.update_project(project, calendar="years")
    assert project.calendar == "years"


def test_creation_refuses_bad_values_naming_the_field(app, project):
    cases = [
        ({"code": "NEW-2025"}, "code"),
        ({"code": "a b"}, "code"),
        ({"country": "XX"}, "country"),
        ({"title": "  "}, "title"),
        ({"end_date": date(2024, 1, 1)}, "end_date"),
        ({"calendar": "months"}, "calendar"),
    ]
    for change, field in cases:
        values = {
            "code": "OTHER",
            "title": "T",
            "country": "SEN",
            "start_date": date(2025, 1, 1),
            "end_date": date(2025, 12, 31),
            **change,
        }
        code = values.pop("code")
        with pytest.raises(DomainError) as error:
            services.create_project(code, **values)
        assert error.value.field == field, change


def test_a_new_project_starts_from_another_ones_set_up(app, project, make_course, make_partner):
    services.set_target(project, "trained", 100, baseline=4)
    make_course(project, start=date(2025, 3, 1), end=date(2025, 5, 31), title="Cuisine")
    db.session.commit()
    other = services.create_project(
        "NEXT-2027",
        title="Suite",
        country="MAR",
        start_date=date(2027, 2, 15),
        end_date=date(2027, 12, 31),
    )
    copied = services.copy_setup(project, other)
    db.session.commit()
    assert copied == {"results": 0, "targets": 1, "courses": 1}
    assert [(t.indicator, t.target, t.baseline) for t in other.targets] == [("trained", 100, 4)]
    from sqlalchemy import select

    from tracker.models import TrainingCourse

    course = db.session.scalar(select(TrainingCourse).where(TrainingCourse.project_id == other.id))
    assert (course.title, course.start_date) == ("Cuisine", date(2027, 3, 1))


def test_staff_and_closing(app, project, make_user, make_project):
    other = make_project("OTHER")
    officer = make_user(Role.OFFICER, projects=[other], email="o@example.org")
    lonely = make_user(Role.OFFICER, projects=[project], email="l@example.org")
    services.set_staff(project, [officer, lonely])
    db.session.commit()
    assert project in officer.projects
    with pytest.raises(DomainError) as refused:
        services.set_staff(project, [officer])
    assert refused.value.field == "staff" and "l@example.org" in refused.value.message
    services.close_project(project)
    db.session.commit()
    assert db.session.get(Project, project.id).closed


def test_a_project_is_set_up_from_the_command_line(app, runner):
    made = runner.invoke(
        args=[
            "project", "create", "cli-2025", "--title", "Projet CLI", "--donor", "UE",
            "--country", "SEN", "--start", "2025-01-01", "--end", "2025-12-31",
            "--calendar", "semesters",
        ]
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "CLI-2025" in made.output
    target = runner.invoke(args=["project", "target", "CLI-2025", "trained", "40"])
    assert target.exit_code == 0 and "2025S1 2025S2" in target.output
    part = runner.invoke(
        args=["project", "target", "CLI-2025", "trained", "15", "--period", "2025s1",
              "--baseline", "2"]
    )  # fmt: skip
    assert part.exit_code == 0, part.output
    bad = runner.invoke(
        args=["project", "target", "CLI-2025", "trained", "5", "--period", "2025Q1"]
    )
    assert bad.exit_code == 1 and "--period" in bad.output and "2025S1" in bad.output
    edited = runner.invoke(
        args=["project", "edit", "CLI-2025", "--title", "Nouveau titre", "--close"]
    )
    assert edited.exit_code == 0, edited.output
    listed = runner.invoke(args=["project", "list"])
    assert "CLI-2025" in listed.output and "closed" in listed.output
    project = db.session.scalar(db.select(Project).where(Project.code == "CLI-2025"))
    assert project.title == "Nouveau titre" and project.closed
    assert calendar.target_for(project, "trained", date(2025, 1, 1), date(2025, 6, 30)).value == 15
    refused = runner.invoke(
        args=["project", "create", "X2", "--title", "T", "--country", "ZZZ",
              "--start", "2025-01-01", "--end", "2025-12-31"]
    )  # fmt: skip
    assert refused.exit_code == 1 and "--country" in refused.output


def test_an_admin_sets_up_a_project_on_the_web_and_its_dashboard_shows_the_quarters_target(
    app, client, login, make_user, make_course, make_participant
):
    from tracker.trainings.services import complete, enrol

    admin = make_user(Role.ADMIN, email="admin@example.org")
    login(admin)
    made = client.post(
        "/admin/projects/new",
        data={
            "code": "web-2025",
            "title": "Projet du web",
            "donor": "UE",
            "country": "MAR",
            "start_date": "2025-01-01",
            "end_date": "2025-12-31",
            "calendar": "quarters",
            "report_due_days": "30",
            "like": "",
        },
    )
    assert made.status_code == 302, made.get_data(as_text=True)
    project = db.session.scalar(db.select(Project).where(Project.code == "WEB-2025"))
    assert made.headers["Location"].endswith(f"/admin/projects/{project.id}/targets")
    page = client.get(f"/admin/projects/{project.id}/targets").get_data(as_text=True)
    assert "2025Q1" in page and "2025Q4" in page
    bad = client.post(
        f"/admin/projects/{project.id}/targets",
        data={"t-trained-all": "40", "t-trained-2025Q2": "douze"},
    )
    assert bad.status_code == 200 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert not project.all_targets
    saved = client.post(
        f"/admin/projects/{project.id}/targets",
        data={"t-trained-all": "40", "b-trained-all": "3", "t-trained-2025Q2": "12"},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert {(t.indicator, t.period, t.target, t.baseline) for t in project.all_targets} == {
        ("trained", "all", 40, 3),
        ("trained", "2025Q2", 12, None),
    }
    # three people trained in the second quarter
    course = make_course(project, start=date(2025, 4, 1), end=date(2025, 5, 31))
    for n in range(3):
        person = make_participant(project, given_name=f"P{n}", registered_on=date(2025, 3, 1))
        enrol(person, course, on=date(2025, 3, 20))
        complete(person.enrolments[0], on=date(2025, 5, 31))
    db.session.commit()
    q2 = client.get(f"/dashboard/?project={project.id}&start=2025-04-01&end=2025-06-30").get_data(
        as_text=True
    )
    # three trained against the quarter's 12: 25 %
    assert re.search(r"(target|cible) 12 · 25\s?%", q2), "the quarter's own target"
    whole = client.get(f"/dashboard/?project={project.id}").get_data(as_text=True)
    assert "target 40" in whole or "cible 40" in whole
    # a quarter without a target of its own: never the whole project's target against it
    q3 = client.get(f"/dashboard/?project={project.id}&start=2025-07-01&end=2025-09-30").get_data(
        as_text=True
    )
    assert "target 40 ·" not in q3 and "cible 40 ·" not in q3
    assert "40" in q3  # named as the whole project's


def test_nobody_is_registered_into_a_closed_project(app, project, make_participant, make_user):
    from tracker.imports import services as imports
    from tracker.imports.report import Context

    kept = make_participant(project, registered_on=date(2025, 3, 1))
    services.close_project(project)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        make_participant(project, registered_on=date(2025, 3, 1), given_name="Late")
    assert "closed" in refused.value.message or "clôturé" in refused.value.message
    officer = make_user(Role.OFFICER, projects=[project], email="o@example.org")
    ctx = Context(user=officer, default_project=None, today=date(2025, 6, 1))
    report = imports.run_record(
        "participants",
        {
            "given_name": "Awa", "family_name": "Sy", "sex": "F", "consent_given": "yes",
            "consent_date": "2025-03-01", "project_code": "NEW-2025",
            "registered_on": "2025-03-01",
        },
        source="test",
        ctx=ctx,
    )  # fmt: skip
    assert report.errors and report.errors[0].column == "project_code"
    # what was there stays, and can still be followed
    assert db.session.get(type(kept), kept.id) is not None
