"""`stage_cap`: at most N cases in each band of programme months.

The commonest protection in the sector ("5 cases up to 3 months, 10 up to 6, no more
than 15 after 6 months, with some flexibility"). Co-worked cases count as a fraction
of a case, and each band may be a firm limit (`block`) or a flexible one (`warn`).

Part-time NQSWs may have each cap pro rata to their FTE. A cap is a number of cases, so
the pro rata figure is rounded to whole cases, down by default: "no more than" is a
protection, and rounding up would give a part-timer more than their share (0.7 FTE of
5 is 3.5, so 3). `pro_rata_rounding` may choose "nearest" (half up) or "none".

An individual agreement that sets a band's cap says how its number applies: as agreed
(the default: "0.8 FTE and building confidence: a cap of 10" means 10, not 8) or pro
rata, scaled by FTE and rounded as the policy's own caps are. `cap_in_force` is the one
place that decides, so the finding and the workload measures (pages, API) agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from app.policy.findings import Finding, Outcome
from app.policy.rules.base import (
    DescribeContext,
    KindMeasures,
    Loc,
    MeasureContext,
    ParamProblems,
    RuleContext,
)
from app.policy.rules.common import (
    EnforcementName,
    MonthBand,
    StrictParams,
    agree,
    band_at,
    band_opening,
    band_problems,
    band_span,
    coverage_problems,
    fraction_words,
    join_words,
    number,
    plural,
    stage_words,
)
from app.policy.snapshot import AS_AGREED, AdjustmentRecord, Snapshot

if TYPE_CHECKING:
    from app.policy.measures import WorkloadMeasures
    from app.policy.policies import Rule


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
    pro_rata_rounding: Literal["down", "nearest", "none"] = Field(
        default="down",
        description="How a pro rata cap becomes whole cases: down (3.5 -> 3), nearest "
        "(half up: 3.5 -> 4) or none (3.5 stays).",
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


# An illustration for the statement: half-time shows how the rounding works.
EXAMPLE_FTE = 0.5


def cap_for(band: CapBand, params: Params, fte: float) -> float:
    """The band's cap for this NQSW: pro rata to FTE, then rounded, when the policy says so."""
    if not params.pro_rata_fte:
        return float(band.cap)
    return _pro_rata(band.cap, params, fte)


def _pro_rata(cap: int, params: Params, fte: float) -> float:
    exact = round(cap * fte, 6)  # 10 * 0.7 is 7.000000000000001 in floating point
    if params.pro_rata_rounding == "down":
        return float(math.floor(exact))
    if params.pro_rata_rounding == "nearest":
        return float(math.floor(exact + 0.5))
    return exact


# How the cap in force was reached: the policy's cap as written (full time, or a policy
# that is not pro rata), the policy's cap pro rata, an agreed cap as written, or an
# agreed cap pro rata.
CapBasis = Literal["policy", "pro_rata", "as_agreed", "agreed_pro_rata"]


@dataclass(frozen=True, slots=True)
class CapInForce:
    """The cap the rule applies to this NQSW in this band, and how it was reached."""

    cap: int  # the band's number: the policy's, or the agreed one
    limit: float  # what applies to this NQSW
    basis: CapBasis
    fte: float
    agreement: AdjustmentRecord | None = None

    @property
    def scaled(self) -> bool:
        return self.basis in ("pro_rata", "agreed_pro_rata")

    def words(self) -> str:
        """How the limit is reached, after "the cap of N": "" for the number as written
        for a full-timer (the finding names any agreement), "as agreed, not pro rata for
        0.8 FTE", "10 pro rata for 0.8 FTE" or "the agreed 10 pro rata for 0.7 FTE"."""
        if self.fte == 1:  # full time: the number is the cap however it was agreed
            return ""
        if self.basis == "as_agreed":
            return f"as agreed, not pro rata for {number(self.fte)} FTE"
        if not self.scaled:
            return ""
        text = "the agreed " if self.basis == "agreed_pro_rata" else ""
        text += f"{self.cap} pro rata for {number(self.fte)} FTE"
        exact = round(self.cap * self.fte, 6)
        if exact != self.limit:
            text += f" is {number(exact)}, rounded {'down' if self.limit < exact else 'up'}"
        return text


def cap_in_force(snapshot: Snapshot, params: Params, rule: Rule, band: CapBand) -> CapInForce:
    """The cap this NQSW is held to in `band` on the snapshot date.

    The policy's cap is pro rata when the policy says so; a cap set by an individual
    agreement applies as the agreement says (`AdjustmentRecord.applies_as`).
    """
    fte = snapshot.fte
    agreement = _agreement_for(snapshot, params, rule, band)
    if agreement is not None and agreement.applies_as == AS_AGREED:
        return CapInForce(band.cap, float(band.cap), "as_agreed", fte, agreement)
    if agreement is not None:
        limit = float(band.cap) if fte == 1 else _pro_rata(band.cap, params, fte)
        return CapInForce(band.cap, limit, "agreed_pro_rata", fte, agreement)
    limit = cap_for(band, params, fte)
    basis: CapBasis = "pro_rata" if params.pro_rata_fte and fte != 1 else "policy"
    return CapInForce(band.cap, limit, basis, fte)


