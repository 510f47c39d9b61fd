"""Who approves an individual adjustment a team manager proposes for one NQSW.

A team manager knows the NQSW best and may propose an agreement ("0.8 FTE and building
confidence: a cap of 10 after month 6"), but the policy is the organisation's promise,
so someone outside the team decides whether to change it for one person. Each policy
file names that role (`adjustments_approved_by`, a list of roles); without it, the ASYE
coordinator approves, as the person who answers for the programme.

Pure: the loader attaches each policy's approvers to the policy it built (beside it,
rather than on it, so that a policy built without a file, in a test or the demo, simply
has the default), and the services ask `approver_roles`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from app.policy.policies import Policy, PolicySet

DEFAULT_APPROVERS: tuple[str, ...] = ("asye_coordinator",)

_ATTACHED: WeakKeyDictionary[Policy, tuple[str, ...]] = WeakKeyDictionary()


def attach_approvers(policy: Policy, roles: Sequence[str]) -> Policy:
    """Record the roles the policy file names as approvers (returns the policy)."""
    _ATTACHED[policy] = tuple(roles) or DEFAULT_APPROVERS
    return policy


def approver_roles(policies: PolicySet | None, policy_id: str) -> tuple[str, ...]:
    """The roles that may approve a proposed adjustment to this policy."""
    if policies is None or policy_id not in policies:
        return DEFAULT_APPROVERS
    return _ATTACHED.get(policies.policy(policy_id), DEFAULT_APPROVERS)
