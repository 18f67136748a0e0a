"""IATI results: `export iati` and its web download, validated against the IATI 2.03 schemas.

The schemas (tests/standards/iati-2.03, copied unchanged from IATI/IATI-Schemas) check
the structure; the figures are checked against the indicator definitions, on the demo
programme and on a small project whose figures are counted by hand below.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from tracker import indicators
from tracker.extensions import db
from tracker.interop import services
from tracker.interop.figures import Figure
from tracker.interop.periods import Period, quarters, reporting_periods
from tracker.models import ActivityKind, AuditEvent, PlacementKind, ProjectTarget, Role, Sex
from tracker.placements.services import record_placement
from tracker.trainings.services import complete, drop_out, enrol

SCHEMA = Path(__file__).parent / "standards" / "iati-2.03" / "iati-activities-schema.xsd"
KEYS = ("trained", "placed", "institutions_strengthened")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(scope="module")
def schema():
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def valid(schema, content: bytes):
    """Return the parsed document, after the schema accepted it."""
    document = etree.fromstring(content)
    schema.assertValid(document)
    return document


def periods_of(document, key: str) -> dict[tuple[str, str], dict]:
    """Return {(start, end): {"target": …, "actual": …, "F": …, "M": …}} of one indicator."""
    (indicator,) = document.xpath(
        "//result/indicator[reference[@vocabulary='99' and @code=$key]]", key=key
    )
    found = {}
    for period in indicator.iterfind("period"):
        bounds = (
            period.find("period-start").get("iso-date"),
            period.find("period-end").get("iso-date"),
        )
        cells = {}
        for target in period.iterfind("target"):
            cells["target"] = int(target.get("value"))
        for actual in period.iterfind("actual"):
            dimensions = actual.findall("dimension")
            if not dimensions:
                assert "actual" not in cells, "one total per period"
                cells["actual"] = int(actual.get("value"))
            else:
                (dimension,) = dimensions
                assert dimension.get("name") == "sex"
                cells[dimension.get("value")] = int(actual.get("value"))
        assert bounds not in found, "each period once"
        found[bounds] = cells
    return found


# --- The reporting periods ---------------------------------------------------------------


def test_reporting_periods_are_calendar_quarters_cut_to_the_project(seeded):
    periods = reporting_periods(seeded)
    assert len(periods) == 11
    assert periods[0] == Period(date(2014, 6, 1), date(2014, 6, 30))
    assert periods[1] == Period(date(2014, 7, 1), date(2014, 9, 30))
    assert periods[-1] == Period(date(2016, 10, 1), date(2016, 12, 31))
    # consecutive, no gap and no overlap
    for before, after in zip(periods, periods[1:], strict=False):
        assert (after.start - before.end).days == 1


def test_quarters_at_the_edges():
    assert quarters(date(2015, 5, 5), date(2015, 5, 5)) == [
        Period(date(2015, 5, 5), date(2015, 5, 5))
    ]
    assert quarters(date(2015, 12, 31), date(2016, 1, 1)) == [
        Period(date(2015, 12, 31), date(2015, 12, 31)),
        Period(date(2016, 1, 1), date(2016, 1, 1)),
    ]
    assert quarters(date(9999, 11, 1), date(9999, 12, 31))[-1].end == date(9999, 12, 31)
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2015, 2, 1), date(2015, 1, 31))


# --- Small cells ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("by_sex", "threshold", "published"),
    [
        ({"F": 6, "M": 5}, 5, {"F": 6, "M": 5}),
        ({"F": 17}, 5, {"F": 17, "M": 0}),  # zeros stay visible
        ({"F": 12, "M": 3}, 5, {}),  # 3 is small, and 12 would give it away: none
        ({"F": 2}, 5, {}),  # with the total and M = 0, F would be known
        ({"F": 12, "M": 3}, 1, {"F": 12, "M": 3}),  # a threshold of 1 hides nothing
    ],
)
def test_a_breakdown_by_sex_is_published_whole_or_not_at_all(by_sex, threshold, published):
    period = Period(date(2015, 1, 1), date(2015, 3, 31))
    figure = Figure("trained", period, sum(by_sex.values()), by_sex)
    assert services.published_by_sex(figure, threshold) == published
    institutions = Figure("institutions_strengthened", period, 3, None)
    assert services.published_by_sex(institutions, threshold) == {}


# --- The demo programme -----------------------------------------------------------------------


def test_the_demo_file_is_valid_and_carries_the_dashboard_figures(seeded, runner, tmp_path, schema):
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "iati.xml"
    result = runner.invoke(args=["export", "iati", "--project", "IDF-MA-2014", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and "11 reporting periods" in result.output
    document = valid(schema, out.read_bytes())

    assert document.tag == "iati-activities" and document.get("version") == "2.03"
    (activity,) = document.findall("iati-activity")
    assert activity.findtext("iati-identifier") == "XM-DAC-47066-IDF-MA-2014"
    org = activity.find("reporting-org")
    assert (org.get("ref"), org.get("type")) == ("XM-DAC-47066", "40")
    assert org.findtext("narrative") == "International Organization for Migration"
    assert activity.find("title/narrative").text.startswith("Formation professionnelle")
    funding = activity.find("participating-org[@role='1']")
    assert funding.findtext("narrative") == "IOM Development Fund (IDF)"
    assert activity.find("activity-status").get("code") == "3"  # ended in 2016
    dates = {d.get("type"): d.get("iso-date") for d in activity.iter("activity-date")}
    assert dates == {"1": "2014-06-01", "2": "2014-06-01", "3": "2016-12-31", "4": "2016-12-31"}
    assert activity.find("recipient-country").get("code") == "MA"

    whole = ("2014-06-01", "2016-12-31")
    trained, placed, strengthened = (periods_of(document, key) for key in KEYS)
    assert trained[whole]["actual"] == 135 and trained[whole]["target"] == 150
    assert placed[whole]["actual"] == 41 and placed[whole]["target"] == 45
    assert strengthened[whole]["actual"] == 11 and strengthened[whole]["target"] == 10
    # the demo's trained and placed are women: the breakdown is published, men at 0
    assert (trained[whole]["F"], trained[whole]["M"]) == (135, 0)
    assert (placed[whole]["F"], placed[whole]["M"]) == (41, 0)
    assert "F" not in strengthened[whole], "institutions have no sex"

    # every quarter: the live definitions' figure, and no target (only the whole project has one)
    for period in reporting_periods(seeded):
        scope = indicators.Scope((seeded.id,), period.start, period.end)
        bounds = (period.start.isoformat(), period.end.isoformat())
        for key, periods in zip(KEYS, (trained, placed, strengthened), strict=True):
            assert periods[bounds]["actual"] == indicators.count(key, scope), (key, bounds)
            assert "target" not in periods[bounds]
    assert len(trained) == 12  # 11 quarters and the whole project

    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export"))
    assert (event.entity, event.actor_label) == ("iati", "cli:export")
    assert event.changes["project"] == "IDF-MA-2014" and event.changes["periods"] == 11
    assert [p.name for p in folder.iterdir()] == ["iati.xml"], "no temporary file left"


def test_the_reporting_organisation_comes_from_the_settings(seeded, app, schema):
    app.config.update(
        IATI_REPORTING_ORG_REF="XM-EXAMPLE-1",
        IATI_REPORTING_ORG_NAME="Example Agency",
        IATI_REPORTING_ORG_TYPE=21,
        IATI_IDENTIFIER_PREFIX="XM-EXAMPLE-1-MA",
    )
    now = datetime(2015, 3, 1, 12, 0, tzinfo=UTC)
    document = valid(schema, services.iati_file(seeded, app.config, now=now))
    activity = document.find("iati-activity")
    assert activity.findtext("iati-identifier") == "XM-EXAMPLE-1-MA-IDF-MA-2014"
    org = activity.find("reporting-org")
    assert (org.get("ref"), org.get("type")) == ("XM-EXAMPLE-1", "21")
    assert activity.find("activity-status").get("code") == "2"  # running on 1 March 2015
    assert {d.get("type") for d in activity.iter("activity-date")} == {"1", "2", "3"}
    assert document.get("generated-datetime") == "2015-03-01T12:00:00+00:00"
    # indicator names in the file's language (French), then in the interface's others
    title = activity.find("result/indicator/title")
    assert [n.get(XML_LANG) for n in title] == [None, "en", "ar"]
    assert title[1].text == "Trained"
    assert title[2].text and not title[2].text.isascii()  # in Arabic letters


# --- A small project counted by hand ------------------------------------------------------------


@pytest.fixture
def small(make_project, make_participant, make_course, make_partner, make_activity):
    """A project of 15 Feb - 10 Aug 2015: three quarters, cut at both ends.

    Trained (completions): M6 in Q1 (10 Mar); W1-W6 and M1-M5 in Q2 (15 May); W1 a
    second course in Q3 (20 Jul); W7 dropped out; W8 completed after the project's end.
    Placed: W1 and W2 on 1 Jun (Q2), W1 again on 15 Jul (Q3).
    Capacity building: P1, P2 on 1 Mar (Q1); P2, P3 on 1 Jul (Q3); an awareness
    workshop with P4 (another indicator).
    """
    project = make_project("SMALL", start=date(2015, 2, 15), end=date(2015, 8, 10))
    first = make_course(project, start=date(2015, 2, 15), end=date(2015, 5, 15))
    second = make_course(project, start=date(2015, 3, 1), end=date(2015, 9, 30))
    people = {}
    for name, sex in [(f"W{i}", Sex.FEMALE) for i in range(1, 9)] + [
        (f"M{i}", Sex.MALE) for i in range(1, 7)
    ]:
        people[name] = make_participant(
            project, sex=sex, given_name=name, family_name="Small", registered_on=date(2015, 2, 15)
        )
    complete(enrol(people["M6"], second, on=date(2015, 3, 1)), on=date(2015, 3, 10))
    for name in ["W1", "W2", "W3", "W4", "W5", "W6", "M1", "M2", "M3", "M4", "M5"]:
        complete(enrol(people[name], first, on=date(2015, 2, 15)), on=date(2015, 5, 15))
    complete(enrol(people["W1"], second, on=date(2015, 3, 1)), on=date(2015, 7, 20))
    drop_out(enrol(people["W7"], first, on=date(2015, 2, 15)), on=date(2015, 4, 1))
    complete(enrol(people["W8"], second, on=date(2015, 3, 1)), on=date(2015, 8, 20))
    for name, start in [("W1", date(2015, 6, 1)), ("W2", date(2015, 6, 1))]:
        record_placement(
            people[name],
            kind=PlacementKind.IGA,
            sector="Cuisine",
            start_date=start,
            business_name="Traiteur",
        )
    record_placement(
        people["W1"],
        kind=PlacementKind.IGA,
        sector="Couture",
        start_date=date(2015, 7, 15),
        business_name="Atelier",
    )
    p1, p2, p3, p4 = (make_partner(f"Institution {i}") for i in range(1, 5))
    make_activity(project, held_on=date(2015, 3, 1), partners=[p1, p2])
    make_activity(project, held_on=date(2015, 7, 1), partners=[p2, p3])
    make_activity(
        project, kind=ActivityKind.AWARENESS_WORKSHOP, held_on=date(2015, 7, 1), partners=[p4]
    )
    db.session.add_all(
        [
            ProjectTarget(project=project, indicator="trained", target=10),
            ProjectTarget(project=project, indicator="placed", target=3),
        ]
    )
    db.session.commit()
    return project


def test_the_figures_of_a_small_project_counted_by_hand(small, app, schema):
    now = datetime(2016, 1, 1, tzinfo=UTC)
    document = valid(schema, services.iati_file(small, app.config, now=now))
    q1, q2, q3 = (
        ("2015-02-15", "2015-03-31"),
        ("2015-04-01", "2015-06-30"),
        ("2015-07-01", "2015-08-10"),
    )
    whole = ("2015-02-15", "2015-08-10")
    trained, placed, strengthened = (periods_of(document, key) for key in KEYS)
    assert list(trained) == [q1, q2, q3, whole]
    # 1 man in Q1: too few to say by sex; 6 women and 5 men in Q2; W1 alone in Q3
    assert trained[q1] == {"actual": 1}
    assert trained[q2] == {"actual": 11, "F": 6, "M": 5}
    assert trained[q3] == {"actual": 1}
    # W1-W6 and M1-M6, each once; W7 dropped out, W8 finished after the end
    assert trained[whole] == {"target": 10, "actual": 12, "F": 6, "M": 6}
    # W1 and W2; W1 again in Q3, counted once in the whole; 2 women: too few by sex
    assert placed == {
        q1: {"actual": 0},
        q2: {"actual": 2},
        q3: {"actual": 1},
        whole: {"target": 3, "actual": 2},
    }
    # P1, P2 then P2, P3: three institutions; the awareness workshop is not capacity building
    assert strengthened == {
        q1: {"actual": 2},
        q2: {"actual": 0},
        q3: {"actual": 2},
        whole: {"actual": 3},
    }
    assert b"Small" not in etree.tostring(document), "no name in an aggregate file"


def test_a_project_of_one_quarter_reports_one_period(make_project, app, schema):
    project = make_project("ONE", start=date(2015, 4, 1), end=date(2015, 6, 30))
    db.session.commit()
    document = valid(schema, services.iati_file(project, app.config))
    assert list(periods_of(document, "trained")) == [("2015-04-01", "2015-06-30")]


# --- The web download -------------------------------------------------------------------------


def test_managers_download_the_file_of_their_project(
    small, app, make_user, make_project, login, schema
):
    manager = make_user(Role.MANAGER, [small], email="manager@example.org")
    client = app.test_client()
    client.post(
        "/auth/login", data={"email": manager.email, "password": "correct horse battery staple"}
    )
    response = client.get(f"/exports/projects/{small.id}/iati.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=iati-SMALL-")
    assert response.headers["Cache-Control"] == "no-store"
    document = valid(schema, response.get_data())
    assert periods_of(document, "trained")[("2015-02-15", "2015-08-10")]["actual"] == 12
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export"))
    assert (event.entity, event.actor_label) == ("iati", "manager@example.org")
    assert event.changes["project"] == "SMALL" and event.remote_addr == "127.0.0.1"
    # the exports page links the project's file
    assert f"/exports/projects/{small.id}/iati.xml" in client.get("/exports/").get_data(
        as_text=True
    )

    other = make_project("ELSEWHERE")
    db.session.commit()
    assert client.get(f"/exports/projects/{other.id}/iati.xml").status_code == 404


def test_officers_and_viewers_are_refused_and_not_offered_it(small, app, make_user):
    for role in (Role.OFFICER, Role.VIEWER):
        user = make_user(role, [small], email=f"{role.value}@example.org")
        client = app.test_client()
        client.post(
            "/auth/login", data={"email": user.email, "password": "correct horse battery staple"}
        )
        assert client.get(f"/exports/projects/{small.id}/iati.xml").status_code == 403
        assert "iati.xml" not in client.get("/exports/").get_data(as_text=True)
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()


def test_command_errors(seeded, runner, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    result = runner.invoke(
        args=["export", "iati", "--project", "NOPE", "--out", str(tmp_path / "x.xml")]
    )
    assert result.exit_code == 1 and "unknown project 'NOPE'" in result.output
    result = runner.invoke(
        args=["export", "iati", "--project", "IDF-MA-2014", "--out", str(tmp_path / "no" / "x.xml")]
    )
    assert result.exit_code == 1 and "does not exist" in result.output
    assert runner.invoke(args=["export", "iati", "--out", str(tmp_path / "x.xml")]).exit_code == 2
    assert not list(tmp_path.iterdir())
