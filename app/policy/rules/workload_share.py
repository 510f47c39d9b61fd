"""`workload_share`: "90% of an experienced worker", working towards it over a ramp.

The ASYE framework's own measure: the NQSW's weighted load as a share of an
experienced worker's (the team's median when the caller measured one, else a fixed
benchmark), pro rata to FTE, against a target share that rises over the programme,
shown as traffic lights so that "nearly over" is visible before it is a breach.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from app.policy.findings import Finding, Outcome
from app.policy.rules.base import DescribeContext, ParamProblems, RuleContext
from app.policy.rules.common import StrictParams, join_words, number, percent
from app.policy.rules.points import Weighting, describe_weighting
from app.policy.snapshot import Snapshot

Light = Literal["under", "on_target", "amber", "red"]


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


def measure(snapshot: Snapshot, params: Params, months: float) -> dict[str, Any]:
    """Every number the rule looks at, also used by the workload endpoint."""
    load, _ = params.weights.load(snapshot)
    team = params.use_team_benchmark and snapshot.benchmark_load
    benchmark = float(snapshot.benchmark_load) if team else params.benchmark  # type: ignore[arg-type]
    fte = snapshot.fte if snapshot.fte > 0 else 1.0
    expected = benchmark * fte
    target = target_share(params.ramp, months)
    share = load / expected
    ratio = share / target
    return {
        "load": load,
        "benchmark": benchmark,
        "benchmark_source": "team" if team else "fixed",
        "fte": snapshot.fte,
        "share": share,
        "target_share": target,
        "target_load": expected * target,
        "ratio_to_target": ratio,
        "light": light_for(ratio, params.lights),
    }


_LIGHT_WORDS = {
    "under": "under target",
    "on_target": "on target",
    "amber": "amber",
    "red": "red",
}


def evaluate(snapshot: Snapshot, params: Params, context: RuleContext) -> Finding:
    measures = measure(snapshot, params, context.clock.fraction)
    light = measures["light"]
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
    source = "the team's median" if measures["benchmark_source"] == "team" else "benchmark"
    pro_rata = f", pro rata {number(snapshot.fte)} FTE" if snapshot.fte != 1 else ""
    verb = "would be" if context.proposed is not None and outcome is not Outcome.ok else "is"
    reason = (
        f"A weighted load of {number(measures['load'])} points {verb} "
        f"{percent(measures['share'])} of an experienced worker's ({source} "
        f"{number(measures['benchmark'])} points{pro_rata}); the target at this stage is "
        f"{percent(measures['target_share'])}: {verdict}."
    )
    return context.finding(
        outcome,
        reason,
        measured=round(measures["share"], 4),
        limit=round(measures["target_share"], 4),
        details=measures,
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
        benchmark += " (or the median of your team's experienced workers, when it is known)"
    lights = params.lights
    return (
        f"{target}, pro rata if you work part-time; {benchmark}. "
        f"{describe_weighting(params.weights, context)} "
        f"Up to {percent(lights.red_above)} of your target is shown amber and beyond it red."
    )
