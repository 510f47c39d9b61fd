"""Programme events as the API takes them: pause, resume, withdraw, complete, sign-off."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.models.base import PauseReason
from app.schemas.common import RecordId
from app.schemas.enrolment import EnrolmentPublic, PauseBrief, SignOffBrief

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Kind = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40,
                                        pattern=r"^[a-z][a-z0-9_]*$")]


class WithdrawReason(StrEnum):
    health = "health"
    maternity = "maternity"
    left_employer = "left_employer"
    other = "other"


class ProgrammeOutcome(StrEnum):
    passed = "passed"
    failed = "failed"


class PauseRequest(BaseModel):
    """A deferral: the programme clock stops from `start_date` until the NQSW resumes."""

    model_config = ConfigDict(extra="forbid")

    start_date: date
    reason: PauseReason
    note: Note | None = None


class ResumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: date = Field(description="The first day back; the pause ends the day before.")


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: date | None = Field(default=None, description="Last day on the programme; default today.")
    reason: WithdrawReason
    note: Note | None = None


class CompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: date | None = Field(default=None, description="Date of completion; default today.")
    outcome: ProgrammeOutcome
    note: Note | None = None


class SignOffRequest(BaseModel):
    """A joint decision: the team manager and a senior (strategic) manager both approve."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind = "child_protection"
    signed_on: date | None = Field(default=None, description="Default today.")
    team_manager_id: RecordId
    senior_manager_id: RecordId
    note: Note | None = None


class ProgrammeState(BaseModel):
    """The enrolment after the event, its pauses and sign-offs, and what the event touched."""

    enrolment: EnrolmentPublic
    pauses: list[PauseBrief]
    sign_offs: list[SignOffBrief]
    displaced_protected_time: list[int] = Field(
        default_factory=list, description="Bookings the event displaced (to be rebooked)."
    )
    cancelled_protected_time: list[int] = Field(
        default_factory=list, description="Bookings after the end of the programme, cancelled."
    )
    restored_protected_time: list[int] = Field(
        default_factory=list,
        description="Bookings an open pause displaced that fall after the return: booked again.",
    )
