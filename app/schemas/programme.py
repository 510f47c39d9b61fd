"""Programme events as the API takes them: pause, resume, withdraw, complete, and the
joint sign-off (recorded by one manager, approved by the other, revocable)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.models.base import PauseReason
from app.schemas.common import Day, RecordId, RequestBody, request_date_in_body
from app.schemas.enrolment import (  # noqa: F401  (re-exported: the programme's API)
    EnrolmentPublic,
    PauseBrief,
    SignOffBrief,
    SignOffPublic,
    SignOffStatus,
)

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
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


class PauseRequest(RequestBody):
    """A deferral: the programme clock stops from `start_date` until the NQSW resumes."""

    start_date: Day
    reason: PauseReason
    note: Note | None = None


class ResumeRequest(RequestBody):
    """The return from a pause, as the service takes it: the first day back."""

    resumed_on: Day = Field(description="The first day back; the pause ends the day before.")


class ResumeBody(RequestBody):
    """`POST .../resume` as the API takes it: the first day back, which may differ from
    the request's date (docs/api.md, "Effective dates"), defaults to it."""

    resumed_on: Day | None = Field(
        default=None,
        description="The first day back; the pause ends the day before (its `end_date`). "
                    "Default: the request's `on` (today unless given).",
    )
    on: Day | None = request_date_in_body("resumed_on")


class WithdrawRequest(RequestBody):
    ended_on: Day | None = Field(
        default=None,
        description="The last day on the programme (the enrolment's `ended_on`); default "
                    "the request's `on` (today unless given). Protected time booked after "
                    "it is cancelled.",
    )
    reason: WithdrawReason
    note: Note | None = None
    on: Day | None = request_date_in_body("ended_on")


class CompleteRequest(RequestBody):
    ended_on: Day | None = Field(
        default=None,
        description="The last day on the programme, its completion (the enrolment's "
                    "`ended_on`); default the request's `on` (today unless given). "
                    "Protected time booked after it is cancelled.",
    )
    outcome: ProgrammeOutcome
    note: Note | None = None
    on: Day | None = request_date_in_body("ended_on")


class SignOffRequest(RequestBody):
    """A joint decision of the NQSW's team manager and their service area's senior manager.

    One of the two named managers records it (their approval); it is in force, from
    `signed_on`, once the other has approved it too.
    """

    kind: Kind = "child_protection"
    signed_on: Day | None = Field(
        default=None, description="The day it takes effect once both approve; default today."
    )
    team_manager_id: RecordId = Field(description="The NQSW's team manager.")
    senior_manager_id: RecordId = Field(
        description="The senior manager of the NQSW's service area."
    )
    note: Note | None = None


class SignOffApproveRequest(RequestBody):
    """The second manager's approval (the body is optional)."""

    note: Note | None = None


class SignOffRevokeRequest(RequestBody):
    """Withdrawing a sign-off (or a proposal still awaiting approval), with the reason."""

    revoked_on: Day | None = Field(
        default=None,
        description="The first day it no longer applies (not before `signed_on`); default "
                    "the request's `on` (today unless given).",
    )
    reason: Reason
    on: Day | None = request_date_in_body("revoked_on")


class ProgrammeState(BaseModel):
    """The enrolment after the event, its pauses and sign-offs, and what the event touched."""

    enrolment: EnrolmentPublic
    pauses: list[PauseBrief]
    sign_offs: list[SignOffPublic]
    sign_off: SignOffPublic | None = Field(
        default=None, description="The sign-off this request recorded, approved or revoked."
    )
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
