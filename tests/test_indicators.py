"""Each indicator on small hand-made data whose right answer is counted by hand."""

from __future__ import annotations

from datetime import date

import pytest

from tracker import indicators
from tracker.extensions import db
from tracker.indicators import Scope
from tracker.models import ActivityKind, PartnerKind, PlacementKind
from tracker.placements.services import record_follow_up, record_placement
from tracker.trainings.services import complete, drop_out, enrol

YEAR_2015 = (date(2015, 1, 1), date(2015, 12, 31))


def scope(project, start=YEAR_2015[0], end=YEAR_2015[1], **kw):
    return Scope((project.id,), start, end, **kw)


def trained_person(make_participant, course, project, on, **kw):
    person = make_participant(project, **kw)
    complete(enrol(person, course, on=course.start_date), on=on)
    return person


def job(person, start, kind=PlacementKind.EMPLOYMENT, sector="Hôtellerie"):
    return record_placement(
        person, kind=kind, sector=sector, start_date=start, business_name="Atelier"
    )


class TestTrained:
    def test_counts_people_not_enrolments(self, make_project, make_participant, make_course):
        project = make_project()
        c1 = make_course(project)
        c2 = make_course(project, start=date(2015, 6, 1), end=date(2015, 9, 30))
        # Awa completes two courses: one person
        awa = make_participant(project)
        complete(enrol(awa, c1, on=date(2015, 1, 20)), on=date(2015, 5, 31))
        complete(enrol(awa, c2, on=date(2015, 5, 20)), on=date(2015, 9, 30))
        # Binta completes one
        trained_person(make_participant, c1, project, date(2015, 5, 31), given_name="Binta")
        assert indicators.count("trained", scope(project)) == 2

    def test_drop_outs_and_open_enrolments_are_not_trained(
        self, make_project, make_participant, make_course
    ):
        project = make_project()
        course = make_course(project)
        dropped = make_participant(project, given_name="Dropped")
        drop_out(enrol(dropped, course, on=date(2015, 1, 20)), on=date(2015, 3, 1))
        still = make_participant(project, given_name="Still")
        enrol(still, course, on=date(2015, 1, 20))
        # dropped one course, completed another: counted once
        second = make_course(project, start=date(2015, 6, 1), end=date(2015, 9, 30))
        both = make_participant(project, given_name="Both")
        drop_out(enrol(both, course, on=date(2015, 1, 20)), on=date(2015, 2, 15))
        complete(enrol(both, second, on=date(2015, 5, 25)), on=date(2015, 9, 30))
        assert indicators.count("trained", scope(project)) == 1
        assert indicators.count("enrolled", scope(project)) == 3

    def test_period_bounds_are_inclusive(self, make_project, make_participant, make_course):
        project = make_project()
        course = make_course(project, start=date(2014, 12, 1), end=date(2016, 1, 31))
        for day, name in [
            (date(2014, 12, 31), "before"),
            (date(2015, 1, 1), "first-day"),
            (date(2015, 12, 31), "last-day"),
            (date(2016, 1, 1), "after"),
        ]:
            trained_person(make_participant, course, project, day, given_name=name)
        assert indicators.count("trained", scope(project)) == 2
        assert indicators.count("trained", Scope((project.id,))) == 4

    def test_other_projects_do_not_count(self, make_project, make_participant, make_course):
        mine, other = make_project("MINE"), make_project("OTHER")
        trained_person(make_participant, make_course(mine), mine, date(2015, 5, 31))
        trained_person(make_participant, make_course(other), other, date(2015, 5, 31))
        assert indicators.count("trained", scope(mine)) == 1
        both = Scope((mine.id, other.id), *YEAR_2015)
        assert indicators.count("trained", both) == 2


