"""NQSWs and their enrolments as the API shows them: staff and programme in one view.

An enrolment's `status` in every answer is its status on the request's `on` date, worked
out from its dates rather than read from the stored field: `not_started` before its
start date; `withdrawn` or `completed` from its end date (`ended_on`, the first day off
the programme) onwards and `active` before it; `paused` on the days a pause covers.
So a pause or a withdrawal recorded for a later day changes nothing today.
"""

from __future__ import annotations

import operator
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from app.models.base import Programme
from app.schemas.common import PublicRecord, RequestBody, date_order_check
from app.schemas.staff import (
    ChangedWorkingPattern,
    Day,
    Email,
    Fte,
    Hours,
    NewWorkingPattern,
    PersonName,
    RecordId,
)


class EnrolmentStatusOn(StrEnum):
    """An enrolment's status on a given day (see the module docstring)."""

    not_started = "not_started"
    active = "active"
    paused = "paused"
    withdrawn = "withdrawn"
    completed = "completed"


ON_IN_BODY = Field(
    default=None,
    description="When the change takes effect (YYYY-MM-DD); may instead be given as the "
                "`on` query parameter; default today.",
)


class NqswCreate(NewWorkingPattern):
    """A new NQSW: the staff record (role nqsw) and their enrolment, created together.

    Give `fte`, `contracted_hours` or both: the one left out follows from the full-time
    week (see app.schemas.staff).
    """

    name: PersonName
    email: Email
    team_id: RecordId | None = None
    fte: Fte | None = None
    contracted_hours: Hours | None = None
    programme: Programme
    start_date: Day
    employment_start_date: Day | None = None
    assessor_id: RecordId | None = None
    advanced_practitioner_id: RecordId | None = None

    _employed_by_programme_start = field_validator("employment_start_date")(date_order_check(
        "start_date", operator.gt, "employment start {value} is after the programme start {other}"
    ))


class EnrolmentCreate(RequestBody):
    """Enrolling someone already on the staff (e.g. re-enrolling after a withdrawal)."""

    staff_id: RecordId
    programme: Programme
    start_date: Day
    assessor_id: RecordId | None = None
    advanced_practitioner_id: RecordId | None = None


class NqswUpdate(ChangedWorkingPattern):
    """Changes to the people around an NQSW, their working pattern and corrections to their
    current enrolment (`programme`, and `start_date`: the programme's start, as on creation).

    An FTE alone brings its hours with it (full-time week x FTE), as on creation.
    """

    assessor_id: RecordId | None = None
    advanced_practitioner_id: RecordId | None = None
    programme: Programme | None = None
    start_date: Day | None = Field(default=None, description="The programme's start date.")
    fte: Fte | None = None
    contracted_hours: Hours | None = None
    on: Day | None = ON_IN_BODY


class EnrolmentUpdate(RequestBody):
    """Corrections to an enrolment: its programme, start date and the people around it.

    Re-evaluated from `on`: a corrected start date moves every stage boundary.
    """

    programme: Programme | None = None
    start_date: Day | None = None
    assessor_id: RecordId | None = None
    advanced_practitioner_id: RecordId | None = None
    on: Day | None = ON_IN_BODY


class EnrolmentPublic(PublicRecord):
    staff_id: RecordId
    programme: str
    start_date: date
    status: str = Field(description="The status on the request's `on` date: not_started, "
                                    "active, paused, withdrawn or completed.")
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


class PauseBrief(PublicRecord):
    start_date: date
    end_date: date | None
    reason: str


class SignOffBrief(PublicRecord):
    kind: str
    signed_on: date
    revoked_on: date | None


class SignOffStatus(StrEnum):
    awaiting_team_manager = "awaiting_team_manager"
    awaiting_senior_manager = "awaiting_senior_manager"
    approved = "approved"
    revoked = "revoked"


class SignOffPublic(SignOffBrief):
    """A sign-off with both approvers and where it stands."""

    team_manager_id: RecordId
    senior_manager_id: RecordId
    team_manager_approved_at: datetime | None
    senior_manager_approved_at: datetime | None
    recorded_by_id: RecordId | None
    note: str | None
    status: SignOffStatus
    awaiting: str | None = Field(
        description="Whose approval it waits for, in words (null once approved or revoked)."
    )
    in_force_from: date | None = Field(
        description="`signed_on` once both managers have approved; null until then."
    )
    revoke_reason: str | None
    created_at: datetime


class EnrolmentDetail(EnrolmentPublic):
    progress: ProgrammeProgress
    pauses: list[PauseBrief]
    sign_offs: list[SignOffPublic]


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
