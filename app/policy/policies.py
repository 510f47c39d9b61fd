"""The loaded policies: typed, validated once, and cheap to evaluate many times.

These objects are what the rest of the service reads: the allocation workflow reads
`Rule.enforcement` and `Rule.override_by`, the breach ladder reads `Rule.escalation`
and `Rule.severity`, and every finding carries `Policy.version` so a breach can be
explained by the exact file that raised it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from app.policy.categories import (
    BUILTIN_CATEGORIES,
    BUILTIN_SIGN_OFFS,
    Categories,
    SignOffKinds,
)
from app.policy.findings import Outcome, Severity
from app.policy.separation import DEFAULT_SEPARATION, Separation

if TYPE_CHECKING:
    from app.policy.rules.base import RuleKind

PROGRAMMES: tuple[str, ...] = ("asye", "swip")


@dataclass(frozen=True, slots=True)
class Escalation:
    """How a breach of the rule climbs the ladder.

    The team manager is always told at once. `after_working_days`: unresolved for this
    many working days (bank holidays excluded) it goes to `to` (a senior manager).
    `severe`: tell the team manager and `to` at the same moment, without waiting.
    """

    after_working_days: int = 5
    severe: bool = False
    to: str = "senior_manager"


@dataclass(eq=False)
class Rule:
    """One rule of one policy with its parameters already validated."""

    policy_id: str
    id: str
    kind: str
    impl: RuleKind
    params: BaseModel
    enforcement: Outcome = Outcome.block
    severity: Severity = Severity.high
    override_by: tuple[str, ...] = ("senior_manager",)
    escalation: Escalation = field(default_factory=Escalation)
    title: str | None = None
    policy_version: str = ""
    line: int = 0
    # Parameters with individual adjustments applied, keyed by the adjustments' content:
    # the same agreement is validated once, not on every evaluation.
    adjusted_cache: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)
    target_cache: dict[str, bool] = field(default_factory=dict, repr=False)
    # The policy this rule belongs to (set when the policy is built).
    policy: Policy | None = field(default=None, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.policy_id, self.id)

    @property
    def blocks(self) -> bool:
        """Whether a breach of this rule refuses the allocation (unless overridden)."""
        return self.enforcement is Outcome.block

    def params_dict(self) -> dict[str, Any]:
        return self.params.model_dump(mode="python")


@dataclass(eq=False)
class Policy:
    """One policy file: an id, a title, its rules, and a version that is its content hash."""

    id: str
    title: str
    version: str
    rules: tuple[Rule, ...]
    summary: str | None = None
    path: Path | None = None
    enforcement: Outcome = Outcome.block
    severity: Severity = Severity.high
    override_by: tuple[str, ...] = ("senior_manager",)
    escalation: Escalation = field(default_factory=Escalation)

    def __post_init__(self) -> None:
        for rule in self.rules:
            rule.policy = self

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(f"policy {self.id!r} has no rule {rule_id!r}")


def content_version(data: bytes) -> str:
    """The short content hash that identifies one version of a policy file."""
    return hashlib.sha256(data).hexdigest()[:12]


class PolicySet:
    """Every policy of the organisation and which of them apply to each programme."""

    def __init__(
        self,
        policies: Mapping[str, Policy],
        active: Mapping[str, tuple[str, ...]],
        *,
        categories: Categories = BUILTIN_CATEGORIES,
        sign_offs: SignOffKinds = BUILTIN_SIGN_OFFS,
        separation: Separation = DEFAULT_SEPARATION,
        kinds: Mapping[str, RuleKind] | None = None,
        directory: Path | None = None,
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.policies: dict[str, Policy] = dict(policies)
        self.active: dict[str, tuple[str, ...]] = {p: tuple(active.get(p, ())) for p in PROGRAMMES}
        for programme, ids in active.items():
            self.active.setdefault(programme, tuple(ids))
        self.categories = categories
        # The sign-off kinds policies may name (and the service may record).
        self.sign_offs = sign_offs
        # The decisions that need a second person (policies/separation.toml).
        self.separation = separation
        self.kinds: dict[str, RuleKind] = dict(kinds or {})
        self.directory = directory
        self.warnings = warnings
        self._rules: dict[str, tuple[Rule, ...]] = {
            programme: tuple(rule for pid in ids for rule in self.policies[pid].rules)
            for programme, ids in self.active.items()
        }
        self._first_of_kind: dict[str, tuple[Rule, ...]] = {}
        digest = hashlib.sha256()
        for pid in sorted(self.policies):
            digest.update(f"{pid}={self.policies[pid].version};".encode())
        for programme in sorted(self.active):
            digest.update(f"{programme}:{','.join(self.active[programme])};".encode())
        self.version = digest.hexdigest()[:12]

    def __contains__(self, policy_id: object) -> bool:
        return policy_id in self.policies

    def __iter__(self) -> Iterator[Policy]:
        return iter(self.policies.values())

    def __len__(self) -> int:
        return len(self.policies)

    def policy(self, policy_id: str) -> Policy:
        return self.policies[policy_id]

    def rule(self, policy_id: str, rule_id: str) -> Rule:
        return self.policies[policy_id].rule(rule_id)

    def for_programme(self, programme: str) -> tuple[Policy, ...]:
        """The policies active for a programme, in the order `active.toml` lists them."""
        return tuple(self.policies[pid] for pid in self.active.get(programme, ()))

    def rules_for(self, programme: str) -> tuple[Rule, ...]:
        """Every rule the engine evaluates for an NQSW on this programme (precomputed)."""
        return self._rules.get(programme, ())

    def is_active(self, policy_id: str, programme: str) -> bool:
        return policy_id in self.active.get(programme, ())

    def programmes_for(self, policy_id: str) -> tuple[str, ...]:
        return tuple(p for p, ids in self.active.items() if policy_id in ids)

    def inactive(self) -> tuple[Policy, ...]:
        """Policies checked and available but active for no programme, in id order."""
        return tuple(
            self.policies[pid] for pid in sorted(self.policies) if not self.programmes_for(pid)
        )

    def first_of_each_kind(self, programme: str) -> tuple[Rule, ...]:
        """The first rule of each kind, those active for `programme` before the inactive
        ones (`rules_of_kind(kind, programme)[0]` for every kind), in that order.

        The workload measures each kind once, by this rule: a scheme the organisation
        keeps inactive is still measured, to show where an NQSW would stand under it.
        """
        found = self._first_of_kind.get(programme)
        if found is None:
            chosen: dict[str, Rule] = {}
            everything = (r for p in self.policies.values() for r in p.rules)
            for rule in (*self.rules_for(programme), *everything):
                chosen.setdefault(rule.kind, rule)
            found = self._first_of_kind[programme] = tuple(chosen.values())
        return found

    def rules_of_kind(self, kind: str, programme: str | None = None) -> tuple[Rule, ...]:
        """Rules of one kind: those active for `programme` first, then the inactive ones."""
        active = self.rules_for(programme) if programme else ()
        others = tuple(
            r for p in self.policies.values() for r in p.rules if r.kind == kind and r not in active
        )
        return tuple(r for r in active if r.kind == kind) + others
