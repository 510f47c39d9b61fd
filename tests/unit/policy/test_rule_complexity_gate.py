"""`complexity_gate`: no sole CP holding before month 12, no complexity 4 before month 6."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.policy.engine import evaluate
from app.policy.findings import Outcome, Severity
from app.policy.policies import PolicySet
from app.policy.snapshot import AdjustmentRecord, PauseSpan, SignOffRecord

from .conftest import MONTH_3, MONTH_6, MONTH_12, START, case, only, snap

DAY = timedelta(days=1)
RULE = "complexity-gate"
CP = "child_protection_plan"


def gate(policy_set: PolicySet, on: date, *items, **kwargs):  # type: ignore[no-untyped-def]
    return only(evaluate(snap(on, items, **kwargs), policy_set), RULE)


@pytest.mark.parametrize(
    ("on", "outcome"),
    [(MONTH_12 - DAY, Outcome.block), (MONTH_12, Outcome.ok), (MONTH_12 + DAY, Outcome.ok)],
)
def test_sole_holding_of_cp_work_until_month_12(
    shipped: PolicySet, on: date, outcome: Outcome
) -> None:
    assert gate(shipped, on, case(1, CP, 2)).outcome is outcome


@pytest.mark.parametrize(
    ("on", "outcome"),
    [(MONTH_6 - DAY, Outcome.block), (MONTH_6, Outcome.ok), (MONTH_6 + DAY, Outcome.ok)],
)
def test_complexity_4_until_month_6_even_co_worked(
    shipped: PolicySet, on: date, outcome: Outcome
) -> None:
    item = case(1, "child_in_need", 4, "co_worker", ap_holder=True)
    assert gate(shipped, on, item).outcome is outcome


def test_complexity_3_is_fine_at_month_3(shipped: PolicySet) -> None:
    assert gate(shipped, MONTH_3 - DAY, case(1, "child_in_need", 3)).outcome is Outcome.ok


def test_co_working_cp_work_is_not_sole_holding(shipped: PolicySet) -> None:
    item = case(1, CP, 2, "co_worker", ap_holder=True)
    assert gate(shipped, MONTH_3, item).outcome is Outcome.ok


def test_reason_and_severity(shipped: PolicySet) -> None:
    finding = gate(shipped, MONTH_3, case(1, CP, 4))
    assert finding.outcome is Outcome.block
    assert finding.severity is Severity.severe
    assert "sole holding of child protection plan before month 12" in finding.reason
    assert "complexity 4 before month 6" in finding.reason
    assert "not yet signed off for child protection work" in finding.reason


def test_sign_off_lifts_both_gates(shipped: PolicySet) -> None:
    signed = SignOffRecord("child_protection", date(2026, 3, 1))
    finding = gate(shipped, MONTH_3, case(1, CP, 4), sign_offs=[signed])
    assert finding.outcome is Outcome.ok
    assert "signed off" in finding.reason


def test_a_pause_moves_month_12(shipped: PolicySet) -> None:
    pause = PauseSpan(date(2026, 6, 1), date(2026, 6, 14))  # 14 days
    held = case(1, CP, 2)
    assert gate(shipped, MONTH_12, held, pauses=[pause]).outcome is Outcome.block
    assert gate(shipped, MONTH_12 + timedelta(days=14), held, pauses=[pause]).outcome is (
        Outcome.ok
    )


def test_part_time_does_not_change_the_gates(shipped: PolicySet) -> None:
    assert gate(shipped, MONTH_12 - DAY, case(1, CP, 2), fte=0.5).outcome is Outcome.block


def test_an_individual_agreement_can_shorten_a_gate(shipped: PolicySet) -> None:
    agreement = AdjustmentRecord(
        "complexity-gates", "complexity-gate.sole_holding.until_month", 9,
        "prior CP experience as a student", START, None, 12,
    )
    finding = gate(shipped, date(2026, 10, 20), case(1, CP, 2), adjustments=[agreement])
    assert finding.outcome is Outcome.ok
    assert finding.adjusted_by == (12,)
    assert "by individual agreement" in finding.reason
