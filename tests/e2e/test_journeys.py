"""Journeys through the app, each as a person does it: clicking, typing, reading.

A field officer follows one woman from registration to her 6-month follow-up,
on a laptop and on a phone; a viewer reads every page within reach and finds
no name; the register form is completed with the keyboard alone; a manager narrows
the dashboard to a year and opens the people behind its "placed" figure.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from babel import Locale
from babel.dates import format_date
from openpyxl import load_workbook
from playwright.sync_api import Locator, Page, expect
from pypdf import PdfReader

from .conftest import (
    ACCOUNTS,
    DESKTOP,
    PHONE,
    PROJECT,
    ROOT,
    check_page,
    main_menu,
    page_problems,
    sign_in,
    t,
    tn,
)

pytestmark = pytest.mark.e2e

TODAY = date.today()
FR = Locale.parse("fr")


def format_day(day: date) -> str:
    """A date as the French pages print it (Babel's medium format)."""
    return format_date(day, format="medium", locale="fr")


def country(alpha2: str) -> str:
    """The country's name in the nationality list (French)."""
    return FR.territories[alpha2]


def labelled(scope: Page | Locator, text: str) -> Locator:
    """The field whose label is exactly ``text`` (a required field's "*" aside)."""
    return scope.get_by_label(re.compile(rf"^\s*{re.escape(text)}(\s*\*)?\s*$"))


def flash(page: Page) -> Locator:
    return page.locator("main p.flash")


def menu(page: Page, label: str) -> None:
    """Open an entry of the main menu (through its "Menu" disclosure on a phone)."""
    main_menu(page).get_by_role("link", name=label).click()


def select_option_starting(select: Locator, prefix: str) -> None:
    """Choose the option of ``select`` whose text starts with ``prefix``."""
    expect(select).to_be_enabled()
    options = [text.strip() for text in select.locator("option").all_text_contents()]
    chosen = [text for text in options if text.startswith(prefix)]
    assert chosen, f"no option starting with {prefix!r} in {options}"
    select.select_option(label=chosen[0])


def definition(page: Page, term: str) -> Locator:
    """The <dd> that follows the <dt> ``term`` in a list of facts."""
    return page.locator("dl.facts dt", has_text=re.compile(f"^{re.escape(term)}$")).locator(
        "xpath=following-sibling::dd[1]"
    )


@dataclass(frozen=True)
class Persona:
    """The woman an officer follows, and a namesake born the same day."""

    viewport: dict[str, int]
    given: str
    family: str
    namesake_given: str
    namesake_family: str
    born: date  # 1 January: what many migrants' papers say when the day is unknown
    nationality: str  # alpha-2, shown by its French name
    phone: str
    namesake_phone: str
    course: str
    sector: str
    business: str


PERSONAS = {
    "laptop": Persona(
        DESKTOP,
        "Aïssatou",
        "N'Diaye",
        "Aissatou",
        "Ndiaye",
        date(1990, 1, 1),
        "GM",
        "+212 661 23 45 67",
        "+212 662 98 76 54",
        "Pâtisserie et viennoiserie – promotion e2e",
        "Pâtisserie",
        "Douceurs d'Aïssatou",
    ),
    "phone": Persona(
        PHONE,
        "Mariam",
        "Ouédraogo",
        "Mariame",
        "Ouedraogo",
        date(1988, 1, 1),
        "BF",
        "+212 663 11 22 33",
        "+212 664 44 55 66",
        "Couture et retouche – promotion e2e",
        "Couture",
        "Atelier Mariam Couture",
    ),
}


KEYBOARD_PERSON = ("Khadija", "Keïta")


def create_course(page: Page, persona: Persona, shot) -> None:
    """As a manager, plan a course running today (the demo's courses all ended in 2016)."""
    sign_in(page, "manager")
    menu(page, t("Trainings"))
    page.get_by_role("link", name=t("New course")).click()
    check_page(page, shot, "manager-new-course")
    select_option_starting(page.get_by_label(t("Project")), PROJECT)
    page.get_by_label(t("Title")).fill(persona.course)
    select_option_starting(page.get_by_label(t("Training provider")), "OFPPT")
    page.get_by_label(t("Sector or trade")).fill(persona.sector)
    page.get_by_label(t("Kind of course")).select_option(label=t("Vocational"))
    labelled(page, t("City")).fill("Rabat")
    page.get_by_label(t("Start date")).fill((TODAY - timedelta(days=230)).isoformat())
    page.get_by_label(t("End date")).fill((TODAY + timedelta(days=7)).isoformat())
    page.get_by_label(t("Hours of training")).fill("320")
    page.get_by_label(t("Capacity (seats)")).fill("15")
    page.get_by_role("button", name=t("Create the course")).click()
    expect(flash(page)).to_have_text(t("The course “%(title)s” is created.", title=persona.course))
    expect(page.get_by_role("heading", level=1)).to_contain_text(persona.course)


def fill_identity(page: Page, given: str, family: str, persona: Persona, phone: str) -> None:
    registered = TODAY - timedelta(days=240)
    select_option_starting(page.get_by_label(t("Project")), PROJECT)
    page.get_by_label(t("Registration date")).fill(registered.isoformat())
    page.get_by_label(
        t("The person consents to the recording of her or his data for case management")
    ).check()
    page.get_by_label(t("Date of consent")).fill(registered.isoformat())
    page.get_by_label(t("Given name")).fill(given)
    page.get_by_label(t("Family name")).fill(family)
    page.get_by_label(t("Female"), exact=True).check()
    page.get_by_label(t("Date of birth")).fill(persona.born.isoformat())
    page.get_by_label(t("Nationality")).select_option(label=country(persona.nationality))
    page.get_by_label(t("Migration status")).select_option(label=t("Regularised (2014 campaign)"))
    page.get_by_label(t("Education level")).select_option(label=t("Secondary"))
    page.get_by_label(t("Languages spoken")).fill("Français, wolof")
    page.get_by_label(t("Region of residence")).fill("Rabat-Salé-Kénitra")
    labelled(page, t("City")).fill("Rabat")
    page.get_by_label(t("Phone")).fill(phone)


@pytest.mark.parametrize("device", PERSONAS)
def test_officer_follows_a_woman_from_registration_to_her_six_month_follow_up(
    open_page, screenshot, device
):
    persona = PERSONAS[device]
    create_course(open_page(persona.viewport), persona, screenshot)

    page = open_page(persona.viewport)
    sign_in(page, "officer")
    check_page(page, screenshot, "home")

    # she registers the woman in front of her
    menu(page, t("Participants"))
    check_page(page, screenshot, "participants")
    page.get_by_role("link", name=t("Register a participant")).click()
    check_page(page, screenshot, "register-form")
    fill_identity(page, persona.given, persona.family, persona, persona.phone)
    page.get_by_role("button", name=t("Register"), exact=True).click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(f"{persona.given} {persona.family}")
    expect(page.get_by_role("alert")).to_have_count(0)  # no duplicate was suggested
    code = heading.locator(".code").inner_text().strip()
    assert re.fullmatch(rf"{PROJECT}-\d{{4}}", code), code
    expect(flash(page)).to_have_text(t("%(code)s is registered.", code=code))
    case_file = page.url
    check_page(page, screenshot, "case-file-new")

    # a namesake born the same day: the form warns before a second record is made
    menu(page, t("Participants"))
    page.get_by_role("link", name=t("Register a participant")).click()
    fill_identity(
        page, persona.namesake_given, persona.namesake_family, persona, persona.namesake_phone
    )
    page.get_by_role("button", name=t("Register"), exact=True).click()
    warning = page.get_by_role("alert")
    expect(warning.get_by_role("heading")).to_have_text(t("This person may already be registered"))
    expect(warning).to_contain_text(f"{code} {persona.given} {persona.family}")
    expect(warning).to_contain_text(t("same birth date"))
    check_page(page, screenshot, "register-duplicate-warning")
    # she opens the existing record beside the form, sees another phone number, and
    # confirms that this is a different person
    with page.context.expect_page() as opened:
        warning.get_by_role("link", name=code).click()
    existing = opened.value
    expect(existing.get_by_role("heading", level=1)).to_contain_text(code)
    expect(existing.locator("main")).to_contain_text(persona.phone)
    existing.close()
    warning.get_by_label(t("I checked: this is a different person")).check()
    page.get_by_role("button", name=t("Register"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"{persona.namesake_given} {persona.namesake_family}"
    )
    namesake = page.get_by_role("heading", level=1).locator(".code").inner_text().strip()
    assert namesake != code

    # back to the first woman: she enrols her in the course running now
    page.goto(case_file)
    page.get_by_role("link", name=t("Enrol in a course")).click()
    check_page(page, screenshot, "enrol-in-a-course")
    page.get_by_label(persona.course).check()
    enrolled_on = TODAY - timedelta(days=230)
    page.get_by_label(t("Enrolment date")).fill(enrolled_on.isoformat())
    page.get_by_role("button", name=t("Enrol"), exact=True).click()
    expect(flash(page)).to_have_text(
        t("%(code)s is enrolled in “%(title)s”.", code=code, title=persona.course)
    )

    # on the course's roster, she records that the woman completed it
    menu(page, t("Trainings"))
    check_page(page, screenshot, "trainings")
    page.get_by_role("link", name=persona.course).click()
    outcome = page.locator("details").filter(
        has=page.get_by_text(t("Record the outcome for %(code)s", code=code))
    )
    outcome.locator("summary").click()
    check_page(page, screenshot, "course-roster-outcome")
    completed_on = TODAY - timedelta(days=200)
    outcome.get_by_label(t("Completed on")).fill(completed_on.isoformat())
    outcome.get_by_label(t("Attendance (%)")).first.fill("92")
    outcome.get_by_label(t("Certificate obtained")).check()
    outcome.get_by_role("button", name=t("Completed"), exact=True).click()
    expect(flash(page)).to_have_text(t("%(code)s completed the course.", code=code))
    row = page.locator("tbody tr", has=page.get_by_role("link", name=code))
    expect(row).to_contain_text(t("Completed"))
    expect(row).to_contain_text("92")
    expect(definition(page, t("Trained"))).to_have_text("1")
    expect(definition(page, t("Still enrolled"))).to_have_text("0")
    check_page(page, screenshot, "course-after-completion")

    # from the case file, she records the business the woman started
    row.get_by_role("link", name=code).click()
    page.get_by_role("link", name=t("Record a job or an IGA")).click()
    check_page(page, screenshot, "placement-form")
    iga = t("Income-generating activity")
    page.get_by_label(iga, exact=True).check()
    page.get_by_label(t("Name of the business or employer")).fill(persona.business)
    labelled(page, t("Sector")).fill(persona.sector)
    started = TODAY - timedelta(days=190)
    page.get_by_label(t("Start date")).fill(started.isoformat())
    page.get_by_label(t("Contract type")).select_option(label=t("Self-employed"))
    # whole dirhams, typed as people say them: the field is a number input today, which
    # drops a typed decimal comma ("2150,50" is sent as 215050)
    page.get_by_label(t("Monthly income (MAD)")).press_sequentially("2 500")
    select_option_starting(page.get_by_label(t("Referred by")), "ANAPEC")
    page.get_by_label(t("Verified (contract, payslip or visit)")).check()
    page.get_by_role("button", name=t("Record the placement")).click()
    expect(flash(page)).to_have_text(t("The placement of %(code)s is recorded.", code=code))

    # six months on, she records the follow-up from the placement's page
    timeline = page.locator("ol.timeline")
    timeline.get_by_role("link", name=t("Started: %(k)s", k=iga)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(persona.business)
    expect(definition(page, t("Monthly income"))).to_have_text(re.compile(r"^2\s500\b"))
    check_page(page, screenshot, "placement")
    follow_up = page.get_by_role("region", name=t("Record a follow-up"))
    six_months = t("%(n)d-month follow-up", n=6)
    follow_up.get_by_label(t("Which follow-up")).select_option(label=six_months)
    follow_up.get_by_label(t("Date of the follow-up")).fill(TODAY.isoformat())
    follow_up.get_by_label(t("Yes, still active")).check()
    follow_up.get_by_label(t("Monthly income (MAD)")).press_sequentially("2 800")
    follow_up.get_by_label(t("Note")).fill("Vend aussi au marché du samedi.")
    follow_up.get_by_role("button", name=t("Record the follow-up")).click()
    expect(flash(page)).to_have_text(t("The %(n)d-month follow-up is recorded.", n=6))
    follow_ups = page.get_by_role("region", name=re.compile(rf"^{re.escape(t('Follow-ups'))} \("))
    expect(follow_ups.locator("tbody tr")).to_have_count(1)
    expect(follow_ups.locator("tbody tr")).to_contain_text(t("%(n)d months", n=6))
    check_page(page, screenshot, "placement-after-follow-up")

    # the case file tells her story, step by step, in order
    page.get_by_role("link", name=f"{persona.given} {persona.family}").first.click()
    steps = page.locator("ol.timeline > li")
    expect(steps.filter(has_text=six_months)).to_have_count(1)
    expected = [
        t("Registered"),
        t("Enrolled in a course"),
        t("Completed"),
        t("Started: %(k)s", k=iga),
        six_months,
    ]
    titles = [text.strip() for text in steps.locator("strong").all_inner_texts()]
    assert [title for title in titles if title in expected] == expected, titles
    expect(steps.filter(has_text=t("Completed"))).to_contain_text(persona.course)
    expect(steps.filter(has_text=six_months)).to_contain_text(persona.business)
    check_page(page, screenshot, "case-file-complete")


# --- what a viewer can reach -----------------------------------------------------------


def identities() -> list[str]:
    """What a viewer must never read: names, phones, e-mails and IGA business names.

    Those of the demo programme, and those the other journeys of this run register.
    """
    shown = []
    with (ROOT / "seed_data" / "participants.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            given, family = row["given_name"], row["family_name"]
            shown += [f"{given} {family}", f"{family} {given}", f"{family}, {given}"]
            shown += [row["phone"], row["email"]]
    with (ROOT / "seed_data" / "placements.csv").open(encoding="utf-8") as fh:
        shown += [row["business_name"] for row in csv.DictReader(fh)]
    for p in PERSONAS.values():
        shown += [f"{p.given} {p.family}", f"{p.namesake_given} {p.namesake_family}"]
        shown += [p.phone, p.namesake_phone, p.business]
    shown.append(f"{KEYBOARD_PERSON[0]} {KEYBOARD_PERSON[1]}")
    return sorted({text for text in shown if text})


def identities_in(text: str, forbidden: list[str]) -> list[str]:
    """Return the strings of ``forbidden`` that appear in ``text`` (HTML or not)."""
    flat = " ".join(html.unescape(text).split()).casefold()
    return [shown for shown in forbidden if shown.casefold() in flat]


def file_text(body: bytes, content_type: str) -> str:
    """The text of a downloaded file: a PDF's pages, a workbook's cells, or the bytes."""
    if "pdf" in content_type:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    if "spreadsheetml" in content_type:
        workbook = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(
            " ".join(str(cell) for cell in row if cell is not None)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return body.decode("utf-8", "replace")


MAX_PAGES = 60


def page_kind(url: str) -> str:
    """What kind of page a URL shows: its path with ids as N, and its arguments' names."""
    parts = urlsplit(url)
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(names)


def test_viewer_reaches_no_name_on_any_page(page, screenshot, live_server):
    """A donor's M&E viewer opens every page within reach: codes and figures, never a name."""
    people = identities()
    assert len(people) > 400
    sign_in(page, "viewer")
    site = urlsplit(live_server.url)
    start = [
        urljoin(live_server.url, href)
        for href in page.get_by_role("navigation", name=t("Main menu"))
        .get_by_role("link")
        .evaluate_all("links => links.map(a => a.getAttribute('href'))")
    ]
    queue = list(dict.fromkeys(start))
    seen = set(queue)
    per_kind = Counter()  # pages opened of each kind: the next is of the least seen kind
    visited = []
    leaks = {}
    refused = {}
    problems = {}
    while queue and len(visited) < MAX_PAGES:
        url = min(queue, key=lambda link: per_kind[page_kind(link)])
        queue.remove(url)
        per_kind[page_kind(url)] += 1
        # fetch first: a link to a file (PDF, spreadsheet) downloads instead of showing
        response = page.request.get(url)
        visited.append(url)
        if response.status != 200:
            refused[url] = response.status
            continue
        content_type = response.headers.get("content-type", "")
        if "text/html" not in content_type:
            if found := identities_in(file_text(response.body(), content_type), people):
                leaks[url] = found
            continue
        page.goto(url)
        if found := identities_in(page.content(), people):
            leaks[url] = found
        if url in start:
            screenshot(
                page, "viewer-" + (urlsplit(url).path.strip("/").replace("/", "-") or "home")
            )
        if basics := page_problems(page):
            problems[url] = basics
        hrefs = page.locator("main a[href], header a[href]").evaluate_all(
            "links => links.map(a => a.href)"
        )
        for href in hrefs:
            parts = urlsplit(href)
            if (parts.scheme, parts.netloc) != (site.scheme, site.netloc):
                continue
            link = parts._replace(fragment="").geturl()
            if link in seen or parts.path.startswith("/static/"):
                continue
            seen.add(link)
            queue.append(link)
    assert len(visited) >= 30, visited
    assert not leaks, f"names, phones or e-mails shown to a viewer: {leaks}"
    assert not refused, f"links shown to a viewer that refuse them: {refused}"
    assert not problems, f"accessibility or layout problems: {problems}"


# --- the keyboard alone ------------------------------------------------------------------


def focused_label(page: Page) -> str:
    """The label of the element that has the focus (its text, or the button's)."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el) return '';
          if (el.labels && el.labels.length) return el.labels[0].textContent.trim();
          return (el.getAttribute('aria-label') || el.textContent || '').trim();
        }"""
    )


def tab_to(page: Page, label: str, *, limit: int = 80) -> None:
    """Press Tab until the field labelled ``label`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused_label(page).startswith(label):
            return
    raise AssertionError(f"Tab never reached {label!r}")


def test_register_form_works_with_the_keyboard_alone(page, screenshot):
    """Sign in and register a person without touching the mouse."""
    page.goto("/auth/login")

    officer = ACCOUNTS["officer"]
    tab_to(page, t("E-mail"))
    page.keyboard.type(officer.email)
    page.keyboard.press("Tab")
    page.keyboard.type(officer.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("navigation", name=t("Main menu"))).to_be_visible()

    # the skip link is the first stop, and it leads to the page's content
    page.keyboard.press("Tab")
    assert focused_label(page) == t("Skip to content")
    tab_to(page, t("Participants"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Participants"))
    tab_to(page, t("Register a participant"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Register a participant"))

    # the dates are today by default; the consent box is ticked with the space bar
    tab_to(page, t("The person consents to the recording of her or his data for case management"))
    page.keyboard.press("Space")
    tab_to(page, t("Given name"))
    page.keyboard.type(KEYBOARD_PERSON[0])
    page.keyboard.press("Tab")
    page.keyboard.type(KEYBOARD_PERSON[1])
    # the name in the other script (Arabic) stays empty: one Tab passes it
    page.keyboard.press("Tab")
    assert focused_label(page) == t("Name in the other script")
    # a radio group is one Tab stop; the arrows move within it, the space bar picks
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    tab_to(page, t("Date of birth"))
    # 3 March: the same typed in a dd/mm and an mm/dd browser (the date field's order
    # follows the browser's own language, not the page's)
    page.keyboard.type("03031992")
    tab_to(page, t("Nationality"))
    page.keyboard.type(country("ML"))  # a closed list selects as one types
    tab_to(page, t("City"))
    page.keyboard.type("Salé")
    screenshot(page, "keyboard-register-filled")
    page.keyboard.press("Enter")

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(" ".join(KEYBOARD_PERSON))
    code = heading.locator(".code").inner_text().strip()
    expect(flash(page)).to_have_text(t("%(code)s is registered.", code=code))
    expect(definition(page, t("Sex"))).to_have_text(t("Female"))
    expect(definition(page, t("Nationality"))).to_have_text(country("ML"))
    expect(definition(page, t("Date of birth"))).to_have_text(format_day(date(1992, 3, 3)))
    screenshot(page, "keyboard-case-file")


# --- the manager's dashboard ------------------------------------------------------------


def placed_in_seed(start: date, end: date) -> set[str]:
    """Codes of the demo's people with a placement that started in [start, end]."""
    with (ROOT / "seed_data" / "placements.csv").open(encoding="utf-8") as fh:
        return {
            row["participant_code"]
            for row in csv.DictReader(fh)
            if row["project_code"] == PROJECT
            and start <= date.fromisoformat(row["start_date"]) <= end
        }


def test_manager_filters_the_dashboard_and_opens_the_people_behind_placed(page, screenshot):
    """A year of the programme, its "placed" figure, and the very people it counts."""
    start, end = date(2015, 1, 1), date(2015, 12, 31)
    expected = placed_in_seed(start, end)
    assert 5 < len(expected) < 41

    sign_in(page, "manager")
    menu(page, t("Dashboard"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Dashboard"))
    labelled(page, t("From")).fill(start.isoformat())
    labelled(page, t("To")).fill(end.isoformat())
    page.get_by_role("button", name=t("Apply")).click()
    expect(page.locator("main p.meta")).to_contain_text(f"{format_day(start)} – {format_day(end)}")
    check_page(page, screenshot, "dashboard-2015")

    card = (
        page.get_by_role("list", name=t("Headline figures"))
        .get_by_role("listitem")
        .filter(has_text=t("Placed in a job or an IGA"))
    )
    figure = card.locator(".value a")
    expect(figure).to_have_text(str(len(expected)))
    figure.click()

    expect(page.get_by_role("heading", level=1)).to_have_text(t("Placed in a job or an IGA"))
    expect(page.locator("main p.meta")).to_contain_text(
        tn("%(num)d person", "%(num)d people", len(expected))
    )
    # the list keeps the period it was opened with
    expect(labelled(page, t("From"))).to_have_value(start.isoformat())
    expect(labelled(page, t("To"))).to_have_value(end.isoformat())
    codes = {text.strip() for text in page.locator("main table tbody tr td.code").all_inner_texts()}
    assert codes == expected
    check_page(page, screenshot, "dashboard-placed-2015")

    # the same on a phone, on the way to a partner's office
    page.set_viewport_size(PHONE)
    check_page(page, screenshot, "dashboard-placed-2015-phone")
    page.get_by_role("main").get_by_role("link", name=t("Dashboard")).click()
    expect(page.locator("main p.meta")).to_contain_text(f"{format_day(start)} – {format_day(end)}")
    check_page(page, screenshot, "dashboard-2015-phone")


def test_manager_builds_the_donor_report_and_downloads_the_pdf(page, screenshot):
    """Pick the project, write the context, generate, download: the PDF says 135/41/11."""
    sign_in(page, "manager")
    menu(page, t("Reports"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Donor reports"))
    check_page(page, screenshot, "reports")
    page.get_by_role("button", name=t("Preview and write the narrative")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("IDF-MA-2014")
    check_page(page, screenshot, "report-preview")

    context = "Le projet pilote a accompagné des femmes migrantes régularisées vers l'emploi."
    labelled(page, t("Context")).fill(context)
    page.get_by_role("button", name=t("Save the narrative")).click()
    page.get_by_role("button", name=t("Generate and keep the PDF")).click()
    # a job makes it: its page follows it, then shows the kept report
    expect(page.get_by_role("link", name=t("Download the PDF"))).to_be_visible(timeout=60_000)
    check_page(page, screenshot, "report-generated")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=t("Download the PDF")).click()
    pdf = PdfReader(download_info.value.path())
    text = "\n".join(p.extract_text(extraction_mode="layout") for p in pdf.pages)
    rows = {}
    for line in text.splitlines():
        for label in (t("Trained"), t("Placed in a job or an IGA"), t("Institutions strengthened")):
            rest = line.strip()[len(label) :].split() if line.strip().startswith(label) else []
            if rest and rest[0].isdigit():
                rows.setdefault(label, rest[0])
    assert rows[t("Trained")] == "135"
    assert rows[t("Placed in a job or an IGA")] == "41"
    assert rows[t("Institutions strengthened")] == "11"
    assert "accompagné des femmes migrantes" in " ".join(text.split())
