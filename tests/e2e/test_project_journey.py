"""An administrator starts a project, gives it a results framework with quarterly targets,
and its dashboard for one quarter weighs that quarter's figure against that quarter's target."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import check_page, sign_in, t
from .test_journeys import flash, labelled, select_option_starting

pytestmark = pytest.mark.e2e

CODE = "JOURNEY-2025"


def test_a_new_project_with_quarterly_targets_judged_on_its_quarter(page, screenshot):
    sign_in(page, "admin")
    page.goto("/admin/projects/new")
    labelled(page, t("Code")).fill(CODE)
    labelled(page, t("Title")).fill("Insertion des jeunes migrants")
    labelled(page, t("Donor")).fill("Fonds fiduciaire")
    labelled(page, t("Country")).select_option("MAR")
    labelled(page, t("Start")).fill("2025-01-01")
    labelled(page, t("End")).fill("2026-12-31")
    labelled(page, t("Reporting calendar")).select_option("quarters")
    page.get_by_role("button", name=t("Create the project")).click()
    expect(flash(page)).to_have_text(t("The project %(code)s is created.", code=CODE))

    # the targets page opens: 2 registrations in the first quarter, 8 for the project
    registered = t("Registered participants")
    page.get_by_label(f"{registered} – 2025Q1", exact=True).fill("2")
    page.get_by_label(f"{registered} – {t('Whole project')}", exact=True).fill("8")
    page.get_by_role("button", name=t("Save the targets")).click()
    expect(flash(page)).to_have_text(t("The targets of %(code)s are saved.", code=CODE))
    check_page(page, screenshot, "project-targets")

    # its results framework: one output, measured by the registrations
    page.get_by_role("link", name=t("Results framework of %(code)s", code=CODE)).click()
    labelled(page, t("Level")).select_option("output")
    labelled(page, t("Number")).fill("1.1")
    labelled(page, t("Result statement")).fill("Les jeunes migrants sont inscrits et suivis")
    page.get_by_role("button", name=t("Add the result")).click()
    expect(flash(page)).to_have_text(t("Result %(code)s added.", code="1.1"))
    labelled(page, t("Indicator")).select_option("registered")
    page.get_by_role("button", name=t("Add the indicator")).click()
    expect(flash(page)).to_have_text(t("Indicator added to result %(code)s.", code="1.1"))
    check_page(page, screenshot, "results-setup")

    # one young woman registered in February 2025
    page.goto("/participants/new")
    select_option_starting(page.get_by_label(t("Project")), CODE)
    page.get_by_label(t("Registration date")).fill("2025-02-10")
    page.get_by_label(
        t("The person consents to the recording of her or his data for case management")
    ).check()
    page.get_by_label(t("Date of consent")).fill("2025-02-10")
    page.get_by_label(t("Given name")).fill("Mariam")
    page.get_by_label(t("Family name")).fill("Keita")
    page.get_by_label(t("Female"), exact=True).check()
    page.get_by_role("button", name=t("Register"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mariam Keita")

    # the framework for the first quarter: 1 of its 2, and off track once the quarter is over
    page.goto(f"/results/{CODE}")
    page.get_by_label(t("Period shown")).select_option("2025Q1")
    page.get_by_role("button", name=t("Show"), exact=True).click()
    row = page.locator("table.results-table tbody tr").filter(has_text=registered)
    expect(row.locator("td").nth(1)).to_contain_text(re.compile(r"1\s*/\s*2"))
    expect(row).to_contain_text(t("off track"))
    check_page(page, screenshot, "results-2025Q1")

    # the dashboard of that quarter: the quarter's target, never the project's 8
    page.goto("/dashboard/")
    select_option_starting(page.get_by_label(t("Project")), CODE)
    labelled(page, t("From")).fill("2025-01-01")
    labelled(page, t("To")).fill("2025-03-31")
    page.get_by_role("button", name=t("Apply")).click()
    card = (
        page.get_by_role("list", name=t("Headline figures"))
        .get_by_role("listitem")
        .filter(has=page.locator(".label", has_text=re.compile(rf"^{re.escape(registered)}$")))
    )
    expect(card.locator(".value")).to_have_text("1")
    expect(card.locator(".target")).to_contain_text(t("target %(n)s", n="2"))
    expect(card.locator(".target")).to_contain_text(t("off track"))
    expect(card).not_to_contain_text("8")
    check_page(page, screenshot, "dashboard-2025Q1")
