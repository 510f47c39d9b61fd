"""`workload_share`: "90% of an experienced worker", working towards it over a ramp.

The ASYE framework's own measure: the NQSW's weighted load as a share of an
experienced worker's (the team's median when the caller measured one, else a fixed
benchmark), pro rata to FTE, against a target share that rises over the programme,
shown as traffic lights so that "nearly over" is visible before it is a breach.

The team median is measured by the snapshot service (the engine never reads the
database) over the team's experienced workers in `benchmark_roles` who hold cases,
each FTE-normalised, and only when there are at least `benchmark_min_workers` of them:
team managers and advanced practitioners carry reduced caseloads by design, and a
median of one or two people says little. When the snapshot has no team median, the
rule uses its fixed `benchmark` and says so in the finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.policy.findings import Finding, Outcome
from app.policy.rules.base import (
    DescribeContext,
    KindMeasures,
    MeasureContext,
    ParamProblems,
    RuleContext,
)
from app.policy.rules.common import StrictParams, join_words, number, percent, plural
from app.policy.rules.points import Weighting, describe_weighting
from app.policy.snapshot import Snapshot

if TYPE_CHECKING:
    from app.policy.measures import WorkloadMeasures

Light = Literal["under", "on_target", "amber", "red"]

# Experienced staff whose loads can make a team benchmark: the case-holding roles.
BenchmarkRole = Literal["social_worker", "advanced_practitioner", "team_manager"]
DEFAULT_BENCHMARK_ROLES: tuple[BenchmarkRole, ...] = ("social_worker",)
DEFAULT_BENCHMARK_MIN_WORKERS = 3

_ROLE_WORDS = {
    "social_worker": ("social worker", "social workers"),
    "advanced_practitioner": ("advanced practitioner", "advanced practitioners"),
    "team_manager": ("team manager", "team managers"),
}


class RampPoint(StrictParams):
    month: float = Field(ge=0)
    share: float = Field(gt=0, le=2, description="Target share of the benchmark, 0.9 = 90%.")


class Lights(StrictParams):
    """Traffic lights, as ratios of the load to the target load at this stage."""

    under_below: float = Field(default=0.8, ge=0)
    amber_above: float = Field(default=1.0, gt=0)
    red_above: float = Field(default=1.1, gt=0)
    amber_outcome: Literal["ok", "warn"] = "warn"

    @model_validator(mode="after")
    def _ordered(self) -> Lights:
        if not self.under_below <= self.amber_above < self.red_above:
            raise ValueError(
                "lights must satisfy under_below <= amber_above < red_above "
                f"(got {self.under_below}, {self.amber_above}, {self.red_above})"
            )
        return self


class Params(StrictParams):
    weights: Weighting
    benchmark: float = Field(gt=0, description="Full-time weighted load of an experienced worker.")
    use_team_benchmark: bool = True
    benchmark_roles: tuple[BenchmarkRole, ...] = Field(
        default=DEFAULT_BENCHMARK_ROLES,
        description="Whose loads make the team median: experienced staff in these roles.",
    )
    benchmark_min_workers: int = Field(
        default=DEFAULT_BENCHMARK_MIN_WORKERS,
        ge=1,
        le=100,
        description="Fewer such workers holding cases than this: the fixed benchmark is used.",
    )

    @field_validator("benchmark_roles")
    @classmethod
    def _roles_once(cls, roles: tuple[str, ...]) -> tuple[str, ...]:
        if not roles:
            raise ParamProblems([((), "name at least one role whose loads make the median")])
        problems = [
            ((index,), f"role {role!r} is listed twice")
            for index, role in enumerate(roles)
            if role in roles[:index]
        ]
        if problems:
            raise ParamProblems(problems)
        return roles
    ramp: tuple[RampPoint, ...] = (RampPoint(month=0, share=0.9),)
    lights: Lights = Lights()

    @field_validator("ramp")
    @classmethod
    def _ramp_in_order(cls, ramp: tuple[RampPoint, ...]) -> tuple[RampPoint, ...]:
        if not ramp:
            raise ParamProblems([((), "the ramp needs at least one point")])
        problems = [
            ((index, "month"), f"ramp point {index + 1} (month {number(point.month)}) must come "
             f"after month {number(ramp[index - 1].month)}")
            for index, point in enumerate(ramp)
            if index and point.month <= ramp[index - 1].month
        ]
        if problems:
            raise ParamProblems(problems)
        return ramp


def target_share(ramp: Sequence[RampPoint], months: float) -> float:
    """Linear interpolation between ramp points; flat before the first and after the last."""
    if months <= ramp[0].month:
        return ramp[0].share
    for before, after in zip(ramp, ramp[1:], strict=False):
        if months < after.month:
            step = (months - before.month) / (after.month - before.month)
            return before.share + (after.share - before.share) * step
    return ramp[-1].share


def light_for(ratio: float, lights: Lights) -> Light:
    if ratio > lights.red_above:
        return "red"
    if ratio > lights.amber_above:
        return "amber"
    if ratio < lights.under_below:
        return "under"
    return "on_target"


class ShareFigures(BaseModel):
    """Every number the rule looks at: the finding's details and the workload's share."""

    model_config = ConfigDict(frozen=True)

    load: float = Field(description="The NQSW's weighted load in points.")
    benchmark: float = Field(description="An experienced worker's full-time load.")
    benchmark_source: Literal["team", "fixed"]
    fte: float
    share: float = Field(description="The load as a share of the benchmark pro rata FTE.")
    target_share: float = Field(description="The share the ramp expects at this stage.")
    target_load: float
    ratio_to_target: float
    light: Light


def measure(snapshot: Snapshot, params: Params, months: float) -> ShareFigures:
    """Every number the rule looks at, also used by the workload measures.

    The team's median is used only when the rule asks for it and the snapshot has one
    (a positive number); otherwise the fixed benchmark, and `benchmark_source` says which.
    """
    load, _ = params.weights.load(snapshot)
    team_load = snapshot.benchmark_load
    team = bool(params.use_team_benchmark and team_load is not None and team_load > 0)
    benchmark = float(team_load) if team and team_load is not None else params.benchmark
    fte = snapshot.fte if snapshot.fte > 0 else 1.0
    expected = benchmark * fte
    target = target_share(params.ramp, months)
    share = load / expected
    ratio = share / target
    return ShareFigures(
        load=load,
        benchmark=benchmark,
        benchmark_source="team" if team else "fixed",
        fte=snapshot.fte,
        share=share,
        target_share=target,
        target_load=expected * target,
        ratio_to_target=ratio,
        light=light_for(ratio, params.lights),
    )


class ShareMeasures(KindMeasures, ShareFigures):
    """The share of an experienced worker's load, as the workload shows it."""


