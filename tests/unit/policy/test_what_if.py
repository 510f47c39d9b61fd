"""A what-if evaluates without and with the proposed case in one pass, and finds the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from app.policy.engine import evaluate, evaluate_proposal, reads_caseload
from app.policy.policies import PolicySet
from app.policy.snapshot import ProtectedTimeEntry, SupervisionRecord

from .conftest import MONTH_3, MONTH_6, START, activate, case, cases, snap


def _diary_snapshot(as_of: date, count: int):  # type: ignore[no-untyped-def]
    """A caseload, and a diary that is partly kept (so both diary rules have things to say)."""
    booked = [
        ProtectedTimeEntry(day=START + timedelta(days=14 * i), hours=7.4,
                           status="taken" if i % 3 else "cancelled", entry_id=i)
        for i in range(1, 8)
    ]
    held = [SupervisionRecord(day=START + timedelta(days=30 * i)) for i in range(1, 3)]
    return replace(snap(as_of, cases(count)), protected_time=tuple(booked),
                   supervision=tuple(held))


def test_only_the_diary_rules_say_they_never_read_the_caseload(loaded: PolicySet) -> None:
    every = activate(loaded, *loaded.policies)
    blind = {rule.kind for rule in every.rules_for("asye") if not reads_caseload(rule)}
    assert blind == {"protected_time", "supervision"}


def test_it_finds_what_two_evaluations_find(loaded: PolicySet) -> None:
    every = activate(loaded, *loaded.policies)
    for as_of, count, proposed in (
        (MONTH_3, 5, case(40)),
        (MONTH_3, 12, case(41, "child_protection_plan", 4)),
        (MONTH_6, 3, case(42, role="co_worker", ap_holder=True)),
        (MONTH_6, 9, case(2, complexity=4)),  # an existing case, changed
    ):
        snapshot = _diary_snapshot(as_of, count)
        before, after = evaluate_proposal(snapshot, every, proposed)
        assert [f.as_dict() for f in before] == [f.as_dict() for f in evaluate(snapshot, every)]
        assert [f.as_dict() for f in after] == [
            f.as_dict() for f in evaluate(snapshot, every, proposed=proposed)
        ]


def test_caseload_only_leaves_out_exactly_the_rules_a_case_cannot_change(
    loaded: PolicySet,
) -> None:
    """The later days of an allocation's period are judged on the caseload rules alone."""
    every = activate(loaded, *loaded.policies)
    snapshot = _diary_snapshot(MONTH_3, 5)
    proposed = case(40)
    full_before, full_after = evaluate_proposal(snapshot, every, proposed)
    before, after = evaluate_proposal(snapshot, every, proposed, caseload_only=True)
    kinds = {f.kind for f in full_after}
    assert {"protected_time", "supervision"} <= kinds
    assert {f.kind for f in after} == kinds - {"protected_time", "supervision"}
    assert [f.as_dict() for f in after] == [
        f.as_dict() for f in full_after if f.kind not in ("protected_time", "supervision")]
    assert [f.as_dict() for f in before] == [
        f.as_dict() for f in full_before if f.kind not in ("protected_time", "supervision")]
