"""Working days in England and Wales: weekends and bank holidays do not count."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.working_days import add_working_days, is_working_day, working_days_between


def test_weekends_and_bank_holidays_are_not_working_days() -> None:
    assert is_working_day(date(2026, 11, 23))  # a Monday
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert not is_working_day(date(2026, 12, 25))  # Christmas Day
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day (substitute Monday)
    assert not is_working_day(date(2027, 3, 29))  # Easter Monday 2027
    assert not is_working_day(date(2027, 5, 31))  # Spring bank holiday


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 23), 0, date(2026, 11, 23)),
        (date(2026, 11, 23), 5, date(2026, 11, 30)),  # Monday + 5 = next Monday
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday + 1 = Monday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Saturday + 1 = Monday
        # Christmas 2026: 25th Friday, 28th Monday (Boxing Day substitute), 1 January Friday.
        (date(2026, 12, 24), 5, date(2027, 1, 5)),
        (date(2027, 3, 25), 2, date(2027, 3, 31)),  # Thursday before Easter: Good Friday,
        # the weekend and Easter Monday are skipped
    ],
)
def test_add_working_days(start: date, days: int, expected: date) -> None:
    assert add_working_days(start, days) == expected


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), -1)


def test_working_days_between_counts_after_start_up_to_end() -> None:
    assert working_days_between(date(2026, 12, 24), date(2027, 1, 5)) == 5
    assert working_days_between(date(2026, 11, 23), date(2026, 11, 23)) == 0
    assert working_days_between(date(2026, 11, 30), date(2026, 11, 23)) == 0
    assert working_days_between(date(2026, 11, 27), date(2026, 11, 29)) == 0


def test_england_and_wales_share_one_calendar() -> None:
    for year in range(2024, 2031):
        england = set(holidays.country_holidays("GB", subdiv="ENG", years=year))
        wales = set(holidays.country_holidays("GB", subdiv="WLS", years=year))
        assert england == wales


@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    days=st.integers(min_value=0, max_value=120),
)
def test_adding_then_counting_gives_back_the_days(start: date, days: int) -> None:
    end = add_working_days(start, days)
    assert working_days_between(start, end) == days
    assert days == 0 or is_working_day(end)


@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    span=st.integers(min_value=0, max_value=400),
)
def test_counting_matches_walking_day_by_day(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    walked = sum(1 for n in range(1, span + 1) if is_working_day(start + timedelta(days=n)))
    assert working_days_between(start, end) == walked
