"""An NQSW's workload on a date, and the policies in force, as the API shows them."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from app.policy.measures import (
    CapBandMeasures,
    CaseCounts,
    PointsMeasures,
    ShareMeasures,
    StageMeasures,
)
from app.schemas.allocation import FindingPublic
from app.schemas.common import RecordId


class Workload(BaseModel):
    """Every measure of one NQSW's load on a date, with each rule's finding.

    The blocks are the engine's own typed measures (`app.policy.measures`), the same
    objects the pages print, so that the API and the pages never disagree on a figure.
    """

    staff_id: RecordId
    enrolment_id: RecordId
    programme: str
    on: date
    fte: float
    programme_month: int = Field(description="Completed months of programme time (net of pauses).")
    status: str
    stage: StageMeasures
    cases: CaseCounts
    band: CapBandMeasures | None = Field(
        default=None, description="The stage cap band in force; None when no band applies."
    )
    points: PointsMeasures | None = Field(
        default=None, description="The points scheme: the active one, else the organisation's "
        "inactive scheme (`active` says which)."
    )
    share: ShareMeasures | None = Field(
        default=None, description="The share of an experienced worker's load: the active "
        "rule, else an inactive one (`active` says which)."
    )
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
