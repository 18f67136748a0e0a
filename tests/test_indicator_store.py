"""The indicator store: counted by hand, equal to the live definitions, operable."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert, select, update

from tests.indicator_store_checks import assert_store_equals_live, assert_verified
from tracker.extensions import db
from tracker.indicator_store import keeping, reading, windows
from tracker.indicator_store.cli import indicators_group
from tracker.indicators import Scope
from tracker.models import (
    IndicatorCell,
    IndicatorPerson,
    IndicatorStale,
    IndicatorTotal,
    Participant,
    PlacementKind,
    Role,
    Sex,
)
from tracker.participants import merging
from tracker.participants.services import erase, update_participant
from tracker.placements.services import record_follow_up, record_placement
from tracker.trainings.services import complete, drop_out, enrol

# --- Windows -----------------------------------------------------------------------------------


def test_windows_of_a_date():
    assert windows.of_date(date(2015, 5, 3)) == ("2015", "2015Q2", "2015-05")
    assert windows.of_date(None) == ("none",)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, "all"),
        # the whole span of the events, or wider: the same people as "all"
        (date(2014, 1, 1), date(2016, 12, 31), "all"),
        (date(2014, 12, 1), date(2015, 9, 30), "all"),
        # a calendar year holding only 2015's months with events
        (date(2015, 1, 1), date(2015, 12, 31), "2015"),
        # wider than the quarter, but the other months of the period hold nothing
        (date(2015, 3, 1), date(2015, 8, 31), "2015Q2"),
        # the only month with events of its quarter: the quarter's window is as good
        (date(2015, 9, 1), date(2015, 9, 30), "2015Q3"),
        (date(2015, 9, 1), date(2015, 10, 31), "2015Q3"),
        (date(2015, 4, 1), date(2015, 4, 30), "2015-04"),
        # a month with events cut in two: computed live
        (date(2015, 5, 10), date(2015, 12, 31), None),
        (date(2014, 12, 1), date(2015, 9, 15), None),
        # months of two years, not all of them: live
        (date(2014, 12, 1), date(2015, 6, 30), None),
        # no event inside
        (date(2016, 1, 1), date(2016, 12, 31), windows.NOTHING),
        (date(2015, 1, 1), date(2015, 3, 31), windows.NOTHING),
    ],
)
def test_which_window_a_period_equals(start, end, expected):
    with_events = {"2014-12", "2015-04", "2015-05", "2015-09", "2014", "2015", "2015Q2"}
    assert windows.equal_window(with_events, start, end) == expected


def test_undated_events_keep_a_period_from_equalling_all():
    assert windows.equal_window({"2015-04", "none"}, date(2015, 1, 1), date(2015, 12, 31)) == (
        "2015"
    )
    assert windows.equal_window({"2015-04", "none"}, date(2014, 1, 1), date(2016, 12, 31)) == (
        "2015"
    )
    assert windows.equal_window({"2015-04", "2014-02", "none"}, date(2014, 1, 1), None) is None


# --- Counted by hand ---------------------------------------------------------------------------


@pytest.fixture
def small(make_project, make_participant, make_course, make_partner):
    """Three people of project P1, counted by hand below.

    Awa (F, MAR, Souss-Massa): completes a cooking course in May 2015 and a sewing one in
    June 2015, gets a job in July and an IGA in September 2015, still active at 6 months.
    Binta (F, SEN, Rabat): completes cooking in May 2015, drops sewing.
    Chris (M, no nationality, no region): registered only.
    """
    project = make_project(start=date(2014, 10, 1), end=date(2016, 6, 30))
    school = make_partner(name="Ecole hôtelière")
    cooking = make_course(project, provider=school, sector="Cuisine")
    sewing = make_course(
        project, sector="Couture", start=date(2015, 3, 1), end=date(2015, 6, 30), title="Sewing"
    )
    awa = make_participant(
        project, given_name="Awa", nationality="MAR", region="Souss-Massa",
        date_of_birth=date(1990, 4, 1),
    )  # fmt: skip
    binta = make_participant(
        project, given_name="Binta", nationality="SEN", region="Rabat", birth_year=1980
    )
    chris = make_participant(
        project, given_name="Chris", sex=Sex.MALE, registered_on=date(2015, 2, 3)
    )
    complete(enrol(awa, cooking, on=date(2015, 2, 1)), on=date(2015, 5, 20))
    complete(enrol(awa, sewing, on=date(2015, 3, 1)), on=date(2015, 6, 30))
    complete(enrol(binta, cooking, on=date(2015, 2, 1)), on=date(2015, 5, 31))
    drop_out(enrol(binta, sewing, on=date(2015, 3, 1)), on=date(2015, 4, 1))
    job = record_placement(awa, kind=PlacementKind.EMPLOYMENT, sector="Hôtellerie",
                           start_date=date(2015, 7, 1), business_name="Hôtel Atlas")  # fmt: skip
    record_placement(awa, kind=PlacementKind.IGA, sector="Couture", start_date=date(2015, 9, 1),
                     business_name="Atelier Awa")  # fmt: skip
    record_follow_up(job, months_after=6, followed_on=date(2016, 1, 5), still_active=True,
                     today=date(2016, 1, 5))  # fmt: skip
    db.session.commit()
    return project, {"awa": awa, "binta": binta, "chris": chris, "school": school}


def test_hand_counted_figures_from_the_store(small):
    project, people = small
    whole = reading.figures_for(Scope((project.id,), project.start_date, project.end_date))
    assert isinstance(whole, reading.Stored)
    assert whole.window["trained"] == "all"
    assert whole.headline() == {
        "registered": 3,
        "enrolled": 2,
        "trained": 2,  # Awa's two completions count once
        "placed": 1,  # her job and her IGA: one person
        "placement_rate": 0.5,
        "retained_6m": 1,
        "institutions_strengthened": 0,
        "awareness_partners": 0,
    }
    trained = whole.breakdowns("trained", ("sex", "nationality", "region", "sector", "provider"))
    assert trained["sex"] == [("F", 2)]
    assert trained["nationality"] == [("MAR", 1), ("SEN", 1)]
    assert trained["sector"] == [("Cuisine", 2), ("Couture", 1)]
    assert trained["provider"][0] == (people["school"].id, 2)
    registered = whole.breakdowns("registered", ("sex", "region"))
    assert registered["sex"] == [("F", 2), ("M", 1)]
    assert registered["region"] == [(None, 1), ("Rabat", 1), ("Souss-Massa", 1)]
    assert whole.breakdowns("placed", ("placement_kind",))["placement_kind"] == [("both", 1)]
    # each person once, in the quarter of her first completion
    assert whole.by_period("trained") == [(2015, 2, 2)]
    assert whole.by_period("trained", "month") == [(2015, 5, 2)]
    assert_store_equals_live(whole.scope)


def test_a_quarter_and_a_region(small):
    project, _people = small
    q2 = reading.figures_for(Scope((project.id,), date(2015, 4, 1), date(2015, 6, 30)))
    assert isinstance(q2, reading.Stored)
    assert (q2.count("trained"), q2.count("placed"), q2.count("registered")) == (2, 0, 0)
    souss = Scope((project.id,), project.start_date, project.end_date, region="Souss-Massa")
    assert reading.figures_for(souss).headline()["trained"] == 1
    for scope in (q2.scope, souss, Scope((project.id,), date(2015, 7, 1), date(2015, 9, 30))):
        assert_store_equals_live(scope)


def test_odd_periods_and_provider_filters_are_computed_live(small):
    project, people = small
    cut = Scope((project.id,), date(2015, 5, 25), date(2015, 12, 31))
    assert isinstance(reading.figures_for(cut), reading.Live)
    by_provider = Scope((project.id,), provider_id=people["school"].id)
    assert reading.figures_for(by_provider).source == reading.LIVE


def test_every_change_moves_the_store_in_its_transaction(small):
    project, people = small
    whole = Scope((project.id,), project.start_date, project.end_date)
    # a characteristic
    update_participant(people["binta"], sex=Sex.MALE, region="Oriental")
    db.session.commit()
    assert_store_equals_live(whole)
    # an enrolment closed, a placement's date moved into another quarter
    placement = people["awa"].placements[0]
    placement.start_date = date(2015, 10, 2)
    db.session.commit()
    assert_store_equals_live(whole)
    assert_store_equals_live(Scope((project.id,), date(2015, 10, 1), date(2015, 12, 31)))
    # erasure drops the exact birth date: the age group may move, nothing else
    erase(people["awa"])
    db.session.commit()
    assert_store_equals_live(whole)
    assert_verified(project)


def test_a_rolled_back_change_leaves_the_store_as_it_was(small):
    project, people = small
    before = keeping.stored_counters(project.id)
    update_participant(people["chris"], sex=Sex.FEMALE)
    db.session.flush()
    db.session.rollback()
    assert keeping.stored_counters(project.id) == before
    assert_verified(project)


def test_savepoints_apply_nothing_until_the_commit(small):
    # found in review: a savepoint's release applied the changes noted before it, and a
    # rollback of an enclosing savepoint then lost them (the importer nests savepoints)
    project, people = small
    awa = db.session.get(Participant, people["awa"].id)
    update_participant(awa, region="Rabat")
    outer = db.session.begin_nested()
    with db.session.begin_nested():
        pass
    outer.rollback()
    db.session.commit()
    assert_verified(project)


def test_a_read_inside_a_savepoint_rolled_back_loses_nothing(small):
    project, people = small
    whole = Scope((project.id,), project.start_date, project.end_date)
    update_participant(db.session.get(Participant, people["awa"].id), region="Rabat")
    savepoint = db.session.begin_nested()
    update_participant(db.session.get(Participant, people["chris"].id), region="Rabat")
    assert reading.figures_for(whole).breakdowns("registered", ("region",))["region"][0] == (
        "Rabat",
        3,
    )
    savepoint.rollback()
    db.session.commit()
    assert_store_equals_live(whole)
    assert_verified(project)


def test_merge_and_its_undo(small):
    project, people = small
    whole = Scope((project.id,), project.start_date, project.end_date)
    kept = merging.merge(people["awa"], [people["binta"]], keep=survivors_enrolments(people))
    db.session.commit()
    assert reading.figures_for(whole).count("trained") == 1
    assert_store_equals_live(whole)
    merging.undo(kept)
    db.session.commit()
    assert reading.figures_for(whole).count("trained") == 2
    assert_store_equals_live(whole)
    assert_verified(project)


def survivors_enrolments(people):
    conflicts = merging.compare(people["awa"], [people["binta"]]).conflicts
    return {
        c.course.id: next(e.id for e in c.enrolments if e.participant_id == people["awa"].id)
        for c in conflicts
    }


def test_a_transaction_reads_its_own_changes(small):
    project, people = small
    whole = Scope((project.id,), project.start_date, project.end_date)
    update_participant(people["chris"], sex=Sex.FEMALE)
    assert reading.figures_for(whole).breakdowns("registered", ("sex",))["sex"] == [("F", 3)]
    db.session.rollback()


def test_a_bulk_write_that_does_not_note_its_people_is_refused(small):
    project, people = small
    with pytest.raises(RuntimeError, match="indicator_store.touch"):
        db.session.execute(
            update(Participant).where(Participant.id == people["chris"].id).values(region="X")
        )
    db.session.rollback()


# --- Operable: verify, rebuild, stale -----------------------------------------------------------


def test_verify_passes_on_the_reference_programme(seeded, runner):
    result = runner.invoke(args=["indicators", "verify"])
    assert result.exit_code == 0, result.output
    assert "IDF-MA-2014: the store equals the records" in result.output


def test_verify_names_each_difference_and_rebuild_repairs_it(small, runner):
    project, _people = small
    db.session.execute(
        update(IndicatorTotal)
        .where(IndicatorTotal.project_id == project.id, IndicatorTotal.indicator == "trained")
        .where(IndicatorTotal.window == "all")
        .values(n=IndicatorTotal.n + 5)
    )
    db.session.execute(delete_person(project))
    db.session.commit()
    result = runner.invoke(indicators_group, ["verify", "--project", project.code])
    assert result.exit_code == 1
    assert "P1: trained all total: stored 7, records 2" in result.output
    assert "P1: participant P1-" in result.output  # the person whose facts went missing
    assert "P1 2014-10-01–2016-06-30: trained: store 7, live 2" in result.output
    result = runner.invoke(indicators_group, ["rebuild", "--project", project.code])
    assert result.exit_code == 0, result.output
    assert "P1: rebuilt from 3 people" in result.output
    result = runner.invoke(indicators_group, ["verify"])
    assert result.exit_code == 0, result.output


def delete_person(project):
    person = IndicatorPerson.__table__
    first = select(person.c.participant_id).where(person.c.project_id == project.id).limit(1)
    return person.delete().where(person.c.participant_id == first.scalar_subquery())


def test_a_stale_project_is_computed_live_until_rebuilt(small, runner, client, make_user, signin):
    project, _people = small
    manager = make_user(Role.MANAGER, projects=[project])
    db.session.execute(insert(IndicatorStale).values(project_id=project.id))
    db.session.execute(IndicatorCell.__table__.delete())
    db.session.commit()
    whole = Scope((project.id,), project.start_date, project.end_date)
    assert reading.figures_for(whole).source == reading.LIVE
    result = runner.invoke(indicators_group, ["verify"])
    assert result.exit_code == 1
    assert "not built" in result.output
    signin(manager)
    page = client.get(f"/dashboard/?project={project.id}").get_data(as_text=True)
    assert 'data-source="live"' in page
    assert runner.invoke(indicators_group, ["rebuild"]).exit_code == 0
    db.session.expire_all()
    assert reading.figures_for(whole).source == reading.STORE
    page = client.get(f"/dashboard/?project={project.id}").get_data(as_text=True)
    assert 'data-source="store"' in page
    assert_store_equals_live(whole)


def test_the_dashboard_says_where_its_figures_come_from(small, client, make_user, signin):
    project, _people = small
    manager = make_user(Role.MANAGER, projects=[project])
    signin(manager)
    page = client.get(f"/dashboard/?project={project.id}").get_data(as_text=True)
    assert 'data-source="store"' in page
    page = client.get(f"/dashboard/?project={project.id}&start=2015-05-10&end=2015-12-31").get_data(
        as_text=True
    )
    assert 'data-source="live"' in page


def test_synthetic_data_is_stored_and_verified(app, runner):
    result = runner.invoke(args=["seed", "--synthetic", "300"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(indicators_group, ["verify"])
    assert result.exit_code == 0, result.output
    project_id = db.session.scalar(select(Participant.project_id).limit(1))
    stored = reading.figures_for(Scope((project_id,)))
    assert stored.source == reading.STORE
    assert stored.count("registered") == 300


def test_the_region_filter_offers_the_regions_of_the_people_counted(small):
    from tracker.dashboard import services as dashboard

    project, people = small
    assert dashboard.filter_choices([project.id])[1] == ["Rabat", "Souss-Massa"]
    update_participant(people["chris"], region="Oriental")
    db.session.commit()
    assert dashboard.filter_choices([project.id])[1] == ["Oriental", "Rabat", "Souss-Massa"]
