"""Allocations and the policy check as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from app.models.base import AllocationRole
from app.schemas.common import Day, PublicRecord, RecordId, RequestBody

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class AllocationCreate(RequestBody):
    """A worker takes a part in a case from `start_date` (default today)."""

    case_id: RecordId
    worker_id: RecordId
    role: AllocationRole = AllocationRole.holder
    start_date: Day | None = None
    end_date: Day | None = Field(
        default=None, description="First day the worker no longer holds the case (exclusive)."
    )
    override_reason: Reason | None = Field(
        default=None,
        description="Allocate past a blocking policy: you must hold a role the policy "
        "allows to override (the override is recorded in your name).",
    )


class AllocationUpdate(RequestBody):
    """Reassign, change role, or move the end date, effective `on` (default today).

    A change of worker or role after the allocation has started ends it on `on` and
    starts a successor, so history keeps who held the case when. A co-worker becomes the
    holder in one request with `{"role": "holder", "end_current_holder": true}`: the
    case's current holder's allocation ends on `on` and the co-worker takes over, after
    the same policy check as any allocation (refused: nothing changes).
    """

    worker_id: RecordId | None = None
    role: AllocationRole | None = None
    end_date: Day | None = Field(
        default=None, description="First day no longer held (exclusive); null: open-ended."
    )
    on: Day | None = None
    override_reason: Reason | None = None
    end_current_holder: bool = Field(
        default=False,
        description="With role=holder: end the case's current named holder's allocation on "
        "`on`, in the same transaction (a co-worker becoming holder).",
    )


class AllocationEnd(RequestBody):
    on: Day | None = Field(default=None, description="First day no longer held; default today.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class AllocationCheck(RequestBody):
    """A what-if: would this allocation, from `on` to `end_date`, be allowed? Nothing is
    written. It is judged as the write would be: on every date of the period where an
    outcome can change (open-ended by default)."""

    case_id: RecordId
    worker_id: RecordId
    role: AllocationRole = AllocationRole.holder
    on: Day | None = Field(default=None, description="The first day; default today.")
    end_date: Day | None = Field(
        default=None, description="First day no longer held (exclusive); default open-ended."
    )


class AllocationPublic(PublicRecord):
    case_id: RecordId
    worker_id: RecordId
    role: str
    start_date: date
    end_date: date | None
    allocated_by_id: RecordId | None
    override_reason: str | None
    created_at: datetime


class FindingPublic(BaseModel):
    """One rule's verdict; `caused_by_proposal` marks what the proposed change adds, and
    `on` the date the verdict is for (a later date of the period when that is where the
    proposal breaks or worsens the rule); `began_on`, when the rule can tell, the day the
    problem began (supervision overdue since its due date)."""

    on: date | None = None
    began_on: date | None = None
    policy_id: str
    rule_id: str
    kind: str
    outcome: str
    severity: str
    reason: str
    measured: float | None = None
    limit: float | None = None
    policy_version: str = ""
    adjusted_by: list[int | None] = []
    details: dict[str, Any] = {}
    caused_by_proposal: bool = False
    enforcement: str | None = None
    override_by: list[str] = []


class BreachRef(BaseModel):
    id: int
    policy_id: str
    rule_id: str
    status: str
    level: str
    severity: str


class CheckResult(BaseModel):
    """The decision on a proposed allocation and every rule's finding."""

    outcome: str = Field(description="ok, warn or block: what the proposal would cause.")
    current_outcome: str = Field(description="The worst finding with the proposal in place.")
    enrolled: bool = Field(description="False when the worker is not on a programme: no rules.")
    on: date
    findings: list[FindingPublic]
    caused: list[FindingPublic] = Field(
        default=[], description="The findings the proposal causes or makes worse, blocks "
        "first: what a refusal is for.")
    pre_existing: list[FindingPublic] = Field(
        default=[], description="The findings that are not ok but already so without the "
        "proposal, blocks first: never a reason to refuse it.")


class AllocationWritten(AllocationPublic):
    """A written allocation with the check that allowed it and the breaches it touched."""

    outcome: str
    findings: list[FindingPublic]
    breaches: list[BreachRef] = []
    ended_allocation_id: RecordId | None = Field(
        default=None, description="The allocation this one succeeds (ended on its start)."
    )
    ended_holder_allocation_id: RecordId | None = Field(
        default=None, description="The previous holder's allocation, ended by "
        "`end_current_holder`."
    )
