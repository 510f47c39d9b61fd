"""`coworking`: child protection work only alongside an advanced practitioner, until signed off.

In the co-working model the NQSW works CP cases with an advanced practitioner who is
the named, responsible case holder, until the NQSW is signed off for that work (about
halfway through the ASYE) by the team manager and the strategic manager together.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.policy.findings import Finding, Outcome
from app.policy.rules.base import DescribeContext, RuleContext
from app.policy.rules.common import (
    CategoryKeys,
    SignOffName,
    StrictParams,
    agree,
    join_words,
    plural,
)
from app.policy.snapshot import CaseLoadItem, Snapshot

DEFAULT_CATEGORIES = ("child_protection_plan", "care_proceedings")


class Params(StrictParams):
    categories: CategoryKeys = Field(default=DEFAULT_CATEGORIES, min_length=1)
    until_sign_off: SignOffName = Field(
        default="child_protection", min_length=1, description="The sign-off that lifts the rule."
    )


def sign_off_words(kind: str, context: RuleContext | DescribeContext | None = None) -> str:
    """What the sign-off is for, as the organisation names it: "child protection work"
    (read after "signed off for")."""
    if context is not None:
        return context.sign_offs.label(kind)
    return kind.replace("_", " ") + " work"


def _problem(item: CaseLoadItem) -> str | None:
    if item.role == "holder":
        return "held by the NQSW as named holder"
    if not item.holder_is_advanced_practitioner:
        return "co-worked, but the named holder is not an advanced practitioner"
    return None


def evaluate(snapshot: Snapshot, params: Params, context: RuleContext) -> Finding:
    watched = params.categories
    signed = context.signed_off.get(params.until_sign_off)
    cases: list[dict[str, Any]] = []
    for item in snapshot.caseload:
        if item.category in watched:
            problem = _problem(item)
            if problem is not None:
                cases.append({
                    "case_id": item.case_id,
                    "reference": item.reference,
                    "category": item.category,
                    "problem": problem,
                    "proposed": context.proposed is not None
                    and item.case_id == context.proposed.case_id,
                })
    work = sign_off_words(params.until_sign_off, context)
    details: dict[str, Any] = {"signed_off_on": signed.isoformat() if signed else None}
    if signed is not None:
        return context.finding(
            Outcome.ok,
            f"Signed off for {work} on {signed.isoformat()}: co-working is no longer "
            "required.",
            measured=0.0,
            limit=0.0,
            details=details,
        )
    details["cases"] = cases
    if not cases:
        return context.finding(
            Outcome.ok,
            f"No {' or '.join(context.categories.label(c) for c in watched)} case is held "
            "without an advanced practitioner as the named holder.",
            measured=0.0,
            limit=0.0,
            details=details,
        )
    listed = "; ".join(
        f"{c['reference']} ({context.categories.label(c['category'])}) {c['problem']}"
        for c in cases
    )
    proposed = context.proposed is not None and any(c["proposed"] for c in cases)
    verb = "would break" if proposed else agree(len(cases), "breaks", "break")
    reason = (
        f"{plural(len(cases), 'case')} {verb} the co-working rule: {listed}. Until signed "
        f"off for {work}, such cases may only be co-worked with an advanced "
        "practitioner as the named holder."
    )
    return context.finding(
        context.enforcement, reason, measured=float(len(cases)), limit=0.0, details=details
    )


def describe(params: Params, context: DescribeContext) -> str:
    labels = join_words([context.categories.label(c) for c in params.categories], "or")
    return (
        f"Until you are signed off for {sign_off_words(params.until_sign_off, context)}, you "
        f"will work on {labels} cases only alongside an advanced practitioner, who is the "
        "named, responsible case holder."
    )
