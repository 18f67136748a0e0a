"""The dashboard: its figures are the indicators', and every figure opens its people."""

from __future__ import annotations

import html
import re
from datetime import date
from urllib.parse import parse_qsl

import pytest
from flask_babel import force_locale

from tracker import indicators
from tracker.extensions import db
from tracker.models import PlacementKind, Role
from tracker.placements.services import record_placement
from tracker.reports.donor import collect
from tracker.trainings.services import enrol


def rows_in(page: str) -> int:
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    return body.count("<tr")


@pytest.fixture
def manager(seeded, make_user):
    return make_user(Role.MANAGER, [seeded], email="manager@example.org")


def drill_links(page: str) -> dict[str, str]:
    """Return {indicator: text of its whole-figure link} (the first: the card's)."""
    found = {}
    for query, value in re.findall(r'href="/dashboard/list\?([^"]*)">([\d\s\u202f]+)</a>', page):
        args = dict(parse_qsl(html.unescape(query)))
        if "dimension" not in args:
            found.setdefault(args["indicator"], re.sub(r"\s", "", value))
    return found


class TestSeedFigures:
    def test_cards_show_the_published_figures(self, client, login, manager, seeded):
        login(manager)
        page = client.get("/dashboard/").get_data(as_text=True)
        links = drill_links(page)
        assert links["trained"] == "135"
        assert links["placed"] == "41"
        assert links["institutions_strengthened"] == "11"
        assert links["awareness_partners"] == "4"
        assert "<svg" in page and 'role="img"' in page

    def test_dashboard_pdf_and_indicators_agree(self, client, login, manager, seeded):
        scope = indicators.Scope((seeded.id,), seeded.start_date, seeded.end_date)
        figures = indicators.headline(scope)
        with force_locale("fr"):
            report = collect(seeded)
        pdf_figures = {f.key: f.value for f in report.headline}
        for key, value in figures.items():
            assert pdf_figures[key] == (value if value is not None else 0), key
        login(manager)
        links = drill_links(client.get("/dashboard/").get_data(as_text=True))
        for key in ("registered", "enrolled", "trained", "placed", "retained_6m"):
            assert int(links[key]) == figures[key], key

    @pytest.mark.parametrize(
        ("indicator", "expected"),
        [("trained", 135), ("placed", 41), ("institutions_strengthened", 11)],
    )
    def test_each_figure_opens_exactly_its_rows(
        self, client, login, manager, seeded, indicator, expected
    ):
        login(manager)
        page = client.get(f"/dashboard/list?indicator={indicator}").get_data(as_text=True)
        assert rows_in(page) == expected

    def test_every_breakdown_cell_opens_exactly_its_rows(self, client, login, manager, seeded):
        scope = indicators.Scope((seeded.id,), seeded.start_date, seeded.end_date)
        login(manager)
        for key, dimension in [
            ("trained", "nationality"),
            ("trained", "sector"),
            ("placed", "placement_kind"),
            ("trained", "age_group"),
        ]:
            for category, n in indicators.disaggregate(key, dimension, scope):
                page = client.get(
                    "/dashboard/list",
                    query_string={"indicator": key, "dimension": dimension, "category": category},
                ).get_data(as_text=True)
                assert rows_in(page) == n, (key, dimension, category)

    def test_drill_down_names_for_managers_codes_for_viewers(
        self, client, login, manager, seeded, make_user
    ):
        login(manager)
        page = client.get("/dashboard/list?indicator=placed").get_data(as_text=True)
        assert "/participants/" in page
        client.post("/auth/logout")
        login(make_user(Role.VIEWER, [seeded], email="viewer@example.org"))
        page = client.get("/dashboard/list?indicator=placed").get_data(as_text=True)
        assert rows_in(page) == 41
        assert not re.search(r"/participants/\d", page)
        assert "IDF-MA-2014-" in page
        from tracker.models import Participant

        for given, family in db.session.execute(
            db.select(Participant.given_name, Participant.family_name)
        ):
            assert f"{given} {family}" not in page
        assert client.get("/dashboard/quality").status_code == 403

    def test_period_filter_is_in_the_query_string(self, client, login, manager, seeded):
        login(manager)
        page = client.get("/dashboard/?start=2015-01-01&end=2015-12-31").get_data(as_text=True)
        scope = indicators.Scope((seeded.id,), date(2015, 1, 1), date(2015, 12, 31))
        assert drill_links(page)["trained"] == str(indicators.count("trained", scope))
        assert "start=2015-01-01" in page  # drill-down links keep the filters
        listed = client.get(
            "/dashboard/list?indicator=trained&start=2015-01-01&end=2015-12-31"
        ).get_data(as_text=True)
        assert rows_in(listed) == indicators.count("trained", scope)

    def test_monthly_trend(self, client, login, manager, seeded):
        login(manager)
        page = client.get("/dashboard/?grain=month").get_data(as_text=True)
        assert page.count('role="img"') == 2


