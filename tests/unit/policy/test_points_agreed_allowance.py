"""An agreed points allowance applies as the agreement says, exactly as an agreed cap does.

"0.8 FTE: an allowance of 60 points" means 60 (as agreed); recorded pro rata, the agreed
60 is scaled like the policy's own allowance (48). The finding and the workload measures
(what pages and the API print) read the allowance from the same place.
"""

from __future__ import annotations

import pytest

from app.policy.adjustments import applies_as_problem
from app.policy.engine import evaluate, measure_workload
from app.policy.findings import Outcome
from app.policy.policies import PolicySet
from app.policy.snapshot import AdjustmentRecord, AppliesAs

from .conftest import MONTH_3, START, activate, cases, only, snap

FIRST_BAND = "points-allowance.allowance.0.max_points"


@pytest.fixture(scope="module")
def scheme(shipped: PolicySet) -> PolicySet:
    return activate(shipped, "points-scheme")


def agreed(value: float, applies_as: AppliesAs = "as_agreed") -> AdjustmentRecord:
    return AdjustmentRecord("points-scheme", FIRST_BAND, value, "Building confidence", START,
                            None, 7, applies_as)


@pytest.mark.parametrize(
    ("fte", "adjustments", "limit", "basis", "words", "outcome"),
    [
        # 10 child-in-need cases of complexity 2 (4 points each) and the stable element
        # (15 full-time, pro rata): 52 points at 0.8 FTE, 55 full-time.
        (0.8, (), 72, "pro_rata", "(90 pro rata for 0.8 FTE)", Outcome.ok),
        (0.8, (agreed(60),), 60, "as_agreed", "(as agreed, not pro rata for 0.8 FTE)",
         Outcome.ok),
        (0.8, (agreed(60, "pro_rata"),), 48, "agreed_pro_rata",
         "(the agreed 60 pro rata for 0.8 FTE)", Outcome.warn),
        (1.0, (agreed(50, "pro_rata"),), 50, "agreed_pro_rata", "", Outcome.warn),
    ],
)
def test_the_allowance_in_force(
    scheme: PolicySet, fte: float, adjustments: tuple[AdjustmentRecord, ...], limit: float,
    basis: str, words: str, outcome: Outcome,
) -> None:
    snapshot = snap(MONTH_3, cases(10), fte=fte, adjustments=adjustments)
    finding = only(evaluate(snapshot, scheme), "points-allowance")
    points = measure_workload(snapshot, scheme).points
    assert points is not None
    assert finding.limit == points.allowance == limit
    assert finding.details["allowance_basis"] == points.allowance_basis == basis
    assert finding.outcome is outcome
    assert f"the allowance of {limit} points" in finding.reason
    if words:
        assert words in finding.reason and f"({points.allowance_note})" == words
    else:
        assert "pro rata" not in finding.reason
    assert points.adjustment_id == (7 if adjustments else None)


def test_only_the_allowance_may_be_agreed_pro_rata(scheme: PolicySet) -> None:
    assert applies_as_problem(scheme, "points-scheme", FIRST_BAND, "pro_rata") is None
    problem = applies_as_problem(scheme, "points-scheme", "points-allowance.stable_points",
                                 "pro_rata")
    assert problem is not None and "can only apply as agreed" in problem
