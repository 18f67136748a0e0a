"""Consent is recorded per purpose and enforced: exports, the donor annex, the case file.

The rules are those of ``tracker.participants.consent``; each test names the one
it proves.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from tracker import indicators
from tracker.domain import DomainError
from tracker.exports import services as exports
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Consent,
    ConsentPurpose,
    Participant,
    PartnerKind,
    Placement,
    PlacementKind,
    Role,
    TrainingCourse,
)
from tracker.participants import consent as consents
from tracker.placements.services import record_follow_up, record_placement
from tracker.trainings.services import EnrolmentRefused, complete, enrol, enrol_many

TODAY = date.today()
CASE = ConsentPurpose.CASE_MANAGEMENT
DONOR = ConsentPurpose.DONOR_REPORTING
SHARING = ConsentPurpose.PARTNER_SHARING


def _codes(kind: str, *, pseudonymous: bool = False) -> list[str]:
    export = exports.record_export(kind, user=None, pseudonymous=pseudonymous)
    column = export.header.index("code" if kind == "participants" else "participant_code")
    return sorted({row[column] for row in export.rows})


# --- When a consent holds: the same answer in Python and in SQL -----------------------


@pytest.mark.parametrize(
    ("expires_on", "withdrawn_on", "day", "expected"),
    [
        (None, None, date(2015, 1, 1), True),  # the day it is given
        (None, None, date(2014, 12, 31), False),  # before it is given
        (None, date(2015, 6, 1), date(2015, 5, 31), True),
        (None, date(2015, 6, 1), date(2015, 6, 1), False),  # withdrawn from that day
        (date(2015, 6, 1), None, date(2015, 6, 1), True),  # valid on its last day
        (date(2015, 6, 1), None, date(2015, 6, 2), False),
    ],
)
def test_a_consent_holds_the_same_in_python_and_sql(
    make_project, make_participant, expires_on, withdrawn_on, day, expected
):
    person = make_participant(make_project(), registered_on=date(2015, 1, 1))
    case = person.consents[0]
    case.expires_on, case.withdrawn_on = expires_on, withdrawn_on
    db.session.flush()
    assert case.is_valid_on(day) is expected
    assert consents.case_management_holds(person, day) is expected
    in_sql = db.session.scalar(
        select(Participant.id).where(consents.case_management_holds_sql(Participant.id, day))
    )
    assert (in_sql == person.id) is expected


# --- Named and pseudonymous exports, aggregates ----------------------------------------


@pytest.fixture
def people(make_project, make_participant, make_course, make_partner):
    """Six trained and placed people; each one's consents tell a different story."""
    project = make_project("PA", start=date(2015, 1, 1), end=date(2015, 12, 31))
    course = make_course(project, start=date(2015, 2, 1), end=date(2015, 5, 31))
    employer = make_partner("Employer", PartnerKind.EMPLOYER)
    made = {}
    for n, name in enumerate(
        ["valid", "withdrawn", "expired", "donor_refused", "donor_only", "donor_expired"], 1
    ):
        person = make_participant(project, code=f"PA-{n:04d}", given_name=f"Name{name}")
        complete(enrol(person, course, on=date(2015, 1, 20)), on=date(2015, 5, 31))
        placement = record_placement(
            person,
            kind=PlacementKind.EMPLOYMENT,
            sector="Cuisine",
            start_date=date(2015, 7, 1),
            employer=employer,
        )
        record_follow_up(
            placement, months_after=3, followed_on=date(2015, 10, 1), still_active=True
        )
        made[name] = person
    # the stories are told after the records: nothing new is recorded without consent
    made["withdrawn"].consents[0].withdrawn_on = date(2016, 1, 1)
    made["expired"].consents[0].expires_on = date(2016, 1, 1)
    consents.record_consent(made["donor_refused"], DONOR, given_on=date(2015, 1, 1))
    made["donor_refused"].consents[-1].withdrawn_on = date(2016, 1, 1)
    made["donor_only"].consents[0].withdrawn_on = date(2016, 1, 1)
    consents.record_consent(made["donor_only"], DONOR, given_on=date(2015, 1, 1))
    consents.record_consent(
        made["donor_expired"], DONOR, given_on=date(2015, 1, 1), expires_on=date(2016, 1, 1)
    )
    db.session.commit()
    return project, {name: p.code for name, p in made.items()}


