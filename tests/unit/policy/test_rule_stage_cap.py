"""`stage_cap` at every band boundary, part-time, co-worked, paused and adjusted."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.policy.engine import evaluate
from app.policy.findings import Outcome, Severity
from app.policy.policies import PolicySet
from app.policy.rules.stage_cap import cap_for
from app.policy.snapshot import AdjustmentRecord, PauseSpan
from app.policy.statement import policy_statement

from .conftest import MONTH_3, MONTH_6, MONTH_12, START, case, cases, only, snap

DAY = timedelta(days=1)
RULE = "caseload-cap"


def cap_finding(policy_set: PolicySet, s, **kwargs):  # type: ignore[no-untyped-def]
    return only(evaluate(s, policy_set, **kwargs), RULE)


@pytest.mark.parametrize(
    ("on", "count", "outcome", "limit"),
    [
        (MONTH_3 - DAY, 5, Outcome.ok, 5),
        (MONTH_3 - DAY, 6, Outcome.block, 5),
        (MONTH_3, 6, Outcome.ok, 10),
        (MONTH_3, 10, Outcome.ok, 10),
        (MONTH_3 + DAY, 11, Outcome.block, 10),
        (MONTH_6 - DAY, 10, Outcome.ok, 10),
        (MONTH_6 - DAY, 11, Outcome.block, 10),
        (MONTH_6, 11, Outcome.ok, 15),
        (MONTH_6, 16, Outcome.warn, 15),
        (MONTH_6 + DAY, 16, Outcome.warn, 15),
        (MONTH_12 - DAY, 15, Outcome.ok, 15),
        (MONTH_12, 16, Outcome.warn, 15),
        (MONTH_12 + DAY, 15, Outcome.ok, 15),
    ],
)
def test_caps_by_band(
    shipped: PolicySet, on: date, count: int, outcome: Outcome, limit: int
) -> None:
    finding = cap_finding(shipped, snap(on, cases(count)))
    assert finding.outcome is outcome
    assert finding.limit == limit
    assert finding.measured == count


def test_reason_reads_like_a_manager_would_say_it(shipped: PolicySet) -> None:
    s = snap(MONTH_3 - DAY, cases(5))
    finding = cap_finding(shipped, s, proposed=case(99))
    assert finding.reason == "6 cases would exceed the cap of 5 for the first 3 months."
    assert finding.severity is Severity.high
    assert finding.policy_version == shipped.policy("stage-caps").version
    assert cap_finding(shipped, snap(MONTH_3 - DAY, cases(6))).reason.startswith(
        "6 cases exceed the cap of 5"
    )
    ok = cap_finding(shipped, snap(MONTH_3 - DAY, cases(4)))
    assert ok.reason == "4 cases, within the cap of 5 for the first 3 months."
    assert ok.severity is Severity.info


def test_flexible_band_warns_and_says_so(shipped: PolicySet) -> None:
    finding = cap_finding(shipped, snap(MONTH_6, cases(16)))
    assert finding.outcome is Outcome.warn
    assert finding.reason == (
        "16 cases exceed the cap of 15 after 6 months (a flexible cap: the allocation is "
        "not refused, but it is reported as a breach)."
    )


def test_one_case_agrees_with_its_verb(shipped: PolicySet) -> None:
    agreement = AdjustmentRecord("stage-caps", "bands.0.cap", 0, "no cases yet", START)
    one = cap_finding(shipped, snap(START, cases(1), adjustments=[agreement]))
    assert one.reason.startswith("1 case exceeds the cap of 0 for the first 3 months")
    half = (case(1, role="co_worker", ap_holder=True),)
    assert cap_finding(shipped, snap(START, half, adjustments=[agreement])).reason.startswith(
        "0.5 cases (0 held, 1 co-worked counting 0.5 each) exceed the cap of 0"
    )


def test_co_worked_cases_count_half(shipped: PolicySet) -> None:
    four_and_two = (*cases(4), *cases(2, first=10, role="co_worker", ap_holder=True))
    ok = cap_finding(shipped, snap(MONTH_3 - DAY, four_and_two))
    assert ok.outcome is Outcome.ok and ok.measured == 5
    four_and_three = (*four_and_two, case(20, role="co_worker", ap_holder=True))
    over = cap_finding(shipped, snap(MONTH_3 - DAY, four_and_three))
    assert over.outcome is Outcome.block
    assert over.measured == 5.5
    assert over.reason.startswith("5.5 cases (4 held, 3 co-worked counting 0.5 each) exceed")
    assert over.details["held"] == 4 and over.details["co_worked"] == 3


def test_part_time_caps_are_pro_rata(shipped: PolicySet) -> None:
    at = MONTH_3 - DAY
    three = cap_finding(shipped, snap(at, cases(3), fte=0.6))
    assert three.outcome is Outcome.ok and three.limit == 3
    four = cap_finding(shipped, snap(at, cases(4), fte=0.6))
    assert four.outcome is Outcome.block
    assert "the cap of 3 (5 pro rata for 0.6 FTE)" in four.reason


@pytest.mark.parametrize(
    ("on", "fte", "cap"),
    [
        (MONTH_3 - DAY, 0.7, 3),   # 3.5 -> 3
        (MONTH_3, 0.7, 7),         # 10 x 0.7 is a whole 7
        (MONTH_6, 0.7, 10),        # 10.5 -> 10
        (MONTH_6, 0.9, 13),        # 13.5 -> 13
        (MONTH_6, 0.8, 12),
        (MONTH_3 - DAY, 0.5, 2),   # 2.5 -> 2
    ],
)
def test_part_time_caps_are_whole_cases_rounded_down(
    shipped: PolicySet, on: date, fte: float, cap: int
) -> None:
    finding = cap_finding(shipped, snap(on, cases(1), fte=fte))
    assert finding.limit == cap


def test_the_reason_explains_the_rounding(shipped: PolicySet) -> None:
    finding = cap_finding(shipped, snap(MONTH_3 - DAY, cases(4), fte=0.7))
    assert finding.outcome is Outcome.block
    assert finding.reason == (
        "4 cases exceed the cap of 3 (5 pro rata for 0.7 FTE is 3.5, rounded down) for "
        "the first 3 months."
    )
    # Three held and one co-worked (3.5) is over a cap of 3 too: the cap is whole cases.
    mixed = (*cases(3), case(9, role="co_worker", ap_holder=True))
    assert cap_finding(shipped, snap(MONTH_3 - DAY, mixed, fte=0.7)).outcome is Outcome.block


def test_rounding_may_be_nearest_or_none(shipped: PolicySet) -> None:
    rule = shipped.rule("stage-caps", "caseload-cap")
    band = rule.params.bands[0]  # type: ignore[attr-defined]
    nearest = rule.params.model_copy(update={"pro_rata_rounding": "nearest"})
    exact = rule.params.model_copy(update={"pro_rata_rounding": "none"})
    assert cap_for(band, nearest, 0.7) == 4  # type: ignore[arg-type]
    assert cap_for(band, nearest, 0.6) == 3  # type: ignore[arg-type]
    assert cap_for(band, exact, 0.7) == 3.5  # type: ignore[arg-type]
    assert cap_for(band, rule.params, 0.7) == 3  # type: ignore[arg-type]
    # 50 x 0.58 is 28.999999999999996 in floating point: still 29 whole cases.
    fifty = band.model_copy(update={"cap": 50})
    assert cap_for(fifty, rule.params, 0.58) == 29  # type: ignore[arg-type]


def test_the_statement_explains_part_time_caps(shipped: PolicySet) -> None:
    text = policy_statement(shipped.policy("stage-caps"), shipped)
    assert ("If you work part-time, each cap is in proportion to your hours, rounded down "
            "to whole cases (half-time: 2, 5 and 7 cases).") in text


def test_a_pause_moves_the_month_3_boundary(shipped: PolicySet) -> None:
    pause = PauseSpan(date(2026, 2, 1), date(2026, 2, 28))  # 28 days
    shifted = MONTH_3 + timedelta(days=28)
    six = cases(6)
    assert cap_finding(shipped, snap(MONTH_3, six)).outcome is Outcome.ok
    assert cap_finding(shipped, snap(MONTH_3, six, pauses=[pause])).outcome is Outcome.block
    before = snap(shifted - DAY, six, pauses=[pause])
    assert cap_finding(shipped, before).outcome is Outcome.block
    assert cap_finding(shipped, snap(shifted, six, pauses=[pause])).outcome is Outcome.ok


def test_swip_is_covered_to_month_24(shipped: PolicySet) -> None:
    month_23 = date(2027, 12, 20)
    finding = cap_finding(shipped, snap(month_23, cases(16), programme="swip"))
    assert finding.outcome is Outcome.warn
    assert finding.limit == 15


def test_an_individual_cap_of_4_for_the_first_3_months(shipped: PolicySet) -> None:
    agreement = AdjustmentRecord(
        policy_id="stage-caps",
        parameter="caseload-cap.bands.0.cap",
        value=4,
        reason="phased return agreed at the 1-month review",
        valid_from=START,
        valid_to=MONTH_3 - DAY,
        adjustment_id=41,
    )
    s = snap(MONTH_3 - DAY, cases(5), adjustments=[agreement])
    finding = cap_finding(shipped, s)
    assert finding.outcome is Outcome.block
    assert finding.limit == 4
    assert finding.adjusted_by == (41,)
    assert "by individual agreement" in finding.reason
    assert "phased return" in finding.reason
    assert finding.details["adjustments"][0]["parameter"] == "caseload-cap.bands.0.cap"
    # Outside its dates the agreement does nothing.
    later = cap_finding(shipped, snap(MONTH_3, cases(5), adjustments=[agreement]))
    assert later.adjusted_by == () and later.outcome is Outcome.ok
    early = snap(START - DAY, cases(5), adjustments=[agreement])
    assert cap_finding(shipped, early).adjusted_by == ()


def test_an_adjustment_may_raise_a_cap_too(shipped: PolicySet) -> None:
    agreement = AdjustmentRecord(
        "stage-caps", "bands.1.cap", 12, "experienced in a previous role", START, None, 7
    )
    s = snap(MONTH_3, cases(12), adjustments=[agreement])
    finding = cap_finding(shipped, s)
    assert finding.outcome is Outcome.ok and finding.limit == 12
    assert finding.adjusted_by == (7,)
    assert "within the cap of 12" in finding.reason
    assert "by individual agreement: experienced in a previous role" in finding.reason
