"""What people do on the pages, in a real Chromium against a running server."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, shot
from tests.browser.dates import date_group, fill_date

pytestmark = pytest.mark.browser


def test_manager_sees_the_what_if_before_allocating(
    page: Any, sign_in: Callable[[str], Any], site: Site
) -> None:
    sign_in("manager")
    shot(page, "home-team-manager")
    page.get_by_role("link", name="Sam Okafor").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sam Okafor")
    shot(page, "nqsw-page")
    page.get_by_role("link", name="Allocate a case to Sam Okafor").click()

    spare = site.seeded.spare_cases[0]
    page.get_by_label("Case reference").fill(spare)
    verdict = page.locator("#whatif-result")
    # The warning shows while the manager is still choosing: nothing has been submitted.
    expect(verdict).to_have_attribute("data-outcome", "warn")
    expect(verdict).to_contain_text("16 cases would exceed the cap of 15")
    assert "/allocate" in page.url and "allocated=" not in page.url
    shot(page, "allocate-warning")

    # Going beyond a limit needs a reason: asked for beside its question, nothing written.
    page.get_by_role("button", name="Allocate case").click()
    expect(page.locator("#reason-error")).to_contain_text("Give a reason for going beyond")
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    expect(page.get_by_label("Case reference")).to_have_value(spare)
    expect(verdict).to_have_attribute("data-outcome", "warn")
    shot(page, "allocate-reason-missing")

    page.get_by_label("Worker", exact=True).select_option(label="Nia Patel")
    expect(verdict).to_have_attribute("data-outcome", "ok")
    expect(verdict).to_contain_text("No rule is broken")
    page.get_by_role("button", name="Allocate case").click()

    expect(page.locator("#allocated-banner")).to_contain_text(f"Case {spare} allocated to Nia")
    expect(page.get_by_role("row", name=re.compile(spare))).to_be_visible()
    shot(page, "allocated")


def test_nqsw_is_told_beside_the_date_that_a_bank_holiday_cannot_be_booked(
    page: Any, sign_in: Callable[[str], Any]
) -> None:
    sign_in("nia")
    page.get_by_role("link", name="My protected time").click()
    fill_date(page, "Date", "2026-12-25")
    page.get_by_role("button", name="Book time").click()

    error = page.locator("#day-error")
    expect(error).to_contain_text("bank holiday (Christmas Day)")
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    typed = date_group(page, "Date")
    for part, value in (("Day", "25"), ("Month", "12"), ("Year", "2026")):
        expect(typed.get_by_label(part, exact=True)).to_have_value(value)
    shot(page, "diary-refused")

    fill_date(page, "Date", "2026-12-02")
    page.get_by_role("button", name="Book time").click()
    expect(page.locator("#diary-done")).to_contain_text("Protected time booked for 2 December 2026")
    expect(page.locator("#diary-entries")).to_contain_text("2 December 2026")


def test_coordinator_filters_the_breach_dashboard(
    page: Any, sign_in: Callable[[str], Any]
) -> None:
    sign_in("coordinator")
    expect(page.get_by_role("heading", level=1)).to_have_text("Breach dashboard")
    rows = page.locator("#breach-table tbody tr")
    everyone = rows.count()
    assert everyone > 1
    shot(page, "dashboard")

    page.get_by_label("Rule").select_option(label="Cases by stage of the programme")
    expect(page).to_have_url(re.compile(r"rule=stage-caps%2Fcaseload-cap"))
    # Leo's cap breach is there; other journeys sharing this server may add their own.
    expect(rows.filter(has_text="Leo Brennan")).to_have_count(1)
    assert rows.count() < everyone
    expect(page.locator("#team-rule-counts")).to_contain_text("Riverside Assessment")
    shot(page, "dashboard-filtered")

    export = page.get_by_role("link", name="Download these breaches as CSV").get_attribute("href")
    csv = page.request.get(export)
    assert csv.ok and csv.headers["content-type"].startswith("text/csv")
    assert "Leo Brennan" in csv.text() and "Sam Okafor" not in csv.text()

    rows.first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases by stage of the programme")
    expect(page.locator("#breach-history")).to_contain_text("Opened")


def test_manager_acknowledges_a_breach_with_a_note(
    page: Any, sign_in: Callable[[str], Any]
) -> None:
    sign_in("manager")
    page.goto("/breaches?rule=stage-caps/caseload-cap")
    page.locator("#breach-table tbody tr").first.get_by_role("link").first.click()
    page.get_by_role("button", name="Acknowledge breach").click()
    expect(page.locator("#note-error")).to_contain_text("Enter a note")
    shot(page, "breach-note-missing")
    page.get_by_label("Note").fill("Two cases move to Alan Price on Friday.")
    page.get_by_role("button", name="Acknowledge breach").click()
    expect(page.locator("#breach-status")).to_have_text("Acknowledged")
    expect(page.locator("#breach-history")).to_contain_text("Two cases move to Alan Price")
    shot(page, "breach-acknowledged")


def test_keyboard_reaches_the_main_content_through_the_skip_link(
    page: Any, sign_in: Callable[[str], Any]
) -> None:
    sign_in("manager")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()
    page.keyboard.press("Tab")
    inside = page.evaluate(
        "() => document.getElementById('main-content').contains(document.activeElement)"
    )
    assert inside, "the next tab stop after the skip link is inside the main content"


def test_signing_out_ends_the_session(page: Any, sign_in: Callable[[str], Any]) -> None:
    sign_in("senior")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto("/breaches")
    expect(page).to_have_url(re.compile(r"/login\?next=/breaches"))
