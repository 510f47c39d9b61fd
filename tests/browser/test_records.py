"""Keeping an NQSW's records in a real Chromium: the diary, supervision and a pause.

Each test works on its own NQSW (Leo, Sam, Ema) so that the shared seeded server stays
true for the other browser tests whatever order they run in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, shot
from tests.browser.dates import fill_date
from tests.browser.seed import AS_OF

pytestmark = pytest.mark.browser


def test_nqsw_marks_time_taken_and_moves_a_booking(
    page: Any, sign_in: Callable[[str], Any]
) -> None:
    sign_in("leo")
    page.get_by_role("link", name="My protected time").click()
    hours = page.get_by_label("How many hours")
    # The hours question shows only under "a number of hours" (no inline script does it).
    expect(hours).to_be_hidden()
    page.get_by_label("A number of hours").check()
    expect(hours).to_be_visible()
    page.get_by_label("A full day").check()
    expect(hours).to_be_hidden()

    today = f"{AS_OF.day} {AS_OF:%B %Y}"
    fill_date(page, "Date", AS_OF.isoformat())
    page.get_by_role("button", name="Book time").click()
    page.get_by_role("button", name=f"Mark taken for {today}").click()
    expect(page.locator("#diary-done")).to_contain_text(f"Protected time on {today} marked")
    expect(page.get_by_role("row", name=re.compile(today))).to_contain_text("Taken")

    # A booking can be moved while its day is still ahead: take days ahead of the real
    # date, since the service under test runs on the real clock.
    first = working_wednesday(date.today() + timedelta(days=7))
    saturday = first + timedelta(days=3)
    later = working_wednesday(first + timedelta(days=7))
    fill_date(page, "Date", first.isoformat())
    page.get_by_label("The morning").check()
    page.get_by_role("button", name="Book time").click()
    page.get_by_role("link", name=f"Move the booking on {long_date(first)}").click()
    fill_date(page, "New date", saturday.isoformat())
    page.get_by_role("button", name="Move booking").click()
    expect(page.locator("#day-error")).to_contain_text(f"{long_date(saturday)} is a Saturday")
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    shot(page, "diary-move-refused")

    fill_date(page, "New date", later.isoformat())
    page.get_by_role("button", name="Move booking").click()
    expect(page.locator("#diary-done")).to_contain_text(f"Booking moved to {long_date(later)}")
    moved = page.get_by_role("row", name=re.compile(long_date(later)))
    expect(moved).to_contain_text("Morning")
    expect(page.locator("#diary-entries")).not_to_contain_text(long_date(first))
    shot(page, "diary-moved")


def test_manager_records_supervision_and_the_overdue_flag_goes(
    page: Any, sign_in: Callable[[str], Any]
) -> None:
    sign_in("manager")
    page.get_by_role("link", name="Sam Okafor").click()
    page.get_by_role("link", name="Supervision and reviews").click()
    expect(page.locator("#supervision-status")).to_contain_text("Overdue")
    expect(page.locator("#supervision-overdue")).to_contain_text("no session held")
    shot(page, "supervision-overdue")

    fill_date(page, "Date", AS_OF.isoformat())
    page.get_by_label("Reflective supervision").check()
    page.get_by_label("How long, in minutes").fill("")
    page.get_by_role("button", name="Record session").click()
    expect(page.locator("#minutes-error")).to_contain_text("Enter how long the session lasted")
    page.get_by_label("How long, in minutes").fill("75")
    page.get_by_role("button", name="Record session").click()

    expect(page.locator("#supervision-done")).to_contain_text("recorded")
    expect(page.locator("#supervision-status")).to_contain_text("Up to date")
    expect(page.locator("#supervision-overdue")).to_have_count(0)
    expect(page.locator("#supervision-sessions")).to_contain_text("Held")

    page.get_by_label("Which review").select_option(value="3")
    fill_date(page, "Date held", "2026-05-20")
    page.get_by_role("button", name="Record review").click()
    expect(page.get_by_role("row", name=re.compile("^3 months"))).to_contain_text("Held")
    shot(page, "supervision-up-to-date")


def test_manager_pauses_an_nqsw_and_their_booked_day_is_displaced_then_rebooked(
    page: Any, sign_in: Callable[[str], Any], site: Site
) -> None:
    sign_in("manager2")
    page.get_by_role("link", name="Ema Novak").click()
    page.get_by_role("link", name="Protected time diary").click()
    fill_date(page, "Date", "2026-12-08")
    page.get_by_role("button", name="Book time").click()
    expect(page.locator("#diary-done")).to_contain_text("booked for 8 December 2026")

    page.goto(f"/nqsws/{site.seeded.ids['ema']}/programme")
    fill_date(page, "First day of the pause", "2026-12-01")
    page.get_by_role("group", name="Why the programme pauses").get_by_label("Health").check()
    page.get_by_role("button", name="Pause the programme").click()
    expect(page.locator("#programme-status")).to_have_text("Paused")
    expect(page.locator("#programme-done")).to_contain_text("1 protected-time booking was "
                                                            "displaced")
    shot(page, "programme-paused")

    page.get_by_role("link", name="See the diary").click()
    lost = page.get_by_role("row", name=re.compile("^8 December 2026"))
    expect(lost).to_contain_text("Displaced")
    expect(lost).to_contain_text("Still to rebook")
    shot(page, "diary-displaced")

    page.goto(f"/nqsws/{site.seeded.ids['ema']}/programme")
    fill_date(page, "First day back", "2026-11-20")
    page.get_by_role("button", name="Restart the programme").click()
    expect(page.locator("#back-on-error")).to_contain_text(
        "The first day back must be after the pause started on 1 December 2026")
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    expect(page.locator("#programme-status")).to_have_text("Paused")
    shot(page, "programme-resume-refused")

    fill_date(page, "First day back", "2026-12-15")
    page.get_by_role("button", name="Restart the programme").click()
    expect(page.locator("#programme-status")).to_have_text("Active")

    page.goto(f"/nqsws/{site.seeded.ids['ema']}/diary")
    page.get_by_role("link", name="Rebook the time lost on 8 December 2026").click()
    fill_date(page, "Date", "2026-12-16")
    page.get_by_role("button", name="Rebook time").click()
    expect(page.locator("#diary-done")).to_contain_text("rebooked for 16 December 2026")
    expect(lost).to_contain_text("Rebooked for 16 December 2026")


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def working_wednesday(start: date) -> date:
    """The first Wednesday on or after `start` that is not an English bank holiday."""
    import holidays

    bank = holidays.country_holidays("GB", subdiv="ENG", years=range(start.year, start.year + 2))
    day = start + timedelta(days=(2 - start.weekday()) % 7)
    while day in bank:
        day += timedelta(days=7)
    return day
