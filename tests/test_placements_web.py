"""Placements on the web: record a job or an IGA, the follow-up schedule, follow-ups, edits."""

from __future__ import annotations

import html
import os
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tracker import indicators
from tracker.extensions import db
from tracker.indicators import Scope
from tracker.models import (
    AuditEvent,
    ContractType,
    FollowUp,
    Participant,
    PartnerKind,
    Placement,
    PlacementKind,
    Role,
)
from tracker.placements.services import (
    add_months,
    follow_up_schedule,
    latest_start_due,
    record_follow_up,
    record_placement,
)

TODAY = date.today()


def tomorrow() -> str:
    """Tomorrow when the test runs, not when it was collected (a run may cross midnight)."""
    return (date.today() + timedelta(days=1)).isoformat()


def resolved(overrides: dict) -> dict:
    return {key: value() if callable(value) else value for key, value in overrides.items()}


def page_of(response) -> str:
    text = response.get_data(as_text=True)
    if os.environ.get("PLC_DUMP"):
        with open(os.environ["PLC_DUMP"], "w") as out:
            out.write(text)
    return text


def error_of(page: str, field: str) -> str:
    """Return the error shown next to ``field`` (empty when there is none)."""
    found = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def placements() -> int:
    return db.session.scalar(select(func.count(Placement.id)))


def follow_ups() -> int:
    return db.session.scalar(select(func.count(FollowUp.id)))


@pytest.fixture
def person(make_participant, project):
    return make_participant(project, given_name="Mariam", registered_on=date(2015, 1, 10))


@pytest.fixture
def hotel(make_partner):
    return make_partner("Hôtel Atlas", PartnerKind.EMPLOYER, acronym="HA")


@pytest.fixture
def anapec(make_partner):
    return make_partner("ANAPEC", PartnerKind.EMPLOYMENT_SERVICE)


@pytest.fixture
def job(person, hotel):
    return record_placement(
        person,
        kind=PlacementKind.EMPLOYMENT,
        employer=hotel,
        sector="Hôtellerie",
        start_date=date(2015, 8, 31),
        monthly_income=Decimal("2500"),
    )


def scope(project) -> Scope:
    return Scope((project.id,), project.start_date, project.end_date)


def employment(hotel, anapec, **overrides):
    data = {
        "kind": "employment",
        "employer_id": str(hotel.id),
        "business_name": "",
        "sector": "Hôtellerie",
        "start_date": "2015-06-01",
        "end_date": "",
        "contract_type": "fixed_term",
        "monthly_income": "2 150,50",
        "referral_partner_id": str(anapec.id),
        "verified": "y",
    }
    data.update(overrides)
    return data


def iga(**overrides):
    data = {
        "kind": "iga",
        "employer_id": "",
        "business_name": "Couture Mariam",
        "sector": "Couture",
        "start_date": "2015-07-01",
        "end_date": "",
        "contract_type": "self_employed",
        "monthly_income": "1200",
        "referral_partner_id": "",
    }
    data.update(overrides)
    return data


# --- Month arithmetic and the schedule ----------------------------------------------


