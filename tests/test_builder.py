"""The report builder: narrative, preview, generation, kept reports and what changed since."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tracker import indicators
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Enrolment,
    EnrolmentStatus,
    GeneratedReport,
    Participant,
    ReportNarrative,
    Role,
    TrainingCourse,
)
from tracker.reports import services

CONTEXT = "Les femmes migrantes régularisées en 2014 cherchaient un premier emploi à Rabat."
LESSONS = "Former les conseillers ANAPEC avant les participantes.\n\nSuivre à 3 et 6 mois."


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text(extraction_mode="layout") for page in reader.pages)


def figure_row(text: str, label: str) -> list[str]:
    """Return the words of the first line that starts with ``label``, after it."""
    line = next(line.strip() for line in text.splitlines() if line.strip().startswith(label))
    return line[len(label) :].split()


def by_key(changes: list[services.FigureChange]) -> dict[str, services.FigureChange]:
    """Key the rows of compare() by indicator (their labels are in the current language)."""
    labels = {str(indicators.get(key).label): key for key in indicators.HEADLINE}
    return {labels[c.label]: c for c in changes}


def count_reports() -> int:
    return db.session.scalar(select(func.count(GeneratedReport.id)))


@pytest.fixture
def login(login, client):
    """Sign in, then read the pages in English (the reports stay in the language asked for)."""

    def do(user):
        response = login(user)
        client.post("/auth/language/en")
        return response

    return do


@pytest.fixture
def manager(seeded, make_user):
    return make_user(Role.MANAGER, [seeded], email="manager@example.org")


def generate(client, project, **data):
    data = {"from": "", "to": "", "lang": "fr", **data}
    return client.post(f"/reports/{project.id}/generate", data=data)


# --- generation from the web ----------------------------------------------------------------


def test_generate_from_the_web_keeps_the_file_unchanged(client, login, seeded, manager):
    login(manager)
    saved = client.post(
        f"/reports/{seeded.id}/narrative?lang=fr",
        data={"context": CONTEXT, "lessons": LESSONS},
    )
    assert saved.status_code == 302
    response = generate(client, seeded)
    assert response.status_code == 302
    report = db.session.scalar(select(GeneratedReport))
    # a worker generates it; its job's page, once done, shows the report
    job_page = client.get(response.headers["Location"])
    assert job_page.status_code == 303
    assert job_page.headers["Location"].endswith(f"/reports/generated/{report.id}")

    assert report.project_id == seeded.id
    assert (report.period_start, report.period_end) == (seeded.start_date, seeded.end_date)
    assert report.created_by_id == manager.id and report.created_by_label == manager.email
    assert report.parameters["project"] == "IDF-MA-2014"
    assert report.parameters["from"] == "2014-06-01" and report.parameters["to"] == "2016-12-31"
    assert report.parameters["language"] == "fr" and report.parameters["threshold"] == 5
    assert report.parameters["narrative"]["context"] == CONTEXT
    assert report.parameters["narrative"]["achievements"] == ""
    assert report.definitions_version
    assert report.as_of is not None
    assert report.figures["trained"]["value"] == 135
    assert report.figures["placed"]["value"] == 41
    assert report.figures["institutions_strengthened"]["value"] == 11
    assert set(report.figures["placement_rate"]) == {"value"}
    assert len(report.figures["trained"]["rows_sha256"]) == 64
    assert report.sha256 == hashlib.sha256(report.content).hexdigest()
    assert report.size == len(report.content)

    first = client.get(f"/reports/generated/{report.id}.pdf")
    second = client.get(f"/reports/generated/{report.id}.pdf")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert hashlib.sha256(first.data).hexdigest() == report.sha256
    assert first.mimetype == "application/pdf"
    assert first.headers["Cache-Control"] == "no-store"
    assert first.headers["Content-Disposition"] == (
        f"attachment; filename=donor-report-IDF-MA-2014-2014-06-01-2016-12-31-{report.id}.pdf"
    )
    downloads = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity == "generated_report",
            AuditEvent.action == "view",
            AuditEvent.entity_id == report.id,
        )
    ).all()
    assert len(downloads) == 2
    assert downloads[0].actor_id == manager.id
    assert downloads[0].changes["sha256"] == report.sha256
    created = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity == "generated_report", AuditEvent.action == "create"
        )
    )
    assert created.actor_id == manager.id and created.entity_id == report.id

    text = pdf_text(first.data)
    assert figure_row(text, "Personnes formées")[0] == "135"
    assert figure_row(text, "Personnes insérées (emploi ou AGR)")[0] == "41"
    assert figure_row(text, "Institutions renforcées")[0] == "11"
    flat = " ".join(text.split())
    assert CONTEXT in flat
    assert "Former les conseillers ANAPEC avant les participantes." in flat
    assert "Suivre à 3 et 6 mois." in flat


def test_report_page_shows_parameters_fingerprint_and_no_change(client, login, seeded, manager):
    login(manager)
    generate(client, seeded, **{"from": "2015-01-01", "to": "2015-12-31", "lang": "en"})
    report = db.session.scalar(select(GeneratedReport))
    assert report.language == "en"
    assert (report.period_start, report.period_end) == (date(2015, 1, 1), date(2015, 12, 31))
    changes = services.compare(report)
    assert len(changes) == len(report.figures)
    assert not any(c.changed or c.rows_changed for c in changes)
    page = client.get(f"/reports/generated/{report.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert report.sha256 in html
    assert "No change: the report still says what the data says today." in html
    assert html.count('class="tag ok"') == len(report.figures)
    index = client.get("/reports/").get_data(as_text=True)
    assert report.sha256[:12] in index
    assert f"/reports/generated/{report.id}.pdf" in index


def _complete_a_new_training(project, make_participant, make_course) -> None:
    from tracker.trainings.services import complete, enrol

    person = make_participant(project, registered_on=date(2015, 1, 10), given_name="Nouvelle")
    course = make_course(project, start=date(2015, 2, 1), end=date(2015, 5, 31))
    complete(enrol(person, course, on=date(2015, 2, 1)), on=date(2015, 5, 31))


def test_compare_after_a_completed_enrolment(
    client, login, seeded, manager, make_participant, make_course
):
    login(manager)
    generate(client, seeded)
    report = db.session.scalar(select(GeneratedReport))
    _complete_a_new_training(seeded, make_participant, make_course)
    db.session.commit()

    changes = by_key(services.compare(report))
    assert (changes["trained"].then, changes["trained"].now) == (135, 136)
    assert changes["trained"].changed and changes["trained"].rows_changed
    for key, value in (("placed", 41), ("institutions_strengthened", 11)):
        assert (changes[key].then, changes[key].now) == (value, value)
        assert not changes[key].changed and not changes[key].rows_changed
    assert changes["placement_rate"].changed
    assert not changes["placement_rate"].rows_changed

    html = client.get(f"/reports/generated/{report.id}").get_data(as_text=True)
    assert "No change: the report" not in html
    assert "<strong>136</strong>" in html


def test_same_number_but_different_people(
    client, login, seeded, manager, make_participant, make_course
):
    login(manager)
    generate(client, seeded)
    report = db.session.scalar(select(GeneratedReport))
    # one person trained in the period moves out of it (completed after its end), one comes in
    only_once = (
        select(Enrolment.participant_id)
        .join(TrainingCourse)
        .where(
            TrainingCourse.project_id == seeded.id, Enrolment.status == EnrolmentStatus.COMPLETED
        )
        .group_by(Enrolment.participant_id)
        .having(func.count() == 1)
        .limit(1)
    )
    leaving = db.session.scalar(
        select(Enrolment).where(
            Enrolment.participant_id == only_once.scalar_subquery(),
            Enrolment.status == EnrolmentStatus.COMPLETED,
        )
    )
    leaving.completed_on = date(2017, 1, 15)
    _complete_a_new_training(seeded, make_participant, make_course)
    db.session.commit()

    trained = by_key(services.compare(report))["trained"]
    assert trained.now == 135
    assert not trained.changed and trained.rows_changed
    html = client.get(f"/reports/generated/{report.id}").get_data(as_text=True)
    assert "different people" in html


# --- narrative and preview ------------------------------------------------------------------


def test_preview_shows_the_pdf_figures_with_small_cells_hidden(client, login, seeded, manager):
    login(manager)
    response = client.get(f"/reports/{seeded.id}/narrative?from=2014-06-01&to=2016-12-31&lang=fr")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert ">135</a></strong>" in html
    assert ">41</a></strong>" in html
    assert ">11</a></strong>" in html
    # identifying breakdowns hide small counts, as the PDF does; totals stay exact
    assert "&lt; 5" in html
    assert html.count(">135</a></strong>") >= 6  # headline + trained breakdown totals
    # the generate button carries the period shown
    assert 'name="from" value="2014-06-01"' in html
    assert 'name="to" value="2016-12-31"' in html
    # no name of a participant on the page
    for given, family in db.session.execute(
        select(Participant.given_name, Participant.family_name).limit(50)
    ):
        assert f"{given} {family}" not in html


def test_preview_defaults_to_the_project_dates(client, login, seeded, manager):
    login(manager)
    html = client.get(f"/reports/{seeded.id}/narrative").get_data(as_text=True)
    assert 'value="2014-06-01"' in html and 'value="2016-12-31"' in html
    assert ">135</a></strong>" in html


def test_index_sends_the_chosen_project_and_period_to_the_preview(client, login, seeded, manager):
    login(manager)
    response = client.get(f"/reports/?project={seeded.id}&from=&to=&lang=en")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/reports/{seeded.id}/narrative?from=2014-06-01&to=2016-12-31&lang=en"
    )


def test_a_period_that_ends_before_it_starts(client, login, seeded, manager):
    login(manager)
    response = client.get(f"/reports/{seeded.id}/narrative?from=2016-01-01&to=2015-01-01")
    html = response.get_data(as_text=True)
    assert 'id="to-error"' in html
    assert "The end of the period is before its start." in html
    assert "Headline figures" not in html
    bad = generate(client, seeded, **{"from": "2016-01-01", "to": "2015-01-01"})
    assert bad.status_code == 400
    assert 'id="to-error"' in bad.get_data(as_text=True)
    assert count_reports() == 0


def test_narrative_is_saved_per_section_with_its_version(client, login, seeded, manager):
    login(manager)
    page = client.get(f"/reports/{seeded.id}/narrative").get_data(as_text=True)
    assert 'name="version_context" type="hidden" value=""' in page
    response = client.post(
        f"/reports/{seeded.id}/narrative?from=2015-01-01&to=2015-12-31&lang=fr",
        data={"context": CONTEXT + "\r\n", "version_context": ""},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("?from=2015-01-01&to=2015-12-31&lang=fr")
    rows = db.session.scalars(select(ReportNarrative)).all()
    assert [(r.section, r.text, r.version) for r in rows] == [("context", CONTEXT, 1)]
    page = client.get(f"/reports/{seeded.id}/narrative").get_data(as_text=True)
    assert CONTEXT in page
    assert 'name="version_context" type="hidden" value="1"' in page

    again = client.post(
        f"/reports/{seeded.id}/narrative",
        data={"context": "Contexte revu.", "version_context": "1", "challenges": "Transport."},
    )
    assert again.status_code == 302
    texts = services.narrative_texts(seeded)
    assert texts == {
        "context": "Contexte revu.",
        "achievements": "",
        "challenges": "Transport.",
        "lessons": "",
    }


def test_narrative_saved_by_someone_else_meanwhile(app, client, login, seeded, manager, make_user):
    url = f"/reports/{seeded.id}/narrative"
    login(manager)
    seen = client.get(url).get_data(as_text=True)
    assert 'name="version_context" type="hidden" value=""' in seen
    # an administrator, in another browser, writes the section first
    admin = app.test_client()
    make_user(Role.ADMIN, email="admin@example.org")
    admin.post("/auth/login", data={"email": "admin@example.org", "password": PASSWORD})
    assert admin.post(url, data={"context": "Version A", "version_context": ""}).status_code == 302

    stale = client.post(url, data={"context": "Version B", "version_context": ""})
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "Version A" in html and "Version B" in html
    assert services.narrative_texts(seeded)["context"] == "Version A"

    # the manager reloads (version 1); the administrator saves again (version 2) meanwhile
    assert 'name="version_context" type="hidden" value="1"' in client.get(url).get_data(
        as_text=True
    )
    assert (
        admin.post(url, data={"context": "Version A2", "version_context": "1"}).status_code == 302
    )
    outdated = client.post(url, data={"context": "Version C", "version_context": "1"})
    assert outdated.status_code == 409
    assert services.narrative_texts(seeded)["context"] == "Version A2"
    current = client.post(url, data={"context": "Version C", "version_context": "2"})
    assert current.status_code == 302
    assert services.narrative_texts(seeded)["context"] == "Version C"


def test_narrative_too_long_is_refused_next_to_the_field(client, login, seeded, manager):
    login(manager)
    response = client.post(
        f"/reports/{seeded.id}/narrative",
        data={"achievements": "x" * (services.MAX_SECTION_LENGTH + 1)},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="achievements-error"' in html
    assert db.session.scalar(select(func.count(ReportNarrative.id))) == 0


def test_save_narrative_service_refuses_too_long_text(seeded):
    from tracker.domain import DomainError

    with pytest.raises(DomainError) as error:
        services.save_narrative(seeded, {"lessons": "y" * (services.MAX_SECTION_LENGTH + 1)})
    assert error.value.field == "lessons"


# --- who may do what --------------------------------------------------------------------------


@pytest.fixture
def kept(seeded):
    report = services.generate_donor_report(
        seeded,
        date(2015, 1, 1),
        date(2015, 12, 31),
        language="fr",
        narrative={"context": CONTEXT},
        by=None,
        actor_label="test",
        threshold=5,
    )
    db.session.commit()
    return report


def test_officers_cannot_open_the_builder(client, login, seeded, kept, make_user):
    login(make_user(Role.OFFICER, [seeded], email="officer@example.org"))
    assert client.get("/reports/").status_code == 403
    assert client.get(f"/reports/{seeded.id}/narrative").status_code == 403
    assert client.post(f"/reports/{seeded.id}/narrative", data={"context": "x"}).status_code == 403
    assert generate(client, seeded).status_code == 403
    assert client.get(f"/reports/generated/{kept.id}").status_code == 403
    assert client.get(f"/reports/generated/{kept.id}.pdf").status_code == 403
    assert count_reports() == 1


def test_viewers_download_but_do_not_generate(client, login, seeded, kept, make_user):
    login(make_user(Role.VIEWER, [seeded], email="viewer@example.org"))
    index = client.get("/reports/")
    assert index.status_code == 200
    html = index.get_data(as_text=True)
    assert "Prepare a report" not in html
    assert f"/reports/generated/{kept.id}.pdf" in html
    # the project picker does not lead a viewer to the preview
    assert client.get(f"/reports/?project={seeded.id}").status_code == 200
    page = client.get(f"/reports/generated/{kept.id}")
    assert page.status_code == 200
    assert f"/reports/{seeded.id}/generate" not in page.get_data(as_text=True)
    assert f"/reports/{seeded.id}/narrative" not in page.get_data(as_text=True) + html
    download = client.get(f"/reports/generated/{kept.id}.pdf")
    assert download.status_code == 200 and download.data == kept.content
    assert client.get(f"/reports/{seeded.id}/narrative").status_code == 403
    assert client.post(f"/reports/{seeded.id}/narrative", data={"context": "x"}).status_code == 403
    assert generate(client, seeded).status_code == 403
    assert count_reports() == 1
    # the report page and the PDF name nobody
    text = pdf_text(download.data)
    for given, family in db.session.execute(
        select(Participant.given_name, Participant.family_name)
    ):
        assert f"{given} {family}" not in text
        assert f"{given} {family}" not in page.get_data(as_text=True)


def test_reports_of_another_project_are_not_found(
    client, login, seeded, kept, make_project, make_user
):
    elsewhere = make_project("OTHER")
    db.session.commit()
    for role, email in ((Role.MANAGER, "m2@example.org"), (Role.VIEWER, "v2@example.org")):
        login(make_user(role, [elsewhere], email=email))
        assert client.get(f"/reports/generated/{kept.id}").status_code == 404
        assert client.get(f"/reports/generated/{kept.id}.pdf").status_code == 404
        assert f"/reports/generated/{kept.id}" not in client.get("/reports/").get_data(as_text=True)
    manager = make_user(Role.MANAGER, [elsewhere], email="m3@example.org")
    login(manager)
    assert client.get(f"/reports/{seeded.id}/narrative").status_code == 404
    assert client.post(f"/reports/{seeded.id}/narrative", data={"context": "x"}).status_code == 404
    assert generate(client, seeded).status_code == 404
    assert client.get(f"/reports/?project={seeded.id}").status_code == 200
    assert count_reports() == 1
    assert db.session.scalar(select(func.count(ReportNarrative.id))) == 0


def test_admins_see_every_project(client, login, seeded, kept, make_user):
    login(make_user(Role.ADMIN, email="admin@example.org"))
    assert client.get(f"/reports/generated/{kept.id}").status_code == 200
    assert client.get(f"/reports/{seeded.id}/narrative").status_code == 200


def test_missing_report_is_not_found(client, login, manager):
    login(manager)
    assert client.get("/reports/generated/999").status_code == 404
    assert client.get("/reports/generated/999.pdf").status_code == 404


# --- the command line keeps its reports too ---------------------------------------------------


def test_cli_report_is_kept(runner, seeded, tmp_path):
    db.session.add(ReportNarrative(project_id=seeded.id, section="achievements", text=CONTEXT))
    db.session.commit()
    out = tmp_path / "r.pdf"
    result = runner.invoke(args=["report", "donor", "--project", "IDF-MA-2014", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = db.session.scalar(select(GeneratedReport))
    assert report.created_by_label == "cli:report" and report.created_by_id is None
    assert hashlib.sha256(out.read_bytes()).hexdigest() == report.sha256
    assert out.read_bytes() == report.content
    assert f"kept as report {report.id}" in result.output
    assert report.parameters["narrative"]["achievements"] == CONTEXT
    assert CONTEXT in " ".join(pdf_text(report.content).split())
    created = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity == "generated_report", AuditEvent.action == "create"
        )
    )
    assert created.actor_label == "cli:report"


def test_cli_report_not_written_is_not_kept(runner, make_project):
    make_project("P1")
    db.session.commit()
    result = runner.invoke(
        args=["report", "donor", "--project", "P1", "--out", "/proc/tracker-report.pdf"]
    )
    assert result.exit_code == 1
    assert count_reports() == 0


def test_cli_period_outside_the_project(runner, make_project, tmp_path):
    make_project("P1")
    db.session.commit()
    result = runner.invoke(
        args=[
            "report",
            "donor",
            "--project",
            "P1",
            "--from",
            "2030-01-01",
            "--out",
            str(tmp_path / "r.pdf"),
        ]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: the period would end (2015-12-31) before it starts")
    assert count_reports() == 0


def test_rows_hash_is_of_the_sorted_ids():
    assert services.rows_sha256([3, 10, 2]) == hashlib.sha256(b"2\n3\n10").hexdigest()
    assert services.rows_sha256([]) == hashlib.sha256(b"").hexdigest()


def test_preview_figures_open_the_people_behind_them(seeded, client, login, make_user):
    import html
    import re

    manager = make_user(Role.MANAGER, [seeded], email="preview-links@example.org")
    login(manager)
    page = client.get(f"/reports/{seeded.id}/narrative").get_data(as_text=True)
    links = [html.unescape(h) for h in re.findall(r'href="(/dashboard/list\?[^"]+)"', page)]
    trained = next(h for h in links if "indicator=trained" in h and "dimension" not in h)
    listed = client.get(trained).get_data(as_text=True)
    body = listed[listed.index("<tbody>") : listed.index("</tbody>")]
    assert body.count("<tr") == 135
    assert any("dimension=nationality" in h and "category=SEN" in h for h in links)


# --- the annex, a CSV kept with the report ----------------------------------------------------


def annex_downloads(report: GeneratedReport) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity == "generated_report",
            AuditEvent.action == "view",
            AuditEvent.entity_id == report.id,
        )
    ).all()


def test_annex_is_kept_with_the_report_and_downloaded_unchanged(client, login, seeded, manager):
    login(manager)
    generate(client, seeded)
    report = db.session.scalar(select(GeneratedReport))
    assert report.annex_rows == 135
    assert report.annex_sha256 == hashlib.sha256(report.annex_content).hexdigest()
    assert report.annex_name == (
        f"donor-report-IDF-MA-2014-2014-06-01-2016-12-31-annex-{report.annex_sha256[:8]}.csv"
    )
    header, *rows = report.annex_content.decode("utf-8-sig").splitlines()
    assert header == '"Code";"Personnes formées";"Insertion"'  # every field quoted
    assert len(rows) == 135
    # the PDF says where the annex is: its name, rows and SHA-256
    text = " ".join(pdf_text(report.content).split())
    assert report.annex_name in text and report.annex_sha256 in text

    response = client.get(f"/reports/generated/{report.id}-annex.csv")
    assert response.status_code == 200
    assert response.data == report.annex_content
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == f"attachment; filename={report.annex_name}"
    (event,) = annex_downloads(report)
    assert event.actor_id == manager.id
    assert event.changes["download"] == "annex_csv"
    assert event.changes["sha256"] == report.annex_sha256

    page = client.get(f"/reports/generated/{report.id}").get_data(as_text=True)
    assert f"/reports/generated/{report.id}-annex.csv" in page
    assert report.annex_sha256 in page and report.annex_name in page
    index = client.get("/reports/").get_data(as_text=True)
    assert f"/reports/generated/{report.id}-annex.csv" in index


def test_viewers_download_the_annex_officers_do_not(client, login, seeded, kept, make_user):
    login(make_user(Role.OFFICER, [seeded], email="officer@example.org"))
    assert client.get(f"/reports/generated/{kept.id}-annex.csv").status_code == 403
    assert annex_downloads(kept) == []

    client.post("/auth/logout")
    viewer = make_user(Role.VIEWER, [seeded], email="viewer@example.org")
    login(viewer)
    response = client.get(f"/reports/generated/{kept.id}-annex.csv")
    assert response.status_code == 200 and response.data == kept.annex_content
    (event,) = annex_downloads(kept)
    assert event.actor_id == viewer.id and event.changes["download"] == "annex_csv"
    # codes and outcomes only: nobody's name
    text = response.data.decode("utf-8-sig")
    for given, family in db.session.execute(
        select(Participant.given_name, Participant.family_name)
    ):
        assert f"{given} {family}" not in text and family not in text.split(";")


def test_annex_of_another_project_is_not_found(
    client, login, seeded, kept, make_project, make_user
):
    elsewhere = make_project("OTHER")
    db.session.commit()
    for role, email in ((Role.MANAGER, "m2@example.org"), (Role.VIEWER, "v2@example.org")):
        user = make_user(role, [elsewhere], email=email)
        client.post("/auth/logout")
        login(user)
        assert client.get(f"/reports/generated/{kept.id}-annex.csv").status_code == 404
    assert annex_downloads(kept) == []


def test_report_kept_before_the_annex_file_has_it_in_its_pdf(client, login, seeded, kept, manager):
    kept.annex_name = kept.annex_rows = kept.annex_sha256 = kept.annex_content = None
    db.session.commit()
    login(manager)
    assert client.get(f"/reports/generated/{kept.id}-annex.csv").status_code == 404
    page = client.get(f"/reports/generated/{kept.id}").get_data(as_text=True)
    assert "-annex.csv" not in page
    assert annex_downloads(kept) == []
