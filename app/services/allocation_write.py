"""Writing an allocation: every path that can grow an NQSW's load runs the policy check.

The check and the write happen in one transaction under a lock on the NQSW
(`reconcile.lock_staff`), so two concurrent allocations cannot both squeeze under a
cap. The decision is `allocation_judge`'s, over the proposal's whole period:

* block, no override -> `PolicyBlocked` (409) with the findings; nothing is written;
* block, `override_reason` by someone whose role the policy allows -> written, and the
  breach is recorded as *overridden* with the approver and reason;
* warn -> written; a warning-level breach is opened (unless the rule only informs).
  With an `override_reason` the reason and who gave it are recorded on that breach; it
  is *overridden* (and stops climbing) only when that person's role may override.

After the write the NQSW's breaches are reconciled on the proposal's first day, on the
days it first breaks or worsens a rule, on every judged day up to today and on today,
so a back-dated allocation's consequences are on record as they happened. Changing an
allocation (`allocation_move`) writes through the same guard and reconciliation.

Workers who are not on a programme (no current enrolment) have no rules: allocations
to them are written without findings.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session

from app.clock import today
from app.errors import DomainError
from app.models import Allocation
from app.policy.causes import ResolutionCause
from app.policy.findings import Outcome
from app.repositories import case as case_repository
from app.services import audit
from app.services.allocation_checks import (
    require_allocatable,
    require_worker,
)
from app.services.allocation_judge import decide, period_facts
from app.services.allocation_period import PeriodFacts, period_stop
from app.services.allocation_types import (
    Decision,
    OverrideNotAllowed,
    PolicyBlocked,
    Proposal,
    WriteResult,
)
from app.services.override_reason import require_reason
from app.services.reconcile import (
    Cause,
    Override,
    ReconcileResult,
    Trigger,
    lock_staff,
    reconcile_staff,
)

if TYPE_CHECKING:
    from app.policy.registry import PolicySet



def _approver(
    session: Session, decision: Decision, *, actor_id: int | None, reason: str | None,
    field: str = "override_reason",
) -> int:
    """Refuse unless `actor_id` (the person signed in: an override is always the
    overrider's own request) may override every blocking finding; return the approver."""
    if reason is None:
        raise PolicyBlocked(decision)
    allowed = decision.override_roles()
    roles = ", ".join(sorted(r.replace("_", " ") for r in allowed)) or "nobody"
    if actor_id is None:
        raise OverrideNotAllowed(
            f"an override is made by a person signed in as themselves; allowed: {roles}",
            field=field,
        )
    person = require_worker(session, actor_id, field=field)
    if person.role not in allowed:
        raise OverrideNotAllowed(
            f"you ({person.name}, {person.role.replace('_', ' ')}) may not override this "
            f"policy; allowed: {roles}",
            field=field,
        )
    # Only someone who may override is told their reason is too short to be a record.
    require_reason(decision.policies, reason, field=field)
    assert person.id is not None
    return person.id


def guarded_write(
    session: Session,
    *,
    policies: PolicySet,
    proposal: Proposal,
    actor_id: int | None,
    override_reason: str | None,
    actor_field: str,
    facts: PeriodFacts | None = None,
    decision: Decision | None = None,
) -> tuple[Decision, Override | None]:
    """Decide under the lock; raise when refused; describe the override when used.

    A block needs an override by a role the policy allows. A warning is written anyway;
    a reason given with it is kept on the warning's breach, which counts as overridden
    only when the person giving it holds a role the policy allows to override.
    `decision`: the proposal already judged under the lock, when the request changes
    something else first that must not count as part of the load before it.
    """
    if decision is None:
        decision = decide(session, policies=policies, proposal=proposal, facts=facts)
    if decision.outcome is Outcome.block:
        approver = _approver(session, decision, actor_id=actor_id, reason=override_reason,
                             field=actor_field)
        keys = frozenset(f.key for f in decision.blocking)
        return decision, Override(keys=keys, approver_id=approver,
                                  reason=override_reason or "")
    if decision.outcome is Outcome.warn and override_reason:
        person = require_worker(session, actor_id, field=actor_field) if actor_id else None
        approved = person is not None and person.role in decision.override_roles(
            decision.warning)
        keys = frozenset(f.key for f in decision.warning)
        return decision, Override(keys=keys, approver_id=actor_id, reason=override_reason,
                                  approved=approved)
    return decision, None


def reconcile_days(decision: Decision, start: date, stop: date | None) -> list[date]:
    """The days a write is reconciled on, in order: its first day, the days it first
    breaks or worsens a rule, every judged day up to today, today when the period covers
    it, and its end when that has already passed (so a back-dated allocation's breaches
    open, change and resolve on the days they did)."""
    now = today()
    days = {start, *decision.first_caused.values()}
    days.update(decision.dates[key] for key in decision.caused_keys if key in decision.dates)
    days.update(day for day in decision.evaluated if day <= now)
    if start < now and (stop is None or now < stop):
        days.add(now)
    if stop is not None and start < stop <= now:
        days.add(stop)
    return sorted(day for day in days if day >= start)


def since(start: date) -> list[date]:
    """A change's first day, and today if that is later: for the others it touches."""
    now = today()
    return [start, now] if start < now else [start]


def after_write(
    session: Session,
    *,
    policies: PolicySet,
    allocation: Allocation,
    decision: Decision,
    override: Override | None,
    start: date,
    end: date | None,
    closed_on: date | None,
    actor_id: int | None,
    trigger: str,
    cause: ResolutionCause,
    also: list[int] | None = None,
) -> ReconcileResult:
    """Audit the override and reconcile the worker (and anyone else the change touches).

    The cause recorded on what resolves is the change's own on its first day, the end of
    the allocation (or the case's closure) on its last, and read from the evidence on
    the days between (a stage moving on).
    """
    stop = period_stop(end, closed_on)
    causes: dict[date, ResolutionCause | None] = {start: cause}
    if stop is not None and stop != start:
        causes[stop] = Cause.allocation_ended if stop == end else Cause.case_closed
    if override is not None:
        override = replace(override, allocation_id=allocation.id)
        if override.approved:
            findings = [f for f in decision.caused if f.key in override.keys]
            audit.record(
                session, action="allocation.override", entity="allocation",
                entity_id=allocation.id, actor_id=override.approver_id,
                nqsw_id=allocation.worker_id, effective_on=start,
                after={"reason": override.reason,
                       "rules": [f"{p}/{r}" for p, r in sorted(override.keys)],
                       "findings": [{**f.as_dict(), "on": decision.found_on(f)}
                                    for f in findings]},
            )
    result = ReconcileResult()
    pending = override
    for day in reconcile_days(decision, start, stop):
        found = reconcile_staff(session, staff_ids=[allocation.worker_id], on=day,
                                policies=policies, trigger=Trigger(trigger, causes.get(day)),
                                actor_id=actor_id, override=pending)
        result.merge(found)
        if pending is not None:
            left = pending.keys - found.overrides_used
            pending = replace(pending, keys=frozenset(left)) if left else None
    others = sorted(set(also or []) - {allocation.worker_id})
    if others:
        for day in since(start):
            result.merge(reconcile_staff(session, staff_ids=others, on=day, policies=policies,
                                         trigger=Trigger(trigger,
                                                         cause if day == start else None),
                                         actor_id=actor_id))
    return result


def create_allocation(
    session: Session,
    *,
    policies: PolicySet,
    case_id: int,
    worker_id: int,
    role: str,
    start_date: date,
    end_date: date | None = None,
    override_reason: str | None = None,
    allocated_by_id: int | None = None,
) -> WriteResult:
    """Allocate a case from `start_date` after the policy check over its whole period.

    The NQSW is locked first; then one statement reads the case and every dated change
    in the period (`allocation_period`), which is both what validates the case and what
    the check is judged on, so the common write costs no more than a single-day check.
    """
    lock_staff(session, [worker_id, *case_repository.workers_on_case(session, case_id, start_date)])
    proposal = Proposal(case_id=case_id, worker_id=worker_id, role=role, start=start_date,
                        end=end_date)
    facts = period_facts(session, proposal)
    assert facts.case is not None
    case = facts.case
    worker = require_worker(session, worker_id, field="worker_id")
    if allocated_by_id is not None:
        require_worker(session, allocated_by_id, field=None)
    if end_date is not None and end_date < start_date:
        raise DomainError("end date is before the start date", field="end_date")
    require_allocatable(session, case=case, worker=worker, role=role, start=start_date,
                        end=end_date)
    decision, override = guarded_write(
        session, policies=policies, proposal=proposal, actor_id=allocated_by_id,
        override_reason=override_reason, actor_field="override_reason", facts=facts,
    )
    allocation = Allocation(
        case_id=case_id, worker_id=worker_id, role=role, start_date=start_date,
        end_date=end_date, allocated_by_id=allocated_by_id, override_reason=override_reason,
    )
    session.add(allocation)
    session.flush()
    audit.record(session, action="allocation.create", entity="allocation",
                 entity_id=allocation.id, actor_id=allocated_by_id, nqsw_id=worker_id,
                 effective_on=start_date,
                 after={**audit.snapshot_of(allocation),
                        "outcome": decision.outcome.value})
    reconciled = after_write(
        session, policies=policies, allocation=allocation, decision=decision,
        override=override, start=start_date, end=end_date, closed_on=case.closed_on,
        actor_id=allocated_by_id,
        trigger=f"Case {case.reference} allocated as {role.replace('_', '-')}",
        cause=Cause.changed,
        also=case_repository.workers_on_case(session, case_id, start_date),
    )
    return WriteResult(allocation, decision, reconciled)