class TestSchedule:
    @pytest.mark.parametrize(
        ("start", "months", "due"),
        [
            (date(2015, 8, 31), 3, date(2015, 11, 30)),
            (date(2015, 8, 31), 6, date(2016, 2, 29)),
            (date(2015, 8, 31), 12, date(2016, 8, 31)),
            (date(2016, 1, 31), 1, date(2016, 2, 29)),
            (date(2015, 1, 31), 1, date(2015, 2, 28)),
            (date(2015, 11, 30), 3, date(2016, 2, 29)),
            (date(2016, 2, 29), 12, date(2017, 2, 28)),
            (date(2015, 10, 15), 3, date(2016, 1, 15)),
            (date(2015, 12, 1), 12, date(2016, 12, 1)),
            (date(2015, 3, 31), -1, date(2015, 2, 28)),
            (date(2016, 1, 15), -3, date(2015, 10, 15)),
        ],
    )
    def test_add_months_stays_in_the_month(self, start, months, due):
        assert add_months(start, months) == due

    def test_latest_start_due_is_the_last_start_whose_follow_up_is_due(self):
        # brute force over a leap year: the bound the SQL filter uses is exact
        for offset in range(0, 200):
            today = date(2015, 11, 20) + timedelta(days=offset)
            for months in (3, 6, 12):
                starts = (today - timedelta(days=d) for d in range(0, 400))
                expected = max(s for s in starts if add_months(s, months) <= today)
                assert latest_start_due(today, months) == expected, (today, months)

    def test_states(self, job):
        record_follow_up(job, months_after=3, followed_on=date(2015, 12, 1), still_active=True)
        states = [(m.months, m.due_on, m.state) for m in follow_up_schedule(job, date(2016, 2, 29))]
        assert states == [
            (3, date(2015, 11, 30), "done"),
            (6, date(2016, 2, 29), "due"),
            (12, date(2016, 8, 31), "upcoming"),
        ]
        later = follow_up_schedule(job, date(2016, 3, 1))
        assert [m.state for m in later] == ["done", "overdue", "upcoming"]

    def test_page_shows_the_schedule(self, client, signin, officer, job):
        record_follow_up(job, months_after=3, followed_on=date(2015, 12, 1), still_active=True)
        signin(officer)
        page = page_of(client.get(f"/placements/{job.id}"))
        assert "Hôtel Atlas" in page and "Mariam" in page
        assert "Nov 30, 2015" in page  # 3 months after 31 August
        assert "Feb 29, 2016" in page  # 6 months: the last day of February in a leap year
        assert "Aug 31, 2016" in page
        read = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "view", AuditEvent.entity == "placement")
        )
        assert (read.entity_id, read.actor_id) == (job.id, officer.id)
        assert page.count("overdue") == 2  # 6 and 12 months have passed
        # the form proposes the first follow-up not recorded, and no longer the 3-month one
        assert '<option selected value="6">' in page
        assert 'value="3"' not in page


# --- Recording a placement --------------------------------------------------------------


class TestNewPlacement:
    def test_form_lists_employers_first_and_known_sectors(
        self, client, signin, officer, person, hotel, anapec, make_partner, make_course, project
    ):
        make_partner("Zeta Bank", PartnerKind.DONOR)
        make_course(project, sector="Pâtisserie")
        signin(officer)
        page = page_of(client.get(f"/placements/new/{person.id}"))
        assert 'name="kind" required type="radio" value="employment"' in page
        assert 'name="kind" required type="radio" value="iga"' in page
        employers = page.index('label="Employers"')
        assert employers < page.index("HA – Hôtel Atlas") < page.index('label="Other partners"')
        assert '<option value="Pâtisserie">' in page
        assert "Mariam" in page

    def test_employment(self, client, signin, officer, person, hotel, anapec):
        signin(officer)
        response = client.post(f"/placements/new/{person.id}", data=employment(hotel, anapec))
        assert response.status_code == 302
        assert response.headers["Location"] == f"/participants/{person.id}"
        placement = db.session.scalar(select(Placement))
        assert placement.kind is PlacementKind.EMPLOYMENT
        assert placement.employer_id == hotel.id and placement.business_name is None
        assert placement.referral_partner_id == anapec.id
        assert placement.contract_type is ContractType.FIXED_TERM
        assert placement.monthly_income == Decimal("2150.50")
        assert placement.verified is True
        assert placement.project_id == person.project_id
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "placement"))
        assert (event.action, event.actor_id) == ("create", officer.id)
        case_file = page_of(client.get(response.headers["Location"]))
        assert f'href="/placements/{placement.id}"' in case_file  # the timeline links here
        assert f'href="/placements/new/{person.id}"' in case_file

    def test_iga_moves_the_placed_figure(self, client, signin, officer, person, project):
        assert indicators.count("placed", scope(project)) == 0
        signin(officer)
        response = client.post(f"/placements/new/{person.id}", data=iga())
        assert response.status_code == 302
        placement = db.session.scalar(select(Placement))
        assert placement.kind is PlacementKind.IGA
        assert placement.employer_id is None and placement.business_name == "Couture Mariam"
        assert placement.referral_partner_id is None and placement.verified is False
        assert indicators.count("placed", scope(project)) == 1

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            (
                {"business_name": "   "},
                "business_name",
                "Give the employer or the name of the business.",
            ),
            ({"end_date": "2015-06-30"}, "end_date", "The placement cannot end before it starts."),
            (
                {"start_date": tomorrow},
                "start_date",
                "This date cannot be in the future.",
            ),
            ({"monthly_income": "-5"}, "monthly_income", "The income cannot be negative."),
            ({"monthly_income": "abc"}, "monthly_income", "Not a valid decimal value."),
            ({"sector": ""}, "sector", "The sector is required."),
            ({"kind": ""}, "kind", "Choose a job or an income-generating activity."),
        ],
    )
    def test_errors_next_to_the_field(
        self, client, signin, officer, person, overrides, field, message
    ):
        signin(officer)
        data = iga(**resolved(overrides))
        if field == "end_date":
            data["start_date"] = "2015-07-01"
        response = client.post(f"/placements/new/{person.id}", data=data)
        assert response.status_code == 200
        assert error_of(page_of(response), field) == message
        assert placements() == 0

    def test_archived_case_file_gets_no_new_placement(self, client, signin, officer, person):
        from tracker.participants.services import archive

        archive(person)
        signin(officer)
        response = client.post(f"/placements/new/{person.id}", data=iga())
        assert response.status_code == 302
        assert placements() == 0
        page = page_of(client.get(response.headers["Location"]))
        assert "An archived or erased case file cannot get a new placement." in page

    @pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
    def test_managers_and_admins_record_too(self, client, signin, make_user, project, person, role):
        signin(make_user(role, [project] if role is Role.MANAGER else []))
        assert client.post(f"/placements/new/{person.id}", data=iga()).status_code == 302
        assert placements() == 1


