"""`points`: a weighted load against an allowance that grows with the programme stage.

Case counts treat a straightforward early-help case like care proceedings; a points
scheme weighs each case by category and complexity, adds a fixed "stable element"
for the work that is not cases (meetings, duty, training), and compares the total
with an allowance pro rata to the NQSW's FTE.

An individual agreement that sets a band's allowance (`allowance.<n>.max_points`) says
how its number applies, as a stage cap's does: as agreed (the default: "0.8 FTE: an
allowance of 20 points" means 20) or pro rata, scaled by FTE like the policy's own
allowance. `allowance_in_force` is the one place that decides, so the finding and the
workload measures (pages, API) agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pydantic import Field, ValidationInfo, field_validator, model_validator

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
    MAX_COMPLEXITY,
    EnforcementName,
    MonthBand,
    StrictParams,
    band_at,
    band_opening,
    band_problems,
    band_span,
    categories_of,
    coverage_problems,
    fraction_words,
    number,
    plural,
    stage_words,
)
from app.policy.snapshot import AS_AGREED, AdjustmentRecord, CaseLoadItem, Snapshot

if TYPE_CHECKING:
    from app.policy.measures import WorkloadMeasures
    from app.policy.policies import Rule

PointsRow = tuple[float, ...]


def _row_problems(key: str, row: PointsRow) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    if len(row) != MAX_COMPLEXITY:
        problems.append(
            ((key,), f"{key} needs {MAX_COMPLEXITY} values (points for complexity 1 to "
             f"{MAX_COMPLEXITY}), not {len(row)}")
        )
    if any(value < 0 for value in row):
        problems.append(((key,), f"points for {key} must not be negative"))
    return problems


class Weighting(StrictParams):
    """How much each case weighs: points by category and complexity, co-working, stable."""

    points: dict[str, PointsRow] = Field(
        description="Category -> points for complexity 1..4 (a list of four numbers)."
    )
    fallback: PointsRow | None = Field(
        default=None, description="Points for categories the table does not list."
    )
    coworked_factor: float = Field(default=0.5, ge=0, le=1)
    stable_points: float = Field(default=0, ge=0, description="Non-case work, full-time.")

    @field_validator("points")
    @classmethod
    def _known_categories(
        cls, points: dict[str, PointsRow], info: ValidationInfo
    ) -> dict[str, PointsRow]:
        categories = categories_of(info)
        problems: list[tuple[Loc, str]] = []
        for key, row in points.items():
            if key not in categories:
                problems.append(
                    ((key,), f"points for unknown category {key!r} "
                     "(add it to policies/categories.toml)")
                )
            problems.extend(_row_problems(key, row))
        if problems:
            raise ParamProblems(problems)
        return points

    @field_validator("fallback")
    @classmethod
    def _fallback_row(cls, row: PointsRow | None) -> PointsRow | None:
        if row is not None:
            problems = [((), reason) for _, reason in _row_problems("fallback", row)]
            if problems:
                raise ParamProblems(problems)
        return row

    @model_validator(mode="after")
    def _every_category_weighed(self, info: ValidationInfo) -> Weighting:
        if self.fallback is None:
            missing = [key for key in categories_of(info) if key not in self.points]
            if missing:
                raise ParamProblems([(
                    ("points",),
                    f"no points for {', '.join(missing)}: add rows or a fallback row",
                )])
        return self

    def case_points(self, item: CaseLoadItem) -> float:
        row = self.points.get(item.category, self.fallback)
        if row is None:
            return 0.0
        level = min(max(item.complexity, 1), len(row)) - 1
        value = row[level]
        return value * self.coworked_factor if item.role == "co_worker" else value

    def load(self, snapshot: Snapshot) -> tuple[float, float]:
        """(total weighted load, of which case points), the stable element pro rata FTE."""
        cases = 0.0
        for item in snapshot.caseload:
            cases += self.case_points(item)
        return cases + self.stable_points * snapshot.fte, cases


class AllowanceBand(MonthBand):
    max_points: float = Field(ge=0, description="Full-time allowance, stable element included.")
    enforcement: EnforcementName | None = None


class Params(Weighting):
    allowance: tuple[AllowanceBand, ...]

    @field_validator("allowance")
    @classmethod
    def _contiguous(cls, bands: tuple[AllowanceBand, ...]) -> tuple[AllowanceBand, ...]:
        problems = band_problems(bands, "allowance band")
        if problems:
            raise ParamProblems(problems)
        return bands


def programme_problems(params: Params, months: int) -> list[tuple[Loc, str]]:
    return coverage_problems(params.allowance, months, "allowance")


# How the allowance in force was reached: the policy's allowance as written (full time),
# pro rata, an agreed allowance as written, or an agreed allowance pro rata.
AllowanceBasis = Literal["policy", "pro_rata", "as_agreed", "agreed_pro_rata"]


class AllowanceInForce(NamedTuple):
    """The allowance the rule applies to this NQSW in this band, and how it was reached."""

    max_points: float  # the band's number: the policy's, or the agreed one
    limit: float  # what applies to this NQSW
    basis: AllowanceBasis
    fte: float
    agreement: AdjustmentRecord | None = None

    def words(self) -> str:
        """How the limit is reached, after "the allowance of N points": "" for the number
        as written for a full-timer, "as agreed, not pro rata for 0.8 FTE", "30 pro rata
        for 0.8 FTE" or "the agreed 30 pro rata for 0.8 FTE"."""
        if self.fte == 1:
            return ""
        if self.basis == "as_agreed":
            return f"as agreed, not pro rata for {number(self.fte)} FTE"
        text = "the agreed " if self.basis == "agreed_pro_rata" else ""
        return text + f"{number(self.max_points)} pro rata for {number(self.fte)} FTE"


