"""One duplicate rule: the same pairs, in the same words, wherever a duplicate is shown."""

from __future__ import annotations

import html
import io
import re
from datetime import date

import pytest

from tracker.extensions import db
from tracker.participants import duplicates
from tracker.participants.duplicates import Known

NEWCOMER = {
    "given_name": "Aminata",
    "family_name": "Traoré",
    "date_of_birth": "1990-03-12",
    "nationality": "MLI",
    "phone": "+212 612 34 56 78",
}


def known(**values) -> Known:
    values.setdefault("date_of_birth", None)
    values.setdefault("nationality", None)
    values.setdefault("phone", None)
    return Known.of(values)


@pytest.mark.parametrize(
    ("a", "b", "reasons"),
    [
        # a similar name and the same birth date
        (
            known(given_name="Aissatou", family_name="Ndiaye", date_of_birth=date(1990, 5, 14)),
            known(given_name="Aïssatou", family_name="N'Diaye", date_of_birth=date(1990, 5, 14)),
            ["name 100 %", "same birth date"],
        ),
        # names that sound alike, of the same nationality
        (
            known(given_name="Fatoumata", family_name="Diallo", nationality="GIN"),
            known(given_name="Fatimata", family_name="Diallo", nationality="GIN"),
            ["name 100 %", "same nationality"],
        ),
        # the same phone number, written otherwise, whatever the names
        (
            known(given_name="Grace", family_name="Mbala", phone="0612345678"),
            known(given_name="G.", family_name="Mbala-Nzeza", phone="+212 6 12 34 56 78"),
            ["same phone number"],
        ),
    ],
)
def test_the_rule_says_why_two_records_may_be_one_person(app, a, b, reasons):
    words = {"name": "name %(pct)d %%", "birth": "same birth date",
             "country": "same nationality", "phone": "same phone number"}  # fmt: skip
    assert duplicates.match(a, b, words).reasons == reasons
    # symmetric: the same pair read the other way gives the same words
    assert duplicates.match(b, a, words).reasons == reasons


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # alike names, nothing else shared
        (
            known(given_name="Awa", family_name="Diop", nationality="SEN"),
            known(given_name="Awa", family_name="Diop", nationality="MLI"),
        ),
        # the same birth date, other names
        (
            known(given_name="Awa", family_name="Diop", date_of_birth=date(1990, 1, 1)),
            known(given_name="Chantal", family_name="Mputu", date_of_birth=date(1990, 1, 1)),
        ),
        # a short number is no phone to compare
        (
            known(given_name="Awa", family_name="Diop", phone="1234"),
            known(given_name="Binta", family_name="Sow", phone="1234"),
        ),
    ],
)
def test_the_rule_does_not_match_people_who_only_share_a_detail(app, a, b):
    assert duplicates.match(a, b) is None


def _warning_pairs(text: str, pattern: str) -> set[tuple[str, str]]:
    return {(code, why) for code, why in re.findall(pattern, html.unescape(text), re.S)}


def test_registration_import_preview_and_quality_panel_give_the_same_pairs_and_words(
    client, signin, manager, project, make_participant
):
    twin = make_participant(
        project,
        given_name="Aminata",
        family_name="Traore",
        date_of_birth=date(1990, 3, 12),
        nationality="MLI",
    )
    same_phone = make_participant(
        project, given_name="Mina", family_name="Touré", phone="0612345678", nationality="CIV"
    )
    make_participant(project, given_name="Awa", family_name="Diop", nationality="MLI")
    db.session.commit()
    signin(manager)

    # 1. the registration form's warning
    form = {
        "project_id": str(project.id),
        "registered_on": "2015-03-02",
        "consent_given": "y",
        "consent_on": "2015-03-02",
        "sex": "F",
        **NEWCOMER,
    }
    page = client.post("/participants/new", data=form).get_data(as_text=True)
    at_registration = _warning_pairs(
        page, r'rel="noopener">([A-Z0-9-]+)</a>.*?<span class="why">\(([^)]*)\)</span>'
    )

    # 2. the import preview
    header = (
        "given_name;family_name;sex;date_of_birth;nationality;phone;consent_given;"
        "consent_date;project_code;registered_on"
    )
    row = ";".join(
        [NEWCOMER["given_name"], NEWCOMER["family_name"], "F", NEWCOMER["date_of_birth"],
         NEWCOMER["nationality"], NEWCOMER["phone"], "oui", "2015-03-02", project.code,
         "2015-03-02"]
    )  # fmt: skip
    response = client.post(
        "/imports/",
        data={
            "kind": "participants",
            "project": str(project.id),
            "file": (io.BytesIO(f"{header}\n{row}\n".encode()), "people.csv"),
        },
        content_type="multipart/form-data",
    )
    # the check is a job, whose page leads to the preview
    preview = client.get(response.headers["Location"], follow_redirects=True).get_data(as_text=True)
    in_preview = _warning_pairs(preview, r"may be the same person as ([A-Z0-9-]+) \(([^)]*)\)")

    # 3. the data-quality panel, once she is registered after all
    client.post("/participants/new", data={**form, "not_a_duplicate": "y"})
    quality = client.get("/dashboard/quality").get_data(as_text=True)
    section = quality[quality.index('id="duplicates"') :].split("</section>")[0]
    newcomer_code = f"{project.code}-0004"
    in_panel = set()
    for first, second, why in re.findall(
        r">([A-Z0-9-]+)</a>\s*— like ([A-Z0-9-]+) \(([^)]*)\)", html.unescape(section)
    ):
        if newcomer_code in (first, second):
            in_panel.add((second if first == newcomer_code else first, why))

    expected = {
        (twin.code, "name 100 %, same birth date, same nationality"),
        (same_phone.code, "same phone number"),
    }
    assert at_registration == expected
    assert in_preview == expected
    assert in_panel == expected
