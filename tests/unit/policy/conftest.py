"""Builders for engine tests: snapshots by hand, the shipped policies loaded once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pytest

from app.policy.findings import Finding
from app.policy.policies import PolicySet
from app.policy.registry import load_policy_set
from app.policy.snapshot import (
    AdjustmentRecord,
    CaseLoadItem,
    PauseSpan,
    SignOffRecord,
    Snapshot,
)

POLICY_DIR = Path(__file__).resolve().parents[3] / "policies"

# A programme start whose month boundaries need no clamping: month N is the 15th.
START = date(2026, 1, 15)
MONTH_3 = date(2026, 4, 15)
MONTH_6 = date(2026, 7, 15)
MONTH_12 = date(2027, 1, 15)


def case(
    case_id: int,
    category: str = "child_in_need",
    complexity: int = 2,
    role: str = "holder",
    *,
    ap_holder: bool = False,
) -> CaseLoadItem:
    return CaseLoadItem(
        case_id=case_id,
        reference=f"C-{case_id}",
        category=category,
        complexity=complexity,
        role=role,  # type: ignore[arg-type]
        start_date=START,
        allocation_id=case_id,
        holder_is_advanced_practitioner=ap_holder,
    )


def cases(count: int, first: int = 1, **kwargs: object) -> tuple[CaseLoadItem, ...]:
    return tuple(case(first + i, **kwargs) for i in range(count))  # type: ignore[arg-type]


def snap(
    as_of: date,
    caseload: Iterable[CaseLoadItem] = (),
    *,
    programme: str = "asye",
    start: date = START,
    fte: float = 1.0,
    pauses: Iterable[PauseSpan] = (),
    sign_offs: Iterable[SignOffRecord] = (),
    adjustments: Iterable[AdjustmentRecord] = (),
    benchmark_load: float | None = None,
) -> Snapshot:
    return Snapshot(
        staff_id=1,
        enrolment_id=1,
        programme=programme,  # type: ignore[arg-type]
        programme_start=start,
        as_of=as_of,
        fte=fte,
        pauses=tuple(pauses),
        sign_offs=tuple(sign_offs),
        adjustments=tuple(adjustments),
        caseload=tuple(caseload),
        benchmark_load=benchmark_load,
    )


def only(findings: list[Finding], rule_id: str) -> Finding:
    matching = [f for f in findings if f.rule_id == rule_id]
    assert len(matching) == 1, findings
    return matching[0]


DEFAULT_ACTIVE = ("stage-caps", "complexity-gates", "cp-coworking")
CASELOAD_POLICIES = (*DEFAULT_ACTIVE, "points-scheme", "working-towards-90")


@pytest.fixture(scope="session")
def loaded() -> PolicySet:
    """The policies shipped in policies/, exactly as active.toml activates them."""
    return load_policy_set(POLICY_DIR)


@pytest.fixture(scope="session")
def shipped(loaded: PolicySet) -> PolicySet:
    """The shipped caseload policies with the default active set (caps, gates, co-working).

    Other teams' policies (protected time, supervision) are left out so that these
    tests speak only of caseloads.
    """
    return activate(loaded, *DEFAULT_ACTIVE)


def activate(policy_set: PolicySet, *policy_ids: str) -> PolicySet:
    """The same policies with exactly these ones active for both programmes."""
    return PolicySet(
        policy_set.policies,
        {"asye": policy_ids, "swip": policy_ids},
        categories=policy_set.categories,
        sign_offs=policy_set.sign_offs,
        kinds=policy_set.kinds,
    )


@pytest.fixture(scope="session")
def everything(loaded: PolicySet) -> PolicySet:
    """Every shipped caseload policy active, the inactive ones included."""
    return activate(loaded, *CASELOAD_POLICIES)
