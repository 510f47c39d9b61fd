"""A team manager's request for an override of a firm limit, and the decision on it.

A team manager whose allocation is refused by a limit they may not override asks someone
who may (a senior manager, under the policy) with a reason; that person approves with
their own reason, which makes the allocation as their override, or refuses. A request
nobody answers lapses on `expires_on`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field


class OverrideRequestStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    refused = "refused"
    expired = "expired"
    withdrawn = "withdrawn"


class OverrideRequest(SQLModel, table=True):
    __tablename__ = "override_request"
    __table_args__ = (
        # The decider's list and the daily lapse read pending requests by expiry.
        Index("ix_override_request_status_expires", "status", "expires_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    worker_id: int = Field(foreign_key="staff.id", index=True)
    role: str = Field(max_length=20)
    starts_on: date
    requested_by_id: int = Field(foreign_key="staff.id", index=True)
    reason: str = Field(max_length=2000)
    # The roles that could override the limits the allocation broke when it was asked for:
    # whom the request went to (comma-separated role names).
    decider_roles: str = Field(default="senior_manager", max_length=200)
    status: str = Field(default=OverrideRequestStatus.pending.value, max_length=20)
    decided_by_id: int | None = Field(default=None, foreign_key="staff.id")
    decision_reason: str | None = Field(default=None, max_length=2000)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_on: date
    allocation_id: int | None = Field(default=None, foreign_key="allocation.id")
    created_at: datetime = created_at_field()
