"""Individual adjustments: one NQSW's agreed change to one parameter of one policy.

The parameter is a dotted path: ``<rule>.<parameter>[.<key or index>...]`` where
``<rule>`` is the rule's id (or its kind, when the policy has one rule of that kind)
and list items are numbered from 0. ``caseload-cap.bands.0.cap`` is the cap of the
first band of the rule ``caseload-cap``. When the policy has a single rule the rule
part may be left out: ``bands.0.cap``.

An adjustment may only change a parameter that exists, and the changed parameters
must still be valid (a cap of -1 is refused), so `validate_adjustment` lets the API
refuse a bad one before it is recorded.

An agreed number a rule scales by FTE (a stage cap's band cap) applies as the agreement
says: as written (``as_agreed``, the default: "0.8 FTE, a cap of 10" means 10) or pro
rata like the policy's own figure (``pro_rata``). A rule kind names the parameters it
scales with ``fte_scaled(path)``; ``pro_rata`` is refused for any other parameter, where
it could mean nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from app.policy.categories import Categories, SignOffKinds
from app.policy.loader import validation_reasons
from app.policy.policies import Policy, PolicySet, Rule
from app.policy.snapshot import PRO_RATA, AdjustmentRecord, AppliesAs

ParamPath = tuple[str | int, ...]

# Distinct agreements cached per rule; a few hundred NQSWs have far fewer than this.
_CACHE_LIMIT = 4096


class AdjustmentError(ValueError):
    """The parameter does not name anything in the policy."""


def resolve_parameter(policy: Policy, parameter: str) -> tuple[Rule, ParamPath]:
    """The rule and the path inside its parameters that `parameter` names."""
    parts = parameter.split(".") if parameter else []
    if not parts or any(not part for part in parts):
        raise AdjustmentError(
            f"parameter must be a dotted path such as '{_example(policy)}' (got {parameter!r})"
        )
    rule = next((r for r in policy.rules if r.id == parts[0]), None)
    if rule is None:
        same_kind = [r for r in policy.rules if r.kind == parts[0]]
        if len(same_kind) > 1:
            raise AdjustmentError(
                f"policy {policy.id!r} has several {parts[0]} rules: name one by its id "
                f"({', '.join(r.id for r in same_kind)})"
            )
        rule = same_kind[0] if same_kind else None
    if rule is not None:
        rest = parts[1:]
    elif len(policy.rules) == 1:
        rule, rest = policy.rules[0], parts
    else:
        raise AdjustmentError(
            f"unknown rule {parts[0]!r} in policy {policy.id!r} "
            f"(rules: {', '.join(r.id for r in policy.rules)})"
        )
    if not rest:
        raise AdjustmentError(
            f"name a parameter of rule {rule.id!r}, e.g. '{_example(policy)}'"
        )
    current: Any = rule.params.model_dump(mode="json")
    path: list[str | int] = []
    for part in rest:
        where = ".".join(str(p) for p in (rule.id, *path))
        if isinstance(current, dict):
            if part not in current:
                known = ", ".join(sorted(current))
                raise AdjustmentError(
                    f"unknown parameter {part!r} in {where} (known: {known})"
                )
            current = current[part]
            path.append(part)
        elif isinstance(current, list):
            if not part.isdigit() or int(part) >= len(current):
                raise AdjustmentError(
                    f"{where} has items 0 to {len(current) - 1}; there is no item {part!r}"
                )
            current = current[int(part)]
            path.append(int(part))
        else:
            raise AdjustmentError(f"{where} is a single value; it has no part {part!r}")
    return rule, tuple(path)


def _example(policy: Policy) -> str:
    rule = policy.rules[0]
    first = next(iter(rule.params.model_dump(mode="json")), "param")
    return f"{rule.id}.{first}"


def _set(data: Any, path: ParamPath, value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def apply_changes(
    rule: Rule,
    changes: Sequence[tuple[ParamPath, Any]],
    categories: Categories,
    sign_offs: SignOffKinds | None = None,
) -> BaseModel:
    """The rule's parameters with the changes applied, validated (raises ValidationError)."""
    data = rule.params.model_dump(mode="json")
    for path, value in changes:
        _set(data, path, value)
    context = {"categories": categories, "sign_offs": sign_offs or SignOffKinds()}
    return rule.impl.Params.model_validate(data, context=context)


