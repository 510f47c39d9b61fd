"""Breaches: what the engine found wrong with an NQSW's load, and everything done about it.

A breach belongs to one NQSW (staff + enrolment) and one rule of one policy. It is
reconciled, not appended: while the rule's finding persists the same breach stays
unresolved (its latest evidence refreshed); when the finding disappears the breach is
resolved with the reason. Every change is a `BreachEvent`, so the history of a
breach can be read back exactly as it happened. See docs/breaches.md.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, event, text
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field


class BreachStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    excepted = "excepted"
    overridden = "overridden"
    resolved = "resolved"


UNRESOLVED_STATUSES: tuple[str, ...] = (
    BreachStatus.open.value,
    BreachStatus.acknowledged.value,
    BreachStatus.excepted.value,
    BreachStatus.overridden.value,
)


def _detected_on(context: Any) -> date | None:
    """A row inserted without `began_on` (a bulk load of history) began when detected."""
    return context.get_current_parameters().get("opened_on")


class Breach(SQLModel, table=True):
    __tablename__ = "breach"
    __table_args__ = (
        # At most one unresolved breach per NQSW enrolment and rule: reconciliation relies
        # on it, and the database refuses a second one even if two writers race.
        Index(
            "ux_breach_unresolved_rule",
            "enrolment_id",
            "policy_id",
            "rule_id",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index("ix_breach_status_opened", "status", "opened_on"),
        # Ageing and the dashboard's "as of a date" counts read unresolved breaches by
        # when their problem began.
        Index("ix_breach_status_began", "status", "began_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    policy_id: str = Field(max_length=100)
    rule_id: str = Field(max_length=100, index=True)
    kind: str = Field(max_length=60)
    # The finding's outcome when detected ("warn" or "block") and its severity.
    level: str = Field(max_length=10)
    severity: str = Field(max_length=20, index=True)
    severe: bool = Field(default=False)
    status: str = Field(default=BreachStatus.open.value, max_length=20)
    policy_version: str = Field(default="", max_length=64)
    reason: str = Field(default="", max_length=4000)

    opened_at: datetime = created_at_field()
    # When the engine first detected it (the date of that evaluation) ...
    opened_on: date
    # ... and when the problem itself began (the day supervision became overdue, the start
    # of the allocation that first took the load over the cap): never after `opened_on`.
    # A breach is aged from here.
    began_on: date = Field(
        default=None, nullable=False, sa_column_kwargs={"default": _detected_on}
    )
    last_seen_on: date
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_on: date | None = None
    resolution: str | None = Field(default=None, max_length=2000)
    # Why it resolved, for counting and filtering: case_closed, allocation_ended,
    # stage_moved_on, adjustment, sign_off, programme_ended, paused, diary, supervision,
    # policy_changed or changed (anything else); the prose is in `resolution`.
    resolution_cause: str | None = Field(default=None, max_length=40)

    evidence: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    latest_evidence: Any = Field(default=None, sa_column=Column(JSON, nullable=True))

    # 0: the team manager has been told; 1: escalated to the service area's senior manager.
    escalation_level: int = Field(default=0)
    escalation_due_on: date | None = None
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_on: date | None = None

    acknowledged_by_id: int | None = Field(default=None, foreign_key="staff.id")
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledgement_note: str | None = Field(default=None, max_length=4000)

    exception_approver_id: int | None = Field(default=None, foreign_key="staff.id")
    exception_reason: str | None = Field(default=None, max_length=4000)
    exception_expires_on: date | None = None
    exception_granted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    override_by_id: int | None = Field(default=None, foreign_key="staff.id")
    override_reason: str | None = Field(default=None, max_length=2000)
    allocation_id: int | None = Field(default=None, foreign_key="allocation.id")

    updated_at: datetime = created_at_field()


@event.listens_for(Breach, "before_insert")
def _began_when_detected(_mapper: Any, _connection: Any, breach: Breach) -> None:
    """A breach recorded without a beginning (by hand, or from a finding that cannot tell)
    is taken to have begun when it was detected."""
    if breach.began_on is None:
        breach.began_on = breach.opened_on


class BreachEvent(SQLModel, table=True):
    """One change to a breach: opened, escalated, acknowledged, excepted, reopened, resolved."""

    __tablename__ = "breach_event"

    id: int | None = Field(default=None, primary_key=True)
    breach_id: int = Field(foreign_key="breach.id", index=True)
    at: datetime = created_at_field()
    effective_on: date
    action: str = Field(max_length=40)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str | None = Field(default=None, max_length=20)
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    note: str | None = Field(default=None, max_length=4000)
    data: Any = Field(default=None, sa_column=Column(JSON, nullable=True))


class JobLock(SQLModel, table=True):
    """A named lock with an expiry: one sweep at a time across workers on SQLite."""

    __tablename__ = "job_lock"

    name: str = Field(primary_key=True, max_length=60)
    holder: str = Field(max_length=200)
    acquired_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    # The last effective date the job completed for, so several workers run it once a day.
    last_done_on: date | None = None