def measure_load(
    snapshot: Snapshot, params: Params, context: MeasureContext, measures: WorkloadMeasures
) -> WorkloadMeasures:
    """The share block: measured even when the rule is inactive, to show where the NQSW
    would stand against "working towards 90%"."""
    figures = measure(snapshot, params, context.clock.fraction)
    block = ShareMeasures(**context.stamp(), **figures.model_dump())
    return measures.model_copy(update={"share": block})


_LIGHT_WORDS = {
    "under": "under target",
    "on_target": "on target",
    "amber": "amber",
    "red": "red",
}


def _benchmark_words(measures: ShareFigures, params: Params, fte: float) -> str:
    pro_rata = f", pro rata {number(fte)} FTE" if fte != 1 else ""
    points = plural(measures.benchmark, "point")
    if measures.benchmark_source == "team":
        return f"the team's median of {points}{pro_rata}"
    text = f"the fixed benchmark of {points}{pro_rata}"
    if params.use_team_benchmark:
        text += "; the team's median is not known"
    return text


def evaluate(snapshot: Snapshot, params: Params, context: RuleContext) -> Finding:
    measures = measure(snapshot, params, context.clock.fraction)
    light = measures.light
    lights = params.lights
    if light == "red":
        outcome = context.enforcement
        verdict = f"red, more than {percent(lights.red_above)} of the target"
    elif light == "amber":
        outcome = Outcome(lights.amber_outcome)
        verdict = f"amber, over the target but within {percent(lights.red_above)} of it"
    else:
        outcome = Outcome.ok
        verdict = _LIGHT_WORDS[light]
    verb = "would be" if context.proposed is not None and outcome is not Outcome.ok else "is"
    reason = (
        f"A weighted load of {plural(measures.load, 'point')} {verb} "
        f"{percent(measures.share)} of an experienced worker's "
        f"({_benchmark_words(measures, params, snapshot.fte)}); the target at this stage is "
        f"{percent(measures.target_share)}: {verdict}."
    )
    return context.finding(
        outcome,
        reason,
        measured=round(measures.share, 4),
        limit=round(measures.target_share, 4),
        details=measures.model_dump(),
    )


def outcomes(params: Params, enforcement: Outcome) -> frozenset[Outcome]:
    """Red is the rule's enforcement; amber is a warning unless the lights say it is ok."""
    found = {enforcement}
    if params.lights.amber_outcome == "warn":
        found.add(Outcome.warn)
    return frozenset(found)


def _team_words(params: Params) -> str:
    roles = params.benchmark_roles
    count = params.benchmark_min_workers
    names = join_words([_ROLE_WORDS[r][1] for r in roles], "and")
    if count == 1:
        names = join_words([_ROLE_WORDS[r][0] for r in roles], "or")
        return f"the median of your team's experienced {names} holding cases, if there is one"
    return (
        f"the median of your team's experienced {names} holding cases, full-time "
        f"equivalent, when there are at least {count} of them"
    )


def _lights_sentence(params: Params, enforcement: Outcome) -> str:
    lights = params.lights
    red_tag = amber_tag = ""
    if params.lights.amber_outcome == "ok":
        amber_tag = " (a warning light, not a breach)"
    elif enforcement is Outcome.block:
        amber_tag, red_tag = " (a flexible limit)", " (a firm limit)"
    return (
        f"A load above your target is shown amber{amber_tag}, and above "
        f"{percent(lights.red_above)} of it red{red_tag}."
    )


def describe(params: Params, context: DescribeContext) -> str:
    ramp = params.ramp
    if len(ramp) == 1:
        target = f"Your workload will be {percent(ramp[0].share)} of an experienced worker's"
    else:
        steps = [
            f"{percent(point.share)} "
            + ("at the start" if point.month == 0 else f"by month {number(point.month)}")
            for point in ramp
        ]
        target = (
            f"You will be working towards {percent(ramp[-1].share)} of an experienced "
            f"worker's workload: {join_words(steps, 'rising steadily to')}"
        )
    benchmark = f"an experienced worker carries {number(params.benchmark)} points full-time"
    if params.use_team_benchmark:
        benchmark += f" (or {_team_words(params)})"
    return (
        f"{target}, pro rata if you work part-time; {benchmark}. "
        f"{describe_weighting(params.weights, context)} "
        f"{_lights_sentence(params, context.enforcement)}"
    )
