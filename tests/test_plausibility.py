"""Dates far from what is expected: warnings, never refusals, the same in every path.

The rules (``tracker.plausibility``) at their thresholds, then as the import preview and
the API's one-record path (``run_record``) report them. The web forms' questions are in
tests/test_placements_web.py and tests/test_trainings_web.py.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tracker import plausibility
from tracker.extensions import db
from tracker.imports import reader, services
from tracker.imports.report import Context
from tracker.models import Enrolment, FollowUp, Placement, PlacementKind
from tracker.placements.services import record_placement

TODAY = date.today()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- The rules at their thresholds ------------------------------------------------------


def test_the_thresholds_are_named_and_as_documented():
    assert plausibility.FOLLOW_UP_LATE_MONTHS == 6
    assert plausibility.FOLLOW_UP_EARLY_MONTHS == 1
    assert plausibility.COURSE_ENDED_DAYS == 30
    assert plausibility.PLACEMENT_BEFORE_REGISTRATION_DAYS == 1


@pytest.mark.parametrize(
    ("followed_on", "fires"),
    [
        # started 15 January 2015: the 12-month follow-up is due on 15 January 2016
        (date(2016, 1, 15), False),
        (date(2016, 7, 14), False),  # six months late, less a day
        (date(2016, 7, 15), True),  # six months late
        (date(2025, 1, 15), True),  # nine years late
        (date(2015, 12, 16), False),  # a month early, less a day
        (date(2015, 12, 15), True),  # a month early
    ],
)
def test_a_follow_up_far_from_its_due_day(app, followed_on, fires):
    with app.test_request_context(), force_locale("en"):
        doubts = plausibility.follow_up(
            placement_start=date(2015, 1, 15), months_after=12, followed_on=followed_on
        )
        assert bool(doubts) is fires
        if fires:
            assert doubts[0].field == "followed_on"
            assert "Jan 15, 2016" in doubts[0].message


def test_nine_years_late_is_said_in_years(app):
    with app.test_request_context(), force_locale("en"):
        (doubt,) = plausibility.follow_up(
            placement_start=date(2015, 1, 15), months_after=12, followed_on=date(2025, 1, 15)
        )
    assert "this date is 9 years later" in doubt.message


@pytest.mark.parametrize(("days", "fires"), [(0, False), (29, False), (30, True), (3000, True)])
def test_an_open_enrolment_in_a_course_that_ended(app, days, fires):
    with app.test_request_context():
        doubts = plausibility.open_enrolment(course_end=TODAY - timedelta(days=days), today=TODAY)
    assert bool(doubts) is fires


@pytest.mark.parametrize(("days", "fires"), [(-5, False), (0, False), (1, True), (400, True)])
def test_a_placement_before_registration(app, days, fires):
    registered = date(2015, 3, 1)
    with app.test_request_context():
        doubts = plausibility.placement(
            start_date=registered - timedelta(days=days), registered_on=registered
        )
    assert bool(doubts) is fires


# --- In the import: points to check, never errors ---------------------------------------


def run(kind: str, header: str, *rows: str, **options):
    data = ("\n".join((header, *rows)) + "\n").encode()
    with force_locale("en"):
        sheet = reader.read(data, max_rows=100)
        ctx = Context(user=None, default_project=None, today=TODAY)
        report = services.run(
            kind, sheet, filename="f.csv", digest=services.sha256(data), ctx=ctx, **options
        )
    db.session.commit()
    return report


FOLLOW_UPS = (
    "participant_code,placement_kind,placement_start_date,months_after,followed_on,"
    "still_active,monthly_income,note"
)
PLACEMENTS = (
    "participant_code,project_code,kind,employer,business_name,sector,start_date,"
    "end_date,contract_type,monthly_income,referral_partner,verified"
)
ENROLMENTS = (
    "participant_code,project_code,course_title,course_start_date,enrolled_on,status,"
    "completed_on,dropped_on,attendance_pct,certificate"
)


@pytest.fixture
def awa(make_participant, project):
    return make_participant(project, registered_on=date(2015, 1, 2))


@pytest.fixture
def iga(awa):
    placement = record_placement(
        awa,
        kind=PlacementKind.IGA,
        business_name="Couture Awa",
        sector="Couture",
        start_date=date(2015, 1, 15),
    )
    db.session.commit()
    return placement


def test_import_follow_ups_at_the_thresholds(iga, awa):
    rows = [
        f"{awa.code},iga,2015-01-15,12,2016-07-14,oui,,",  # 2: not yet
        f"{awa.code},iga,2015-01-15,6,2016-01-15,oui,,",  # 3: six months late exactly
        f"{awa.code},iga,2015-01-15,3,2024-04-15,non,,",  # 4: nine years late
    ]
    report = run("followups", FOLLOW_UPS, *rows)
    assert not report.errors and report.written == 3 and count(FollowUp) == 3
    points = {w.row: w for w in report.warnings}
    assert set(points) == {3, 4}
    assert points[3].column == "followed_on" and points[3].value == "2016-01-15"
    assert "6-month follow-up was due on Jul 15, 2015" in points[3].message
    assert "9 years later" in points[4].message


def test_import_a_placement_before_registration_is_written_with_a_point_to_check(awa):
    rows = [
        f"{awa.code},IDF-MA-2014,iga,,Couture,Couture,2015-01-02,,,,,",  # on the day: fine
        f"{awa.code},IDF-MA-2014,iga,,Tissage,Tissage,2015-01-01,,,,,",  # a day before
    ]
    report = run("placements", PLACEMENTS, *rows)
    assert not report.errors and report.written == 2 and count(Placement) == 2
    (point,) = report.warnings
    assert (point.row, point.column, point.value) == (3, "start_date", "2015-01-01")
    assert "1 day before the person's registration (Jan 2, 2015)" in point.message
    assert report.flagged == []  # a point to check: imported by the main button


@pytest.mark.parametrize(("days", "fires"), [(29, False), (30, True)])
def test_import_an_enrolment_left_open_in_a_course_ended(awa, make_course, project, days, fires):
    end = TODAY - timedelta(days=days)
    make_course(project, title="Couture", start=end - timedelta(days=60), end=end)
    db.session.commit()
    start = (end - timedelta(days=60)).isoformat()
    rows = [
        f"{awa.code},IDF-MA-2014,Couture,{start},{start},enrolled,,,,",
    ]
    report = run("enrolments", ENROLMENTS, *rows)
    assert not report.errors and report.written == 1 and count(Enrolment) == 1
    assert bool(report.warnings) is fires
    if fires:
        assert report.warnings[0].column == "status" and report.warnings[0].value == "enrolled"


def test_import_a_closed_enrolment_in_an_ended_course_is_no_point(awa, make_course, project):
    make_course(project, title="Couture", start=date(2015, 2, 1), end=date(2015, 5, 31))
    db.session.commit()
    rows = [f"{awa.code},IDF-MA-2014,Couture,2015-02-01,2015-02-01,completed,2015-05-31,,90,oui"]
    report = run("enrolments", ENROLMENTS, *rows)
    assert report.written == 1 and not report.warnings


def test_one_record_path_answers_the_same_points_to_check(iga, awa):
    """``run_record`` (the API's and Kobo's path) carries the rules' warnings too."""
    ctx = Context(user=None, default_project=None, today=TODAY)
    with force_locale("en"):
        report = services.run_record(
            "followups",
            {
                "participant_code": awa.code,
                "placement_kind": "iga",
                "placement_start_date": "2015-01-15",
                "months_after": "12",
                "followed_on": "2025-01-20",
                "still_active": "yes",
            },
            source="API",
            ctx=ctx,
        )
    assert report.written == 1 and not report.errors
    assert "9 years later" in report.warnings[0].message


# --- In the API: a country read loosely is a warning -----------------------------------


def test_api_registration_answers_a_loose_country_in_its_warnings(client, make_user, project):
    from tracker.api import tokens
    from tracker.models import Role

    officer = make_user(Role.OFFICER, [project], email="o@example.org")
    _token, secret = tokens.create(officer, "script")
    db.session.commit()
    person = {
        "given_name": "Grace",
        "family_name": "Mbala",
        "sex": "F",
        "nationality": "Congo",
        "consent_given": True,
        "consent_date": "2015-03-01",
        "project_code": "IDF-MA-2014",
        "registered_on": "2015-03-01",
    }
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}
    made = client.post("/api/v1/participants/", json=person, headers=headers)
    assert made.status_code == 201 and made.json["nationality"] == "COG"
    (warning,) = made.json["warnings"]
    assert warning["field"] == "nationality" and "(COG)" in warning["message"]
    assert "(COD)" in warning["message"]
