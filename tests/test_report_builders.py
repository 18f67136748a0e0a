"""Unit tests of the pure report builders: disclosure, charts and the donor PDF.

No database: a hand-made ``DonorReport`` of a fictitious project goes in, bytes
come out and are read back with pypdf.
"""

from __future__ import annotations

import hashlib
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask_babel import Babel, force_locale
from pypdf import PdfReader
from reportlab.graphics.shapes import Drawing

from tracker.reports import charts, disclosure
from tracker.reports.disclosure import Hidden
from tracker.reports.model import (
    ActivityLine,
    AnnexFile,
    Definition,
    Disaggregation,
    DisaggregationRow,
    DonorReport,
    HeadlineFigure,
    PartnerLine,
)
from tracker.reports.pdf import ANNEX_IN_PDF_MAX, build_donor_pdf, pdf_text

GENERATED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ACCENTS = "é è à ç ô « » –"
NATIONALITIES = ("Guinée", "Sénégal", "Cameroun", "Mali", "Nigeria")


def make_report(language: str = "fr", annex_size: int = 120) -> DonorReport:
    """Return the donor report of a fictitious project, labels in French."""
    headline = [
        HeadlineFigure("registered", "Participants inscrits", 412, "people", 400),
        HeadlineFigure("enrolled", "Inscrits à une formation", 268, "people"),
        HeadlineFigure("trained", "Participants formés", 135, "people", 150),
        HeadlineFigure(
            "placed",
            "Placés (emploi ou AGR)",
            41,
            "people",
            60,
            note="emploi seul 18, AGR seule 22, les deux 1",
        ),
        HeadlineFigure(
            "placement_rate",
            "Taux de placement",
            41 / 135,
            "ratio",
            0.4,
            note="41 des 135 participants formés",
        ),
        HeadlineFigure("retained_6m", "Toujours actifs 6 mois après", 29, "people"),
        HeadlineFigure(
            "institutions_strengthened", "Institutions renforcées", 11, "institutions", 10
        ),
        HeadlineFigure("awareness_partners", "Partenaires sensibilisés", 4, "institutions"),
    ]
    rows = DisaggregationRow
    disaggregations = [
        Disaggregation(
            "trained", "sex", "Formés par sexe", 135, [rows("Femmes", 78), rows("Hommes", 57)]
        ),
        Disaggregation(
            "trained",
            "nationality",
            "Formés par nationalité",
            135,
            [
                rows("Guinée", 41),
                rows("Sénégal", 38),
                rows("Cameroun", 27),
                rows("Mali", 26),
                rows("Côte d'Ivoire", 3),
            ],
        ),
        Disaggregation(
            "trained",
            "age_group",
            "Formés par tranche d'âge",
            135,
            [
                rows("Moins de 18 ans", 0),
                rows("18–24 ans", 44),
                rows("25–34 ans", 61),
                rows("35–49 ans", 28),
                rows("50 ans et plus", 2),
            ],
        ),
        Disaggregation(
            "trained",
            "sector",
            "Formés par secteur",
            135,
            [
                rows("Couture", 52),
                rows("Cuisine et restauration", 48),
                rows("Électricité du bâtiment", 31),
                rows("Coiffure", 12),
                rows("Informatique", 4),
            ],
            overlapping=True,
        ),
        Disaggregation(
            "placed",
            "placement_kind",
            "Placés par type de placement",
            41,
            [rows("AGR seule", 22), rows("Emploi seul", 18), rows("Les deux", 1)],
        ),
        Disaggregation(
            "institutions_strengthened",
            "partner_kind",
            "Institutions renforcées par type",
            11,
            [rows("ONG", 5), rows("Administration", 4), rows("Secteur privé", 2)],
        ),
    ]
    partners = [
        PartnerLine(
            "OFPPT – Office de la formation professionnelle et de la promotion du travail",
            "Administration",
            ["Prestataire de formation", "Participation : renforcement des capacités"],
        ),
        PartnerLine("ANAPEC – Agence nationale de l'emploi", "Administration", ["Orientation"]),
        PartnerLine("Fondation Orient & Occident", "ONG", ["Prestataire de formation"]),
        PartnerLine("Atelier Couture Derb Sultan", "Secteur privé", ["Employeur"]),
        PartnerLine("Caritas Rabat", "ONG", ["Orientation", "Participation : sensibilisation"]),
    ]
    activities = [
        ActivityLine(
            date(2024, 2 + i, 10 + i),
            "Renforcement des capacités" if i % 2 else "Atelier de sensibilisation",
            f"Session {i + 1} : accueil et orientation des personnes migrantes",
            "Droit du travail" if i % 3 == 0 else None,
            "Rabat" if i % 2 else "Casablanca",
            ["OFPPT", "ANAPEC"] if i % 2 else ["Caritas Rabat"],
            staff_count=6 + i,
            other_women=11 + i,
            other_men=7 + 2 * i,
        )
        for i in range(9)
    ]
    definitions = [
        Definition(
            f.label,
            f"Définition de « {f.label} » : personnes distinctes, comptées une fois.",
        )
        for f in headline
    ]
    annex_rows = [
        [
            f"TST-{i:04d}",
            "Femme" if i % 3 else "Homme",
            ("18–24 ans", "25–34 ans", "35–49 ans")[i % 3],
            NATIONALITIES[i % len(NATIONALITIES)],
            "oui",
            "Emploi" if i % 4 == 0 else "–",
        ]
        for i in range(1, annex_size + 1)
    ]
    return DonorReport(
        language=language,
        project_code="TST-2024-07",
        project_title="Insertion socio-économique des personnes migrantes à Rabat et Casablanca",
        donor="Fonds fictif pour l'intégration",
        counterpart="Ministère fictif de l'Inclusion",
        country="Maroc",
        period_start=date(2024, 1, 1),
        period_end=date(2025, 12, 31),
        as_of=datetime(2026, 2, 27, 16, 45, tzinfo=UTC),
        headline=headline,
        disaggregations=disaggregations,
        trend=[
            (f"T{q} {y}", trained, placed)
            for (y, q), trained, placed in zip(
                [
                    (2024, 1),
                    (2024, 2),
                    (2024, 3),
                    (2024, 4),
                    (2025, 1),
                    (2025, 2),
                    (2025, 3),
                    (2025, 4),
                ],
                [0, 12, 18, 21, 19, 24, 22, 19],
                [0, 0, 3, 5, 6, 8, 9, 10],
                strict=True,
            )
        ],
        partners=partners,
        activities=activities,
        definitions=definitions,
        annex_columns=["Code", "Sexe", "Tranche d'âge", "Nationalité", "Formé", "Placé"],
        annex_rows=annex_rows,
        small_cell_threshold=5,
        narrative=[
            ("Contexte", f"Texte de contexte avec ses accents : {ACCENTS}.\n\nSecond paragraphe."),
            ("Difficultés & leçons", "Les « stages » ont commencé en retard à Casablanca."),
        ],
        definitions_version="2026.1",
    )


