"""The plain-English promise says exactly what the service does, for every enforcement.

What the allocation service does (app/services/allocation_judge.py, allocation_write.py):
a `block` finding refuses the allocation unless someone in `override_by` overrides it
with a reason (the breach is
then recorded as overridden and does not climb, unless the rule is severe); a `warn`
finding lets the allocation through (201) with or without a reason, and opens a breach.
Rules that never read the caseload (protected time, supervision) never refuse one.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli_policies import policies_app
from app.policy.adjustments import validate_adjustment
from app.policy.engine import evaluate
from app.policy.findings import Outcome, Severity
from app.policy.policies import Escalation, PolicySet
from app.policy.registry import check_policies, load_policy_set
from app.policy.snapshot import SignOffRecord
from app.policy.statement import (
    describe_inactive,
    enforcement_sentence,
    policy_statement,
    rule_statement,
)

from .conftest import MONTH_3, MONTH_6, POLICY_DIR, activate, case, only, snap

FLEXIBLE = (
    "This is a flexible rule: an allocation that breaks it is not refused (any reason the "
    "manager gives is recorded with it), but it is reported as a breach."
)
FIRM = (
    "This is a firm rule: an allocation that would break it is refused unless a senior "
    "manager agrees to it, with a recorded reason."
)


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, target)
    return target


def edit(directory: Path, name: str, old: str, new: str) -> None:
    path = directory / name
    text = path.read_text()
    assert old in text, (old, name)
    path.write_text(text.replace(old, new, 1))


def every_statement(policy_set: PolicySet) -> str:
    return " ".join(policy_statement(p, policy_set) for p in policy_set)


def test_no_statement_promises_a_reason_the_service_does_not_require(
    loaded: PolicySet,
) -> None:
    text = every_statement(loaded)
    assert "needs a manager's recorded reason" not in text
    assert "may agree more, with a recorded reason" not in text
    assert "agreed by a manager with a recorded reason" not in text


def test_a_flexible_rule_says_it_is_not_refused_but_reported(loaded: PolicySet) -> None:
    points = loaded.rule("points-scheme", "points-allowance")
    assert points.enforcement is Outcome.warn
    assert enforcement_sentence(points).startswith(FLEXIBLE)


def test_a_firm_rule_says_who_may_agree_to_it(loaded: PolicySet) -> None:
    cp = loaded.rule("cp-coworking", "cp-coworking")
    assert enforcement_sentence(cp) == (
        f"{FIRM} Your team manager is told of any breach at once, and a senior manager if it "
        "is not put right within 3 working days (unless a senior manager agreed to it)."
    )
    both = replace(cp, override_by=("team_manager", "senior_manager"))
    assert "unless your team manager or a senior manager agrees to it" in (
        enforcement_sentence(both)
    )
    nobody = replace(cp, override_by=())
    assert "is refused, and no one may override it." in enforcement_sentence(nobody)


def test_a_cap_with_firm_and_flexible_bands_explains_both(loaded: PolicySet) -> None:
    caps = loaded.policy("stage-caps")
    text = policy_statement(caps, loaded)
    assert "After 6 months you will hold no more than 15 cases (a flexible limit)." in text
    assert "In your first 3 months you will hold no more than 5 cases." in text
    assert (
        "These are firm limits, except where marked flexible: an allocation that would break "
        "a firm limit is refused unless a senior manager agrees to it, with a recorded "
        "reason; one that breaks a flexible limit is not refused (any reason the manager "
        "gives is recorded with it), but it is reported as a breach."
    ) in text


def test_the_warn_band_finding_and_the_statement_agree(loaded: PolicySet) -> None:
    """The finding of a flexible band is a warning, which the service lets through."""
    caps = activate(loaded, "stage-caps")
    finding = only(evaluate(snap(MONTH_6, [case(i) for i in range(16)]), caps),
                   "caseload-cap")
    assert finding.outcome is Outcome.warn
    assert "not refused, but it is reported as a breach" in finding.reason


def test_a_whole_warn_cap_is_a_flexible_rule(copy: Path) -> None:
    edit(copy, "stage-caps.toml", 'enforcement = "block"            #',
         'enforcement = "warn"             #')
    for band in ("cap = 5\nenforcement = \"block\"", "cap = 10\nenforcement = \"block\""):
        edit(copy, "stage-caps.toml", band, band.split("\n")[0])
    policy_set = load_policy_set(copy)
    text = policy_statement(policy_set.policy("stage-caps"), policy_set)
    assert FLEXIBLE in text
    assert "(a flexible limit)" not in text  # every band is: nothing to mark


def test_rules_no_allocation_can_break_speak_of_breaches_not_allocations(
    loaded: PolicySet,
) -> None:
    for policy_id in ("protected-time", "supervision"):
        text = policy_statement(loaded.policy(policy_id), loaded)
        assert "If a promise here is not kept, it is recorded as a breach." in text
        assert "allocation" not in text
        assert "recorded reason" not in text
    # The two supervision rules are enforced alike: one sentence after both.
    supervision = policy_statement(loaded.policy("supervision"), loaded)
    assert supervision.count("recorded as a breach") == 1
    for rule in loaded.policy("supervision").rules:
        assert "recorded as a breach" in rule_statement(rule, loaded)


def test_severe_rules_tell_both_managers_at_once(loaded: PolicySet) -> None:
    gate = loaded.rule("complexity-gates", "complexity-gate")
    assert enforcement_sentence(gate).endswith(
        "Your team manager and a senior manager are told of any breach at once."
    )
    cp = loaded.rule("cp-coworking", "cp-coworking")
    # Severity "severe" alone is enough, as on the escalation ladder.
    assert "told of any breach at once." in enforcement_sentence(
        replace(cp, severity=Severity.severe)
    )
    assert "at once, and again if it is not put right within 3 working days" in (
        enforcement_sentence(replace(cp, escalation=Escalation(3, False, "team_manager")))
    )
    assert "the ASYE coordinator if it is not put right within 1 working day." in (
        enforcement_sentence(replace(cp, escalation=Escalation(1, False, "asye_coordinator"),
                                     override_by=()))
    )


# --- hand-written words that state numbers ------------------------------------------------


def test_a_summary_that_drifted_from_the_numbers_is_a_warning_at_its_line(copy: Path) -> None:
    edit(copy, "stage-caps.toml", "to the 6-month point", "to the 9-month point")
    result = check_policies(copy)
    assert result.policy_set is not None  # a warning, not a refusal
    drifted = [w for w in result.warnings if " says " in w]
    assert len(drifted) == 1
    assert drifted[0].endswith(
        "stage-caps.toml:8: summary says 9, but no parameter of this policy is 9: the words "
        "NQSWs read no longer match the rules (reword it, or check the parameters)"
    )
    runner = CliRunner()
    plain = runner.invoke(policies_app, ["check", str(copy)])
    assert plain.exit_code == 0 and "1 warning" in plain.output
    strict = runner.invoke(policies_app, ["check", "--strict", str(copy)])
    assert strict.exit_code == 1


def test_percentages_and_titles_are_checked_too(copy: Path) -> None:
    edit(copy, "working-towards-90.toml", 'title = "Working towards 90%',
         'title = "Working towards 85%')
    edit(copy, "working-towards-90.toml", 'title = "Share of an experienced',
         'title = "Share (90%) of an experienced')
    warnings = [w for w in check_policies(copy).warnings if " says " in w]
    assert warnings == []  # 85 is the benchmark and 90% the ramp's 0.9: both are parameters
    edit(copy, "working-towards-90.toml", 'title = "Share (90%)', 'title = "Share (95%)')
    warnings = [w for w in check_policies(copy).warnings if " says " in w]
    assert any("rules[0].title says 95" in w for w in warnings)


# --- sign-off kinds -------------------------------------------------------------------------


def test_an_organisation_adds_a_sign_off_kind(copy: Path) -> None:
    (copy / "sign-offs.toml").write_text('[sign_offs]\ncourt_work = "court work"\n')
    edit(copy, "complexity-gates.toml", 'lifted_by = "child_protection"',
         'lifted_by = "court_work"')
    policy_set = load_policy_set(copy)
    assert "court_work" in policy_set.sign_offs
    text = policy_statement(policy_set.policy("complexity-gates"), policy_set)
    assert "These limits end earlier only once you are signed off for court work, a " in text
    gates = activate(policy_set, "complexity-gates")
    held = case(1, "child_protection_plan", 2)
    unsigned = only(evaluate(snap(MONTH_3, [held]), gates), "complexity-gate")
    assert unsigned.reason.endswith("; not yet signed off for court work.")
    signed = SignOffRecord("court_work", MONTH_3)
    finding = only(evaluate(snap(MONTH_3, [held], sign_offs=[signed]), gates),
                   "complexity-gate")
    assert finding.outcome is Outcome.ok
    assert finding.reason == (
        f"No complexity gate applies: signed off for court work on {MONTH_3.isoformat()}."
    )


def test_the_built_in_sign_off_reads_as_child_protection_work(loaded: PolicySet) -> None:
    text = policy_statement(loaded.policy("cp-coworking"), loaded)
    assert "Until you are signed off for child protection work, you will work on" in text


def test_an_adjustment_naming_an_unknown_sign_off_is_refused(loaded: PolicySet) -> None:
    errors = validate_adjustment(loaded, "cp-coworking", "until_sign_off", "cp")
    assert any("unknown sign-off kind 'cp'" in e for e in errors), errors
    assert validate_adjustment(loaded, "complexity-gates", "lifted_by", "") == []


# --- explain shows what is available but not active -----------------------------------------


def test_explain_without_a_programme_lists_available_policies(loaded: PolicySet) -> None:
    result = CliRunner().invoke(policies_app, ["explain", "--dir", str(POLICY_DIR),
                                               "--width", "500"])
    assert result.exit_code == 0, result.output
    available = result.output.split("Available, not active")[1]
    assert "(policy points-scheme," in available
    assert "(policy working-towards-90," in available
    assert "(policy stage-caps," not in available
    assert [p["id"] for p in describe_inactive(loaded)] == ["points-scheme",
                                                            "working-towards-90"]
    one = CliRunner().invoke(policies_app, ["explain", "-p", "asye", "--dir", str(POLICY_DIR)])
    assert "points-scheme" not in one.output and "Available" not in one.output
