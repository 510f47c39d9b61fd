"""Choosing a password with a one-time link, in a real Chromium against the live server.

A new person's account is made the way an admin's request makes it (no password, a link
queued in the outbox); the test reads the link from the queued email, as the person
would from their inbox, and uses it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from app.auth import accounts
from app.auth.testing import make_staff
from app.db import make_engine, write_bind
from app.models import OutboxMessage
from app.settings import Settings
from tests.browser.conftest import Site, shot

pytestmark = pytest.mark.browser

CHOSEN = "correct horse battery staple"


def _new_account_link(site: Site) -> tuple[str, str]:
    """(email, path of the set-password link) for a new person's account."""
    engine = make_engine(site.server.database_url)
    try:
        with Session(write_bind(engine), expire_on_commit=False) as session:
            staff = make_staff(session, "social_worker", name="Bea Browser",
                               email="bea.browser@example.org")
            account = accounts.create_account(session, email=staff.email, staff_id=staff.id)
            settings = Settings(database_url=site.server.database_url,  # type: ignore[call-arg]
                                base_url=site.url)
            accounts.send_password_link(session, account, requested_by=None, settings=settings)
            session.commit()
            message = session.exec(select(OutboxMessage).where(
                OutboxMessage.to_address == staff.email).order_by(
                col(OutboxMessage.id).desc())).first()
            assert message is not None
    finally:
        engine.dispose()
    found = re.search(re.escape(site.url) + r"(/set-password/\S+)", message.text)
    assert found, message.text
    return staff.email, found.group(1)


def test_a_new_person_chooses_their_password_and_signs_in(page: Any, site: Site) -> None:
    email, path = _new_account_link(site)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your password")
    expect(page.locator("main")).to_contain_text(email)
    page.get_by_label("New password", exact=True).fill(CHOSEN)
    page.get_by_label("Confirm your new password").fill("a different passphrase")
    page.get_by_role("button", name="Set password").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("The passwords do not match")
    # The message sits beside its field, and the field says so to a screen reader.
    confirm = page.get_by_label("Confirm your new password")
    expect(confirm).to_have_attribute("aria-describedby", "confirm-password-error")
    expect(page.locator("#confirm-password-error")).to_contain_text("do not match")
    expect(page).to_have_title(re.compile(r"^Error: Choose your password"))
    shot(page, "set-password-refused")

    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Confirm your new password").fill("short")
    page.get_by_role("button", name="Set password").click()
    expect(page.locator("#password-error")).to_contain_text("at least 12 characters")

    page.get_by_label("New password", exact=True).fill(CHOSEN)
    page.get_by_label("Confirm your new password").fill(CHOSEN)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_url(re.compile(r"/login\?password_set=1$"))
    expect(page.get_by_role("alert")).to_contain_text("Your password is set")
    shot(page, "set-password-done")

    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(CHOSEN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)

    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has already been used")
    shot(page, "set-password-used")