# --- Dates far from what is expected (tracker.plausibility) ----------------------------


def doubts_of(page: str) -> str:
    """Return the text of the box of dates to check (empty when there is none)."""
    box = r'<section class="warning" role="alert" aria-labelledby="dates_checked-title">'
    found = re.search(box + r"(.*?)</section>", page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


class TestDatesToCheck:
    def test_a_placement_before_registration_is_asked_about_then_saved(
        self, client, signin, officer, person
    ):
        signin(officer)
        # registered on 10 January 2015: a start on the 9th is a day before
        response = client.post(f"/placements/new/{person.id}", data=iga(start_date="2015-01-09"))
        assert response.status_code == 200 and placements() == 0
        box = doubts_of(page_of(response))
        assert "starts on Jan 9, 2015, 1 day before the person's registration" in box
        assert "I checked: the dates are right" in box
        confirmed = iga(start_date="2015-01-09", dates_checked="y")
        response = client.post(f"/placements/new/{person.id}", data=confirmed)
        assert response.status_code == 302 and placements() == 1

    def test_a_placement_on_the_day_of_registration_is_not_asked_about(
        self, client, signin, officer, person
    ):
        signin(officer)
        response = client.post(f"/placements/new/{person.id}", data=iga(start_date="2015-01-10"))
        assert response.status_code == 302 and placements() == 1

    def test_a_rule_refusal_comes_before_the_question(self, client, signin, officer, person):
        signin(officer)
        data = iga(start_date="2014-06-01", end_date="2014-05-01")
        page = page_of(client.post(f"/placements/new/{person.id}", data=data))
        assert error_of(page, "end_date") and not doubts_of(page)

    def test_an_edit_moving_the_start_before_registration_is_asked_about(
        self, client, signin, officer, job, hotel, anapec
    ):
        signin(officer)
        data = employment(hotel, anapec, start_date="2014-12-01", expected_version=job.version)
        page = page_of(client.post(f"/placements/{job.id}/edit", data=data))
        assert "before the person's registration" in doubts_of(page)
        assert db.session.get(Placement, job.id).start_date == date(2015, 8, 31)
        data["dates_checked"] = "y"
        assert client.post(f"/placements/{job.id}/edit", data=data).status_code == 302
        assert db.session.get(Placement, job.id).start_date == date(2014, 12, 1)

    # the job starts on 31 August 2015: its 6-month follow-up is due on 29 February 2016
    @pytest.mark.parametrize(
        ("followed_on", "asked"),
        [
            ("2016-08-28", None),  # six months late less a day
            ("2016-08-29", "was due on Feb 29, 2016: this date is 6 months later"),
            ("2016-01-30", None),  # a month early less a day
            ("2016-01-29", "is due on Feb 29, 2016: this date is 1 month earlier"),
        ],
    )
    def test_a_follow_up_far_from_its_due_day_is_asked_about(
        self, client, signin, officer, job, followed_on, asked
    ):
        signin(officer)
        data = follow_up_data(followed_on=followed_on)
        response = client.post(f"/placements/{job.id}/follow-ups", data=data)
        if asked is None:
            assert response.status_code == 302 and follow_ups() == 1
            return
        assert response.status_code == 200 and follow_ups() == 0
        assert asked in doubts_of(page_of(response))
        data["dates_checked"] = "y"
        assert client.post(f"/placements/{job.id}/follow-ups", data=data).status_code == 302
        assert follow_ups() == 1

    def test_a_twelve_month_follow_up_nine_years_late(self, client, signin, officer, job):
        record = record_follow_up(
            job, months_after=12, followed_on=date(2016, 9, 1), still_active=True
        )
        db.session.commit()
        signin(officer)
        data = follow_up_data(
            months_after="12", followed_on="2025-09-01", expected_version=record.version
        )
        page = page_of(client.post(f"/placements/follow-ups/{record.id}/edit", data=data))
        assert "The 12-month follow-up was due on Aug 31, 2016: this date is 9 years later" in (
            doubts_of(page)
        )
        assert db.session.get(FollowUp, record.id).followed_on == date(2016, 9, 1)


# --- Follow-ups -----------------------------------------------------------------------


def follow_up_data(**overrides):
    data = {
        "months_after": "6",
        "other_months": "",
        "followed_on": "2016-03-02",
        "still_active": "yes",
        "monthly_income": "2600",
        "note": "Promue cheffe de rang",
    }
    data.update(overrides)
    return data


class TestFollowUps:
    def test_six_months_still_active_moves_retained(self, client, signin, officer, job, project):
        assert indicators.count("retained_6m", scope(project)) == 0
        assert indicators.count("placed", scope(project)) == 1
        signin(officer)
        response = client.post(f"/placements/{job.id}/follow-ups", data=follow_up_data())
        assert response.status_code == 302
        assert response.headers["Location"] == f"/placements/{job.id}"
        follow_up = db.session.scalar(select(FollowUp))
        assert (follow_up.months_after, follow_up.followed_on) == (6, date(2016, 3, 2))
        assert follow_up.still_active is True
        assert follow_up.monthly_income == Decimal("2600")
        assert follow_up.note == "Promue cheffe de rang"
        assert indicators.count("retained_6m", scope(project)) == 1
        page = page_of(client.get(response.headers["Location"]))
        assert "The 6-month follow-up is recorded." in page
        assert "Promue cheffe de rang" in page

    def test_no_longer_active_is_not_retained(self, client, signin, officer, job, project):
        signin(officer)
        client.post(f"/placements/{job.id}/follow-ups", data=follow_up_data(still_active="no"))
        assert follow_ups() == 1
        assert indicators.count("retained_6m", scope(project)) == 0

    def test_a_second_six_month_follow_up_is_refused(self, client, signin, officer, job):
        record_follow_up(job, months_after=6, followed_on=date(2016, 3, 1), still_active=True)
        signin(officer)
        response = client.post(f"/placements/{job.id}/follow-ups", data=follow_up_data())
        assert response.status_code == 200
        assert error_of(page_of(response), "months_after") == (
            "This placement already has its 6-month follow-up."
        )
        assert follow_ups() == 1

    def test_another_delay(self, client, signin, officer, job):
        signin(officer)
        data = follow_up_data(months_after="other", other_months="9", followed_on="2016-06-01")
        assert client.post(f"/placements/{job.id}/follow-ups", data=data).status_code == 302
        assert db.session.scalar(select(FollowUp.months_after)) == 9

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            (
                {"months_after": "other"},
                "other_months",
                "Give the number of months after the start.",
            ),
            (
                {"months_after": "other", "other_months": "61"},
                "other_months",
                "Give a number of months from 1 to 60.",
            ),
            ({"months_after": "7"}, "months_after", "Choose which follow-up this is."),
            ({"still_active": ""}, "still_active", "Say whether the person is still active."),
            (
                {"followed_on": "2015-08-30"},
                "followed_on",
                "A follow-up cannot precede the placement.",
            ),
            (
                {"followed_on": tomorrow},
                "followed_on",
                "This date cannot be in the future.",
            ),
            ({"monthly_income": "-1"}, "monthly_income", "The income cannot be negative."),
        ],
    )
    def test_errors_next_to_the_field(
        self, client, signin, officer, job, overrides, field, message
    ):
        signin(officer)
        response = client.post(
            f"/placements/{job.id}/follow-ups", data=follow_up_data(**resolved(overrides))
        )
        assert response.status_code == 200
        assert error_of(page_of(response), field) == message
        assert follow_ups() == 0


