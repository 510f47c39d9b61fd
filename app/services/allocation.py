"""Allocating cases: every path that can grow an NQSW's load runs the policy check.

The check and the write happen in one transaction under a lock on the NQSW
(`reconcile.lock_staff`), so two concurrent allocations cannot both squeeze under a
cap. The decision compares the NQSW's findings with and without the proposal: a
proposal is refused only for what it causes or worsens (a blocking finding that was
not blocking before, or whose measure grows), never for a breach that already exists
and that the proposal leaves as it is. That breach is already open, and on the ladder.

A proposal is judged over the whole period it covers, not only on its first day: on
every date where an outcome can change (other allocations starting, stage boundaries,
agreements beginning or ending; see `app.services.allocation_period`). The worst
outcome over those dates decides, and each finding says the date it occurs on.

* block, no override -> `PolicyBlocked` (409) with the findings; nothing is written;
* block, `override_reason` by someone whose role the policy allows -> written, and the
  breach is recorded as *overridden* with the approver and reason;
* warn -> written; a warning-level breach is opened (unless the rule only informs).
  With an `override_reason` the reason and who gave it are recorded on that breach; it
  is *overridden* (and stops climbing) only when that person's role may override.

After the write the NQSW's breaches are reconciled on the proposal's first day, on the
days it first breaks or worsens a rule, on every judged day up to today and on today,
so a back-dated allocation's consequences are on record as they happened.

Workers who are not on a programme (no current enrolment) have no rules: allocations
to them are written without findings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Protocol

from sqlalchemy import or_
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
from app.repositories.base import get_or_404, paginate
from app.services import audit
from app.services.allocation_period import (
    Dated,
    PeriodFacts,
    load_period_facts,
    period_stop,
    snapshots_over,
)
from app.services.reconcile import (
    Cause,
    Override,
    ReconcileResult,
    lock_staff,
    reconcile_staff,
    rule_of,
)
from app.services.snapshots import allocation_active_on, load_snapshot

DEFAULT_OVERRIDE_ROLES: tuple[str, ...] = ("senior_manager",)
Key = tuple[str, str]


class PolicyBlocked(Conflict):
    """The allocation would break a firm limit: 409 with one detail per finding."""

    error_type = "policy_block"

    def __init__(self, decision: Decision, message: str | None = None) -> None:
        blocking = decision.blocking
        super().__init__(
            message or "; ".join(decision.dated_reason(f) for f in blocking)
            or "refused by policy",
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
                "msg": self.decision.dated_reason(finding),
                "type": "policy_block" if caused and finding.outcome is Outcome.block
                else f"policy_{finding.outcome.value}",
                "finding": {**finding.as_dict(), "caused_by_proposal": caused,
                            "on": self.decision.found_on(finding).isoformat()},
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
    """What the engine says about a proposal over its period, and what the proposal causes.

    `findings` holds one finding per rule: where the proposal causes or worsens it, the
    worst such finding over the period (the earliest, among equals); otherwise the
    finding on the first day judged. `dates` says the day each was found on.
    """

    on: date
    enrolled: bool
    findings: list[Finding] = field(default_factory=list)
    caused_keys: frozenset[Key] = frozenset()
    policies: Any = None
    dates: dict[Key, date] = field(default_factory=dict)
    # The first day each caused finding appears (the day its breach opens).
    first_caused: dict[Key, date] = field(default_factory=dict)
    # Every day the proposal was judged on.
    evaluated: tuple[date, ...] = ()

    def is_caused(self, finding: Finding) -> bool:
        return finding.key in self.caused_keys

    def found_on(self, finding: Finding) -> date:
        return self.dates.get(finding.key, self.on)

    def dated_reason(self, finding: Finding) -> str:
        """The finding's reason, saying when it happens if not on the proposal's first day."""
        day = self.found_on(finding)
        return finding.reason if day == self.on else f"On {day.isoformat()}: {finding.reason}"

    @property
    def caused(self) -> list[Finding]:
        return [f for f in self.findings if f.key in self.caused_keys]

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.caused if f.outcome is Outcome.block]

    @property
    def warning(self) -> list[Finding]:
        return [f for f in self.caused if f.outcome is Outcome.warn]

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

    def override_roles(self, findings: list[Finding] | None = None) -> set[str]:
        """Roles allowed to override every one of `findings` (default: the blocking ones)."""
        allowed: set[str] | None = None
        for finding in self.blocking if findings is None else findings:
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
                "on": self.found_on(finding),
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


@dataclass(frozen=True)
class Proposal:
    """A case taken on by a worker in a role over `[start, end)` (None: open-ended).

    `allocation_id`: the allocation being changed (a reassignment, a role change, an
    extension), whose own dates are the proposal's rather than a change to the load.
    """

    case_id: int
    worker_id: int
    role: str
    start: date
    end: date | None = None
    allocation_id: int | None = None


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
    policies: Any,
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
    snapshot: Snapshot, *, policies: Any, facts: PeriodFacts, proposal: Proposal,
    first: bool = True,
) -> tuple[list[Finding], list[Key]]:
    """The findings with the proposal on the snapshot's day, and the keys it causes.

    Rules that do not read the caseload (protected time, supervision) cannot be changed by
    the proposal: they are evaluated on the first day only, for the answer to show.
    """
    without, after = evaluate_proposal(
        snapshot, policies, proposed_item(facts, proposal, snapshot.as_of),
        caseload_only=not first,
    )
    before = {f.key: f for f in without}
    return after, [f.key for f in after if _worse(f, before.get(f.key))]


def judge(
    dated: list[Dated], *, policies: Any, facts: PeriodFacts, proposal: Proposal,
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
    session: Session, *, policies: Any, case_id: int, worker_id: int, role: str, on: date,
    end: date | None = None,
) -> Decision:
    """The what-if behind `POST /allocations/check`: the same judgement as the write."""
    if end is not None and end < on:
        raise DomainError("end date is before the start date", field="end_date")
    proposal = Proposal(case_id=case_id, worker_id=worker_id, role=role, start=on, end=end)
    facts = period_facts(session, proposal)
    first = load_snapshot(session, worker_id, on, policies=policies)
    if first is None:
        # A snapshot proves the worker exists (it is built from their enrolment), so the
        # look-up that answers "no such worker" is only needed without one.
        _require_worker(session, worker_id, field="worker_id")
    return decide(session, policies=policies, proposal=proposal, facts=facts, first=first,
                  first_read=True)


# --- validation helpers ----------------------------------------------------------------


def _require_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise DomainError(f"case {case_id} does not exist", field="case_id")
    return case


def _require_worker(session: Session, staff_id: int, *, field: str | None) -> Staff:
    person = session.get(Staff, staff_id)
    if person is None:
        raise DomainError(f"staff member {staff_id} does not exist", field=field)
    return person


class CaseFacts(Protocol):
    """What validation needs of a case: a `Case` row, or the period's `ProposedCase`."""

    @property
    def id(self) -> int | None: ...
    @property
    def reference(self) -> str: ...
    @property
    def opened_on(self) -> date: ...
    @property
    def closed_on(self) -> date | None: ...


