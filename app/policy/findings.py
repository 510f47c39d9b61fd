"""What the engine says about a snapshot: one finding per rule evaluated."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    """One rule's verdict: the measured value, the limit and a reason a manager can read."""

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
        }


def overall(findings: list[Finding] | tuple[Finding, ...]) -> Outcome:
    """The worst outcome among the findings (ok when there are none)."""
    worst = Outcome.ok
    for finding in findings:
        if finding.outcome.rank > worst.rank:
            worst = finding.outcome
    return worst
