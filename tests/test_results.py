"""The results framework: outcomes and outputs, their indicators, and how each stands.

Small hand-made programmes whose figures can be counted by hand.
"""

from __future__ import annotations

from datetime import date

import pytest

from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import ManualValue, ProjectTarget, Sex
from tracker.projects import calendar
from tracker.projects import services as projects
from tracker.results import services
from tracker.results.services import ACHIEVED, OFF_TRACK, ON_TRACK_STATUS, Standing
from tracker.trainings.services import complete, enrol

MID_Q2 = date(2015, 5, 16)  # 46 of Q2's 91 days are past


@pytest.fixture
def logframe(make_project, make_participant, make_course):
    """2015 in quarters. Awa trained in Q1; Binta and Chaka in Q2; all registered in 2014.

    Targets for "trained": 1 in Q1, 4 in Q2, 6 for the year, baseline 0.
    """
    project = make_project("LOG-2015", start=date(2015, 1, 1), end=date(2015, 12, 31))
    course = make_course(project, start=date(2015, 2, 1), end=date(2015, 5, 31))
    for name, sex, day in (
        ("Awa", Sex.FEMALE, date(2015, 3, 15)),
        ("Binta", Sex.FEMALE, date(2015, 5, 20)),
        ("Chaka", Sex.MALE, date(2015, 5, 31)),
    ):
        person = make_participant(project, given_name=name, sex=sex)
        complete(enrol(person, course, on=date(2015, 2, 1)), on=day)
    projects.set_target(project, "trained", 6, baseline=0)
    projects.set_target(project, "trained", 1, period="2015Q1")
    projects.set_target(project, "trained", 4, period="2015Q2")
    outcome = services.add_result(project, "outcome", "1", "Migrants earn a living in Morocco")
    output = services.add_result(project, "output", "1.1", "Migrants are trained in a trade")
    services.add_indicator(output, "trained")
    db.session.commit()
    return project, outcome, output


def span(project, key):
    period = calendar.period(project, key)
    return period.start, period.end


def row_of(blocks, key):
    return next(r for b in blocks for r in b.rows if r.indicator.key == key)


def test_standing_rule_counted_by_hand():
    # a period over expects the whole target; 90 % of it is on track
    assert Standing(10, 10).status == ACHIEVED
    assert Standing(9, 10).status == ON_TRACK_STATUS
    assert Standing(8, 10).status == OFF_TRACK
    # half-way through, 5 of 10 expected: 4.5 is on track, 4 is not
    assert Standing(5, 10, 0.5).status == ON_TRACK_STATUS
    assert Standing(4, 10, 0.5).status == OFF_TRACK
    assert Standing(3, 10, 0.0).status == ON_TRACK_STATUS  # nothing expected yet
    assert Standing(3, None).status is None
    assert Standing(7, 10).percent == 70 and Standing(1, 0).percent is None
    assert Standing(0, 0).status == ACHIEVED


def test_elapsed_share_of_a_period():
    start, end = date(2015, 4, 1), date(2015, 6, 30)
    assert services.elapsed(start, end, date(2015, 3, 31)) == 0
    assert services.elapsed(start, end, date(2015, 7, 1)) == 1
    assert services.elapsed(start, end, MID_Q2) == pytest.approx(46 / 91)


def test_each_period_against_its_own_target_and_the_running_total(logframe):
    project, _, _ = logframe
    q1 = services.framework(project, *span(project, "2015Q1"), today=date(2016, 1, 1))
    trained = row_of(q1, "trained")
    assert (trained.period.actual, trained.period.target) == (1, 1)
    assert trained.period.status == ACHIEVED
    assert (trained.cumulative.actual, trained.cumulative.target) == (1, 1)
    q2 = row_of(
        services.framework(project, *span(project, "2015Q2"), today=date(2016, 1, 1)), "trained"
    )
    # Q2: 2 of its 4; since the start, 3 of 1 + 4
    assert (q2.period.actual, q2.period.target, q2.period.percent) == (2, 4, 50)
    assert q2.period.status == OFF_TRACK
    assert (q2.cumulative.actual, q2.cumulative.target, q2.cumulative.percent) == (3, 5, 60)
    assert q2.baseline == 0
    # Q3 has no target of its own: no standing, never the year's 6 against a quarter
    q3 = row_of(
        services.framework(project, *span(project, "2015Q3"), today=date(2016, 1, 1)), "trained"
    )
    assert q3.period.target is None and q3.period.status is None
    assert q3.cumulative.target is None  # Q1..Q3 lack Q3's target
    whole = row_of(services.framework(project, today=date(2016, 1, 1)), "trained")
    assert (whole.period.actual, whole.period.target, whole.period.percent) == (3, 6, 50)