# --- Edits and conflicts ----------------------------------------------------------------


class TestEdit:
    def test_edit_placement(self, client, signin, officer, job, hotel, anapec):
        signin(officer)
        form = page_of(client.get(f"/placements/{job.id}/edit"))
        assert 'name="expected_version" type="hidden" value="1"' in form
        assert 'value="2500.00"' in form
        data = employment(hotel, anapec, start_date="2015-08-31", sector="Restauration")
        data["expected_version"] = "1"
        response = client.post(f"/placements/{job.id}/edit", data=data)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/placements/{job.id}"
        db.session.refresh(job)
        assert (job.sector, job.version) == ("Restauration", 2)
        assert job.monthly_income == Decimal("2150.50")

    def test_stale_placement_gets_the_conflict_page(
        self, client, signin, officer, job, hotel, anapec
    ):
        signin(officer)
        job.sector = "Restauration"  # someone else saved first
        db.session.commit()
        data = employment(hotel, anapec, start_date="2015-08-31", sector="Cuisine")
        data["expected_version"] = "1"
        response = client.post(f"/placements/{job.id}/edit", data=data)
        assert response.status_code == 409
        page = page_of(response)
        assert "Restauration" in page and "Cuisine" in page
        assert "ANAPEC" in page  # the referral partner shown by name, not by id
        db.session.refresh(job)
        assert job.sector == "Restauration"

    def test_start_cannot_move_after_a_follow_up(self, client, signin, officer, job, hotel, anapec):
        record_follow_up(job, months_after=3, followed_on=date(2015, 12, 1), still_active=True)
        signin(officer)
        data = employment(hotel, anapec, start_date="2015-12-15", expected_version="1")
        response = client.post(f"/placements/{job.id}/edit", data=data)
        assert response.status_code == 200
        assert error_of(page_of(response), "start_date") == (
            "A follow-up is recorded on Dec 1, 2015: the placement cannot start after that."
        )

    def test_edit_follow_up(self, client, signin, officer, job):
        follow_up = record_follow_up(
            job, months_after=6, followed_on=date(2016, 3, 1), still_active=True
        )
        signin(officer)
        form = page_of(client.get(f"/placements/follow-ups/{follow_up.id}/edit"))
        assert '<option selected value="6">' in form
        data = follow_up_data(still_active="no", note="Partie au Sénégal", expected_version="1")
        response = client.post(f"/placements/follow-ups/{follow_up.id}/edit", data=data)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/placements/{job.id}"
        db.session.refresh(follow_up)
        assert (follow_up.still_active, follow_up.note, follow_up.version) == (
            False,
            "Partie au Sénégal",
            2,
        )

    def test_follow_up_cannot_take_the_months_of_another(self, client, signin, officer, job):
        record_follow_up(job, months_after=3, followed_on=date(2015, 12, 1), still_active=True)
        six = record_follow_up(job, months_after=6, followed_on=date(2016, 3, 1), still_active=True)
        signin(officer)
        data = follow_up_data(months_after="3", expected_version="1")
        response = client.post(f"/placements/follow-ups/{six.id}/edit", data=data)
        assert error_of(page_of(response), "months_after") == (
            "This placement already has its 3-month follow-up."
        )

    def test_stale_follow_up_gets_the_conflict_page(self, client, signin, officer, job):
        follow_up = record_follow_up(
            job, months_after=6, followed_on=date(2016, 3, 1), still_active=True
        )
        signin(officer)
        follow_up.note = "Vue au marché"
        db.session.commit()
        data = follow_up_data(note="Mine", expected_version="1")
        response = client.post(f"/placements/follow-ups/{follow_up.id}/edit", data=data)
        assert response.status_code == 409
        assert "Vue au marché" in page_of(response)
        db.session.refresh(follow_up)
        assert follow_up.note == "Vue au marché"