def validate_adjustment(
    policy_set: PolicySet, policy_id: str, parameter: str, value: Any
) -> list[str]:
    """Why this adjustment cannot be recorded (an empty list when it can)."""
    if policy_id not in policy_set:
        known = ", ".join(sorted(policy_set.policies)) or "none"
        return [f"unknown policy {policy_id!r} (known: {known})"]
    policy = policy_set.policy(policy_id)
    try:
        rule, path = resolve_parameter(policy, parameter)
    except AdjustmentError as exc:
        return [str(exc)]
    try:
        apply_changes(rule, [(path, value)], policy_set.categories, policy_set.sign_offs)
    except ValidationError as exc:
        return [reason for _, reason in validation_reasons(exc, kind=rule.kind)]
    return []


def applies_as_problem(
    policy_set: PolicySet, policy_id: str, parameter: str, applies_as: AppliesAs
) -> str | None:
    """Why the agreement cannot apply this way (None when it can): only a figure the rule
    scales by FTE can be agreed pro rata. Call after `validate_adjustment` found nothing."""
    if applies_as != PRO_RATA:
        return None
    rule, path = resolve_parameter(policy_set.policy(policy_id), parameter)
    if fte_scaled(rule, path):
        return None
    return (
        f"{parameter} is not a figure the {rule.kind} rule scales by FTE, so it can only "
        "apply as agreed"
    )


def fte_scaled(rule: Rule, path: ParamPath) -> bool:
    """Whether the rule's kind scales this parameter by the NQSW's FTE (a band's cap)."""
    scaled = getattr(rule.impl, "fte_scaled", None)
    return bool(scaled(path)) if scaled is not None else False


def is_valid_on(adjustment: AdjustmentRecord, on: date) -> bool:
    """Valid from `valid_from` to `valid_to`, both days included; open-ended without an end."""
    end = adjustment.valid_to
    return adjustment.valid_from <= on and (end is None or on <= end)