@pytest.mark.parametrize("kind", exports.PERSON_KINDS)
def test_named_exports_leave_out_people_without_case_consent(people, kind):
    """Rule 2: withdrawn or expired case-management consent, no row at all (not blanked)."""
    _project, code = people
    assert _codes(kind) == sorted([code["valid"], code["donor_refused"], code["donor_expired"]])


def test_named_export_has_no_trace_of_the_person_left_out(people):
    _project, code = people
    export = exports.record_export("participants", user=None)
    text = repr(list(export.rows))
    assert "Namewithdrawn" not in text and code["withdrawn"] not in text
    assert "Nameexpired" not in text
    assert export.count == 3


@pytest.mark.parametrize("kind", exports.PERSON_KINDS)
def test_pseudonymous_exports_follow_donor_reporting_consent(people, kind):
    """Rules 4 and 5: her donor-reporting answer if asked, else her case consent."""
    _project, code = people
    assert _codes(kind, pseudonymous=True) == sorted([code["valid"], code["donor_only"]])


def test_figures_count_everybody(people):
    """Rule 1: aggregates keep the six people, whatever their consents say."""
    project, _code = people
    scope = indicators.Scope((project.id,), date(2015, 1, 1), date(2015, 12, 31))
    assert indicators.count("trained", scope) == 6
    assert indicators.count("placed", scope) == 6
    table = exports.indicator_export(
        [project], scope.start, scope.end, suppress_small=False, threshold=5
    )
    figures = {row[3]: row[-1] for row in table.rows if row[5] is None}
    assert figures["trained"] == 6 and figures["placed"] == 6


def test_donor_annex_lists_only_codes_allowed_to_leave(people):
    """Rules 4-6: the annex leaves out refused codes; the headline figures do not move."""
    from tracker.reports.donor import collect

    project, code = people
    with force_locale("en"):
        report = collect(project)
    assert sorted(row[0] for row in report.annex_rows) == sorted(
        [code["valid"], code["donor_only"]]
    )
    headline = {figure.key: figure.value for figure in report.headline}
    assert headline["trained"] == 6 and headline["placed"] == 6


def test_a_withdrawal_counts_from_the_day_the_file_is_made(people):
    """A withdrawal dated in the future of ``today`` does not hide her yet."""
    _project, code = people
    export = exports.record_export("participants", user=None, today=date(2015, 12, 31))
    codes = sorted(row[0] for row in export.rows)
    assert code["withdrawn"] in codes and code["expired"] in codes


# --- Sharing with a named partner ----------------------------------------------------------


def test_sharing_consent_names_one_partner(make_project, make_participant, make_partner):
    """Rule 7: sharing holds for the partner named, only while the consent holds."""
    person = make_participant(make_project())
    ngo = make_partner("NGO", PartnerKind.NGO)
    other = make_partner("Other", PartnerKind.NGO)
    assert not consents.may_share_with(person, ngo)
    with pytest.raises(DomainError) as refused:
        consents.record_consent(person, SHARING, given_on=date(2015, 1, 1))
    assert refused.value.field == "partner_id"
    sharing = consents.record_consent(person, SHARING, given_on=date(2015, 1, 1), partner=ngo)
    assert consents.may_share_with(person, ngo)
    assert not consents.may_share_with(person, other)
    consents.withdraw_consent(sharing, on=TODAY)
    assert not consents.may_share_with(person, ngo)


def test_consent_dates_are_checked(make_project, make_participant):
    person = make_participant(make_project(), registered_on=date(2015, 1, 1))
    case = person.consents[0]
    refused = [
        lambda: consents.record_consent(
            person, DONOR, given_on=date(2015, 3, 1), expires_on=date(2015, 2, 1)
        ),
        lambda: consents.record_consent(person, DONOR, given_on=date.today() + timedelta(days=1)),
        lambda: consents.withdraw_consent(case, on=date(2014, 12, 31)),
        lambda: consents.withdraw_consent(case, on=date.today() + timedelta(days=1)),
    ]
    fields = []
    for attempt in refused:
        with pytest.raises(DomainError) as error:
            attempt()
        fields.append(error.value.field)
    assert fields == ["expires_on", "given_on", "withdrawn_on", "withdrawn_on"]
    assert len(person.consents) == 1 and case.withdrawn_on is None
    consents.withdraw_consent(case, on=TODAY)
    with force_locale("en"), pytest.raises(DomainError, match="already withdrawn"):
        consents.withdraw_consent(case, on=TODAY)


