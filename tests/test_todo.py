"""The to-do list on the home page: each group on hand-made data, its scope, its links.

Service tests fix "today" (T) so that every due day is known; web tests build
their data around the real today, as the pages use it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import event, select

from tracker import todo
from tracker.extensions import db
from tracker.models import AuditEvent, PlacementKind, Role
from tracker.participants.consent import withdraw_consent
from tracker.participants.services import erase
from tracker.placements.services import (
    add_months,
    follow_up_schedule,
    record_follow_up,
    record_placement,
)
from tracker.trainings.services import complete, drop_out, enrol

T = date(2024, 6, 15)
TODAY = date.today()


@pytest.fixture
def place(make_participant, project):
    """Return ``place(start, given=..., project=...)``: a placement of a new person."""

    def make(start: date, *, given: str = "Awa", family: str = "Diop", in_project=None):
        person = make_participant(
            in_project or project,
            given_name=given,
            family_name=family,
            registered_on=date(2014, 12, 1),
            nationality="SEN",
            region="Rabat-Salé-Kénitra",
            date_of_birth=date(1990, 5, 1),
        )
        return record_placement(
            person,
            kind=PlacementKind.IGA,
            sector="Couture",
            start_date=start,
            business_name=f"Atelier {given}",
            today=max(start, T),
        )

    return make


def keys(group: todo.Group | todo.Page) -> list[tuple[str, int]]:
    """The (person's given name, months) of a follow-up group, in its order."""
    return [(item.participant.given_name, item.months) for item in group.items]


def groups_of(user, today=T, limit=todo.HOME_LIMIT) -> dict[str, todo.Group]:
    return {g.key: g for g in todo.todo_list(user, today, limit)}


# --- Follow-ups: overdue, due soon, recorded, not yet due ------------------------------


def test_follow_ups_overdue_due_recorded_and_not_yet_due(app, place, officer):
    place(date(2024, 3, 1), given="Overdue")  # 3 months: 1 June, two weeks late
    place(date(2024, 3, 15), given="Today")  # 3 months: 15 June, today
    place(date(2024, 3, 20), given="Soon")  # 3 months: 20 June
    place(date(2024, 3, 29), given="Edge")  # 3 months: 29 June, the 14th day ahead
    place(date(2024, 3, 30), given="Later")  # 3 months: 30 June, 15 days ahead: not yet
    done = place(date(2024, 3, 2), given="Done")  # 3 months: 2 June, recorded
    record_follow_up(done, months_after=3, followed_on=date(2024, 6, 3), still_active=True)
    old = place(date(2023, 6, 10), given="Old")  # 3, 6 and 12 months all past; 6 recorded
    record_follow_up(old, months_after=6, followed_on=date(2023, 12, 12), still_active=True)
    db.session.commit()

    found = groups_of(officer, limit=10)

    # overdue: the most recently due first
    assert keys(found["overdue"]) == [("Old", 12), ("Overdue", 3), ("Old", 3)]
    assert [i.due_on for i in found["overdue"].items] == [
        date(2024, 6, 10),
        date(2024, 6, 1),
        date(2023, 9, 10),
    ]
    assert found["overdue"].total == 3
    # due soon: today to 14 days ahead, soonest first
    assert keys(found["due"]) == [("Today", 3), ("Soon", 3), ("Edge", 3)]
    assert found["due"].total == 3


def test_follow_up_groups_follow_the_placement_schedule(app, place, officer):
    """Every start day over four months, month ends included: SQL agrees with the schedule."""
    placements = [
        place(date(2023, 11, 25) + timedelta(days=n), given=f"P{n:03d}") for n in range(130)
    ]
    db.session.commit()
    for today in (date(2024, 2, 29), date(2024, 4, 30), date(2024, 5, 31), date(2024, 3, 1)):
        found = groups_of(officer, today, limit=1000)
        expected_overdue, expected_due = set(), set()
        for placement in placements:
            for milestone in follow_up_schedule(placement, today):
                key = (placement.participant.given_name, milestone.months)
                if milestone.state == "overdue":
                    expected_overdue.add(key)
                elif milestone.pending or (
                    milestone.state == "upcoming"
                    and milestone.due_on <= today + timedelta(days=todo.SOON_DAYS)
                ):
                    expected_due.add(key)
        assert set(keys(found["overdue"])) == expected_overdue, today
        assert set(keys(found["due"])) == expected_due, today
        assert found["overdue"].total == len(expected_overdue)
        # sorted by due day (latest first for the overdue, soonest first for the due)
        overdue_days = [i.due_on for i in found["overdue"].items]
        assert overdue_days == sorted(overdue_days, reverse=True)
        due_days = [i.due_on for i in found["due"].items]
        assert due_days == sorted(due_days)


def test_follow_ups_of_people_who_may_not_be_contacted_are_left_out(app, place, officer):
    withdrawn = place(date(2024, 3, 1), given="Withdrawn")
    withdraw_consent(withdrawn.participant.consents[0], on=date(2024, 5, 1), today=T)
    erased = place(date(2024, 3, 1), given="Erased")
    erase(erased.participant)
    place(date(2024, 3, 1), given="Kept")
    db.session.commit()
    assert keys(groups_of(officer)["overdue"]) == [("Kept", 3)]


# --- Enrolments left open, case files missing fields ------------------------------------


def test_enrolments_still_open_after_the_course_ended(
    app, make_participant, make_course, project, officer
):
    ended = make_course(project, start=date(2024, 1, 8), end=date(2024, 5, 31), title="Couture")
    earlier = make_course(project, start=date(2024, 1, 8), end=date(2024, 3, 29), title="Cuisine")
    running = make_course(project, start=date(2024, 5, 1), end=date(2024, 6, 15), title="Coiffure")
    people = {
        name: make_participant(project, given_name=name)
        for name in ("Open", "Earlier", "Completed", "Dropped", "Running")
    }
    enrol(people["Open"], ended, on=date(2024, 1, 8))
    enrol(people["Earlier"], earlier, on=date(2024, 1, 8))
    complete(enrol(people["Completed"], ended, on=date(2024, 1, 8)), on=date(2024, 5, 31))
    drop_out(enrol(people["Dropped"], ended, on=date(2024, 1, 8)), on=date(2024, 3, 1))
    enrol(people["Running"], running, on=date(2024, 5, 1))  # ends today: not over yet
    db.session.commit()

    group = groups_of(officer)["enrolments"]
    assert [(e.participant.given_name, e.course.title) for e in group.items] == [
        ("Open", "Couture"),
        ("Earlier", "Cuisine"),
    ]
    assert group.total == 2


def test_case_files_missing_key_fields(app, make_participant, project, officer):
    def person(name, **fields):
        values = {"nationality": "SEN", "region": "Oriental", "date_of_birth": date(1990, 1, 1)}
        values.update(fields)
        return make_participant(project, given_name=name, registered_on=date(2015, 1, 1), **values)

    person("Complete")
    person("YearOnly", date_of_birth=None, birth_year=1990)  # a year is enough
    person("NoNationality", nationality=None)
    person("NoRegion", region=None)
    person("NoBirth", date_of_birth=None)
    nothing = person("Nothing", nationality=None, region=None, date_of_birth=None)
    frozen = person("Frozen", nationality=None)
    withdraw_consent(frozen.consents[0], on=date(2024, 1, 1), today=T)
    db.session.commit()

    group = groups_of(officer, limit=10)["case_files"]
    names = {item.participant.given_name for item in group.items}
    assert names == {"NoNationality", "NoRegion", "NoBirth", "Nothing"}
    assert group.total == 4
    by_name = {item.participant.given_name: item for item in group.items}
    assert [name for name, _label in by_name["Nothing"].missing] == [
        "nationality",
        "region",
        "date_of_birth",
    ]
    # the edit link jumps to the first of them in the form: the birth date comes first
    assert by_name["Nothing"].first_field == "date_of_birth"
    assert by_name["NoRegion"].first_field == "region"
    assert nothing.id in {item.participant.id for item in group.items}


# --- Scope -----------------------------------------------------------------------------


def test_each_user_sees_the_to_do_of_their_projects_only(
    app, place, make_user, project, other_project, officer, manager, stranger
):
    place(date(2024, 3, 1), given="Ours")
    place(date(2024, 3, 1), given="Theirs", in_project=other_project)
    admin = make_user(Role.ADMIN, [], email="admin@example.org")
    db.session.commit()
    assert keys(groups_of(officer)["overdue"]) == [("Ours", 3)]
    assert keys(groups_of(manager)["overdue"]) == [("Ours", 3)]
    assert keys(groups_of(stranger)["overdue"]) == [("Theirs", 3)]
    assert sorted(keys(groups_of(admin)["overdue"])) == [("Ours", 3), ("Theirs", 3)]


def test_a_group_is_counted_whole_and_paged(app, place, officer):
    for n in range(7):
        place(date(2024, 3, 1) + timedelta(days=n), given=f"P{n}")
    db.session.commit()
    group = groups_of(officer)["overdue"]
    assert group.total == 7
    assert len(group.items) == todo.HOME_LIMIT
    pages = [todo.todo_page("overdue", officer, n, T, per_page=3) for n in (1, 2, 3, 4)]
    assert [len(p.items) for p in pages] == [3, 3, 1, 0]
    assert pages[0].pages == 3 and pages[0].has_next and not pages[0].has_prev
    assert [k for p in pages for k in keys(p)] == [(f"P{n}", 3) for n in range(6, -1, -1)]


# --- The pages ---------------------------------------------------------------------------


def text_of(response) -> str:
    return unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


@pytest.fixture
def todo_world(make_participant, make_course, place, project):
    """One item of each group, around the real today."""
    overdue = place(add_months(TODAY, -6) - timedelta(days=3), given="Zeynab", family="Sow")
    # her 3-month follow-up is recorded: the 6-month one is the overdue one
    record_follow_up(
        overdue,
        months_after=3,
        followed_on=add_months(TODAY, -3) - timedelta(days=3),
        still_active=True,
    )
    due = place(add_months(TODAY, -3) + timedelta(days=4), given="Mariam", family="Konaté")
    course = make_course(
        project, start=TODAY - timedelta(days=90), end=TODAY - timedelta(days=10), title="Couture"
    )
    learner = make_participant(
        project,
        given_name="Fatoumata",
        family_name="Camara",
        nationality="GIN",
        region="Oriental",
        date_of_birth=date(1995, 2, 2),
    )
    enrolment = enrol(learner, course, on=TODAY - timedelta(days=90))
    incomplete = make_participant(project, given_name="Grace", family_name="Mbuyi")
    db.session.commit()
    return {"overdue": overdue, "due": due, "enrolment": enrolment, "incomplete": incomplete}


def test_the_officer_home_lists_each_group_with_one_action(client, signin, officer, todo_world):
    signin(officer)
    page = text_of(client.get("/"))
    assert page.index("To do") < page.index("Your projects")  # the figures come after
    for name, code in [
        ("Zeynab Sow", todo_world["overdue"].participant.code),
        ("Mariam Konaté", todo_world["due"].participant.code),
        ("Fatoumata Camara", todo_world["enrolment"].participant.code),
        ("Grace Mbuyi", todo_world["incomplete"].code),
    ]:
        assert re.search(rf"{name}</strong> <span class=\"code\">{code}</span>", page), name
    assert "6-month follow-up" in page and "3-month follow-up" in page
    assert "the course ended on" in page
    assert "Missing: nationality, region, birth date" in page
    html = client.get("/").get_data(as_text=True)
    overdue, due = todo_world["overdue"], todo_world["due"]
    links = [
        f'href="/placements/{overdue.id}?months=6#record"',
        f'href="/placements/{due.id}?months=3#record"',
        f'href="/trainings/{todo_world["enrolment"].course_id}'
        f'?outcome={todo_world["enrolment"].id}#e{todo_world["enrolment"].id}"',
        f'href="/participants/{todo_world["incomplete"].id}/edit#date_of_birth"',
    ]
    for link in links:
        assert link in html, link


def test_every_action_leads_to_its_form(client, signin, officer, todo_world):
    signin(officer)
    html = client.get("/").get_data(as_text=True)
    actions = re.findall(r'<a class="button todo-action" href="([^"]+)"', html)
    assert len(actions) == 4
    for url in actions:
        response = client.get(unescape(url))
        assert response.status_code == 200, url
    # the follow-up form proposes the follow-up the link names
    placement = client.get(f"/placements/{todo_world['overdue'].id}?months=6").get_data(
        as_text=True
    )
    assert re.search(r'<option selected value="6">', placement)
    # the course page opens that person's outcome forms
    enrolment = todo_world["enrolment"]
    course = client.get(f"/trainings/{enrolment.course_id}?outcome={enrolment.id}").get_data(
        as_text=True
    )
    code = enrolment.participant.code
    assert re.search(rf"<details open>\s*<summary>Record the outcome for {code}</summary>", course)
    assert course.count("<details open>") == 1


def test_recording_the_follow_up_takes_it_off_the_list(client, signin, officer, todo_world):
    signin(officer)
    overdue = todo_world["overdue"]
    assert "Zeynab Sow" in text_of(client.get("/"))
    response = client.post(
        f"/placements/{overdue.id}/follow-ups",
        data={"months_after": "6", "followed_on": TODAY.isoformat(), "still_active": "yes"},
    )
    assert response.status_code == 302
    assert "Zeynab Sow" not in text_of(client.get("/"))


def test_a_manager_gets_the_list_of_her_projects(client, signin, manager, todo_world):
    signin(manager)
    page = text_of(client.get("/"))
    assert "Zeynab Sow" in page and "Grace Mbuyi" in page


def test_an_officer_of_another_project_sees_none_of_it(client, signin, stranger, todo_world):
    signin(stranger)
    page = text_of(client.get("/"))
    assert "Nothing to do" in page
    for name in ("Zeynab", "Mariam", "Fatoumata", "Grace"):
        assert name not in page
    for group in todo.GROUPS:
        listed = text_of(client.get(f"/todo?group={group}"))
        assert "Zeynab" not in listed and "Grace" not in listed


def test_a_viewer_gets_the_figures_and_no_list(client, signin, viewer, todo_world):
    signin(viewer)
    page = text_of(client.get("/"))
    assert "Your projects" in page and "To do" not in page
    for name in ("Zeynab", "Mariam", "Fatoumata", "Grace", "Sow", "Mbuyi"):
        assert name not in page
    assert client.get("/todo?group=overdue").status_code == 403


def test_the_group_page_lists_them_all(client, signin, officer, place):
    for n in range(todo.HOME_LIMIT + 2):
        place(TODAY - timedelta(days=100 + n), given=f"Person{n}")
    db.session.commit()
    signin(officer)
    home = client.get("/").get_data(as_text=True)
    assert "See all 7" in home and 'href="/todo?group=overdue"' in home
    assert home.count('class="button todo-action"') == todo.HOME_LIMIT
    listed = client.get("/todo?group=overdue").get_data(as_text=True)
    assert listed.count('class="button todo-action"') == 7
    assert client.get("/todo?group=nonsense").status_code == 404
    assert client.get("/todo").status_code == 404


def test_the_names_shown_are_logged(client, signin, officer, todo_world):
    signin(officer)
    client.get("/")
    line = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "view", AuditEvent.entity == "todo")
    ).one()
    shown = set(line.changes["participant_ids"])
    assert todo_world["incomplete"].id in shown and todo_world["overdue"].participant_id in shown
    assert "Zeynab" not in repr(line.changes)


def test_the_home_page_asks_the_same_number_of_queries_for_many_records(
    app, client, signin, officer, place
):
    """Counts and pages are SQL: 30 overdue follow-ups cost no more queries than 6."""

    def queries_for_home() -> int:
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    signin(officer)
    for n in range(6):
        place(TODAY - timedelta(days=100 + n), given=f"Few{n}")
    few = queries_for_home()
    for n in range(24):
        place(TODAY - timedelta(days=200 + n), given=f"Many{n}")
    assert queries_for_home() == few


@pytest.mark.parametrize("page", ["0", "-5", "abc", str(2**70)])
def test_any_page_number_is_answered(client, signin, officer, todo_world, page):
    signin(officer)
    assert client.get(f"/todo?group=case_files&page={page}").status_code == 200
