"""Protected development time: how many hours an NQSW is owed, and how many by a given date.

Pure functions (no database, no clock) so that the `protected_time` rule, the diary
API and the documentation all compute the same number the same way. They live in the
engine because the rule needs them and the engine reads nothing from the services.

The sum, stated once:

* **Working days** are the weekdays of the programme, less England and Wales bank
  holidays, less the weekdays inside a pause (a deferral stops the clock, and the
  entitlement with it). The programme runs from its start to the day before its last
  month boundary; a pause pushes that boundary later (see `app.policy.programme`).
* **Annual leave** is not working time: the policy's `annual_leave_days` (a full-time
  year's leave, excluding bank holidays) is taken off in proportion to the working
  days counted, so a 12-month programme loses a year's leave and a 6-month stretch
  half of it. Set it to 0 to count leave as working time.
* **Hours** are ``(working days - leave) x contracted_hours / 5 x percent``.
  `contracted_hours` is per week and already reflects part-time work (0.6 FTE of a
  37-hour post is 22.2), so it is *not* multiplied by the FTE again. Dividing by five
  spreads a part-timer's week over the weekdays, whichever days they work.
* **A change of working pattern** (a return from maternity leave part-time) splits the
  sum: each period's working days are earned at that period's hours (`HoursPeriod`),
  and the working shows one sum per period.
* **Days** are shown in full-time days (``contracted_hours / fte / 5``, 7.4 hours on a
  37-hour week). A part-timer books protected days of the same length as a full-time
  colleague's day, so their entitlement reads as fewer days, not as more, shorter ones:
  a 0.6 FTE NQSW is owed 60% of the full-time number of days.

Bank holidays are an input (``holidays_``): the caller looks them up (the snapshot carries
them for the engine), so nothing here reads a calendar.

A full-time 37-hour NQSW on a 12-month programme starting in September has about 253
working days; less 26 days' leave, 227 days x 7.4 h x 10% = about 168 hours, 22.7 days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Any

from app.policy.programme import boundary_for, merged_pauses
from app.policy.snapshot import HoursPeriod, PauseSpan

DEFAULT_PERCENT = 0.10
DEFAULT_ANNUAL_LEAVE_DAYS = 26.0
# The weekdays of an average year less its eight England and Wales bank holidays: the
# denominator that turns a year's leave into a share of working days.
WORKING_DAYS_PER_YEAR = 365.25 / 7 * 5 - 8
FULL_TIME_DAYS_PER_WEEK = 5


def day_hours(contracted_hours: float, fte: float) -> float:
    """The length of one protected *day*: a full-time day of the NQSW's post."""
    full_time_week = contracted_hours / fte if fte > 0 else contracted_hours
    return full_time_week / FULL_TIME_DAYS_PER_WEEK


def weekday_hours(contracted_hours: float) -> float:
    """Contracted hours spread evenly over the five weekdays (what one working day earns)."""
    return contracted_hours / FULL_TIME_DAYS_PER_WEEK


@dataclass(frozen=True, slots=True)
class Terms:
    """The policy's parameters for the entitlement."""

    percent: float = DEFAULT_PERCENT
    annual_leave_days: float = DEFAULT_ANNUAL_LEAVE_DAYS


@dataclass(frozen=True, slots=True)
class DayCount:
    """Days from `first` to `last` (both included), split by why they are not worked."""

    first: date
    last: date
    weekdays: int = 0
    bank_holidays: int = 0
    paused: int = 0

    @property
    def working(self) -> int:
        return self.weekdays - self.bank_holidays - self.paused


def pause_spans(pauses: Iterable[PauseSpan], start: date) -> tuple[tuple[date, date | None], ...]:
    """The programme's pauses, clipped and merged (one definition, shared with the engine)."""
    return merged_pauses(pauses, start)


def is_paused(day: date, spans: Iterable[tuple[date, date | None]]) -> bool:
    return any(first <= day and (last is None or day <= last) for first, last in spans)


