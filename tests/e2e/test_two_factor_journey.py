"""A manager sets up two-step sign-in, then signs in with a code computed here with pyotp."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, _flask, _server_env, check_page, t

pytestmark = pytest.mark.e2e

EMAIL = "manager-2fa@e2e.example.org"
PASSWORD = "e2e two steps of a manager"


def _password_step(page) -> None:
    page.goto("/auth/login")
    page.get_by_label(t("E-mail")).fill(EMAIL)
    page.get_by_label(t("Password")).fill(PASSWORD)
    page.get_by_role("button", name=t("Sign in")).click()


def test_manager_sets_up_two_step_sign_in_and_signs_in_with_a_code(
    live_server, open_page, screenshot
):
    # an account of her own: the session's manager keeps signing in with a password alone
    _flask(
        _server_env(live_server.instance),
        "create-user",
        EMAIL,
        "--role",
        "manager",
        "--project",
        "IDF-MA-2014",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    page = open_page(DESKTOP)
    _password_step(page)
    page.get_by_role("link", name=t("Two-step sign-in")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Two-step sign-in"))
    qr = page.locator("figure.qr svg")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 150  # big enough for a phone's camera
    key = page.locator("#manual-key").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", key)
    check_page(page, screenshot, "enrolment-desktop")
    page.set_viewport_size(PHONE)
    check_page(page, screenshot, "enrolment-phone")
    page.set_viewport_size(DESKTOP)

    totp = pyotp.TOTP(key)
    page.get_by_label(t("Code")).fill(totp.now())
    page.get_by_role("button", name=t("Turn on two-step sign-in")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Two-step sign-in is on"))
    codes = page.locator("ol.recovery-codes li")
    expect(codes).to_have_count(10)
    check_page(page, screenshot, "recovery-codes-desktop")
    page.set_viewport_size(PHONE)
    check_page(page, screenshot, "recovery-codes-phone")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name=t("Sign out")).click()

    # signing in again: the password, then the code; nothing opens in between
    _password_step(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Sign-in code"))
    expect(page.get_by_role("navigation", name=t("Main menu"))).to_have_count(0)
    check_page(page, screenshot, "code-desktop")
    page.set_viewport_size(PHONE)
    check_page(page, screenshot, "code-phone")
    page.goto("/participants/")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    _password_step(page)
    page.get_by_label(t("Code")).fill("000000")
    page.get_by_role("button", name=t("Sign in")).click()
    refused = t("This code is not valid, or it was already used.")
    expect(page.locator("p.error")).to_have_text(refused)
    # the code of enrolment was used: the next time step's code (accepted: one step of drift)
    page.get_by_label(t("Code")).fill(totp.at(time.time() + 30))
    page.get_by_role("button", name=t("Sign in")).click()
    # signed in: the menu on a wide screen, its "Menu" disclosure on a phone
    signed_in = page.get_by_role("navigation", name=t("Main menu")).or_(
        page.locator("header details.header-narrow > summary")
    )
    expect(signed_in.first).to_be_visible()
    page.goto("/participants/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "/auth/" not in page.url
