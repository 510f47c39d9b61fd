"""Setting up a second factor and signing in with it, in a real Chromium against the live
server: the codes are made from the secret the page shows, as an authenticator app would."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from app.auth import accounts
from app.auth.testing import make_staff
from app.db import make_engine, write_bind
from tests.browser.conftest import Site, shot

pytestmark = [pytest.mark.browser, pytest.mark.only_backend("sqlite")]

PASSWORD = "a long enough passphrase"
EMAIL = "tess.totp@example.org"


def _person(site: Site) -> None:
    engine = make_engine(site.server.database_url)
    try:
        with Session(write_bind(engine), expire_on_commit=False) as session:
            staff = make_staff(session, "team_manager", name="Tess Totp", email=EMAIL)
            accounts.create_account(session, email=EMAIL, staff_id=staff.id, password=PASSWORD)
            session.commit()
    finally:
        engine.dispose()


def _password(page: Any) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_set_up_sign_out_and_sign_in_with_a_code(page: Any, site: Site) -> None:
    _person(site)
    _password(page)
    page.wait_for_url(lambda u: "/login" not in u)

    page.goto("/second-factor")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up a second factor")
    secret = page.locator("#secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    shot(page, "second-factor-set-up")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    page.get_by_label("Code from your authenticator app").fill(totp.now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Second factor set up")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    shot(page, "second-factor-recovery-codes")
    page.get_by_role("link", name="Continue").click()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login\?signed_out=1$"))
    _password(page)
    page.wait_for_url(re.compile(r"/login/code"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    shot(page, "second-factor-code")
    # The step after the one used at set-up: an app a little ahead of the server's clock.
    page.get_by_label("Code").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(lambda u: "/login" not in u)
    page.goto("/second-factor")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your second factor")
