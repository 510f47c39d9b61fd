"""Plug-in rule kinds: loaded through the `ringfence.rules` entry point group.

The end-to-end test really installs the example package from tests/plugins/ with pip
(into a throw-away target directory, so the shared environment is left untouched) and
runs a fresh interpreter that finds it only through its entry point.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.policy.rules import BUILTIN_KINDS, build_registry, rule_kind_problems
from app.policy.rules import stage_cap as stage_cap_kind

from .conftest import POLICY_DIR

ROOT = Path(__file__).resolve().parents[3]
PLUGIN = ROOT / "tests" / "plugins" / "ringfence_example_rule"


class NotAKind:
    """Has evaluate but neither Params nor describe."""

    def evaluate(self) -> None:  # pragma: no cover - never called
        return None


def test_builtins_satisfy_the_protocol() -> None:
    for key, kind in BUILTIN_KINDS.items():
        assert rule_kind_problems(kind) == [], key


def test_a_failing_plug_in_is_reported_on_its_own() -> None:
    def broken() -> object:
        raise RuntimeError("boom")

    registry = build_registry([
        ("acme_broken", broken, "acme (acme:broken)"),
        ("acme_ok", lambda: stage_cap_kind, "acme (acme:ok)"),
        ("acme_shape", NotAKind, "acme (acme:shape)"),
    ])
    assert "acme_ok" in registry
    assert "acme_broken" not in registry and "acme_shape" not in registry
    assert "failed to load" in registry.failures["acme_broken"]
    assert "boom" in registry.failures["acme_broken"]
    assert "has no Params" in registry.failures["acme_shape"]


def test_a_duplicate_key_is_refused() -> None:
    registry = build_registry([
        ("stage_cap", lambda: stage_cap_kind, "evil (evil:cap)"),
        ("acme", lambda: stage_cap_kind, "first (first:acme)"),
        ("acme", lambda: stage_cap_kind, "second (second:acme)"),
    ])
    assert registry.kinds["stage_cap"] is BUILTIN_KINDS["stage_cap"]
    refused = " ".join(registry.failures.values())
    assert "'stage_cap' from evil (evil:cap) refused: the key is already taken by built-in" in (
        refused
    )
    assert "'acme' from second (second:acme) refused" in refused


SCRIPT = textwrap.dedent(
    """
    import json, sys
    from datetime import date
    from app.policy.engine import evaluate
    from app.policy.registry import load_policy_set
    from app.policy.rules import discover_rule_kinds
    from app.policy.snapshot import CaseLoadItem, Snapshot
    from app.policy.statement import describe_policy_set

    kinds = discover_rule_kinds()
    policy_set = load_policy_set(sys.argv[1])
    court = tuple(
        CaseLoadItem(i, f"CW-{i}", "court_work", 2, "holder", date(2026, 1, 20))
        for i in range(3)
    )
    snapshot = Snapshot(1, 1, "asye", date(2026, 1, 15), date(2026, 8, 1), caseload=court)
    findings = [f.as_dict() for f in evaluate(snapshot, policy_set)]
    described = describe_policy_set(policy_set, "asye")
    print(json.dumps({
        "origin": sorted(k for k in kinds.kinds if k == "category_limit"),
        "findings": findings,
        "statements": [d["statement"] for d in described],
    }))
    """
)

POLICY = textwrap.dedent(
    """
    id = "court-work-limit"
    title = "Court work in moderation"
    enforcement = "warn"

    [[rules]]
    id = "court-limit"
    kind = "category_limit"

    [rules.params]
    categories = ["court_work"]
    max_cases = 2
    """
)


@pytest.mark.slow
def test_an_installed_plug_in_works_end_to_end(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(site), str(source)],
        check=True, capture_output=True, text=True,
    )
    assert list(site.glob("ringfence_example_rule-*.dist-info/entry_points.txt"))

    policies = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, policies)
    (policies / "court-work-limit.toml").write_text(POLICY)
    (policies / "active.toml").write_text(
        'asye = ["stage-caps", "court-work-limit"]\nswip = ["stage-caps"]\n'
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}

    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(policies)],
        check=True, capture_output=True, text=True, env=env, cwd=ROOT,
    )
    result = json.loads(run.stdout)
    assert result["origin"] == ["category_limit"]
    limit = next(f for f in result["findings"] if f["rule_id"] == "court-limit")
    assert limit["outcome"] == "warn"
    assert limit["kind"] == "category_limit"
    assert limit["reason"] == "3 court work cases exceed the limit of 2."
    assert len(limit["policy_version"]) == 12
    assert any("no more than 2 court work cases" in s for s in result["statements"])

    # `ringfence policies check` accepts the plug-in's policy and refuses a bad parameter.
    check = [sys.executable, "-m", "app.cli_policies", "check", str(policies)]
    ok = subprocess.run(check, capture_output=True, text=True, env=env, cwd=ROOT)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (policies / "court-work-limit.toml").write_text(POLICY.replace("max_cases = 2",
                                                                   "max_cases = -2"))
    bad = subprocess.run(check, capture_output=True, text=True, env=env, cwd=ROOT)
    assert bad.returncode == 1
    line = POLICY.splitlines().index("max_cases = 2") + 1
    assert f"court-work-limit.toml:{line}: max_cases must not be negative (got -2)" in bad.stdout

    # Without the package installed the same directory is refused: the kind is unknown.
    plain = subprocess.run(check, capture_output=True, text=True, cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert plain.returncode == 1
    assert "unknown rule kind 'category_limit'" in plain.stdout
