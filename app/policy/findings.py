"""What the engine says about a snapshot: one finding per rule evaluated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    ok = "ok"
    warn = "warn"
    block = "block"

    @property
    def rank(self) -> int:
        return {"ok": 0, "warn": 1, "block": 2}[self.value]


class Severity(StrEnum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    severe = "severe"


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's verdict: the measured value, the limit and a reason a manager can read.

    `began_on`: for a finding that is not ok, the day its problem began, when the engine
    can tell (the day supervision became overdue, the start of the allocation that took
    the load over a cap); None when it cannot, and always None when ok. A breach is aged
    from it, not from the day a check first noticed.
    """

    policy_id: str
    rule_id: str
    kind: str
    outcome: Outcome
    severity: Severity
    reason: str
    measured: float | None = None
    limit: float | None = None
    policy_version: str = ""
    adjusted_by: tuple[int | None, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    began_on: date | None = None

    @property
    def is_breach(self) -> bool:
        return self.outcome is not Outcome.ok

    @property
    def key(self) -> tuple[str, str]:
        """Identity used to reconcile breaches: the same rule of the same policy."""
        return (self.policy_id, self.rule_id)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the API and for the evidence stored with a breach."""
        return {
            "policy_id": self.policy_id,
            "rule_id": self.rule_id,
            "kind": self.kind,
            "outcome": self.outcome.value,
            "severity": self.severity.value,
            "reason": self.reason,
            "measured": self.measured,
            "limit": self.limit,
            "policy_version": self.policy_version,
            "adjusted_by": list(self.adjusted_by),
            "details": self.details,
            "began_on": self.began_on.isoformat() if self.began_on else None,
        }


def caused_by_proposal(after: Finding, before: Finding | None) -> bool:
    """Whether a proposal causes `after`, its rule's finding on one day with the proposal
    in place, given `before`, the same rule's finding on the same day without it.

    "Without it" is the load as it stands before the request: for a change to an
    allocation (a role change, a reassignment, an extension) the load with that
    allocation as it was, and for a co-worker becoming holder, with the current holder
    still holding. Caused means that `after` is not ok and that, without the proposal,
    the rule:

    * found nothing (`before` is None) or found it ok;
    * found it less severe (a warning the proposal turns into a block); or
    * found it already breached, with a smaller measure: already over a cap, one more
      case makes it worse, and that is what a refusal is for.

    Everything else that is not ok is *pre-existing*: found at least as severe without the
    proposal, with a measure no smaller. A rule that does not read the caseload
    (supervision, protected time) finds the same either way; a breach the proposal
    changes in kind but not in size (a co-worked child protection case without an
    advanced practitioner becoming held) stays as it was. With a measure missing on
    either side only the outcome can tell.
    """
    if after.outcome is Outcome.ok:
        return False
    if before is None or after.outcome.rank > before.outcome.rank:
        return True
    if after.measured is not None and before.measured is not None:
        return after.measured > before.measured + 1e-9
    return False


def overall(findings: list[Finding] | tuple[Finding, ...]) -> Outcome:
    """The worst outcome among the findings (ok when there are none)."""
    worst = Outcome.ok
    for finding in findings:
        if finding.outcome.rank > worst.rank:
            worst = finding.outcome
    return worst
