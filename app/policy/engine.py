"""Evaluate the active policies on one NQSW's snapshot: findings in, nothing else touched.

Pure and fast by construction: parameters were validated when the files were loaded,
the rules for each programme are precomputed on the `PolicySet`, programme time is
computed once per snapshot, and individual adjustments are validated once per
distinct agreement and cached on the rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from pydantic import BaseModel

from app.policy.adjustments import adjusted_params, is_valid_on, targets_rule
from app.policy.findings import Finding, overall
from app.policy.measures import CaseCounts, NextReview, StageMeasures, WorkloadMeasures
from app.policy.policies import PolicySet, Rule
from app.policy.programme import Clock
from app.policy.rules import supervision
from app.policy.rules.base import MeasureContext, RuleContext, kind_traits
from app.policy.snapshot import AdjustmentRecord, CaseLoadItem, Snapshot
from app.policy.vocabulary import PROGRAMME_MONTHS, Programme


def signed_off_kinds(snapshot: Snapshot) -> dict[str, date]:
    """Each sign-off kind recorded on or before the snapshot date, with its first date."""
    found: dict[str, date] = {}
    for record in snapshot.sign_offs:
        if record.signed_on <= snapshot.as_of:
            first = found.get(record.kind)
            if first is None or record.signed_on < first:
                found[record.kind] = record.signed_on
    return found


def valid_adjustments(snapshot: Snapshot) -> list[AdjustmentRecord]:
    """Adjustments in force on the snapshot date, oldest agreement first."""
    valid = [a for a in snapshot.adjustments if is_valid_on(a, snapshot.as_of)]
    valid.sort(key=lambda a: (a.valid_from, a.adjustment_id or 0))
    return valid


def _rule_params(
    rule: Rule, valid: Sequence[AdjustmentRecord], policy_set: PolicySet
) -> tuple[BaseModel, tuple[AdjustmentRecord, ...], tuple[AdjustmentRecord, ...]]:
    mine = [a for a in valid if a.policy_id == rule.policy_id and targets_rule(rule, a.parameter)]
    if not mine:
        return rule.params, (), ()
    return adjusted_params(rule, mine, policy_set.categories, policy_set.sign_offs)


def _untargeted(valid: Sequence[AdjustmentRecord], rule: Rule) -> list[AdjustmentRecord]:
    """Adjustments of this rule's policy that name no rule at all (reported on its first)."""
    policy = rule.policy
    if policy is None or policy.rules[0] is not rule:
        return []
    return [
        a for a in valid
        if a.policy_id == policy.id and not any(targets_rule(r, a.parameter) for r in policy.rules)
    ]


def evaluate(
    snapshot: Snapshot, policy_set: PolicySet, *, proposed: CaseLoadItem | None = None
) -> list[Finding]:
    """One finding per active rule for the NQSW's programme (plus the proposed case, if any)."""
    if proposed is not None:
        snapshot = snapshot.with_case(proposed)
    if not policy_set.rules_for(snapshot.programme):
        return []
    return [f for produced in _by_rule(snapshot, policy_set, proposed) for f in produced]


def with_beginnings(
    snapshot: Snapshot, policy_set: PolicySet, findings: Sequence[Finding]
) -> list[Finding]:
    """`findings` (what `evaluate` found on `snapshot`) with each caseload finding that is
    not ok dated from the allocation that began it (`began_with`).

    Apart from `evaluate` because only a breach needs the date: reconciliation asks for
    it when it opens or keeps one, while an allocation check, which judges many days,
    does without. A rule measured by time dates its own findings.
    """
    undated = {f.key for f in findings if f.is_breach and f.began_on is None}
    if not undated:
        return list(findings)
    clock = Clock.of(snapshot)
    signed_off = signed_off_kinds(snapshot) if snapshot.sign_offs else {}
    valid = valid_adjustments(snapshot) if snapshot.adjustments else []
    dated: dict[tuple[str, str], Finding] = {}
    for rule in policy_set.rules_for(snapshot.programme):
        if (rule.policy_id, rule.id) not in undated or not reads_caseload(rule):
            continue
        params: Any = rule.params
        applied: tuple[AdjustmentRecord, ...] = ()
        if valid:
            params, applied, _ = _rule_params(rule, valid, policy_set)
        context = RuleContext(
            rule, clock, signed_off, policy_set.categories, None, applied,
            policy_set.sign_offs,
        )
        mine = [f for f in findings if f.key == (rule.policy_id, rule.id)]
        for finding in began_with(snapshot, rule, params, context, mine):
            dated[finding.key] = finding
    return [dated.get(f.key, f) if f.key in undated else f for f in findings]