def _pro_rata(max_points: float, fte: float) -> float:
    return round(max_points * fte, 6)  # 30 * 0.7 is 20.999999999999996 in floating point


def allowance_in_force(
    snapshot: Snapshot, params: Params, rule: Rule | None, band: AllowanceBand
) -> AllowanceInForce:
    """The allowance this NQSW is held to in `band` on the snapshot date.

    The policy's allowance is pro rata to FTE; one set by an individual agreement applies
    as the agreement says (`AdjustmentRecord.applies_as`), exactly as a stage cap does.
    """
    fte = snapshot.fte
    agreement = _agreement_for(snapshot, params, rule, band)
    if agreement is not None and agreement.applies_as == AS_AGREED:
        return AllowanceInForce(band.max_points, band.max_points, "as_agreed", fte, agreement)
    if agreement is not None:
        return AllowanceInForce(band.max_points, _pro_rata(band.max_points, fte),
                                "agreed_pro_rata", fte, agreement)
    basis: AllowanceBasis = "policy" if fte == 1 else "pro_rata"
    return AllowanceInForce(band.max_points, _pro_rata(band.max_points, fte), basis, fte)


def _agreement_for(
    snapshot: Snapshot, params: Params, rule: Rule | None, band: AllowanceBand
) -> AdjustmentRecord | None:
    if not snapshot.adjustments or rule is None:
        return None
    # Imported here: the adjustments module reads the rule kinds, this one among them.
    from app.policy.adjustments import agreement_behind

    index = next(i for i, b in enumerate(params.allowance) if b is band)
    return agreement_behind(
        rule, snapshot.adjustments, snapshot.as_of, ("allowance", index, "max_points"),
        band.max_points,
    )


def fte_scaled(path: tuple[str | int, ...]) -> bool:
    """The parameters this kind scales by FTE: each band's allowance
    (`allowance.<n>.max_points`)."""
    return len(path) == 3 and path[0] == "allowance" and path[2] == "max_points"


