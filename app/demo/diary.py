"""Protected time, supervision and reviews for each enrolment, as a diligent team keeps them.

The default is an NQSW whose team keeps the promises: a protected day (a half day for
part-timers, more often) diarised for the whole programme year at its start, taken
when it falls, displaced by a pause and rebooked after it; supervision weekly for six
weeks, fortnightly to six months and four-weekly after, skipping pauses; each review
held within a few days of falling due. A profile can then break one promise the way
reports say they break: protected days cancelled under pressure and never rebooked,
supervision lapsing for weeks, a review not recorded.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app.policy.entitlement import day_hours
from app.policy.programme import boundary_for, paused_days_before
from app.policy.snapshot import PauseSpan
from app.services.snapshots import bank_holidays_in

AddRow = Callable[[str, dict[str, Any]], int]

REVIEW_MONTHS = {"asye": (3, 6, 9, 12), "swip": (3, 6, 9, 12, 18, 24)}
PURPOSES = ("study", "study", "portfolio", "training", "reflective_practice",
            "action_learning")

KEPT, SLIPPING = "kept", "slipping"  # protected time
REGULAR, LAPSED = "regular", "lapsed"  # supervision


@dataclass(frozen=True)
class Programme:
    """What the diary needs to know of one enrolment."""

    enrolment_id: int
    staff_id: int
    programme: str
    start: date
    end: date  # last day diarised: the planned end, the day they left, or a completion
    fte: float
    contracted_hours: float
    pauses: tuple[PauseSpan, ...]
    pause_ids: tuple[int, ...]
    manager_id: int | None
    ap_id: int | None


def _stamp(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays_in(day.year)


def next_working_day(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _paused_by(day: date, pauses: Sequence[PauseSpan]) -> int | None:
    for index, pause in enumerate(pauses):
        if pause.start <= day and (pause.end is None or day <= pause.end):
            return index
    return None


def previous_working_day(day: date) -> date:
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def protected_time(
    add: AddRow, rng: random.Random, p: Programme, as_of: date, *, mode: str = KEPT
) -> None:
    """Bookings across the programme: past ones taken, future ones booked."""
    full_day = day_hours(p.contracted_hours, p.fte)
    if p.fte >= 0.99:
        every, length, hours = 14, "full_day", full_day
    else:
        every, length, hours = max(7, round(7 / p.fte)), "half_day", full_day / 2
    day = next_working_day(p.start + timedelta(days=rng.randint(2, 9)))
    displaced: list[tuple[int, date, int]] = []
    cancel_from = as_of - timedelta(days=70) if mode == SLIPPING else None
    year_length = 365
    while day <= p.end:
        diarised = min(as_of, p.start + timedelta(days=((day - p.start).days // year_length)
                                                  * year_length))
        row: dict[str, Any] = {
            "enrolment_id": p.enrolment_id, "day": day, "length": length,
            "half": "am" if length == "half_day" else None, "start_time": None,
            "hours": round(hours, 2), "purpose": rng.choice(PURPOSES), "note": None,
            "status": "taken" if day < as_of else "booked", "booked_by_id": p.staff_id,
            "taken_at": _stamp(day, 17) if day < as_of else None, "cancelled_on": None,
            "cancelled_by_id": None, "cancel_reason": None, "displaced_by_pause_id": None,
            "rebooked_from_id": None, "created_at": _stamp(diarised),
        }
        paused = _paused_by(day, p.pauses)
        if paused is not None:
            row.update(status="displaced", taken_at=None,
                       displaced_by_pause_id=p.pause_ids[paused])
            entry_id = add("protected_time", row)
            displaced.append((entry_id, day, paused))
        elif cancel_from is not None and cancel_from <= day < as_of:
            row.update(status="cancelled", taken_at=None,
                       cancelled_on=day - timedelta(days=1), cancelled_by_id=p.manager_id,
                       cancel_reason="Court deadline and two colleagues off sick: the team "
                       "needed everyone on duty.")
            add("protected_time", row)
        else:
            add("protected_time", row)
        day = next_working_day(day + timedelta(days=every))
    # Time displaced by a pause that has ended is rebooked in the weeks after it.
    rebook_on: dict[int, date] = {}
    for entry_id, missed, paused in displaced:
        pause = p.pauses[paused]
        if pause.end is None:
            continue
        previous = rebook_on.get(paused, pause.end + timedelta(days=3))
        when = next_working_day(previous + timedelta(days=1))
        rebook_on[paused] = when + timedelta(days=4)
        if when > p.end:
            continue
        add("protected_time", {
            "enrolment_id": p.enrolment_id, "day": when, "length": length,
            "half": "pm" if length == "half_day" else None, "start_time": None,
            "hours": round(hours, 2), "purpose": "study",
            "note": f"Rebooked: {missed.isoformat()} fell in a pause", "status":
            "taken" if when < as_of else "booked", "booked_by_id": p.staff_id,
            "taken_at": _stamp(when, 17) if when < as_of else None, "cancelled_on": None,
            "cancelled_by_id": None, "cancel_reason": None, "displaced_by_pause_id": None,
            "rebooked_from_id": entry_id, "created_at": _stamp(min(as_of, pause.end)),
        })


def supervision(
    add: AddRow, rng: random.Random, p: Programme, as_of: date, *, mode: str = REGULAR
) -> None:
    """Sessions weekly for 6 weeks, fortnightly to month 6, four-weekly after; one planned."""
    supervisor = p.manager_id or p.ap_id
    if supervisor is None:
        return
    lapse_from = as_of - timedelta(days=48) if mode == LAPSED else None
    six_months = boundary_for(p.start, p.pauses, 6)
    day = next_working_day(p.start + timedelta(days=rng.randint(0, 3)))
    count = 0
    last_day = min(p.end, as_of + timedelta(days=35))
    while day <= last_day:
        paused = _paused_by(day, p.pauses)
        if paused is not None:
            end = p.pauses[paused].end
            if end is None:
                return
            day = next_working_day(end + timedelta(days=rng.randint(1, 4)))
            continue
        lapsed = lapse_from is not None and day >= lapse_from and day < as_of
        joint = p.ap_id is not None and count % 4 == 3
        if not lapsed or count % 2 == 0:
            add("supervision_session", {
                "enrolment_id": p.enrolment_id, "day": day, "start_time": time(10, 0),
                "supervisor_id": p.ap_id if joint else supervisor,
                "kind": "joint_with_ap" if joint else "reflective",
                "minutes": rng.choice((60, 60, 75, 90)), "note": None, "cancelled": lapsed,
                "cancel_reason": "Manager called to court; not rearranged" if lapsed else None,
                "cancelled_on": day - timedelta(days=1) if lapsed else None,
                "recorded_by_id": supervisor, "created_at": _stamp(min(day, as_of)),
            })
        count += 1
        if day >= as_of:
            return  # one planned session ahead is enough
        days = (day - p.start).days - paused_days_before(p.pauses, p.start, day)
        every = 7 if days < 35 else (14 if six_months is None or day < six_months else 28)
        # Moved earlier, never later, off a bank holiday: the gap never exceeds the promise.
        day = max(previous_working_day(day + timedelta(days=every)), day + timedelta(days=1))


def reviews(
    add: AddRow, rng: random.Random, p: Programme, as_of: date, *, skip: int | None = None
) -> None:
    """Each review held a few days after it fell due (none for the month `skip`)."""
    for month in REVIEW_MONTHS.get(p.programme, ()):
        due = boundary_for(p.start, p.pauses, month)
        if due is None or month == skip:
            continue
        held = next_working_day(due + timedelta(days=rng.randint(0, 6)))
        if held >= as_of or held > p.end + timedelta(days=14):
            continue
        add("review_point", {
            "enrolment_id": p.enrolment_id, "month": month, "held_on": held,
            "recorded_by_id": p.manager_id, "note": f"{month}-month review held",
            "created_at": _stamp(held, 15),
        })
