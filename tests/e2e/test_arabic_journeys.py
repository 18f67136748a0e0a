"""The officer's journey and the manager's dashboard in Arabic, right to left (issue 15).

A browser set to Arabic (``Accept-Language: ar``) gets the pages in Arabic: each is
checked for what a screen-reader user or a phone user trips over (``check_page``:
headings, labels, accessible names, no sideways scroll), mirrored (the brand at the
right, the first column of a table at the right), and photographed at 1280 and
390 px.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from babel.support import Translations
from playwright.sync_api import Browser, Page, expect

from .conftest import (
    ACCOUNTS,
    DESKTOP,
    PHONE,
    PROJECT,
    ROOT,
    BrowserTrouble,
    LiveServer,
    check_page,
    page_problems,
)
from .test_journeys import MAX_PAGES, page_kind, select_option_starting

_catalogue = Translations.load(str(ROOT / "tracker" / "translations"), ["ar"])
TODAY = date.today()
DEVICES = {"desktop": DESKTOP, "phone": PHONE}

pytestmark = pytest.mark.e2e


def ta(msgid: str, **values) -> str:
    """Return the Arabic text of ``msgid`` as the app shows it."""
    text = _catalogue.gettext(msgid)
    return text % values if values else text


@pytest.fixture
def arabic_page(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., Page]]:
    """Return ``open(viewport)``: a page in a browser whose language is Arabic."""
    contexts, trouble = [], BrowserTrouble()

    def open_(viewport: dict[str, int]) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            locale="ar",
            viewport=viewport,
            extra_http_headers={"Accept-Language": "ar,fr;q=0.5"},
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        trouble.watch(page)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not trouble.problems, "\n".join(trouble.problems)


def sign_in(page: Page, role: str) -> None:
    account = ACCOUNTS[role]
    page.goto("/auth/login")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.get_by_label(ta("E-mail")).fill(account.email)
    page.get_by_label(ta("Password")).fill(account.password)
    page.get_by_role("button", name=ta("Sign in")).click()
    # the menu on a wide screen, its "Menu" disclosure on a phone
    menu_or_toggle = page.get_by_role("navigation", name=ta("Main menu")).or_(
        page.locator("header details.header-narrow > summary")
    )
    expect(menu_or_toggle.first).to_be_visible()
    # the new page's stylesheet applied: until then a phone shows both menus (CI flake)
    page.wait_for_load_state("load")


def menu(page: Page, label: str) -> None:
    toggle = page.locator("header details.header-narrow")
    if toggle.is_visible() and toggle.get_attribute("open") is None:
        toggle.locator("summary").click()
    page.get_by_role("navigation", name=ta("Main menu")).get_by_role("link", name=label).click()


def assert_mirrored(page: Page) -> None:
    """The page is right to left: <html dir="rtl">, the brand and the heading at the right."""
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    width = page.viewport_size["width"]
    brand = page.locator("header .brand").bounding_box()
    assert brand["x"] + brand["width"] > width * 0.6, brand
    heading = page.get_by_role("heading", level=1).first
    box = heading.bounding_box()
    assert box["x"] + box["width"] > width * 0.7, box


def fill_identity(page: Page, given: str, family: str, other: str, born: date) -> None:
    registered = TODAY - timedelta(days=200)
    select_option_starting(page.get_by_label(ta("Project")), PROJECT)
    page.get_by_label(ta("Registration date")).fill(registered.isoformat())
    page.get_by_label(
        ta("The person consents to the recording of her or his data for case management")
    ).check()
    page.get_by_label(ta("Date of consent")).fill(registered.isoformat())
    page.get_by_label(ta("Given name")).fill(given)
    page.get_by_label(ta("Family name")).fill(family)
    page.get_by_label(ta("Name in the other script")).fill(other)
    page.get_by_label(ta("Male"), exact=True).check()
    page.get_by_label(ta("Date of birth")).fill(born.isoformat())
    page.get_by_label(ta("Nationality")).select_option("MAR")


@pytest.mark.parametrize("device", DEVICES)
def test_officer_registers_and_finds_a_man_named_in_arabic(arabic_page, screenshot, device):
    page = arabic_page(DEVICES[device])
    sign_in(page, "officer")
    assert_mirrored(page)
    check_page(page, screenshot, "home")

    menu(page, ta("Participants"))
    assert_mirrored(page)
    check_page(page, screenshot, "participants")
    page.get_by_role("link", name=ta("Register a participant")).click()
    check_page(page, screenshot, "register-form")
    # the name fields follow what is typed: Arabic runs right to left
    expect(page.get_by_label(ta("Given name"))).to_have_attribute("dir", "auto")
    born = date(1988, 4, 2) if device == "desktop" else date(1991, 9, 12)
    family = "العلوي" if device == "desktop" else "بنعلي"
    latin = "Mohamed Alaoui" if device == "desktop" else "Mohamed Benali"
    fill_identity(page, "محمد", family, "", born)
    page.get_by_role("button", name=ta("Register"), exact=True).click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(f"محمد {family}")
    code = heading.locator(".code").inner_text().strip()
    case_file = page.url
    # the name in its own direction, the code left to right
    expect(heading.locator("bdi")).to_have_attribute("dir", "rtl")
    assert heading.locator(".code").evaluate("e => getComputedStyle(e).direction") == "ltr"
    check_page(page, screenshot, "case-file")

    # a search in Latin letters finds him
    menu(page, ta("Participants"))
    page.get_by_label(ta("Name, code or phone")).fill("Mohammed")
    page.get_by_role("button", name=ta("Search")).click()
    expect(page.locator("main table")).to_contain_text(code)
    check_page(page, screenshot, "search-latin-finds-arabic")

    # registering him again in Latin letters: the warning names him and says why
    page.get_by_role("link", name=ta("Register a participant")).click()
    fill_identity(page, "Muhammad", latin.split()[1], "", born)
    page.get_by_role("button", name=ta("Register"), exact=True).click()
    warning = page.get_by_role("alert")
    expect(warning.get_by_role("heading")).to_have_text(ta("This person may already be registered"))
    expect(warning).to_contain_text(code)
    expect(warning).to_contain_text(ta("same birth date"))
    expect(warning).to_contain_text(ta("name %(pct)d %% (Arabic and Latin letters)", pct=100))
    check_page(page, screenshot, "duplicate-warning")

    # rather than a second record, his case file gets his name in Latin letters too
    page.goto(case_file)
    page.get_by_role("link", name=ta("Edit"), exact=True).click()
    page.get_by_label(ta("Name in the other script")).fill(latin)
    page.get_by_role("button", name=ta("Save the changes")).click()
    expect(page.locator(".other-name bdi")).to_have_text(latin)
    expect(page.locator(".other-name bdi")).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("heading", level=1).locator("bdi")).to_have_attribute("dir", "rtl")
    check_page(page, screenshot, "case-file-both-scripts")


@pytest.mark.parametrize("device", DEVICES)
def test_manager_reads_the_dashboard_in_arabic(arabic_page, screenshot, device):
    page = arabic_page(DEVICES[device])
    sign_in(page, "manager")
    menu(page, ta("Dashboard"))
    expect(page.get_by_role("heading", level=1)).to_have_text(ta("Dashboard"))
    assert_mirrored(page)
    # Western digits in the figures (docs/arabic.md)
    figures = page.get_by_role("list", name=ta("Headline figures"))
    expect(figures).to_contain_text("135")
    assert not any("\u0660" <= c <= "\u0669" for c in figures.inner_text())
    check_page(page, screenshot, "dashboard")

    card = figures.get_by_role("listitem").filter(has_text=ta("Placed in a job or an IGA"))
    card.locator(".value a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ta("Placed in a job or an IGA"))
    if device == "desktop":  # on a phone the rows are cards
        # the table's first column (the code) is at the right
        first = page.locator("main table thead th").first.bounding_box()
        last = page.locator("main table thead th").last.bounding_box()
        assert first["x"] > last["x"]
    check_page(page, screenshot, "dashboard-placed")

    menu(page, ta("Reports"))
    check_page(page, screenshot, "reports")


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_every_page_within_reach_is_right_to_left_without_sideways_scroll_on_a_phone(
    arabic_page, screenshot, live_server, role
):
    """The pages a manager (and an administrator) reach by links, in Arabic at 390 px:
    each right to left, with its accessibility basics and no sideways scroll."""
    page = arabic_page(PHONE)
    sign_in(page, role)
    site = urlsplit(live_server.url)
    queue = [page.url]
    seen, per_kind, visited, problems = set(queue), Counter(), [], {}
    while queue and len(visited) < MAX_PAGES:
        url = min(queue, key=lambda link: per_kind[page_kind(link)])
        queue.remove(url)
        if per_kind[page_kind(url)] >= 2:
            continue
        per_kind[page_kind(url)] += 1
        response = page.request.get(url)  # a file downloads instead of showing
        if response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        page.goto(url)
        visited.append(url)
        found = page_problems(page)
        if page.locator("html").get_attribute("dir") != "rtl":
            found.append("not right to left")
        if found:
            problems[url] = found
            screenshot(page, "problem-" + (urlsplit(url).path.strip("/").replace("/", "-")))
        hrefs = page.locator("main a[href], header a[href]").evaluate_all(
            "links => links.map(a => a.href)"
        )
        for href in hrefs:
            parts = urlsplit(href)
            if (parts.scheme, parts.netloc) != (site.scheme, site.netloc):
                continue
            link = parts._replace(fragment="").geturl()
            if link in seen or parts.path.startswith(("/static/", "/auth/logout")):
                continue
            seen.add(link)
            queue.append(link)
    assert len(visited) >= 25, visited
    assert not problems, problems
