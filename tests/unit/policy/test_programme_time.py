"""Programme time: calendar months from the start, shifted by every pause before them."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.policy.programme import (
    Clock,
    add_months,
    boundary_date,
    boundary_for,
    paused_days_before,
    programme_days,
    programme_month_fraction,
    programme_months,
)
from app.policy.snapshot import PauseSpan

from .conftest import MONTH_3, MONTH_6, MONTH_12, START, snap


def test_add_months_clamps_to_the_end_of_a_shorter_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 8, 31), 3) == date(2026, 11, 30)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2026, 1, 15), 24) == date(2028, 1, 15)


def test_months_complete_on_the_boundary_day() -> None:
    assert programme_months(snap(MONTH_3 - timedelta(days=1))) == 2
    assert programme_months(snap(MONTH_3)) == 3
    assert programme_months(snap(MONTH_3 + timedelta(days=1))) == 3
    assert programme_months(snap(MONTH_6)) == 6
    assert programme_months(snap(MONTH_12 - timedelta(days=1))) == 11
    assert programme_months(snap(MONTH_12)) == 12


def test_before_the_start_is_day_zero() -> None:
    early = snap(START - timedelta(days=10))
    assert programme_days(early) == 0
    assert programme_months(early) == 0


def test_boundaries_without_pauses_are_calendar_months() -> None:
    s = snap(START)
    assert boundary_date(s, 0) == START
    assert boundary_date(s, 3) == MONTH_3
    assert boundary_date(s, 6) == MONTH_6
    assert boundary_date(s, 12) == MONTH_12


def test_a_pause_moves_every_later_boundary_by_its_length() -> None:
    pause = PauseSpan(date(2026, 2, 1), date(2026, 3, 2))  # 30 days, both included
    s = snap(MONTH_3, pauses=[pause])
    assert boundary_date(s, 3) == MONTH_3 + timedelta(days=30)
    assert boundary_date(s, 6) == MONTH_6 + timedelta(days=30)
    assert boundary_date(s, 12) == MONTH_12 + timedelta(days=30)
    # On the calendar month-3 date the NQSW has not yet done 3 months of programme time.
    assert programme_months(s) == 2
    assert programme_days(s) == (MONTH_3 - START).days - 30


def test_a_pause_after_a_boundary_leaves_it_alone() -> None:
    pause = PauseSpan(date(2026, 5, 1), date(2026, 5, 10))
    s = snap(MONTH_6, pauses=[pause])
    assert boundary_date(s, 3) == MONTH_3
    assert boundary_date(s, 6) == MONTH_6 + timedelta(days=10)


def test_a_pause_starting_on_the_boundary_day_does_not_move_it() -> None:
    s = snap(MONTH_6, pauses=[PauseSpan(MONTH_3, MONTH_3 + timedelta(days=4))])
    assert boundary_date(s, 3) == MONTH_3
    assert boundary_date(s, 6) == MONTH_6 + timedelta(days=5)


def test_overlapping_pauses_count_each_day_once() -> None:
    pauses = [
        PauseSpan(date(2026, 2, 1), date(2026, 2, 10)),
        PauseSpan(date(2026, 2, 5), date(2026, 2, 20)),
    ]
    assert paused_days_before(pauses, START, MONTH_3) == 20
    assert boundary_date(snap(MONTH_3, pauses=pauses), 3) == MONTH_3 + timedelta(days=20)


def test_an_open_pause_stops_the_clock() -> None:
    pause = PauseSpan(date(2026, 3, 1), None)
    s = snap(date(2026, 9, 1), pauses=[pause])
    assert programme_days(s) == (date(2026, 3, 1) - START).days
    assert programme_months(s) == 1
    assert boundary_date(s, 1) == date(2026, 2, 15)
    assert boundary_date(s, 3) is None


def test_month_fraction_runs_linearly_between_boundaries() -> None:
    assert programme_month_fraction(snap(START)) == 0
    assert programme_month_fraction(snap(MONTH_3)) == 3
    halfway = programme_month_fraction(snap(date(2026, 5, 1)))  # 16 of 30 days into month 4
    assert 3.5 < halfway < 3.6
    clock = Clock.of(snap(MONTH_6))
    assert (clock.months, clock.fraction) == (6, 6.0)


starts = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


@settings(max_examples=200, deadline=None)
@given(
    start=starts,
    offset=st.integers(min_value=0, max_value=700),
    length=st.integers(min_value=1, max_value=400),
    months=st.sampled_from([1, 3, 6, 9, 12, 18, 24]),
)
def test_property_a_pause_of_d_days_shifts_every_later_boundary_by_d(
    start: date, offset: int, length: int, months: int
) -> None:
    pause = PauseSpan(start + timedelta(days=offset), start + timedelta(days=offset + length - 1))
    plain = boundary_for(start, (), months)
    paused = boundary_for(start, (pause,), months)
    assert plain is not None and paused is not None
    if pause.start < plain:
        assert paused - plain == timedelta(days=length)
    else:
        assert paused == plain


@settings(max_examples=100, deadline=None)
@given(
    start=starts,
    first=st.integers(min_value=0, max_value=200),
    first_len=st.integers(min_value=1, max_value=60),
    gap=st.integers(min_value=1, max_value=200),
    second_len=st.integers(min_value=1, max_value=60),
)
def test_property_separate_pauses_add_up(
    start: date, first: int, first_len: int, gap: int, second_len: int
) -> None:
    a = PauseSpan(start + timedelta(days=first), start + timedelta(days=first + first_len - 1))
    b_start = a.end + timedelta(days=gap)  # type: ignore[operator]
    b = PauseSpan(b_start, b_start + timedelta(days=second_len - 1))
    plain = boundary_for(start, (), 24)
    paused = boundary_for(start, (a, b), 24)
    assert plain is not None and paused is not None
    shifted_by_a = plain + timedelta(days=first_len)
    expected = first_len + (second_len if b.start < shifted_by_a else 0)
    assert (paused - plain).days == expected


@settings(max_examples=100, deadline=None)
@given(start=starts, days=st.integers(min_value=0, max_value=800))
def test_property_completed_months_agree_with_boundaries(start: date, days: int) -> None:
    s = snap(start + timedelta(days=days), start=start)
    months = programme_months(s)
    assert boundary_date(s, months) <= s.as_of  # type: ignore[operator]
    assert boundary_date(s, months + 1) > s.as_of  # type: ignore[operator]
