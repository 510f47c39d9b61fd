"""An NQSW's enrolment on the ASYE or SWIP, and the events that change its clock and rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, text
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field

OPEN_ENROLMENT = text("status IN ('active', 'paused')")


class Enrolment(SQLModel, table=True):
    __tablename__ = "enrolment"
    # At most one open (active or paused) enrolment per person, enforced by the database so
    # that two simultaneous requests cannot both enrol the same worker.
    __table_args__ = (
        Index(
            "uq_enrolment_open_per_staff",
            "staff_id",
            unique=True,
            sqlite_where=OPEN_ENROLMENT,
            postgresql_where=OPEN_ENROLMENT,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    programme: str = Field(max_length=20)
    start_date: date
    status: str = Field(default="active", max_length=20, index=True)
    assessor_id: int | None = Field(default=None, foreign_key="staff.id")
    advanced_practitioner_id: int | None = Field(default=None, foreign_key="staff.id")
    outcome: str | None = Field(default=None, max_length=40)
    ended_on: date | None = None
    # Bumped under a row lock by every change to the NQSW's load, so that concurrent
    # allocations to the same NQSW are serialised on PostgreSQL.
    lock_version: int = Field(default=0)
    created_at: datetime = created_at_field()


class Pause(SQLModel, table=True):
    """A deferral: programme time stops between start and end (an open pause has no end)."""

    __tablename__ = "pause"

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    start_date: date
    end_date: date | None = None
    reason: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = created_at_field()


class SignOff(SQLModel, table=True):
    """A readiness sign-off (e.g. child protection work), approved jointly by two managers.

    Readiness is a joint decision: one of the two named managers records it (their
    approval), the other confirms it (theirs). Only a sign-off with both approvals is in
    force; until then it is awaiting the other manager.
    """

    __tablename__ = "sign_off"

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    kind: str = Field(max_length=40)
    signed_on: date
    team_manager_id: int = Field(foreign_key="staff.id")
    senior_manager_id: int = Field(foreign_key="staff.id")
    note: str | None = Field(default=None, max_length=2000)
    revoked_on: date | None = None
    team_manager_approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    senior_manager_approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recorded_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = created_at_field()


class Adjustment(SQLModel, table=True):
    """A time-limited change to one policy parameter for one NQSW.

    Only an approved adjustment is in force. A team manager's proposal waits (`pending`)
    until someone in the role the policy names approves it, and may instead be refused or
    withdrawn; those stay on record, never in force. One recorded directly by a senior
    manager or the ASYE coordinator is approved at once.
    """

    __tablename__ = "adjustment"

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    policy_id: str = Field(max_length=100)
    parameter: str = Field(max_length=200, description="Dotted path inside the policy's rule.")
    value: Any = Field(sa_type=JSON)
    # Whether an agreed number a rule scales by FTE (a stage cap) is final ("as_agreed")
    # or pro rata like the policy's own ("pro_rata"); see app.policy.snapshot.AppliesAs.
    applies_as: str = Field(
        default="as_agreed", max_length=20,
        sa_column_kwargs={"server_default": "as_agreed"},
    )
    reason: str = Field(max_length=2000)
    # pending | approved | refused | withdrawn (app.services.adjustments.Status). Rows
    # recorded before proposals existed were all approved when recorded.
    status: str = Field(
        default="approved", max_length=20, sa_column_kwargs={"server_default": "approved"},
    )
    proposed_by_id: int | None = Field(default=None, foreign_key="staff.id")
    # Set once approved (the approver answers for it being in force).
    approved_by_id: int | None = Field(default=None, foreign_key="staff.id")
    # Who approved, refused or withdrew it, when, and why (a refusal's reason).
    decided_by_id: int | None = Field(default=None, foreign_key="staff.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = Field(default=None, max_length=2000)
    valid_from: date
    valid_to: date | None = None
    created_at: datetime = created_at_field()