def test_a_running_period_is_judged_on_the_days_past(logframe):
    project, _, _ = logframe
    q2 = row_of(services.framework(project, *span(project, "2015Q2"), today=MID_Q2), "trained")
    # on 16 May, 2 of Q2's 4: half of it while 46 of its 91 days are past, on track
    assert (q2.period.actual, q2.period.percent, q2.period.status) == (2, 50, ON_TRACK_STATUS)
    # the same 2 judged once Q2 is over: off track
    over = row_of(
        services.framework(project, *span(project, "2015Q2"), today=date(2015, 7, 1)), "trained"
    )
    assert over.period.status == OFF_TRACK
    q1 = row_of(services.framework(project, *span(project, "2015Q1"), today=MID_Q2), "trained")
    assert q1.period.status == ACHIEVED


def test_results_in_the_donors_numbering_with_their_indicators(logframe, make_project):
    project, outcome, output = logframe
    services.add_result(project, "output", "1.10", "Tenth output")
    services.add_result(project, "output", "1.2", "Second output")
    codes = [r.code for r in services.results_of(project)]
    assert codes == ["1", "1.1", "1.2", "1.10"]
    with pytest.raises(DomainError) as taken:
        services.add_result(project, "output", "1.1", "Again")
    assert taken.value.field == "code"
    with pytest.raises(DomainError) as twice:
        services.add_indicator(outcome, "trained")
    assert twice.value.field == "indicator" and "1.1" in twice.value.message
    with pytest.raises(DomainError) as ratio:
        services.add_indicator(outcome, "placement_rate")
    assert ratio.value.field == "indicator"
    with pytest.raises(DomainError) as level:
        services.add_result(project, "impact", "9", "Impact")
    assert level.value.field == "level"
    with pytest.raises(DomainError) as blank:
        services.add_result(project, "output", "9", "   ")
    assert blank.value.field == "statement"


def test_manual_indicator_values_by_period_with_their_source(logframe):
    project, outcome, _ = logframe
    laws = services.add_manual_indicator(outcome, "Local plans that include migrants", "plans")
    score = services.add_manual_indicator(outcome, "Satisfaction score", "%", cumulative="latest")
    assert (laws.key, score.key) == ("manual_1", "manual_2")
    projects.set_target(project, laws.key, 3, baseline=1)
    projects.set_target(project, laws.key, 1, period="2015Q2")
    services.record_value(laws, "2015q1", 1, "Council minutes", None, by="m@example.org")
    services.record_value(laws, "2015Q2", 2, "Prefecture letter", "signed 3 June", by="m@x")
    services.record_value(score, "2015Q1", 60, "Survey", None, by="m@x")
    services.record_value(score, "2015Q2", 72, "Survey", None, by="m@x")
    # entering a period again replaces its value
    services.record_value(laws, "2015Q2", 1, "Prefecture letter", "one plan only", by="m@x")
    db.session.commit()
    assert db.session.query(ManualValue).filter_by(indicator_id=laws.id).count() == 2
    blocks = services.framework(project, *span(project, "2015Q2"), today=date(2016, 1, 1))
    plans = row_of(blocks, laws.key)
    assert (plans.period.actual, plans.period.target, plans.period.status) == (1, 1, ACHIEVED)
    assert plans.entry.source == "Prefecture letter" and plans.entry.note == "one plan only"
    assert plans.cumulative.actual == 2 and plans.entered == (2, 2)
    assert plans.baseline == 1
    latest = row_of(blocks, score.key)
    assert latest.period.actual == 72 and latest.cumulative.actual == 72
    whole = row_of(services.framework(project, today=date(2016, 1, 1)), laws.key)
    assert (whole.period.actual, whole.period.target) == (2, 3) and whole.entered == (2, 4)


