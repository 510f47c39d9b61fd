"""Policy files: the shipped ones pass; a broken copy of each fails at the right line."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli_policies import policies_app
from app.policy.loader import Problem
from app.policy.registry import PolicyFileError, check_policies, load_policy_set
from app.policy.rules import build_registry
from app.policy.separation import Duty

from .conftest import POLICY_DIR

SHIPPED = sorted(p.name for p in POLICY_DIR.glob("*.toml"))


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, target)
    return target


def break_file(directory: Path, name: str, old: str, new: str) -> int:
    """Replace the first `old` by `new` and return the line number where `new` begins."""
    path = directory / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    index = text.index(old)
    path.write_text(text[:index] + new + text[index + len(old):])
    return text[:index].count("\n") + 1 + new[: len(new) - len(new.lstrip("\n"))].count("\n")


def problems_in(directory: Path) -> list[Problem]:
    result = check_policies(directory)
    assert result.policy_set is None
    return result.problems


def test_every_shipped_policy_passes() -> None:
    result = check_policies(POLICY_DIR)
    assert result.problems == []
    policy_set = result.policy_set
    assert policy_set is not None
    assert {
        "stage-caps", "complexity-gates", "cp-coworking", "points-scheme", "working-towards-90",
    } <= set(policy_set.policies)
    for programme in ("asye", "swip"):
        active = policy_set.active[programme]
        assert active[:3] == ("stage-caps", "complexity-gates", "cp-coworking")
        assert "points-scheme" not in active and "working-towards-90" not in active
    assert {"active.toml", "categories.toml", "sign-offs.toml"} <= set(SHIPPED)
    # The hand-written titles and summaries state no number the parameters lack.
    assert [w for w in result.warnings if " says " in w] == []


def test_each_shipped_policy_file_is_named_for_its_id() -> None:
    # The id inside the file is what counts; naming the file after it (with hyphens)
    # lets a reader find `protected-time` in `policies/protected-time.toml`.
    policy_set = load_policy_set(POLICY_DIR)
    names = {policy.id: policy.path.name for policy in policy_set if policy.path is not None}
    assert names == {policy_id: f"{policy_id}.toml" for policy_id in policy_set.policies}
    assert {"protected-time", "supervision"} <= set(names)


def test_version_is_the_content_hash() -> None:
    policy_set = load_policy_set(POLICY_DIR)
    for policy in policy_set:
        assert policy.path is not None
        expected = hashlib.sha256(policy.path.read_bytes()).hexdigest()[:12]
        assert policy.version == expected
        assert all(rule.policy_version == expected for rule in policy.rules)


def test_enforcement_override_and_escalation_are_typed_attributes() -> None:
    policy_set = load_policy_set(POLICY_DIR)
    cap = policy_set.rule("stage-caps", "caseload-cap")
    assert cap.blocks and cap.enforcement.value == "block"
    assert cap.override_by == ("senior_manager",)
    assert (cap.escalation.after_working_days, cap.escalation.severe) == (5, False)
    assert cap.escalation.to == "senior_manager"
    gate = policy_set.rule("complexity-gates", "complexity-gate")
    assert gate.escalation.severe is True
    assert gate.severity.value == "severe"
    assert policy_set.rule("points-scheme", "points-allowance").enforcement.value == "warn"


def test_a_rule_may_override_the_policy_escalation(copy: Path) -> None:
    break_file(copy, "stage-caps.toml", 'title = "Cases by stage of the programme"\n',
               'title = "Cases by stage of the programme"\nenforcement = "warn"\n'
               'override_by = ["team_manager", "senior_manager"]\n'
               "escalation = { severe = true }\n")
    rule = load_policy_set(copy).rule("stage-caps", "caseload-cap")
    assert rule.enforcement.value == "warn"
    assert rule.override_by == ("team_manager", "senior_manager")
    # Keys the rule leaves out are inherited from the policy's [escalation].
    assert (rule.escalation.severe, rule.escalation.after_working_days) == (True, 5)


BROKEN = [
    # (file, old, new, expected words in the reason)
    ("stage-caps.toml", "cap = 10", "cap = -10", "must not be negative"),
    ("stage-caps.toml", "from_month = 3\nto_month = 6", "from_month = 2\nto_month = 6",
     "overlaps"),
    ("stage-caps.toml", "from_month = 6\ncap", "from_month = 7\ncap", "gap between month 6"),
    ("stage-caps.toml", "coworked_weight = 0.5", "co_worked_weight = 0.5",
     "unknown parameter 'co_worked_weight'"),
    ("stage-caps.toml", 'kind = "stage_cap"', 'kind = "stage_caps"',
     "unknown rule kind 'stage_caps'"),
    ("complexity-gates.toml", "min_complexity = 4", "min_complexity = 5", "at most 4"),
    ("complexity-gates.toml", 'categories = ["child_protection_plan"',
     'categories = ["child_protection"', "unknown category 'child_protection'"),
    ("cp-coworking.toml", 'kind = "coworking"', 'kind = "co-working"', "unknown rule kind"),
    ("cp-coworking.toml", 'until_sign_off = "child_protection"',
     'until_signoff = "child_protection"', "unknown parameter 'until_signoff'"),
    ("points-scheme.toml", "court_work = [5, 6, 8, 10]", "court_works = [5, 6, 8, 10]",
     "points for unknown category 'court_works'"),
    ("points-scheme.toml", "max_points = 90", "max_points = -90", "must not be negative"),
    ("working-towards-90.toml", "month = 6", "month = 0", "must come after month 0"),
    ("working-towards-90.toml", "looked_after = [3, 4, 6, 8]", "looked_after = [3, 4, 6]",
     "needs 4 values"),
    ("active.toml", 'asye = ["stage-caps"', 'asye = ["stage-cap"', "unknown policy 'stage-cap'"),
    ("cp-coworking.toml", 'until_sign_off = "child_protection"',
     'until_sign_off = "child_protectoin"', "unknown sign-off kind 'child_protectoin'"),
    ("complexity-gates.toml", 'lifted_by = "child_protection"', 'lifted_by = "cp"',
     "unknown sign-off kind 'cp' (known: child_protection; add it to policies/sign-offs.toml)"),
    ("sign-offs.toml", "[sign_offs]", '[sign_offs]\n"Court Work" = "x"',
     "must be lower_snake_case"),
    ("stage-caps.toml", 'pro_rata_rounding = "down"', 'pro_rata_rounding = "up"',
     "pro_rata_rounding must be 'down', 'nearest' or 'none'"),
    ("working-towards-90.toml", 'benchmark_roles = ["social_worker"]',
     'benchmark_roles = ["social_workers"]', "benchmark_roles[0] must be"),
    ("working-towards-90.toml", "benchmark_min_workers = 3", "benchmark_min_workers = 0",
     "must be at least 1"),
    ("categories.toml", "[categories]", '[categories]\n"Private Fostering" = "x"',
     "must be lower_snake_case"),
    ("separation.toml", '"adjustment_after_override"]', '"adjustment_after_overide"]',
     "second_person[1] must be 'breach_exception_after_override' or "
     "'adjustment_after_override' (got 'adjustment_after_overide')"),
    ("separation.toml", "\nsecond_person = [", "\nsecond_persons = [",
     "unknown key 'second_persons'"),
    # A quoted number is text in TOML: refused at its line, not quietly read as a number.
    ("stage-caps.toml", "cap = 10", 'cap = "10"', "give a number, not text: write 10"),
    ("points-scheme.toml", "max_points = 90", 'max_points = "ninety"',
     "give a number, not text"),
]


@pytest.mark.parametrize(("name", "old", "new", "words"), BROKEN, ids=[
    f"{b[0]}:{b[3]}" for b in BROKEN
])
def test_a_broken_copy_fails_with_the_right_line(
    copy: Path, name: str, old: str, new: str, words: str
) -> None:
    line = break_file(copy, name, old, new)
    if name in ("categories.toml", "sign-offs.toml"):
        line += 1  # the new key is on the line after the header
    problems = problems_in(copy)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.path.endswith(name)
    assert problem.line == line, (problem, line)
    assert words in problem.reason
    assert str(problem) == f"{problem.path}:{line}: {problem.reason}"


def test_the_service_refuses_a_broken_directory(copy: Path) -> None:
    break_file(copy, "stage-caps.toml", "cap = 5", "cap = -5")
    break_file(copy, "cp-coworking.toml", 'kind = "coworking"', 'kind = "nope"')
    with pytest.raises(PolicyFileError) as caught:
        load_policy_set(copy)
    assert len(caught.value.problems) == 2
    assert "stage-caps.toml:" in str(caught.value)
    assert "cp-coworking.toml:" in str(caught.value)


def test_bands_that_stop_short_of_swip_are_refused(copy: Path) -> None:
    line = break_file(copy, "stage-caps.toml", "from_month = 6\ncap = 15",
                      "from_month = 6\nto_month = 12\ncap = 15")
    problems = problems_in(copy)
    assert [p.line for p in problems] == [line + 1]
    assert "active for swip (24 months)" in problems[0].reason
    # The same bands are fine for a 12-month ASYE.
    (copy / "active.toml").write_text('asye = ["stage-caps"]\nswip = []\n')
    assert check_policies(copy).problems == []


def test_invalid_toml_reports_its_line(copy: Path) -> None:
    line = break_file(copy, "cp-coworking.toml", "severity = \"high\"", "severity = high")
    problems = problems_in(copy)
    assert problems[0].line == line and "not valid TOML" in problems[0].reason


def test_duplicate_ids_and_missing_active_file(copy: Path) -> None:
    shutil.copy(copy / "stage-caps.toml", copy / "stage-caps-again.toml")
    (copy / "active.toml").unlink()
    reasons = [p.reason for p in problems_in(copy)]
    assert any("already used by" in r for r in reasons)
    assert any(r.startswith("missing") for r in reasons)


def test_a_duplicate_id_is_reported_at_the_copy_and_names_the_original(copy: Path) -> None:
    # A coordinator copies stage-caps.toml to start a court team's policy and forgets to
    # change its id: the error is in the copy (the file that needs the edit), and the
    # file it clashes with is reported too.
    shutil.copy(copy / "stage-caps.toml", copy / "stage-caps-court-team.toml")
    id_line = break_file(copy, "stage-caps-court-team.toml", 'id = "stage-caps"',
                         'id = "stage-caps"')
    problems = problems_in(copy)
    assert [(Path(p.path).name, p.line) for p in problems] == [
        ("stage-caps-court-team.toml", id_line), ("stage-caps.toml", id_line),
    ]
    copy_problem, original_problem = problems
    assert copy_problem.reason == (
        f"policy id 'stage-caps' is already used by {original_problem.path}:{id_line}: "
        "give this policy an id of its own"
    )
    assert original_problem.reason.startswith(
        f"policy id 'stage-caps' is also used by {copy_problem.path}:{id_line}"
    )


def test_without_a_file_named_for_the_id_the_newer_file_is_the_copy(copy: Path) -> None:
    (copy / "stage-caps.toml").rename(copy / "b-caps.toml")
    shutil.copy(copy / "b-caps.toml", copy / "a-caps.toml")
    older = (copy / "b-caps.toml").stat().st_mtime_ns
    os.utime(copy / "a-caps.toml", ns=(older + 10**9, older + 10**9))
    problems = problems_in(copy)
    assert Path(problems[0].path).name == "a-caps.toml"
    assert "already used by" in problems[0].reason and "b-caps.toml" in problems[0].reason


def test_the_shipped_separation_setting_asks_for_a_second_person_for_both() -> None:
    assert load_policy_set(POLICY_DIR).separation.second_person == frozenset(Duty)


def test_without_a_separation_file_every_decision_needs_a_second_person(copy: Path) -> None:
    # The safe default: an organisation opts out in writing, never by omission.
    (copy / "separation.toml").unlink()
    assert load_policy_set(copy).separation.second_person == frozenset(Duty)


def test_an_empty_separation_list_turns_it_off(copy: Path) -> None:
    (copy / "separation.toml").write_text("second_person = []\n")
    separation = load_policy_set(copy).separation
    assert not any(separation.requires(duty) for duty in Duty)


def test_fixing_the_copy_s_id_makes_a_new_policy(copy: Path) -> None:
    shutil.copy(copy / "stage-caps.toml", copy / "stage-caps-court-team.toml")
    break_file(copy, "stage-caps-court-team.toml", 'id = "stage-caps"',
               'id = "stage-caps-court-team"')
    policy_set = load_policy_set(copy)
    assert {"stage-caps", "stage-caps-court-team"} <= set(policy_set.policies)
    assert policy_set.programmes_for("stage-caps-court-team") == ()


def test_an_organisation_adds_a_category(copy: Path) -> None:
    (copy / "categories.toml").write_text('[categories]\nprivate_fostering = "private fostering"\n')
    break_file(copy, "points-scheme.toml", "other = [2, 3, 4, 5]",
               "other = [2, 3, 4, 5]\nprivate_fostering = [3, 4, 5, 6]")
    policy_set = load_policy_set(copy)
    assert "private_fostering" in policy_set.categories
    assert policy_set.categories.label("private_fostering") == "private fostering"


def test_a_new_category_needs_points_when_there_is_no_fallback(copy: Path) -> None:
    (copy / "categories.toml").write_text('[categories]\nprivate_fostering = "private fostering"\n')
    break_file(copy, "points-scheme.toml", "fallback = [3, 4, 5, 6]", "")
    problems = problems_in(copy)
    assert len(problems) == 1
    assert "no points for private_fostering" in problems[0].reason


def test_a_policy_naming_a_broken_plug_in_is_refused_with_its_error(copy: Path) -> None:
    def explode() -> object:
        raise ImportError("no module named 'acme_rules'")

    kinds = build_registry([("acme_limit", explode, "acme-rules (acme_rules)")])
    break_file(copy, "cp-coworking.toml", 'kind = "coworking"', 'kind = "acme_limit"')
    problems = check_policies(copy, kinds).problems
    assert len(problems) == 1
    assert "acme_limit" in problems[0].reason and "failed to load" in problems[0].reason


def test_cli_check_passes_on_the_shipped_policies() -> None:
    result = CliRunner().invoke(policies_app, ["check", str(POLICY_DIR)])
    assert result.exit_code == 0, result.output
    assert "stage-caps" in result.output and "no problems" in result.output


def test_cli_check_prints_path_line_reason_and_fails(copy: Path) -> None:
    line = break_file(copy, "stage-caps.toml", "cap = 10", "cap = -1")
    result = CliRunner().invoke(policies_app, ["check", str(copy)])
    assert result.exit_code == 1
    assert f"stage-caps.toml:{line}: bands[1].cap must not be negative (got -1)" in result.output


def test_cli_explain_renders_the_promise_from_the_files(copy: Path) -> None:
    result = CliRunner().invoke(
        policies_app, ["explain", "--programme", "asye", "--dir", str(POLICY_DIR), "--width", "500"]
    )
    assert result.exit_code == 0, result.output
    assert "In your first 3 months you will hold no more than 5 cases." in result.output
    assert "SWIP" not in result.output
    # Change the file and the promise changes with it: nothing is written by hand.
    break_file(copy, "stage-caps.toml", "cap = 5", "cap = 4")
    changed = CliRunner().invoke(
        policies_app, ["explain", "-p", "swip", "--dir", str(copy), "--width", "500"]
    )
    assert "In your first 3 months you will hold no more than 4 cases." in changed.output
    assert "24 months" in changed.output


def test_cli_explain_refuses_an_unknown_programme() -> None:
    result = CliRunner().invoke(policies_app, ["explain", "--programme", "nqsw"])
    assert result.exit_code == 2