@pytest.fixture
def babel_app():
    """A bare Flask app with Flask-Babel: what the builders need, and no more."""
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        yield app


def pdf_pages(data: bytes) -> list[str]:
    """Return the text of each page, no-break spaces as plain spaces."""
    reader = PdfReader(io.BytesIO(data))
    return [page.extract_text().replace("\xa0", " ") for page in reader.pages]


def pdf_rows(data: bytes) -> list[str]:
    """Return the lines of the PDF as laid out, so that a table row is one line."""
    reader = PdfReader(io.BytesIO(data))
    lines = []
    for page in reader.pages:
        for line in page.extract_text(extraction_mode="layout").splitlines():
            line = " ".join(line.replace("\xa0", " ").split())
            if line:
                lines.append(line)
    return lines


@pytest.fixture
def french_pdf(babel_app) -> bytes:
    with force_locale("fr"):
        return build_donor_pdf(make_report(), generated_at=GENERATED)


# --- disclosure ---------------------------------------------------------------------------


def test_small_cells_shown_as_below_threshold():
    assert disclosure.suppress([40, 3, 12, 9, 1], 5, total_shown=False) == [40, "< 5", 12, 9, "< 5"]


def test_zero_stays_zero_and_threshold_value_stays():
    assert disclosure.suppress([0, 5, 4], 5, total_shown=False) == [0, 5, "< 5"]


def test_single_small_cell_hides_the_smallest_other_cell():
    # 60 - 40 - 12 = 8 would give the hidden cell away
    assert disclosure.suppress([40, 3, 12, 9, 0], 5) == [40, "< 5", 12, "x", 0]
    assert disclosure.classify([40, 3, 12, 9, 0], 5) == [
        Hidden.NO,
        Hidden.SMALL,
        Hidden.NO,
        Hidden.COMPLEMENTARY,
        Hidden.NO,
    ]


def test_complementary_cell_skips_zeros():
    assert disclosure.suppress([0, 2, 30, 0, 7], 5) == [0, "< 5", 30, 0, "x"]


