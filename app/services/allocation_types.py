"""What the allocation use cases share: a proposal, the decision on it, what a write did,
and the refusals an allocation can meet.

A `Decision` compares the NQSW's findings with and without the proposal: a proposal is
refused only for what it causes or worsens (a blocking finding that was not blocking
before, or whose measure grows), never for a breach that already exists and that the
proposal leaves as it is. That breach is already open, and on the ladder. What is
caused and what is pre-existing is decided once (`Decision.grouped`), and a refusal, the
what-if and the allocation page all show the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from app.errors import Conflict, DomainError
from app.models import Allocation
from app.models.breach import Breach
from app.policy.findings import Finding, Outcome, overall
from app.services.reconcile import ReconcileResult, rule_of

if TYPE_CHECKING:
    from app.policy.registry import PolicySet


DEFAULT_OVERRIDE_ROLES: tuple[str, ...] = ("senior_manager",)
Key = tuple[str, str]
# How a refusal words a finding the proposal did not cause.
PRE_EXISTING_PREFIX = "Already the case before this allocation: "


@dataclass(frozen=True)
class FindingGroups:
    """A decision's findings that are not ok, in two groups: `caused`, what the proposal
    causes or makes worse (blocks first, then warnings), and `pre_existing`, what is
    already so without it (blocks first, then warnings). Rule order within each."""

    caused: list[Finding]
    pre_existing: list[Finding]


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
        """What the proposal causes first (`policy_block`, then `policy_warn`), then what
        was already the case without it (`policy_pre_existing`, its `msg` saying so), so
        that nobody reads a finding that did not refuse it as a reason it was refused."""
        groups = self.decision.grouped()
        items = [self._item(f, pre_existing=False) for f in groups.caused]
        items += [self._item(f, pre_existing=True) for f in groups.pre_existing]
        if self.message not in {item["msg"] for item in items}:
            items.insert(0, {"loc": self.loc, "msg": self.message, "type": "policy_refused"})
        return items

    def _item(self, finding: Finding, *, pre_existing: bool) -> dict[str, Any]:
        reason = self.decision.dated_reason(finding)
        return {
            "loc": self.loc,
            "msg": f"{PRE_EXISTING_PREFIX}{reason}" if pre_existing else reason,
            "type": "policy_pre_existing" if pre_existing
            else f"policy_{finding.outcome.value}",
            "pre_existing": pre_existing,
            "finding": {**finding.as_dict(), "caused_by_proposal": not pre_existing,
                        "on": self.decision.found_on(finding).isoformat()},
        }


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
    policies: PolicySet | None = None
    dates: dict[Key, date] = field(default_factory=dict)
    # The first day each caused finding appears (the day its breach opens).
    first_caused: dict[Key, date] = field(default_factory=dict)
    # Every day the proposal was judged on.
    evaluated: tuple[date, ...] = ()

    def is_caused(self, finding: Finding) -> bool:
        """Whether the proposal causes or worsens this finding on some judged day
        (`app.policy.findings.caused_by_proposal`, folded over the period by
        `allocation_judge.judge`); not ok and not caused is pre-existing."""
        return finding.key in self.caused_keys

    def grouped(self) -> FindingGroups:
        """The findings that are not ok, caused ones apart from pre-existing ones: the one
        split behind the 409's `detail`, the check's `caused`/`pre_existing` and each
        finding's `caused_by_proposal`."""
        breached = sorted((f for f in self.findings if f.outcome is not Outcome.ok),
                          key=lambda f: -f.outcome.rank)
        return FindingGroups(
            caused=[f for f in breached if self.is_caused(f)],
            pre_existing=[f for f in breached if not self.is_caused(f)],
        )

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
        return overall(self.caused)

    @property
    def current_outcome(self) -> Outcome:
        return overall(self.findings)

    def override_roles(self, findings: list[Finding] | None = None) -> set[str]:
        """Roles allowed to override every one of `findings` (default: the blocking ones)."""
        allowed: set[str] | None = None
        for finding in self.blocking if findings is None else findings:
            rule = rule_of(self.policies, finding)
            roles = set(getattr(rule, "override_by", DEFAULT_OVERRIDE_ROLES) or ())
            allowed = roles if allowed is None else allowed & roles
        return allowed or set()

    def finding_views(self, findings: list[Finding] | None = None) -> list[dict[str, Any]]:
        """Each of `findings` (default: every rule's) as the API and the pages show it."""
        views = []
        for finding in self.findings if findings is None else findings:
            rule = rule_of(self.policies, finding)
            views.append({
                **finding.as_dict(),
                "on": self.found_on(finding),
                "caused_by_proposal": self.is_caused(finding),
                "enforcement": rule.enforcement.value if rule is not None else None,
                "override_by": list(getattr(rule, "override_by", ()) or ()),
            })
        return views


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

