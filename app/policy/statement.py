"""The plain-English promise of every policy, rendered from the policy itself.

Transparency is the complaint the reports make most ("no clarity about how workload
is monitored"), so the statement an NQSW reads is generated from the very data the
engine enforces: change a cap in the file and the promise changes with it.
"""

from __future__ import annotations

from typing import Any

from app.policy.findings import Outcome
from app.policy.policies import Policy, PolicySet, Rule
from app.policy.rules.base import DescribeContext
from app.policy.rules.common import join_words
from app.policy.vocabulary import PROGRAMME_MONTHS, Programme

ROLE_WORDS: dict[str, str] = {
    "senior_manager": "a senior manager",
    "team_manager": "your team manager",
    "asye_coordinator": "the ASYE coordinator",
    "advanced_practitioner": "an advanced practitioner",
    "social_worker": "a social worker",
    "admin": "an administrator",
    "nqsw": "you",
}

PROGRAMME_NAMES: dict[str, str] = {
    "asye": "the ASYE (Assessed and Supported Year in Employment)",
    "swip": "the Social Work Induction Programme (SWIP)",
}


def role_words(role: str) -> str:
    return ROLE_WORDS.get(role, "a " + role.replace("_", " "))


def enforcement_sentence(rule: Rule) -> str:
    """What happens when the rule is broken: who may override, and how it escalates."""
    who = join_words([role_words(r) for r in rule.override_by], "or")
    if rule.enforcement is Outcome.block:
        first = (
            f"A firm limit is not passed: an allocation that would break it is refused "
            f"unless {who} overrides it with a recorded reason."
        )
    else:
        first = "Going beyond it needs a manager's recorded reason and is reported."
    escalation = rule.escalation
    senior = role_words(escalation.to)
    if escalation.severe or escalation.after_working_days == 0:
        second = f"If it is broken, your team manager and {senior} are told at once."
    else:
        days = escalation.after_working_days
        second = (
            f"If it is broken, your team manager is told at once, and {senior} if it is not "
            f"put right within {days} working day{'s' if days != 1 else ''}."
        )
    return f"{first} {second}"


def rule_statement(
    rule: Rule, policy_set: PolicySet, programme: str | None = None
) -> str:
    months = PROGRAMME_MONTHS[Programme(programme)] if programme else None
    context = DescribeContext(rule, policy_set.categories, programme, months)
    return f"{rule.impl.describe(rule.params, context)} {enforcement_sentence(rule)}"


def policy_statement(
    policy: Policy, policy_set: PolicySet, programme: str | None = None
) -> str:
    """The whole policy as a paragraph an NQSW or a manager can read."""
    parts = [rule_statement(rule, policy_set, programme) for rule in policy.rules]
    if policy.summary:
        parts.insert(0, policy.summary.strip())
    return " ".join(parts)


def describe_policy_set(
    policy_set: PolicySet, programme: str | None = None
) -> list[dict[str, Any]]:
    """Every policy (or those active for `programme`), structured and as a statement."""
    policies = (
        policy_set.for_programme(programme) if programme else tuple(policy_set.policies.values())
    )
    described = []
    for policy in policies:
        described.append({
            "id": policy.id,
            "title": policy.title,
            "summary": policy.summary,
            "version": policy.version,
            "file": policy.path.name if policy.path else None,
            "active_for": list(policy_set.programmes_for(policy.id)),
            "rules": [
                {
                    "id": rule.id,
                    "kind": rule.kind,
                    "title": rule.title,
                    "enforcement": rule.enforcement.value,
                    "severity": rule.severity.value,
                    "override_by": list(rule.override_by),
                    "escalation": {
                        "after_working_days": rule.escalation.after_working_days,
                        "severe": rule.escalation.severe,
                        "to": rule.escalation.to,
                    },
                    "params": rule.params.model_dump(mode="json"),
                    "statement": rule_statement(rule, policy_set, programme),
                }
                for rule in policy.rules
            ],
            "statement": policy_statement(policy, policy_set, programme),
        })
    return described


def programme_heading(programme: str) -> str:
    months = PROGRAMME_MONTHS[Programme(programme)]
    name = PROGRAMME_NAMES.get(programme, programme)
    return f"What we promise our NQSWs on {name}, {months} months"