# --- The case file: recording, withdrawing, the banner, what is refused ---------------------


def test_officer_withdraws_and_renews_consent_on_the_case_file(
    client, signin, officer, project, make_participant
):
    person = make_participant(project, given_name="Mariam")
    db.session.commit()
    signin(officer)
    page = client.get(f"/participants/{person.id}").get_data(as_text=True)
    assert f"/participants/{person.id}/consents" in page
    assert "consent-banner" not in page
    case_id = person.consents[0].id

    response = client.post(
        f"/participants/{person.id}/consents/{case_id}/withdraw",
        data={"withdrawn_on": TODAY.isoformat()},
    )
    assert response.status_code == 302
    assert db.session.get(Consent, case_id).withdrawn_on == TODAY
    logged = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity == "consent",
            AuditEvent.entity_id == case_id,
            AuditEvent.action == "update",
        )
    )
    assert logged.actor_id == officer.id and "withdrawn_on" in logged.changes

    page = client.get(f"/participants/{person.id}").get_data(as_text=True)
    assert 'id="consent-banner"' in page
    assert "Consent to case management withdrawn on" in page
    assert f"/participants/{person.id}/edit" not in page
    assert f"/trainings/enrol/{person.id}" not in page
    assert f"/placements/new/{person.id}" not in page

    response = client.post(
        f"/participants/{person.id}/consents",
        data={"purpose": "case_management", "given_on": TODAY.isoformat()},
    )
    assert response.status_code == 302
    assert consents.case_management_holds(db.session.get(Participant, person.id))
    page = client.get(f"/participants/{person.id}").get_data(as_text=True)
    assert "consent-banner" not in page
    assert f"/participants/{person.id}/edit" in page


def test_expired_consent_shows_its_own_banner(client, signin, officer, project, make_participant):
    person = make_participant(project)
    person.consents[0].expires_on = date(2015, 1, 1)
    db.session.commit()
    signin(officer)
    page = client.get(f"/participants/{person.id}").get_data(as_text=True)
    assert "Consent to case management expired on" in page


def test_editing_is_refused_without_case_consent(
    client, signin, officer, project, make_participant
):
    person = make_participant(project, given_name="Mariam")
    person.consents[0].withdrawn_on = TODAY
    db.session.commit()
    version = person.version
    signin(officer)
    response = client.get(f"/participants/{person.id}/edit")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/participants/{person.id}"
    response = client.post(
        f"/participants/{person.id}/edit",
        data={"given_name": "Changed", "family_name": "X", "sex": "F", "expected_version": version},
    )
    assert response.status_code == 302
    stored = db.session.get(Participant, person.id)
    assert stored.given_name == "Mariam" and stored.version == version


def test_nothing_new_is_recorded_without_case_consent(
    project, make_participant, make_course, make_partner
):
    """Rule 3, in the services every view, import and command calls."""
    from tracker.participants import services

    person = make_participant(project)
    course = make_course(project, start=TODAY, end=TODAY + timedelta(days=30))
    iga = {"kind": PlacementKind.IGA, "sector": "Couture", "business_name": "Atelier"}
    placement = record_placement(person, start_date=TODAY, **iga)
    services.archive(person)
    person.consents[0].withdrawn_on = TODAY
    db.session.flush()
    with force_locale("en"):
        with pytest.raises(DomainError, match="no current consent"):
            services.unarchive(person)
        person.archived_at = None
        with pytest.raises(DomainError, match="no current consent"):
            services.update_participant(person, region="Souss-Massa")
        with pytest.raises(EnrolmentRefused) as refused:
            enrol_many([person], course, on=TODAY)
        assert "no current consent" in str(refused.value.refusals[0])
        with pytest.raises(DomainError, match="no current consent"):
            enrol(person, course, on=TODAY)  # what an import of enrolments calls
        with pytest.raises(DomainError, match="no current consent"):
            record_placement(person, start_date=TODAY, **iga)
        with pytest.raises(DomainError, match="no current consent"):
            record_follow_up(placement, months_after=3, followed_on=TODAY, still_active=True)
    assert person.region is None and person.archived_at is None
    from tracker.trainings.services import candidates_query

    assert person not in db.session.scalars(candidates_query(course)).all()


