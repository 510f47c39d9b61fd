"""Who could take a case, as the API shows it: each worker's verdict and load, best first."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from app.policy.measures import CaseCounts, NextReview, PointsMeasures, ShareMeasures
from app.schemas.common import RecordId
from app.services.candidates import Candidate, CandidateList

ORDER = (
    "Allowed first, then a warning, then blocked (what allocating the case would cause); "
    "within each, NQSWs with the most room under their cap first, then workers the policy "
    "sets no cap for, fewest cases first; then by name."
)


class CandidateReason(BaseModel):
    """One finding in plain words: `on` is the day it is found on (a later day of the
    allocation's period when that is where it breaks a rule)."""

    outcome: str = Field(description="warn or block.")
    reason: str
    on: date


class RuleStatus(BaseModel):
    """Where the worker stands today on one rule (protected time, supervision)."""

    outcome: str = Field(description="ok, warn or block.")
    reason: str


class SupervisionStatus(RuleStatus):
    last_session: date | None = None
    overdue_from: date | None = Field(
        default=None, description="The first day supervision is overdue unless one is held "
        "before it (None while a pause stops the clock).")
    paused: bool = False


class CandidatePublic(BaseModel):
    """One worker of the case's team as a candidate for it, with the engine's figures."""

    staff_id: RecordId
    name: str
    role: str = Field(description="The worker's role (nqsw, social_worker, ...).")
    fte: float
    enrolled: bool = Field(description="On a programme on the date: the rules apply.")
    programme: str | None = None
    outcome: str = Field(description="ok, warn or block: what allocating the case to them "
                                     "would cause (the what-if check's `outcome`).")
    reasons: list[CandidateReason] = Field(
        description="What the allocation would cause or make worse, blocks first.")
    already: list[CandidateReason] = Field(
        default=[], description="What is already so without it (never a reason to refuse).")
    override_by: list[str] = Field(
        default=[], description="Roles that may override a block, when it is blocked.")
    on_case: str | None = Field(
        default=None, description="holder or co_worker when they already work on the case.")
    cases: CaseCounts
    cap: float | None = Field(default=None, description="The engine's cap for them on the "
                              "date (pro rata, as agreed or the policy's); None: no cap.")
    cap_note: str = ""
    room: float | None = Field(default=None, description="The cap less the weighted caseload.")
    points: PointsMeasures | None = None
    share: ShareMeasures | None = None
    protected_time: RuleStatus | None = None
    supervision: SupervisionStatus | None = None
    next_review: NextReview | None = None


class CandidatesPublic(BaseModel):
    """Every case-holding worker of the case's team in post on `on`, best candidates first."""

    case_id: RecordId
    reference: str
    team_id: int | None
    on: date
    role: str
    open: bool = Field(description="Whether the case is open on `on` (a closed case cannot "
                                   "be allocated).")
    order: str = Field(default=ORDER, description="How the list is ordered, in words.")
    data: list[CandidatePublic] = Field(description="The candidates, best first.")
    count: int

    @classmethod
    def of(cls, found: CandidateList) -> CandidatesPublic:
        case = found.case
        assert case.id is not None
        return cls(case_id=case.id, reference=case.reference, team_id=case.team_id,
                   on=found.on, role=found.role, open=found.case_open,
                   data=[candidate_public(c) for c in found.candidates],
                   count=len(found.candidates))


def candidate_public(candidate: Candidate) -> CandidatePublic:
    person, measures = candidate.person, candidate.measures
    assert person.id is not None
    protected = candidate.finding_of("protected_time")
    return CandidatePublic(
        staff_id=person.id, name=person.name, role=person.role,
        fte=measures.fte if measures is not None else person.fte,
        enrolled=measures is not None,
        programme=measures.programme if measures is not None else None,
        outcome=candidate.outcome.value,
        reasons=[CandidateReason(**vars(r)) for r in candidate.reasons()],
        already=[CandidateReason(**vars(r)) for r in candidate.reasons(caused=False)],
        override_by=candidate.override_roles,
        on_case=candidate.on_case,
        cases=candidate.cases,
        cap=candidate.cap,
        cap_note=measures.band.cap_note if measures is not None and measures.band else "",
        room=candidate.room,
        points=measures.points if measures is not None else None,
        share=measures.share if measures is not None else None,
        protected_time=RuleStatus(outcome=protected["outcome"], reason=protected["reason"])
        if protected else None,
        supervision=supervision_status(candidate.finding_of("supervision")),
        next_review=measures.stage.next_review if measures is not None else None,
    )


def supervision_status(finding: dict[str, Any] | None) -> SupervisionStatus | None:
    """The supervision rule's finding with the engine's own dates (its frequency check)."""
    if finding is None:
        return None
    frequency = (finding.get("details") or {}).get("frequency") or {}
    return SupervisionStatus(
        outcome=finding["outcome"], reason=finding["reason"],
        last_session=frequency.get("last_session"),
        overdue_from=frequency.get("overdue_from"),
        paused=bool(frequency.get("paused", False)),
    )
