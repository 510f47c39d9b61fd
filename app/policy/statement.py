"""The plain-English promise of every policy, rendered from the policy itself.

Transparency is the complaint the reports make most ("no clarity about how workload
is monitored"), so the statement an NQSW reads is generated from the very data the
engine enforces: change a cap in the file and the promise changes with it.
"""

from __future__ import annotations

from typing import Any

from app.policy.findings import Outcome, Severity
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


def rule_outcomes(rule: Rule) -> frozenset[Outcome]:
    """The breach outcomes the rule can produce: per band, per light, or its enforcement."""
    hook = getattr(rule.impl, "outcomes", None)
    found = frozenset(hook(rule.params, rule.enforcement)) if callable(hook) else frozenset()
    return (found - {Outcome.ok}) or frozenset({rule.enforcement})


def judges_allocations(rule: Rule) -> bool:
    """Whether an allocation can break the rule. Kinds that never read the caseload
    (protected time, supervision) never refuse one: the allocation check refuses only
    what a proposal causes or worsens."""
    return bool(getattr(rule.impl, "reads_caseload", True))


def escalates_at_once(rule: Rule) -> bool:
    """Both managers told the moment a breach opens (as the escalation ladder decides)."""
    escalation = rule.escalation
    return (
        escalation.severe
        or escalation.after_working_days == 0
        or rule.severity is Severity.severe
    )


def _refusal_sentence(rule: Rule, outcomes: frozenset[Outcome], count: int = 1) -> str:
    """What the allocation check does: refuse (block) or allow and report (warn)."""
    who = join_words([role_words(r) for r in rule.override_by], "or")
    refused = (
        f"refused unless {who} agrees to it, with a recorded reason" if who
        else "refused, and no one may override it"
    )
    allowed = (
        "not refused (any reason the manager gives is recorded with it), but it is "
        "reported as a breach"
    )
    many = count > 1
    if outcomes == {Outcome.block}:
        opening = "These are firm rules" if many else "This is a firm rule"
        return f"{opening}: an allocation that would break {'one' if many else 'it'} is {refused}."
    if outcomes == {Outcome.warn}:
        opening = "These are flexible rules" if many else "This is a flexible rule"
        return f"{opening}: an allocation that breaks {'one' if many else 'it'} is {allowed}."
    if rule.enforcement is Outcome.block:
        opening = "These are firm limits, except where marked flexible"
    else:
        opening = "These are flexible limits, except where marked firm"
    return (
        f"{opening}: an allocation that would break a firm limit is {refused}; one that "
        f"breaks a flexible limit is {allowed}."
    )


def _escalation_sentence(rule: Rule, outcomes: frozenset[Outcome], allocations: bool) -> str:
    """Who is told of a breach, and when it climbs (overridden breaches do not climb)."""
    escalation = rule.escalation
    upper = role_words(escalation.to)
    if escalates_at_once(rule):
        if escalation.to == "team_manager":
            return "Your team manager is told of any breach at once."
        return f"Your team manager and {upper} are told of any breach at once."
    days = escalation.after_working_days
    within = f"within {days} working day{'s' if days != 1 else ''}"
    climbs = (
        f"again if it is not put right {within}" if escalation.to == "team_manager"
        else f"{upper} if it is not put right {within}"
    )
    text = f"Your team manager is told of any breach at once, and {climbs}"
    if allocations and Outcome.block in outcomes and rule.override_by:
        who = join_words([role_words(r) for r in rule.override_by], "or")
        text += f" (unless {who} agreed to it)"
    return text + "."


def enforcement_sentence(rule: Rule, count: int = 1) -> str:
    """What happens when the rule is broken, exactly as the service does it.

    * block, for rules an allocation can break: the allocation is refused unless someone
      in `override_by` agrees, with a reason; a breach so agreed does not climb further;
    * warn: the allocation goes ahead (with the manager's reason, when one is given)
      and is reported as a breach: no reason is required;
    * rules no allocation can break (protected time, supervision): a breach is recorded;
    * then who is told, and when it goes to the next rung of the ladder.

    `count`: how many rules the sentence speaks for (consecutive rules of a policy that
    are enforced alike share one sentence).
    """
    outcomes = rule_outcomes(rule)
    allocations = judges_allocations(rule)
    if allocations:
        first = _refusal_sentence(rule, outcomes, count)
    else:
        first = "If a promise here is not kept, it is recorded as a breach."
    return f"{first} {_escalation_sentence(rule, outcomes, allocations)}"


def _describe(rule: Rule, policy_set: PolicySet, programme: str | None) -> str:
    months = PROGRAMME_MONTHS[Programme(programme)] if programme else None
    context = DescribeContext(
        rule, policy_set.categories, programme, months, sign_offs=policy_set.sign_offs
    )
    return rule.impl.describe(rule.params, context)


def rule_statement(
    rule: Rule, policy_set: PolicySet, programme: str | None = None
) -> str:
    """One rule's promise: what it sets, then what happens when it is broken."""
    return f"{_describe(rule, policy_set, programme)} {enforcement_sentence(rule)}"


def policy_paragraphs(
    policy: Policy, policy_set: PolicySet, programme: str | None = None
) -> list[str]:
    """The rules' promises, one paragraph per run of rules enforced alike.

    Consecutive rules enforced alike are described one after the other and followed by
    one enforcement sentence, rather than the same sentence after each.
    """
    paragraphs: list[str] = []
    group: list[Rule] = []
    texts: list[str] = []

    def close() -> None:
        if group:
            paragraphs.append(" ".join([*texts, enforcement_sentence(group[0], len(group))]))
            group.clear()
            texts.clear()

    for rule in policy.rules:
        if group and enforcement_sentence(group[0]) != enforcement_sentence(rule):
            close()
        texts.append(_describe(rule, policy_set, programme))
        group.append(rule)
    close()
    return paragraphs


def policy_statement(
    policy: Policy, policy_set: PolicySet, programme: str | None = None
) -> str:
    """The whole policy as a paragraph an NQSW or a manager can read: the hand-written
    summary, if any, then the promises generated from the parameters."""
    parts = [policy.summary.strip()] if policy.summary else []
    return " ".join([*parts, *policy_paragraphs(policy, policy_set, programme)])


def _described(
    policy: Policy, policy_set: PolicySet, programme: str | None
) -> dict[str, Any]:
    return {
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
        "paragraphs": policy_paragraphs(policy, policy_set, programme),
    }


def describe_policy_set(
    policy_set: PolicySet, programme: str | None = None
) -> list[dict[str, Any]]:
    """Every policy (or those active for `programme`), structured and as a statement."""
    policies = (
        policy_set.for_programme(programme) if programme else tuple(policy_set.policies.values())
    )
    return [_described(policy, policy_set, programme) for policy in policies]


def describe_inactive(policy_set: PolicySet) -> list[dict[str, Any]]:
    """The policies that are checked and available but active for no programme."""
    return [_described(policy, policy_set, None) for policy in policy_set.inactive()]


def programme_heading(programme: str) -> str:
    months = PROGRAMME_MONTHS[Programme(programme)]
    name = PROGRAMME_NAMES.get(programme, programme)
    return f"What we promise our NQSWs on {name}, {months} months"
