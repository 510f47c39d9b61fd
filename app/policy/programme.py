"""Programme time: how far into the ASYE or SWIP an NQSW is, net of pauses.

Stages are measured in programme time, not calendar time, because a deferral
(illness, maternity) stops the clock: an NQSW who was away for two months has
not had two more months of protected learning.

The arithmetic, stated once so that every rule and every document agrees:

* The *length* of month N is calendar months: ``L(N) = add_months(start, N) - start``
  in days (a start on the 31st clamps to the end of shorter months).
* *Programme days* on a date are the days from the start up to (not including) that
  date, minus the paused days in that span. A pause covers its start and end days.
* Month N *is reached* (the boundary) on the first date whose programme days are at
  least ``L(N)``. With no pauses that is ``add_months(start, N)``; every pause that
  starts before the boundary moves it later by exactly the pause's length in days.
* *Completed months* on a date is the largest N whose boundary is on or before it.
  "The first 3 months" are the days before the month-3 boundary; the boundary day
  itself belongs to the next stage.
* An open pause (no end yet) stops the clock from its first day: boundaries after it
  are unknown (``None``) until it ends.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from app.policy.snapshot import PauseSpan, Snapshot

# How many month boundaries are precomputed per start date: a 24-month SWIP plus
# generous room for long deferrals and late evaluations.
_MONTHS_AHEAD = 240


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        if candidate <= day.day:
            try:
                return date(year, month, candidate)
            except ValueError:
                continue
    raise ValueError(f"cannot add {months} months to {day}")  # pragma: no cover


@lru_cache(maxsize=8192)
def month_lengths(start: date) -> tuple[int, ...]:
    """``L(N)`` for N = 0.._MONTHS_AHEAD: days in the first N calendar months from `start`."""
    return tuple((add_months(start, n) - start).days for n in range(_MONTHS_AHEAD + 1))


def merged_pauses(
    pauses: Iterable[PauseSpan], start: date
) -> tuple[tuple[date, date | None], ...]:
    """Pauses clipped to the programme start, sorted and merged (overlaps count once)."""
    spans = sorted(
        (max(p.start, start), p.end)
        for p in pauses
        if p.end is None or p.end >= start
    )
    merged: list[tuple[date, date | None]] = []
    for first, last in spans:
        if merged:
            prev_first, prev_last = merged[-1]
            if prev_last is None:
                break
            if first <= prev_last + timedelta(days=1):
                if last is None or last > prev_last:
                    merged[-1] = (prev_first, last)
                continue
        merged.append((first, last))
    return tuple(merged)


def paused_days_before(pauses: Iterable[PauseSpan], start: date, on: date) -> int:
    """Paused days in ``[start, on)``; an open pause covers every day from its start."""
    total = 0
    for first, last in merged_pauses(pauses, start):
        if first >= on:
            break
        stop = on if last is None else min(on, last + timedelta(days=1))
        total += (stop - first).days
    return total


def _net_days(snapshot: Snapshot, on: date) -> int:
    elapsed = (on - snapshot.programme_start).days
    if elapsed <= 0:
        return 0
    if snapshot.pauses:
        elapsed -= paused_days_before(snapshot.pauses, snapshot.programme_start, on)
    return max(elapsed, 0)


def programme_days(snapshot: Snapshot, on: date | None = None) -> int:
    """Programme days completed by `on` (default: the snapshot date); 0 before the start."""
    return _net_days(snapshot, snapshot.as_of if on is None else on)


def months_for_days(start: date, days: int) -> int:
    """Completed programme months for a count of programme days."""
    return bisect_right(month_lengths(start), days) - 1


def fraction_for_days(start: date, days: int) -> float:
    """Programme months as a real number: completed months plus the share of the current one."""
    lengths = month_lengths(start)
    n = bisect_right(lengths, days) - 1
    if n >= len(lengths) - 1:
        return float(n)
    return n + (days - lengths[n]) / (lengths[n + 1] - lengths[n])


def programme_months(snapshot: Snapshot, on: date | None = None) -> int:
    """Completed programme months on `on` (default: the snapshot date)."""
    return months_for_days(snapshot.programme_start, programme_days(snapshot, on))


def programme_month_fraction(snapshot: Snapshot, on: date | None = None) -> float:
    """Programme months as a real number, for ramps ("50% at start rising to 90% by month 6")."""
    return fraction_for_days(snapshot.programme_start, programme_days(snapshot, on))


def boundary_for(start: date, pauses: Iterable[PauseSpan], months: int) -> date | None:
    """The date month `months` is reached; None if an open pause stops the clock first."""
    if months <= 0:
        return start
    boundary = add_months(start, months)
    for first, last in merged_pauses(pauses, start):
        if first >= boundary:
            break
        if last is None:
            return None
        boundary += timedelta(days=(last - first).days + 1)
    return boundary


def boundary_date(snapshot: Snapshot, months: int) -> date | None:
    """The date the NQSW reaches programme month `months` (3, 6, 12 ...), pauses included."""
    return boundary_for(snapshot.programme_start, snapshot.pauses, months)


@dataclass(frozen=True, slots=True)
class Clock:
    """Programme time on the snapshot date, computed once per evaluation and shared by rules."""

    on: date
    days: int
    months: int
    fraction: float

    @classmethod
    def of(cls, snapshot: Snapshot) -> Clock:
        days = _net_days(snapshot, snapshot.as_of)
        start = snapshot.programme_start
        return cls(
            on=snapshot.as_of,
            days=days,
            months=months_for_days(start, days),
            fraction=fraction_for_days(start, days),
        )