class TestPlaced:
    def test_job_and_iga_of_one_person_count_once(
        self, make_project, make_participant, make_course
    ):
        project = make_project()
        course = make_course(project)
        awa = trained_person(make_participant, course, project, date(2015, 5, 31))
        job(awa, date(2015, 7, 1))
        job(awa, date(2015, 9, 1), PlacementKind.IGA)
        binta = trained_person(make_participant, course, project, date(2015, 5, 31))
        job(binta, date(2015, 8, 1), PlacementKind.IGA)
        s = scope(project)
        assert indicators.count("placed", s) == 2
        assert indicators.placed_by_kind(s) == {"both": 1, "iga": 1}

    def test_placement_outside_period_or_project(self, make_project, make_participant, make_course):
        project, other = make_project(), make_project("OTHER")
        early = make_participant(project)
        job(early, date(2014, 12, 31))
        late = make_participant(project)
        job(late, date(2016, 1, 1))
        elsewhere = make_participant(other)
        job(elsewhere, date(2015, 6, 1))
        inside = make_participant(project)
        job(inside, date(2015, 6, 1))
        assert indicators.count("placed", scope(project)) == 1

    def test_placement_rate_uses_people_trained_and_placed(
        self, make_project, make_participant, make_course
    ):
        project = make_project()
        course = make_course(project)
        trained = [
            trained_person(make_participant, course, project, date(2015, 5, 31)) for _ in range(4)
        ]
        job(trained[0], date(2015, 7, 1))
        job(trained[0], date(2015, 8, 1), PlacementKind.IGA)
        job(trained[1], date(2015, 7, 1))
        # placed without training in the project: not in the rate's numerator
        untrained = make_participant(project)
        job(untrained, date(2015, 7, 1))
        s = scope(project)
        assert indicators.count("placed", s) == 3
        assert indicators.trained_and_placed(s) == 2
        assert indicators.placement_rate(s) == pytest.approx(0.5)

    def test_placement_rate_without_trained_is_none(self, make_project):
        assert indicators.placement_rate(scope(make_project())) is None


def test_retained_at_six_months(make_project, make_participant):
    project = make_project()
    kept, left, early_only, twice = (make_participant(project) for _ in range(4))
    p = job(kept, date(2015, 2, 1))
    record_follow_up(p, months_after=6, followed_on=date(2015, 8, 3), still_active=True)
    p = job(left, date(2015, 2, 1))
    record_follow_up(p, months_after=6, followed_on=date(2015, 8, 3), still_active=False)
    p = job(early_only, date(2015, 2, 1))
    record_follow_up(p, months_after=3, followed_on=date(2015, 5, 3), still_active=True)
    for start, kind in [(date(2015, 1, 5), PlacementKind.EMPLOYMENT), (date(2015, 3, 1), None)]:
        p = job(twice, start, kind or PlacementKind.IGA)
        record_follow_up(
            p, months_after=6, followed_on=start.replace(month=start.month + 6), still_active=True
        )
    assert indicators.count("retained_6m", scope(project)) == 2


class TestInstitutions:
    def test_strengthened_and_awareness(self, make_project, make_partner, make_activity):
        project = make_project()
        ofppt, anapec, gadem, embassy, late = (
            make_partner(name) for name in ("OFPPT", "ANAPEC", "GADEM", "Embassy", "Late")
        )
        make_activity(project, partners=[ofppt, anapec])
        make_activity(project, held_on=date(2015, 9, 1), partners=[ofppt, gadem])
        make_activity(project, ActivityKind.AWARENESS_WORKSHOP, partners=[ofppt, anapec])
        make_activity(project, ActivityKind.AWARENESS_WORKSHOP, partners=[anapec])
        make_activity(project, ActivityKind.EVENT, partners=[embassy])
        make_activity(project, held_on=date(2016, 2, 21), partners=[late])
        s = scope(project)
        assert indicators.count("institutions_strengthened", s) == 3
        assert indicators.count("awareness_partners", s) == 2

    def test_by_partner_kind(self, make_project, make_partner, make_activity):
        project = make_project()
        partners = [
            make_partner("A", PartnerKind.GOVERNMENT),
            make_partner("B", PartnerKind.GOVERNMENT),
            make_partner("C", PartnerKind.NGO),
        ]
        make_activity(project, partners=partners)
        make_activity(project, held_on=date(2015, 7, 1), partners=partners[:1])
        result = indicators.disaggregate(
            "institutions_strengthened", "partner_kind", scope(project)
        )
        assert result == [("government", 2), ("ngo", 1)]