def evaluate_proposal(
    snapshot: Snapshot, policy_set: PolicySet, proposed: CaseLoadItem, *,
    caseload_only: bool = False,
) -> tuple[list[Finding], list[Finding]]:
    """The findings without and with a proposed case: `evaluate` twice, in one pass.

    A rule kind that never looks at the caseload or the proposal (it says so with
    ``reads_caseload = False``: protected time, supervision) finds the same with and
    without the case, so it is evaluated once and its findings are shared; with
    `caseload_only` it is not evaluated at all (a proposal judged on the later days of its
    period can only change what the caseload rules find).
    """
    before = _by_rule(snapshot, policy_set, None, caseload_only=caseload_only)
    after = _by_rule(snapshot.with_case(proposed), policy_set, proposed, unchanged=before)
    return (
        [f for produced in before for f in produced],
        [f for produced in after for f in produced],
    )


def reads_caseload(rule: Rule) -> bool:
    """Whether a rule's findings can change with the caseload (unknown kinds: yes)."""
    return kind_traits(rule.impl).reads_caseload


def _by_rule(
    snapshot: Snapshot,
    policy_set: PolicySet,
    proposed: CaseLoadItem | None,
    *,
    unchanged: list[list[Finding]] | None = None,
    caseload_only: bool = False,
) -> list[list[Finding]]:
    """Each active rule's findings, in rule order. `unchanged`: the same rules' findings
    on the snapshot without the proposal, reused for rules that do not read the caseload;
    `caseload_only`: those rules are left out (no findings)."""
    rules = policy_set.rules_for(snapshot.programme)
    if not rules:
        return []
    clock = Clock.of(snapshot)
    signed_off = signed_off_kinds(snapshot) if snapshot.sign_offs else {}
    valid = valid_adjustments(snapshot) if snapshot.adjustments else []
    categories = policy_set.categories
    found: list[list[Finding]] = []
    for index, rule in enumerate(rules):
        if unchanged is not None and not reads_caseload(rule):
            found.append(unchanged[index])
            continue
        if caseload_only and not reads_caseload(rule):
            found.append([])
            continue
        params: Any = rule.params
        applied: tuple[AdjustmentRecord, ...] = ()
        ignored: Sequence[AdjustmentRecord] = ()
        if valid:
            params, applied, ignored = _rule_params(rule, valid, policy_set)
            ignored = [*ignored, *_untargeted(valid, rule)]
        context = RuleContext(
            rule, clock, signed_off, categories, proposed, applied, policy_set.sign_offs
        )
        result = rule.impl.evaluate(snapshot, params, context)
        produced = [result] if isinstance(result, Finding) else list(result)
        if ignored:
            note = [
                {"id": a.adjustment_id, "parameter": a.parameter, "value": a.value}
                for a in ignored
            ]
            for finding in produced:
                finding.details["ignored_adjustments"] = note
        found.append(produced)
    return found