# --- The list ------------------------------------------------------------------------------


class TestIndex:
    def test_lists_and_filters(
        self, client, signin, officer, project, other_project, make_participant, hotel
    ):
        def place(given_name, kind, start, months_done=(), project=project):
            who = make_participant(project, given_name=given_name, registered_on=date(2015, 1, 2))
            placement = record_placement(
                who,
                kind=kind,
                employer=hotel if kind is PlacementKind.EMPLOYMENT else None,
                business_name=f"Business of {given_name}" if kind is PlacementKind.IGA else None,
                sector="Couture",
                start_date=start,
            )
            for months in months_done:
                record_follow_up(
                    placement,
                    months_after=months,
                    followed_on=add_months(start, months),
                    still_active=True,
                )
            return placement

        recent = TODAY - timedelta(days=40)
        place("Aminata", PlacementKind.EMPLOYMENT, recent)  # nothing due yet
        place("Binta", PlacementKind.IGA, date(2015, 3, 1), (3, 6, 12))  # all done
        place("Coumba", PlacementKind.IGA, date(2015, 3, 1), (3, 6))  # 12 months due
        place("Djeneba", PlacementKind.EMPLOYMENT, add_months(TODAY, -4))  # 3 months due
        place("Elsewhere", PlacementKind.IGA, date(2015, 3, 1), project=other_project)
        signin(officer)

        def shown(**args) -> set[str]:
            page = page_of(client.get("/placements/", query_string=args))
            names = ("Aminata", "Binta", "Coumba", "Djeneba", "Elsewhere")
            return {n for n in names if n in page}

        assert shown() == {"Aminata", "Binta", "Coumba", "Djeneba"}
        assert shown(due="y") == {"Coumba", "Djeneba"}
        assert shown(kind="iga") == {"Binta", "Coumba"}
        assert shown(started_from="2015-01-01", started_to="2015-12-31") == {"Binta", "Coumba"}
        assert shown(project=str(project.id), kind="employment") == {"Aminata", "Djeneba"}
        page = page_of(client.get("/placements/"))
        assert "2 placements wait for a follow-up" in page
        assert "12-month follow-up due" in page and "3-month follow-up due" in page
        assert "Business of Coumba" in page
        # each follow-up due is a link that opens its form with that follow-up proposed
        due = dict(
            re.findall(r'<a class="tag danger due" href="([^"]+)">(\d+)-month follow-up due', page)
        )
        coumba, djeneba = (
            db.session.scalar(
                select(Placement).join(Participant).where(Participant.given_name == name)
            )
            for name in ("Coumba", "Djeneba")
        )
        assert due == {
            f"/placements/{coumba.id}?months=12#record": "12",
            f"/placements/{djeneba.id}?months=3#record": "3",
        }

    def test_a_project_not_assigned_is_not_a_filter(
        self, client, signin, officer, other_project, make_participant
    ):
        elsewhere = make_participant(other_project, given_name="Elsewhere")
        record_placement(
            elsewhere,
            kind=PlacementKind.IGA,
            business_name="B",
            sector="S",
            start_date=date(2015, 2, 1),
        )
        signin(officer)
        page = page_of(client.get("/placements/", query_string={"project": other_project.id}))
        assert "Elsewhere" not in page and "0 placements" in page

    def test_pages(self, client, signin, officer, project, make_participant):
        for n in range(27):
            who = make_participant(project, given_name=f"P{n:02d}")
            record_placement(
                who,
                kind=PlacementKind.IGA,
                business_name="B",
                sector="S",
                start_date=date(2015, 2, 1),
            )
        signin(officer)
        first = page_of(client.get("/placements/"))
        assert "27 placements" in first and "Page 1 of 2" in first
        assert len(re.findall(r'<a href="/placements/\d+">', first)) == 25
        second = page_of(client.get("/placements/?page=2"))
        assert "Page 2 of 2" in second
        assert "P00" in second and "P01" in second and "P02" not in second