def test_archive_and_erase_stay_possible_without_consent(
    client, signin, make_user, project, make_participant
):
    person = make_participant(project)
    person.consents[0].withdrawn_on = TODAY
    db.session.commit()
    signin(make_user(Role.ADMIN, [], email="admin@example.org"))
    assert client.post(f"/participants/{person.id}/archive").status_code == 302
    assert db.session.get(Participant, person.id).archived_at is not None
    client.post(f"/participants/{person.id}/erase", data={"confirm_code": person.code})
    assert db.session.get(Participant, person.id).erased_at is not None


def test_sharing_consent_from_the_case_file_needs_its_partner(
    client, signin, officer, project, make_participant, make_partner
):
    person = make_participant(project)
    ngo = make_partner("Association Relais", PartnerKind.NGO)
    db.session.commit()
    signin(officer)
    data = {"purpose": "partner_sharing", "given_on": "2015-01-02"}
    client.post(f"/participants/{person.id}/consents", data=data)
    assert len(db.session.get(Participant, person.id).consents) == 1
    client.post(f"/participants/{person.id}/consents", data={**data, "partner_id": str(ngo.id)})
    sharing = db.session.get(Participant, person.id).consents[-1]
    assert (sharing.purpose, sharing.partner_id) == (SHARING, ngo.id)
    page = client.get(f"/participants/{person.id}").get_data(as_text=True)
    assert "Association Relais" in page


def test_donor_reporting_consent_from_the_case_file(
    client, signin, officer, project, make_participant
):
    person = make_participant(project)
    db.session.commit()
    signin(officer)
    client.post(
        f"/participants/{person.id}/consents",
        data={"purpose": "donor_reporting", "given_on": "2015-01-02", "expires_on": "2014-01-01"},
    )
    assert len(db.session.get(Participant, person.id).consents) == 1, "expiry before consent"
    client.post(
        f"/participants/{person.id}/consents",
        data={"purpose": "donor_reporting", "given_on": "2015-01-02", "expires_on": "2030-01-01"},
    )
    donor = db.session.get(Participant, person.id).consents[-1]
    assert (donor.purpose, donor.expires_on) == (DONOR, date(2030, 1, 1))


def test_a_consent_of_someone_else_cannot_be_withdrawn(
    client, signin, officer, project, make_participant
):
    first = make_participant(project)
    second = make_participant(project, given_name="Fatou")
    db.session.commit()
    signin(officer)
    response = client.post(
        f"/participants/{first.id}/consents/{second.consents[0].id}/withdraw",
        data={"withdrawn_on": TODAY.isoformat()},
    )
    assert response.status_code == 404
    assert db.session.get(Consent, second.consents[0].id).withdrawn_on is None


def test_viewer_cannot_record_or_withdraw(client, signin, viewer, project, make_participant):
    person = make_participant(project)
    db.session.commit()
    signin(viewer)
    url = f"/participants/{person.id}/consents"
    assert client.post(url, data={"purpose": "donor_reporting"}).status_code == 403
    withdraw = f"{url}/{person.consents[0].id}/withdraw"
    assert client.post(withdraw, data={"withdrawn_on": TODAY.isoformat()}).status_code == 403
    assert db.session.get(Consent, person.consents[0].id).withdrawn_on is None


# --- Every output that names, codes or counts a person, one by one -----------------------

EVERYBODY = ["valid", "withdrawn", "expired", "donor_refused", "donor_only", "donor_expired"]
#: who each use keeps, as the method page (tracker.participants.consent) says
KEPT = {
    consents.Use.CASE_WORK: EVERYBODY,
    consents.Use.NAMED: ["valid", "donor_refused", "donor_expired"],
    consents.Use.PSEUDONYMOUS: ["valid", "donor_only"],
}
EXTRA = 5  # people who consent to everything, so that a viewer's lists reach five