def count_days(
    first: date,
    last: date,
    *,
    spans: tuple[tuple[date, date | None], ...] = (),
    holidays_: frozenset[date] = frozenset(),
) -> DayCount:
    """Weekdays, bank holidays on weekdays, and other paused weekdays in ``[first, last]``."""
    if last < first:
        return DayCount(first=first, last=last)
    weekdays = bank = paused = 0
    day = first
    one = timedelta(days=1)
    while day <= last:
        if day.weekday() < 5:
            weekdays += 1
            if day in holidays_:
                bank += 1
            elif spans and is_paused(day, spans):
                paused += 1
        day += one
    return DayCount(first=first, last=last, weekdays=weekdays, bank_holidays=bank, paused=paused)


def is_working_day(
    day: date,
    *,
    spans: tuple[tuple[date, date | None], ...] = (),
    holidays_: frozenset[date] = frozenset(),
) -> bool:
    return day.weekday() < 5 and day not in holidays_ and not is_paused(day, spans)


def add_working_days(
    day: date,
    count: int,
    *,
    spans: tuple[tuple[date, date | None], ...] = (),
    holidays_: frozenset[date] = frozenset(),
) -> date | None:
    """The date `count` working days after `day`; None if an open pause comes first."""
    open_from = min((first for first, last in spans if last is None), default=None)
    current = day
    remaining = count
    while remaining > 0:
        current += timedelta(days=1)
        if open_from is not None and current >= open_from:
            return None
        if is_working_day(current, spans=spans, holidays_=holidays_):
            remaining -= 1
    return current


def working_days_between(
    after: date,
    until: date,
    *,
    spans: tuple[tuple[date, date | None], ...] = (),
    holidays_: frozenset[date] = frozenset(),
) -> int:
    """Working days after `after` up to and including `until`."""
    return count_days(after + timedelta(days=1), until, spans=spans, holidays_=holidays_).working


@dataclass(frozen=True, slots=True)
class Entitlement:
    """Protected hours for a span of days, with the working that produced them.

    When the working pattern changed inside the span, `parts` holds one entitlement per
    period and the totals are their sums; `contracted_hours` and `fte` are then those of
    the last period (what a protected *day* is measured in).
    """

    days: DayCount
    contracted_hours: float
    fte: float
    terms: Terms
    provisional: bool = False
    parts: tuple[Entitlement, ...] = ()

    @property
    def leave_days(self) -> float:
        if self.parts:
            return sum(part.leave_days for part in self.parts)
        return self.days.working * self.terms.annual_leave_days / WORKING_DAYS_PER_YEAR

    @property
    def available_days(self) -> float:
        if self.parts:
            return sum(part.available_days for part in self.parts)
        return max(self.days.working - self.leave_days, 0.0)

    @property
    def hours_per_working_day(self) -> float:
        if self.parts and self.available_days:
            return self.hours / self.terms.percent / self.available_days
        return weekday_hours(self.contracted_hours)

    @property
    def hours(self) -> float:
        if self.parts:
            return sum(part.hours for part in self.parts)
        return self.available_days * self.hours_per_working_day * self.terms.percent

    @property
    def day_hours(self) -> float:
        return day_hours(self.contracted_hours, self.fte)

    @property
    def in_days(self) -> float:
        return self.hours / self.day_hours if self.day_hours else 0.0

    def working(self) -> dict[str, Any]:
        """Every step of the sum, for the API and the NQSW's own page."""
        return {
            "first_day": self.days.first.isoformat(),
            "last_day": self.days.last.isoformat(),
            "provisional": self.provisional,
            "weekdays": self.days.weekdays,
            "bank_holidays_excluded": self.days.bank_holidays,
            "paused_days_excluded": self.days.paused,
            "working_days": self.days.working,
            "annual_leave_days_per_year": self.terms.annual_leave_days,
            "annual_leave_days_excluded": round(self.leave_days, 2),
            "available_days": round(self.available_days, 2),
            "contracted_hours_per_week": self.contracted_hours,
            "fte": self.fte,
            "hours_per_working_day": round(self.hours_per_working_day, 4),
            "percent": self.terms.percent,
            "hours": round(self.hours, 2),
            "day_hours": round(self.day_hours, 4),
            "days": round(self.in_days, 2),
            "sum": self._sum(),
            **({"periods": [part.working() for part in self.parts]} if self.parts else {}),
        }

    def _sum(self) -> str:
        days = f"{self.in_days:.2f} days of {self.day_hours:.2f} h"
        if self.parts:
            terms = " + ".join(f"{part.hours:.2f} h" for part in self.parts)
            return f"{terms} (one sum per working pattern, below) = {self.hours:.2f} h = {days}"
        return (
            f"({self.days.working} working days - {self.leave_days:.2f} days' leave) x "
            f"{self.hours_per_working_day:.2f} h x {self.terms.percent * 100:g}% = "
            f"{self.hours:.2f} h = {days}"
        )


