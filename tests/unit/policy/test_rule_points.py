"""`points`: weighted load against an allowance by stage, pro rata to FTE."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from app.policy.categories import Categories
from app.policy.engine import evaluate
from app.policy.findings import Outcome
from app.policy.policies import PolicySet
from app.policy.rules import points
from app.policy.snapshot import AdjustmentRecord, PauseSpan

from .conftest import MONTH_3, MONTH_12, START, activate, case, cases, only, snap

DAY = timedelta(days=1)
RULE = "points-allowance"


@pytest.fixture(scope="module")
def scheme(shipped: PolicySet) -> PolicySet:
    return activate(shipped, "points-scheme")


def load_of(count: int, complexity: int = 2):  # type: ignore[no-untyped-def]
    # child_in_need: [3, 4, 5, 6]; 15 stable points full-time.
    return cases(count, complexity=complexity)


def test_points_by_category_complexity_and_co_working(scheme: PolicySet) -> None:
    caseload = (
        case(1, "child_in_need", 2),  # 4
        case(2, "care_proceedings", 4, "co_worker", ap_holder=True),  # 12 * 0.5 = 6
        case(3, "early_help", 1),  # 2
    )
    finding = only(evaluate(snap(MONTH_3, caseload), scheme), RULE)
    assert finding.measured == 4 + 6 + 2 + 15
    assert finding.details["case_points"] == 12
    assert finding.details["stable_points"] == 15
    assert finding.outcome is Outcome.ok


def test_an_organisation_category_uses_the_fallback_row(scheme: PolicySet) -> None:
    rule = scheme.rule("points-scheme", RULE)
    weighted = rule.params.case_points(case(1, "private_fostering", 3))  # type: ignore[attr-defined]
    assert weighted == 5


@pytest.mark.parametrize(
    ("on", "count", "outcome", "limit"),
    [
        # 19 CIN cases at complexity 2 = 76 + 15 stable = 91 points.
        (MONTH_12 - DAY, 18, Outcome.ok, 90),
        (MONTH_12 - DAY, 19, Outcome.warn, 90),
        (MONTH_12, 19, Outcome.ok, 100),
        (MONTH_12 + DAY, 21, Outcome.ok, 100),
        (MONTH_12 + DAY, 22, Outcome.warn, 100),
    ],
)
def test_allowance_by_stage(
    scheme: PolicySet, on, count: int, outcome: Outcome, limit: float  # type: ignore[no-untyped-def]
) -> None:
    finding = only(evaluate(snap(on, load_of(count)), scheme), RULE)
    assert finding.outcome is outcome
    assert finding.limit == limit


def test_part_time_allowance_and_stable_element_are_pro_rata(scheme: PolicySet) -> None:
    # 0.5 FTE: allowance 45, stable 7.5; 9 CIN cases at 4 = 36 -> 43.5.
    ok = only(evaluate(snap(MONTH_3, load_of(9), fte=0.5), scheme), RULE)
    assert (ok.measured, ok.limit, ok.outcome) == (43.5, 45, Outcome.ok)
    over = only(evaluate(snap(MONTH_3, load_of(10), fte=0.5), scheme), RULE)
    assert over.outcome is Outcome.warn
    assert "the allowance of 45 points (90 pro rata for 0.5 FTE)" in over.reason


def test_a_pause_moves_the_year_one_allowance(scheme: PolicySet) -> None:
    pause = PauseSpan(START + timedelta(days=40), START + timedelta(days=49))  # 10 days
    s = snap(MONTH_12, load_of(19), pauses=[pause])
    assert only(evaluate(s, scheme), RULE).limit == 90
    later = snap(MONTH_12 + timedelta(days=10), load_of(19), pauses=[pause])
    assert only(evaluate(later, scheme), RULE).limit == 100


def test_adjusted_allowance(scheme: PolicySet) -> None:
    agreement = AdjustmentRecord(
        "points-scheme", "points-allowance.allowance.0.max_points", 70, "health", START, None, 3
    )
    finding = only(evaluate(snap(MONTH_3, load_of(14), adjustments=[agreement]), scheme), RULE)
    assert finding.limit == 70 and finding.outcome is Outcome.warn
    assert finding.adjusted_by == (3,)
    assert "by individual agreement: health" in finding.reason


def test_points_for_an_unknown_category_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        points.Params.model_validate(
            {"points": {"child_protecton": [1, 2, 3, 4]}, "fallback": [1, 1, 1, 1],
             "allowance": [{"from_month": 0, "max_points": 90}]},
            context={"categories": Categories()},
        )
    assert "unknown category 'child_protecton'" in str(caught.value)


def test_rows_need_one_value_per_complexity_level() -> None:
    with pytest.raises(ValidationError, match="needs 4 values"):
        points.Params.model_validate(
            {"points": {"early_help": [1, 2, 3]}, "fallback": [1, 1, 1, 1],
             "allowance": [{"from_month": 0, "max_points": 90}]},
        )


def test_a_category_without_points_needs_a_fallback() -> None:
    with pytest.raises(ValidationError, match="no points for"):
        points.Params.model_validate(
            {"points": {"early_help": [1, 2, 3, 4]},
             "allowance": [{"from_month": 0, "max_points": 90}]},
        )