@pytest.fixture
def crowd(app, people, make_participant, make_user):
    """The six stories, five more people with every consent, and a user and token per role."""
    from tracker.api import tokens

    project, code = people
    course = db.session.scalar(
        select(TrainingCourse).where(TrainingCourse.project_id == project.id)
    )
    employer = db.session.scalar(select(Placement)).employer
    extras = []
    for n in range(7, 7 + EXTRA):
        person = make_participant(project, code=f"PA-{n:04d}", given_name=f"Extra{n}")
        complete(enrol(person, course, on=date(2015, 1, 20)), on=date(2015, 5, 31))
        placement = record_placement(
            person,
            kind=PlacementKind.EMPLOYMENT,
            sector="Cuisine",
            start_date=date(2015, 7, 1),
            employer=employer,
        )
        record_follow_up(
            placement, months_after=3, followed_on=date(2015, 10, 1), still_active=True
        )
        extras.append(person.code)
    users, bearers = {}, {}
    for role in (Role.VIEWER, Role.OFFICER, Role.MANAGER):
        users[role] = make_user(role, [project], email=f"{role.value}@example.org")
        _token, secret = tokens.create(users[role], "script")
        bearers[role] = {"Authorization": f"Bearer {secret}"}
    db.session.commit()
    clients = {}
    for role, user in users.items():
        clients[role] = app.test_client()
        assert (
            clients[role]
            .post(
                "/auth/login",
                data={"email": user.email, "password": "correct horse battery staple"},
            )
            .status_code
            == 302
        )
    return {
        "project": project,
        "course": course,
        "code": code,
        "extras": extras,
        "clients": clients,
        "bearers": bearers,
    }


def _codes_in(text: str) -> set[str]:
    import re

    return set(re.findall(r"PA-\d{4}", text))


def _page(crowd, role, url):
    answer = crowd["clients"][role].get(url)
    assert answer.status_code == 200, url
    return _codes_in(answer.get_data(as_text=True))


def _xlsx(crowd, role, url):
    from io import BytesIO

    from openpyxl import load_workbook

    answer = crowd["clients"][role].get(url)
    assert answer.status_code == 200, url
    book = load_workbook(BytesIO(answer.data), read_only=True)
    return _codes_in(
        repr([list(row) for sheet in book for row in sheet.iter_rows(values_only=True)])
    )


def _api(crowd, role, path):
    answer = crowd["clients"][role].get(path, headers=crowd["bearers"][role])
    assert answer.status_code == 200, (path, answer.get_json())
    return _codes_in(answer.get_data(as_text=True))


def _annex(crowd, _role):
    from tracker.reports.donor import collect

    with force_locale("en"):
        report = collect(crowd["project"])
    return _codes_in(repr(report.annex_rows))