def test_manual_values_are_checked_and_named(logframe):
    project, outcome, _ = logframe
    laws = services.add_manual_indicator(outcome, "Plans", None)
    for period, value, source, field in (
        ("2016Q1", 1, "x", "period"),
        ("2015Q1", -1, "x", "value"),
        ("2015Q1", 1, "  ", "source"),
    ):
        with pytest.raises(DomainError) as refused:
            services.record_value(laws, period, value, source, None, by="m@x")
        assert refused.value.field == field
    trained = row_of(services.framework(project, today=date(2016, 1, 1)), "trained")
    with pytest.raises(DomainError) as computed:
        services.record_value(trained.indicator, "2015Q1", 1, "x", None, by="m@x")
    assert computed.value.field == "value"
    with pytest.raises(DomainError):
        services.add_manual_indicator(outcome, "", None)


def test_removing_a_manual_indicator_takes_its_values_and_targets_not_the_projects(logframe):
    project, outcome, output = logframe
    laws = services.add_manual_indicator(outcome, "Plans", None)
    projects.set_target(project, laws.key, 3)
    services.record_value(laws, "2015Q1", 1, "Minutes", None, by="m@x")
    db.session.commit()
    services.remove_result(outcome)
    db.session.commit()
    keys = {t.indicator for t in db.session.query(ProjectTarget).filter_by(project_id=project.id)}
    assert keys == {"trained"}  # the computed indicator's targets are the project's
    assert db.session.query(ManualValue).count() == 0
    services.remove_indicator(output.indicators[0])
    db.session.commit()
    assert calendar.target_for(project, "trained", None, None).value == 6


def test_a_disaggregated_target_on_the_share_of_women(logframe):
    project, _, output = logframe
    trained = output.indicators[0]
    services.set_share(trained, "sex:F", 60)
    db.session.commit()
    whole = row_of(services.framework(project, today=date(2016, 1, 1)), "trained")
    # two women of three trained: 67 % ≥ 60 %
    assert (whole.share.count, whole.share.total, whole.share.percent) == (2, 3, 67)
    assert whole.share.status == ACHIEVED
    q2 = row_of(
        services.framework(project, *span(project, "2015Q2"), today=date(2016, 1, 1)), "trained"
    )
    assert (q2.share.count, q2.share.total, q2.share.status) == (1, 2, OFF_TRACK)
    # a reader kept from small cells sees no share built on one or two people
    hidden = row_of(
        services.framework(project, today=date(2016, 1, 1), small_cell_threshold=5),
        "trained",
    )
    assert hidden.share.hidden and hidden.share.percent is None and hidden.share.status is None
    for choice, minimum, field in (("sex:X", 60, "share"), ("sex:F", 101, "minimum")):
        with pytest.raises(DomainError) as refused:
            services.set_share(trained, choice, minimum)
        assert refused.value.field == field
    services.set_share(trained, None, None)
    assert trained.share_minimum is None


def test_manual_indicators_take_targets_like_computed_ones(logframe):
    project, outcome, _ = logframe
    laws = services.add_manual_indicator(outcome, "Plans", None)
    projects.set_target(project, laws.key, 2, period="2015Q3")
    assert calendar.target_for(project, laws.key, date(2015, 7, 1), date(2015, 9, 30)).value == 2
    with pytest.raises(DomainError):
        projects.set_target(project, "manual_99", 2)


