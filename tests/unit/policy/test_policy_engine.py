"""The engine as a whole: findings for every active rule, properties, statements, measures."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.policy.engine import evaluate, workload_measures
from app.policy.findings import Outcome, overall
from app.policy.policies import PolicySet
from app.policy.registry import load_policy_set
from app.policy.snapshot import (
    AdjustmentRecord,
    CaseLoadItem,
    PauseSpan,
    SignOffRecord,
    Snapshot,
)
from app.policy.statement import describe_policy_set, policy_statement

from .conftest import (
    CASELOAD_POLICIES,
    MONTH_3,
    MONTH_6,
    POLICY_DIR,
    START,
    activate,
    case,
    cases,
    snap,
)

CATEGORIES = [
    "early_help", "child_in_need", "child_protection_plan", "care_proceedings",
    "looked_after", "care_leaver", "court_work", "other", "private_fostering",
]
LOADS = {"caseload-cap", "points-allowance", "workload-share"}


def test_one_finding_per_active_rule_with_its_version(shipped: PolicySet) -> None:
    findings = evaluate(snap(MONTH_3, cases(3)), shipped)
    active_rules = shipped.rules_for("asye")
    assert [f.key for f in findings] == [r.key for r in active_rules]
    for finding, rule in zip(findings, active_rules, strict=True):
        assert finding.policy_version == rule.policy_version == shipped.policy(
            rule.policy_id
        ).version
    assert overall(findings) is Outcome.ok


def test_a_programme_with_no_active_policies_finds_nothing(shipped: PolicySet) -> None:
    assert evaluate(snap(MONTH_3, cases(30)), activate(shipped)) == []


def test_the_proposed_case_is_evaluated_with_the_rest(shipped: PolicySet) -> None:
    s = snap(MONTH_3 - timedelta(days=1), cases(5))
    assert overall(evaluate(s, shipped)) is Outcome.ok
    findings = evaluate(s, shipped, proposed=case(6))
    assert overall(findings) is Outcome.block
    # A proposal for a case already held replaces it rather than counting twice.
    assert overall(evaluate(s, shipped, proposed=case(5))) is Outcome.ok


def test_every_shipped_policy_evaluates_with_a_busy_snapshot(everything: PolicySet) -> None:
    busy = snap(MONTH_6, [case(i, CATEGORIES[i % 8], 1 + i % 4, "co_worker" if i % 3 else
                               "holder", ap_holder=i % 2 == 0) for i in range(30)])
    findings = evaluate(busy, everything)
    assert {f.rule_id for f in findings} >= {
        "caseload-cap", "complexity-gate", "cp-coworking", "points-allowance", "workload-share"
    }
    assert all(f.reason and f.reason.endswith(".") for f in findings)


case_items = st.builds(
    CaseLoadItem,
    case_id=st.integers(min_value=1, max_value=10_000),
    reference=st.just("C"),
    category=st.sampled_from(CATEGORIES),
    complexity=st.integers(min_value=1, max_value=4),
    role=st.sampled_from(["holder", "co_worker"]),
    start_date=st.just(START),
    holder_is_advanced_practitioner=st.booleans(),
)

snapshots = st.builds(
    lambda caseload, days, fte, pause, signed, benchmark: snap(
        START + timedelta(days=days),
        {c.case_id: c for c in caseload}.values(),
        fte=fte,
        pauses=[PauseSpan(START + timedelta(days=pause[0]),
                          START + timedelta(days=pause[0] + pause[1]))] if pause else [],
        sign_offs=[SignOffRecord("child_protection", START + timedelta(days=signed))]
        if signed is not None else [],
        benchmark_load=benchmark,
    ),
    st.lists(case_items, max_size=30),
    st.integers(min_value=0, max_value=800),
    st.sampled_from([1.0, 0.8, 0.6, 0.5]),
    st.none() | st.tuples(st.integers(0, 300), st.integers(0, 120)),
    st.none() | st.integers(0, 400),
    st.none() | st.floats(min_value=40, max_value=120),
)


@settings(max_examples=150, deadline=None)
@given(s=snapshots, extra=case_items)
def test_property_adding_a_case_never_lowers_a_load(
    everything: PolicySet, s: Snapshot, extra: CaseLoadItem
) -> None:
    extra = CaseLoadItem(**{**{f: getattr(extra, f) for f in extra.__slots__}, "case_id": 99_999})
    before = {f.rule_id: f for f in evaluate(s, everything)}
    after = {f.rule_id: f for f in evaluate(s, everything, proposed=extra)}
    for rule_id in LOADS:
        assert after[rule_id].measured >= before[rule_id].measured  # type: ignore[operator]
        assert after[rule_id].outcome.rank >= before[rule_id].outcome.rank
    measures_before = workload_measures(s, everything)
    measures_after = workload_measures(s, everything, proposed=extra)
    assert measures_after["cases"]["weighted"] >= measures_before["cases"]["weighted"]
    assert measures_after["points"]["load"] >= measures_before["points"]["load"]
    assert measures_after["share"]["share"] >= measures_before["share"]["share"]


@settings(max_examples=100, deadline=None)
@given(s=snapshots)
def test_property_evaluation_is_deterministic(everything: PolicySet, s: Snapshot) -> None:
    agreement = AdjustmentRecord("stage-caps", "caseload-cap.bands.0.cap", 3, "x", START)
    s = Snapshot(**{**{f: getattr(s, f) for f in s.__slots__}, "adjustments": (agreement,)})
    first = evaluate(s, everything)
    assert evaluate(s, everything) == first
    # A freshly loaded policy set (cold caches) agrees with a warm one.
    fresh = activate(load_policy_set(POLICY_DIR), *CASELOAD_POLICIES)
    assert evaluate(s, fresh) == first


def test_statements_are_rendered_from_the_policy(shipped: PolicySet) -> None:
    text = policy_statement(shipped.policy("stage-caps"), shipped, "asye")
    assert "In your first 3 months you will hold no more than 5 cases." in text
    assert "From 3 to 6 months you will hold no more than 10 cases." in text
    assert "After 6 months you will hold no more than 15 cases (a flexible limit)." in text
    assert "A case you co-work counts as half a case." in text
    assert "unless a senior manager agrees to it, with a recorded reason" in text
    assert "within 5 working days" in text
    gates = policy_statement(shipped.policy("complexity-gates"), shipped)
    assert "told of any breach at once" in gates
    assert "In your first 12 months you will not be the sole holder" in gates
    cp = policy_statement(shipped.policy("cp-coworking"), shipped)
    assert "alongside an advanced practitioner" in cp
    points = policy_statement(shipped.policy("points-scheme"), shipped)
    assert "no more than 90 points" in points and "no more than 100 points" in points
    ramp = policy_statement(shipped.policy("working-towards-90"), shipped)
    assert "working towards 90%" in ramp and "50% at the start" in ramp


def test_describe_policy_set(shipped: PolicySet) -> None:
    described = describe_policy_set(shipped, "swip")
    assert [d["id"] for d in described] == ["stage-caps", "complexity-gates", "cp-coworking"]
    assert [d["id"] for d in described][:3] == ["stage-caps", "complexity-gates", "cp-coworking"]
    caps = described[0]
    assert caps["version"] == shipped.policy("stage-caps").version
    assert caps["active_for"] == ["asye", "swip"]
    rule = caps["rules"][0]
    assert rule["enforcement"] == "block" and rule["override_by"] == ["senior_manager"]
    assert rule["escalation"] == {"after_working_days": 5, "severe": False,
                                  "to": "senior_manager"}
    assert rule["params"]["bands"][0] == {
        "from_month": 0, "to_month": 3, "cap": 5, "enforcement": "block",
    }
    assert caps["statement"].startswith("A protected caseload")
    everything = {d["id"]: d for d in describe_policy_set(shipped)}
    assert everything["points-scheme"]["active_for"] == []


def test_workload_measures(shipped: PolicySet) -> None:
    s = snap(date(2026, 5, 1), [*cases(4), case(9, "child_protection_plan", 3, "co_worker",
                                                 ap_holder=True)], fte=0.8)
    m = workload_measures(s, shipped)
    assert m["stage"]["programme_months"] == 3
    assert m["stage"]["next_review"] == {"month": 6, "date": "2026-07-15"}
    assert m["cases"] == {"held": 4, "co_worked": 1, "total": 5, "weighted": 4.5}
    assert m["band"]["cap"] == 10 and m["band"]["cap_for_fte"] == 8
    assert m["band"]["label"] == "from 3 to 6 months" and m["band"]["active"] is True
    # The points scheme and the 90% ramp are shipped inactive but still measured.
    assert m["points"]["active"] is False
    assert m["points"]["load"] == 4 * 4 + 8 * 0.5 + 15 * 0.8
    assert m["share"]["light"] in {"under", "on_target", "amber", "red"}
    assert m["outcome"] == "ok"
    assert [f["rule_id"] for f in m["findings"]][:3] == [
        "caseload-cap", "complexity-gate", "cp-coworking",
    ]


# --- a pause moves the stage, as the engine's own findings show it ----------------------

# (what to look for in the findings, as a function of them) for each stage boundary:
# it is false before the boundary and true from the boundary day on.
PROBES = {
    3: (cases(6), lambda fs: _finding(fs, "caseload-cap").limit >= 10),
    6: (cases(11), lambda fs: _finding(fs, "caseload-cap").limit >= 15),
    12: ((case(1, "child_protection_plan", 2),),
         lambda fs: _finding(fs, "complexity-gate").outcome is Outcome.ok),
}


def _finding(findings: list, rule_id: str):  # type: ignore[no-untyped-def]
    return next(f for f in findings if f.rule_id == rule_id)


def first_day_of_stage(
    policy_set: PolicySet, start: date, pauses: list[PauseSpan], month: int
) -> date:
    """The first date the findings show the NQSW in the new stage, found by bisection over
    evaluations of the engine (the findings change once, at the boundary)."""
    caseload, reached = PROBES[month]

    def holds(days: int) -> bool:
        s = snap(start + timedelta(days=days), caseload, start=start, pauses=pauses)
        return bool(reached(evaluate(s, policy_set)))

    before, after = 0, 1200
    assert not holds(before) and holds(after)
    while after - before > 1:
        middle = (before + after) // 2
        if holds(middle):
            after = middle
        else:
            before = middle
    return start + timedelta(days=after)


@settings(max_examples=120, deadline=None)
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    offset=st.integers(min_value=0, max_value=420),
    length=st.integers(min_value=1, max_value=200),
    month=st.sampled_from(sorted(PROBES)),
)
def test_property_a_pause_of_d_days_moves_the_stage_change_by_d_days(
    shipped: PolicySet, start: date, offset: int, length: int, month: int
) -> None:
    """Through the engine: the day the cap (or the gate) changes moves by exactly the
    pause's length when the pause starts before it, and not at all otherwise."""
    pause = PauseSpan(start + timedelta(days=offset), start + timedelta(days=offset + length - 1))
    plain = first_day_of_stage(shipped, start, [], month)
    paused = first_day_of_stage(shipped, start, [pause], month)
    if pause.start < plain:
        assert paused - plain == timedelta(days=length)
    else:
        assert paused == plain
