"""`coworking`: CP work with an advanced practitioner as named holder until signed off."""

from __future__ import annotations

from datetime import date, timedelta

from app.policy.engine import evaluate
from app.policy.findings import Outcome
from app.policy.policies import PolicySet
from app.policy.snapshot import SignOffRecord

from .conftest import MONTH_3, MONTH_6, MONTH_12, case, only, snap

RULE = "cp-coworking"
CP = "child_protection_plan"


def finding_for(policy_set: PolicySet, *items, on: date = MONTH_3, **kwargs):  # type: ignore[no-untyped-def]
    return only(evaluate(snap(on, items, **kwargs), policy_set), RULE)


def test_co_worked_with_an_advanced_practitioner_is_fine(shipped: PolicySet) -> None:
    finding = finding_for(shipped, case(1, CP, 3, "co_worker", ap_holder=True))
    assert finding.outcome is Outcome.ok


def test_holding_cp_work_is_blocked(shipped: PolicySet) -> None:
    finding = only(
        evaluate(snap(MONTH_3, [case(1)]), shipped, proposed=case(2, CP, 2)), RULE
    )
    assert finding.outcome is Outcome.block
    assert "C-2 (child protection plan) held by the NQSW as named holder" in finding.reason
    assert "would break" in finding.reason
    assert finding.details["cases"][0]["proposed"] is True


def test_co_working_with_someone_other_than_an_ap_is_blocked(shipped: PolicySet) -> None:
    finding = finding_for(shipped, case(1, "care_proceedings", 2, "co_worker", ap_holder=False))
    assert finding.outcome is Outcome.block
    assert "not an advanced practitioner" in finding.reason


def test_other_categories_are_not_watched(shipped: PolicySet) -> None:
    assert finding_for(shipped, case(1, "looked_after", 3)).outcome is Outcome.ok


def test_sign_off_lifts_the_rule_from_its_date(shipped: PolicySet) -> None:
    signed = SignOffRecord("child_protection", MONTH_6)
    held = case(1, CP, 3)
    day_before = finding_for(shipped, held, on=MONTH_6 - timedelta(days=1), sign_offs=[signed])
    assert day_before.outcome is Outcome.block
    on_the_day = finding_for(shipped, held, on=MONTH_6, sign_offs=[signed])
    assert on_the_day.outcome is Outcome.ok
    assert on_the_day.details["signed_off_on"] == MONTH_6.isoformat()


def test_another_kind_of_sign_off_does_not_count(shipped: PolicySet) -> None:
    other = SignOffRecord("court_work", MONTH_3)
    assert finding_for(shipped, case(1, CP, 3), on=MONTH_12, sign_offs=[other]).outcome is (
        Outcome.block
    )