# --- Who may do what ------------------------------------------------------------------------


def id_routes(person, placement, follow_up):
    return [
        ("get", f"/placements/new/{person.id}"),
        ("post", f"/placements/new/{person.id}"),
        ("get", f"/placements/{placement.id}"),
        ("get", f"/placements/{placement.id}/edit"),
        ("post", f"/placements/{placement.id}/edit"),
        ("post", f"/placements/{placement.id}/follow-ups"),
        ("get", f"/placements/follow-ups/{follow_up.id}/edit"),
        ("post", f"/placements/follow-ups/{follow_up.id}/edit"),
    ]


class TestAccess:
    def test_other_projects_answer_404(self, client, signin, stranger, person, job):
        follow_up = record_follow_up(
            job, months_after=3, followed_on=date(2015, 12, 1), still_active=True
        )
        signin(stranger)
        for method, url in id_routes(person, job, follow_up):
            assert getattr(client, method)(url, data=iga()).status_code == 404, (method, url)
        assert "Mariam" not in page_of(client.get("/placements/"))
        assert (placements(), follow_ups()) == (1, 1)

    def test_viewers_are_refused_every_page(self, client, signin, viewer, person, job):
        follow_up = record_follow_up(
            job, months_after=3, followed_on=date(2015, 12, 1), still_active=True
        )
        signin(viewer)
        routes = [("get", "/placements/"), *id_routes(person, job, follow_up)]
        for method, url in routes:
            response = getattr(client, method)(url, data=iga())
            assert response.status_code == 403, (method, url)
            assert "Mariam" not in page_of(response)
        assert (placements(), follow_ups()) == (1, 1)
        # the menu does not offer the page
        assert 'href="/placements/"' not in page_of(client.get("/"))

    def test_officers_see_the_menu_entry(self, client, signin, officer):
        signin(officer)
        assert 'href="/placements/"' in page_of(client.get("/"))

    def test_signed_out_is_sent_to_sign_in(self, client, job):
        response = client.get(f"/placements/{job.id}")
        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]

    def test_erased_person_placement_is_read_only(self, client, signin, officer, job):
        from tracker.participants.services import erase

        erase(job.participant)
        signin(officer)
        page = page_of(client.get(f"/placements/{job.id}"))
        assert "Record a follow-up" not in page and "Edit the placement" not in page
        response = client.post(f"/placements/{job.id}/follow-ups", data=follow_up_data())
        assert response.status_code == 200
        assert "An erased record cannot be edited." in page_of(response)
        assert follow_ups() == 0


def test_amounts_are_typed_as_text_so_french_commas_survive(app):
    from flask_wtf import FlaskForm

    from tracker.placements.forms import AmountField

    class Form(FlaskForm):
        amount = AmountField("x")

    with app.test_request_context():
        html = Form(meta={"csrf": False}).amount()
    assert 'type="text"' in html and 'inputmode="decimal"' in html