class TestChartsForPeople:
    """Charts read on a phone: 12 px text at least, at the width of a 390 px screen's card."""

    @pytest.mark.parametrize("grain", ["quarter", "month"])
    def test_charts_fit_a_356_px_card_with_text_of_12_px_or_more(
        self, client, login, manager, seeded, grain
    ):
        login(manager)
        page = client.get(f"/dashboard/?grain={grain}").get_data(as_text=True)
        drawn = re.findall(r'<svg[^>]*role="img".*?</svg>', page, re.S)
        assert len(drawn) == 2
        for svg in drawn:
            opening = svg[: svg.index(">")]
            width = float(re.search(r' width="([\d.]+)"', opening).group(1))
            # a 356 px card, less its border (1 px) and padding (.75rem) on each side
            assert width <= 356 - 2 * 1 - 2 * 12, opening
            sizes = [
                float(size.removesuffix("px")) for size in re.findall(r'font-size="([^"]+)"', svg)
            ]
            assert sizes and min(sizes) >= 12, sorted(set(sizes))
            texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
            assert texts and not any(t.endswith("…") for t in texts), texts  # nothing cut short

    def test_each_breakdown_row_has_a_bar_as_long_as_its_share_of_the_largest(
        self, client, login, manager, seeded
    ):
        login(manager)
        page = client.get("/dashboard/").get_data(as_text=True)
        tables = page.split('<table class="list small">')[2:]  # after the trend's figures
        assert len(tables) >= 10
        checked = 0
        for table in tables:
            rows = re.findall(
                r'<tr><td>[^<]*<svg class="bar"[^>]*><rect width="([\d.]+)%".*?</td>\s*'
                r'<td class="num"><a [^>]*>([\d\u202f\xa0 ]+)</a>',
                table[: table.index("</tbody>")],
                re.S,
            )
            numbers = [int(re.sub(r"\D", "", n)) for _, n in rows]
            for (width, _), n in zip(rows, numbers, strict=True):
                assert float(width) == pytest.approx(100 * n / max(numbers), abs=0.05)
                checked += 1
        assert checked > 30

    def test_the_trend_figures_are_a_table_beside_the_chart(self, client, login, manager, seeded):
        login(manager)
        page = client.get("/dashboard/?start=2015-01-01&end=2015-12-31").get_data(as_text=True)
        figures = page[page.index('<details class="chart-figures">') :]
        figures = figures[: figures.index("</details>")]
        assert re.findall(r'<th scope="row">([^<]+)</th>', figures) == [
            "T1 2015",
            "T2 2015",
            "T3 2015",
            "T4 2015",
        ]


class TestFilters:
    def test_region_and_provider(
        self, client, login, make_project, make_participant, make_course, make_user, make_partner
    ):
        project = make_project("P", start=date(2015, 1, 1), end=date(2015, 12, 31))
        ofppt, other = make_partner("OFPPT"), make_partner("Other")
        c1 = make_course(project, provider=ofppt)
        c2 = make_course(project, provider=other)
        for course, region in [(c1, "Oriental"), (c1, "Souss-Massa"), (c2, "Oriental")]:
            person = make_participant(project, region=region)
            from tracker.trainings.services import complete

            complete(enrol(person, course, on=date(2015, 1, 20)), on=date(2015, 5, 31))
        login(make_user(Role.MANAGER, [project]))
        assert drill_links(client.get("/dashboard/").get_data(as_text=True))["trained"] == "3"
        by_region = client.get("/dashboard/?region=Oriental").get_data(as_text=True)
        assert drill_links(by_region)["trained"] == "2"
        by_provider = client.get(f"/dashboard/?provider={ofppt.id}").get_data(as_text=True)
        assert drill_links(by_provider)["trained"] == "2"

    def test_bad_period_is_reported(self, client, login, make_project, make_user):
        project = make_project()
        login(make_user(Role.MANAGER, [project]))
        page = client.get("/dashboard/?start=2015-06-01&end=2015-01-01").get_data(as_text=True)
        assert 'class="error"' in page

    def test_project_of_someone_else_is_404(self, client, login, make_project, make_user):
        mine, other = make_project("MINE"), make_project("OTHER")
        login(make_user(Role.OFFICER, [mine]))
        assert client.get(f"/dashboard/?project={other.id}").status_code == 404
        assert (
            client.get(f"/dashboard/list?indicator=trained&project={other.id}").status_code == 404
        )

    def test_unknown_indicator_or_dimension_is_404(self, client, login, make_project, make_user):
        login(make_user(Role.MANAGER, [make_project()]))
        assert client.get("/dashboard/list?indicator=nope").status_code == 404
        assert (
            client.get("/dashboard/list?indicator=trained&dimension=partner_kind").status_code
            == 404
        )


