"""Individual adjustments: the parameter scheme, validation for the API, and the engine."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.policy.adjustments import validate_adjustment
from app.policy.engine import evaluate
from app.policy.findings import Outcome
from app.policy.policies import PolicySet
from app.policy.snapshot import AdjustmentRecord

from .conftest import MONTH_3, START, cases, only, snap


@pytest.mark.parametrize(
    ("policy_id", "parameter", "value"),
    [
        ("stage-caps", "caseload-cap.bands.0.cap", 4),
        ("stage-caps", "stage_cap.bands.0.cap", 4),  # the kind names the only such rule
        ("stage-caps", "bands.2.enforcement", "block"),  # a one-rule policy needs no rule
        ("stage-caps", "caseload-cap.coworked_weight", 1),
        ("complexity-gates", "complexity-gate.sole_holding.until_month", 18),
        ("points-scheme", "points-allowance.points.child_in_need.3", 9),
        ("working-towards-90", "workload-share.ramp.1.share", 0.8),
    ],
)
def test_valid_adjustments(
    shipped: PolicySet, policy_id: str, parameter: str, value: object
) -> None:
    assert validate_adjustment(shipped, policy_id, parameter, value) == []


@pytest.mark.parametrize(
    ("policy_id", "parameter", "value", "words"),
    [
        ("stage-cap", "caseload-cap.bands.0.cap", 4, "unknown policy 'stage-cap'"),
        ("stage-caps", "caseload-cap.bands.0.capp", 4, "unknown parameter 'capp'"),
        ("stage-caps", "caseload-cap.bands.7.cap", 4, "there is no item '7'"),
        ("stage-caps", "caseload-cap.bands.first.cap", 4, "there is no item 'first'"),
        ("stage-caps", "caseload-cap.coworked_weight.x", 4, "is a single value"),
        ("stage-caps", "caseload-cap", 4, "name a parameter"),
        ("stage-caps", "", 4, "dotted path"),
        ("stage-caps", "caseload-cap..cap", 4, "dotted path"),
        ("stage-caps", "caseload-cap.bands.0.cap", -1, "must not be negative"),
        ("stage-caps", "caseload-cap.bands.0.cap", "four", "bands[0].cap"),
        ("stage-caps", "caseload-cap.bands.0.to_month", 2, "gap between month 2 and month 3"),
        ("complexity-gates", "complexity-gate.sole_holding.categories", ["cp"],
         "unknown category 'cp'"),
        ("points-scheme", "points-allowance.points.child_in_need", [1, 2],
         "needs 4 values"),
    ],
)
def test_invalid_adjustments_say_why(
    shipped: PolicySet, policy_id: str, parameter: str, value: object, words: str
) -> None:
    errors = validate_adjustment(shipped, policy_id, parameter, value)
    assert errors, (parameter, value)
    assert any(words in error for error in errors), errors


def test_an_adjustment_that_no_longer_fits_is_ignored_and_reported(shipped: PolicySet) -> None:
    stale = AdjustmentRecord("stage-caps", "caseload-cap.bands.0.cap", -3, "typo", START, None, 5)
    unknown = AdjustmentRecord("stage-caps", "caseload-cap.bands.0.limit", 3, "old", START, None, 6)
    finding = only(evaluate(snap(MONTH_3, cases(5), adjustments=[stale, unknown]), shipped),
                   "caseload-cap")
    assert finding.adjusted_by == ()
    assert finding.limit == 10
    ignored = {entry["id"] for entry in finding.details["ignored_adjustments"]}
    assert ignored == {5, 6}


def test_the_later_agreement_wins(shipped: PolicySet) -> None:
    first = AdjustmentRecord("stage-caps", "caseload-cap.bands.1.cap", 8, "a", START, None, 1)
    second = AdjustmentRecord("stage-caps", "caseload-cap.bands.1.cap", 6, "b",
                              START + timedelta(days=30), None, 2)
    finding = only(evaluate(snap(MONTH_3, cases(7), adjustments=[second, first]), shipped),
                   "caseload-cap")
    assert finding.limit == 6
    assert finding.outcome is Outcome.block
    assert finding.adjusted_by == (1, 2)


def test_adjustments_of_other_policies_leave_a_rule_alone(shipped: PolicySet) -> None:
    gate = AdjustmentRecord("complexity-gates", "complexity-gate.sole_holding.until_month", 3,
                            "x", START, None, 9)
    findings = evaluate(snap(MONTH_3, cases(5), adjustments=[gate]), shipped)
    assert only(findings, "caseload-cap").adjusted_by == ()
    assert only(findings, "complexity-gate").adjusted_by == (9,)
    assert "ignored_adjustments" not in only(findings, "cp-coworking").details


def test_valid_to_is_the_last_day(shipped: PolicySet) -> None:
    agreement = AdjustmentRecord("stage-caps", "caseload-cap.bands.1.cap", 4, "x", START,
                                 MONTH_3, 3)
    on_last_day = only(evaluate(snap(MONTH_3, cases(5), adjustments=[agreement]), shipped),
                       "caseload-cap")
    assert on_last_day.outcome is Outcome.block
    after = snap(MONTH_3 + timedelta(days=1), cases(5), adjustments=[agreement])
    assert only(evaluate(after, shipped), "caseload-cap").outcome is Outcome.ok
