"""Allocating cases: every path that can grow an NQSW's load runs the policy check.

The check and the write happen in one transaction under a lock on the NQSW
(`reconcile.lock_staff`), so two concurrent allocations cannot both squeeze under a
cap. The decision compares the NQSW's findings with and without the proposal: a
proposal is refused only for what it causes or worsens (a blocking finding that was
not blocking before, or whose measure grows), never for a breach that already exists
and that the proposal leaves as it is. That breach is already open, and on the ladder.

* block, no override -> `PolicyBlocked` (409) with the findings; nothing is written;
* block, `override_reason` by someone whose role the policy allows -> written, and the
  breach is recorded as *overridden* with the approver and reason;
* warn -> written; a warning-level breach is opened (unless the rule only informs).

Workers who are not on a programme (no current enrolment) have no rules: allocations
to them are written without findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, or_
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Row
from sqlmodel import Session, col, select

from app.auth import scope as access_scope
from app.auth.reach import Reach
from app.clock import today
from app.errors import Conflict, DomainError, NotFound
from app.models import Allocation, Case, Staff
from app.models.breach import Breach
from app.policy.engine import evaluate, evaluate_proposal
from app.policy.findings import Finding, Outcome
from app.policy.snapshot import CaseLoadItem, Snapshot
from app.services import audit
from app.services.common import get_or_404, paginate
from app.services.reconcile import Override, ReconcileResult, lock_staff, reconcile_staff, rule_of
from app.services.rows import read_first, table
from app.services.snapshots import (
    advanced_practitioner_held_cases,
    allocation_active_on,
    load_snapshot,
)

DEFAULT_OVERRIDE_ROLES: tuple[str, ...] = ("senior_manager",)


class PolicyBlocked(Conflict):
    """The allocation would break a firm limit: 409 with one detail per finding."""

    error_type = "policy_block"

    def __init__(self, decision: Decision, message: str | None = None) -> None:
        blocking = decision.blocking
        super().__init__(
            message or "; ".join(f.reason for f in blocking) or "refused by policy",
            field=["body", "worker_id"],
        )
        self.decision = decision

    def detail(self) -> list[dict[str, Any]]:
        items = []
        for finding in self.decision.findings:
            if finding.outcome is Outcome.ok:
                continue
            caused = self.decision.is_caused(finding)
            items.append({
                "loc": self.loc,
                "msg": finding.reason,
                "type": "policy_block" if caused and finding.outcome is Outcome.block
                else f"policy_{finding.outcome.value}",
                "finding": {**finding.as_dict(), "caused_by_proposal": caused},
            })
        if self.message not in {item["msg"] for item in items}:
            items.insert(0, {"loc": self.loc, "msg": self.message, "type": "policy_refused"})
        return items


class OverrideNotAllowed(DomainError):
    """The person overriding does not hold a role the policy allows: 403."""

    status_code = 403
    error_type = "override_not_allowed"


@dataclass
class Decision:
    """What the engine says about a proposal, and which findings the proposal causes."""

    on: date
    enrolled: bool
    findings: list[Finding] = field(default_factory=list)
    caused_keys: frozenset[tuple[str, str]] = frozenset()
    policies: Any = None

    def is_caused(self, finding: Finding) -> bool:
        return finding.key in self.caused_keys

    @property
    def caused(self) -> list[Finding]:
        return [f for f in self.findings if f.key in self.caused_keys]

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.caused if f.outcome is Outcome.block]

    @property
    def outcome(self) -> Outcome:
        worst = Outcome.ok
        for finding in self.caused:
            if finding.outcome.rank > worst.rank:
                worst = finding.outcome
        return worst

    @property
    def current_outcome(self) -> Outcome:
        worst = Outcome.ok
        for finding in self.findings:
            if finding.outcome.rank > worst.rank:
                worst = finding.outcome
        return worst

    def override_roles(self) -> set[str]:
        """Roles allowed to override every blocking finding (the intersection)."""
        allowed: set[str] | None = None
        for finding in self.blocking:
            rule = rule_of(self.policies, finding)
            roles = set(getattr(rule, "override_by", DEFAULT_OVERRIDE_ROLES) or ())
            allowed = roles if allowed is None else allowed & roles
        return allowed or set()

    def finding_views(self) -> list[dict[str, Any]]:
        views = []
        for finding in self.findings:
            rule = rule_of(self.policies, finding)
            views.append({
                **finding.as_dict(),
                "caused_by_proposal": self.is_caused(finding),
                "enforcement": rule.enforcement.value if rule is not None else None,
                "override_by": list(getattr(rule, "override_by", ()) or ()),
            })
        return views


def _worse(after: Finding, before: Finding | None) -> bool:
    """Does the proposal cause this finding, or make it worse?"""
    if after.outcome is Outcome.ok:
        return False
    if before is None or after.outcome.rank > before.outcome.rank:
        return True
    if after.measured is not None and before.measured is not None:
        return after.measured > before.measured + 1e-9
    return False


def proposed_item(
    session: Session, case: Case | Row[Any], role: str, on: date,
    allocation_id: int | None = None,
) -> CaseLoadItem:
    assert case.id is not None
    ap_held = (
        case.id in advanced_practitioner_held_cases(session, [case.id], on)
        if role == "co_worker" else False
    )
    return CaseLoadItem(
        case_id=case.id, reference=case.reference, category=case.category,
        complexity=case.complexity, role=role,  # type: ignore[arg-type]
        start_date=on, allocation_id=allocation_id, holder_is_advanced_practitioner=ap_held,
    )


def decide(
    session: Session,
    *,
    policies: Any,
    worker_id: int,
    case: Case,
    role: str,
    on: date,
    allocation_id: int | None = None,
) -> Decision:
    """Evaluate the worker on `on` with and without the proposed case: no writes."""
    snapshot = load_snapshot(session, worker_id, on, policies=policies)
    return _decide(session, snapshot, policies=policies, case=case, role=role, on=on,
                   allocation_id=allocation_id)


def _decide(
    session: Session,
    snapshot: Snapshot | None,
    *,
    policies: Any,
    case: Case | Row[Any],
    role: str,
    on: date,
    allocation_id: int | None = None,
) -> Decision:
    if snapshot is None or policies is None:
        return Decision(on=on, enrolled=snapshot is not None, policies=policies)
    item = proposed_item(session, case, role, on, allocation_id)
    without, after = evaluate_proposal(snapshot, policies, item)
    before = {f.key: f for f in without}
    caused = frozenset(f.key for f in after if _worse(f, before.get(f.key)))
    return Decision(on=on, enrolled=True, findings=after, caused_keys=caused, policies=policies)


# What a what-if needs of the case, as a plain row (no ORM object: the check is the
# service's hottest path; see app.services.rows).
_CASE = table(Case)
_CASE_FACTS = sa_select(
    _CASE.c.id, _CASE.c.reference, _CASE.c.category, _CASE.c.complexity
).where(_CASE.c.id == bindparam("case_id"))


def check_allocation(
    session: Session, *, policies: Any, case_id: int, worker_id: int, role: str, on: date
) -> Decision:
    """The what-if behind `POST /allocations/check`."""
    case = read_first(session, _CASE_FACTS, case_id=case_id)
    if case is None:
        raise DomainError(f"case {case_id} does not exist", field="case_id")
    snapshot = load_snapshot(session, worker_id, on, policies=policies)
    if snapshot is None:
        # A snapshot proves the worker exists (it is built from their enrolment), so the
        # look-up that answers "no such worker" is only needed without one.
        _require_worker(session, worker_id, field="worker_id")
    return _decide(session, snapshot, policies=policies, case=case, role=role, on=on)


# --- validation helpers ----------------------------------------------------------------


def _require_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise DomainError(f"case {case_id} does not exist", field="case_id")
    return case


def _require_worker(session: Session, staff_id: int, *, field: str) -> Staff:
    person = session.get(Staff, staff_id)
    if person is None:
        raise DomainError(f"staff member {staff_id} does not exist", field=field)
    return person


def _require_case_open(case: Case, start: date) -> None:
    if case.closed_on is not None and case.closed_on <= start:
        raise DomainError(f"case {case.reference} is closed (since {case.closed_on})",
                          field="case_id")
    if start < case.opened_on:
        raise DomainError(
            f"start date {start} is before the case was opened ({case.opened_on})",
            field="start_date",
        )


def _require_not_left(person: Staff, on: date, field: str) -> None:
    if person.leave_date is not None and person.leave_date <= on:
        raise DomainError(f"{person.name} left on {person.leave_date}", field=field)


def _overlapping(
    session: Session, *, case_id: int, start: date, end: date | None, worker_id: int | None = None,
    role: str | None = None, exclude_id: int | None = None,
) -> Allocation | None:
    """An allocation on the case overlapping [start, end) (end exclusive, None = open)."""
    query = select(Allocation).where(
        col(Allocation.case_id) == case_id,
        or_(col(Allocation.end_date).is_(None), col(Allocation.end_date) > start),
    )
    if end is not None:
        query = query.where(col(Allocation.start_date) < end)
    if worker_id is not None:
        query = query.where(col(Allocation.worker_id) == worker_id)
    if role is not None:
        query = query.where(col(Allocation.role) == role)
    if exclude_id is not None:
        query = query.where(col(Allocation.id) != exclude_id)
    return session.exec(query.order_by(col(Allocation.id))).first()


def _check_conflicts(
    session: Session, *, case: Case, worker_id: int, role: str, start: date, end: date | None,
    exclude_id: int | None = None,
) -> None:
    assert case.id is not None
    if end is not None and end < start:
        raise DomainError("end date is before the start date", field="end_date")
    if start == end:  # never held (ends the day it starts): nothing to overlap
        return
    same = _overlapping(session, case_id=case.id, start=start, end=end, worker_id=worker_id,
                        exclude_id=exclude_id)
    if same is not None:
        raise Conflict(
            f"worker {worker_id} already has allocation {same.id} on case {case.reference} "
            "for an overlapping period", field="case_id",
        )
    if role == "holder":
        holder = _overlapping(session, case_id=case.id, start=start, end=end, role="holder",
                              exclude_id=exclude_id)
        if holder is not None:
            raise Conflict(
                f"case {case.reference} already has a named holder (allocation {holder.id}, "
                f"worker {holder.worker_id}): end or reassign that allocation first",
                field="role",
            )


def _approver(
    session: Session, decision: Decision, *, actor_id: int | None, reason: str | None,
    field: str = "allocated_by_id",
) -> int:
    """Refuse unless `actor_id` may override every blocking finding; return the approver."""
    if reason is None:
        raise PolicyBlocked(decision)
    if actor_id is None:
        raise DomainError("an override needs the person approving it", field=field)
    person = _require_worker(session, actor_id, field=field)
    allowed = decision.override_roles()
    if person.role not in allowed:
        roles = ", ".join(sorted(allowed)) or "nobody"
        raise OverrideNotAllowed(
            f"{person.name} ({person.role}) may not override this policy; allowed: {roles}",
            field=field,
        )
    assert person.id is not None
    return person.id


def _affected_workers(session: Session, case_id: int, on: date) -> list[int]:
    """Everyone on the case on `on`: a new holder changes what their co-working looks like."""
    rows = session.exec(
        select(Allocation.worker_id).where(
            col(Allocation.case_id) == case_id, allocation_active_on(on)
        )
    ).all()
    return sorted(set(rows))


@dataclass
class WriteResult:
    allocation: Allocation
    decision: Decision
    reconciled: ReconcileResult
    ended_allocation_id: int | None = None

    def breaches(self) -> list[Breach]:
        worker = self.allocation.worker_id
        return [b for b in self.reconciled.touched() if b.staff_id == worker]


def _guarded_write(
    session: Session,
    *,
    policies: Any,
    case: Case,
    worker_id: int,
    role: str,
    on: date,
    actor_id: int | None,
    override_reason: str | None,
    actor_field: str,
    allocation_id: int | None = None,
) -> tuple[Decision, Override | None]:
    """Decide under the lock; raise when refused; describe the override when used."""
    decision = decide(session, policies=policies, worker_id=worker_id, case=case, role=role,
                      on=on, allocation_id=allocation_id)
    if decision.outcome is not Outcome.block:
        return decision, None
    approver = _approver(session, decision, actor_id=actor_id, reason=override_reason,
                         field=actor_field)
    keys = frozenset(f.key for f in decision.blocking)
    return decision, Override(keys=keys, approver_id=approver, reason=override_reason or "")


def _after_write(
    session: Session,
    *,
    policies: Any,
    allocation: Allocation,
    decision: Decision,
    override: Override | None,
    on: date,
    actor_id: int | None,
    trigger: str,
    also: list[int] | None = None,
) -> ReconcileResult:
    """Audit the override and reconcile the worker (and anyone else the change touches)."""
    if override is not None:
        override = Override(keys=override.keys, approver_id=override.approver_id,
                            reason=override.reason, allocation_id=allocation.id)
        audit.record(
            session, action="allocation.override", entity="allocation",
            entity_id=allocation.id, actor_id=override.approver_id,
            nqsw_id=allocation.worker_id,
            after={"reason": override.reason,
                   "rules": [f"{p}/{r}" for p, r in sorted(override.keys)],
                   "findings": [f.as_dict() for f in decision.blocking]},
        )
    result = reconcile_staff(session, staff_ids=[allocation.worker_id], on=on,
                             policies=policies, trigger=trigger, actor_id=actor_id,
                             override=override)
    others = sorted(set(also or []) - {allocation.worker_id})
    if others:
        result.merge(reconcile_staff(session, staff_ids=others, on=on, policies=policies,
                                     trigger=trigger, actor_id=actor_id))
    return result


# --- use cases -------------------------------------------------------------------------


def create_allocation(
    session: Session,
    *,
    policies: Any,
    case_id: int,
    worker_id: int,
    role: str,
    start_date: date,
    end_date: date | None = None,
    override_reason: str | None = None,
    allocated_by_id: int | None = None,
) -> WriteResult:
    case = _require_case(session, case_id)
    worker = _require_worker(session, worker_id, field="worker_id")
    if allocated_by_id is not None:
        _require_worker(session, allocated_by_id, field="allocated_by_id")
    _require_case_open(case, start_date)
    _require_not_left(worker, start_date, "worker_id")
    if end_date is not None and end_date < start_date:
        raise DomainError("end date is before the start date", field="end_date")
    lock_staff(session, [worker_id, *_affected_workers(session, case_id, start_date)])
    _check_conflicts(session, case=case, worker_id=worker_id, role=role, start=start_date,
                     end=end_date)
    decision, override = _guarded_write(
        session, policies=policies, case=case, worker_id=worker_id, role=role, on=start_date,
        actor_id=allocated_by_id, override_reason=override_reason,
        actor_field="allocated_by_id",
    )
    allocation = Allocation(
        case_id=case_id, worker_id=worker_id, role=role, start_date=start_date,
        end_date=end_date, allocated_by_id=allocated_by_id, override_reason=override_reason,
    )
    session.add(allocation)
    session.flush()
    audit.record(session, action="allocation.create", entity="allocation",
                 entity_id=allocation.id, actor_id=allocated_by_id, nqsw_id=worker_id,
                 after={**audit.snapshot_of(allocation),
                        "outcome": decision.outcome.value})
    reconciled = _after_write(
        session, policies=policies, allocation=allocation, decision=decision,
        override=override, on=start_date, actor_id=allocated_by_id,
        trigger=f"Case {case.reference} allocated as {role.replace('_', '-')}",
        also=_affected_workers(session, case_id, start_date),
    )
    return WriteResult(allocation, decision, reconciled)


def update_allocation(
    session: Session,
    *,
    policies: Any,
    allocation_id: int,
    changes: dict[str, Any],
    on: date,
    override_reason: str | None = None,
    actor_id: int | None = None,
) -> WriteResult:
    """Reassign, change role, or move the end date; growing a load runs the check."""
    allocation = get_or_404(session, Allocation, allocation_id, what="allocation")
    case = _require_case(session, allocation.case_id)
    if actor_id is not None:
        _require_worker(session, actor_id, field="actor_id")
    new_worker = changes.get("worker_id", allocation.worker_id)
    new_role = changes.get("role", allocation.role)
    if new_worker is None:
        raise DomainError("worker_id cannot be empty", field="worker_id")
    if new_role is None:
        raise DomainError("role cannot be empty", field="role")
    new_role = str(new_role)
    moves = new_worker != allocation.worker_id or new_role != allocation.role
    end_given = "end_date" in changes
    new_end = changes.get("end_date") if end_given else allocation.end_date
    if not moves and not end_given:
        return WriteResult(allocation, Decision(on=on, enrolled=False, policies=policies),
                           ReconcileResult())
    if moves:
        worker = _require_worker(session, new_worker, field="worker_id")
        if allocation.end_date is not None and allocation.end_date <= on:
            raise DomainError(f"allocation {allocation.id} ended on {allocation.end_date}",
                              field="on")
        effective = max(on, allocation.start_date)
        _require_case_open(case, effective)
        _require_not_left(worker, effective, "worker_id")
        if new_end is not None and new_end < effective:
            raise DomainError("end date is before the start date", field="end_date")
        lock_staff(session, [allocation.worker_id, new_worker,
                             *_affected_workers(session, case.id or 0, effective)])
        return _move(session, policies=policies, allocation=allocation, case=case,
                     worker_id=new_worker, role=new_role, end=new_end, on=effective,
                     override_reason=override_reason, actor_id=actor_id)
    # Only the end date moves.
    if new_end is not None and new_end < allocation.start_date:
        raise DomainError("end date is before the start date", field="end_date")
    lock_staff(session, [allocation.worker_id])
    return _move_end(session, policies=policies, allocation=allocation, case=case,
                     new_end=new_end, on=on, override_reason=override_reason,
                     actor_id=actor_id)


def _move(
    session: Session,
    *,
    policies: Any,
    allocation: Allocation,
    case: Case,
    worker_id: int,
    role: str,
    end: date | None,
    on: date,
    override_reason: str | None,
    actor_id: int | None,
) -> WriteResult:
    """A new worker or role from `on`: in place before the start, else end and succeed."""
    old_worker = allocation.worker_id
    in_place = on <= allocation.start_date
    _check_conflicts(session, case=case, worker_id=worker_id, role=role, start=on, end=end,
                     exclude_id=allocation.id)
    decision, override = _guarded_write(
        session, policies=policies, case=case, worker_id=worker_id, role=role, on=on,
        actor_id=actor_id, override_reason=override_reason, actor_field="actor_id",
        allocation_id=allocation.id if worker_id == old_worker else None,
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
                     before=before, after=audit.snapshot_of(allocation))
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
                     before=before, after={"end_date": on, "succeeded_by": target.id})
        audit.record(session, action="allocation.create", entity="allocation",
                     entity_id=target.id, actor_id=actor_id, nqsw_id=worker_id,
                     after={**audit.snapshot_of(target), "replaces": allocation.id,
                            "outcome": decision.outcome.value})
    what = "reassigned" if worker_id != old_worker else f"now {role.replace('_', '-')}"
    reconciled = _after_write(
        session, policies=policies, allocation=target, decision=decision, override=override,
        on=on, actor_id=actor_id, trigger=f"Case {case.reference} {what}",
        also=[old_worker, *_affected_workers(session, case.id or 0, on)],
    )
    return WriteResult(target, decision, reconciled, ended_allocation_id=ended_id)


def _move_end(
    session: Session,
    *,
    policies: Any,
    allocation: Allocation,
    case: Case,
    new_end: date | None,
    on: date,
    override_reason: str | None,
    actor_id: int | None,
) -> WriteResult:
    """Extending runs the check from the first newly covered day; shortening never does."""
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
        _check_conflicts(session, case=case, worker_id=allocation.worker_id,
                         role=allocation.role, start=old_end, end=new_end,
                         exclude_id=allocation.id)
        decision, override = _guarded_write(
            session, policies=policies, case=case, worker_id=allocation.worker_id,
            role=allocation.role, on=old_end, actor_id=actor_id,
            override_reason=override_reason, actor_field="actor_id",
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
                 before=before, after=audit.snapshot_of(allocation))
    verb = "extended" if extends else "end date changed"
    reconciled = _after_write(
        session, policies=policies, allocation=allocation, decision=decision,
        override=override, on=effective, actor_id=actor_id,
        trigger=f"Allocation of case {case.reference} {verb}",
    )
    return WriteResult(allocation, decision, reconciled)


def end_allocation(
    session: Session,
    *,
    policies: Any,
    allocation_id: int,
    on: date,
    reason: str | None = None,
    actor_id: int | None = None,
) -> WriteResult:
    """The worker no longer holds the case from `on`: the allocation ends, it is not deleted."""
    allocation = get_or_404(session, Allocation, allocation_id, what="allocation")
    if actor_id is not None:
        _require_worker(session, actor_id, field="actor_id")
    if allocation.end_date is not None and allocation.end_date <= on:
        raise Conflict(f"allocation {allocation.id} already ended on {allocation.end_date}",
                       field="on")
    if on < allocation.start_date:
        raise DomainError(
            f"cannot end before the allocation started ({allocation.start_date})", field="on"
        )
    case = _require_case(session, allocation.case_id)
    lock_staff(session, [allocation.worker_id, *_affected_workers(session, case.id or 0, on)])
    before = audit.snapshot_of(allocation)
    allocation.end_date = on
    session.flush()
    audit.record(session, action="allocation.end", entity="allocation",
                 entity_id=allocation.id, actor_id=actor_id, nqsw_id=allocation.worker_id,
                 before=before, after={"end_date": on, "reason": reason})
    trigger = f"Allocation of case {case.reference} ended" + (f" ({reason})" if reason else "")
    workers = sorted({allocation.worker_id, *_affected_workers(session, case.id or 0, on)})
    reconciled = reconcile_staff(session, staff_ids=workers, on=on, policies=policies,
                                 trigger=trigger, actor_id=actor_id)
    return WriteResult(allocation, Decision(on=on, enrolled=False, policies=policies),
                       reconciled)


def list_allocations(
    session: Session,
    *,
    limit: int,
    offset: int,
    worker_id: int | None = None,
    case_id: int | None = None,
    role: str | None = None,
    on: date | None = None,
    scope: Reach | None = None,
) -> tuple[list[Allocation], int]:
    """`scope`: the caller's reach (app.auth); only allocations within it. None = all."""
    query = select(Allocation).order_by(col(Allocation.start_date).desc(), col(Allocation.id))
    if scope is not None:
        visible = access_scope.allocations(scope, worker_id=Allocation.worker_id,
                                           case_id=Allocation.case_id, on=on or today())
        if visible is not None:
            query = query.where(visible)
    if worker_id is not None:
        query = query.where(col(Allocation.worker_id) == worker_id)
    if case_id is not None:
        query = query.where(col(Allocation.case_id) == case_id)
    if role is not None:
        query = query.where(col(Allocation.role) == role)
    if on is not None:
        query = query.where(allocation_active_on(on))
    return paginate(session, query, limit=limit, offset=offset)


