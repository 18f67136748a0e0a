"""A viewer never gets a list of fewer people than the small-cell threshold, whatever its filters.

The dashboard shows a viewer "< 5" for a cell of 1 to 4 people and opens no list
for it; the probe of issue 17 reached the same people by other filters (the
drill-down's region filter instead of the cell, the participants list's
nationality filter, the API). The rule is now one function
(``tracker.participants.listing.small_list``) asked by every list a viewer reaches.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from tracker.api import tokens
from tracker.extensions import db
from tracker.models import PartnerKind, PlacementKind, Role
from tracker.placements.services import record_placement
from tracker.trainings.services import enrol

RARE, COMMON = "Souss-Massa", "Rabat-Salé-Kénitra"


@pytest.fixture
def programme(project, make_participant, make_partner, make_course, make_user):
    """Twelve placed people: three of Burkina Faso in Souss-Massa, nine Moroccans in Rabat."""
    employer = make_partner("Employer", PartnerKind.EMPLOYER)
    small_course = make_course(project, title="Small course")
    few, many = [], []
    for n in range(12):
        rare = n < 3
        person = make_participant(
            project,
            code=f"SC-{n:04d}",
            given_name=f"Person{n}",
            nationality="BFA" if rare else "MAR",
            region=RARE if rare else COMMON,
        )
        record_placement(
            person,
            kind=PlacementKind.EMPLOYMENT,
            sector="Cuisine",
            start_date=date(2015, 7, 1),
            employer=employer,
        )
        if rare:
            enrol(person, small_course, on=date(2015, 1, 20))
        (few if rare else many).append(person.code)
    viewer = make_user(Role.VIEWER, [project], email="viewer@example.org")
    manager = make_user(Role.MANAGER, [project], email="manager@example.org")
    _token, secret = tokens.create(viewer, "viewer script")
    db.session.commit()
    return {
        "few": few,
        "many": many,
        "viewer": viewer,
        "manager": manager,
        "course": small_course,
        "bearer": {"Authorization": f"Bearer {secret}"},
    }


def codes_in(page: str) -> set[str]:
    """The codes a page lists (not those typed in its search field and echoed back)."""
    return set(re.findall(r"SC-\d{4}", re.sub(r'value="[^"]*"', "", page)))


@pytest.mark.parametrize(
    "url",
    [
        # the probe's two ways round the hidden cell
        f"/dashboard/list?indicator=placed&region={RARE}",
        "/participants/?nationality=BFA&status=all",
        # and the others a viewer has
        "/participants/?q=SC-0001",
        "/dashboard/list?indicator=placed&dimension=nationality&category=BFA",
    ],
)
def test_a_viewers_list_of_fewer_than_five_shows_nobody(client, signin, programme, url):
    signin(programme["viewer"])
    answer = client.get(url)
    assert answer.status_code in (200, 404)
    page = answer.get_data(as_text=True)
    assert not codes_in(page) & set(programme["few"])
    if answer.status_code == 200:
        assert 'id="small-list"' in page
        assert "Fewer than 5 people match" in page
        # nor the exact count
        assert not re.search(r"\b[1-4] (people|person|participants?)\b", page)


def test_the_course_roster_of_three_is_not_listed_to_a_viewer(client, signin, programme):
    signin(programme["viewer"])
    page = client.get(f"/trainings/{programme['course'].id}").get_data(as_text=True)
    assert not codes_in(page) & set(programme["few"])
    assert 'id="small-list"' in page


@pytest.mark.parametrize(
    "url",
    [
        f"/dashboard/list?indicator=placed&region={RARE}",
        "/participants/?nationality=BFA&status=all",
    ],
)
def test_a_manager_still_gets_every_list(client, signin, programme, url):
    signin(programme["manager"])
    page = client.get(url).get_data(as_text=True)
    assert codes_in(page) >= set(programme["few"])
    assert 'id="small-list"' not in page


def test_large_lists_are_still_shown_to_a_viewer(client, signin, programme):
    signin(programme["viewer"])
    page = client.get(f"/dashboard/list?indicator=placed&region={COMMON}").get_data(as_text=True)
    assert codes_in(page) == set(programme["many"])
    page = client.get("/participants/?nationality=MAR&status=all").get_data(as_text=True)
    assert codes_in(page) == set(programme["many"])


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/participants/?nationality=BFA&status=all",
        "/api/v1/participants/?code=SC-0001",
        "/api/v1/participants/?indicator=placed&from=2015-01-01&to=2015-12-31&nationality=BFA",
        "/api/v1/placements/?code=SC-0001",
        "/api/v1/enrolments/",
    ],
)
def test_a_viewers_token_gets_no_list_of_fewer_than_five(client, programme, path):
    answer = client.get(path, headers=programme["bearer"])
    assert answer.status_code == 403, answer.json
    assert answer.content_type == "application/problem+json"
    # the message names the threshold, in the token's language (French by default)
    assert "Moins de 5 personnes" in answer.json["detail"]
    assert not codes_in(answer.get_data(as_text=True)) & set(programme["few"])


def test_a_viewers_token_gets_large_lists(client, programme):
    answer = client.get("/api/v1/participants/?nationality=MAR", headers=programme["bearer"])
    assert answer.status_code == 200
    assert {item["code"] for item in answer.json["items"]} == set(programme["many"])
    placements = client.get("/api/v1/placements/?limit=100", headers=programme["bearer"])
    assert placements.status_code == 200 and placements.json["total"] == 12


# --- rare values in a viewer's larger lists ---------------------------------------------


def table_rows(page: str) -> dict[str, list[str]]:
    """Each listed code's cells, as the page's table shows them (the filters left out)."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S):
        code = re.search(r"SC-\d{4}", row)
        cells = [
            re.sub(r"<[^>]+>|\s+", " ", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        ]
        rows[code.group(0)] = cells
    return rows


@pytest.mark.parametrize(
    "url",
    [
        # the probe's reading: the whole list of the placed, each with her nationality
        "/dashboard/list?indicator=placed",
        "/participants/?status=all",
    ],
)
@pytest.mark.parametrize("per_page", [25, 5])
def test_a_viewer_reads_values_fewer_than_five_share_as_other(
    client, signin, programme, url, per_page, monkeypatch
):
    from tracker.participants import views

    # pages of 5: counted in the whole list, not in the page (2 of Morocco on page 1)
    monkeypatch.setattr(views, "PER_PAGE", per_page)
    signin(programme["viewer"])
    answer = client.get(url)
    assert answer.status_code == 200
    rows = table_rows(answer.get_data(as_text=True))
    assert rows
    for code, cells in rows.items():
        text = " | ".join(cells)
        assert "Burkina" not in text and RARE not in text
        if code in programme["few"]:
            # nationality and region: the three of Burkina Faso in Souss-Massa
            assert cells.count("Other") == 2, cells
        else:
            assert "Morocco" in text and COMMON in text
            assert "Other" not in cells
        # twelve women: a value common in the list is shown
        assert "Female" in cells


def test_rare_values_are_shown_to_a_manager(client, signin, programme):
    signin(programme["manager"])
    for url in ("/dashboard/list?indicator=placed", "/participants/?status=all"):
        rows = table_rows(client.get(url).get_data(as_text=True))
        for code in programme["few"]:
            assert "Burkina Faso" in rows[code] and RARE in rows[code]
