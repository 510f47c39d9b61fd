"""What a change of a case's category or complexity would do to the people on it, before
it is saved.

A change of facts is never refused (app/services/cases.py): it is recorded and the people
on the case are re-evaluated, which opens breaches where it puts them over a limit. The
page shows those breaches first, so a manager re-categorising a case sees what it will
cause for its holder and co-workers, in the engine's words. Each worker's snapshot on the
day of the change is judged as it is and with the case's new terms, and the findings
the change causes are told apart from those already there, exactly as for a proposed
allocation (`caused_by_proposal`). Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session

from app.models import Allocation, Case
from app.policy.engine import evaluate_proposal
from app.policy.findings import caused_by_proposal
from app.repositories import case as case_repository
from app.services.allocation_types import Decision
from app.services.snapshots import load_snapshots

if TYPE_CHECKING:
    from app.policy.registry import PolicySet


@dataclass
class WorkerOutlook:
    """One person on the case: their allocation, and the engine's decision on the
    change for them (`enrolled` false: not on a programme, no rule applies)."""

    allocation: Allocation
    decision: Decision


def preview_change(
    session: Session, *, policies: PolicySet, case: Case, category: str, complexity: int,
    on: date,
) -> list[WorkerOutlook]:
    """Each allocation held on the case on `on`, holder first, with what the new terms
    would cause for its worker on that day."""
    assert case.id is not None
    held = case_repository.held_on_cases(session, [case.id], on).get(case.id, [])
    held = sorted(held, key=lambda a: (a.role != "holder", a.start_date, a.id or 0))
    snapshots = load_snapshots(session, [a.worker_id for a in held], on, policies=policies)
    outlooks = []
    for allocation in held:
        snapshot = snapshots.get(allocation.worker_id)
        item = next((c for c in snapshot.caseload if c.case_id == case.id), None) \
            if snapshot is not None else None
        if snapshot is None or item is None:
            outlooks.append(WorkerOutlook(allocation, Decision(on=on, enrolled=False,
                                                               policies=policies)))
            continue
        changed = replace(item, category=category, complexity=complexity)
        without, after = evaluate_proposal(snapshot, policies, changed)
        before = {f.key: f for f in without}
        caused = frozenset(f.key for f in after if caused_by_proposal(f, before.get(f.key)))
        outlooks.append(WorkerOutlook(allocation, Decision(
            on=on, enrolled=True, policies=policies, findings=after, caused_keys=caused)))
    return outlooks