@dataclass(frozen=True, slots=True)
class Programme:
    """What the entitlement needs to know about one enrolment."""

    start: date
    months: int
    pauses: tuple[PauseSpan, ...] = ()
    contracted_hours: float = 37.0
    fte: float = 1.0
    # Earlier working patterns, oldest first; days not covered by one (the latest
    # pattern, usually) are earned at `contracted_hours`.
    hours_periods: tuple[HoursPeriod, ...] = ()

    def spans(self, on: date | None = None) -> tuple[tuple[date, date | None], ...]:
        """Merged pauses; an open one is assumed to end on `on` (or its first day)."""
        spans = pause_spans(self.pauses, self.start)
        if on is None or all(last is not None for _, last in spans):
            return spans
        return tuple((first, last if last is not None else max(on, first))
                     for first, last in spans)

    def has_open_pause(self) -> bool:
        return any(last is None for _, last in pause_spans(self.pauses, self.start))

    def boundary(self, months: int, on: date | None = None) -> date:
        """The date month `months` is reached; with an open pause, as if it ended on `on`."""
        spans = self.spans(on if on is not None else self.start)
        closed = tuple(PauseSpan(start=first, end=last) for first, last in spans)
        found = boundary_for(self.start, closed, months)
        assert found is not None  # every span is closed here
        return found

    def last_day(self, on: date | None = None) -> date:
        """The programme's last day (the day before the final month boundary)."""
        return self.boundary(self.months, on) - timedelta(days=1)


class Ledger:
    """Running day counts over the programme, so that any span is counted in constant time.

    The `protected_time` rule asks for many spans (the year, the days so far, each
    rolling window); one pass over the programme answers them all, and NQSWs of the
    same cohort share one ledger (see `programme_ledger`).
    """

    __slots__ = ("_bank", "_paused", "_weekdays", "first", "last")

    def __init__(
        self,
        first: date,
        last: date,
        *,
        spans: tuple[tuple[date, date | None], ...] = (),
        holidays_: frozenset[date] = frozenset(),
    ) -> None:
        self.first, self.last = first, last
        size = max((last - first).days + 1, 0)
        offset = first.weekday()
        weekday = [(offset + i) % 7 < 5 for i in range(size)]
        bank = [False] * size
        for day in holidays_:
            index = (day - first).days
            if 0 <= index < size and weekday[index]:
                bank[index] = True
        paused = [False] * size
        for start, end in spans:
            lo = max((start - first).days, 0)
            hi = size - 1 if end is None else min((end - first).days, size - 1)
            for index in range(lo, hi + 1):
                paused[index] = weekday[index] and not bank[index]
        self._weekdays = [0, *accumulate(weekday)]
        self._bank = [0, *accumulate(bank)]
        self._paused = [0, *accumulate(paused)]

    def count(self, first: date, last: date) -> DayCount:
        """The same answer as `count_days` for any span inside the ledger's."""
        lo, hi = max(first, self.first), min(last, self.last)
        if hi < lo:
            return DayCount(first=first, last=last)
        i, j = (lo - self.first).days, (hi - self.first).days + 1
        return DayCount(
            first=first,
            last=last,
            weekdays=self._weekdays[j] - self._weekdays[i],
            bank_holidays=self._bank[j] - self._bank[i],
            paused=self._paused[j] - self._paused[i],
        )