def test_a_new_project_starts_from_anothers_framework(logframe, make_project):
    project, outcome, output = logframe
    services.add_manual_indicator(outcome, "Plans", "plans")
    services.set_share(output.indicators[0], "sex:F", 60)
    db.session.commit()
    new = projects.create_project(
        "LOG-2017",
        title="Next",
        country="MAR",
        start_date=date(2017, 1, 1),
        end_date=date(2017, 12, 31),
    )
    projects.copy_setup(project, new)
    db.session.commit()
    copied = services.results_of(new)
    assert [(r.code, [i.key for i in r.indicators]) for r in copied] == [
        ("1", ["manual_1"]),
        ("1.1", ["trained"]),
    ]
    assert copied[1].indicators[0].share_minimum == 60


# --- the pages ---------------------------------------------------------------------------


@pytest.fixture
def framed(project, make_participant, make_course):
    """The web tests' project: two women trained in 2015, a result with a manual indicator."""
    course = make_course(project, start=date(2015, 2, 1), end=date(2015, 5, 31))
    for name in ("Awa", "Binta"):
        person = make_participant(project, given_name=name)
        complete(enrol(person, course, on=date(2015, 2, 1)), on=date(2015, 3, 15))
    output = services.add_result(project, "output", "1.1", "Migrants are trained in a trade")
    services.add_indicator(output, "trained")
    services.add_manual_indicator(output, "Employers met", "meetings")
    projects.set_target(project, "trained", 5, period="2015Q1")
    db.session.commit()
    return project


def test_everyone_of_the_project_reads_the_framework_with_its_figures(
    client, signin, framed, viewer, stranger
):
    signin(viewer)
    page = client.get("/results/IDF-MA-2014?period=2015Q1")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Migrants are trained in a trade" in text and "Employers met" in text
    assert "<strong>2</strong> / 5" in text and "off track" in text
    assert "Awa" not in text  # figures only
    assert "Set up the framework" not in text  # a viewer does not set it up
    assert client.get("/results/IDF-MA-2014/edit").status_code == 403
    client.post("/auth/logout")
    signin(stranger)
    assert client.get("/results/IDF-MA-2014").status_code == 404


def test_a_manager_sets_up_results_indicators_and_manual_values(client, signin, framed, manager):
    signin(manager)
    added = client.post(
        "/results/IDF-MA-2014/results",
        data={"level": "outcome", "code": "1", "statement": "Migrants earn a living"},
    )
    assert added.status_code == 302
    refused = client.post(
        "/results/IDF-MA-2014/results",
        data={"level": "outcome", "code": "1", "statement": "Again"},
    )
    assert refused.status_code == 400
    assert "1 already numbers a result" in refused.get_data(as_text=True)
    outcome = next(r for r in services.results_of(framed) if r.code == "1")
    made = client.post(
        "/results/IDF-MA-2014/indicators",
        data={"result_id": outcome.id, "indicator": "manual", "title": "", "cumulative": "sum"},
    )
    assert made.status_code == 400 and "needs its wording" in made.get_data(as_text=True)
    client.post(
        "/results/IDF-MA-2014/indicators",
        data={
            "result_id": outcome.id,
            "indicator": "manual",
            "title": "Plans that include migrants",
            "unit": "plans",
            "cumulative": "sum",
        },
    )
    plans = next(i for i in outcome.indicators if i.title == "Plans that include migrants")
    url = f"/results/IDF-MA-2014/indicators/{plans.id}/values"
    missing = client.post(url, data={"period": "2015Q1", "value": "2", "source": ""})
    assert missing.status_code == 400
    saved = client.post(
        url, data={"period": "2015Q1", "value": "2", "source": "Council minutes", "note": "Agadir"}
    )
    assert saved.status_code == 302
    page = client.get("/results/IDF-MA-2014?period=2015Q1").get_data(as_text=True)
    assert "Source: Council minutes · Agadir" in page
    trained = next(
        i for r in services.results_of(framed) for i in r.indicators if i.key == "trained"
    )
    client.post(
        f"/results/IDF-MA-2014/indicators/{trained.id}/share",
        data={f"s{trained.id}-share": "sex:F", f"s{trained.id}-minimum": "60"},
    )
    page = client.get("/results/IDF-MA-2014?period=2015Q1").get_data(as_text=True)
    assert "Female: 100%" in page and "(at least 60%)" in page
    client.post(f"/results/IDF-MA-2014/indicators/{plans.id}/remove")
    assert "Plans that include migrants" not in client.get("/results/IDF-MA-2014/edit").get_data(
        as_text=True
    )


