"""Protected development time, supervision sessions, review points and calendar tokens.

These are the other two promises of the programme besides a protected caseload. Nothing
here is deleted: a protected day that did not happen is `cancelled` (by a manager, with
a reason) or `displaced` (by a pause), and a replacement booking points back at it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field


class ProtectedTimeStatus(StrEnum):
    booked = "booked"
    taken = "taken"
    cancelled = "cancelled"
    displaced = "displaced"


class ProtectedTimeLength(StrEnum):
    full_day = "full_day"
    half_day = "half_day"
    hours = "hours"


class ProtectedTimePurpose(StrEnum):
    study = "study"
    training = "training"
    portfolio = "portfolio"
    action_learning = "action_learning"
    reflective_practice = "reflective_practice"
    other = "other"


class SupervisionKind(StrEnum):
    reflective = "reflective"
    case = "case"
    joint_with_ap = "joint_with_ap"


class _EnrolmentDayRow(SQLModel):
    """The columns that open a row kept for one local date of one enrolment's programme
    (a booking, a session): each such table is indexed on (enrolment_id, day)."""

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id")
    day: date


class ProtectedTime(_EnrolmentDayRow, table=True):
    """One booking of protected development time on one local date."""

    __tablename__ = "protected_time"
    __table_args__ = (Index("ix_protected_time_enrolment_day", "enrolment_id", "day"),)

    length: str = Field(max_length=20)
    # "am" or "pm" for a half day; a timed booking has a local start time instead.
    half: str | None = Field(default=None, max_length=2)
    start_time: time | None = None
    hours: float
    purpose: str = Field(max_length=40)
    note: str | None = Field(default=None, max_length=2000)
    status: str = Field(default=ProtectedTimeStatus.booked.value, max_length=20, index=True)
    booked_by_id: int | None = Field(default=None, foreign_key="staff.id")
    taken_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_on: date | None = None
    cancelled_by_id: int | None = Field(default=None, foreign_key="staff.id")
    cancel_reason: str | None = Field(default=None, max_length=2000)
    displaced_by_pause_id: int | None = Field(default=None, foreign_key="pause.id")
    # The cancelled or displaced booking this one makes up for.
    rebooked_from_id: int | None = Field(default=None, foreign_key="protected_time.id",
                                         index=True)
    created_at: datetime = created_at_field()


class SupervisionSession(_EnrolmentDayRow, table=True):
    """A supervision session, held or planned; a cancelled one keeps its reason."""

    __tablename__ = "supervision_session"
    __table_args__ = (Index("ix_supervision_session_enrolment_day", "enrolment_id", "day"),)

    start_time: time | None = None
    supervisor_id: int = Field(foreign_key="staff.id")
    kind: str = Field(max_length=20)
    minutes: int = Field(default=60)
    note: str | None = Field(default=None, max_length=2000)
    cancelled: bool = Field(default=False)
    cancel_reason: str | None = Field(default=None, max_length=2000)
    cancelled_on: date | None = None
    cancelled_by_id: int | None = Field(default=None, foreign_key="staff.id")
    recorded_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = created_at_field()


class ReviewPoint(SQLModel, table=True):
    """A programme review (3, 6, 9, 12 ... months) recorded as held."""

    __tablename__ = "review_point"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "month", name="uq_review_point_enrolment_month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    month: int
    held_on: date
    recorded_by_id: int | None = Field(default=None, foreign_key="staff.id")
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = created_at_field()


class CalendarToken(SQLModel, table=True):
    """The secret behind one NQSW's calendar feed URL, kept only as a hash.

    Rotating a token revokes the old row rather than deleting it, so the audit trail
    can still say which feed was live when.
    """

    __tablename__ = "calendar_token"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
