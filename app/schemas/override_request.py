"""Override requests in the API: asking, deciding, and the request as shown."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.models.base import AllocationRole
from app.models.override import OverrideRequestStatus
from app.schemas.common import Day, RecordId, RequestBody

# Length is checked against the policy (`policies/overrides.toml`) by the service, so a
# too-short reason is refused with the organisation's own minimum.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class OverrideRequestCreate(RequestBody):
    """Ask for an override of the firm limit that refuses this allocation."""

    case_id: RecordId
    worker_id: RecordId
    role: AllocationRole = AllocationRole.holder
    starts_on: Day | None = Field(default=None, description="Default today.")
    reason: Reason = Field(description="Why the limit should be set aside for this case; "
                                       "at least the policy's minimum length.")


class OverrideDecision(RequestBody):
    """Approve or refuse, with the decider's own reason (an approval's reason is the
    override's, and needs the policy's minimum length)."""

    reason: Reason


class OverrideRequestPublic(BaseModel):
    """A request for an override, with the names a person reads."""

    id: int
    case_id: int
    case_reference: str
    starts_on: date = Field(description="The day the allocation is to start (an approval "
                                        "after it starts it from the day of the approval).")
    worker_id: int
    worker_name: str
    role: AllocationRole
    requested_by_id: int = Field(description="The manager who asked (the person signed in).")
    requested_by_name: str
    reason: str = Field(description="Why they ask.")
    status: OverrideRequestStatus
    decided_by_roles: list[str] = Field(description="The roles the request went to.")
    decided_by_id: int | None = Field(description="Who approved or refused it.")
    decided_by_name: str | None
    decision_reason: str | None = Field(description="The decider's own reason.")
    decided_at: datetime | None = Field(description="When it was decided or withdrawn.")
    expires_on: date = Field(description="The last day it can be decided; after it, it "
                                         "lapses (status `expired`).")
    allocation_id: int | None = Field(description="The allocation an approval made.")
    created_at: datetime