def test_two_small_cells_need_no_complementary():
    assert disclosure.suppress([40, 3, 12, 2], 5) == [40, "< 5", 12, "< 5"]


def test_overlapping_rows_need_no_complementary():
    assert disclosure.suppress([40, 3, 12, 9], 5, overlapping=True) == [40, "< 5", 12, 9]


def test_nothing_to_pair_with_when_other_cells_are_zero():
    assert disclosure.suppress([0, 3, 0], 5) == [0, "< 5", 0]


@pytest.mark.parametrize("threshold", [0, 1])
def test_threshold_of_one_or_less_disables_suppression(threshold):
    assert disclosure.suppress([3, 1, 0, 12], threshold) == [3, 1, 0, 12]
    assert not disclosure.enabled(threshold)


def test_threshold_is_configurable():
    assert disclosure.suppress([9, 10, 30], 10, total_shown=False) == ["< 10", 10, 30]


def test_shares_of_hidden_cells_are_hidden():
    values = [40, 3, 12, 9]
    status = disclosure.classify(values, 5)
    assert disclosure.shares(values, 64, status) == [40 / 64, None, 12 / 64, None]
    assert disclosure.shares([0, 0], 0, [Hidden.NO, Hidden.NO]) == [None, None]


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        disclosure.suppress([4, -1], 5)


def test_rare_values_are_coarsened():
    values = ["Mali"] * 5 + ["Tchad"] * 2
    assert disclosure.coarsen_rare(values, 5, other="Autre") == ["Mali"] * 5 + ["Autre"] * 2
    assert disclosure.coarsen_rare(values, 1, other="Autre") == values


# --- charts -------------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(drawing: Drawing) -> tuple[ET.Element, list[str]]:
    root = ET.fromstring(charts.to_svg(drawing))
    return root, [t.text or "" for t in root.iter(f"{SVG}text")]


def test_bar_chart_is_a_drawing_with_labels_and_values():
    drawing = charts.bar_chart(
        [("Guinée", 41), ("Côte d'Ivoire", 5)],
        title="Formés par nationalité",
        width=400,
        value_labels=["41", "< 5"],
        muted={1},
    )
    assert isinstance(drawing, Drawing)
    assert drawing.width == 400
    root, texts = svg_texts(drawing)
    assert root.tag == f"{SVG}svg"
    assert {"Formés par nationalité", "Guinée", "Côte d'Ivoire", "41", "< 5"} <= set(texts)
    assert root.find(f"{SVG}title").text == "Formés par nationalité"


def test_bar_chart_shortens_labels_that_do_not_fit():
    label = "République démocratique du Congo, province du Nord-Kivu"
    _, texts = svg_texts(charts.bar_chart([(label, 3)], width=200))
    assert label not in texts
    assert any(t.endswith("…") and label.startswith(t[:-1]) for t in texts)


def test_bar_lengths_follow_values():
    drawing = charts.bar_chart([("a", 10), ("b", 5)], width=300)
    root, _ = svg_texts(drawing)
    widths = sorted(float(r.get("width")) for r in root.iter(f"{SVG}rect"))
    # the clip rectangle spans the drawing; the two bars are in a 2:1 ratio
    bars = [w for w in widths if w < 300]
    assert len(bars) == 2
    assert bars[1] == pytest.approx(2 * bars[0])


@pytest.mark.parametrize("kind", ["bar", "funnel", "funnel above"])
def test_bars_grow_from_the_right_in_an_arabic_report(kind):
    """Right to left: the row's name on the right, its bar growing leftward, the value at
    the bar's left end; the same chart in French keeps them left to right."""
    from reportlab.graphics.shapes import Group, String

    from tracker.reports import script

    rows = [("المسجلون", 154), ("المدربون", 135)]

    def draw():
        if kind == "bar":
            return charts.bar_chart(rows, width=400)
        return charts.funnel_chart(rows, width=400, labels_above=kind == "funnel above")

    def where(drawing):
        texts = {s.text: s for s in drawing.contents if isinstance(s, String)}
        name = next(t for k, t in texts.items() if "154" not in k and "135" not in k)
        value = texts[next(k for k in texts if "154" in k)]
        return name, value

    latin = draw()
    name, value = where(latin)
    assert value.x > name.x
    assert not any(isinstance(s, Group) and s.transform[0] == -1 for s in latin.contents)
    with script.right_to_left("ar"):
        arabic = draw()
    name, value = where(arabic)
    assert value.x < name.x
    assert name.x > 200  # the names on the right half
    [mirror] = [s for s in arabic.contents if isinstance(s, Group)]
    assert mirror.transform == (-1, 0, 0, 1, 400, 0)


