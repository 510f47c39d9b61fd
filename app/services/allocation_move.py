"""Changing an allocation: reassigning it, changing the role, moving or setting its end.

Allocations end, they are never deleted, so that the history of who held what stays
true. A change that can grow someone's load (a new worker or role, an extension) goes
through the same guard and reconciliation as a new allocation (`allocation_write`); a
change that only shrinks a load (ending, shortening) is never refused, and the breaches
it resolves are recorded as resolved because the allocation ended.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.errors import Conflict, DomainError
from app.models import Allocation, Case
from app.repositories import case as case_repository
from app.services import audit
from app.services.allocation_checks import (
    check_conflicts,
    require_case,
    require_case_open,
    require_not_left,
    require_worker,
)
from app.services.allocation_judge import decide
from app.services.allocation_types import Decision, Proposal, WriteResult
from app.services.allocation_write import after_write, guarded_write, since
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



def update_allocation(
    session: Session,
    *,
    policies: PolicySet,
    allocation_id: int,
    changes: dict[str, Any],
    on: date,
    override_reason: str | None = None,
    actor_id: int | None = None,
    end_current_holder: bool = False,
) -> WriteResult:
    """Reassign, change role, or move the end date; growing a load runs the check.

    `end_current_holder`: with a change of role to holder, the case's current named holder
    (another allocation) ends on the same day in the same transaction, so a co-worker
    becomes the holder in one step, checked like any other growth of their load.
    """
    allocation = case_repository.allocation_or_404(session, allocation_id)
    case = require_case(session, allocation.case_id)
    if actor_id is not None:
        require_worker(session, actor_id, field=None)
    new_worker = changes.get("worker_id", allocation.worker_id)
    new_role = changes.get("role", allocation.role)
    if new_worker is None:
        raise DomainError("worker_id cannot be empty", field="worker_id")
    if new_role is None:
        raise DomainError("role cannot be empty", field="role")
    new_role = str(new_role)
    if end_current_holder and new_role != "holder":
        raise DomainError("end_current_holder needs the allocation to become the holder "
                          "(role: holder)", field="end_current_holder")
    moves = new_worker != allocation.worker_id or new_role != allocation.role
    end_given = "end_date" in changes
    new_end = changes.get("end_date") if end_given else allocation.end_date
    if not moves and not end_given:
        return WriteResult(allocation, Decision(on=on, enrolled=False, policies=policies),
                           ReconcileResult())
    if moves:
        worker = require_worker(session, new_worker, field="worker_id")
        if allocation.end_date is not None and allocation.end_date <= on:
            raise DomainError(f"allocation {allocation.id} ended on {allocation.end_date}",
                              field="on")
        effective = max(on, allocation.start_date)
        require_case_open(case, effective)
        require_not_left(worker, effective, "worker_id")
        if new_end is not None and new_end < effective:
            raise DomainError("end date is before the start date", field="end_date")
        lock_staff(session, [allocation.worker_id, new_worker,
                             *case_repository.workers_on_case(session, case.id or 0, effective)])
        return _move(session, policies=policies, allocation=allocation, case=case,
                     worker_id=new_worker, role=new_role, end=new_end, on=effective,
                     override_reason=override_reason, actor_id=actor_id,
                     end_current_holder=end_current_holder)
    # Only the end date moves.
    if new_end is not None and new_end < allocation.start_date:
        raise DomainError("end date is before the start date", field="end_date")
    lock_staff(session, [allocation.worker_id])
    return _move_end(session, policies=policies, allocation=allocation, case=case,
                     new_end=new_end, on=on, override_reason=override_reason,
                     actor_id=actor_id)


def _end_current_holder(
    session: Session, *, case: Case, successor: Allocation, on: date, actor_id: int | None
) -> Allocation | None:
    """End the case's named holder's allocation on `on` (the successor takes over)."""
    assert case.id is not None
    holder = case_repository.overlapping(session, case_id=case.id, start=on, end=None,
                                         role="holder", exclude_id=successor.id)
    if holder is None:
        return None
    if holder.start_date > on:
        raise Conflict(
            f"case {case.reference} has a named holder from {holder.start_date} (allocation "
            f"{holder.id}): change that allocation instead", field="end_current_holder",
        )
    before = audit.snapshot_of(holder)
    holder.end_date = on
    session.flush()
    audit.record(session, action="allocation.end", entity="allocation", entity_id=holder.id,
                 actor_id=actor_id, nqsw_id=holder.worker_id, before=before,
                 effective_on=on,
                 after={"end_date": on, "reason": "holder handed over",
                        "succeeded_by_allocation": successor.id})
    return holder


def _move(
    session: Session,
    *,
    policies: PolicySet,
    allocation: Allocation,
    case: Case,
    worker_id: int,
    role: str,
    end: date | None,
    on: date,
    override_reason: str | None,
    actor_id: int | None,
    end_current_holder: bool = False,
) -> WriteResult:
    """A new worker or role from `on`: in place before the start, else end and succeed."""
    old_worker = allocation.worker_id
    in_place = on <= allocation.start_date
    proposal = Proposal(case_id=case.id or 0, worker_id=worker_id, role=role, start=on,
                        end=end, allocation_id=allocation.id)
    handed_over = None
    judged: Decision | None = None
    if end_current_holder:
        # Judged against the load before the request, the current holder still holding:
        # a co-worked case whose holder this request ends must not read as a breach
        # that was already there (the co-working rule), when the request causes it.
        judged = decide(session, policies=policies, proposal=proposal)
        handed_over = _end_current_holder(session, case=case, successor=allocation, on=on,
                                          actor_id=actor_id)
    check_conflicts(session, case=case, worker_id=worker_id, role=role, start=on, end=end,
                     exclude_id=allocation.id)
    decision, override = guarded_write(
        session, policies=policies, proposal=proposal, actor_id=actor_id,
        override_reason=override_reason, actor_field="override_reason", decision=judged,
    )
    before = audit.snapshot_of(allocation)
    ended_id: int | None = None
    if in_place:
        allocation.worker_id = worker_id
        allocation.role = role
        allocation.end_date = end
        if override_reason:
            allocation.override_reason = override_reason
        target = allocation
        session.flush()
        audit.record(session, action="allocation.update", entity="allocation",
                     entity_id=allocation.id, actor_id=actor_id, nqsw_id=worker_id,
                     before=before, after=audit.snapshot_of(allocation), effective_on=on)
    else:
        allocation.end_date = on
        ended_id = allocation.id
        target = Allocation(
            case_id=allocation.case_id, worker_id=worker_id, role=role, start_date=on,
            end_date=end, allocated_by_id=actor_id, override_reason=override_reason,
        )
        session.add(target)
        session.flush()
        audit.record(session, action="allocation.end", entity="allocation",
                     entity_id=allocation.id, actor_id=actor_id, nqsw_id=old_worker,
                     before=before, after={"end_date": on, "succeeded_by": target.id},
                     effective_on=on)
        audit.record(session, action="allocation.create", entity="allocation",
                     entity_id=target.id, actor_id=actor_id, nqsw_id=worker_id,
                     effective_on=on,
                     after={**audit.snapshot_of(target), "replaces": allocation.id,
                            "outcome": decision.outcome.value})
    reassigned = worker_id != old_worker
    what = "reassigned" if reassigned else f"now {role.replace('_', '-')}"
    trigger = f"Case {case.reference} {what}"
    also = [*case_repository.workers_on_case(session, case.id or 0, on)]
    if handed_over is not None:
        also.append(handed_over.worker_id)
    reconciled = after_write(
        session, policies=policies, allocation=target, decision=decision, override=override,
        start=on, end=end, closed_on=case.closed_on, actor_id=actor_id, trigger=trigger,
        cause=Cause.changed, also=also,
    )
    if reassigned:
        # The previous worker's load shrinks: their breaches resolve because it ended.
        for day in since(on):
            reconciled.merge(reconcile_staff(
                session, staff_ids=[old_worker], on=day, policies=policies,
                trigger=Trigger(trigger, Cause.allocation_ended if day == on else None),
                actor_id=actor_id))
    return WriteResult(target, decision, reconciled, ended_allocation_id=ended_id,
                       ended_holder_allocation_id=handed_over.id if handed_over else None)


def _move_end(
    session: Session,
    *,
    policies: PolicySet,
    allocation: Allocation,
    case: Case,
    new_end: date | None,
    on: date,
    override_reason: str | None,
    actor_id: int | None,
) -> WriteResult:
    """Extending runs the check over every newly covered day; shortening never does."""
    old_end = allocation.end_date
    extends = old_end is not None and (new_end is None or new_end > old_end)
    decision = Decision(on=on, enrolled=False, policies=policies)
    override: Override | None = None
    effective = on
    if extends:
        assert old_end is not None
        effective = old_end
        if case.closed_on is not None and case.closed_on <= old_end:
            raise DomainError(f"case {case.reference} is closed (since {case.closed_on})",
                              field="end_date")
        check_conflicts(session, case=case, worker_id=allocation.worker_id,
                         role=allocation.role, start=old_end, end=new_end,
                         exclude_id=allocation.id)
        proposal = Proposal(case_id=case.id or 0, worker_id=allocation.worker_id,
                            role=allocation.role, start=old_end, end=new_end,
                            allocation_id=allocation.id)
        decision, override = guarded_write(
            session, policies=policies, proposal=proposal, actor_id=actor_id,
            override_reason=override_reason, actor_field="override_reason",
        )
    elif new_end is not None:
        effective = new_end
    before = audit.snapshot_of(allocation)
    allocation.end_date = new_end
    if override_reason and extends:
        allocation.override_reason = override_reason
    session.flush()
    audit.record(session, action="allocation.update", entity="allocation",
                 entity_id=allocation.id, actor_id=actor_id, nqsw_id=allocation.worker_id,
                 before=before, after=audit.snapshot_of(allocation), effective_on=effective)
    verb = "extended" if extends else "end date changed"
    trigger = f"Allocation of case {case.reference} {verb}"
    if extends:
        reconciled = after_write(
            session, policies=policies, allocation=allocation, decision=decision,
            override=override, start=effective, end=new_end, closed_on=case.closed_on,
            actor_id=actor_id, trigger=trigger, cause=Cause.changed,
        )
    else:
        reconciled = ReconcileResult()
        for day in since(effective):
            reconciled.merge(reconcile_staff(
                session, staff_ids=[allocation.worker_id], on=day, policies=policies,
                trigger=Trigger(trigger, Cause.allocation_ended if day == effective else None),
                actor_id=actor_id))
    return WriteResult(allocation, decision, reconciled)


def end_allocation(
    session: Session,
    *,
    policies: PolicySet,
    allocation_id: int,
    on: date,
    reason: str | None = None,
    actor_id: int | None = None,
) -> WriteResult:
    """The worker no longer holds the case from `on`: the allocation ends, it is not deleted."""
    allocation = case_repository.allocation_or_404(session, allocation_id)
    if actor_id is not None:
        require_worker(session, actor_id, field=None)
    if allocation.end_date is not None and allocation.end_date <= on:
        raise Conflict(f"allocation {allocation.id} already ended on {allocation.end_date}",
                       field="on")
    if on < allocation.start_date:
        raise DomainError(
            f"cannot end before the allocation started ({allocation.start_date})", field="on"
        )
    case = require_case(session, allocation.case_id)
    on_case = case_repository.workers_on_case(session, case.id or 0, on)
    lock_staff(session, [allocation.worker_id, *on_case])
    before = audit.snapshot_of(allocation)
    allocation.end_date = on
    session.flush()
    audit.record(session, action="allocation.end", entity="allocation",
                 entity_id=allocation.id, actor_id=actor_id, nqsw_id=allocation.worker_id,
                 before=before, after={"end_date": on, "reason": reason}, effective_on=on)
    trigger = f"Allocation of case {case.reference} ended" + (f" ({reason})" if reason else "")
    workers = sorted({allocation.worker_id, *case_repository.workers_on_case(
        session, case.id or 0, on)})
    # Every day from the end on, what lifts a breach is this allocation having ended.
    change = Trigger(trigger, Cause.allocation_ended)
    reconciled = ReconcileResult()
    for day in since(on):
        reconciled.merge(reconcile_staff(session, staff_ids=workers, on=day, policies=policies,
                                         trigger=change, actor_id=actor_id))
    return WriteResult(allocation, Decision(on=on, enrolled=False, policies=policies),
                       reconciled)


