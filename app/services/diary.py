"""The protected-time diary: booking, moving, taking and cancelling protected development time.

The refusals are the product: protected time only on the NQSW's working days inside the
programme, never more than a day's contracted hours on one day, and never cancelled
except by a team manager with a reason, after which the NQSW is told and asked to
rebook. Nothing is deleted; a move is an audited change of date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import holidays
from sqlmodel import Session, SQLModel

from app.clock import now_utc
from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.models import Enrolment, Pause, Staff
from app.models.base import PROGRAMME_MONTHS, Role
from app.models.diary import (
    ProtectedTime,
    ProtectedTimeLength,
    ProtectedTimeStatus,
)
from app.policy import entitlement
from app.policy.adjustments import adjusted_params, is_valid_on, targets_rule
from app.policy.rules import protected_time as rule_kind
from app.policy.snapshot import AdjustmentRecord, Snapshot
from app.repositories import audit as audit_rows
from app.repositories import diary as diary_rows
from app.repositories import enrolment as enrolments_repo
from app.repositories import staff as staff_repo
from app.repositories.enrolment import pauses_of
from app.schemas.diary import (
    MIN_HOURS,
    ProtectedTimeCancel,
    ProtectedTimeCreate,
    ProtectedTimeMove,
)
from app.services import audit, notify
from app.services.diary_facts import load_diary_facts
from app.services.enrolments import pause_spans
from app.services.history import earlier_working_patterns
from app.services.programme_events import (
    a_role,
    nqsw_changed,
    nqsw_enrolment,
    require_open,
)
from app.services.reconcile import Cause, Trigger
from app.services.snapshots import bank_holidays_between

if TYPE_CHECKING:
    from app.policy.registry import PolicySet


LOST = (ProtectedTimeStatus.cancelled.value, ProtectedTimeStatus.displaced.value)
EPSILON = 1e-6
TAKE_ACTION = "protected_time.take"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class DiaryContext:
    """An NQSW's programme as the diary needs it: who, which enrolment, when, how long a day."""

    staff: Staff
    enrolment: Enrolment
    pauses: tuple[Pause, ...]
    programme: entitlement.Programme
    holidays: frozenset[date]

    @property
    def staff_id(self) -> int:
        assert self.staff.id is not None
        return self.staff.id

    @property
    def day_hours(self) -> float:
        return entitlement.day_hours(self.staff.contracted_hours, self.staff.fte)


def audit_view(row: SQLModel) -> dict[str, Any]:
    """A row for the audit trail, with local times as text (the trail stores JSON)."""
    return {key: value.isoformat() if isinstance(value, time) else value
            for key, value in row.model_dump().items()}


def load_context(session: Session, staff_id: int, on: date | None = None) -> DiaryContext:
    staff, enrolment = nqsw_enrolment(session, staff_id)
    assert enrolment.id is not None
    pauses = tuple(pauses_of(session, enrolment.id))
    programme = entitlement.Programme(
        start=enrolment.start_date,
        months=PROGRAMME_MONTHS.get(enrolment.programme, 12),  # type: ignore[call-overload]
        pauses=pause_spans(pauses),
        contracted_hours=staff.contracted_hours,
        fte=staff.fte,
        hours_periods=earlier_working_patterns(session, staff),
    )
    last = programme.last_day(on)
    until = max(last.year, (on or last).year) + 1
    return DiaryContext(staff=staff, enrolment=enrolment, pauses=pauses, programme=programme,
                        holidays=bank_holidays_between(enrolment.start_date.year, until))


def open_context(session: Session, staff_id: int, on: date, *, field: str) -> DiaryContext:
    """The context for a change to the NQSW's record: their programme must still be running
    (`field`: where the refusal points)."""
    context = load_context(session, staff_id, on)
    require_open(context.enrolment, field=field)
    return context


def day_hours_of(session: Session, staff_id: int) -> float:
    """The length of one protected day for this NQSW (404 unless an NQSW)."""
    staff, _ = nqsw_enrolment(session, staff_id)
    return entitlement.day_hours(staff.contracted_hours, staff.fte)