def evaluate(snapshot: Snapshot, params: Params, context: RuleContext) -> Finding:
    months = context.clock.months
    load, case_points = params.load(snapshot)
    stable = load - case_points
    details: dict[str, Any] = {
        "load": load,
        "case_points": case_points,
        "stable_points": stable,
        "fte": snapshot.fte,
        "programme_months": months,
    }
    band: AllowanceBand | None = band_at(params.allowance, months)
    if band is None:
        return context.finding(
            Outcome.ok, f"No points allowance applies {stage_words(months)}.",
            measured=load, details=details,
        )
    in_force = allowance_in_force(snapshot, params, context.rule, band)
    allowance = in_force.limit
    details["allowance"] = allowance
    details["allowance_basis"] = in_force.basis
    details["band"] = {"from_month": band.from_month, "to_month": band.to_month}
    span = band_span(band.from_month, band.to_month)
    limit = f"the allowance of {number(allowance)} points"
    how = in_force.words()
    if how:
        limit += f" ({how})"
    loaded = f"A weighted load of {plural(load, 'point')} (including {number(stable)} stable)"
    if load > allowance:
        outcome = Outcome(band.enforcement) if band.enforcement else context.enforcement
        verb = "would exceed" if context.proposed is not None else "exceeds"
        reason = f"{loaded} {verb} {limit} {span}."
    else:
        outcome = Outcome.ok
        reason = f"{loaded} is within {limit} {span}."
    return context.finding(outcome, reason, measured=load, limit=allowance, details=details)


def describe_weighting(params: Weighting, context: DescribeContext) -> str:
    heaviest = sorted(
        params.points.items(), key=lambda item: (-max(item[1]), item[0])
    )[:2]
    examples = ", ".join(
        f"{context.categories.label(key)} {number(row[0])} to {number(row[-1])}"
        for key, row in heaviest
    )
    text = (
        "Each case carries points by its category and complexity "
        f"(for example {examples} points)"
    )
    if params.coworked_factor != 1:
        text += f"; a case you co-work carries {fraction_words(params.coworked_factor)} its points"
    text += "."
    if params.stable_points:
        text += (
            f" {number(params.stable_points)} points (full-time) are set aside for work "
            "that is not cases."
        )
    return text


def outcomes(params: Params, enforcement: Outcome) -> frozenset[Outcome]:
    """Each allowance band's enforcement (its own, or the rule's)."""
    return frozenset(
        Outcome(band.enforcement) if band.enforcement else enforcement
        for band in params.allowance
    )


def describe(params: Params, context: DescribeContext) -> str:
    sentences = [describe_weighting(params, context)]
    default = context.enforcement
    for band in params.allowance:
        enforcement = Outcome(band.enforcement) if band.enforcement else default
        text = (
            f"{band_opening(band.from_month, band.to_month)} your load will be no more than "
            f"{number(band.max_points)} points, pro rata if you work part-time"
        )
        if enforcement is not default:
            text += " (a flexible limit)" if enforcement is Outcome.warn else " (a firm limit)"
        sentences.append(text + ".")
    return " ".join(sentences)


class PointsMeasures(KindMeasures):
    """The weighted load against the allowance in force, as the workload shows it."""

    load: float = Field(description="Case points plus the stable element (pro rata FTE).")
    case_points: float
    stable_points: float
    allowance: float | None = Field(
        description="The allowance the rule applies to this NQSW on the date (pro rata FTE, "
        "or as an individual agreement says); None when no band covers the date."
    )
    allowance_basis: AllowanceBasis | None = Field(
        default=None,
        description="How that allowance was reached: policy (full time), pro_rata (the "
        "policy's allowance pro rata for FTE), as_agreed (an individual agreement's number "
        "as written) or agreed_pro_rata (the agreed number pro rata for FTE).",
    )
    allowance_note: str = Field(
        default="", description="The same in words, for pages: 'as agreed, not pro rata for "
        "0.8 FTE', '30 pro rata for 0.8 FTE'.",
    )
    adjustment_id: int | None = Field(
        default=None, description="The individual agreement that set the allowance, if one did."
    )


def measure_load(
    snapshot: Snapshot, params: Params, context: MeasureContext, measures: WorkloadMeasures
) -> WorkloadMeasures:
    """The points block: measured even when the scheme is inactive, to show where the NQSW
    would stand under it."""
    load, case_points = params.load(snapshot)
    band: AllowanceBand | None = band_at(params.allowance, context.clock.months)
    in_force = allowance_in_force(snapshot, params, context.rule, band) if band else None
    block = PointsMeasures(
        **context.stamp(),
        load=load,
        case_points=case_points,
        stable_points=load - case_points,
        allowance=in_force.limit if in_force else None,
        allowance_basis=in_force.basis if in_force else None,
        allowance_note=in_force.words() if in_force else "",
        adjustment_id=(in_force.agreement.adjustment_id
                       if in_force and in_force.agreement else None),
    )
    return measures.model_copy(update={"points": block})
