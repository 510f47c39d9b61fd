"""Supervision sessions and programme reviews as the API takes and shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
)

from app.models.diary import SupervisionKind
from app.schemas.common import Day, PublicRecord, RecordId, RequestBody

# A session's reason and note are asked as a booking's are: the same limits.
from app.schemas.diary import Cancellation, LocalTime, Note, Reason


class SupervisionCreate(RequestBody):
    """A session held (or planned), or one that was cancelled, with the reason."""

    day: Day
    start_time: LocalTime | None = Field(
        default=None, description="Local (Europe/London) time, without a UTC offset."
    )
    supervisor_id: RecordId
    kind: SupervisionKind = SupervisionKind.reflective
    minutes: int = Field(default=60, ge=5, le=480)
    note: Note | None = None
    non_working_day: bool = Field(
        default=False,
        description="Confirms a session really held (or planned) on a weekend or a bank "
        "holiday; without it such a date is refused as a likely mistake.",
    )
    cancelled: bool = False
    cancel_reason: Reason | None = Field(default=None, validate_default=True)

    @field_validator("cancel_reason")
    @classmethod
    def _reason_with_cancellation(cls, value: str | None, info: ValidationInfo) -> str | None:
        cancelled = info.data.get("cancelled", False)
        if cancelled and not value:
            raise ValueError("a cancelled session needs a reason")
        if not cancelled and value:
            raise ValueError("only a cancelled session has a cancel_reason")
        return value


class SupervisionCancel(Cancellation):
    pass


class SupervisionPublic(PublicRecord):
    enrolment_id: RecordId
    day: date
    start_time: LocalTime | None
    supervisor_id: RecordId
    kind: SupervisionKind
    minutes: int
    note: str | None
    cancelled: bool
    cancel_reason: str | None
    cancelled_on: date | None
    cancelled_by_id: RecordId | None
    recorded_by_id: RecordId | None
    created_at: datetime


class SupervisionSchedule(BaseModel):
    """The gap since the last session held against what the policy expects at this stage."""

    on: date
    programme_days: int
    programme_months: int
    last_session: date | None
    sessions_held: int
    sessions_cancelled: int
    gap_days: int
    every_days: int
    allowed_days: int
    frequency: str
    overdue: bool
    overdue_from: date | None = Field(
        description="When supervision becomes overdue if no session is held; None while "
        "an open pause stops the clock."
    )
    paused: bool = Field(
        default=False,
        description="True on a day inside a pause: the clock is stopped, nothing is overdue.",
    )


class SupervisionPage(BaseModel):
    data: list[SupervisionPublic]
    count: int
    schedule: SupervisionSchedule | None = Field(
        default=None, description="None when no supervision frequency policy is active."
    )


class ReviewCreate(RequestBody):
    month: int = Field(ge=1, le=36)
    held_on: Day
    note: Note | None = None


class ReviewPointView(BaseModel):
    month: int
    due: date | None = Field(
        description="The working day the review is due: the programme's month boundary, or "
        "the next working day when that falls on a weekend or bank holiday; None while an "
        "open pause stops the clock before it."
    )
    month_boundary: date | None = Field(
        default=None, description="The programme's month boundary itself (pauses included)."
    )
    held_on: date | None
    working_days_late: int
    overdue: bool
    note: str | None = None
    id: int | None = None


class ReviewsView(BaseModel):
    """The review points of a programme, as every list is answered: `data` and `count`."""

    data: list[ReviewPointView]
    count: int
    on: date
    grace_working_days: int
    details: dict[str, Any] = Field(default_factory=dict)
