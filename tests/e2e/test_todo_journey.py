"""An officer on a phone opens the app, taps the first overdue follow-up and records it."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, check_page, sign_in, t

pytestmark = pytest.mark.e2e

#: the header on a 390x844 phone: the brand and a "Menu" button of 44 px (2.75rem), with
#: 4 px above and below. 64 px leaves room for a larger system font and stays under 8 % of
#: the screen; the header took 241-283 px (a third of the screen) with the menu spread out.
PHONE_HEADER_MAX = 64


def test_officer_records_an_overdue_follow_up_from_the_home_page_in_one_tap(open_page, screenshot):
    page = open_page(PHONE)
    sign_in(page, "officer")
    todo = page.get_by_role("region", name=t("To do"))
    expect(todo).to_be_visible()
    header = page.locator("header.top").bounding_box()
    assert header["height"] <= PHONE_HEADER_MAX, header
    overdue = page.get_by_role("region", name=re.compile(rf"^{re.escape(t('Follow-ups overdue'))}"))
    count = int(re.search(r"\((\d+)\)", overdue.get_by_role("heading").inner_text()).group(1))
    assert count > 0  # the demo programme has 12-month follow-ups never recorded
    first = overdue.locator("li.todo-item").first
    person = first.locator(".todo-person strong").inner_text()
    code = first.locator(".todo-person .code").inner_text()
    months = int(re.search(r"\d+", first.locator(".todo-what").inner_text()).group(0))
    action = first.get_by_role("link", name=t("Record the follow-up"))
    # a big tap target, on the first screen: one tap, no scrolling
    box = action.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 0.7 * PHONE["width"], box
    assert box["y"] + box["height"] <= PHONE["height"], box
    check_page(page, screenshot, "home-phone")

    action.click()  # the one tap
    expect(page.get_by_role("heading", level=1)).to_contain_text(code)
    form = page.get_by_role("region", name=t("Record a follow-up"))
    which = form.get_by_label(t("Which follow-up"))
    expect(which).to_have_value(str(months))
    expect(form.get_by_label(t("Date of the follow-up"))).to_have_value(date.today().isoformat())
    expect(form).to_be_in_viewport()
    check_page(page, screenshot, "follow-up-form-phone")
    form.get_by_label(t("Yes, still active")).check()
    form.get_by_role("button", name=t("Record the follow-up")).click()
    expect(page.locator("main p.flash")).to_have_text(
        t("The %(n)d-month follow-up is recorded.", n=months)
    )

    page.get_by_role("link", name="tracker", exact=True).click()
    overdue = page.get_by_role("region", name=re.compile(rf"^{re.escape(t('Follow-ups overdue'))}"))
    if count > 1:
        expect(overdue.get_by_role("heading")).to_contain_text(f"({count - 1})")
        still_listed = overdue.locator("li.todo-item", has_text=code).filter(
            has_text=t("%(n)d-month follow-up", n=months)
        )
        expect(still_listed).to_have_count(0)
    else:
        expect(overdue).to_have_count(0)
    assert person  # her name came first on the card
    check_page(page, screenshot, "home-phone-after")