def _require_case_open(case: CaseFacts, start: date) -> None:
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
    session: Session, *, case: CaseFacts, worker_id: int, role: str, start: date,
    end: date | None,
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
    person = _require_worker(session, actor_id, field=field)
    if person.role not in allowed:
        raise OverrideNotAllowed(
            f"you ({person.name}, {person.role.replace('_', ' ')}) may not override this "
            f"policy; allowed: {roles}",
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


@dataclass
class WriteResult:
    allocation: Allocation
    decision: Decision
    reconciled: ReconcileResult
    ended_allocation_id: int | None = None
    ended_holder_allocation_id: int | None = None

    def breaches(self) -> list[Breach]:
        worker = self.allocation.worker_id
        return [b for b in self.reconciled.touched() if b.staff_id == worker]


def _guarded_write(
    session: Session,
    *,
    policies: Any,
    proposal: Proposal,
    actor_id: int | None,
    override_reason: str | None,
    actor_field: str,
    facts: PeriodFacts | None = None,
) -> tuple[Decision, Override | None]:
    """Decide under the lock; raise when refused; describe the override when used.

    A block needs an override by a role the policy allows. A warning is written anyway;
    a reason given with it is kept on the warning's breach, which counts as overridden
    only when the person giving it holds a role the policy allows to override.
    """
    decision = decide(session, policies=policies, proposal=proposal, facts=facts)
    if decision.outcome is Outcome.block:
        approver = _approver(session, decision, actor_id=actor_id, reason=override_reason,
                             field=actor_field)
        keys = frozenset(f.key for f in decision.blocking)
        return decision, Override(keys=keys, approver_id=approver,
                                  reason=override_reason or "")
    if decision.outcome is Outcome.warn and override_reason:
        person = _require_worker(session, actor_id, field=actor_field) if actor_id else None
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


def _since(start: date) -> list[date]:
    """A change's first day, and today if that is later: for the others it touches."""
    now = today()
    return [start, now] if start < now else [start]


def _after_write(
    session: Session,
    *,
    policies: Any,
    allocation: Allocation,
    decision: Decision,
    override: Override | None,
    start: date,
    end: date | None,
    closed_on: date | None,
    actor_id: int | None,
    trigger: str,
    cause: str | None = None,
    also: list[int] | None = None,
) -> ReconcileResult:
    """Audit the override and reconcile the worker (and anyone else the change touches).

    The cause recorded on what resolves is the change's own on its first day, the end of
    the allocation (or the case's closure) on its last, and read from the evidence on
    the days between (a stage moving on).
    """
    stop = period_stop(end, closed_on)
    causes: dict[date, str | None] = {start: cause}
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
                                policies=policies, trigger=trigger, actor_id=actor_id,
                                override=pending, cause=causes.get(day))
        result.merge(found)
        if pending is not None:
            left = pending.keys - found.overrides_used
            pending = replace(pending, keys=frozenset(left)) if left else None
    others = sorted(set(also or []) - {allocation.worker_id})
    if others:
        for day in _since(start):
            result.merge(reconcile_staff(session, staff_ids=others, on=day, policies=policies,
                                         trigger=trigger, actor_id=actor_id,
                                         cause=cause if day == start else None))
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
    """Allocate a case from `start_date` after the policy check over its whole period.

    The NQSW is locked first; then one statement reads the case and every dated change
    in the period (`allocation_period`), which is both what validates the case and what
    the check is judged on, so the common write costs no more than a single-day check.
    """
    lock_staff(session, [worker_id, *_affected_workers(session, case_id, start_date)])
    proposal = Proposal(case_id=case_id, worker_id=worker_id, role=role, start=start_date,
                        end=end_date)
    facts = period_facts(session, proposal)
    assert facts.case is not None
    case = facts.case
    worker = _require_worker(session, worker_id, field="worker_id")
    if allocated_by_id is not None:
        _require_worker(session, allocated_by_id, field=None)
    _require_case_open(case, start_date)
    _require_not_left(worker, start_date, "worker_id")
    if end_date is not None and end_date < start_date:
        raise DomainError("end date is before the start date", field="end_date")
    _check_conflicts(session, case=case, worker_id=worker_id, role=role, start=start_date,
                     end=end_date)
    decision, override = _guarded_write(
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
    reconciled = _after_write(
        session, policies=policies, allocation=allocation, decision=decision,
        override=override, start=start_date, end=end_date, closed_on=case.closed_on,
        actor_id=allocated_by_id,
        trigger=f"Case {case.reference} allocated as {role.replace('_', '-')}",
        cause=Cause.changed,
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
    end_current_holder: bool = False,
) -> WriteResult:
    """Reassign, change role, or move the end date; growing a load runs the check.

    `end_current_holder`: with a change of role to holder, the case's current named holder
    (another allocation) ends on the same day in the same transaction, so a co-worker
    becomes the holder in one step, checked like any other growth of their load.
    """
    allocation = get_or_404(session, Allocation, allocation_id, what="allocation")
    case = _require_case(session, allocation.case_id)
    if actor_id is not None:
        _require_worker(session, actor_id, field=None)
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
    holder = _overlapping(session, case_id=case.id, start=on, end=None, role="holder",
                          exclude_id=successor.id)
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
    policies: Any,
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
    handed_over = None
    if end_current_holder:
        handed_over = _end_current_holder(session, case=case, successor=allocation, on=on,
                                          actor_id=actor_id)
    _check_conflicts(session, case=case, worker_id=worker_id, role=role, start=on, end=end,
                     exclude_id=allocation.id)
    proposal = Proposal(case_id=case.id or 0, worker_id=worker_id, role=role, start=on,
                        end=end, allocation_id=allocation.id)
    decision, override = _guarded_write(
        session, policies=policies, proposal=proposal, actor_id=actor_id,
        override_reason=override_reason, actor_field="override_reason",
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
    also = [*_affected_workers(session, case.id or 0, on)]
    if handed_over is not None:
        also.append(handed_over.worker_id)
    reconciled = _after_write(
        session, policies=policies, allocation=target, decision=decision, override=override,
        start=on, end=end, closed_on=case.closed_on, actor_id=actor_id, trigger=trigger,
        cause=Cause.changed, also=also,
    )
    if reassigned:
        # The previous worker's load shrinks: their breaches resolve because it ended.
        for day in _since(on):
            reconciled.merge(reconcile_staff(
                session, staff_ids=[old_worker], on=day, policies=policies, trigger=trigger,
                actor_id=actor_id, cause=Cause.allocation_ended if day == on else None))
    return WriteResult(target, decision, reconciled, ended_allocation_id=ended_id,
                       ended_holder_allocation_id=handed_over.id if handed_over else None)


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
        _check_conflicts(session, case=case, worker_id=allocation.worker_id,
                         role=allocation.role, start=old_end, end=new_end,
                         exclude_id=allocation.id)
        proposal = Proposal(case_id=case.id or 0, worker_id=allocation.worker_id,
                            role=allocation.role, start=old_end, end=new_end,
                            allocation_id=allocation.id)
        decision, override = _guarded_write(
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
        reconciled = _after_write(
            session, policies=policies, allocation=allocation, decision=decision,
            override=override, start=effective, end=new_end, closed_on=case.closed_on,
            actor_id=actor_id, trigger=trigger, cause=Cause.changed,
        )
    else:
        reconciled = ReconcileResult()
        for day in _since(effective):
            reconciled.merge(reconcile_staff(
                session, staff_ids=[allocation.worker_id], on=day, policies=policies,
                trigger=trigger, actor_id=actor_id,
                cause=Cause.allocation_ended if day == effective else None))
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
        _require_worker(session, actor_id, field=None)
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
                 before=before, after={"end_date": on, "reason": reason}, effective_on=on)
    trigger = f"Allocation of case {case.reference} ended" + (f" ({reason})" if reason else "")
    workers = sorted({allocation.worker_id, *_affected_workers(session, case.id or 0, on)})
    reconciled = ReconcileResult()
    for day in _since(on):
        reconciled.merge(reconcile_staff(session, staff_ids=workers, on=day, policies=policies,
                                         trigger=trigger, actor_id=actor_id,
                                         cause=Cause.allocation_ended if day == on else None))
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
