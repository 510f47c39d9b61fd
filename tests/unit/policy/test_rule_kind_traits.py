"""Rule kinds say what they need and how they are measured; nobody else names them.

The engine measures the workload and reconciliation judges breaches by looping over
what each kind declares (`kind_traits`), so a plug-in that declares nothing behaves as
a plain caseload rule and one that declares a trait is treated like the built-ins.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app.policy.causes import ResolutionCause
from app.policy.engine import measure_workload, workload_measures
from app.policy.measures import WorkloadMeasures
from app.policy.policies import PolicySet
from app.policy.rules import BUILTIN_KINDS, kind_traits, rule_kind_problems
from app.policy.rules.base import DEFAULT_TRAITS
from app.policy.rules.common import StrictParams
from app.services.reconcile import diary_causes, traits_of

from .conftest import case, cases, snap

ROOT = Path(__file__).resolve().parents[3]


def plug_in(**members: Any) -> SimpleNamespace:
    """A kind with only the required members, plus any given."""

    def evaluate(snapshot: Any, params: Any, context: Any) -> Any:  # pragma: no cover
        raise AssertionError("not evaluated here")

    def describe(params: Any, context: Any) -> str:  # pragma: no cover
        return ""

    return SimpleNamespace(Params=StrictParams, evaluate=evaluate, describe=describe,
                           **members)


def test_the_diary_kinds_say_so() -> None:
    protected = kind_traits(BUILTIN_KINDS["protected_time"])
    supervision = kind_traits(BUILTIN_KINDS["supervision"])
    assert protected.reads_diary and protected.diary_cause is ResolutionCause.diary
    assert supervision.reads_diary and supervision.diary_cause is ResolutionCause.supervision
    assert protected.measured_by_time and supervision.measured_by_time
    assert not protected.reads_caseload and not supervision.reads_caseload
    assert diary_causes(None) == {ResolutionCause.diary, ResolutionCause.supervision}


def test_the_load_kinds_measure_themselves() -> None:
    measuring = {key for key, kind in BUILTIN_KINDS.items() if kind_traits(kind).measure_load}
    assert measuring == {"stage_cap", "points", "workload_share"}
    for key in ("stage_cap", "points", "workload_share", "coworking", "complexity_gate"):
        traits = kind_traits(BUILTIN_KINDS[key])
        assert traits.reads_caseload and not traits.reads_diary, key
        assert not traits.measured_by_time, key


def test_a_plug_in_that_declares_nothing_gets_the_defaults() -> None:
    assert rule_kind_problems(plug_in()) == []
    assert kind_traits(plug_in()) == DEFAULT_TRAITS
    assert kind_traits(None) == DEFAULT_TRAITS
    assert traits_of(None, "acme_unknown_kind") == DEFAULT_TRAITS


def test_a_plug_in_may_declare_traits_and_bad_ones_are_refused() -> None:
    diary = plug_in(reads_diary=True, diary_cause="supervision", measured_by_time=True)
    assert rule_kind_problems(diary) == []
    traits = kind_traits(diary)
    assert traits.reads_diary and traits.diary_cause is ResolutionCause.supervision
    assert traits.measured_by_time
    assert "not a resolution cause" in rule_kind_problems(plug_in(diary_cause="rebooked"))[0]
    assert "measure_load" in rule_kind_problems(plug_in(measure_load=3))[0]


def test_the_engine_and_reconciliation_name_no_kind() -> None:
    """Kind knowledge stays in the rule modules: a new kind touches neither file."""
    for path in ("app/policy/engine.py", "app/services/reconcile.py"):
        text = (ROOT / path).read_text()
        for key in ("stage_cap", "workload_share", "protected_time", '"points"'):
            assert key not in text, (path, key)
        assert "type: ignore[attr-defined]" not in text, path


def test_the_typed_measures_and_the_plain_ones_agree(shipped: PolicySet) -> None:
    s = snap(date(2026, 5, 1), [*cases(4), case(9, "child_protection_plan", 3, "co_worker",
                                                 ap_holder=True)], fte=0.8)
    typed = measure_workload(s, shipped)
    assert isinstance(typed, WorkloadMeasures)
    assert typed.cases.weighted == 4.5
    assert typed.band is not None and typed.band.cap_for_fte == 8
    assert typed.band.policy_id == "stage-caps" and typed.band.active
    assert typed.points is not None and not typed.points.active
    assert typed.share is not None and typed.share.light in {"under", "on_target", "amber", "red"}
    plain = workload_measures(s, shipped)
    assert plain["band"] == typed.band.model_dump()
    assert plain["share"]["share"] == typed.share.share
    assert plain["stage"]["next_review"] == {"month": 6, "date": "2026-07-15"}


@pytest.mark.parametrize("kind", ["stage_cap", "points", "workload_share"])
def test_a_kind_without_a_rule_adds_no_block(kind: str, shipped: PolicySet) -> None:
    """No policy of the kind: its block stays empty (and the weighted count unknown)."""
    others = {pid: p for pid, p in shipped.policies.items()
              if all(r.kind != kind for r in p.rules)}
    active = {prog: tuple(i for i in ids if i in others) for prog, ids in shipped.active.items()}
    without = PolicySet(others, active, categories=shipped.categories,
                        sign_offs=shipped.sign_offs)
    measures = measure_workload(snap(date(2026, 5, 1), cases(3)), without)
    field = {"stage_cap": "band", "points": "points", "workload_share": "share"}[kind]
    assert getattr(measures, field) is None
    if kind == "stage_cap":
        assert measures.cases.weighted is None
