"""Judging a proposed allocation against the engine: the what-if, and the check every
write runs under its lock. Nothing here writes.

A proposal is judged over the whole period it covers, not only on its first day: on
every date where an outcome can change (other allocations starting, stage boundaries,
agreements beginning or ending; see `app.services.allocation_period`). The worst
outcome over those dates decides, and each finding says the date it occurs on.

Workers who are not on a programme (no current enrolment) have no rules: a proposal
for them is judged without findings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session

from app.errors import DomainError
from app.policy.engine import evaluate_proposal
from app.policy.findings import Finding, caused_by_proposal
from app.policy.snapshot import CaseLoadItem, Snapshot
from app.services.allocation_checks import require_allocatable, require_worker
from app.services.allocation_period import (
    Dated,
    PeriodFacts,
    load_period_facts,
    period_stop,
    snapshots_over,
)
from app.services.allocation_types import Decision, Key, Proposal
from app.services.snapshots import load_snapshot

if TYPE_CHECKING:
    from app.policy.registry import PolicySet



def proposed_item(facts: PeriodFacts, proposal: Proposal, on: date) -> CaseLoadItem:
    """The proposed case as the engine sees it on `on` (its terms and holder then)."""
    assert facts.case is not None
    category, complexity = facts.case_on(on)
    co_worked = proposal.role == "co_worker"
    return CaseLoadItem(
        case_id=facts.case.id, reference=facts.case.reference, category=category,
        complexity=complexity, role=proposal.role,  # type: ignore[arg-type]
        start_date=proposal.start, allocation_id=proposal.allocation_id,
        holder_is_advanced_practitioner=(
            facts.holder_is_advanced_practitioner(on) if co_worked else False
        ),
    )


def period_facts(session: Session, proposal: Proposal) -> PeriodFacts:
    """The proposed case and what changes in the period; 422 naming `case_id` if none."""
    facts = load_period_facts(
        session, worker_id=proposal.worker_id, case_id=proposal.case_id,
        after=proposal.start, exclude_allocation_id=proposal.allocation_id,
    )
    if facts.case is None:
        raise DomainError(f"case {proposal.case_id} does not exist", field="case_id")
    return facts


def decide(
    session: Session,
    *,
    policies: PolicySet,
    proposal: Proposal,
    facts: PeriodFacts | None = None,
    first: Snapshot | None = None,
    first_read: bool = False,
) -> Decision:
    """Judge the proposal on every date of its period where an outcome can change: no writes.

    `first`/`first_read`: the worker's snapshot on the first day, when the caller has
    already read it (None: not on a programme that day).
    """
    facts = facts if facts is not None else period_facts(session, proposal)
    if not first_read:
        first = load_snapshot(session, proposal.worker_id, proposal.start, policies=policies)
    if policies is None:
        return Decision(on=proposal.start, enrolled=first is not None, policies=policies)
    def load(day: date) -> Snapshot | None:
        return load_snapshot(session, proposal.worker_id, day, policies=policies)

    dated = snapshots_over(
        load, start=proposal.start,
        stop=period_stop(proposal.end, facts.case.closed_on if facts.case else None),
        facts=facts, first=first,
    )
    return judge(dated, policies=policies, facts=facts, proposal=proposal, reload=load)


def _judge_day(
    snapshot: Snapshot, *, policies: PolicySet, facts: PeriodFacts, proposal: Proposal,
    first: bool = True,
) -> tuple[list[Finding], list[Key]]:
    """The findings with the proposal on the snapshot's day, and the keys it causes
    (`caused_by_proposal`: against the same day's findings without it).

    Rules that do not read the caseload (protected time, supervision) cannot be changed by
    the proposal: they are evaluated on the first day only, for the answer to show.
    """
    without, after = evaluate_proposal(
        snapshot, policies, proposed_item(facts, proposal, snapshot.as_of),
        caseload_only=not first,
    )
    before = {f.key: f for f in without}
    return after, [f.key for f in after if caused_by_proposal(f, before.get(f.key))]


def judge(
    dated: list[Dated], *, policies: PolicySet, facts: PeriodFacts, proposal: Proposal,
    reload: Callable[[date], Snapshot | None] | None = None,
) -> Decision:
    """Fold the findings with and without the proposal over the judged days.

    A day judged on a moved-on snapshot that over-states the load (`Dated.exact` false)
    and finds the proposal causing something is judged again on a snapshot read for it.
    """
    if not dated:
        return Decision(on=proposal.start, enrolled=False, policies=policies)
    order: list[Key] = []
    reported: dict[Key, tuple[Finding, date]] = {}
    caused: dict[Key, date] = {}
    judged_on: list[date] = []
    for index, item in enumerate(sorted(dated, key=lambda d: d.on)):
        day, snapshot = item.on, item.snapshot
        first = index == 0
        after, worse = _judge_day(snapshot, policies=policies, facts=facts, proposal=proposal,
                                  first=first)
        if worse and not item.exact and reload is not None:
            exact = reload(day)
            if exact is None:
                continue
            after, worse = _judge_day(exact, policies=policies, facts=facts,
                                      proposal=proposal, first=first)
        judged_on.append(day)
        caused_here = set(worse)
        for finding in after:
            key = finding.key
            if key not in reported:
                order.append(key)
                reported[key] = (finding, day)
            if key not in caused_here:
                continue
            if key not in caused:
                caused[key] = day
                reported[key] = (finding, day)
            elif finding.outcome.rank > reported[key][0].outcome.rank:
                reported[key] = (finding, day)
    return Decision(
        on=proposal.start, enrolled=True, policies=policies,
        findings=[reported[key][0] for key in order],
        caused_keys=frozenset(caused),
        dates={key: reported[key][1] for key in order},
        first_caused=caused,
        evaluated=tuple(sorted(set(judged_on))),
    )


def check_allocation(
    session: Session, *, policies: PolicySet, case_id: int, worker_id: int, role: str, on: date,
    end: date | None = None,
) -> Decision:
    """The what-if behind `POST /allocations/check`: the same judgement as the write, and
    the same refusals before it (a closed case, a worker who left, a second holder); a
    co-worker asked about as holder is judged as their becoming holder would be."""
    if end is not None and end < on:
        raise DomainError("end date is before the start date", field="end_date")
    proposal = Proposal(case_id=case_id, worker_id=worker_id, role=role, start=on, end=end)
    facts = period_facts(session, proposal)
    assert facts.case is not None
    worker = require_worker(session, worker_id, field="worker_id")
    require_allocatable(session, case=facts.case, worker=worker, role=role, start=on, end=end,
                        as_role_change=True)
    first = load_snapshot(session, worker_id, on, policies=policies)
    return decide(session, policies=policies, proposal=proposal, facts=facts, first=first,
                  first_read=True)


