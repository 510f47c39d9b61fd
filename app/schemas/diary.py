"""Protected development time as the API takes and shows it."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from app.models.diary import ProtectedTimeLength, ProtectedTimePurpose, ProtectedTimeStatus
from app.schemas.common import (
    Day,
    Page,
    PublicRecord,
    RecordId,
    RequestBody,
    request_date_in_body,
)

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Half = Literal["am", "pm"]

# A local wall-clock time as the API writes it (`time.isoformat()`): HH:MM:SS, with
# fractions of a second only if they were given. JSON Schema's `format: time` requires a
# UTC offset, which these times deliberately never have, so the schema is this pattern.
LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
_LOCAL_TIME = re.compile(LOCAL_TIME_PATTERN)
_OFFSET = re.compile(r"(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$")
# The shortest booking by the hour: a quarter of an hour.
MIN_HOURS = 0.25


def _local_time(value: Any) -> time:
    """A local Europe/London time of day, refused if it carries a UTC offset.

    The diary and the supervision log keep wall-clock times (09:30 stays 09:30 when the
    clocks change), so an offset would either be dropped silently or mean a different
    time: it is refused, with the reason.
    """
    if isinstance(value, time):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if _OFFSET.search(text) and ":" in text:
            raise PydanticCustomError(
                "time_offset",
                "give the local (Europe/London) time without a UTC offset, e.g. 09:30",
            )
        if not _LOCAL_TIME.fullmatch(text):
            raise PydanticCustomError(
                "time_format", "give a local time of day as HH:MM or HH:MM:SS, e.g. 09:30"
            )
        parsed = time.fromisoformat(text)
    else:
        raise PydanticCustomError(
            "time_type", "give a local time of day as text, HH:MM or HH:MM:SS, e.g. 09:30"
        )
    if parsed.tzinfo is not None:
        raise PydanticCustomError(
            "time_offset",
            "give the local (Europe/London) time without a UTC offset, e.g. 09:30",
        )
    return parsed


LocalTime = Annotated[
    time,
    BeforeValidator(_local_time),
    WithJsonSchema({
        "type": "string",
        "pattern": LOCAL_TIME_PATTERN,
        "description": "Local Europe/London time of day, HH:MM[:SS], no UTC offset.",
        "examples": ["09:30:00"],
    }),
]


def _enough_hours(value: float) -> float:
    if not math.isfinite(value) or value < MIN_HOURS:
        raise PydanticCustomError(
            "too_few_hours",
            "book at least {minimum} hours (a quarter of an hour)",
            {"minimum": MIN_HOURS},
        )
    return value


BookedHours = Annotated[
    float,
    Field(allow_inf_nan=False, le=24, json_schema_extra={"minimum": MIN_HOURS}),
    AfterValidator(_enough_hours),
]


class ProtectedTimeCreate(RequestBody):
    """A booking: a full day, a half day (morning or afternoon) or a number of hours."""

    day: Day
    length: ProtectedTimeLength = ProtectedTimeLength.full_day
    half: Half | None = Field(default=None, description="For a half day: am or pm.")
    start_time: LocalTime | None = Field(
        default=None, description="For hours: the local (Europe/London) start time, optional."
    )
    hours: BookedHours | None = Field(
        default=None, description="For hours only: at least 0.25 (a quarter of an hour)."
    )
    purpose: ProtectedTimePurpose
    note: Note | None = None
    rebooked_from_id: RecordId | None = Field(
        default=None, description="The cancelled or displaced booking this one replaces."
    )


class ProtectedTimeMove(RequestBody):
    """Rescheduling a booking: a new day and, optionally, a new length or time."""

    day: Day
    length: ProtectedTimeLength | None = None
    half: Half | None = None
    start_time: LocalTime | None = None
    hours: BookedHours | None = None


class ProtectedTimeTaken(RequestBody):
    taken_on: Day | None = Field(
        default=None,
        description="The date the NQSW confirms the time was taken: on or after the booked "
        "day, and not after the request's `on` (today unless given), its default.",
    )
    on: Day | None = request_date_in_body("taken_on")


class Cancellation(RequestBody):
    """Cancelling a booking or a supervision session: always with a reason, which the
    people concerned are told, on a date (default the request's). One body, so both are
    asked the same questions and refuse the same answers."""

    reason: Reason
    cancelled_on: Day | None = Field(
        default=None,
        description="Date of the cancellation; default the request's `on` (today unless "
                    "given).",
    )
    on: Day | None = request_date_in_body("cancelled_on")


class ProtectedTimeCancel(Cancellation):
    """Only a team manager cancels protected time, and always with a reason."""


class ProtectedTimePublic(PublicRecord):
    enrolment_id: RecordId
    day: date
    length: ProtectedTimeLength
    half: Half | None
    start_time: LocalTime | None
    hours: float
    from_time: LocalTime | None = Field(
        default=None, description="The local time the booking holds from: a half day's "
        "window (morning 09:00, afternoon 13:00) or a timed booking's start; null for a "
        "full day or hours without a start time.",
    )
    until_time: LocalTime | None = Field(
        default=None, description="The local time the booking holds until (see from_time)."
    )
    purpose: ProtectedTimePurpose
    note: str | None
    status: ProtectedTimeStatus
    booked_by_id: RecordId | None
    taken_on: date | None = Field(
        default=None, description="The date the time was confirmed as taken (the change's "
        "effective date); taken_at is when Ringfence recorded it.",
    )
    taken_at: datetime | None
    cancelled_on: date | None
    cancelled_by_id: RecordId | None
    cancel_reason: str | None
    displaced_by_pause_id: RecordId | None
    rebooked_from_id: RecordId | None
    rebooked_by_id: RecordId | None = Field(
        default=None, description="The booking that replaced this one, once rebooked."
    )
    created_at: datetime


class Hours(BaseModel):
    hours: float
    days: float
    count: int = 0


class LostTime(BaseModel):
    """A cancelled or displaced booking: who, why, and whether it has been rebooked."""

    id: int
    day: date
    hours: float
    status: ProtectedTimeStatus
    cancelled_on: date | None
    cancelled_by_id: RecordId | None
    cancelled_by_name: str | None
    reason: str | None
    displaced_by_pause_id: RecordId | None
    rebooked_by_id: RecordId | None
    rebooked_on: date | None


class LapsedTime(BaseModel):
    """A booking whose day has passed without being marked taken."""

    id: int
    day: date
    hours: float
    purpose: ProtectedTimePurpose


class EntitlementView(BaseModel):
    """The entitlement for the whole programme and to date, with the working shown."""

    on: date
    programme: str
    programme_start: date
    programme_last_day: date
    provisional: bool = Field(description="True while a pause is open: the end is not known.")
    percent: float
    day_hours: float = Field(description="Length of one protected day (a full-time day).")
    hours: float
    days: float
    accrued_hours: float
    accrued_days: float
    taken_hours: float
    remaining_hours: float
    remaining_days: float
    working: dict[str, Any]
    accrued_working: dict[str, Any]


class DiarySummary(BaseModel):
    on: date
    entitlement: Hours
    accrued: Hours
    booked: Hours = Field(description="Booked for `on` or later: time still ahead.")
    taken: Hours
    lapsed: Hours = Field(
        description="Booked for a day before `on` and never marked taken: mark it taken "
        "if it happened, or it counts neither as taken nor as in the diary.",
    )
    remaining: Hours
    unbooked: Hours = Field(description="Entitlement not taken and not booked ahead.")
    lapsed_bookings: list[LapsedTime] = Field(
        default_factory=list, description="The bookings counted in `lapsed`, by date."
    )
    cancelled: list[LostTime]
    displaced: list[LostTime]
    on_track: bool
    on_track_reason: str
    checks: list[dict[str, Any]] = Field(
        default_factory=list, description="The protected-time rule's checks, as it sees them."
    )


class DiaryPage(Page[ProtectedTimePublic]):
    summary: DiarySummary