def test_trend_chart_has_legend_and_periods():
    drawing = charts.trend_chart(
        [("T1 2025", 12, 3), ("T2 2025", 20, 8)],
        series_labels=("Formés", "Placés"),
        title="Tendance",
    )
    assert isinstance(drawing, Drawing)
    _, texts = svg_texts(drawing)
    assert {"Formés", "Placés", "T1 2025", "T2 2025", "20", "8"} <= set(texts)


def test_funnel_chart_has_every_stage():
    stages = [("Inscrits", 412), ("Formés", 135), ("Placés", 41)]
    drawing = charts.funnel_chart(stages, title="Entonnoir")
    _, texts = svg_texts(drawing)
    assert {"Inscrits", "Formés", "Placés", "412", "135", "41"} <= set(texts)


def test_empty_charts_still_render():
    for drawing in (
        charts.bar_chart([], title="Vide"),
        charts.funnel_chart([], title="Vide"),
        charts.trend_chart([], title="Vide"),
    ):
        ET.fromstring(charts.to_svg(drawing))


def test_svg_ids_are_unique_per_chart():
    first = charts.to_svg(charts.bar_chart([("a", 1)], title="Un"))
    second = charts.to_svg(charts.bar_chart([("b", 2)], title="Deux"))
    ids = [
        {el.get("id") for el in ET.fromstring(svg).iter() if el.get("id")}
        for svg in (first, second)
    ]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert "url(#clip)" not in first


# --- the PDF ------------------------------------------------------------------------------


def test_pdf_text_keeps_french_and_replaces_what_helvetica_lacks():
    assert pdf_text(ACCENTS) == ACCENTS
    assert pdf_text("1\u202f234\u202f%") == "1\u00a0234\u00a0%"
    assert pdf_text("Ştefan → ≥ 5") == "Stefan -> >= 5"


def test_pdf_has_cover_headline_and_pages(french_pdf):
    assert french_pdf.startswith(b"%PDF-")
    pages = pdf_pages(french_pdf)
    assert len(pages) > 3
    text = "\n".join(pages)
    cover = pages[0]
    assert "Insertion socio-économique" in cover
    assert "TST-2024-07" in cover
    assert "Fonds fictif pour l'intégration" in cover
    assert "Contains no names" in cover
    assert "Page" not in cover
    for value in ("412", "268", "135", "150", "41", "60", "29", "11"):
        assert re.search(rf"\b{value}\b", text), value
    assert "30 %" in text  # 41 / 135, as a French percentage
    assert "emploi seul 18, AGR seule 22, les deux 1" in text


def test_pdf_footer_numbers_pages_after_the_cover(french_pdf):
    pages = pdf_pages(french_pdf)
    body = len(pages) - 1
    for number, page in enumerate(pages[1:], start=1):
        assert f"Page {number} of {body}" in page
        assert "TST-2024-07" in page
        assert "Data as of 27 février 2026, 16:45 UTC" in page


def test_pdf_suppresses_small_cells(french_pdf):
    lines = pdf_rows(french_pdf)
    text = "\n".join(lines)
    ivory = [line for line in lines if "Côte d'Ivoire" in line]
    assert ivory, "the nationality table is missing"
    assert any("< 5" in line for line in ivory)
    for line in ivory:
        assert not re.search(r"\b3\b", line), line  # the real value
    # Mali (26) is hidden too, or 135 - 41 - 38 - 27 - 26 would give Côte d'Ivoire away
    mali = [line for line in lines if line.startswith("Mali ")]
    assert mali and all("26" not in line for line in mali)
    assert any(re.search(r"Mali x\b", line) for line in mali)
    # the overlapping sector table: no complementary cell, and its footnote
    assert re.search(r"Coiffure 12\b", text)
    assert "A person can appear in several rows" in text
    assert "withheld with its percentage" in text


def test_pdf_keeps_totals_exact(french_pdf):
    text = "\n".join(pdf_rows(french_pdf))
    assert re.search(r"Total 41\b", text)
    assert re.search(r"Total 11\b", text)


def test_pdf_lists_the_annex_on_several_pages_with_headers(french_pdf):
    pages = pdf_pages(french_pdf)
    text = "\n".join(pages)
    for i in (1, 50, 51, 100, 120):
        assert f"TST-{i:04d}" in text
    annex_pages = [page for page in pages if "TST-0" in page]
    assert len(annex_pages) >= 2
    for page in annex_pages:
        assert "Nationalité" in page  # the column headings, on every page of the annex


