"""Working days in England and Wales: Monday to Friday, bank holidays excluded.

Escalation deadlines are counted in working days because a breach raised on the
Thursday before Easter should not reach a senior manager after two of its "five days"
were bank holidays. Bank holidays come from the `holidays` package's ``GB`` calendar
with subdivision ``ENG``; the Welsh subdivision (``WLS``) has the same bank holidays, so
one calendar serves England and Wales (Scotland and Northern Ireland differ).
"""

from __future__ import annotations

from datetime import date, timedelta

from app.services.snapshots import bank_holidays_in


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays_in(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (`start` itself is day 0).

    A breach opened on `start` that is still unresolved on the returned date has been
    unresolved for `days` full working days. With ``days == 0`` the answer is `start`.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def _weekdays_up_to(day: date) -> int:
    """Weekdays from a fixed Monday (0001-01-01) up to and including `day`."""
    ordinal = day.toordinal()  # 0001-01-01 is a Monday with ordinal 1
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when `end <= start`).

    Arithmetic on weeks, then bank holidays subtracted, so ageing thousands of breaches
    on a dashboard costs no loop over days.
    """
    if end <= start:
        return 0
    weekdays = _weekdays_up_to(end) - _weekdays_up_to(start)
    holidays_in_range = sum(
        1
        for year in range(start.year, end.year + 1)
        for day in bank_holidays_in(year)
        if start < day <= end and day.weekday() < 5
    )
    return weekdays - holidays_in_range
