"""The donor report of the reference programme, read back with pypdf."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tracker import indicators
from tracker.extensions import db
from tracker.models import AuditEvent, ConsentPurpose, GeneratedReport, Participant
from tracker.participants.consent import donor_reporting_allowed_sql, record_consent


def pdf_text(path, layout: bool = False) -> str:
    reader = PdfReader(path)
    mode = "layout" if layout else "plain"
    return "\n".join(page.extract_text(extraction_mode=mode) for page in reader.pages)


def figure_row(text: str, label: str) -> list[str]:
    """Return the words of the first table row that starts with ``label``."""
    line = next(line.strip() for line in text.splitlines() if line.strip().startswith(label))
    return line[len(label) :].split()


@pytest.fixture
def french_report(seeded, runner, tmp_path):
    out = tmp_path / "r.pdf"
    result = runner.invoke(args=["report", "donor", "--project", "IDF-MA-2014", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_french_report_shows_the_published_figures(french_report):
    text = pdf_text(french_report, layout=True)
    assert "Rapport au bailleur" in text
    assert "Chiffres clés" in text
    for label, value in [
        ("Personnes formées", "135"),
        ("Personnes insérées (emploi ou AGR)", "41"),
        ("Institutions renforcées", "11"),
        ("Partenaires des ateliers de sensibilisation", "4"),
    ]:
        assert figure_row(text, label)[0] == value
    assert "emploi seul 17, AGR seule 23, les deux 1" in " ".join(text.split())
    assert "1 juin 2014 – 31 décembre 2016" in text
    assert "Méthode et définitions" in text
    assert "Page 2 sur" in text


def test_report_names_nobody(french_report):
    text = pdf_text(french_report)
    people = db.session.execute(
        select(Participant.code, Participant.given_name, Participant.family_name)
    ).all()
    codes_in_annex = [code for code, _, _ in people if code in text]
    assert len(codes_in_annex) >= 135
    for _code, given, family in people:
        assert f"{given} {family}" not in text
    for phone in db.session.scalars(select(Participant.phone)):
        assert phone not in text


def test_report_prints_the_definitions(french_report):
    text = " ".join(pdf_text(french_report).split())
    assert "une personne ayant achevé deux formations est comptée une fois" in text


def test_english_report(seeded, runner, tmp_path):
    out = tmp_path / "en.pdf"
    result = runner.invoke(
        args=["report", "donor", "--project", "IDF-MA-2014", "--lang", "en", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = pdf_text(out)
    assert "Headline figures" in text and "Trained" in text
    assert "Page 2 of" in text


def test_period_option_changes_the_figures(seeded, runner, tmp_path):
    out = tmp_path / "2015.pdf"
    result = runner.invoke(
        args=[
            "report",
            "donor",
            "--project",
            "IDF-MA-2014",
            "--from",
            "2015-01-01",
            "--to",
            "2015-12-31",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    text = pdf_text(out, layout=True)
    assert "1 janvier 2015 – 31 décembre 2015" in text
    assert figure_row(text, "Personnes formées")[0] != "135"


def test_report_generation_is_audited(french_report):
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report"))
    assert event.actor_label == "cli:report"
    assert event.changes["lang"] == "fr"


def test_pdf_is_a_valid_document(french_report):
    reader = PdfReader(io.BytesIO(french_report.read_bytes()))
    assert len(reader.pages) >= 6
    assert reader.metadata.title


def test_small_cells_hidden_for_who_people_are_not_for_outcomes(french_report):
    text = pdf_text(french_report, layout=True)
    section = text[text.index("Personnes insérées (emploi ou AGR) par type d'insertion") :]
    assert figure_row(section, "Emploi et AGR")[0] == "1"
    assert figure_row(section, "Emploi")[0] == "17"
    nationality = text[text.index("Personnes formées par nationalité") :]
    assert figure_row(nationality, "Togo")[:2] == ["<", "5"]


def test_annex_gives_codes_and_outcomes_only(seeded):
    from flask_babel import force_locale

    from tracker.reports.donor import collect

    with force_locale("fr"):
        report = collect(seeded)
    assert report.annex_columns == ["Code", "Personnes formées", "Insertion"]
    assert len(report.annex_rows) == 135
    assert all(len(row) == 3 for row in report.annex_rows)


def test_as_of_is_the_last_change_not_the_last_read(seeded):
    from tracker import audit
    from tracker.reports.donor import data_as_of

    before = data_as_of()
    db.session.commit()
    audit.record_read("participant", 1)
    assert data_as_of() == before


# --- the annex, a CSV file delivered with the PDF ---------------------------------------------


def read_annex(path) -> list[list[str]]:
    """Return the annex CSV's rows, header first (UTF-8 with a byte-order mark, semicolons)."""
    text = path.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def annex_codes_before_the_file(project, today: date) -> list[str]:
    """The codes the PDF's annex listed before the annex became a file, by the same query.

    The trained or placed people of the project's period whose code may leave the
    organisation (``reports.donor._annex`` as it was), sorted by code.
    """
    scope = indicators.Scope((project.id,), project.start_date, project.end_date)
    trained = indicators.subject_ids("trained", scope).scalar_subquery()
    placed = indicators.subject_ids("placed", scope).scalar_subquery()
    return list(
        db.session.scalars(
            select(Participant.code)
            .where(
                Participant.id.in_(trained) | Participant.id.in_(placed),
                donor_reporting_allowed_sql(Participant.id, today),
            )
            .order_by(Participant.code)
        )
    )


