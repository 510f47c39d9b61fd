"""Protected development time as the API takes and shows it."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.models.diary import ProtectedTimeLength, ProtectedTimePurpose, ProtectedTimeStatus
from app.schemas.common import Page, RecordId

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Half = Literal["am", "pm"]


class ProtectedTimeCreate(BaseModel):
    """A booking: a full day, a half day (morning or afternoon) or a number of hours."""

    model_config = ConfigDict(extra="forbid")

    day: date
    length: ProtectedTimeLength = ProtectedTimeLength.full_day
    half: Half | None = Field(default=None, description="For a half day: am or pm.")
    start_time: time | None = Field(
        default=None, description="For hours: the local (Europe/London) start time, optional."
    )
    hours: float | None = Field(default=None, gt=0, le=24, description="For hours only.")
    purpose: ProtectedTimePurpose
    note: Note | None = None
    rebooked_from_id: RecordId | None = Field(
        default=None, description="The cancelled or displaced booking this one replaces."
    )


class ProtectedTimeMove(BaseModel):
    """Rescheduling a booking: a new day and, optionally, a new length or time."""

    model_config = ConfigDict(extra="forbid")

    day: date
    length: ProtectedTimeLength | None = None
    half: Half | None = None
    start_time: time | None = None
    hours: float | None = Field(default=None, gt=0, le=24)


class ProtectedTimeTaken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: date | None = Field(default=None, description="When it was confirmed; default today.")


class ProtectedTimeCancel(BaseModel):
    """Only a team manager cancels protected time, and always with a reason."""

    model_config = ConfigDict(extra="forbid")

    cancelled_by_id: RecordId | None = Field(
        default=None, description="The team manager cancelling; default the signed-in person."
    )
    reason: Reason
    on: date | None = Field(default=None, description="Date of the cancellation; default today.")


class ProtectedTimePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    enrolment_id: RecordId
    day: date
    length: ProtectedTimeLength
    half: Half | None
    start_time: time | None
    hours: float
    purpose: ProtectedTimePurpose
    note: str | None
    status: ProtectedTimeStatus
    booked_by_id: RecordId | None
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
    booked: Hours
    taken: Hours
    remaining: Hours
    unbooked: Hours
    cancelled: list[LostTime]
    displaced: list[LostTime]
    on_track: bool
    on_track_reason: str
    checks: list[dict[str, Any]] = Field(
        default_factory=list, description="The protected-time rule's checks, as it sees them."
    )


class DiaryPage(Page[ProtectedTimePublic]):
    summary: DiarySummary
