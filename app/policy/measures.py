"""The typed measures of one NQSW's load on a date: what the engine computes, once.

The workload API and the pages both print these figures, so that a number shown
anywhere is the engine's own and never recomputed. The programme-level figures (stage,
case counts) are filled by the engine; each rule kind that measures something of the
load adds its own block through its `measure_load` hook (`app.policy.rules.base`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.policy.rules.points import PointsMeasures
from app.policy.rules.stage_cap import CapBandMeasures
from app.policy.rules.workload_share import ShareMeasures

__all__ = [
    "CapBandMeasures",
    "CaseCounts",
    "NextReview",
    "PointsMeasures",
    "ShareMeasures",
    "StageMeasures",
    "WorkloadMeasures",
]


class NextReview(BaseModel):
    """The next programme review point and the date it falls due (pauses included)."""

    model_config = ConfigDict(frozen=True)

    month: int
    date: dt.date | None = Field(description="None while an open pause stops the clock.")


class StageMeasures(BaseModel):
    """Where the NQSW is in programme time (net of pauses)."""

    model_config = ConfigDict(frozen=True)

    programme_days: int
    programme_months: int = Field(description="Completed months of programme time.")
    month_fraction: float = Field(description="Months of programme time, with the fraction.")
    next_review: NextReview | None = None


class CaseCounts(BaseModel):
    """The caseload on the date; `weighted` counts co-worked cases as the cap rule does."""

    model_config = ConfigDict(frozen=True)

    held: int
    co_worked: int
    total: int
    weighted: float | None = Field(
        default=None, description="None when no stage cap rule says how to weigh cases."
    )


class WorkloadMeasures(BaseModel):
    """Every measure of the NQSW's load on the date, with every active rule's finding."""

    model_config = ConfigDict(frozen=True)

    staff_id: int
    enrolment_id: int
    programme: str
    as_of: dt.date
    fte: float
    stage: StageMeasures
    cases: CaseCounts
    band: CapBandMeasures | None = None
    points: PointsMeasures | None = None
    share: ShareMeasures | None = None
    outcome: str = "ok"
    findings: list[dict[str, Any]] = Field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The measures as plain data (dates as ISO strings), for callers that spread them."""
        data = self.model_dump(mode="json", exclude={"findings"})
        data["findings"] = self.findings
        return data
