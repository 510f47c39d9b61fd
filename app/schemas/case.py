"""Cases as the API shows them, with the allocations current on a date."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.schemas.common import PublicRecord, RequestBody
from app.schemas.staff import Day, RecordId, no_nul

Reference = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(no_nul),
]
Category = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=40),
    AfterValidator(no_nul),
    Field(description="A built-in category or one the organisation's policies add."),
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2000), AfterValidator(no_nul)
]
Complexity = Annotated[int, Field(ge=1, le=4, description="1 (lowest) to 4 (highest).")]


class CaseCreate(RequestBody):
    reference: Reference
    category: Category
    complexity: Complexity
    opened_on: Day
    team_id: RecordId | None = None


class CaseUpdate(RequestBody):
    """A change of facts (the case escalated); re-evaluated, never refused by policy."""

    category: Category | None = None
    complexity: Complexity | None = None
    team_id: RecordId | None = None
    reason: Reason | None = None


class CaseCloseRequest(RequestBody):
    on: Day | None = None
    reason: Reason | None = None


class CasePublic(PublicRecord):
    reference: str
    category: str
    complexity: int
    team_id: RecordId | None
    opened_on: date
    closed_on: date | None
    created_at: datetime


class AllocationBrief(PublicRecord):
    worker_id: RecordId
    role: str
    start_date: date
    end_date: date | None


class CaseDetail(CasePublic):
    on: date
    allocations: list[AllocationBrief]