def get_allocation(session: Session, allocation_id: int) -> Allocation:
    allocation = session.get(Allocation, allocation_id)
    if allocation is None:
        raise NotFound("allocation", allocation_id)
    return allocation


# --- the workload view -------------------------------------------------------------------


def workload(session: Session, *, policies: Any, staff_id: int, on: date) -> dict[str, Any]:
    """Every measure of the NQSW's load on `on` (the engine's measures plus the breaches)."""
    from app.models.breach import UNRESOLVED_STATUSES
    from app.policy.engine import workload_measures

    get_or_404(session, Staff, staff_id, what="staff member")
    snapshot = load_snapshot(session, staff_id, on, policies=policies)
    if snapshot is None:
        raise NotFound("enrolment on a programme for staff member", staff_id,
                       field=["path", "staff_id"])
    findings = evaluate(snapshot, policies)
    measures = workload_measures(snapshot, policies, findings=findings)
    decision = Decision(on=on, enrolled=True, policies=policies, findings=findings)
    open_count = len(session.exec(
        select(Breach.id).where(col(Breach.staff_id) == staff_id,
                                col(Breach.status).in_(UNRESOLVED_STATUSES),
                                col(Breach.opened_on) <= on)
    ).all())
    return {
        **measures,
        "on": on,
        "programme_month": measures["stage"]["programme_months"],
        "status": snapshot.status,
        "benchmark_load": snapshot.benchmark_load,
        "findings": decision.finding_views(),
        "open_breaches": open_count,
    }
