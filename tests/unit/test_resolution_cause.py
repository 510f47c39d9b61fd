"""Why a breach resolved, as a code: from the change that triggered the check, or the evidence."""

from __future__ import annotations

from datetime import date

import pytest

from app.models import Breach
from app.policy.findings import Finding, Outcome, Severity
from app.policy.snapshot import Snapshot
from app.services.reconcile import Cause, cause_from_trigger, resolution_cause

ON = date(2030, 12, 2)


@pytest.mark.parametrize(("trigger", "cause"), [
    ("Allocation of case CIN-4 ended (cover ended)", Cause.allocation_ended),
    ("Allocation of case CIN-4 extended", None),
    ("case CIN-4 closed", Cause.case_closed),
    ("individual adjustment approved", Cause.adjustment),
    ("signed off for child protection", Cause.sign_off),
    ("programme paused (illness)", Cause.paused),
    ("programme completed", Cause.programme_ended),
    ("protected time rebooked", Cause.diary),
    ("supervision recorded", Cause.supervision),
    ("3-month review held", Cause.supervision),
    ("Daily check on 2030-12-02", None),
])
def test_a_trigger_names_its_cause(trigger: str, cause: Cause | None) -> None:
    assert cause_from_trigger(trigger) == cause


def breach(kind: str = "stage_cap", details: dict[str, object] | None = None) -> Breach:
    evidence = {"measured": 6, "limit": 5, "adjusted_by": [], "details": details or {}}
    return Breach(staff_id=1, enrolment_id=1, policy_id="stage-caps", rule_id="caseload-cap",
                  kind=kind, level="block", severity="high", policy_version="v1",
                  opened_on=date(2030, 11, 2), last_seen_on=date(2030, 11, 2),
                  evidence=evidence, latest_evidence=evidence)


def finding(details: dict[str, object], adjusted_by: tuple[int, ...] = ()) -> Finding:
    return Finding("stage-caps", "caseload-cap", "stage_cap", Outcome.ok, Severity.info,
                   "within", measured=6, limit=10, policy_version="v1",
                   adjusted_by=adjusted_by, details=details)


SNAPSHOT = Snapshot(staff_id=1, enrolment_id=1, programme="asye",
                    programme_start=date(2030, 9, 2), as_of=ON)
MONTH_0_3 = {"band": {"from_month": 0, "to_month": 3}, "programme_months": 2}
MONTH_3_6 = {"band": {"from_month": 3, "to_month": 6}, "programme_months": 3}


def test_the_band_moving_on_with_nothing_else_named_is_the_stage() -> None:
    assert resolution_cause(given=None, breach=breach(details=MONTH_0_3),
                            now=finding(MONTH_3_6), snapshot=SNAPSHOT,
                            same_enrolment=True) == Cause.stage_moved_on


def test_the_change_named_wins_over_time_and_evidence_wins_over_both() -> None:
    assert resolution_cause(given=Cause.case_closed, breach=breach(details=MONTH_0_3),
                            now=finding(MONTH_3_6), snapshot=SNAPSHOT,
                            same_enrolment=True) == Cause.case_closed
    assert resolution_cause(given=Cause.case_closed, breach=breach(details=MONTH_0_3),
                            now=finding(MONTH_0_3, adjusted_by=(7,)), snapshot=SNAPSHOT,
                            same_enrolment=True) == Cause.adjustment


def test_a_diary_change_explains_only_the_diary_rules() -> None:
    assert resolution_cause(given=Cause.diary, breach=breach(details=MONTH_0_3),
                            now=finding(MONTH_0_3), snapshot=SNAPSHOT,
                            same_enrolment=True) == Cause.changed
    assert resolution_cause(given=Cause.diary, breach=breach("protected_time"),
                            now=finding({}), snapshot=SNAPSHOT,
                            same_enrolment=True) == Cause.diary


def test_no_programme_or_no_rule() -> None:
    assert resolution_cause(given=None, breach=breach(), now=None, snapshot=None,
                            same_enrolment=False) == Cause.programme_ended
    assert resolution_cause(given=None, breach=breach(), now=None, snapshot=SNAPSHOT,
                            same_enrolment=True) == Cause.policy_changed
