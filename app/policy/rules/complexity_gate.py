"""`complexity_gate`: no sole holding of the hardest work early on, unless signed off.

Within the first 12 months an NQSW should not be allocated, as sole holder, a child on
a child protection plan or in care proceedings, nor any case of that complexity in the
first 6 months; they may co-work such cases, because co-working is the support the
domain asks for ("complex cases only with support in place"). Readiness is a recorded
sign-off, not a feeling.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from app.policy.findings import Finding, Outcome
from app.policy.rules.base import DescribeContext, ParamProblems, RuleContext
from app.policy.rules.common import (
    MAX_COMPLEXITY,
    CategoryKeys,
    SignOffName,
    StrictParams,
    agree,
    join_words,
    months_text,
    plural,
    stage_words,
)
from app.policy.rules.coworking import DEFAULT_CATEGORIES, sign_off_words
from app.policy.snapshot import Snapshot

RoleName = Literal["holder", "co_worker"]


class SoleHolding(StrictParams):
    """No case in these categories held as named holder before `until_month`."""

    categories: CategoryKeys = DEFAULT_CATEGORIES
    until_month: int = Field(default=12, ge=0)


class HighComplexity(StrictParams):
    """No case of complexity `min_complexity` or more, in these roles, before `until_month`.

    The default watches the named holder only: co-working such a case, with the holder
    responsible, is the supported way in. ``roles = ["holder", "co_worker"]`` is the
    stricter choice of an organisation that keeps the most complex work away entirely.
    """

    min_complexity: int = Field(default=4, ge=1, le=MAX_COMPLEXITY)
    until_month: int = Field(default=6, ge=0)
    roles: tuple[RoleName, ...] = ("holder",)

    @field_validator("roles")
    @classmethod
    def _some_role(cls, roles: tuple[str, ...]) -> tuple[str, ...]:
        if not roles:
            raise ParamProblems([((), "name at least one role: holder, co_worker or both")])
        return roles


class Params(StrictParams):
    sole_holding: SoleHolding = SoleHolding()
    high_complexity: HighComplexity = HighComplexity()
    lifted_by: SignOffName | None = Field(
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
        done = max(sole.until_month, high.until_month)
        why = (
            f"signed off for {sign_off_words(params.lifted_by or '', context)} on "
            f"{signed.isoformat()}"
            if signed is not None
            else f"{months_text(done)} of the programme {agree(done, 'is', 'are')} complete"
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
                f"sole holding of a {context.categories.label(item.category)} case before "
                f"month {sole.until_month}"
            )
        if high_open and item.complexity >= high.min_complexity and item.role in high.roles:
            held = "held" if item.role == "holder" else "co-worked"
            problems.append(
                f"complexity {item.complexity} {held} before month {high.until_month}"
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
            f"No case breaks the complexity gate {stage_words(months)}.",
            measured=0.0,
            limit=0.0,
            details=details,
        )
    listed = "; ".join(f"{c['reference']}: {' and '.join(c['problems'])}" for c in cases)
    verb = (
        "would break" if any(c["proposed"] for c in cases)
        else agree(len(cases), "breaks", "break")
    )
    reason = (
        f"{plural(len(cases), 'case')} {verb} the complexity gate {stage_words(months)} "
        f"({listed})"
    )
    if params.lifted_by:
        reason += f"; not yet signed off for {sign_off_words(params.lifted_by, context)}"
    return context.finding(
        context.enforcement, reason + ".", measured=float(len(cases)), limit=0.0, details=details
    )


def _roles_words(roles: tuple[str, ...]) -> tuple[str, str]:
    """(what is forbidden, what stays allowed) for the roles the gate watches."""
    if set(roles) == {"holder", "co_worker"}:
        return "hold or co-work", ""
    if "holder" in roles:
        return "be the named holder of", "; you may co-work one, with its holder responsible"
    return "co-work", ""


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
            f"complexity {high.min_complexity} (the most complex, on a scale of 1 to "
            f"{MAX_COMPLEXITY})"
            if high.min_complexity == MAX_COMPLEXITY
            else f"complexity {high.min_complexity} or higher (on a scale of 1 to "
            f"{MAX_COMPLEXITY})"
        )
        forbidden, allowed = _roles_words(high.roles)
        sentences.append(
            f"In your first {months_text(high.until_month)} you will not {forbidden} any case "
            f"of {level}{allowed}"
        )
    text = ". ".join(sentences) + "." if sentences else "No complexity limits apply."
    if params.lifted_by and sentences:
        text += (
            f" These limits end earlier only once you are signed off for "
            f"{sign_off_words(params.lifted_by, context)}, a decision your team manager "
            "and a senior manager make together."
        )
    return text