def test_an_officer_reads_but_does_not_set_up(client, signin, framed, officer):
    signin(officer)
    assert client.get("/results/").status_code == 302  # one project: straight to it
    assert client.get("/results/IDF-MA-2014").status_code == 200
    output = services.results_of(framed)[0]
    assert client.post(f"/results/IDF-MA-2014/results/{output.id}/remove").status_code == 403
    assert client.get("/results/IDF-MA-2014?period=1999Q1").status_code == 302


def test_the_dashboard_judges_a_quarter_against_its_target_and_explains_its_funnel(
    client, signin, framed, manager
):
    signin(manager)
    page = client.get(f"/dashboard/?project={framed.id}&start=2015-01-01&end=2015-03-31").get_data(
        as_text=True
    )
    # Q1 2015: 2 trained against Q1's target of 5, the quarter over: off track
    assert "target 5 · 40%" in page and "off track" in page
    # both were registered in December 2014, before the quarter
    assert "of whom registered before the period" in page
    assert "Trained 2 of 2" in page
    assert f'href="/results/{framed.code}"' in page


def test_the_donor_report_carries_the_framework_of_its_period(app, framed):
    import io

    from flask_babel import force_locale
    from pypdf import PdfReader

    from tracker.reports.donor import collect
    from tracker.reports.pdf import build_donor_pdf

    output = services.results_of(framed)[0]
    manual = next(i for i in output.indicators if i.manual)
    services.record_value(manual, "2015Q1", 4, "Chamber of commerce", "Agadir", by="m@x")
    db.session.commit()
    with force_locale("en"):
        report = collect(framed, date(2015, 1, 1), date(2015, 3, 31), language="en")
        (section,) = report.results
        assert section.heading == "Output 1.1 – Migrants are trained in a trade"
        trained, met = section.lines
        assert (trained.actual, trained.target, trained.status) == (2, 5, "off track")
        assert (met.actual, met.source) == (4, "Source: Chamber of commerce · Agadir")
        text = "\n".join(
            page.extract_text() for page in PdfReader(io.BytesIO(build_donor_pdf(report))).pages
        )
    assert "Results framework" in text and "Migrants are trained in a trade" in text
    assert "2 / 5" in text and "Source: Chamber of commerce" in text


def test_the_report_builder_previews_the_framework_as_printed(client, signin, framed, manager):
    signin(manager)
    page = client.get(
        f"/reports/{framed.id}/narrative?lang=en&from=2015-01-01&to=2015-03-31"
    ).get_data(as_text=True)
    assert "Output 1.1 – Migrants are trained in a trade" in page
    assert "2 / 5" in page and "off track" in page


def test_a_manual_indicator_over_two_quarters_adds_them_up(logframe):
    project, outcome, _ = logframe
    meetings = services.add_manual_indicator(outcome, "Employers met", "meetings")
    score = services.add_manual_indicator(outcome, "Score", "%", cumulative="latest")
    for key, n in (("2015Q1", 3), ("2015Q2", 4)):
        services.record_value(meetings, key, n, "Minutes", None, by="m@x")
        services.record_value(score, key, 10 * n, "Survey", None, by="m@x")
    db.session.commit()
    half = services.framework(project, date(2015, 1, 1), date(2015, 6, 30), today=date(2016, 1, 1))
    assert row_of(half, meetings.key).period.actual == 7
    assert row_of(half, score.key).period.actual == 40
    # a period that cuts a quarter has no manual value: nobody can say what part of it fell in
    cut = services.framework(project, date(2015, 2, 1), date(2015, 6, 30), today=date(2016, 1, 1))
    assert row_of(cut, meetings.key).period.actual is None
