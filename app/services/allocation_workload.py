"""An NQSW's workload on a date: the measures the allocation check judges, every rule's
finding as the check words it, and how many breaches are open."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.errors import NotFound
from app.policy.engine import evaluate, workload_measures
from app.repositories import breach as breach_repo
from app.repositories import staff as staff_repo
from app.services.allocation_types import Decision
from app.services.snapshots import load_snapshot

if TYPE_CHECKING:
    from app.policy.registry import PolicySet



def workload(session: Session, *, policies: PolicySet, staff_id: int, on: date) -> dict[str, Any]:
    """Every measure of the NQSW's load on `on` (the engine's measures plus the breaches)."""
    staff_repo.person_or_404(session, staff_id)
    snapshot = load_snapshot(session, staff_id, on, policies=policies)
    if snapshot is None:
        raise NotFound("enrolment on a programme for staff member", staff_id,
                       field=["path", "staff_id"])
    findings = evaluate(snapshot, policies)
    measures = workload_measures(snapshot, policies, findings=findings)
    decision = Decision(on=on, enrolled=True, policies=policies, findings=findings)
    open_count = breach_repo.unresolved_count(session, staff_id, opened_by=on)
    return {
        **measures,
        "on": on,
        "programme_month": measures["stage"]["programme_months"],
        "status": snapshot.status,
        "benchmark_load": snapshot.benchmark_load,
        "findings": decision.finding_views(),
        "open_breaches": open_count,
    }
