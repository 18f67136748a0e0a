"""A manager merges a woman registered twice, sees "trained" count her once, and undoes it.

The demo programme holds no likely duplicate (its look-alike names are different
women), so an officer makes one as it happens in the field: she registers a woman
of the demo again, her family name misspelt, ticks "this is a different person"
past the warning, enrols the new record in the course the woman had completed and
records the completion a second time. "Trained" then counts the woman twice.
The manager finds the pair in the data-quality panel, compares the records side
by side, merges them (keeping the original spelling and the original enrolment),
and "trained" counts her once; undone, twice again. At each step the figure is
checked against the people it lists, as one would count them by hand. She then
merges them for good, which leaves the demo's figures as the other journeys expect.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date

import pytest
from babel import Locale
from babel.dates import format_date
from playwright.sync_api import Locator, Page, expect

from .conftest import DESKTOP, PHONE, PROJECT, ROOT, check_page, main_menu, sign_in, t, tn

pytestmark = pytest.mark.e2e

FR = Locale.parse("fr")


@dataclass(frozen=True)
class Woman:
    """A trained woman of the demo programme, as the seed holds her."""

    code: str
    given: str
    family: str
    born: date
    nationality: str  # alpha-2, shown by its French name
    course: str
    course_start: date
    completed_on: date
    attendance: int


# Sandrine Mba completed one course, in the project's period, with seats left in it
SANDRINE = Woman(
    "IDF-MA-2014-0010",
    "Sandrine",
    "Mba",
    date(1988, 3, 30),
    "GA",
    "Cuisine et restauration",
    date(2014, 10, 13),
    date(2015, 3, 27),
    90,
)
# her second record: the family name as an officer heard it, a new phone number
MISSPELT = "Mbah"
NEW_PHONE = "+212 665 30 88 14"
SECOND_REGISTRATION = date(2014, 10, 1)
SECOND_ATTENDANCE = 85


def seed_rows(name: str, **where: str) -> list[dict[str, str]]:
    with (ROOT / "seed_data" / name).open(encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh) if all(row[k] == v for k, v in where.items())]


def test_the_demo_data_holds_the_woman_as_described():
    """Guard: the journey below relies on these facts of the seed."""
    (person,) = seed_rows("participants.csv", code=SANDRINE.code)
    assert (person["given_name"], person["family_name"]) == (SANDRINE.given, SANDRINE.family)
    assert date.fromisoformat(person["date_of_birth"]) == SANDRINE.born
    (enrolment,) = seed_rows("enrolments.csv", participant_code=SANDRINE.code)
    assert enrolment["status"] == "completed"
    assert enrolment["course_title"] == SANDRINE.course
    assert date.fromisoformat(enrolment["course_start_date"]) == SANDRINE.course_start
    assert date.fromisoformat(enrolment["completed_on"]) == SANDRINE.completed_on
    assert int(enrolment["attendance_pct"]) == SANDRINE.attendance
    (project,) = seed_rows("projects.csv", code=PROJECT)
    start, end = date.fromisoformat(project["start_date"]), date.fromisoformat(project["end_date"])
    assert start <= SECOND_REGISTRATION <= SANDRINE.completed_on <= end


# --- small helpers --------------------------------------------------------------------


def flash(page: Page) -> Locator:
    return page.locator("main p.flash")


def menu(page: Page, label: str) -> None:
    main_menu(page).get_by_role("link", name=label).click()


def exactly(text: str) -> re.Pattern:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def trained_figure(page: Page) -> int:
    """Open the dashboard (the project's whole period) and read its "trained" card."""
    with page.expect_navigation():  # from the dashboard too: a fresh one, not the one shown
        menu(page, t("Dashboard"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Dashboard"))
    card = (
        page.get_by_role("list", name=t("Headline figures"))
        .get_by_role("listitem")
        .filter(has=page.locator(".label", has_text=exactly(t("Trained"))))
    )
    expect(card).to_have_count(1)
    return int(re.sub(r"\D", "", card.locator(".value a").inner_text()))


def trained_people(page: Page) -> list[str]:
    """From the dashboard, open the people behind "trained" and return their codes.

    The figure is what one counts by hand in this list: one line per woman.
    """
    card = (
        page.get_by_role("list", name=t("Headline figures"))
        .get_by_role("listitem")
        .filter(has=page.locator(".label", has_text=exactly(t("Trained"))))
    )
    card.locator(".value a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Trained"))
    codes = [text.strip() for text in page.locator("main table tbody tr td.code").all_inner_texts()]
    expect(page.locator("main p.meta")).to_contain_text(
        tn("%(num)d person", "%(num)d people", len(codes))
    )
    assert len(codes) == len(set(codes)), "a code listed twice"
    return codes


def day(value: date, fmt: str = "medium") -> str:
    return format_date(value, format=fmt, locale="fr")


# --- the journey ------------------------------------------------------------------------


def register_the_second_record(page: Page) -> str:
    """As an officer: register the woman again, past the duplicate warning; return the code."""
    sign_in(page, "officer")
    menu(page, t("Participants"))
    page.get_by_role("link", name=t("Register a participant")).click()
    project = page.get_by_label(t("Project"))
    options = [text.strip() for text in project.locator("option").all_text_contents()]
    project.select_option(label=next(text for text in options if text.startswith(PROJECT)))
    page.get_by_label(t("Registration date")).fill(SECOND_REGISTRATION.isoformat())
    page.get_by_label(
        t("The person consents to the recording of her or his data for case management")
    ).check()
    page.get_by_label(t("Date of consent")).fill(SECOND_REGISTRATION.isoformat())
    page.get_by_label(t("Given name")).fill(SANDRINE.given)
    page.get_by_label(t("Family name")).fill(MISSPELT)
    page.get_by_label(t("Female"), exact=True).check()
    page.get_by_label(t("Date of birth")).fill(SANDRINE.born.isoformat())
    page.get_by_label(t("Nationality")).select_option(label=FR.territories[SANDRINE.nationality])
    page.get_by_label(t("Phone")).fill(NEW_PHONE)
    page.get_by_role("button", name=t("Register"), exact=True).click()
    warning = page.get_by_role("alert")
    expect(warning.get_by_role("heading")).to_have_text(t("This person may already be registered"))
    expect(warning).to_contain_text(f"{SANDRINE.code} {SANDRINE.given} {SANDRINE.family}")
    expect(warning).to_contain_text(t("same birth date"))
    # the officer does not open the existing record: she ticks the box and saves
    warning.get_by_label(t("I checked: this is a different person")).check()
    page.get_by_role("button", name=t("Register"), exact=True).click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(f"{SANDRINE.given} {MISSPELT}")
    code = heading.locator(".code").inner_text().strip()
    expect(flash(page)).to_have_text(t("%(code)s is registered.", code=code))
    assert code != SANDRINE.code
    return code


def record_the_course_again(page: Page, code: str) -> None:
    """As the officer: enrol the second record in the woman's course and record the completion."""
    menu(page, t("Trainings"))
    page.get_by_label(t("Title or sector")).fill(SANDRINE.course)
    page.get_by_role("button", name=t("Filter")).click()
    page.wait_for_url(re.compile(r"[?&]q="))
    # the course ran twice: the run she took, by its dates
    row = page.locator("main table tbody tr").filter(has_text=day(SANDRINE.course_start, "short"))
    row.get_by_role("link", name=SANDRINE.course).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(SANDRINE.course)
    expect(page.locator("dl.facts")).to_contain_text(day(SANDRINE.course_start))
    enrol = page.get_by_role("region", name=t("Enrol participants"))
    enrol.get_by_label(t("Find by name or code")).fill(code)
    enrol.get_by_role("button", name=t("Search")).click()
    page.wait_for_url(re.compile(r"[?&]q="))
    enrol = page.get_by_role("region", name=t("Enrol participants"))
    enrol.get_by_label(f"{code} {SANDRINE.given} {MISSPELT}").check()
    # after the course, the enrolment is dated its first day
    expect(enrol.get_by_label(t("Enrolment date"))).to_have_value(SANDRINE.course_start.isoformat())
    enrol.get_by_role("button", name=t("Enrol the people ticked")).click()
    # the course ended long ago: the dates are asked about, and confirmed
    enrol = page.get_by_role("region", name=t("Enrol participants"))
    enrol.get_by_label(t("I checked: the dates are right")).check()
    enrol.get_by_role("button", name=t("Enrol the people ticked")).click()
    expect(flash(page)).to_have_text(
        tn(
            "%(num)d person is enrolled: %(codes)s.",
            "%(num)d people are enrolled: %(codes)s.",
            1,
            codes=code,
        )
    )
    outcome = page.locator("details").filter(
        has=page.get_by_text(t("Record the outcome for %(code)s", code=code))
    )
    outcome.locator("summary").click()
    outcome.get_by_label(t("Completed on")).fill(SANDRINE.completed_on.isoformat())
    outcome.get_by_label(t("Attendance (%)")).first.fill(str(SECOND_ATTENDANCE))
    outcome.get_by_role("button", name=t("Completed"), exact=True).click()
    expect(flash(page)).to_have_text(t("%(code)s completed the course.", code=code))


def field_row(form: Locator, label: str) -> Locator:
    return form.locator("tbody tr").filter(has=form.page.locator("th", has_text=exactly(label)))


def test_manager_merges_a_woman_registered_twice_and_undoes_it(open_page, screenshot):
    manager = open_page(DESKTOP)
    sign_in(manager, "manager")
    before_duplicate = trained_figure(manager)

    # in the field, an officer registers Sandrine Mba a second time and records her course
    officer = open_page(DESKTOP)
    second = register_the_second_record(officer)
    record_the_course_again(officer, second)

    # the manager's dashboard now counts her twice
    first = trained_figure(manager)
    assert first == before_duplicate + 1
    people = trained_people(manager)
    assert len(people) == first
    assert {SANDRINE.code, second} <= set(people)

    # the data-quality panel names the pair
    menu(manager, t("Dashboard"))
    manager.get_by_role("link", name=t("Data quality")).click()
    expect(manager.get_by_role("heading", level=1)).to_have_text(t("Data quality"))
    duplicates = manager.locator("section#duplicates")
    expect(duplicates.get_by_role("heading", level=2)).to_contain_text(t("Likely duplicates"))
    pair = (
        duplicates.get_by_role("listitem")
        .filter(has=manager.get_by_role("link", name=SANDRINE.code, exact=True))
        .filter(has_text=second)
    )
    expect(pair).to_have_count(1)
    expect(pair).to_contain_text(t("same birth date"))
    duplicates.scroll_into_view_if_needed()
    check_page(manager, screenshot, "quality-panel")
    pair.locator("a.merge-link").click()

    # the comparison: both records side by side, the original one surviving
    expect(manager.get_by_role("heading", level=1)).to_have_text(t("Merge duplicate records"))
    form = manager.locator("form#merge-form")
    table = form.get_by_role("table", name=t("The records side by side"))
    headers = table.locator("thead th")
    expect(headers).to_have_count(3)
    expect(headers.nth(1)).to_contain_text(SANDRINE.code)
    expect(headers.nth(1)).to_contain_text(t("survives"))
    expect(headers.nth(2)).to_contain_text(second)
    expect(headers.nth(2)).to_contain_text(t("same birth date"))
    family = field_row(form, t("Family name"))
    expect(family.get_by_role("radio")).to_have_count(2)
    expect(field_row(form, t("Given name")).get_by_role("radio")).to_have_count(0)
    expect(field_row(form, t("Date of birth (or year)"))).to_contain_text(day(SANDRINE.born))
    expect(field_row(form, t("Phone")).get_by_label(NEW_PHONE)).to_be_visible()
    conflicts = form.locator("fieldset#conflicts")
    expect(conflicts.locator("legend").first).to_have_text(
        t("Enrolled more than once in the same course: keep which?")
    )
    course = conflicts.locator("fieldset").filter(has_text=SANDRINE.course)
    expect(course.locator("legend")).to_contain_text(day(SANDRINE.course_start))
    expect(course.get_by_role("radio")).to_have_count(2)
    check_page(manager, screenshot, "merge-compare-desktop")
    # on a phone too, both records side by side, each radio beside its value
    manager.set_viewport_size(PHONE)
    check_page(manager, screenshot, "merge-compare-phone")
    for shown in (headers.nth(1), headers.nth(2), *family.get_by_role("radio").all()):
        box = shown.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    manager.set_viewport_size(DESKTOP)

    # she keeps the spelling of the first record, but forgets the course at first
    family.get_by_label(SANDRINE.family, exact=True).check()
    merge = manager.get_by_role("button", name=t("Merge into %(code)s", code=SANDRINE.code))
    merge.click()
    expect(manager.locator("#merge-error")).to_have_text(
        t(
            "%(codes)s are all enrolled in %(course)s: choose the enrolment to keep.",
            codes=f"{SANDRINE.code}, {second}",
            course=SANDRINE.course,
        )
    )
    # what she chose is still chosen; she keeps the enrolment recorded at the time
    expect(family.get_by_label(SANDRINE.family, exact=True)).to_be_checked()
    course.locator("label", has_text=SANDRINE.code).get_by_role("radio").check()
    merge.click()

    # the survivor's case file lists the merge
    expect(flash(manager)).to_have_text(
        t(
            "%(codes)s merged into %(code)s. The merge can be undone below while nobody "
            "changes these records.",
            codes=second,
            code=SANDRINE.code,
        )
    )
    heading = manager.get_by_role("heading", level=1)
    expect(heading).to_contain_text(f"{SANDRINE.given} {SANDRINE.family}")
    expect(heading.locator(".code")).to_have_text(SANDRINE.code)
    merges = manager.locator("section#merges")
    expect(merges.get_by_role("heading", level=2)).to_have_text(t("Records merged into this one"))
    expect(merges.get_by_role("listitem")).to_have_count(1)
    expect(merges.get_by_role("listitem")).to_contain_text(second)
    expect(merges.get_by_role("button", name=t("Undo this merge"))).to_be_visible()
    check_page(manager, screenshot, "case-file-after-merge")
    case_file = manager.url.split("#")[0]

    # one woman, counted once
    after_merge = trained_figure(manager)
    assert after_merge == first - 1
    people = trained_people(manager)
    assert len(people) == after_merge
    assert SANDRINE.code in people
    assert second not in people

    # the manager undoes the merge from the case file: counted twice again
    manager.goto(case_file)
    merges = manager.locator("section#merges")
    merges.get_by_role("button", name=t("Undo this merge")).click()
    expect(flash(manager)).to_have_text(t("The merge is undone: every record is as it was before."))
    expect(manager.get_by_role("heading", level=1)).to_contain_text(
        f"{SANDRINE.given} {SANDRINE.family}"
    )
    expect(merges.get_by_role("button", name=t("Undo this merge"))).to_have_count(0)
    check_page(manager, screenshot, "case-file-after-undo")

    assert trained_figure(manager) == first
    people = trained_people(manager)
    assert len(people) == first
    assert {SANDRINE.code, second} <= set(people)

    # convinced, she merges them for good from the case file, where the pair is named too:
    # the demo's figures are as they were before the officer's second record
    manager.goto(case_file)
    likely = manager.locator("section#likely-duplicates").get_by_role("listitem")
    likely.filter(has_text=second).get_by_role("link", name=t("Compare and merge")).click()
    form = manager.locator("form#merge-form")
    field_row(form, t("Family name")).get_by_label(SANDRINE.family, exact=True).check()
    conflict = form.locator("fieldset#conflicts label", has_text=SANDRINE.code)
    conflict.get_by_role("radio").check()
    form.get_by_role("button", name=t("Merge into %(code)s", code=SANDRINE.code)).click()
    expect(manager.locator("section#merges").get_by_role("listitem")).to_have_count(2)
    assert trained_figure(manager) == before_duplicate
