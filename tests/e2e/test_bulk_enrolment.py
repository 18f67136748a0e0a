"""A manager on a phone creates a course with two seats and ticks three people: the page
counts them live, the submit button stays in reach, and the two who fit are enrolled
while the third is left out with the reason."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, check_page, sign_in, t, tn

pytestmark = pytest.mark.e2e

TITLE = "Boulangerie (comptage en direct)"


def test_the_ticked_are_counted_live_and_those_who_fit_are_enrolled(open_page, screenshot):
    page = open_page(PHONE)
    sign_in(page, "manager")
    page.goto("/trainings/new")
    page.get_by_label(t("Title")).fill(TITLE)
    provider = page.get_by_label(t("Training provider"))
    provider.select_option(index=1)
    page.get_by_label(t("Sector or trade")).fill("Restauration")
    page.get_by_label(t("Kind of course")).select_option("vocational")
    page.get_by_label(t("Start date")).fill("2016-01-04")
    page.get_by_label(t("End date")).fill("2016-06-30")
    page.get_by_label(t("Capacity (seats)")).fill("2")
    page.get_by_role("button", name=t("Create the course")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)

    enrol = page.get_by_role("region", name=t("Enrol participants"))
    expect(enrol).to_contain_text(tn("%(num)d seat left", "%(num)d seats left", 2))
    enrol.locator("details > summary").click()
    boxes = enrol.locator('input[name="participant_ids"]')
    assert boxes.count() > 20  # a long list: the submit bar must stay in reach
    count = enrol.locator(".tick-count")
    expect(count).to_have_text(tn("%(num)s person ticked", "%(num)s people ticked", 0))
    codes = []
    for i in range(3):
        boxes.nth(i).check()
        codes.append(boxes.nth(i).get_attribute("id"))
    expected = tn("%(num)s person ticked", "%(num)s people ticked", 3) + " · "
    expected += t("only %(left)s seats left: the others will be left out", left="2")
    expect(count).to_have_text(expected)
    boxes.nth(2).uncheck()
    expect(count).to_have_text(tn("%(num)s person ticked", "%(num)s people ticked", 2))
    boxes.nth(2).check()
    # halfway down the list, the bar with the count and the button is on the screen
    boxes.nth(15).scroll_into_view_if_needed()
    bar = enrol.locator(".enrol-bar")
    expect(bar).to_be_in_viewport()
    box = bar.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"] + 1 and box["height"] < 160, box
    check_page(page, screenshot, "bulk-enrolment-ticked-phone")

    labels = [enrol.locator(f'label[for="{pick}"] .code').inner_text() for pick in codes]
    bar.get_by_role("button", name=t("Enrol the people ticked")).click()
    # the course ended long ago: the dates are asked about, and confirmed (the ticks stay)
    page.get_by_label(t("I checked: the dates are right")).check()
    page.locator(".enrol-bar").get_by_role("button", name=t("Enrol the people ticked")).click()
    flashes = page.locator("main p.flash")
    expect(flashes.first).to_contain_text(
        tn("%(num)d person is enrolled: %(codes)s.", "%(num)d people are enrolled: %(codes)s.", 2,
           codes=", ".join(labels[:2]))
    )  # fmt: skip
    expect(page.locator("main")).to_contain_text(
        tn("%(num)d person was left out:", "%(num)d people were left out:", 1)
    )
    reason = t("no place left (capacity %(capacity)d)", capacity=2)
    left_out = flashes.filter(has_text=re.compile(re.escape(f"{labels[2]}: {reason}")))
    expect(left_out).to_have_count(1)
    expect(page.get_by_role("region", name=t("Enrol participants"))).to_contain_text(
        t("The course is full: nobody more can be enrolled.")
    )
    check_page(page, screenshot, "bulk-enrolment-done-phone")
