"""`points`: a weighted load against an allowance that grows with the programme stage.

Case counts treat a straightforward early-help case like care proceedings; a points
scheme weighs each case by category and complexity, adds a fixed "stable element"
for the work that is not cases (meetings, duty, training), and compares the total
with an allowance pro rata to the NQSW's FTE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from app.policy.snapshot import CaseLoadItem, Snapshot

if TYPE_CHECKING:
    from app.policy.measures import WorkloadMeasures

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
    allowance = round(band.max_points * snapshot.fte, 6)
    details["allowance"] = allowance
    details["band"] = {"from_month": band.from_month, "to_month": band.to_month}
    span = band_span(band.from_month, band.to_month)
    limit = f"the allowance of {number(allowance)} points"
    if snapshot.fte != 1:
        limit += f" ({number(band.max_points)} pro rata for {number(snapshot.fte)} FTE)"
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
        description="The allowance in force, pro rata FTE; None when no band covers the date."
    )


def measure_load(
    snapshot: Snapshot, params: Params, context: MeasureContext, measures: WorkloadMeasures
) -> WorkloadMeasures:
    """The points block: measured even when the scheme is inactive, to show where the NQSW
    would stand under it."""
    load, case_points = params.load(snapshot)
    band: AllowanceBand | None = band_at(params.allowance, context.clock.months)
    block = PointsMeasures(
        **context.stamp(),
        load=load,
        case_points=case_points,
        stable_points=load - case_points,
        allowance=round(band.max_points * snapshot.fte, 6) if band else None,
    )
    return measures.model_copy(update={"points": block})