def began_with(
    snapshot: Snapshot, rule: Rule, params: Any, context: RuleContext,
    produced: list[Finding],
) -> list[Finding]:
    """`produced` with each undated breach dated from the allocation that began it.

    A caseload rule measures the load on the snapshot date; the problem began with the
    allocation from which that load first breached the rule as it stands on that date.
    The rule is judged again on the caseload cut back to the allocations started on or
    before each distinct start date, and the first cut that is not ok gives the date.
    Adding cases never makes a caseload rule happier, so a binary search finds it in a
    few evaluations; it runs only for a finding that is not ok. The date is never before
    the programme began, and a finding whose cut-backs are all ok stays undated.
    """
    starts = sorted({item.start_date for item in snapshot.caseload
                     if item.start_date <= snapshot.as_of})
    if not starts:
        return produced
    wanted = {f.rule_id for f in produced if f.is_breach and f.began_on is None}
    verdicts: dict[int, set[str]] = {}

    def breached_by(index: int) -> set[str]:
        if index not in verdicts:
            cut = starts[index]
            kept = tuple(item for item in snapshot.caseload if item.start_date <= cut)
            result = rule.impl.evaluate(replace(snapshot, caseload=kept), params, context)
            found = [result] if isinstance(result, Finding) else list(result)
            verdicts[index] = {f.rule_id for f in found if f.is_breach}
        return verdicts[index]

    dated: dict[str, date] = {}
    for rule_id in wanted:
        if rule_id not in breached_by(len(starts) - 1):
            continue
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            middle = (lo + hi) // 2
            if rule_id in breached_by(middle):
                hi = middle
            else:
                lo = middle + 1
        dated[rule_id] = max(starts[lo], snapshot.programme_start)
    return [
        replace(f, began_on=dated[f.rule_id])
        if f.is_breach and f.began_on is None and f.rule_id in dated else f
        for f in produced
    ]


def next_review(
    snapshot: Snapshot, months_done: int, review_months: Sequence[int]
) -> dict[str, Any] | None:
    """The next of the review points (programme months) and its date, pauses included."""
    length = PROGRAMME_MONTHS.get(Programme(snapshot.programme), 12)
    for month in review_months:
        if months_done < month <= length:
            when = supervision.review_due_date(snapshot, month)
            return {"month": month, "date": when.isoformat() if when else None}
    return None


def measure_workload(
    snapshot: Snapshot,
    policy_set: PolicySet,
    *,
    proposed: CaseLoadItem | None = None,
    findings: list[Finding] | None = None,
) -> WorkloadMeasures:
    """Every measure of the NQSW's load on the snapshot date, with the per-rule findings.

    The engine measures what belongs to the programme (stage, next review, case counts);
    each rule kind with a `measure_load` hook adds its own block, measured by the first
    rule of that kind (the active one, else the organisation's inactive scheme, so that
    a manager can see where the NQSW would stand under it) with any individual
    agreement applied. `findings`: what `evaluate` found on the same snapshot, when the
    caller has it.
    """
    if proposed is not None:
        snapshot = snapshot.with_case(proposed)
    clock = Clock.of(snapshot)
    valid = valid_adjustments(snapshot) if snapshot.adjustments else []
    programme = snapshot.programme
    held = sum(1 for item in snapshot.caseload if item.role == "holder")
    review = next_review(
        snapshot, clock.months, supervision.review_months(policy_set, programme)
    )
    measures = WorkloadMeasures(
        staff_id=snapshot.staff_id,
        enrolment_id=snapshot.enrolment_id,
        programme=programme,
        as_of=snapshot.as_of,
        fte=snapshot.fte,
        stage=StageMeasures(
            programme_days=clock.days,
            programme_months=clock.months,
            month_fraction=round(clock.fraction, 3),
            next_review=NextReview.model_validate(review) if review else None,
        ),
        cases=CaseCounts(
            held=held, co_worked=len(snapshot.caseload) - held, total=len(snapshot.caseload)
        ),
    )
    for rule in policy_set.first_of_each_kind(programme):
        hook = kind_traits(rule.impl).measure_load
        if hook is None:
            continue
        params, _, _ = _rule_params(rule, valid, policy_set)
        context = MeasureContext(rule, clock, policy_set.is_active(rule.policy_id, programme))
        measures = hook(snapshot, params, context, measures)
    if findings is None:
        findings = evaluate(snapshot, policy_set)
    return measures.model_copy(update={
        "outcome": overall(findings).value,
        "findings": [finding.as_dict() for finding in findings],
    })


def workload_measures(
    snapshot: Snapshot,
    policy_set: PolicySet,
    *,
    proposed: CaseLoadItem | None = None,
    findings: list[Finding] | None = None,
) -> dict[str, Any]:
    """`measure_workload` as plain data (dates as ISO strings), for callers that build a
    response by spreading it."""
    return measure_workload(
        snapshot, policy_set, proposed=proposed, findings=findings
    ).as_dict()
