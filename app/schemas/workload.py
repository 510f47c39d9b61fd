"""An NQSW's workload on a date, and the policies in force, as the API shows them."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from app.schemas.allocation import FindingPublic
from app.schemas.common import RecordId


class Workload(BaseModel):
    """Every measure of one NQSW's load on a date, with each rule's finding."""

    staff_id: RecordId
    enrolment_id: RecordId
    programme: str
    on: date
    fte: float
    programme_month: int = Field(description="Completed months of programme time (net of pauses).")
    status: str
    stage: dict[str, Any]
    cases: dict[str, Any]
    band: dict[str, Any] | None = None
    points: dict[str, Any] | None = None
    share: dict[str, Any] | None = None
    benchmark_load: float | None = None
    outcome: str
    findings: list[FindingPublic]
    open_breaches: int = 0


class PolicyRuleView(BaseModel):
    id: str
    kind: str
    title: str | None = None
    enforcement: str
    severity: str
    override_by: list[str]
    escalation: dict[str, Any]
    params: dict[str, Any]
    statement: str


class PolicyView(BaseModel):
    id: str
    title: str
    summary: str | None = None
    version: str
    file: str | None = None
    active_for: list[str]
    rules: list[PolicyRuleView]
    statement: str


class ProgrammePolicies(BaseModel):
    programme: str
    heading: str
    policies: list[PolicyView]


class PoliciesOverview(BaseModel):
    """Every policy (structured, with its plain-English statement) and what applies where."""

    version: str
    policies: list[PolicyView]
    programmes: list[ProgrammePolicies]
