"""Why a breach resolved, as a code: from the change that triggered the check, or the evidence."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from app.models import Allocation, Breach
from app.policy.causes import ResolutionCause
from app.policy.findings import Finding, Outcome, Severity
from app.policy.registry import load_policy_set
from app.policy.snapshot import Snapshot
from app.services.reconcile import (
    Cause,
    Trigger,
    reconcile_staff,
    resolution_cause,
)
from app.settings import PROJECT_ROOT
from tests.scenarios import seed

ON = date(2030, 12, 2)


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


# --- the cause travels with the trigger, never in its words -------------------------------


def test_the_stored_values_are_the_ones_on_record() -> None:
    """`breach.resolution_cause` holds these strings: changing one needs a migration."""
    assert Cause is ResolutionCause
    assert [c.value for c in ResolutionCause] == [
        "case_closed", "allocation_ended", "stage_moved_on", "adjustment", "sign_off",
        "programme_ended", "paused", "diary", "supervision", "policy_changed", "changed",
    ]


@pytest.mark.parametrize("cause", list(ResolutionCause))
@pytest.mark.parametrize("words", [
    "Allocation of case CIN-4 ended",
    "protected time rebooked; supervision recorded; case closed",
    "Something else entirely",
    "",
])
def test_a_trigger_carries_its_cause_whatever_its_words(
    cause: ResolutionCause, words: str
) -> None:
    assert Trigger(words, cause).cause is cause


def test_a_trigger_without_a_cause_leaves_it_to_the_evidence() -> None:
    assert Trigger("case CIN-4 closed", None).cause is None
    daily = Trigger.daily_check(ON)
    assert daily.cause is None and daily.daily
    assert resolution_cause(given=daily.cause, breach=breach(details=MONTH_0_3),
                            now=finding(MONTH_3_6), snapshot=SNAPSHOT,
                            same_enrolment=True) == Cause.stage_moved_on


START = date(2026, 9, 1)


def _ended_by(db_session: Session, words: str) -> str | None:
    """Open a cap breach (six cases in the first band of five), end one allocation, and
    reconcile with a trigger in these words: the cause stored on the breach."""
    policies = load_policy_set(PROJECT_ROOT / "policies")
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    cases = seed.load(db_session, worker, 6, start=START)
    opened_on, ended_on = date(2026, 9, 10), date(2026, 9, 20)
    assert worker.id is not None
    reconcile_staff(db_session, staff_ids=[worker.id], on=opened_on, policies=policies,
                    trigger=Trigger("Starting facts", Cause.changed))
    allocation = db_session.exec(
        select(Allocation).where(Allocation.case_id == cases[0].id)).one()
    allocation.end_date = ended_on
    db_session.flush()
    reconcile_staff(db_session, staff_ids=[worker.id], on=ended_on, policies=policies,
                    trigger=Trigger(words, Cause.allocation_ended))
    cap = db_session.exec(select(Breach).where(
        Breach.staff_id == worker.id, Breach.rule_id == "caseload-cap")).one()
    assert cap.status == "resolved" and words in (cap.resolution or "")
    return cap.resolution_cause


def test_rewording_the_message_does_not_change_the_stored_cause(db_session: Session) -> None:
    plain = _ended_by(db_session, "Allocation of case CIN-4 ended")
    reworded = _ended_by(db_session, "Cover for case CIN-4 finished")
    misleading = _ended_by(db_session, "Supervision diary: case closed, protected time")
    assert plain == reworded == misleading == "allocation_ended"


def test_words_alone_are_refused(db_session: Session) -> None:
    """No cause is ever read from a message: a trigger in plain words is not accepted."""
    policies = load_policy_set(PROJECT_ROOT / "policies")
    with pytest.raises(TypeError):
        reconcile_staff(db_session, staff_ids=[1], on=ON, policies=policies,
                        trigger="case CIN-4 closed")  # type: ignore[arg-type]
    import app.services.reconcile as reconcile

    assert not hasattr(reconcile, "cause_from_trigger")
    assert not hasattr(Trigger, "of")

