"""Trainings on the web: the course list, course forms, the roster, enrolments and outcomes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tracker import indicators
from tracker.extensions import db
from tracker.indicators import Scope
from tracker.models import (
    AuditEvent,
    CourseKind,
    Enrolment,
    EnrolmentStatus,
    PartnerKind,
    Role,
    Sex,
    TrainingCourse,
)
from tracker.trainings.services import complete, drop_out, enrol

TODAY = date.today()


def enrolments() -> int:
    return db.session.scalar(select(func.count(Enrolment.id)))


def page_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def ofppt(make_partner):
    return make_partner("Office de la formation professionnelle", acronym="OFPPT")


@pytest.fixture
def course(make_course, project, ofppt):
    return make_course(
        project,
        provider=ofppt,
        title="Cuisine et restauration",
        start=date(2015, 2, 1),
        end=date(2015, 5, 31),
        capacity=3,
    )


@pytest.fixture
def women(make_participant, project):
    return [
        make_participant(project, given_name="Aïssatou", family_name="Ndiaye"),
        make_participant(project, given_name="Fatoumata", family_name="Diallo"),
        make_participant(project, given_name="Chantal", family_name="Mputu"),
        make_participant(project, given_name="Grace", family_name="Okafor"),
    ]


def course_data(project, provider, **overrides):
    data = {
        "project_id": str(project.id),
        "title": "Couture et confection",
        "provider_id": str(provider.id),
        "sector": "Couture",
        "kind": "vocational",
        "city": "Rabat",
        "start_date": "2015-03-02",
        "end_date": "2015-07-31",
        "hours": "300",
        "capacity": "20",
    }
    data.update(overrides)
    return data


def trained(project) -> int:
    return indicators.count("trained", Scope((project.id,), project.start_date, project.end_date))


class TestList:
    def test_rows_show_provider_sector_dates_seats_and_completions(
        self, client, signin, officer, course, women
    ):
        complete(enrol(women[0], course, on=date(2015, 1, 20)), on=date(2015, 5, 31))
        enrol(women[1], course, on=date(2015, 1, 20))
        drop_out(enrol(women[2], course, on=date(2015, 1, 20)), on=date(2015, 3, 1))
        signin(officer)
        page = page_of(client.get("/trainings/"))
        assert "Cuisine et restauration" in page
        assert "OFPPT" in page and "Cuisine" in page
        # two seats taken of three (the drop-out gave hers back), one completed
        assert '<td class="num">2&nbsp;/&nbsp;3</td>' in page
        assert '<td class="num">1</td>' in page
        assert f'href="/trainings/{course.id}"' in page

    def test_filters(self, client, signin, make_user, make_course, make_partner, project):
        other = make_project_course = None  # noqa: F841 (readability)
        school = make_partner("École hôtelière", acronym="EH")
        association = make_partner("Association Amal", kind=PartnerKind.NGO)
        make_course(project, title="Finished hotel", provider=school, end=date(2015, 6, 1))
        make_course(
            project,
            title="Running language",
            provider=association,
            kind=CourseKind.LANGUAGE,
            start=TODAY - timedelta(days=10),
            end=TODAY + timedelta(days=10),
        )
        make_course(
            project,
            title="Upcoming business",
            provider=association,
            kind=CourseKind.ENTREPRENEURSHIP,
            start=TODAY + timedelta(days=10),
            end=TODAY + timedelta(days=40),
        )
        signin(make_user(Role.MANAGER, [project]))

        def shown(**args):
            page = page_of(client.get("/trainings/", query_string=args))
            return {
                t for t in ("Finished hotel", "Running language", "Upcoming business") if t in page
            }

        assert shown() == {"Finished hotel", "Running language", "Upcoming business"}
        assert shown(period="running") == {"Running language"}
        assert shown(period="upcoming") == {"Upcoming business"}
        assert shown(period="finished") == {"Finished hotel"}
        assert shown(provider=str(association.id)) == {"Running language", "Upcoming business"}
        assert shown(kind="language") == {"Running language"}
        assert shown(q="business") == {"Upcoming business"}
        assert shown(project=str(project.id), kind="vocational") == {"Finished hotel"}

    def test_project_filter_and_scope(
        self, client, signin, make_user, make_course, project, other_project
    ):
        make_course(project, title="Ours")
        make_course(other_project, title="Theirs")
        admin = make_user(Role.ADMIN, email="admin@example.org")
        signin(admin)
        assert "Theirs" in page_of(client.get("/trainings/"))
        page = page_of(client.get("/trainings/", query_string={"project": str(project.id)}))
        assert "Ours" in page and "Theirs" not in page
        client.post("/auth/logout")
        signin(make_user(Role.OFFICER, [project], email="o2@example.org"))
        page = page_of(client.get("/trainings/"))
        assert "Ours" in page and "Theirs" not in page

    def test_viewer_sees_courses_but_no_create_button(self, client, signin, viewer, course):
        signin(viewer)
        page = page_of(client.get("/trainings/"))
        assert "Cuisine et restauration" in page
        assert "/trainings/new" not in page


class TestCourseForm:
    def test_manager_creates_a_course(self, client, signin, manager, project, ofppt):
        signin(manager)
        form = page_of(client.get("/trainings/new"))
        # training providers come first, in their own group
        assert '<optgroup label="Training providers">' in form
        response = client.post("/trainings/new", data=course_data(project, ofppt))
        assert response.status_code == 302
        course = db.session.scalar(select(TrainingCourse))
        assert response.headers["Location"] == f"/trainings/{course.id}"
        assert (course.title, course.provider_id, course.kind) == (
            "Couture et confection",
            ofppt.id,
            CourseKind.VOCATIONAL,
        )
        assert (course.start_date, course.end_date, course.hours, course.capacity) == (
            date(2015, 3, 2),
            date(2015, 7, 31),
            300,
            20,
        )

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"end_date": "2015-03-01"}, "end_date", "The course cannot end before it starts."),
            ({"capacity": "0"}, "capacity", "The capacity must be at least 1."),
            ({"hours": "-3"}, "hours", "Give a number of hours of at least 1."),
            ({"provider_id": ""}, "provider_id", "Choose the partner that gives the course."),
            ({"title": ""}, "title", "This field is required."),
        ],
    )
    def test_errors_are_shown_next_to_the_field(
        self, client, signin, manager, project, ofppt, overrides, field, message
    ):
        signin(manager)
        response = client.post("/trainings/new", data=course_data(project, ofppt, **overrides))
        assert response.status_code == 200
        page = page_of(response)
        assert f'<p class="error" id="{field}-error">{message}</p>' in page
        assert db.session.scalar(select(func.count(TrainingCourse.id))) == 0

    def test_same_title_and_start_is_refused(self, client, signin, manager, project, ofppt):
        signin(manager)
        assert client.post("/trainings/new", data=course_data(project, ofppt)).status_code == 302
        page = page_of(client.post("/trainings/new", data=course_data(project, ofppt)))
        assert 'id="title-error"' in page
        assert db.session.scalar(select(func.count(TrainingCourse.id))) == 1

    def test_cannot_create_in_a_project_not_assigned(
        self, client, signin, manager, other_project, ofppt
    ):
        signin(manager)
        page = page_of(client.post("/trainings/new", data=course_data(other_project, ofppt)))
        assert 'id="project_id-error"' in page
        assert db.session.scalar(select(func.count(TrainingCourse.id))) == 0

    @pytest.mark.parametrize("role", [Role.OFFICER, Role.VIEWER])
    def test_only_managers_create_and_edit(
        self, client, signin, make_user, project, ofppt, course, role
    ):
        signin(make_user(role, [project]))
        assert client.get("/trainings/new").status_code == 403
        assert client.post("/trainings/new", data=course_data(project, ofppt)).status_code == 403
        assert client.get(f"/trainings/{course.id}/edit").status_code == 403
        data = course_data(project, ofppt, expected_version=str(course.version))
        assert client.post(f"/trainings/{course.id}/edit", data=data).status_code == 403
        assert f"/trainings/{course.id}/edit" not in page_of(client.get(f"/trainings/{course.id}"))

    def edit_data(self, course, **overrides):
        data = {
            "expected_version": str(course.version),
            "title": course.title,
            "provider_id": str(course.provider_id),
            "sector": course.sector,
            "kind": course.kind.value,
            "city": "Salé",
            "start_date": course.start_date.isoformat(),
            "end_date": course.end_date.isoformat(),
            "hours": "",
            "capacity": str(course.capacity or ""),
        }
        data.update(overrides)
        return data

    def test_manager_edits_a_course(self, client, signin, manager, course):
        signin(manager)
        form = page_of(client.get(f"/trainings/{course.id}/edit"))
        assert f'name="expected_version" type="hidden" value="{course.version}"' in form
        assert 'value="Cuisine et restauration"' in form
        assert f'<option selected value="{course.provider_id}">' in form
        response = client.post(f"/trainings/{course.id}/edit", data=self.edit_data(course))
        assert response.status_code == 302
        db.session.refresh(course)
        assert (course.city, course.hours) == ("Salé", None)

    def test_capacity_cannot_fall_below_the_seats_taken(
        self, client, signin, manager, course, women
    ):
        for person in women[:3]:
            enrol(person, course, on=date(2015, 1, 20))
        drop_out(course.enrolments[0], on=date(2015, 2, 10))
        signin(manager)
        page = page_of(
            client.post(f"/trainings/{course.id}/edit", data=self.edit_data(course, capacity="1"))
        )
        assert (
            '<p class="error" id="capacity-error">'
            "2 seats are already taken: the capacity cannot be lower.</p>"
        ) in page
        db.session.refresh(course)
        assert course.capacity == 3
        # two seats taken: two is enough
        response = client.post(
            f"/trainings/{course.id}/edit", data=self.edit_data(course, capacity="2")
        )
        assert response.status_code == 302
        db.session.refresh(course)
        assert course.capacity == 2

    def test_dates_must_hold_the_enrolments(self, client, signin, manager, course, women):
        enrol(women[0], course, on=date(2015, 3, 1))
        signin(manager)
        page = page_of(
            client.post(
                f"/trainings/{course.id}/edit",
                data=self.edit_data(course, start_date="2015-01-01", end_date="2015-02-15"),
            )
        )
        assert 'id="end_date-error"' in page
        page = page_of(
            client.post(
                f"/trainings/{course.id}/edit", data=self.edit_data(course, end_date="2015-01-01")
            )
        )
        assert "The course cannot end before it starts." in page
        db.session.refresh(course)
        assert course.end_date == date(2015, 5, 31)

    def test_stale_edit_gets_the_conflict_page(self, client, signin, manager, course, ofppt):
        seen = self.edit_data(course, city="Salé")  # both managers opened the form here
        course.city = "Kénitra"  # the first one saved
        db.session.commit()
        signin(manager)
        response = client.post(f"/trainings/{course.id}/edit", data=seen)
        assert response.status_code == 409
        page = page_of(response)
        assert "Kénitra" in page and "Salé" in page
        db.session.refresh(course)
        assert course.city == "Kénitra"


class TestRoster:
    def test_roster_rows(self, client, signin, officer, course, women):
        complete(
            enrol(women[0], course, on=date(2015, 1, 20)),
            on=date(2015, 5, 31),
            attendance_pct=92,
            certificate=True,
        )
        enrol(women[1], course, on=date(2015, 1, 21))
        signin(officer)
        page = page_of(client.get(f"/trainings/{course.id}"))
        roster = page[page.index('id="roster-title"') : page.index('id="enrol-title"')]
        for person in women[:2]:
            assert person.code in roster and person.given_name in roster
        assert "92&nbsp;%" in roster and "Completed" in roster and "Enrolled" in roster
        assert women[2].code not in roster
        # one row still open: its small forms, and the bulk completion
        enrolment = women[1].enrolments[0]
        assert f'action="/trainings/enrolments/{enrolment.id}/complete"' in page
        assert f'action="/trainings/enrolments/{enrolment.id}/drop-out"' in page
        assert f'action="/trainings/enrolments/{women[0].enrolments[0].id}/complete"' not in page
        assert f'action="/trainings/{course.id}/complete-all"' in page
        # the completion date proposed is the course's end
        assert (
            f'id="completed_on-{enrolment.id}" name="completed_on" required type="date"'
            ' value="2015-05-31"' in page
        )

    def test_viewer_sees_codes_never_names_and_no_forms(
        self, app, client, signin, viewer, course, women
    ):
        # small lists are tests/test_small_lists.py's matter: here, every list is shown
        app.config["SMALL_CELL_THRESHOLD"] = 1
        enrol(women[0], course, on=date(2015, 1, 20))
        signin(viewer)
        page = page_of(client.get(f"/trainings/{course.id}"))
        assert women[0].code in page
        for person in women:
            assert person.given_name not in page and person.family_name not in page
        assert '<form method="post" action="/trainings/' not in page
        assert "participant_ids" not in page

    def test_candidates_exclude_the_enrolled_the_archived_and_other_projects(
        self, client, signin, officer, course, women, make_participant, other_project
    ):
        enrol(women[0], course, on=date(2015, 1, 20))
        services_archived = make_participant(course.project, given_name="Archivée")
        from tracker.participants.services import archive

        archive(services_archived)
        elsewhere = make_participant(other_project, given_name="Ailleurs")
        signin(officer)
        page = page_of(client.get(f"/trainings/{course.id}"))
        picks = page[page.index('id="enrol-title"') :]
        assert f'value="{women[0].id}" id="pick-' not in picks
        for person in women[1:]:
            assert f'value="{person.id}" id="pick-{person.id}"' in picks
        assert "Archivée" not in picks and "Ailleurs" not in picks
        assert elsewhere.code not in picks

    @pytest.mark.parametrize(
        ("q", "expected"), [("fatoumata", [1]), ("0004", [3]), ("AÏSSATOU n'diaye", [0])]
    )
    def test_candidate_search(self, client, signin, officer, course, women, q, expected):
        signin(officer)
        page = page_of(client.get(f"/trainings/{course.id}", query_string={"q": q}))
        for i, person in enumerate(women):
            assert (f'id="pick-{person.id}"' in page) == (i in expected), person.code


class TestEnrol:
    def test_enrol_several_at_once(self, client, signin, officer, course, women):
        signin(officer)
        data = {"participant_ids": [str(p.id) for p in women[:3]], "enrolled_on": "2015-01-25"}
        # the course ended years ago: the enrolments would stay open, which is asked about
        response = client.post(f"/trainings/{course.id}/enrol", data=data)
        assert response.status_code == 200 and enrolments() == 0
        page = page_of(response)
        assert "and this enrolment stays open: record whether the person completed" in page
        assert 'name="dates_checked"' in page
        data["dates_checked"] = "y"
        response = client.post(f"/trainings/{course.id}/enrol", data=data)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/trainings/{course.id}"
        rows = db.session.scalars(select(Enrolment).order_by(Enrolment.participant_id)).all()
        assert [e.participant_id for e in rows] == [p.id for p in women[:3]]
        assert {e.enrolled_on for e in rows} == {date(2015, 1, 25)}
        assert {e.status for e in rows} == {EnrolmentStatus.ENROLLED}
        flashed = page_of(client.get(f"/trainings/{course.id}"))
        assert "3 people are enrolled" in flashed

    @pytest.mark.parametrize(("ended_days_ago", "asked"), [(29, False), (30, True)])
    def test_enrolling_in_a_course_ended_a_month_ago_is_asked_about(
        self, client, signin, officer, make_course, project, ofppt, women, ended_days_ago, asked
    ):
        from tracker.plausibility import COURSE_ENDED_DAYS

        assert COURSE_ENDED_DAYS == 30
        today = date.today()
        ended = make_course(
            project,
            provider=ofppt,
            title="Pâtisserie",
            start=today - timedelta(days=90),
            end=today - timedelta(days=ended_days_ago),
        )
        db.session.commit()
        signin(officer)
        data = {
            "participant_ids": [str(women[0].id)],
            "enrolled_on": (today - timedelta(days=80)).isoformat(),
        }
        response = client.post(f"/trainings/{ended.id}/enrol", data=data)
        if not asked:
            assert response.status_code == 302 and enrolments() == 1
            return
        assert response.status_code == 200 and enrolments() == 0
        assert "1 month ago, and this enrolment stays open" in page_of(response)

    def test_a_full_course_enrols_those_who_fit_and_lists_the_others(
        self, client, signin, officer, course, women
    ):
        enrol(women[0], course, on=date(2015, 1, 20))
        signin(officer)
        # one seat taken of three: of three more, the first two by code get the seats
        response = client.post(
            f"/trainings/{course.id}/enrol",
            # the course ended years ago: its dates are confirmed, as asked
            data={
                "participant_ids": [str(p.id) for p in women[1:]],
                "enrolled_on": "2015-01-25",
                "dates_checked": "y",
            },
        )
        assert response.status_code == 302
        enrolled = db.session.scalars(select(Enrolment.participant_id)).all()
        assert sorted(enrolled) == sorted(p.id for p in women[:3])
        page = page_of(client.get(response.headers["Location"]))
        assert f"2 people are enrolled: {women[1].code}, {women[2].code}." in page
        assert "1 person was left out:" in page
        assert f"{women[3].code}: no place left (capacity 3)" in page
        # the course is full now: the page says so, and a try enrols nobody
        assert "The course is full: nobody more can be enrolled." in page
        response = client.post(
            f"/trainings/{course.id}/enrol",
            data={"participant_ids": [str(women[3].id)], "enrolled_on": "2015-01-25"},
        )
        assert response.status_code == 200
        page = page_of(response)
        assert "Nobody was enrolled: the people below cannot be." in page
        assert f"<strong>{women[3].code}</strong>: no place left (capacity 3)" in page
        assert enrolments() == 3
        # the form comes back first, with the same person ticked
        assert page.index('id="enrol-title"') < page.index('id="roster-title"')
        assert f'value="{women[3].id}" id="pick-{women[3].id}" checked' in page

    def test_seats_left_are_shown(self, client, signin, officer, course, women):
        signin(officer)
        assert "3 seats left" in page_of(client.get(f"/trainings/{course.id}"))
        enrol(women[0], course, on=date(2015, 1, 20))
        enrol(women[1], course, on=date(2015, 1, 20))
        db.session.commit()
        page = page_of(client.get(f"/trainings/{course.id}"))
        assert "1 seat left" in page and "of 3." in page
        # the live count knows the seats left (static/enrol.js reads it)
        assert 'data-left="1"' in page

    def test_those_who_fit_are_enrolled_the_others_listed_with_the_reason(
        self, client, signin, officer, course, women, make_participant, other_project
    ):
        from tracker.participants.services import archive

        enrol(women[0], course, on=date(2015, 1, 20))
        archived = make_participant(course.project, given_name="Archivée")
        archive(archived)
        elsewhere = make_participant(other_project, given_name="Ailleurs")
        db.session.commit()
        signin(officer)
        ticked = [women[0], women[1], archived, elsewhere]
        response = client.post(
            f"/trainings/{course.id}/enrol",
            data={
                "participant_ids": [str(p.id) for p in ticked],
                "enrolled_on": "2015-01-25",
                "dates_checked": "y",
            },
        )
        assert response.status_code == 302
        rows = db.session.scalars(select(Enrolment.participant_id)).all()
        assert sorted(rows) == sorted([women[0].id, women[1].id])
        page = page_of(client.get(response.headers["Location"]))
        assert f"1 person is enrolled: {women[1].code}." in page
        assert "3 people were left out:" in page
        assert f"{women[0].code}: already enrolled in this course" in page
        assert f"{archived.code}: case file archived" in page
        # a person of another project: left out by the number sent, never named
        assert f"#{elsewhere.id}: not a participant of this course" in page
        assert elsewhere.code not in page and "Ailleurs" not in page

    def test_dates_are_enforced_naming_who(
        self, client, signin, officer, course, women, make_participant, project
    ):
        late = make_participant(project, given_name="Late", registered_on=date(2015, 3, 1))
        signin(officer)
        response = client.post(
            f"/trainings/{course.id}/enrol",
            data={
                "participant_ids": [str(women[0].id), str(late.id)],
                "enrolled_on": "2015-02-02",
                "dates_checked": "y",
            },
        )
        page = page_of(client.get(response.headers["Location"]))
        assert f"{late.code}: registered on" in page
        assert enrolments() == 1
        page = page_of(
            client.post(
                f"/trainings/{course.id}/enrol",
                data={"participant_ids": [str(women[1].id)], "enrolled_on": "2015-06-15"},
            )
        )
        assert f"<strong>{women[1].code}</strong>: the course ended on" in page
        page = page_of(
            client.post(
                f"/trainings/{course.id}/enrol",
                data={"participant_ids": [str(women[1].id)], "enrolled_on": "2999-01-01"},
            )
        )
        assert 'id="enrolled_on-error"' in page
        assert enrolments() == 1

    def test_nobody_ticked(self, client, signin, officer, course, women):
        signin(officer)
        page = page_of(
            client.post(f"/trainings/{course.id}/enrol", data={"enrolled_on": "2015-01-25"})
        )
        assert "Choose at least one person to enrol." in page
        assert enrolments() == 0

    def test_a_person_of_another_project_cannot_be_slipped_in(
        self, client, signin, officer, course, make_participant, other_project
    ):
        elsewhere = make_participant(other_project)
        signin(officer)
        response = client.post(
            f"/trainings/{course.id}/enrol",
            data={"participant_ids": [str(elsewhere.id)], "enrolled_on": "2015-01-25"},
        )
        assert response.status_code == 200
        page = page_of(response)
        assert "Nobody was enrolled" in page
        assert elsewhere.code not in page
        assert enrolments() == 0


class TestOutcomes:
    @pytest.fixture
    def open_enrolment(self, course, women):
        enrolment = enrol(women[0], course, on=date(2015, 1, 20))
        db.session.commit()
        return enrolment

    def test_complete_moves_the_trained_indicator(
        self, client, signin, officer, project, open_enrolment
    ):
        assert trained(project) == 0
        signin(officer)
        response = client.post(
            f"/trainings/enrolments/{open_enrolment.id}/complete",
            data={"completed_on": "2015-05-31", "attendance_pct": "88", "certificate": "y"},
        )
        assert response.status_code == 302
        assert response.headers["Location"] == (
            f"/trainings/{open_enrolment.course_id}#e{open_enrolment.id}"
        )
        db.session.refresh(open_enrolment)
        assert open_enrolment.status is EnrolmentStatus.COMPLETED
        assert (open_enrolment.completed_on, open_enrolment.attendance_pct) == (
            date(2015, 5, 31),
            88,
        )
        assert open_enrolment.certificate is True
        assert trained(project) == 1

    def test_drop_out_does_not_count_as_trained(
        self, client, signin, officer, project, open_enrolment
    ):
        signin(officer)
        response = client.post(
            f"/trainings/enrolments/{open_enrolment.id}/drop-out",
            data={"dropped_on": "2015-03-10"},
        )
        assert response.status_code == 302
        db.session.refresh(open_enrolment)
        assert open_enrolment.status is EnrolmentStatus.DROPPED_OUT
        assert open_enrolment.dropped_on == date(2015, 3, 10)
        assert trained(project) == 0

    def test_errors_are_flashed_with_the_code(self, client, signin, officer, women, open_enrolment):
        code = women[0].code
        signin(officer)
        client.post(
            f"/trainings/enrolments/{open_enrolment.id}/complete",
            data={"completed_on": "2015-01-05"},
        )
        page = page_of(client.get(f"/trainings/{open_enrolment.course_id}"))
        assert f"{code}: The date is before the enrolment or the course start." in page
        client.post(
            f"/trainings/enrolments/{open_enrolment.id}/complete",
            data={"completed_on": "2015-05-31", "attendance_pct": "140"},
        )
        page = page_of(client.get(f"/trainings/{open_enrolment.course_id}"))
        assert f"{code} · Attendance (%): Attendance must be between 0 and 100 %." in page
        db.session.refresh(open_enrolment)
        assert open_enrolment.status is EnrolmentStatus.ENROLLED
        # once closed, it cannot be closed again
        client.post(
            f"/trainings/enrolments/{open_enrolment.id}/drop-out", data={"dropped_on": "2015-03-01"}
        )
        client.post(
            f"/trainings/enrolments/{open_enrolment.id}/complete",
            data={"completed_on": "2015-05-31"},
        )
        page = page_of(client.get(f"/trainings/{open_enrolment.course_id}"))
        assert f"{code}: This enrolment is already closed." in page
        db.session.refresh(open_enrolment)
        assert open_enrolment.status is EnrolmentStatus.DROPPED_OUT

    def test_complete_all_remaining(self, client, signin, officer, project, course, women):
        enrol(women[0], course, on=date(2015, 1, 20))
        enrol(women[1], course, on=date(2015, 1, 20))
        drop_out(enrol(women[2], course, on=date(2015, 1, 20)), on=date(2015, 3, 1))
        signin(officer)
        response = client.post(
            f"/trainings/{course.id}/complete-all",
            data={"completed_on": "2015-05-31", "certificate": "y"},
        )
        assert response.status_code == 302
        statuses = dict(
            db.session.execute(select(Enrolment.participant_id, Enrolment.status)).all()
        )
        assert statuses == {
            women[0].id: EnrolmentStatus.COMPLETED,
            women[1].id: EnrolmentStatus.COMPLETED,
            women[2].id: EnrolmentStatus.DROPPED_OUT,
        }
        assert trained(project) == 2

    def test_complete_all_is_all_or_nothing(self, client, signin, officer, project, course, women):
        enrol(women[0], course, on=date(2015, 1, 20))
        enrol(women[1], course, on=date(2015, 3, 15))
        signin(officer)
        client.post(f"/trainings/{course.id}/complete-all", data={"completed_on": "2015-03-01"})
        page = page_of(client.get(f"/trainings/{course.id}"))
        assert "Nobody was marked as completed" in page
        assert women[1].code in page[page.index("Nobody was marked") :]
        assert trained(project) == 0


class TestEnrolFromTheCaseFile:
    @pytest.fixture
    def courses(self, make_course, project):
        return {
            "running": make_course(
                project,
                title="Running",
                start=TODAY - timedelta(days=10),
                end=TODAY + timedelta(days=30),
            ),
            "upcoming": make_course(
                project,
                title="Upcoming",
                start=TODAY + timedelta(days=10),
                end=TODAY + timedelta(days=60),
                capacity=1,
            ),
            "finished": make_course(project, title="Finished"),
            "taken": make_course(
                project, title="Taken", start=TODAY - timedelta(days=5), end=TODAY + timedelta(5)
            ),
        }

    def test_choose_a_course_and_go_back_to_the_case_file(
        self, client, signin, officer, women, courses
    ):
        person = women[0]
        enrol(person, courses["taken"], on=TODAY - timedelta(days=5))
        signin(officer)
        page = page_of(client.get(f"/trainings/enrol/{person.id}"))
        assert f'value="{courses["running"].id}"' in page
        assert f'value="{courses["upcoming"].id}"' in page
        assert f'value="{courses["finished"].id}"' not in page
        assert f'value="{courses["taken"].id}"' not in page
        response = client.post(
            f"/trainings/enrol/{person.id}",
            data={"course_id": str(courses["running"].id), "enrolled_on": TODAY.isoformat()},
        )
        assert response.status_code == 302
        assert response.headers["Location"] == f"/participants/{person.id}"
        assert db.session.scalar(
            select(Enrolment).where(
                Enrolment.participant_id == person.id,
                Enrolment.course_id == courses["running"].id,
            )
        )

    def test_a_full_course_is_refused_next_to_the_course(
        self, client, signin, officer, women, courses
    ):
        enrol(women[1], courses["upcoming"], on=TODAY)
        signin(officer)
        response = client.post(
            f"/trainings/enrol/{women[0].id}",
            data={"course_id": str(courses["upcoming"].id), "enrolled_on": TODAY.isoformat()},
        )
        assert response.status_code == 200
        page = page_of(response)
        assert f'id="course_id-error">{women[0].code}: no place left (capacity 1)' in page
        assert enrolments() == 1

    def test_a_course_must_be_chosen(self, client, signin, officer, women, courses):
        signin(officer)
        page = page_of(
            client.post(f"/trainings/enrol/{women[0].id}", data={"enrolled_on": TODAY.isoformat()})
        )
        assert 'id="course_id-error">Choose a course.' in page
        assert enrolments() == 0

    def test_viewer_gets_403(self, client, signin, viewer, women, courses):
        signin(viewer)
        assert client.get(f"/trainings/enrol/{women[0].id}").status_code == 403


class TestAccess:
    @pytest.fixture
    def ids(self, course, women):
        enrolment = enrol(women[0], course, on=date(2015, 1, 20))
        db.session.commit()
        return {"course": course.id, "enrolment": enrolment.id, "participant": women[0].id}

    ROUTES = [
        ("get", "/trainings/{course}"),
        ("get", "/trainings/{course}/edit"),
        ("post", "/trainings/{course}/edit"),
        ("post", "/trainings/{course}/enrol"),
        ("post", "/trainings/{course}/complete-all"),
        ("post", "/trainings/enrolments/{enrolment}/complete"),
        ("post", "/trainings/enrolments/{enrolment}/drop-out"),
        ("get", "/trainings/enrol/{participant}"),
        ("post", "/trainings/enrol/{participant}"),
    ]

    @pytest.mark.parametrize(("method", "url"), ROUTES)
    def test_officer_of_another_project_gets_404(self, client, signin, stranger, ids, method, url):
        signin(stranger)
        response = getattr(client, method)(url.format(**ids), data={})
        assert response.status_code == 404

    @pytest.mark.parametrize(("method", "url"), ROUTES[1:])
    def test_viewer_gets_403_on_every_action(self, client, signin, viewer, ids, method, url):
        signin(viewer)
        response = getattr(client, method)(url.format(**ids), data={})
        assert response.status_code == 403

    def test_signed_out_goes_to_the_login(self, client, ids):
        assert client.get("/trainings/").status_code == 302
        assert client.get(f"/trainings/{ids['course']}").status_code == 302


class TestCandidateFilters:
    @pytest.fixture
    def people(self, make_participant, project):
        return {
            "awa": make_participant(
                project, given_name="Awa", nationality="SEN", registered_on=date(2014, 12, 1)
            ),
            "grace": make_participant(
                project, given_name="Grace", nationality="NGA", registered_on=date(2015, 1, 10)
            ),
            "ibrahim": make_participant(
                project,
                given_name="Ibrahim",
                sex=Sex.MALE,
                nationality="SEN",
                registered_on=date(2015, 1, 12),
            ),
        }

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({}, {"awa", "grace", "ibrahim"}),
            ({"sex": "M"}, {"ibrahim"}),
            ({"nationality": "SEN"}, {"awa", "ibrahim"}),
            ({"since": "2015-01-01"}, {"grace", "ibrahim"}),
            ({"nationality": "SEN", "since": "2015-01-01", "sex": "M"}, {"ibrahim"}),
            ({"q": "grace", "nationality": "SEN"}, set()),
            # a filter that is no valid value is ignored, the others hold
            ({"sex": "X", "nationality": "NGA"}, {"grace"}),
            ({"since": "not a date"}, {"awa", "grace", "ibrahim"}),
        ],
    )
    def test_filters_narrow_the_candidates(
        self, client, signin, officer, course, people, query, expected
    ):
        signin(officer)
        page = page_of(client.get(f"/trainings/{course.id}", query_string=query))
        shown = {name for name, p in people.items() if f'id="pick-{p.id}"' in page}
        assert shown == expected

    def test_the_filters_come_back_with_a_refused_form(
        self, client, signin, officer, course, people
    ):
        signin(officer)
        page = page_of(
            client.post(
                f"/trainings/{course.id}/enrol",
                data={
                    "participant_ids": [str(people["ibrahim"].id)],
                    "enrolled_on": "2015-06-15",
                    "nationality": "SEN",
                    "sex": "M",
                },
            )
        )
        assert "the course ended on" in page
        # the list drawn again is the filtered one
        assert f'id="pick-{people["ibrahim"].id}"' in page
        assert f'id="pick-{people["grace"].id}"' not in page
        assert f'id="pick-{people["awa"].id}"' not in page


class TestDeleteAndArchive:
    def test_a_course_nobody_is_enrolled_in_is_deleted_and_audited(
        self, client, signin, manager, course
    ):
        signin(manager)
        page = page_of(client.get(f"/trainings/{course.id}"))
        assert "Nothing refers to it: it can be deleted" in page
        assert f'action="/trainings/{course.id}/delete"' in page
        course_id = course.id
        response = client.post(f"/trainings/{course_id}/delete")
        assert response.status_code == 302
        assert response.headers["Location"] == "/trainings/"
        assert db.session.get(TrainingCourse, course_id) is None
        line = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "training_course", AuditEvent.entity_id == course_id)
            .order_by(AuditEvent.id.desc())
        ).first()
        assert line.action == "delete" and line.actor_label == manager.email
        assert "The course “Cuisine et restauration” is deleted." in page_of(
            client.get("/trainings/")
        )

    def test_a_course_with_enrolments_is_archived_not_deleted(
        self, client, signin, manager, course, women
    ):
        enrol(women[0], course, on=date(2015, 1, 20))
        enrol(women[1], course, on=date(2015, 1, 20))
        db.session.commit()
        signin(manager)
        page = page_of(client.get(f"/trainings/{course.id}"))
        assert "2 enrolments refer to this course." in page
        assert f'action="/trainings/{course.id}/delete"' not in page
        assert f'action="/trainings/{course.id}/archive"' in page
        # a delete sent anyway is refused with the reason, and nothing is deleted
        response = client.post(f"/trainings/{course.id}/delete", follow_redirects=True)
        assert "The course cannot be deleted: archive it instead." in page_of(response)
        assert "2 enrolments refer to this course." in page_of(response)
        assert db.session.get(TrainingCourse, course.id) is not None
        response = client.post(f"/trainings/{course.id}/archive", follow_redirects=True)
        page = page_of(response)
        assert "is archived: it still counts in the figures" in page
        assert "Bring it back to the lists" in page
        # nobody is enrolled in an archived course: no enrolment panel, the service refuses
        assert 'id="enrol-title"' not in page
        response = client.post(
            f"/trainings/{course.id}/enrol",
            data={"participant_ids": [str(women[2].id)], "enrolled_on": "2015-01-25"},
        )
        assert "The course is archived" in page_of(response)
        assert enrolments() == 2
        response = client.post(f"/trainings/{course.id}/unarchive", follow_redirects=True)
        assert "is back in the lists" in page_of(response)
        db.session.expire_all()
        assert db.session.get(TrainingCourse, course.id).archived_at is None

    def test_archived_courses_leave_the_list_and_the_case_file_choice(
        self, client, signin, manager, make_course, project, ofppt, women
    ):
        from tracker.trainings.services import archive_course

        today = date.today()  # the day the choice is asked for, whenever the run started
        make_course(project, provider=ofppt, title="Couture", end=today)
        gone = make_course(project, provider=ofppt, title="Pâtisserie", end=today)
        archive_course(gone)
        db.session.commit()
        signin(manager)
        listed = page_of(client.get("/trainings/"))
        assert "Couture" in listed and "Pâtisserie" not in listed
        both = page_of(client.get("/trainings/", query_string={"archived": "include"}))
        assert "Couture" in both and "Pâtisserie" in both and "archived</span>" in both
        only = page_of(client.get("/trainings/", query_string={"archived": "only"}))
        assert "Couture" not in only and "Pâtisserie" in only
        choice = page_of(client.get(f"/trainings/enrol/{women[0].id}"))
        assert "Couture" in choice and "Pâtisserie" not in choice

    def test_officers_and_viewers_see_no_delete_or_archive(self, client, signin, officer, course):
        signin(officer)
        page = page_of(client.get(f"/trainings/{course.id}"))
        assert "/delete" not in page and "/archive" not in page
        assert client.post(f"/trainings/{course.id}/delete").status_code == 403
        assert client.post(f"/trainings/{course.id}/archive").status_code == 403
        assert db.session.get(TrainingCourse, course.id) is not None

    def test_a_manager_of_another_project_gets_404(
        self, client, signin, make_user, course, other_project
    ):
        signin(make_user(Role.MANAGER, [other_project], email="else@example.org"))
        assert client.post(f"/trainings/{course.id}/delete").status_code == 404
        assert client.post(f"/trainings/{course.id}/archive").status_code == 404
        assert db.session.get(TrainingCourse, course.id) is not None

    def test_the_provider_choice_leaves_out_archived_partners_but_keeps_the_current_one(
        self, client, signin, manager, course, ofppt, make_partner
    ):
        from tracker.partners.services import archive_partner

        retired = make_partner("Centre fermé", acronym="CF")
        archive_partner(retired)
        archive_partner(ofppt)
        db.session.commit()
        signin(manager)
        new = page_of(client.get("/trainings/new"))
        assert "Centre fermé" not in new and "OFPPT" not in new
        # the course's own provider, archived since, stays choosable: the course can be edited
        edit = page_of(client.get(f"/trainings/{course.id}/edit"))
        assert f'value="{ofppt.id}" selected' in edit or f'selected value="{ofppt.id}"' in edit
        assert "Centre fermé" not in edit
