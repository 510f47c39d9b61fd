"""NQSWs and their enrolments as the API shows them: staff and programme in one view."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from app.models.base import Programme
from app.schemas.staff import Day, Email, Fte, Hours, PersonName, RecordId


class NqswCreate(BaseModel):
    """A new NQSW: the staff record (role nqsw) and their enrolment, created together."""

    model_config = ConfigDict(extra="forbid")

    name: PersonName
    email: Email
    team_id: RecordId | None = None
    contracted_hours: Hours = 37.0
    fte: Fte = 1.0
    programme: Programme
    start_date: Day
    employment_start_date: Day | None = None
    assessor_id: RecordId | None = None
    advanced_practitioner_id: RecordId | None = None

    @field_validator("employment_start_date")
    @classmethod
    def _employed_by_programme_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if value is not None and start is not None and value > start:
            raise ValueError(
                f"employment start {value} is after the programme start {start}"
            )
        return value


class EnrolmentCreate(BaseModel):
    """Enrolling someone already on the staff (e.g. re-enrolling after a withdrawal)."""

    model_config = ConfigDict(extra="forbid")

    staff_id: RecordId
    programme: Programme
    start_date: Day
    assessor_id: RecordId | None = None
    advanced_practitioner_id: RecordId | None = None


class NqswUpdate(BaseModel):
    """Changes to the people around an NQSW and to their working pattern."""

    model_config = ConfigDict(extra="forbid")

    assessor_id: RecordId | None = None
    advanced_practitioner_id: RecordId | None = None
    fte: Fte | None = None
    contracted_hours: Hours | None = None


class EnrolmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    staff_id: RecordId
    programme: str
    start_date: date
    status: str
    assessor_id: RecordId | None
    advanced_practitioner_id: RecordId | None
    outcome: str | None
    ended_on: date | None
    created_at: datetime


class ReviewPoint(BaseModel):
    month: int
    due_on: date | None


class ProgrammeProgress(BaseModel):
    """Where the NQSW is in programme time (calendar time minus pauses) on `on`."""

    on: date
    programme_days: int
    paused_days: int
    months_completed: int
    month: int | None
    stage: str
    stage_label: str
    paused: bool
    end_date: date | None
    reviews: list[ReviewPoint]


class PauseBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    start_date: date
    end_date: date | None
    reason: str


class SignOffBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    signed_on: date
    revoked_on: date | None


class EnrolmentDetail(EnrolmentPublic):
    progress: ProgrammeProgress
    pauses: list[PauseBrief]
    sign_offs: list[SignOffBrief]


class NqswPublic(BaseModel):
    """One NQSW: their staff record, their current enrolment and their progress."""

    id: int
    name: str
    email: str
    role: str
    team_id: RecordId | None
    contracted_hours: float
    fte: float
    start_date: date
    leave_date: date | None
    enrolment: EnrolmentPublic
    progress: ProgrammeProgress