@lru_cache(maxsize=1024)
def _ledger(
    first: date, last: date, spans: tuple[tuple[date, date | None], ...],
    holidays_: frozenset[date],
) -> Ledger:
    return Ledger(first, last, spans=spans, holidays_=holidays_)


def programme_ledger(
    programme: Programme, *, holidays_: frozenset[date], on: date | None = None
) -> Ledger:
    """The ledger of the programme as known on `on` (shared, read-only, between callers)."""
    return _ledger(programme.start, programme.last_day(on), programme.spans(on), holidays_)


def entitlement_between(
    programme: Programme,
    first: date,
    last: date,
    *,
    holidays_: frozenset[date] = frozenset(),
    terms: Terms = Terms(),
    on: date | None = None,
    ledger: Ledger | None = None,
) -> Entitlement:
    """Protected hours earned on the working days from `first` to `last`, both included."""
    first = max(first, programme.start)
    last = min(last, programme.last_day(on))

    def counted(lo: date, hi: date) -> DayCount:
        if ledger is not None:
            return ledger.count(lo, hi)
        return count_days(lo, hi, spans=programme.spans(on), holidays_=holidays_)

    days = counted(first, last)
    provisional = programme.has_open_pause()
    patterns = _patterns_between(programme, first, last)
    if len(patterns) == 1:  # one working pattern over the span: a single sum
        _, _, hours, fte = patterns[0]
        return Entitlement(days=days, contracted_hours=hours, fte=fte, terms=terms,
                           provisional=provisional)
    parts = tuple(
        Entitlement(days=counted(lo, hi), contracted_hours=hours, fte=fte, terms=terms,
                    provisional=provisional)
        for lo, hi, hours, fte in patterns
    )
    return Entitlement(
        days=days,
        contracted_hours=programme.contracted_hours,
        fte=programme.fte,
        terms=terms,
        provisional=provisional,
        parts=parts,
    )


def _patterns_between(
    programme: Programme, first: date, last: date
) -> list[tuple[date, date, float, float]]:
    """(first, last, contracted hours, FTE) for each working pattern met in [first, last]."""
    found: list[tuple[date, date, float, float]] = []
    cursor = first
    for period in sorted(programme.hours_periods, key=lambda p: p.first):
        until = period.until - timedelta(days=1) if period.until is not None else last
        lo, hi = max(cursor, period.first), min(until, last)
        if hi < lo:
            continue
        if lo > cursor:  # a gap before this period: the current pattern
            found.append((cursor, lo - timedelta(days=1), programme.contracted_hours,
                          programme.fte))
        found.append((lo, hi, period.contracted_hours, period.fte))
        cursor = hi + timedelta(days=1)
    if cursor <= last:
        found.append((cursor, last, programme.contracted_hours, programme.fte))
    return found


def programme_entitlement(
    programme: Programme,
    *,
    holidays_: frozenset[date] = frozenset(),
    terms: Terms = Terms(),
    on: date | None = None,
    ledger: Ledger | None = None,
) -> Entitlement:
    """The whole programme's entitlement (provisional while a pause is open)."""
    return entitlement_between(
        programme, programme.start, programme.last_day(on), holidays_=holidays_, terms=terms,
        on=on, ledger=ledger,
    )


def accrued_entitlement(
    programme: Programme,
    on: date,
    *,
    holidays_: frozenset[date] = frozenset(),
    terms: Terms = Terms(),
    ledger: Ledger | None = None,
) -> Entitlement:
    """Hours earned from the start up to and including `on`."""
    return entitlement_between(
        programme, programme.start, on, holidays_=holidays_, terms=terms, on=on, ledger=ledger
    )


def year_span(programme: Programme, on: date) -> tuple[int, date, date]:
    """(programme year from 0, first day, last day) of the programme year `on` falls in."""
    year = 0
    while True:
        first = programme.boundary(12 * year, on)
        last = programme.boundary(min(12 * (year + 1), programme.months), on) - timedelta(days=1)
        if on <= last or 12 * (year + 1) >= programme.months:
            return year, first, last
        year += 1
