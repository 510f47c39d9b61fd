"""`stage_cap`: at most N cases in each band of programme months.

The commonest protection in the sector ("5 cases up to 3 months, 10 up to 6, no more
than 15 after 6 months, with some flexibility"). Co-worked cases count as a fraction
of a case, and each band may be a firm limit (`block`) or a flexible one (`warn`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator

from app.policy.findings import Finding, Outcome
from app.policy.rules.base import DescribeContext, Loc, ParamProblems, RuleContext
from app.policy.rules.common import (
    EnforcementName,
    MonthBand,
    StrictParams,
    band_at,
    band_opening,
    band_problems,
    band_span,
    coverage_problems,
    fraction_words,
    number,
    plural,
)
from app.policy.snapshot import Snapshot


class CapBand(MonthBand):
    cap: int = Field(ge=0, description="Most cases (co-worked ones counting as a fraction).")
    enforcement: EnforcementName | None = Field(
        default=None, description="Overrides the rule's enforcement in this band."
    )


class Params(StrictParams):
    bands: tuple[CapBand, ...]
    coworked_weight: float = Field(default=0.5, ge=0, le=1)
    pro_rata_fte: bool = Field(
        default=False, description="Scale each cap by the NQSW's FTE (0.8 FTE: 80% of it)."
    )

    @field_validator("bands")
    @classmethod
    def _contiguous(cls, bands: tuple[CapBand, ...]) -> tuple[CapBand, ...]:
        problems = band_problems(bands)
        if problems:
            raise ParamProblems(problems)
        return bands


def programme_problems(params: Params, months: int) -> list[tuple[Loc, str]]:
    return coverage_problems(params.bands, months)


def count_cases(snapshot: Snapshot, coworked_weight: float) -> tuple[float, int, int]:
    """(weighted count, cases held, cases co-worked)."""
    held = coworked = 0
    for item in snapshot.caseload:
        if item.role == "holder":
            held += 1
        else:
            coworked += 1
    return held + coworked * coworked_weight, held, coworked


def cap_for(band: CapBand, params: Params, fte: float) -> float:
    """The band's cap for this NQSW: pro rata to FTE when the policy says so."""
    return round(band.cap * fte, 6) if params.pro_rata_fte else float(band.cap)


def evaluate(snapshot: Snapshot, params: Params, context: RuleContext) -> Finding:
    months = context.clock.months
    band: CapBand | None = band_at(params.bands, months)
    weighted, held, coworked = count_cases(snapshot, params.coworked_weight)
    details: dict[str, Any] = {
        "held": held,
        "co_worked": coworked,
        "coworked_weight": params.coworked_weight,
        "programme_months": months,
    }
    if band is None:
        return context.finding(
            Outcome.ok,
            f"No case cap applies at month {months}.",
            measured=weighted,
            details=details,
        )
    details["band"] = {"from_month": band.from_month, "to_month": band.to_month}
    span = band_span(band.from_month, band.to_month)
    counted = plural(weighted, "case")
    if coworked and params.coworked_weight != 1:
        counted += (
            f" ({held} held, {coworked} co-worked counting {number(params.coworked_weight)}"
            " each)"
        )
    cap = cap_for(band, params, snapshot.fte)
    limit = f"the cap of {number(cap)}"
    if params.pro_rata_fte and snapshot.fte != 1:
        limit += f" ({band.cap} pro rata for {number(snapshot.fte)} FTE)"
    details["cap"] = cap
    if weighted > cap:
        outcome = Outcome(band.enforcement) if band.enforcement else context.enforcement
        verb = "would exceed" if context.proposed is not None else (
            "exceeds" if weighted <= 1 else "exceed"
        )
        reason = f"{counted} {verb} {limit} {span}"
        if outcome is Outcome.warn:
            reason += " (a flexible cap: a manager may agree more with a recorded reason)"
    else:
        outcome = Outcome.ok
        reason = f"{counted}, within {limit} {span}"
    return context.finding(outcome, reason + ".", measured=weighted, limit=cap, details=details)


def describe(params: Params, context: DescribeContext) -> str:
    sentences: list[str] = []
    for band in params.bands:
        enforcement = band.enforcement or context.enforcement.value
        text = f"{band_opening(band.from_month, band.to_month)} you will hold no more than "
        text += plural(band.cap, "case")
        if enforcement == "warn":
            text += ", with some flexibility: a manager may agree more, with a recorded reason"
        sentences.append(text + ".")
    if params.pro_rata_fte:
        sentences.append("If you work part-time, each cap is reduced in proportion.")
    weight = params.coworked_weight
    if weight == 0:
        sentences.append("Cases you co-work do not count towards the cap.")
    elif weight == 1:
        sentences.append("Cases you co-work count as whole cases.")
    else:
        sentences.append(f"A case you co-work counts as {fraction_words(weight)} a case.")
    return " ".join(sentences)


def bands_of(params: Params) -> Sequence[CapBand]:
    return params.bands
