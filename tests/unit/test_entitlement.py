"""Protected-time entitlement: the sum, part-time, pauses, bank holidays, accrual to date."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.policy.entitlement import (
    HoursPeriod,
    Ledger,
    Programme,
    Terms,
    accrued_entitlement,
    add_working_days,
    count_days,
    day_hours,
    entitlement_between,
    programme_entitlement,
    year_span,
)
from app.policy.programme import boundary_for
from app.policy.snapshot import PauseSpan

START = date(2026, 9, 1)  # a Tuesday
DAY = timedelta(days=1)


def bank_holidays(first_year: int = 2025, last_year: int = 2030) -> frozenset[date]:
    """England and Wales (the ENG subdivision of GB; WLS has the same bank holidays)."""
    return frozenset(
        holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    )


BH = bank_holidays()


def full_time(**kwargs: object) -> Programme:
    values: dict[str, object] = {"start": START, "months": 12}
    values.update(kwargs)
    return Programme(**values)  # type: ignore[arg-type]


def test_england_and_wales_share_bank_holidays() -> None:
    eng = holidays.country_holidays("GB", subdiv="ENG", years=2027)
    wls = holidays.country_holidays("GB", subdiv="WLS", years=2027)
    sct = holidays.country_holidays("GB", subdiv="SCT", years=2027)
    assert set(eng) == set(wls)
    assert set(eng) != set(sct)


def test_full_time_twelve_months_lands_at_22_to_24_days() -> None:
    result = programme_entitlement(full_time(), holidays_=BH)
    working = result.working()
    assert working["first_day"] == "2026-09-01"
    assert working["last_day"] == "2027-08-31"
    assert working["weekdays"] == 261
    assert working["bank_holidays_excluded"] == 8
    assert working["paused_days_excluded"] == 0
    assert working["working_days"] == 253
    assert working["hours_per_working_day"] == pytest.approx(7.4)
    assert working["day_hours"] == pytest.approx(7.4)
    assert working["percent"] == 0.10
    # (253 - 26 x 253/252.89) x 7.4 x 10%
    assert result.hours == pytest.approx(167.97, abs=0.01)
    assert 22 <= result.in_days <= 24
    assert "253 working days" in working["sum"]


def test_without_leave_it_is_ten_percent_of_every_working_day() -> None:
    result = programme_entitlement(full_time(), holidays_=BH,
                                   terms=Terms(percent=0.1, annual_leave_days=0))
    assert result.hours == pytest.approx(253 * 7.4 * 0.1)


def test_part_time_is_pro_rata_and_counted_in_full_time_days() -> None:
    """0.6 FTE of a 37-hour post is 22.2 contracted hours: 60% of the hours, 60% of the days.

    A protected *day* stays a full-time day (7.4 h), so the part-timer is owed fewer
    days of the same length rather than the same number of shorter days.
    """
    ft = programme_entitlement(full_time(), holidays_=BH)
    pt = programme_entitlement(full_time(contracted_hours=22.2, fte=0.6), holidays_=BH)
    assert pt.hours == pytest.approx(ft.hours * 0.6)
    assert pt.day_hours == pytest.approx(7.4)
    assert pt.in_days == pytest.approx(ft.in_days * 0.6)
    assert pt.working()["hours_per_working_day"] == pytest.approx(4.44)
    assert day_hours(22.2, 0.6) == pytest.approx(7.4)
    assert day_hours(37, 1) == pytest.approx(7.4)


def test_swip_is_two_programme_years() -> None:
    swip = programme_entitlement(full_time(months=24), holidays_=BH)
    asye = programme_entitlement(full_time(), holidays_=BH)
    assert swip.hours == pytest.approx(2 * asye.hours, rel=0.01)
    assert year_span(full_time(months=24), date(2027, 10, 1)) == (
        1, date(2027, 9, 1), date(2028, 8, 31)
    )
    assert year_span(full_time(months=24), date(2026, 10, 1)) == (
        0, date(2026, 9, 1), date(2027, 8, 31)
    )


def test_accrued_to_date_and_remaining() -> None:
    programme = full_time()
    whole = programme_entitlement(programme, holidays_=BH)
    first_day = accrued_entitlement(programme, START, holidays_=BH)
    assert first_day.days.working == 1
    assert accrued_entitlement(programme, START - DAY, holidays_=BH).hours == 0
    # The last day, and any day after the programme, have accrued the whole entitlement.
    last = accrued_entitlement(programme, date(2027, 8, 31), holidays_=BH)
    assert last.hours == pytest.approx(whole.hours)
    assert accrued_entitlement(programme, date(2028, 1, 1), holidays_=BH).hours == (
        pytest.approx(whole.hours)
    )
    # Christmas week 2026: Friday 25 and Monday 28 (Boxing Day observed) earn nothing.
    before = accrued_entitlement(programme, date(2026, 12, 24), holidays_=BH)
    after = accrued_entitlement(programme, date(2026, 12, 28), holidays_=BH)
    assert after.days.working == before.days.working
    assert after.days.bank_holidays == before.days.bank_holidays + 2


def test_a_bank_holiday_inside_a_week_earns_nothing() -> None:
    # Easter 2027: Good Friday 26 March, Easter Monday 29 March.
    week = count_days(date(2027, 3, 29), date(2027, 4, 2), holidays_=BH)
    assert (week.weekdays, week.bank_holidays, week.working) == (5, 1, 4)
    programme = full_time()
    that_week = entitlement_between(programme, date(2027, 3, 29), date(2027, 4, 4),
                                    holidays_=BH, terms=Terms(annual_leave_days=0))
    assert that_week.hours == pytest.approx(4 * 0.74)


def test_a_maternity_pause_across_the_six_month_boundary() -> None:
    """A pause stops the clock: nothing accrues while paused, and the end moves later."""
    start = date(2026, 1, 15)
    pause = PauseSpan(start=date(2026, 6, 1), end=date(2026, 9, 30), reason="maternity")
    paused = Programme(start=start, months=12, pauses=(pause,))
    plain = Programme(start=start, months=12)
    length = (pause.end - pause.start).days + 1  # type: ignore[operator]
    assert boundary_for(start, (pause,), 6) == date(2026, 7, 15) + timedelta(days=length)
    assert paused.last_day() == plain.last_day() + timedelta(days=length)
    during = [accrued_entitlement(paused, d, holidays_=BH).hours
              for d in (date(2026, 5, 29), date(2026, 7, 15), date(2026, 9, 30))]
    assert during[0] == pytest.approx(during[1]) == pytest.approx(during[2])
    whole = programme_entitlement(paused, holidays_=BH)
    pause_days = count_days(pause.start, date(2026, 9, 30), holidays_=BH)
    assert whole.days.paused == pause_days.working
    # About the same working days: the longer calendar span crosses Easter 2027 too,
    # so three more bank holidays fall inside it.
    plain_days = programme_entitlement(plain, holidays_=BH).days
    assert whole.days.bank_holidays == plain_days.bank_holidays + 3
    assert abs(whole.days.working - plain_days.working) <= 5


def test_an_open_pause_makes_the_total_provisional() -> None:
    pause = PauseSpan(start=date(2027, 1, 4), end=None, reason="health")
    programme = full_time(pauses=(pause,))
    on = date(2027, 2, 1)
    result = programme_entitlement(programme, holidays_=BH, on=on)
    assert result.provisional is True
    # Assumed back the day after `on`: the end moves by the days paused so far.
    assert programme.last_day(on) == date(2027, 8, 31) + timedelta(days=29)
    frozen = accrued_entitlement(programme, date(2027, 1, 3), holidays_=BH)
    assert accrued_entitlement(programme, on, holidays_=BH).hours == pytest.approx(frozen.hours)


def test_add_working_days_skips_weekends_bank_holidays_and_pauses() -> None:
    # Thursday before Easter 2027 + 1 working day = the Tuesday after Easter Monday.
    assert add_working_days(date(2027, 3, 25), 1, holidays_=BH) == date(2027, 3, 30)
    spans = ((date(2027, 3, 30), date(2027, 4, 2)),)
    assert add_working_days(date(2027, 3, 25), 1, spans=spans, holidays_=BH) == date(2027, 4, 5)
    assert add_working_days(date(2027, 3, 25), 1, spans=((date(2027, 3, 26), None),)) is None


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=500),
    st.integers(min_value=0, max_value=120),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=90),
)
def test_the_ledger_counts_like_the_loop(first: int, span: int, pause_at: int, pause_len: int
                                         ) -> None:
    start = date(2026, 1, 5)
    spans = ((start + timedelta(days=pause_at), start + timedelta(days=pause_at + pause_len)),)
    ledger = Ledger(start, start + timedelta(days=700), spans=spans, holidays_=BH)  # covers a..b
    a = start + timedelta(days=first)
    b = a + timedelta(days=span)
    assert ledger.count(a, b) == count_days(a, b, spans=spans, holidays_=BH)


def test_a_change_of_working_pattern_earns_each_period_at_its_own_hours() -> None:
    """Full time to 0.6 FTE half-way: the year's hours are the two halves' sums."""
    change = date(2027, 3, 1)
    split = Programme(
        start=START, months=12, contracted_hours=22.2, fte=0.6,
        hours_periods=(HoursPeriod(first=START, until=change, contracted_hours=37.0, fte=1.0),),
    )
    whole = programme_entitlement(split, holidays_=BH)
    full = Programme(start=START, months=12, contracted_hours=37.0, fte=1.0)
    part = Programme(start=START, months=12, contracted_hours=22.2, fte=0.6)
    before = entitlement_between(full, START, change - DAY, holidays_=BH)
    after = entitlement_between(part, change, whole.days.last, holidays_=BH)
    assert whole.hours == pytest.approx(before.hours + after.hours)
    assert programme_entitlement(part, holidays_=BH).hours < whole.hours < (
        programme_entitlement(full, holidays_=BH).hours)
    working = whole.working()
    assert [p["contracted_hours_per_week"] for p in working["periods"]] == [37.0, 22.2]
    assert working["working_days"] == before.days.working + after.days.working
    # Accrued before the change: the full-time pattern only, no periods to show.
    early = accrued_entitlement(split, date(2026, 12, 1), holidays_=BH)
    assert early.parts == () and early.hours == pytest.approx(
        accrued_entitlement(full, date(2026, 12, 1), holidays_=BH).hours)