def test_cli_writes_the_annex_next_to_the_pdf(seeded, runner, tmp_path):
    scope = indicators.Scope((seeded.id,), seeded.start_date, seeded.end_date)
    trained = sorted(db.session.scalars(indicators.subject_ids("trained", scope)))
    # one trained woman refused donor reporting: out of the annex, still counted
    refused = db.session.get(Participant, trained[0])
    record_consent(refused, ConsentPurpose.DONOR_REPORTING, given_on=date(2014, 6, 1))
    refused.consents[-1].withdrawn_on = date(2016, 1, 1)
    # a code a spreadsheet would run as a formula
    formula = db.session.get(Participant, trained[1])
    formula.code = "=1+2"
    db.session.commit()
    expected = annex_codes_before_the_file(seeded, date.today())
    assert refused.code not in expected and "=1+2" in expected

    out = tmp_path / "r.pdf"
    result = runner.invoke(args=["report", "donor", "--project", "IDF-MA-2014", "--out", str(out)])
    assert result.exit_code == 0, result.output
    annex = tmp_path / "r-annex.csv"
    assert "r-annex.csv" in result.output
    header, *rows = read_annex(annex)
    assert header == ["Code", "Personnes formées", "Insertion"]
    assert [row[0] for row in rows] == ["'=1+2" if code == "=1+2" else code for code in expected]
    assert {row[1] for row in rows} <= {"oui", "non"}
    assert sum(row[2] != "–" for row in rows) == len(
        set(expected) & set(annex_codes_placed(seeded))
    )

    digest = hashlib.sha256(annex.read_bytes()).hexdigest()
    text = " ".join(pdf_text(out).split())
    assert digest in text
    assert "r-annex.csv" in text
    # the figures still count her
    assert figure_row(pdf_text(out, layout=True), "Personnes formées")[0] == "135"

    kept = db.session.scalar(select(GeneratedReport))
    assert kept.annex_content == annex.read_bytes()
    assert (kept.annex_name, kept.annex_rows, kept.annex_sha256) == ("r-annex.csv", 134, digest)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report"))
    assert event.changes["annex"] == "r-annex.csv"
    assert event.changes["annex_sha256"] == digest


def annex_codes_placed(project) -> list[str]:
    scope = indicators.Scope((project.id,), project.start_date, project.end_date)
    placed = indicators.subject_ids("placed", scope).scalar_subquery()
    return list(db.session.scalars(select(Participant.code).where(Participant.id.in_(placed))))


def test_cli_keeps_nothing_when_the_annex_cannot_be_written(seeded, runner, tmp_path):
    out = tmp_path / "r.pdf"
    (tmp_path / "r-annex.csv").mkdir()  # a folder where the file should go
    result = runner.invoke(args=["report", "donor", "--project", "IDF-MA-2014", "--out", str(out)])
    assert result.exit_code == 1
    assert "cannot write" in result.output and "r-annex.csv" in result.output
    assert not out.exists()
    assert db.session.scalar(select(func.count(GeneratedReport.id))) == 0


@pytest.mark.parametrize("period", [None, (date(2015, 1, 1), date(2015, 12, 31))])
def test_figures_gathered_once_are_the_indicators_own(seeded, period):
    """One read of the headline's ids and one query per indicator for the breakdowns by
    who people are give the same figures as each indicator counted on its own."""
    from flask_babel import force_locale

    from tracker.reports.donor import collect

    start, end = period or (seeded.start_date, seeded.end_date)
    scope = indicators.Scope((seeded.id,), start, end)
    with force_locale("en"):
        report = collect(seeded, start, end)
    expected = indicators.headline(scope)
    for figure in report.headline:
        assert figure.value == (expected[figure.key] or 0), figure.key
    for item in report.disaggregations:
        pairs = [(row.category, row.value) for row in item.rows]
        assert pairs == indicators.disaggregate(item.indicator_key, item.dimension_key, scope)
    rate = next(f for f in report.headline if f.key == "placement_rate")
    assert rate.note == (
        f"{indicators.trained_and_placed(scope)} of {expected['trained']} trained participants"
    )
