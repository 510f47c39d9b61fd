"""`complexity_gate`: no sole CP holding before month 12, no held complexity 4 before month 6."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from app.policy.engine import evaluate
from app.policy.findings import Outcome, Severity
from app.policy.policies import PolicySet
from app.policy.registry import load_policy_set
from app.policy.snapshot import AdjustmentRecord, PauseSpan, SignOffRecord
from app.policy.statement import policy_statement

from .conftest import (
    MONTH_3,
    MONTH_6,
    MONTH_12,
    POLICY_DIR,
    START,
    activate,
    case,
    only,
    snap,
)

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
def test_holding_complexity_4_until_month_6(
    shipped: PolicySet, on: date, outcome: Outcome
) -> None:
    assert gate(shipped, on, case(1, "child_in_need", 4)).outcome is outcome


@pytest.mark.parametrize("on", [START, MONTH_3, MONTH_6 - DAY, MONTH_6])
def test_co_working_complexity_4_is_allowed_with_its_holder_responsible(
    shipped: PolicySet, on: date
) -> None:
    # "They may co-work CP cases"; "complex cases only with support in place".
    item = case(1, "child_in_need", 4, "co_worker", ap_holder=True)
    assert gate(shipped, on, item).outcome is Outcome.ok


def test_an_organisation_may_keep_complexity_4_away_entirely(
    shipped: PolicySet, tmp_path: Path
) -> None:
    directory = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, directory)
    path = directory / "complexity-gates.toml"
    text = path.read_text()
    assert 'roles = ["holder"]' in text
    path.write_text(text.replace('roles = ["holder"]', 'roles = ["holder", "co_worker"]'))
    strict = activate(load_policy_set(directory), "complexity-gates")
    item = case(1, "child_in_need", 4, "co_worker", ap_holder=True)
    finding = gate(strict, MONTH_6 - DAY, item)
    assert finding.outcome is Outcome.block
    assert "complexity 4 co-worked before month 6" in finding.reason
    statement = policy_statement(strict.policy("complexity-gates"), strict)
    assert "you will not hold or co-work any case of complexity 4" in statement


def test_the_statement_says_co_working_is_allowed(shipped: PolicySet) -> None:
    text = policy_statement(shipped.policy("complexity-gates"), shipped)
    assert ("In your first 6 months you will not be the named holder of any case of "
            "complexity 4") in text
    assert "you may co-work one, with its holder responsible" in text


def test_complexity_3_is_fine_at_month_3(shipped: PolicySet) -> None:
    assert gate(shipped, MONTH_3 - DAY, case(1, "child_in_need", 3)).outcome is Outcome.ok


def test_co_working_cp_work_is_not_sole_holding(shipped: PolicySet) -> None:
    item = case(1, CP, 2, "co_worker", ap_holder=True)
    assert gate(shipped, MONTH_3, item).outcome is Outcome.ok


def test_reason_and_severity(shipped: PolicySet) -> None:
    finding = gate(shipped, MONTH_3, case(1, CP, 4))
    assert finding.outcome is Outcome.block
    assert finding.severity is Severity.severe
    assert finding.reason == (
        "1 case breaks the complexity gate in month 4 of the programme (C-1: sole holding "
        "of a child protection plan case before month 12 and complexity 4 held before "
        "month 6); not yet signed off for child protection work."
    )


def test_reasons_agree_with_their_counts_and_name_the_month(shipped: PolicySet) -> None:
    two = gate(shipped, START, case(1, CP, 2), case(2, "care_proceedings", 1))
    assert two.reason.startswith(
        "2 cases break the complexity gate in month 1 of the programme (C-1: sole holding"
    )
    ok = gate(shipped, START, case(1, "child_in_need", 2))
    assert ok.reason == "No case breaks the complexity gate in month 1 of the programme."
    past = gate(shipped, MONTH_12, case(1, CP, 4))
    assert past.reason == (
        "No complexity gate applies: 12 months of the programme are complete."
    )
    proposed = only(
        evaluate(snap(MONTH_3, [case(1)]), shipped, proposed=case(2, CP, 2)), RULE
    )
    assert proposed.reason.startswith("1 case would break the complexity gate in month 4")


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