def holiday_name(day: date) -> str:
    names = holidays.country_holidays("GB", subdiv="ENG", years=day.year)
    return str(names.get(day, "a bank holiday"))


# --- checks ------------------------------------------------------------------------------


# The working day a half day sits in: the morning from 09:00 and the afternoon after it,
# each a block of at least four hours (longer if half the post's day is longer), so that
# a half day and a timed booking the same day cannot overlap unnoticed.
DAY_START_HOURS = 9.0
HALF_DAY_BLOCK_HOURS = 4.0
HALF_WORDS = {"am": "morning", "pm": "afternoon"}


def half_block(day_hours: float) -> float:
    """How long the morning (or afternoon) block is for a post with this day length."""
    return max(HALF_DAY_BLOCK_HOURS, day_hours / 2)


def half_window(half: str, day_hours: float) -> tuple[float, float]:
    """Start and end (hours from midnight) of the morning or afternoon: 09:00-13:00 and
    13:00-17:00 on a 7.4-hour day."""
    block = half_block(day_hours)
    start = DAY_START_HOURS if half == "am" else DAY_START_HOURS + block
    return start, start + block


def _hours_of(moment: time) -> float:
    return moment.hour + moment.minute / 60 + moment.second / 3600


def clock_time(hours: float) -> time:
    """Hours from midnight as a local time of day (24:00 is shown as 23:59)."""
    minutes = min(int(round(hours * 60)), 24 * 60 - 1)
    return time(minutes // 60, minutes % 60)


@dataclass(frozen=True)
class Slot:
    """The shape of one booking once its length is resolved."""

    length: str
    half: str | None
    start_time: time | None
    hours: float

    @classmethod
    def of(cls, entry: ProtectedTime) -> Slot:
        return cls(entry.length, entry.half, entry.start_time, entry.hours)

    def interval(self, day_hours: float) -> tuple[float, float] | None:
        """The part of the day the booking holds, in hours from midnight: a half day's
        block, or a timed booking's start and end. None for a full day (it fills the day's
        hours, so nothing else fits anyway) or hours without a start time."""
        if self.half is not None:
            return half_window(self.half, day_hours)
        if self.start_time is None:
            return None
        start = _hours_of(self.start_time)
        return start, start + self.hours

    def describe(self, day: date, day_hours: float) -> str:
        span = self.interval(day_hours)
        when = f" ({_clock(span[0])} to {_clock(span[1])})" if span else ""
        if self.half is not None:
            return f"the {HALF_WORDS[self.half]} of {day}{when}"
        if span:
            return f"{day} from {_clock(span[0])} to {_clock(span[1])}"
        return f"{day}"


def window(entry: ProtectedTime, day_hours: float) -> tuple[time | None, time | None]:
    """The local times a booking holds (for the API and the calendar); (None, None) when
    it has no set time of day."""
    span = Slot.of(entry).interval(day_hours)
    if span is None:
        return None, None
    return clock_time(span[0]), clock_time(span[1])


def resolve_slot(
    context: DiaryContext,
    *,
    length: str,
    half: str | None,
    start_time: time | None,
    hours: float | None,
) -> Slot:
    day = context.day_hours
    if length == ProtectedTimeLength.hours.value:
        if hours is None:
            raise DomainError("give the number of hours for an hours booking", field="hours")
        if half is not None:
            raise DomainError("only a half-day booking is a morning or an afternoon",
                              field="half")
        if hours < MIN_HOURS - EPSILON:
            raise DomainError(f"book at least {MIN_HOURS:g} hours (a quarter of an hour)",
                              field="hours")
        if hours > day + EPSILON:
            raise DomainError(
                f"{hours:g} hours is more than a day's {day:.2f} contracted hours", field="hours"
            )
        if start_time is not None:
            if start_time.tzinfo is not None:
                raise DomainError("give the local (Europe/London) time without a UTC offset",
                                  field="start_time")
            end = _hours_of(start_time) + hours
            if end > 24 + EPSILON:
                raise DomainError("the booking must end by midnight", field="hours")
        return Slot(length=length, half=None, start_time=start_time, hours=round(hours, 2))
    if hours is not None:
        raise DomainError(
            f"a {length.replace('_', ' ')} is {day:.2f} hours or half of it: leave hours out, "
            "or book by the hour", field="hours",
        )
    if start_time is not None:
        raise DomainError("only a booking by the hour has a start time", field="start_time")
    if length == ProtectedTimeLength.half_day.value:
        if half is None:
            raise DomainError("choose the morning (am) or the afternoon (pm)", field="half")
        return Slot(length=length, half=half, start_time=None, hours=round(day / 2, 2))
    if half is not None:
        raise DomainError("only a half-day booking is a morning or an afternoon", field="half")
    return Slot(length=length, half=None, start_time=None, hours=round(day, 2))


def refuse_paused_day(context: DiaryContext, day: date, why: str = "") -> None:
    """A day inside one of the programme's pauses is refused (`why`: what that means here)."""
    for pause in context.pauses:
        if pause.start_date <= day and (pause.end_date is None or day <= pause.end_date):
            until = f"to {pause.end_date}" if pause.end_date else "until further notice"
            raise DomainError(
                f"{day} is inside the programme's pause ({pause.reason}) from "
                f"{pause.start_date} {until}{why}",
                field="day",
            )


def check_day(context: DiaryContext, day: date, *, on: date | None = None) -> None:
    """Protected time is booked on the NQSW's working days inside the running programme."""
    if day.weekday() >= 5:
        raise DomainError(
            f"{day} is a {WEEKDAYS[day.weekday()]}: protected time is booked on working days",
            field="day",
        )
    if day in context.holidays:
        raise DomainError(f"{day} is a bank holiday ({holiday_name(day)})", field="day")
    start = context.enrolment.start_date
    if day < start:
        raise DomainError(f"{day} is before the programme starts on {start}", field="day")
    refuse_paused_day(context, day)
    last = context.programme.last_day(on)
    if day > last:
        raise DomainError(f"{day} is after the programme ends on {last}", field="day")


def _clock(hours: float) -> str:
    whole = min(int(round(hours * 60)), 24 * 60)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def _active_between(
    session: Session, context: DiaryContext, first: date, last: date, ignore: int | None
) -> list[ProtectedTime]:
    return [e for e in diary_rows.active_bookings_between(
        session, context.enrolment.id, first, last) if e.id != ignore]


def check_room(
    session: Session, context: DiaryContext, day: date, slot: Slot, *, ignore: int | None = None
) -> None:
    """No double booking: the day's bookings do not overlap, fit in a day's hours, and the
    week's fit in the NQSW's contracted hours for a week."""
    monday = day - timedelta(days=day.weekday())
    week = _active_between(session, context, monday, monday + timedelta(days=6), ignore)
    others = [e for e in week if e.day == day]
    day_hours = context.day_hours
    mine = slot.interval(day_hours)
    field = "half" if slot.half is not None else "start_time"
    for other in others:
        theirs = Slot.of(other)
        if slot.half is not None and other.half == slot.half:
            raise DomainError(
                f"the {HALF_WORDS[slot.half]} of {day} is already booked (booking {other.id})",
                field="half",
            )
        span = theirs.interval(day_hours)
        if mine and span and mine[0] < span[1] - EPSILON and span[0] < mine[1] - EPSILON:
            raise DomainError(
                f"{slot.describe(day, day_hours)} overlaps booking {other.id}, "
                f"{theirs.describe(day, day_hours)}",
                field=field,
            )
    booked = sum(o.hours for o in others)
    if booked + slot.hours > day_hours + EPSILON:
        raise DomainError(
            f"{day} already has {booked:g} hours of protected time booked; with {slot.hours:g} "
            f"more it would pass the day's {day_hours:.2f} contracted hours",
            field="day",
        )
    weekly = context.staff.contracted_hours
    in_week = round(sum(o.hours for o in week), 2)
    if in_week + slot.hours > weekly + EPSILON:
        raise DomainError(
            f"the week beginning {monday} already has {in_week:g} hours of protected time "
            f"booked; with {slot.hours:g} more it would pass the {weekly:g} hours contracted "
            "for a week",
            field="day",
        )


class _OfEnrolment(Protocol):
    @property
    def enrolment_id(self) -> int: ...


_Row = TypeVar("_Row", bound=_OfEnrolment)


def own_row(context: DiaryContext, row: _Row | None, what: str, row_id: int,
            parameter: str) -> _Row:
    """The row, when it is this NQSW's enrolment's; else 404, as for a row that is not there."""
    if row is None or row.enrolment_id != context.enrolment.id:
        raise NotFound(what, row_id, field=["path", parameter])
    return row


def get_entry(session: Session, context: DiaryContext, entry_id: int) -> ProtectedTime:
    return own_row(context, diary_rows.booking(session, entry_id), "protected time", entry_id,
                   "entry_id")


# --- use cases ---------------------------------------------------------------------------


def book(
    session: Session, *, staff_id: int, data: ProtectedTimeCreate, on: date, policies: PolicySet,
    actor_id: int | None = None,
) -> ProtectedTime:
    """Book protected time (or rebook time that was cancelled or displaced)."""
    context = open_context(session, staff_id, on, field="day")
    slot = resolve_slot(context, length=data.length.value, half=data.half,
                        start_time=data.start_time, hours=data.hours)
    check_day(context, data.day, on=on)
    replaced: ProtectedTime | None = None
    if data.rebooked_from_id is not None:
        replaced = diary_rows.booking(session, data.rebooked_from_id)
        if replaced is None or replaced.enrolment_id != context.enrolment.id:
            raise DomainError(f"booking {data.rebooked_from_id} is not in this diary",
                              field="rebooked_from_id")
        if replaced.status not in LOST:
            raise DomainError(
                f"booking {replaced.id} is {replaced.status}; only cancelled or displaced time "
                "is rebooked", field="rebooked_from_id",
            )
        already = diary_rows.rebooking_of(session, replaced.id)
        if already is not None:
            raise Conflict(f"booking {replaced.id} was already rebooked as booking {already.id}",
                           field="rebooked_from_id")
    check_room(session, context, data.day, slot)
    entry = ProtectedTime(
        enrolment_id=context.enrolment.id,  # type: ignore[arg-type]
        day=data.day,
        length=slot.length,
        half=slot.half,
        start_time=slot.start_time,
        hours=slot.hours,
        purpose=data.purpose.value,
        note=data.note,
        status=ProtectedTimeStatus.booked.value,
        booked_by_id=actor_id,
        rebooked_from_id=replaced.id if replaced else None,
    )
    session.add(entry)
    session.flush()
    audit.record(session, action="protected_time.book", entity="protected_time",
                 entity_id=entry.id, actor_id=actor_id, nqsw_id=context.staff_id,
                 after=audit_view(entry), effective_on=on)
    words = "protected time rebooked" if replaced else "protected time booked"
    nqsw_changed(session, context.staff_id, on, actor_id,
                 Trigger(words, Cause.diary),
                 policies=policies)
    return entry


def move(
    session: Session, *, staff_id: int, entry_id: int, data: ProtectedTimeMove, on: date,
    policies: PolicySet, actor_id: int | None = None,
) -> ProtectedTime:
    """Reschedule a booking that has not happened yet; its history stays in the audit trail."""
    context = open_context(session, staff_id, on, field="day")
    entry = get_entry(session, context, entry_id)
    if entry.status != ProtectedTimeStatus.booked.value:
        raise DomainError(
            f"booking {entry.id} is {entry.status}: only booked time can be moved"
            + (" (rebook it instead)" if entry.status in LOST else ""),
            field="day",
        )
    if entry.day < on:
        raise DomainError(
            f"booking {entry.id} was for {entry.day}, before {on}: time that has already "
            "happened is not moved; mark it taken if it was used, or book new time",
            field=["path", "entry_id"],
        )
    if data.day < on:
        raise DomainError(
            f"{data.day} is in the past (before {on}): a booking can only be moved to {on} "
            "or later",
            field="day",
        )
    changes = data.model_dump(exclude_unset=True)
    length = (data.length.value if data.length else None) or entry.length
    half: str | None
    if "length" in changes and length != entry.length:
        half, start_time, hours = data.half, data.start_time, data.hours
    else:
        half = data.half if "half" in changes else entry.half
        start_time = data.start_time if "start_time" in changes else entry.start_time
        hours = data.hours if "hours" in changes else (
            entry.hours if length == ProtectedTimeLength.hours.value else None
        )
    slot = resolve_slot(context, length=length, half=half, start_time=start_time, hours=hours)
    check_day(context, data.day, on=on)
    check_room(session, context, data.day, slot, ignore=entry.id)
    before = {"day": entry.day, "length": entry.length, "half": entry.half,
              "start_time": entry.start_time.isoformat() if entry.start_time else None,
              "hours": entry.hours}
    entry.day, entry.length, entry.half = data.day, slot.length, slot.half
    entry.start_time, entry.hours = slot.start_time, slot.hours
    session.flush()
    audit.record(session, action="protected_time.move", entity="protected_time",
                 entity_id=entry.id, actor_id=actor_id, nqsw_id=context.staff_id,
                 before=before,
                 after={"day": entry.day, "length": entry.length, "half": entry.half,
                        "start_time": entry.start_time.isoformat() if entry.start_time else None,
                        "hours": entry.hours},
                 effective_on=on)
    nqsw_changed(session, context.staff_id, on, actor_id,
                 Trigger("protected time moved", Cause.diary), policies=policies)
    return entry


def mark_taken(
    session: Session, *, staff_id: int, entry_id: int, on: date, policies: PolicySet,
    taken_on: date | None = None, actor_id: int | None = None,
) -> ProtectedTime:
    """The NQSW confirms the time was protected and used, on or after the day itself.

    `taken_on` is the date of the confirmation (default `on`, the request's effective
    date). It cannot be before the booked day (the time has not happened) nor after `on`
    (nobody confirms in advance), so the re-evaluation, as of `on`, never looks past the
    date the request is made on. `taken_at` keeps the moment Ringfence recorded it, and
    the audit event carries `taken_on` as the date the change took effect.
    """
    confirmed = taken_on or on
    context = load_context(session, staff_id, on)
    entry = get_entry(session, context, entry_id)
    if entry.status != ProtectedTimeStatus.booked.value:
        raise DomainError(f"booking {entry.id} is {entry.status}: only booked time can be "
                          "marked taken", field="taken_on")
    if entry.day > confirmed:
        raise DomainError(f"booking {entry.id} is on {entry.day}: it can be marked taken on "
                          "or after that day", field="taken_on")
    if confirmed > on:
        raise DomainError(
            f"{confirmed} is after {on}, the date of this request: time is marked taken "
            "once it has happened, not in advance",
            field="taken_on",
        )
    entry.status = ProtectedTimeStatus.taken.value
    entry.taken_at = now_utc()
    session.flush()
    audit.record(session, action=TAKE_ACTION, entity="protected_time",
                 entity_id=entry.id, actor_id=actor_id, nqsw_id=context.staff_id,
                 before={"status": "booked"}, after={"status": "taken", "on": confirmed},
                 effective_on=confirmed)
    nqsw_changed(session, context.staff_id, on, actor_id,
                 Trigger("protected time taken", Cause.diary), policies=policies)
    return entry


def taken_dates(session: Session, entry_ids: Sequence[int]) -> dict[int, date]:
    """Booking id -> the date it was confirmed as taken (from its audit event)."""
    wanted = [str(i) for i in entry_ids]
    if not wanted:
        return {}
    rows = audit_rows.effects_of(session, action=TAKE_ACTION, entity="protected_time",
                                 entity_ids=wanted)
    found: dict[int, date] = {}
    for entity_id, effective_on, after in rows:
        when = effective_on
        if isinstance(after, dict) and isinstance(after.get("on"), str):
            when = date.fromisoformat(after["on"])
        if entity_id is not None and when is not None:
            found[int(entity_id)] = when
    return found


def public_extras(
    session: Session, rows: Sequence[ProtectedTime], day_hours: float
) -> dict[int, dict[str, Any]]:
    """What the API shows of each booking beyond its row: the times of day it holds, when
    it was confirmed as taken, and the booking that replaced it."""
    ids = [r.id for r in rows if r.id is not None]
    taken = taken_dates(session, [r.id for r in rows
                                  if r.id is not None and r.status == "taken"])
    replaced = rebooked_by(session, ids)
    extras: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.id is None:
            continue
        start, end = window(row, day_hours)
        extras[row.id] = {"from_time": start, "until_time": end,
                          "taken_on": taken.get(row.id), "rebooked_by_id": replaced.get(row.id)}
    return extras


def cancel(
    session: Session, *, staff_id: int, entry_id: int, data: ProtectedTimeCancel, on: date,
    policies: PolicySet, base_url: str, actor_id: int | None = None,
) -> ProtectedTime:
    """A team manager cancels booked time with a reason; the NQSW is told and asked to rebook.

    `base_url` is where this service is reached, so the message links back to the diary.
    """
    context = load_context(session, staff_id, on)
    entry = get_entry(session, context, entry_id)
    # The person cancelling is the person signed in: nobody cancels in someone's name.
    manager = staff_repo.person(session, actor_id)
    if manager is None:
        raise Forbidden("only a team manager, signed in as themselves, may cancel "
                        "protected time")
    if manager.role != Role.team_manager.value:
        raise Forbidden(f"only a team manager may cancel protected time; you are "
                        f"{a_role(manager.role)}")
    if entry.status != ProtectedTimeStatus.booked.value:
        raise DomainError(f"booking {entry.id} is {entry.status}: only booked time can be "
                          "cancelled", field=["path", "entry_id"])
    cancelled_on = data.cancelled_on or on
    entry.status = ProtectedTimeStatus.cancelled.value
    entry.cancelled_on = cancelled_on
    entry.cancelled_by_id = manager.id
    entry.cancel_reason = data.reason
    session.flush()
    audit.record(session, action="protected_time.cancel", entity="protected_time",
                 entity_id=entry.id, actor_id=actor_id if actor_id is not None else manager.id,
                 nqsw_id=context.staff_id, before={"status": "booked"},
                 after={"status": "cancelled", "cancelled_by_id": manager.id,
                        "reason": data.reason, "cancelled_on": cancelled_on},
                 effective_on=cancelled_on)
    base = base_url.rstrip("/")
    notify.notify(
        session,
        recipient_ids=[context.staff_id],
        kind="protected_time.cancelled",
        subject=f"Your protected time on {entry.day:%-d %B %Y} was cancelled: please rebook it",
        context={
            "nqsw_name": context.staff.name,
            "day": entry.day,
            "hours": entry.hours,
            "purpose": entry.purpose,
            "cancelled_by_name": manager.name,
            "reason": data.reason,
            "entry_id": entry.id,
            "link": f"{base}/nqsws/{context.staff_id}/diary",
        },
        nqsw_id=context.staff_id,
    )
    nqsw_changed(session, context.staff_id, on, actor_id,
                 Trigger("protected time cancelled", Cause.diary), policies=policies)
    return entry


# --- reading -----------------------------------------------------------------------------


def list_entries(
    session: Session,
    *,
    staff_id: int,
    limit: int,
    offset: int,
    status: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> tuple[list[ProtectedTime], int, dict[int, int]]:
    """A page of the diary by date, and which of its bookings were rebooked by which."""
    _, enrolment = nqsw_enrolment(session, staff_id)
    rows, count = diary_rows.page_of_bookings(session, enrolment.id, limit=limit,
                                              offset=offset, status=status, first=first,
                                              last=last)
    return rows, count, rebooked_by(session, [r.id for r in rows if r.id is not None])


def rebooked_by(session: Session, entry_ids: Sequence[int]) -> dict[int, int]:
    """Original booking id -> the booking that replaced it."""
    return diary_rows.rebookings_of(session, entry_ids)


def _adjustments(session: Session, enrolment_id: int, on: date) -> tuple[AdjustmentRecord, ...]:
    rows = enrolments_repo.adjustments_of_enrolment(session, enrolment_id)
    records = tuple(
        AdjustmentRecord(policy_id=r.policy_id, parameter=r.parameter, value=r.value,
                         reason=r.reason, valid_from=r.valid_from, valid_to=r.valid_to,
                         adjustment_id=r.id)
        for r in rows
    )
    return tuple(a for a in records if is_valid_on(a, on))


def rule_params(
    policies: PolicySet, programme: str, adjustments: Sequence[AdjustmentRecord] = ()
) -> rule_kind.Params:
    """The protected-time parameters in force for this NQSW (policy plus their adjustments).

    The first active `protected_time` rule for the programme; the defaults when the
    organisation has none, so the diary still shows the standard 10%.
    """
    if policies is None:
        return rule_kind.Params()
    rules = [r for r in policies.rules_of_kind("protected_time", programme)
             if policies.is_active(r.policy_id, programme)]
    if not rules:
        return rule_kind.Params()
    rule = rules[0]
    mine = [a for a in adjustments
            if a.policy_id == rule.policy_id and targets_rule(rule, a.parameter)]
    if not mine:
        return cast(rule_kind.Params, rule.params)
    params, _, _ = adjusted_params(rule, mine, policies.categories)
    return params  # type: ignore[return-value]


def snapshot_for(session: Session, context: DiaryContext, on: date) -> Snapshot:
    """What the protected-time rule sees of this NQSW on `on` (caseload left out)."""
    assert context.enrolment.id is not None
    facts = load_diary_facts(session, [context.enrolment.id], on)[context.enrolment.id]
    return Snapshot(
        staff_id=context.staff_id,
        enrolment_id=context.enrolment.id,
        programme=context.enrolment.programme,  # type: ignore[arg-type]
        programme_start=context.enrolment.start_date,
        as_of=on,
        fte=context.staff.fte,
        contracted_hours=context.staff.contracted_hours,
        status=context.enrolment.status,
        pauses=context.programme.pauses,
        protected_time=facts.protected_time,
        supervision=facts.supervision,
        reviews=facts.reviews,
        bank_holidays=context.holidays,
    )


def _in_days(hours: float, day: float) -> float:
    return round(hours / day, 2) if day else 0.0


def entitlement_view(
    session: Session, *, staff_id: int, on: date, policies: PolicySet
) -> dict[str, Any]:
    """The programme's entitlement and the entitlement to date, with every step shown."""
    context = load_context(session, staff_id, on)
    assert context.enrolment.id is not None
    params = rule_params(policies, context.enrolment.programme,
                         _adjustments(session, context.enrolment.id, on))
    terms = params.terms
    programme = context.programme
    ledger = entitlement.programme_ledger(programme, holidays_=context.holidays, on=on)
    whole = entitlement.programme_entitlement(programme, terms=terms, on=on, ledger=ledger)
    accrued = entitlement.accrued_entitlement(programme, on, terms=terms, ledger=ledger)
    taken = sum(e.hours for e in diary_rows.taken_by(session, context.enrolment.id, on))
    remaining = max(whole.hours - taken, 0.0)
    return {
        "on": on,
        "programme": context.enrolment.programme,
        "programme_start": programme.start,
        "programme_last_day": programme.last_day(on),
        "provisional": whole.provisional,
        "percent": terms.percent,
        "day_hours": round(whole.day_hours, 4),
        "hours": round(whole.hours, 2),
        "days": round(whole.in_days, 2),
        "accrued_hours": round(accrued.hours, 2),
        "accrued_days": round(accrued.in_days, 2),
        "taken_hours": round(taken, 2),
        "remaining_hours": round(remaining, 2),
        "remaining_days": _in_days(remaining, whole.day_hours),
        "working": whole.working(),
        "accrued_working": accrued.working(),
    }


def summary(session: Session, *, staff_id: int, on: date, policies: PolicySet) -> dict[str, Any]:
    """Entitlement, booked, taken, cancelled (who and why), displaced, and whether on track.

    "Booked" is time still ahead (on `on` or later). A booking whose day has passed and
    was never marked taken is *lapsed*: it is listed so that the NQSW can mark it taken,
    but it counts neither as taken nor as in the diary, as the rule counts it.
    """
    context = load_context(session, staff_id, on)
    assert context.enrolment.id is not None
    params = rule_params(policies, context.enrolment.programme,
                         _adjustments(session, context.enrolment.id, on))
    snapshot = snapshot_for(session, context, on)
    result = rule_kind.verdict(snapshot, params)
    measures = result["measures"]
    day = context.day_hours
    rows = diary_rows.bookings_of(session, context.enrolment.id)
    replaced = rebooked_by(session, [r.id for r in rows if r.status in LOST and r.id])
    by_id = {r.id: r for r in rows}
    names = _names(session, {r.cancelled_by_id for r in rows if r.cancelled_by_id})

    def hours(chosen: list[ProtectedTime]) -> dict[str, Any]:
        total = sum(r.hours for r in chosen)
        return {"hours": round(total, 2), "days": _in_days(total, day), "count": len(chosen)}

    def lost(status: str) -> list[dict[str, Any]]:
        out = []
        for r in rows:
            if r.status != status:
                continue
            replacement = by_id.get(replaced.get(r.id)) if r.id in replaced else None
            out.append({
                "id": r.id, "day": r.day, "hours": r.hours, "status": r.status,
                "cancelled_on": r.cancelled_on, "cancelled_by_id": r.cancelled_by_id,
                "cancelled_by_name": names.get(r.cancelled_by_id) if r.cancelled_by_id else None,
                "reason": r.cancel_reason, "displaced_by_pause_id": r.displaced_by_pause_id,
                "rebooked_by_id": replacement.id if replacement else None,
                "rebooked_on": replacement.day if replacement else None,
            })
        return out

    whole = measures.get("entitlement_hours", 0.0)
    accrued = measures.get("accrued_hours", 0.0)
    booked_rows = [r for r in rows if r.status == ProtectedTimeStatus.booked.value]
    lapsed_rows = [r for r in booked_rows if r.day < on]
    taken = hours([r for r in rows
                   if r.status == ProtectedTimeStatus.taken.value and r.day <= on])
    booked = hours([r for r in booked_rows if r.day >= on])
    remaining = max(whole - taken["hours"], 0.0)
    unbooked = max(whole - taken["hours"] - booked["hours"], 0.0)
    return {
        "on": on,
        "entitlement": {"hours": whole, "days": _in_days(whole, day)},
        "accrued": {"hours": accrued, "days": _in_days(accrued, day)},
        "booked": booked,
        "taken": taken,
        "lapsed": hours(lapsed_rows),
        "lapsed_bookings": [{"id": r.id, "day": r.day, "hours": r.hours, "purpose": r.purpose}
                            for r in lapsed_rows],
        "remaining": {"hours": round(remaining, 2), "days": _in_days(remaining, day)},
        "unbooked": {"hours": round(unbooked, 2), "days": _in_days(unbooked, day)},
        "cancelled": lost(ProtectedTimeStatus.cancelled.value),
        "displaced": lost(ProtectedTimeStatus.displaced.value),
        "on_track": result["ok"],
        "on_track_reason": result["reason"],
        "checks": result["checks"],
    }


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    return {pid: person.name for pid, person in staff_repo.people_by_id(session, ids).items()}
