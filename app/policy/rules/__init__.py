"""Rule kinds: the built-ins, listed explicitly, and plug-ins from the `ringfence.rules` group.

Adding a built-in kind is one new module in this package and one line in
`BUILTIN_KINDS`. An organisation adds its own without touching the project by
publishing a package with an entry point in the group ``ringfence.rules`` whose name is
the kind's key and whose value is a module (or object) satisfying `RuleKind`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pydantic import BaseModel

from app.policy.causes import ResolutionCause
from app.policy.rules import (
    complexity_gate,
    coworking,
    points,
    protected_time,
    stage_cap,
    supervision,
    workload_share,
)
from app.policy.rules.base import (
    DescribeContext,
    KindTraits,
    MeasureContext,
    ParamProblems,
    RuleContext,
    RuleKind,
    kind_traits,
)

__all__ = [
    "BUILTIN_KINDS",
    "ENTRY_POINT_GROUP",
    "DescribeContext",
    "KindRegistry",
    "KindTraits",
    "MeasureContext",
    "ParamProblems",
    "RuleContext",
    "RuleKind",
    "discover_rule_kinds",
    "kind_traits",
    "rule_kind_problems",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ringfence.rules"

BUILTIN_KINDS: dict[str, RuleKind] = {
    "stage_cap": stage_cap,  # type: ignore[dict-item]
    "points": points,  # type: ignore[dict-item]
    "workload_share": workload_share,  # type: ignore[dict-item]
    "coworking": coworking,  # type: ignore[dict-item]
    "complexity_gate": complexity_gate,  # type: ignore[dict-item]
    "protected_time": protected_time,  # type: ignore[dict-item]
    "supervision": supervision,  # type: ignore[dict-item]
}


def rule_kind_problems(candidate: Any) -> list[str]:
    """Why an object does not satisfy `RuleKind` (empty when it does)."""
    problems = []
    params = getattr(candidate, "Params", None)
    if not (isinstance(params, type) and issubclass(params, BaseModel)):
        problems.append("has no Params (a Pydantic model of its parameters)")
    for member in ("evaluate", "describe"):
        if not callable(getattr(candidate, member, None)):
            problems.append(f"has no {member}() function")
    hook = getattr(candidate, "measure_load", None)
    if hook is not None and not callable(hook):
        problems.append("has a measure_load that is not a function")
    cause = getattr(candidate, "diary_cause", ResolutionCause.diary)
    if cause not in set(ResolutionCause):
        known = ", ".join(c.value for c in ResolutionCause)
        problems.append(f"has diary_cause {cause!r}, not a resolution cause ({known})")
    return problems


@dataclass(frozen=True)
class KindRegistry:
    """The kinds available to policies, and what went wrong loading plug-ins.

    `failures` maps a plug-in's key to why it was refused: a broken plug-in is reported
    on its own and never stops the others (a policy naming it is then refused).
    """

    kinds: Mapping[str, RuleKind]
    failures: Mapping[str, str]

    def __contains__(self, key: object) -> bool:
        return key in self.kinds

    def get(self, key: str) -> RuleKind | None:
        return self.kinds.get(key)


def build_registry(
    plugins: Iterable[tuple[str, Callable[[], Any], str]],
    builtins: Mapping[str, RuleKind] = BUILTIN_KINDS,
) -> KindRegistry:
    """Built-ins plus plug-ins given as (key, loader, origin); duplicates are refused."""
    kinds: dict[str, RuleKind] = dict(builtins)
    origins = dict.fromkeys(builtins, "built-in")
    failures: dict[str, str] = {}
    for key, load, origin in plugins:
        if key in kinds:
            failures[f"{key} ({origin})"] = (
                f"rule kind {key!r} from {origin} refused: the key is already taken by "
                f"{origins[key]}"
            )
            continue
        try:
            candidate = load()
        except Exception as exc:  # a plug-in's own bug must not stop the others
            failures[key] = f"rule kind {key!r} from {origin} failed to load: {exc!r}"
            continue
        problems = rule_kind_problems(candidate)
        if problems:
            failures[key] = f"rule kind {key!r} from {origin} {'; '.join(problems)}"
            continue
        kinds[key] = candidate
        origins[key] = origin
    for message in failures.values():
        log.warning(message)
    return KindRegistry(kinds=kinds, failures=failures)


def _origin(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    name = getattr(dist, "name", None) if dist is not None else None
    return f"{name or 'plug-in'} ({ep.value})"


@lru_cache(maxsize=1)
def discover_rule_kinds() -> KindRegistry:
    """Built-ins and every installed plug-in, loaded once per process."""
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name, ep.value))
    return build_registry((ep.name, ep.load, _origin(ep)) for ep in found)
