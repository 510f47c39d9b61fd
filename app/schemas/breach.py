"""Breaches, their history and the dashboard aggregates as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from app.schemas.common import Day, PublicRecord, RecordId, RequestBody

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class BreachPublic(PublicRecord):
    staff_id: RecordId
    nqsw_name: str | None = None
    team_id: RecordId | None = None
    team_name: str | None = None
    service_area_id: RecordId | None = None
    enrolment_id: RecordId
    policy_id: str
    rule_id: str
    kind: str
    level: str
    severity: str
    severe: bool
    status: str
    policy_version: str
    reason: str
    opened_at: datetime = Field(description="When the engine first detected it.")
    opened_on: date = Field(description="The date of the evaluation that detected it.")
    began_on: date = Field(
        description="When the problem began (the day supervision became overdue, the start "
        "of the allocation that took the load over a cap); never after `opened_on`. The "
        "breach is aged from here."
    )
    last_seen_on: date
    resolved_at: datetime | None
    resolved_on: date | None
    resolution: str | None
    resolution_cause: str | None = Field(
        default=None,
        description="Why it resolved: case_closed, allocation_ended, stage_moved_on, "
        "adjustment, sign_off, programme_ended, paused, diary, supervision, policy_changed "
        "or changed.",
    )
    escalation_level: int
    escalation_due_on: date | None
    escalated_at: datetime | None
    escalated_on: date | None
    acknowledged_by_id: RecordId | None
    acknowledged_at: datetime | None
    acknowledgement_note: str | None
    exception_approver_id: RecordId | None
    exception_reason: str | None
    exception_expires_on: date | None
    override_by_id: RecordId | None = Field(
        description="Who allocated past the rule with a reason (status `overridden` when "
        "their role may override; a warning passed by anyone else stays open)."
    )
    override_reason: str | None
    allocation_id: RecordId | None
    age_days: int | None = Field(
        default=None,
        description="Calendar days from `began_on` to `on` (or to `resolved_on`, if earlier).",
    )
    age_working_days: int | None = Field(
        default=None,
        description="Working days (England and Wales, bank holidays excluded) after "
        "`began_on` up to `on` (or to `resolved_on`, if earlier).",
    )
    detected_working_days: int | None = Field(
        default=None, description="Working days after `opened_on`, counted the same way."
    )


class BreachEventPublic(PublicRecord):
    at: datetime
    effective_on: date
    action: str
    from_status: str | None
    to_status: str | None
    actor_id: RecordId | None
    note: str | None
    data: Any = None


class BreachDetail(BreachPublic):
    """A breach with the evidence at detection, the latest evidence and its history."""

    evidence: Any = None
    latest_evidence: Any = None
    history: list[BreachEventPublic] = []


class AcknowledgeRequest(RequestBody):
    note: Note
    on: Day | None = None


class ExceptionRequest(RequestBody):
    """An agreed exception until a date. The approver is the person signed in: a senior
    manager or coordinator (not the one who overrode the limit, where the organisation's
    separation setting asks for a second person)."""

    reason: Note
    expires_on: Day = Field(description="Last day the exception holds.")
    on: Day | None = None


class SweepRequest(RequestBody):
    as_of: Day | None = None


class SweptBreach(BaseModel):
    id: RecordId
    staff_id: RecordId
    policy_id: str
    rule_id: str
    kind: str
    began_on: date
    opened_on: date


class SweepSummary(BaseModel):
    """What the sweep did as of `as_of`, and what it found unresolved for that date."""

    as_of: date
    nqsws: int
    opened: int
    kept: int
    resolved: int
    escalated: int
    reopened: int
    began_earlier: int = Field(
        default=0, description="Breaches whose beginning this date showed to be earlier."
    )
    unresolved: int = Field(
        default=0, description="Breaches found unresolved for `as_of` (opened or kept)."
    )
    found: list[SweptBreach] = Field(
        default=[], description="Those breaches, the longest-running first (at most 100)."
    )


class TeamRuleCount(BaseModel):
    team_id: RecordId | None
    team_name: str | None
    policy_id: str
    rule_id: str
    count: int


class AgeingBucket(BaseModel):
    label: str
    min_working_days: int
    max_working_days: int | None
    count: int


class BreachSummary(BaseModel):
    """Unresolved breaches as of `on`: by team and rule, by status and severity, by age."""

    on: date
    total: int
    by_team_rule: list[TeamRuleCount]
    by_status: dict[str, int]
    by_severity: dict[str, int]
    ageing: list[AgeingBucket]


class TrendPoint(BaseModel):
    week_ending: date
    open: int
    opened: int
    resolved: int


class BreachTrend(BaseModel):
    on: date
    weeks: int
    series: list[TrendPoint]