def test_data_quality_lists_what_to_fix(
    client, login, make_project, make_participant, make_course, make_user
):
    project = make_project("P", start=date(2015, 1, 1), end=date(2015, 12, 31))
    course = make_course(project, start=date(2015, 2, 1), end=date(2015, 5, 31))
    still_open = make_participant(project, nationality="SEN", region="Oriental", birth_year=1990)
    enrol(still_open, course, on=date(2015, 1, 20))
    incomplete = make_participant(project, given_name="Nofields")
    placed = make_participant(project, nationality="MLI", region="Oriental", birth_year=1988)
    record_placement(
        placed,
        kind=PlacementKind.IGA,
        sector="Couture",
        start_date=date(2015, 3, 1),
        business_name="Atelier",
    )
    twin_a = make_participant(
        project,
        given_name="Fatoumata",
        family_name="Diallo",
        nationality="GIN",
        region="Oriental",
        birth_year=1990,
    )
    twin_b = make_participant(
        project,
        given_name="Fatimata",
        family_name="Diallo",
        nationality="GIN",
        region="Oriental",
        birth_year=1991,
    )
    login(make_user(Role.OFFICER, [project]))
    page = client.get("/dashboard/quality").get_data(as_text=True)
    section = {
        key: page[page.index(f'id="{key}"') :].split("</section>")[0]
        for key in ("missing_fields", "open_enrolments", "no_follow_up", "duplicates")
    }
    assert incomplete.code in section["missing_fields"]
    assert still_open.code not in section["missing_fields"]
    assert still_open.code in section["open_enrolments"]
    assert placed.code in section["no_follow_up"]
    assert twin_a.code in section["duplicates"] and twin_b.code in section["duplicates"]


class TestViewersReadNoSmallCells:
    """Viewers read the dashboard as a document leaving the case workers: small cells hidden."""

    def small_and_large(self, seeded):
        scope = indicators.Scope((seeded.id,), seeded.start_date, seeded.end_date)
        pairs = indicators.disaggregate("trained", "nationality", scope)
        small = [c for c, n in pairs if 0 < n < 5]
        large = [c for c, n in pairs if n >= 5]
        assert small and large, pairs  # the reference programme has both
        return scope, small, large

    def test_viewer_sees_small_counts_as_less_than_five_and_cannot_open_them(
        self, client, login, seeded, make_user
    ):
        _scope, small, large = self.small_and_large(seeded)
        login(make_user(Role.VIEWER, [seeded], email="viewer@example.org"))
        page = client.get("/dashboard/").get_data(as_text=True)
        assert "&lt; 5" in page
        trained = drill_links(page)["trained"]
        assert trained == "135", "totals stay exact"
        assert f"dimension=nationality&amp;category={small[0]}" not in page
        assert f"dimension=nationality&amp;category={large[0]}" in page
        hidden = {"indicator": "trained", "dimension": "nationality", "category": small[0]}
        assert client.get("/dashboard/list", query_string=hidden).status_code == 404
        shown = {"indicator": "trained", "dimension": "nationality", "category": large[0]}
        assert client.get("/dashboard/list", query_string=shown).status_code == 200

    def test_managers_see_every_count(self, client, login, manager, seeded):
        _scope, small, _large = self.small_and_large(seeded)
        login(manager)
        page = client.get("/dashboard/").get_data(as_text=True)
        assert "&lt; 5" not in page
        assert f"dimension=nationality&amp;category={small[0]}" in page
        cell = {"indicator": "trained", "dimension": "nationality", "category": small[0]}
        assert client.get("/dashboard/list", query_string=cell).status_code == 200


def every_figure_link(page: str) -> list[tuple[str, str]]:
    """Return every (drill-down query, figure) the dashboard links, breakdown cells included."""
    return [
        (html.unescape(query), re.sub(r"\s", "", value))
        for query, value in re.findall(r'href="/dashboard/list\?([^"]*)">([^<]+)</a>', page)
    ]


def test_archiving_courses_partners_and_activities_changes_no_figure(
    client, login, manager, seeded
):
    """Archived records leave the lists and pick lists, never the figures or the report."""
    from sqlalchemy import select

    from tracker.activities.services import archive_activity
    from tracker.models import Activity, Partner, TrainingCourse
    from tracker.partners.services import archive_partner
    from tracker.trainings.services import archive_course

    scope = indicators.Scope((seeded.id,), seeded.start_date, seeded.end_date)

    def figures():
        with force_locale("fr"):
            report = collect(seeded)
        page = client.get("/dashboard/").get_data(as_text=True)
        return {
            "headline": indicators.headline(scope),
            "by provider": indicators.disaggregate("trained", "provider", scope),
            "by sector": indicators.disaggregate("trained", "sector", scope),
            "report": [(f.key, f.value) for f in report.headline],
            "report partners": report.partners,
            "report activities": report.activities,
            "dashboard": every_figure_link(page),
        }

    login(manager)
    before = figures()
    assert before["dashboard"] and before["report partners"] and before["report activities"]
    courses = db.session.scalars(select(TrainingCourse)).all()
    partners = db.session.scalars(select(Partner)).all()
    activities = db.session.scalars(select(Activity)).all()
    assert courses and partners and activities
    for course in courses:
        archive_course(course)
    for partner in partners:
        archive_partner(partner)
    for activity in activities:
        archive_activity(activity)
    db.session.commit()
    after = figures()
    assert after == before
    assert after["headline"]["trained"] == 135 and after["headline"]["placed"] == 41