VIEWER, OFFICER, MANAGER = Role.VIEWER, Role.OFFICER, Role.MANAGER
CASE_WORK, NAMED, PSEUDO = consents.Use.CASE_WORK, consents.Use.NAMED, consents.Use.PSEUDONYMOUS
#: every output that names or codes a person: (its use, who reads it, how its codes are read)
OUTPUTS = {
    "drill-down, viewer": (
        PSEUDO,
        VIEWER,
        lambda c, r: _page(c, r, "/dashboard/list?indicator=trained"),
    ),
    "drill-down, manager": (
        CASE_WORK,
        MANAGER,
        lambda c, r: _page(c, r, "/dashboard/list?indicator=placed"),
    ),
    "participants list, viewer": (
        PSEUDO,
        VIEWER,
        lambda c, r: _page(c, r, "/participants/?status=all"),
    ),
    "participants list, officer": (
        CASE_WORK,
        OFFICER,
        lambda c, r: _page(c, r, "/participants/?status=all"),
    ),
    "course roster, viewer": (
        PSEUDO,
        VIEWER,
        lambda c, r: _page(c, r, f"/trainings/{c['course'].id}"),
    ),
    "course roster, officer": (
        CASE_WORK,
        OFFICER,
        lambda c, r: _page(c, r, f"/trainings/{c['course'].id}"),
    ),
    "named CSV export": (NAMED, OFFICER, lambda c, r: _page(c, r, "/exports/participants.csv")),
    "named XLSX export": (NAMED, MANAGER, lambda c, r: _xlsx(c, r, "/exports/enrolments.xlsx")),
    "pseudonymous CSV export": (
        PSEUDO,
        VIEWER,
        lambda c, r: _page(c, r, "/exports/placements.csv?pseudonymous=y"),
    ),
    "pseudonymous XLSX export": (
        PSEUDO,
        VIEWER,
        lambda c, r: _xlsx(c, r, "/exports/followups.xlsx?pseudonymous=y"),
    ),
    "donor report annex": (PSEUDO, MANAGER, _annex),
    "API participants, viewer": (
        PSEUDO,
        VIEWER,
        lambda c, r: _api(c, r, "/api/v1/participants/?status=all"),
    ),
    "API participants, officer": (
        CASE_WORK,
        OFFICER,
        lambda c, r: _api(c, r, "/api/v1/participants/?status=all"),
    ),
    "API enrolments, viewer": (
        PSEUDO,
        VIEWER,
        lambda c, r: _api(c, r, "/api/v1/enrolments/?limit=100"),
    ),
    "API enrolments, officer": (
        NAMED,
        OFFICER,
        lambda c, r: _api(c, r, "/api/v1/enrolments/?limit=100"),
    ),
    "API placements, viewer": (
        PSEUDO,
        VIEWER,
        lambda c, r: _api(c, r, "/api/v1/placements/?limit=100"),
    ),
    "API placements, officer": (
        NAMED,
        OFFICER,
        lambda c, r: _api(c, r, "/api/v1/placements/?limit=100"),
    ),
    "API follow-ups, viewer": (
        PSEUDO,
        VIEWER,
        lambda c, r: _api(c, r, "/api/v1/follow-ups/?limit=100"),
    ),
}


@pytest.mark.parametrize("output", OUTPUTS)
def test_every_output_keeps_exactly_whom_its_use_allows(crowd, output):
    """Lists that name or code a person follow the rule of their use (method page)."""
    use, role, codes_of = OUTPUTS[output]
    code = crowd["code"]
    expected = {code[name] for name in KEPT[use]} | set(crowd["extras"])
    assert codes_of(crowd, role) == expected


def test_the_outputs_enumerated_are_every_way_a_person_leaves_the_screen():
    """Each use appears, each role's lists are there: a new output must be added above."""
    assert {use for use, _role, _read in OUTPUTS.values()} == set(KEPT)
    assert {role for _use, role, _read in OUTPUTS.values()} == {VIEWER, OFFICER, MANAGER}


def test_aggregates_and_interoperability_files_still_count_everybody(crowd):
    """Rule 1: the dashboard, indicator tables, IATI and DHIS2 figures keep all eleven."""
    from tracker.interop.figures import figures
    from tracker.interop.periods import Period

    project = crowd["project"]
    everybody = len(EVERYBODY) + EXTRA
    period = Period(date(2015, 1, 1), date(2015, 12, 31))
    # the figures IATI results and DHIS2 data values are written from
    found = figures([project.id], period, ("trained", "placed"))
    assert found["trained"].total == found["placed"].total == everybody
    scope = indicators.Scope((project.id,), period.start, period.end)
    assert indicators.count("trained", scope) == everybody
    table = exports.indicator_export(
        [project], scope.start, scope.end, suppress_small=True, threshold=5
    )
    figures_of = {row[3]: row[-1] for row in table.rows if row[5] is None}
    assert figures_of["trained"] == figures_of["placed"] == everybody
    # the web dashboard shows the same count to a viewer
    page = crowd["clients"][VIEWER].get("/dashboard/").get_data(as_text=True)
    assert f">{everybody}<" in page
    # and one property in Python and SQL per use
    for person in db.session.scalars(select(Participant)):
        for use in (CASE_WORK, NAMED, PSEUDO, consents.Use.AGGREGATE):
            in_sql = db.session.scalar(
                select(Participant.id).where(
                    Participant.id == person.id, consents.allowed_sql(use, Participant.id)
                )
            )
            assert (in_sql is not None) is consents.allowed(use, person), (person.code, use)