def _freeze(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def adjusted_params(
    rule: Rule,
    adjustments: Sequence[AdjustmentRecord],
    categories: Categories,
    sign_offs: SignOffKinds | None = None,
) -> tuple[BaseModel, tuple[AdjustmentRecord, ...], tuple[AdjustmentRecord, ...]]:
    """(parameters, adjustments applied, adjustments ignored) for one rule.

    Adjustments apply in order of `valid_from` (a later agreement wins); one that no
    longer fits the policy (the file changed after it was agreed) is ignored and
    reported rather than breaking the evaluation. Results are cached on the rule.
    """
    key = tuple((a.parameter, _freeze(a.value)) for a in adjustments)
    cached = rule.adjusted_cache.get(key)
    if cached is None:
        policy_parameters: list[tuple[ParamPath, Any]] = []
        mask: list[bool] = []
        params = rule.params
        for adjustment in adjustments:
            try:
                target, path = _target(rule, adjustment.parameter)
                if target is not rule:
                    mask.append(False)
                    continue
                candidate = apply_changes(
                    rule, [*policy_parameters, (path, adjustment.value)], categories, sign_offs
                )
            except (AdjustmentError, ValidationError):
                mask.append(False)
                continue
            policy_parameters.append((path, adjustment.value))
            params = candidate
            mask.append(True)
        cached = (params, tuple(mask))
        if len(rule.adjusted_cache) >= _CACHE_LIMIT:
            rule.adjusted_cache.clear()
        rule.adjusted_cache[key] = cached
    params, used_mask = cached
    applied = tuple(a for a, used in zip(adjustments, used_mask, strict=True) if used)
    ignored = tuple(a for a, used in zip(adjustments, used_mask, strict=True) if not used)
    return params, applied, ignored


def _target(rule: Rule, parameter: str) -> tuple[Rule, ParamPath]:
    """Resolve against the rule's own policy (built from the rules that share its id)."""
    policy = rule.policy
    if policy is None:  # a rule built by hand, outside a policy
        raise AdjustmentError("rule has no policy")
    return resolve_parameter(policy, parameter)


def targets_rule(rule: Rule, parameter: str) -> bool:
    """Whether an adjustment of this policy names a parameter of this rule (cached)."""
    known = rule.target_cache.get(parameter)
    if known is None:
        try:
            target, _ = _target(rule, parameter)
            known = target is rule
        except AdjustmentError:
            known = False
        rule.target_cache[parameter] = known
    return known


@lru_cache(maxsize=_CACHE_LIMIT)
def _path_in(rule: Rule, parameter: str) -> ParamPath | None:
    """The path inside `rule`'s parameters an adjustment names (None: another rule's)."""
    try:
        target, path = _target(rule, parameter)
    except AdjustmentError:
        return None
    return path if target is rule else None


def _same_value(agreed: Any, in_force: Any) -> bool:
    """Whether the figure in force is the agreed one (the agreement may say "10" or 10.0)."""
    if agreed == in_force:
        return True
    try:
        return float(agreed) == float(in_force)
    except (TypeError, ValueError):
        return False


def agreement_behind(
    rule: Rule, adjustments: Sequence[AdjustmentRecord], on: date, path: ParamPath,
    in_force: Any,
) -> AdjustmentRecord | None:
    """The individual agreement that set this parameter of the rule on `on`, or None when
    the figure in force is the policy's.

    The agreements are read as the engine applies them (in force on the date, the latest
    agreed last); the latest one naming the parameter set it if the figure in force is
    its value (one that no longer fits the policy was ignored and set nothing).
    """
    found: AdjustmentRecord | None = None
    for adjustment in sorted(
        (a for a in adjustments if a.policy_id == rule.policy_id and is_valid_on(a, on)),
        key=lambda a: (a.valid_from, a.adjustment_id or 0),
    ):
        if _path_in(rule, adjustment.parameter) == path:
            found = adjustment
    if found is None or not _same_value(found.value, in_force):
        return None
    return found


def parameter_words(policy_set: PolicySet, policy_id: str, parameter: str) -> str:
    """What an adjustment changes, as a person says it: "the case cap after 6 months"
    or "the points allowance for the first 12 months"; other parameters by their words
    ("sole holding until month"). Never a rule id: pages and emails show this."""
    if policy_id not in policy_set:
        return parameter.replace(".", " ").replace("_", " ")
    try:
        rule, path = resolve_parameter(policy_set.policy(policy_id), parameter)
    except AdjustmentError:
        return parameter.replace(".", " ").replace("_", " ")
    # Imported here: the rule kinds import this module's neighbours.
    from app.policy.rules.common import band_span

    params = rule.params.model_dump(mode="json")
    if len(path) == 3 and isinstance(path[1], int) and path[0] in ("bands", "allowance"):
        band = params[str(path[0])][path[1]]
        span = band_span(band["from_month"], band.get("to_month"))
        if path[2] == "cap":
            return f"the case cap {span}"
        if path[2] == "max_points":
            return f"the points allowance {span}"
    words = [str(p).replace("_", " ") for p in path if not isinstance(p, int)]
    numbered = [f"item {p + 1}" for p in path if isinstance(p, int)]
    return " ".join(words + numbered)


def _leaves(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[ParamPath, Any]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in _leaves(item, (*path, i))]
    return [(path, value)]


def adjustable_figures(policy_set: PolicySet, programme: str) -> list[tuple[str, str, str, Any]]:
    """The figures a page offers to adjust for an NQSW on this programme: every number an
    active rule scales by FTE (each stage's case cap, each points allowance), as
    (policy id, parameter, words, the policy's own figure). Other parameters are adjusted
    through the API, which takes any dotted path."""
    found: list[tuple[str, str, str, Any]] = []
    for policy in policy_set:
        if not policy_set.is_active(policy.id, programme):
            continue
        for rule in policy.rules:
            for path, value in _leaves(rule.params.model_dump(mode="json")):
                if fte_scaled(rule, path):
                    parameter = ".".join(str(p) for p in (rule.id, *path))
                    words = parameter_words(policy_set, policy.id, parameter)
                    found.append((policy.id, parameter, f"{policy.title}: {words}", value))
    return found
