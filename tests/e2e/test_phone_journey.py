"""The officer's and the manager's pages on a 390 px phone, and the menu on a wide screen.

Lists are cards (the name first, then the code), a follow-up due is one tap from the
placements list and from the top of the case file, forms open on a summary of their
errors that leads to each field, and the dashboard's charts fit a phone's card with
text of 12 px at least. No page scrolls sideways (``check_page``).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, check_page, main_menu, sign_in, t

pytestmark = pytest.mark.e2e


def test_officer_on_a_phone_lists_cards_and_reaches_a_follow_up_due(open_page, screenshot):
    page = open_page(PHONE)
    sign_in(page, "officer")

    # the menu: a disclosure that works with the keyboard, closed again after use
    toggle = page.locator("header details.header-narrow > summary")
    toggle.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("navigation", name=t("Main menu"))
    expect(menu.get_by_role("link", name=t("Participants"))).to_be_visible()
    check_page(page, screenshot, "menu-open-phone")
    menu.get_by_role("link", name=t("Participants")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Participants"))
    expect(page.get_by_role("navigation", name=t("Main menu"))).to_be_hidden()

    # one card per person: her name first (the link), her code under it
    card = page.locator("table.list.stack tbody tr").first
    title = card.locator("td").nth(0)
    code = card.locator("td").nth(1)
    assert title.bounding_box()["y"] < code.bounding_box()["y"]
    expect(code).to_have_text(re.compile(r"^\s*IDF-MA-2014-\d{4}"))
    expect(title.get_by_role("link")).to_be_visible()
    assert card.bounding_box()["width"] <= PHONE["width"] - 2 * 16 + 1
    check_page(page, screenshot, "participants-phone")

    # the placements that wait for a follow-up: the tag on the card opens its form
    main_menu(page).get_by_role("link", name=t("Placements")).click()
    page.locator("main .page-head a[href*='due=y']").click()  # "N placements wait for…"
    expect(page.get_by_label(t("Follow-up due only"))).to_be_checked()
    card = page.locator("table.list.stack tbody tr").first
    due = card.locator("a.tag.due").first
    expect(due).to_be_visible()
    months = int(re.search(r"\d+", due.inner_text()).group(0))
    assert due.bounding_box()["height"] >= 44
    person = card.locator("td.stack-title a").inner_text()
    check_page(page, screenshot, "placements-due-phone")

    # her case file opens on what is to do: the follow-up due first, on the first screen
    card.locator("td.stack-title a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(person)
    actions = page.get_by_role("navigation", name=t("Actions"))
    first = actions.get_by_role("link").first
    expect(first).to_contain_text(t("Record the %(n)d-month follow-up", n=months))
    box = first.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"] and box["height"] >= 44, box
    expect(actions.get_by_role("link", name=t("Enrol in a course"))).to_be_visible()
    expect(actions).not_to_contain_text(t("Archive the case file"))
    check_page(page, screenshot, "case-file-phone")
    first.click()
    form = page.get_by_role("region", name=t("Record a follow-up"))
    expect(form.get_by_label(t("Which follow-up"))).to_have_value(str(months))


def test_a_form_opens_on_its_errors_each_a_link_to_its_field(open_page, screenshot):
    page = open_page(PHONE)
    sign_in(page, "officer")
    page.goto("/participants/new")
    page.get_by_role("button", name=t("Register")).click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # read first, without a script
    expect(summary).to_have_attribute("role", "alert")
    check_page(page, screenshot, "register-errors-phone")
    links = summary.get_by_role("link")
    assert links.count() >= 3
    for i in range(links.count()):
        link = links.nth(i)
        target = link.get_attribute("href").removeprefix("#")
        link.click()
        focused = page.evaluate("document.activeElement && document.activeElement.id")
        assert focused == target, (link.inner_text(), focused)
        expect(page.locator(f"#{target}")).to_be_in_viewport()
        summary.scroll_into_view_if_needed()


def test_the_whole_menu_shows_on_a_wide_screen_in_french(open_page, screenshot):
    page = open_page(DESKTOP | {"width": 1280, "height": 800})
    sign_in(page, "admin")
    menu = page.get_by_role("navigation", name=t("Main menu"))
    audit = menu.get_by_role("link", name=t("Audit log"))
    expect(audit).to_be_visible()
    box = audit.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1280, box
    for link in menu.get_by_role("link").all():
        box = link.bounding_box()
        assert box["x"] + box["width"] <= 1280, (link.inner_text(), box)
    check_page(page, screenshot, "menu-admin-1280")


def test_manager_reads_the_dashboard_charts_on_a_phone(open_page, screenshot):
    page = open_page(PHONE)
    sign_in(page, "manager")
    page.goto("/dashboard/")
    charts = page.locator("section.chart svg[role=img]")
    expect(charts).to_have_count(2)
    for i in range(2):
        chart = charts.nth(i)
        card = chart.locator("xpath=ancestor::section[1]").bounding_box()
        box = chart.bounding_box()
        assert card["width"] <= 358 and box["x"] + box["width"] <= card["x"] + card["width"], box
        # the drawn size of the smallest text: its font size times the chart's scale
        smallest = chart.evaluate(
            """svg => {
              const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
              const sizes = [...svg.querySelectorAll('text')].map(
                (t) => parseFloat(getComputedStyle(t).fontSize) * scale);
              return Math.min(...sizes);
            }"""
        )
        assert smallest >= 12, smallest
    expect(page.locator("svg.bar").first).to_be_visible()
    check_page(page, screenshot, "dashboard-phone")
    page.locator("ul.cards .card .value a").first.click()
    expect(page.locator("table.list.stack tbody tr").first).to_be_visible()
    check_page(page, screenshot, "drill-down-phone")
