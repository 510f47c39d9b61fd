"""`complexity_gate`: no sole holding of the hardest work early on, unless signed off.

Within the first 12 months an NQSW should not be the sole holder of a child on a
child protection plan or in care proceedings, nor take any case of that complexity
in the first 6 months; readiness is a recorded sign-off, not a feeling.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from app.policy.findings import Finding, Outcome
from app.policy.rules.base import DescribeContext, RuleContext
from app.policy.rules.common import (
    MAX_COMPLEXITY,
    CategoryKeys,
    StrictParams,
    join_words,
    months_text,
    plural,
)
from app.policy.rules.coworking import DEFAULT_CATEGORIES, sign_off_words
from app.policy.snapshot import Snapshot

RoleName = Literal["holder", "co_worker"]


class SoleHolding(StrictParams):
    """No case in these categories held as named holder before `until_month`."""

    categories: CategoryKeys = DEFAULT_CATEGORIES
    until_month: int = Field(default=12, ge=0)


class HighComplexity(StrictParams):
    """No case of complexity `min_complexity` or more, in these roles, before `until_month`."""

    min_complexity: int = Field(default=4, ge=1, le=MAX_COMPLEXITY)
    until_month: int = Field(default=6, ge=0)
    roles: tuple[RoleName, ...] = Field(default=("holder", "co_worker"), min_length=1)


class Params(StrictParams):
    sole_holding: SoleHolding = SoleHolding()
    high_complexity: HighComplexity = HighComplexity()
    lifted_by: str | None = Field(
        default="child_protection",
        description="A sign-off of this kind lifts both gates; empty means nothing lifts them.",
    )

    @field_validator("lifted_by")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


def evaluate(snapshot: Snapshot, params: Params, context: RuleContext) -> Finding:
    months = context.clock.months
    sole, high = params.sole_holding, params.high_complexity
    signed = context.signed_off.get(params.lifted_by) if params.lifted_by else None
    details: dict[str, Any] = {
        "programme_months": months,
        "signed_off_on": signed.isoformat() if signed else None,
    }
    sole_open = months < sole.until_month
    high_open = months < high.until_month
    if signed is not None or not (sole_open or high_open):
        why = (
            f"signed off for {sign_off_words(params.lifted_by or '')} work on {signed.isoformat()}"
            if signed is not None
            else f"past month {max(sole.until_month, high.until_month)}"
        )
        details["cases"] = []
        return context.finding(
            Outcome.ok, f"No complexity gate applies: {why}.", measured=0.0, limit=0.0,
            details=details,
        )
    cases: list[dict[str, Any]] = []
    proposed_id = context.proposed.case_id if context.proposed is not None else None
    for item in snapshot.caseload:
        problems = []
        if sole_open and item.role == "holder" and item.category in sole.categories:
            problems.append(
                f"sole holding of {context.categories.label(item.category)} before month "
                f"{sole.until_month}"
            )
        if high_open and item.complexity >= high.min_complexity and item.role in high.roles:
            problems.append(
                f"complexity {item.complexity} before month {high.until_month}"
            )
        if problems:
            cases.append({
                "case_id": item.case_id,
                "reference": item.reference,
                "role": item.role,
                "problems": problems,
                "proposed": item.case_id == proposed_id,
            })
    details["cases"] = cases
    if not cases:
        return context.finding(
            Outcome.ok,
            f"No case is above what is allowed at {months_text(months)} into the programme.",
            measured=0.0,
            limit=0.0,
            details=details,
        )
    listed = "; ".join(f"{c['reference']}: {' and '.join(c['problems'])}" for c in cases)
    verb = "would break" if any(c["proposed"] for c in cases) else "break"
    reason = (
        f"{plural(len(cases), 'case')} {verb} the complexity gate at "
        f"{months_text(months)} into the programme ({listed})"
    )
    if params.lifted_by:
        reason += f"; not yet signed off for {sign_off_words(params.lifted_by)} work"
    return context.finding(
        context.enforcement, reason + ".", measured=float(len(cases)), limit=0.0, details=details
    )


def describe(params: Params, context: DescribeContext) -> str:
    sole, high = params.sole_holding, params.high_complexity
    sentences = []
    if sole.until_month > 0 and sole.categories:
        labels = join_words([context.categories.label(c) for c in sole.categories], "or")
        sentences.append(
            f"In your first {months_text(sole.until_month)} you will not be the sole holder "
            f"of a {labels} case"
        )
    if high.until_month > 0:
        level = (
            f"complexity {high.min_complexity}"
            if high.min_complexity == MAX_COMPLEXITY
            else f"complexity {high.min_complexity} or higher"
        )
        roles = "hold or co-work" if len(set(high.roles)) == 2 else (
            "hold" if "holder" in high.roles else "co-work"
        )
        sentences.append(
            f"In your first {months_text(high.until_month)} you will not {roles} any case of "
            f"{level} (the most complex, on a scale of 1 to {MAX_COMPLEXITY})"
            if high.min_complexity == MAX_COMPLEXITY
            else f"In your first {months_text(high.until_month)} you will not {roles} any "
            f"case of {level} (on a scale of 1 to {MAX_COMPLEXITY})"
        )
    text = ". ".join(sentences) + "." if sentences else "No complexity limits apply."
    if params.lifted_by and sentences:
        text += (
            f" These limits end earlier only once you are signed off for "
            f"{sign_off_words(params.lifted_by)} work, a decision your team manager and a "
            "senior manager make together."
        )
    return text
