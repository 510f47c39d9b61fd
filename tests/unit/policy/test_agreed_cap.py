"""An agreed cap applies as the agreement says: as written, or pro rata for FTE.

The finding (what the allocation check and the breaches use) and the workload measures
(what every page and the API print) read the cap from the same place, so they agree.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.policy.adjustments import agreement_behind, applies_as_problem
from app.policy.engine import evaluate, measure_workload
from app.policy.findings import Outcome
from app.policy.policies import PolicySet
from app.policy.snapshot import AdjustmentRecord, AppliesAs

from .conftest import MONTH_3, MONTH_6, START, cases, only, snap

AFTER_SIX = "caseload-cap.bands.2.cap"
LATER = MONTH_6 + timedelta(days=31)  # month 7


def agreed(value: object, applies_as: AppliesAs = "as_agreed", *, ident: int = 1,
           parameter: str = AFTER_SIX) -> AdjustmentRecord:
    return AdjustmentRecord("stage-caps", parameter, value, "Building confidence", START,
                            None, ident, applies_as)


@pytest.mark.parametrize(
    ("fte", "adjustments", "limit", "basis", "note"),
    [
        (1.0, (), 15, "policy", ""),
        (0.8, (), 12, "pro_rata", "15 pro rata for 0.8 FTE"),
        (0.7, (), 10, "pro_rata", "15 pro rata for 0.7 FTE is 10.5, rounded down"),
        (0.8, (agreed(10),), 10, "as_agreed", "as agreed, not pro rata for 0.8 FTE"),
        (1.0, (agreed(10),), 10, "as_agreed", ""),
        (0.8, (agreed(10, "pro_rata"),), 8, "agreed_pro_rata",
         "the agreed 10 pro rata for 0.8 FTE"),
        (0.7, (agreed(10, "pro_rata"),), 7, "agreed_pro_rata",
         "the agreed 10 pro rata for 0.7 FTE"),
        (1.0, (agreed(10, "pro_rata"),), 10, "agreed_pro_rata", ""),
        # Another band's agreement leaves this band's cap the policy's, pro rata.
        (0.8, (agreed(4, parameter="caseload-cap.bands.0.cap"),), 12, "pro_rata",
         "15 pro rata for 0.8 FTE"),
    ],
)
def test_the_cap_in_force(
    shipped: PolicySet, fte: float, adjustments: tuple[AdjustmentRecord, ...], limit: float,
    basis: str, note: str,
) -> None:
    snapshot = snap(LATER, cases(7), fte=fte, adjustments=adjustments)
    finding = only(evaluate(snapshot, shipped), "caseload-cap")
    band = measure_workload(snapshot, shipped).band
    assert band is not None
    assert finding.limit == band.cap_for_fte == limit
    assert finding.details["cap_basis"] == band.cap_basis == basis
    assert band.cap_note == note
    if note:
        assert f"({note})" in finding.reason


def test_the_demo_agreement_is_not_pro_rated_again(shipped: PolicySet) -> None:
    """0.8 FTE, 'a cap of 10 after month 6': 9 cases are within 10 (8 would refuse them)."""
    snapshot = snap(LATER, cases(9), fte=0.8, adjustments=[agreed(10)])
    finding = only(evaluate(snapshot, shipped), "caseload-cap")
    assert finding.outcome is Outcome.ok and finding.limit == 10
    assert "the cap of 10 (as agreed, not pro rata for 0.8 FTE)" in finding.reason
    assert finding.adjusted_by == (1,)
    pro_rata = snap(LATER, cases(9), fte=0.8, adjustments=[agreed(10, "pro_rata")])
    over = only(evaluate(pro_rata, shipped), "caseload-cap")
    assert over.outcome is Outcome.warn and over.limit == 8


def test_the_later_agreement_decides_how_it_applies(shipped: PolicySet) -> None:
    first = agreed(10, "pro_rata", ident=1)
    second = AdjustmentRecord("stage-caps", AFTER_SIX, 11, "reviewed", START + timedelta(days=9),
                              None, 2, "as_agreed")
    snapshot = snap(LATER, cases(3), fte=0.8, adjustments=[second, first])
    assert only(evaluate(snapshot, shipped), "caseload-cap").limit == 11
    band = measure_workload(snapshot, shipped).band
    assert band is not None and band.adjustment_id == 2 and band.cap_basis == "as_agreed"


def test_an_ignored_agreement_sets_nothing(shipped: PolicySet) -> None:
    stale = agreed(-3)  # no longer valid: the policy's cap applies, pro rata
    snapshot = snap(LATER, cases(3), fte=0.8, adjustments=[stale])
    band = measure_workload(snapshot, shipped).band
    assert band is not None and band.cap_for_fte == 12 and band.cap_basis == "pro_rata"
    assert band.adjustment_id is None


def test_an_agreement_out_of_date_sets_nothing(shipped: PolicySet) -> None:
    ended = AdjustmentRecord("stage-caps", AFTER_SIX, 10, "x", START, MONTH_3, 1, "as_agreed")
    band = measure_workload(snap(LATER, cases(3), fte=0.8, adjustments=[ended]), shipped).band
    assert band is not None and band.cap_for_fte == 12 and band.cap_basis == "pro_rata"


def test_agreement_behind_accepts_the_number_as_text(shipped: PolicySet) -> None:
    rule = shipped.rule("stage-caps", "caseload-cap")
    record = agreed("10")
    assert agreement_behind(rule, [record], LATER, ("bands", 2, "cap"), 10) is record
    assert agreement_behind(rule, [record], LATER, ("bands", 1, "cap"), 10) is None
    assert agreement_behind(rule, [record], LATER, ("bands", 2, "cap"), 9) is None


def test_only_a_figure_scaled_by_fte_can_be_agreed_pro_rata(shipped: PolicySet) -> None:
    assert applies_as_problem(shipped, "stage-caps", AFTER_SIX, "pro_rata") is None
    assert applies_as_problem(shipped, "stage-caps", "caseload-cap.coworked_weight",
                              "as_agreed") is None
    problem = applies_as_problem(shipped, "stage-caps", "caseload-cap.coworked_weight",
                                 "pro_rata")
    assert problem is not None and "only apply as agreed" in problem
    assert applies_as_problem(shipped, "working-towards-90", "workload-share.ramp.1.share",
                              "pro_rata") is not None
