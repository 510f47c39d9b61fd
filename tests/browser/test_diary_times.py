"""The diary's times of day and lapsed bookings, and a weekend supervision session, in a
real Chromium. The service runs on the real clock, so the days are taken from today: a
working day three weeks ahead (the other browser tests book nearer days) and the last
working day before today.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import holidays
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.dates import fill_date

pytestmark = pytest.mark.browser


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _last_working_day_before(today: date) -> date:
    """The most recent weekday before today that is not a bank holiday (the pages act on
    the server's real today)."""
    names = _bank_holidays(today)
    day = today - timedelta(days=1)
    while day.weekday() >= 5 or day in names:
        day -= timedelta(days=1)
    return day


def _bank_holidays(today: date) -> Any:
    return holidays.country_holidays("GB", subdiv="ENG", years=range(today.year - 1,
                                                                     today.year + 2))


def _working_day_ahead(today: date, days: int = 21) -> date:
    """The first weekday at least `days` ahead that is not a bank holiday."""
    names = _bank_holidays(today)
    day = today + timedelta(days=days)
    while day.weekday() >= 5 or day in names:
        day += timedelta(days=1)
    return day


def test_half_days_show_their_hours_and_past_bookings_lapse(
    page: Any, sign_in: Callable[[str], Any]
) -> None:
    sign_in("nia")
    page.get_by_role("link", name="My protected time").click()
    ahead = _working_day_ahead(date.today())
    fill_date(page, "Date", ahead.isoformat())
    page.get_by_label("The morning").check()
    page.get_by_role("button", name="Book time").click()
    expect(page.locator("#diary-done")).to_contain_text(f"booked for {_long(ahead)}")
    morning = page.get_by_role("row", name=re.compile(f"^{_long(ahead)}"))
    expect(morning).to_contain_text("Morning 09:00 to 13:00")
    # A booking ahead can be moved.
    expect(morning.get_by_role("link", name=re.compile("^Move"))).to_be_visible()

    past = _last_working_day_before(date.today())
    if past < date(2026, 9, 1):  # Nia's programme starts on 1 September 2026
        pytest.skip("no working day of Nia's programme has passed yet")
    fill_date(page, "Date", past.isoformat())
    page.get_by_label("The afternoon").check()
    page.get_by_role("button", name="Book time").click()
    expect(page.locator("#diary-done")).to_contain_text(f"booked for {_long(past)}")
    lapsed = page.get_by_role("row", name=re.compile(f"^{_long(past)}"))
    expect(lapsed).to_contain_text("Afternoon 13:00 to 17:00")
    expect(lapsed).to_contain_text("Not marked taken")
    # Time that has happened is marked taken, not moved.
    expect(lapsed.get_by_role("link", name=re.compile("^Move"))).to_have_count(0)
    expect(lapsed.get_by_role("button", name=re.compile("^Mark taken"))).to_be_visible()
    expect(page.locator("#protected-lapsed")).to_contain_text("never marked taken")
    expect(page.locator("#protected-figures")).to_contain_text("Past, not marked taken")
    shot(page, "diary-times-and-lapsed")

    lapsed.get_by_role("button", name=re.compile("^Mark taken")).click()
    expect(page.locator("#diary-done")).to_contain_text("marked as taken")
    expect(page.locator("#protected-lapsed")).to_have_count(0)


def test_a_weekend_session_is_checked_then_confirmed(
    page: Any, sign_in: Callable[[str], Any]
) -> None:
    sign_in("manager")
    page.get_by_role("link", name="Nia Patel").click()
    page.get_by_role("link", name="Supervision and reviews").click()
    ahead = _working_day_ahead(date.today())
    saturday = ahead + timedelta(days=(5 - ahead.weekday()) % 7)
    fill_date(page, "Date", saturday.isoformat())
    page.get_by_label("Reflective supervision").check()
    page.get_by_role("button", name="Record session").click()
    error = page.locator("#day-error")
    expect(error).to_contain_text(f"{_long(saturday)} is a Saturday: check the date, or tick")
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    shot(page, "supervision-weekend-refused")

    page.get_by_label("This session really is on that day").check()
    page.get_by_role("button", name="Record session").click()
    expect(page.locator("#supervision-done")).to_contain_text(
        f"Supervision session on {_long(saturday)} recorded")
    expect(page.locator("#supervision-sessions")).to_contain_text(_long(saturday))
    shot(page, "supervision-weekend-recorded")