def _agreement_for(
    snapshot: Snapshot, params: Params, rule: Rule, band: CapBand
) -> AdjustmentRecord | None:
    if not snapshot.adjustments:
        return None
    # Imported here: the adjustments module reads the rule kinds, this one among them.
    from app.policy.adjustments import agreement_behind

    index = next(i for i, b in enumerate(params.bands) if b is band)
    return agreement_behind(
        rule, snapshot.adjustments, snapshot.as_of, ("bands", index, "cap"), band.cap
    )


def fte_scaled(path: tuple[str | int, ...]) -> bool:
    """The parameters this kind scales by FTE: each band's cap (`bands.<n>.cap`)."""
    return len(path) == 3 and path[0] == "bands" and path[2] == "cap"


def _limit_words(cap: CapInForce) -> str:
    how = cap.words()
    return f"the cap of {number(cap.limit)}" + (f" ({how})" if how else "")


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
            f"No case cap applies {stage_words(months)}.",
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
    in_force = cap_in_force(snapshot, params, context.rule, band)
    cap = in_force.limit
    limit = _limit_words(in_force)
    details["cap"] = cap
    details["cap_basis"] = in_force.basis
    if weighted > cap:
        outcome = Outcome(band.enforcement) if band.enforcement else context.enforcement
        verb = "would exceed" if context.proposed is not None else (
            agree(weighted, "exceeds", "exceed")
        )
        reason = f"{counted} {verb} {limit} {span}"
        if outcome is Outcome.warn:
            reason += (
                " (a flexible cap: the allocation is not refused, but it is reported as a "
                "breach)"
            )
    else:
        outcome = Outcome.ok
        reason = f"{counted}, within {limit} {span}"
    return context.finding(outcome, reason + ".", measured=weighted, limit=cap, details=details)


def outcomes(params: Params, enforcement: Outcome) -> frozenset[Outcome]:
    """Each band's enforcement (its own, or the rule's)."""
    return frozenset(
        Outcome(band.enforcement) if band.enforcement else enforcement for band in params.bands
    )


def _part_time_sentence(params: Params) -> str:
    if params.pro_rata_rounding == "none":
        return "If you work part-time, each cap is in proportion to your hours."
    caps = [number(cap_for(band, params, EXAMPLE_FTE)) for band in params.bands]
    how = "rounded down" if params.pro_rata_rounding == "down" else "rounded to the nearest"
    return (
        f"If you work part-time, each cap is in proportion to your hours, {how} to whole "
        f"cases (half-time: {join_words(caps)} cases)."
    )


def describe(params: Params, context: DescribeContext) -> str:
    sentences: list[str] = []
    default = context.enforcement
    for band in params.bands:
        enforcement = Outcome(band.enforcement) if band.enforcement else default
        text = f"{band_opening(band.from_month, band.to_month)} you will hold no more than "
        text += plural(band.cap, "case")
        if enforcement is not default:
            text += " (a flexible limit)" if enforcement is Outcome.warn else " (a firm limit)"
        sentences.append(text + ".")
    if params.pro_rata_fte:
        sentences.append(_part_time_sentence(params))
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


class CapBandMeasures(KindMeasures):
    """The cap band the NQSW is in on the date, as the workload shows it."""

    from_month: int
    to_month: int | None
    label: str
    cap: int = Field(
        description="The band's number: the policy's cap, or an individual agreement's."
    )
    cap_for_fte: float = Field(
        description="The cap the rule applies to this NQSW on the date: the one figure every "
        "page and the API show (pro rata, as agreed or as the policy says)."
    )
    cap_basis: CapBasis = Field(
        description="How that cap was reached: policy (the number as written), pro_rata (the "
        "policy's cap pro rata for FTE), as_agreed (an individual agreement's number as "
        "written) or agreed_pro_rata (the agreed number pro rata for FTE)."
    )
    cap_note: str = Field(
        description="The same in words, for pages: '' , 'as agreed', '10 pro rata for 0.8 FTE'."
    )
    adjustment_id: int | None = Field(
        default=None, description="The individual agreement that set the cap, if one did."
    )
    enforcement: str


def measure_load(
    snapshot: Snapshot, params: Params, context: MeasureContext, measures: WorkloadMeasures
) -> WorkloadMeasures:
    """The weighted case count (co-worked cases weighed as this rule weighs them) and the
    band in force: the cap rule is what gives "cases against the cap" its meaning."""
    weighted, _, _ = count_cases(snapshot, params.coworked_weight)
    band: CapBand | None = band_at(params.bands, context.clock.months)
    block = None
    if band is not None:
        in_force = cap_in_force(snapshot, params, context.rule, band)
        block = CapBandMeasures(
            **context.stamp(),
            from_month=band.from_month,
            to_month=band.to_month,
            label=band_span(band.from_month, band.to_month),
            cap=band.cap,
            cap_for_fte=in_force.limit,
            cap_basis=in_force.basis,
            cap_note=in_force.words(),
            adjustment_id=in_force.agreement.adjustment_id if in_force.agreement else None,
            enforcement=band.enforcement or context.rule.enforcement.value,
        )
    cases = measures.cases.model_copy(update={"weighted": weighted})
    return measures.model_copy(update={"cases": cases, "band": block})