class TestDisaggregations:
    def test_nationality_counts_people_and_adds_up(
        self, make_project, make_participant, make_course
    ):
        project = make_project()
        c1 = make_course(project, sector="Cuisine")
        c2 = make_course(project, sector="Couture", start=date(2015, 6, 1), end=date(2015, 8, 1))
        for nationality, n in [("SEN", 3), ("CIV", 2), ("CMR", 1)]:
            for _ in range(n):
                person = trained_person(
                    make_participant, c1, project, date(2015, 5, 31), nationality=nationality
                )
        # the last Cameroonian also completes the sewing course
        complete(enrol(person, c2, on=date(2015, 5, 30)), on=date(2015, 8, 1))
        s = scope(project)
        by_nationality = indicators.disaggregate("trained", "nationality", s)
        assert by_nationality == [("SEN", 3), ("CIV", 2), ("CMR", 1)]
        assert sum(n for _, n in by_nationality) == indicators.count("trained", s)
        # sectors overlap: 6 in cooking, 1 in sewing, 6 people
        assert indicators.disaggregate("trained", "sector", s) == [("Cuisine", 6), ("Couture", 1)]
        assert indicators.overlapping("trained", "sector")
        assert not indicators.overlapping("trained", "nationality")

    def test_age_group_at_registration(self, make_project, make_participant):
        project = make_project()
        registered = date(2015, 3, 15)
        cases = [
            (date(1997, 3, 16), "under_18"),  # 18 the day after registration
            (date(1997, 3, 15), "18_24"),  # 18 on the day
            (date(1990, 3, 16), "18_24"),  # 24
            (date(1990, 3, 15), "25_34"),
            (date(1980, 12, 31), "25_34"),  # 34
            (date(1965, 3, 15), "50_plus"),
        ]
        for born, _ in cases:
            make_participant(project, registered_on=registered, date_of_birth=born)
        make_participant(project, registered_on=registered, birth_year=1975)  # 40: 35–49
        make_participant(project, registered_on=registered)  # unknown
        result = dict(indicators.disaggregate("registered", "age_group", scope(project)))
        assert result == {
            "under_18": 1,
            "18_24": 2,
            "25_34": 2,
            "35_49": 1,
            "50_plus": 1,
            "unknown": 1,
        }

    def test_unknown_dimension_is_refused(self, make_project):
        with pytest.raises(ValueError, match="no dimension"):
            indicators.disaggregate("institutions_strengthened", "sex", scope(make_project()))

    def test_region_filter(self, make_project, make_participant, make_course):
        project = make_project()
        course = make_course(project)
        trained_person(make_participant, course, project, date(2015, 5, 31), region="Oriental")
        trained_person(make_participant, course, project, date(2015, 5, 31), region="Souss-Massa")
        assert indicators.count("trained", scope(project, region="Oriental")) == 1


def test_quarters_count_each_person_once(make_project, make_participant, make_course):
    project = make_project()
    spring = make_course(project, start=date(2015, 1, 5), end=date(2015, 3, 31))
    autumn = make_course(project, start=date(2015, 9, 1), end=date(2015, 10, 15))
    awa = trained_person(make_participant, spring, project, date(2015, 3, 31))
    complete(enrol(awa, autumn, on=date(2015, 8, 1)), on=date(2015, 10, 15))
    trained_person(make_participant, autumn, project, date(2015, 10, 15))
    s = scope(project)
    assert indicators.by_quarter("trained", s) == [(2015, 1, 1), (2015, 4, 1)]
    assert sum(n for *_, n in indicators.by_quarter("trained", s)) == indicators.count("trained", s)


def test_subject_ids_are_the_people_behind_the_figure(make_project, make_participant, make_course):
    project = make_project()
    course = make_course(project)
    people = [
        trained_person(make_participant, course, project, date(2015, 5, 31)) for _ in range(3)
    ]
    ids = set(db.session.scalars(indicators.subject_ids("trained", scope(project))))
    assert ids == {p.id for p in people}


def test_every_indicator_has_a_definition():
    for indicator in indicators.INDICATORS.values():
        assert len(str(indicator.definition)) > 40


def test_provider_filter_counts_completions_at_that_provider(
    make_project, make_participant, make_course, make_partner
):
    project = make_project()
    a, b = make_partner("Provider A"), make_partner("Provider B")
    course_a = make_course(project, provider=a)
    course_b = make_course(project, provider=b, start=date(2015, 6, 1), end=date(2015, 9, 30))
    # dropped out at A, trained at B: trained "by A" must not count her
    person = make_participant(project)
    drop_out(enrol(person, course_a, on=date(2015, 1, 20)), on=date(2015, 3, 1))
    complete(enrol(person, course_b, on=date(2015, 5, 20)), on=date(2015, 9, 30))
    trained_person(make_participant, course_a, project, date(2015, 5, 31))
    assert indicators.count("trained", scope(project, provider_id=a.id)) == 1
    assert indicators.count("trained", scope(project, provider_id=b.id)) == 1
    assert indicators.count("enrolled", scope(project, provider_id=a.id)) == 2