def test_pdf_prints_french_characters(french_pdf):
    text = "\n".join(pdf_pages(french_pdf))
    assert ACCENTS in text
    assert "Difficultés & leçons" in text
    assert "Électricité du bâtiment" in text


def test_pdf_sections_and_method(french_pdf):
    text = "\n".join(pdf_pages(french_pdf))
    for heading in (
        "Headline figures",
        "Breakdowns",
        "Narrative",
        "Partners and activities",
        "Method and definitions",
        "Pseudonymous annex",
    ):
        assert heading in text
    assert "Indicator definitions, version 2026.1." in text
    assert "Définition de « Taux de placement »" in text
    assert "OFPPT – Office de la formation professionnelle" in text


def test_pdf_metadata(french_pdf):
    reader = PdfReader(io.BytesIO(french_pdf))
    meta = reader.metadata
    assert meta.title.startswith("Insertion socio-économique")
    assert "Donor report" in meta.subject
    assert meta.author
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    assert meta.creation_date.year == 2026


def test_pdf_is_reproducible(babel_app, french_pdf):
    with force_locale("fr"):
        again = build_donor_pdf(make_report(), generated_at=GENERATED)
    assert again == french_pdf


def test_pdf_in_english_without_threshold(babel_app):
    report = make_report(language="en", annex_size=3)
    report.small_cell_threshold = 1
    with force_locale("en"):
        data = build_donor_pdf(report, generated_at=GENERATED)
    text = "\n".join(pdf_rows(data))
    assert "Data as of February 27, 2026" in text
    assert "< 5" not in text
    assert re.search(r"Côte d'Ivoire 3\b", text)
    assert "the small-cell rule is turned off" in text
    assert PdfReader(io.BytesIO(data)).trailer["/Root"]["/Lang"] == "en"


def test_pdf_of_a_project_with_nothing_yet(babel_app):
    report = make_report(language="en", annex_size=0)
    report.headline = [HeadlineFigure("registered", "Registered", 0, "people", 100)]
    report.disaggregations = [Disaggregation("trained", "sex", "Trained by sex", 0, [])]
    report.trend = []
    report.partners = []
    report.activities = []
    report.narrative = []
    report.donor = None
    with force_locale("en"):
        data = build_donor_pdf(report, generated_at=GENERATED)
    text = "\n".join(pdf_pages(data))
    assert "No partner institution recorded." in text
    assert "No activity recorded in the period." in text
    assert "No participant to list." in text
    assert "Nobody to count in this period." in text
    assert "Narrative" not in text


# --- the annex delivered as a file ------------------------------------------------------------

ANNEX_SHA256 = hashlib.sha256(b"the annex").hexdigest()


def test_pdf_names_the_annex_file_and_prints_a_short_annex_too(babel_app):
    report = make_report(language="en", annex_size=120)
    report.annex_file = AnnexFile("tst-annex.csv", 120, ANNEX_SHA256)
    with force_locale("en"):
        data = build_donor_pdf(report, generated_at=GENERATED)
    pages = pdf_pages(data)
    annex = next(i for i, page in enumerate(pages) if "Pseudonymous annex" in page)
    text = " ".join(pages[annex].split())
    assert "tst-annex.csv" in text
    assert ANNEX_SHA256 in text
    assert "Rows 120" in text
    assert "Code; Sexe; Tranche d'âge; Nationalité; Formé; Placé" in text
    assert "The same list is printed below." in text
    everything = "\n".join(pages[annex:])
    for i in (1, 120):
        assert f"TST-{i:04d}" in everything


def test_pdf_leaves_a_long_annex_to_its_file(babel_app):
    rows = ANNEX_IN_PDF_MAX + 1
    report = make_report(language="en", annex_size=rows)
    report.annex_file = AnnexFile("tst-annex.csv", rows, ANNEX_SHA256)
    with force_locale("en"):
        data = build_donor_pdf(report, generated_at=GENERATED)
    pages = pdf_pages(data)
    text = " ".join("\n".join(pages).split())
    assert "Pseudonymous annex" in text and ANNEX_SHA256 in text
    assert f"Rows {rows}" in text
    assert "With more than 500 rows, the list is not printed in this document" in text
    assert "TST-0" not in text
    assert "Pseudonymous annex" in pages[-1]  # the annex is one page, the last
