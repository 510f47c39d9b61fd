"""`workload_share`: working towards 90% of an experienced worker, with traffic lights."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from app.policy.engine import evaluate
from app.policy.findings import Outcome
from app.policy.loader import validation_reasons
from app.policy.policies import PolicySet
from app.policy.rules.workload_share import Lights, Params, RampPoint, light_for, target_share
from app.policy.snapshot import PauseSpan
from app.policy.statement import policy_statement

from .conftest import MONTH_3, MONTH_6, START, activate, cases, only, snap

DAY = timedelta(days=1)
RULE = "workload-share"


@pytest.fixture(scope="module")
def ramp(shipped: PolicySet) -> PolicySet:
    return activate(shipped, "working-towards-90")


def test_the_ramp_rises_linearly_then_holds() -> None:
    points = (RampPoint(month=0, share=0.5), RampPoint(month=6, share=0.9))
    assert target_share(points, 0) == 0.5
    assert target_share(points, 3) == pytest.approx(0.7)
    assert target_share(points, 6) == 0.9
    assert target_share(points, 11.5) == 0.9


@pytest.mark.parametrize(
    ("ratio", "light"),
    [(0.5, "under"), (0.8, "on_target"), (1.0, "on_target"), (1.05, "amber"), (1.1, "amber"),
     (1.11, "red")],
)
def test_traffic_lights(ratio: float, light: str) -> None:
    assert light_for(ratio, Lights()) == light


def share_at(policy_set: PolicySet, on: date, count: int, **kwargs):  # type: ignore[no-untyped-def]
    # child_in_need complexity 2 = 4 points; 15 stable; benchmark 85 full-time.
    return only(evaluate(snap(on, cases(count), **kwargs), policy_set), RULE)


def test_on_target_at_month_6(ramp: PolicySet) -> None:
    finding = share_at(ramp, MONTH_6, 15)  # 75 / 85 = 88%
    assert finding.limit == 0.9
    assert finding.details["light"] == "on_target"
    assert finding.outcome is Outcome.ok
    assert finding.measured == pytest.approx(75 / 85, abs=1e-4)


def test_the_same_load_is_red_at_the_start(ramp: PolicySet) -> None:
    finding = share_at(ramp, START, 15)  # 88% against a 50% target
    assert finding.details["light"] == "red"
    assert finding.outcome is Outcome.warn
    assert "red" in finding.reason and "the target at this stage is 50%" in finding.reason


def test_boundary_days_around_month_3(ramp: PolicySet) -> None:
    before = share_at(ramp, MONTH_3 - DAY, 10)
    on = share_at(ramp, MONTH_3, 10)
    after = share_at(ramp, MONTH_3 + DAY, 10)
    assert before.limit < on.limit < after.limit
    assert on.limit == pytest.approx(0.7)


def test_amber_between_target_and_110_percent(ramp: PolicySet) -> None:
    # Target at month 6: 0.9 * 85 = 76.5 points; 16 cases = 79 points = 103% of target.
    finding = share_at(ramp, MONTH_6, 16)
    assert finding.details["light"] == "amber"
    assert finding.outcome is Outcome.warn


def test_part_time_benchmark_is_pro_rata(ramp: PolicySet) -> None:
    # 0.5 FTE: benchmark 42.5, stable 7.5; 7 cases = 35.5 points = 84% -> on target at 90%.
    finding = share_at(ramp, MONTH_6, 7, fte=0.5)
    assert finding.details["load"] == 35.5
    assert finding.measured == pytest.approx(35.5 / 42.5, abs=1e-4)
    assert finding.details["light"] == "on_target"


def test_the_team_median_replaces_the_fixed_benchmark(ramp: PolicySet) -> None:
    finding = share_at(ramp, MONTH_6, 15, benchmark_load=100)
    assert finding.details["benchmark"] == 100
    assert finding.details["benchmark_source"] == "team"
    assert finding.measured == 0.75
    assert "(the team's median of 100 points)" in finding.reason


@pytest.mark.parametrize("team", [None, 0.0])
def test_without_a_team_median_the_fixed_benchmark_is_used_and_said(
    ramp: PolicySet, team: float | None
) -> None:
    finding = share_at(ramp, MONTH_6, 15, benchmark_load=team)
    assert finding.details["benchmark"] == 85
    assert finding.details["benchmark_source"] == "fixed"
    assert ("(the fixed benchmark of 85 points; the team's median is not known)"
            in finding.reason)


def test_the_team_benchmark_parameters_and_their_defaults(ramp: PolicySet) -> None:
    params = ramp.rule("working-towards-90", "workload-share").params
    assert params.benchmark_roles == ("social_worker",)  # type: ignore[attr-defined]
    assert params.benchmark_min_workers == 3  # type: ignore[attr-defined]
    defaults = Params.model_validate({"weights": {"points": {}, "fallback": [1, 2, 3, 4]},
                                      "benchmark": 80})
    assert defaults.benchmark_roles == ("social_worker",)
    assert defaults.benchmark_min_workers == 3
    text = policy_statement(ramp.policy("working-towards-90"), ramp)
    assert ("the median of your team's experienced social workers holding cases, full-time "
            "equivalent, when there are at least 3 of them") in text


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"benchmark_roles": ["nqsw"]}, "benchmark_roles[0] must be"),
        ({"benchmark_roles": []}, "benchmark_roles"),
        ({"benchmark_roles": ["social_worker", "social_worker"]}, "listed twice"),
        ({"benchmark_min_workers": 0}, "must be at least 1"),
    ],
)
def test_the_team_benchmark_parameters_are_validated(change: dict, words: str) -> None:
    data = {"weights": {"points": {}, "fallback": [1, 2, 3, 4]}, "benchmark": 80, **change}
    with pytest.raises(ValidationError) as caught:
        Params.model_validate(data)
    reasons = [reason for _, reason in validation_reasons(caught.value, kind="workload_share")]
    assert any(words in reason for reason in reasons), reasons


def test_a_pause_slows_the_ramp(ramp: PolicySet) -> None:
    pause = PauseSpan(date(2026, 2, 1), date(2026, 3, 2))
    paused = share_at(ramp, MONTH_6, 15, pauses=[pause])
    assert paused.limit < 0.9


@pytest.mark.parametrize(
    ("on", "target"),
    [(MONTH_6 - DAY, None), (MONTH_6, 0.9), (MONTH_6 + DAY, 0.9)],
)
def test_the_ramp_reaches_90_percent_on_the_month_6_boundary(
    ramp: PolicySet, on: date, target: float | None
) -> None:
    finding = share_at(ramp, on, 15)
    if target is None:
        assert 0.89 < finding.limit < 0.9  # type: ignore[operator]
    else:
        assert finding.limit == target
