"""Reading `policies/`: TOML files in, validated `Policy` objects or a list of problems out.

Every problem names the file, the line and the reason, and all of them are collected
before anything is refused, so that a coordinator fixes a broken directory in one
pass rather than one error per restart.

TOML (read with the standard library's `tomllib`) because it is what Python's own
packaging uses, has comments, dates and no indentation traps, and needs no new
dependency; the line of each key comes from `app.policy.toml_lines`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, Field, ValidationError

from app.policy.categories import Categories, SignOffKinds
from app.policy.findings import Outcome, Severity
from app.policy.overrides import OVERRIDES_FILE, OverrideSettings, OverridesSpec, attach
from app.policy.policies import (
    PROGRAMMES,
    Escalation,
    Policy,
    PolicySet,
    Rule,
    content_version,
)
from app.policy.rules import KindRegistry, ParamProblems, discover_rule_kinds
from app.policy.rules.base import Loc
from app.policy.rules.common import EnforcementName, StrictParams
from app.policy.separation import DEFAULT_SEPARATION, Duty, Separation
from app.policy.toml_lines import key_lines, line_of
from app.policy.vocabulary import PROGRAMME_MONTHS, Programme, Role

ACTIVE_FILE = "active.toml"
CATEGORIES_FILE = "categories.toml"
SIGN_OFFS_FILE = "sign-offs.toml"
SEPARATION_FILE = "separation.toml"
RESERVED_FILES = frozenset({ACTIVE_FILE, CATEGORIES_FILE, SIGN_OFFS_FILE, SEPARATION_FILE,
                            OVERRIDES_FILE})

SLUG = r"^[a-z0-9][a-z0-9_-]*$"
RoleName = Literal[
    "nqsw",
    "advanced_practitioner",
    "social_worker",
    "team_manager",
    "senior_manager",
    "asye_coordinator",
    "admin",
]
assert set(RoleName.__args__) == {r.value for r in Role}  # type: ignore[attr-defined]


# --- problems ------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a policy file, printed as ``path:line: reason``."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class PolicyFileError(Exception):
    """The policy directory cannot be used; `problems` lists every reason."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --- the file format -----------------------------------------------------------------------


class EscalationSpec(StrictParams):
    after_working_days: int = Field(default=5, ge=0, le=60)
    severe: bool = False
    to: RoleName = "senior_manager"


class RuleSpec(StrictParams):
    id: str = Field(pattern=SLUG)
    kind: str = Field(min_length=1)
    title: str | None = None
    enforcement: EnforcementName | None = None
    severity: Severity | None = None
    override_by: tuple[RoleName, ...] | None = None
    escalation: EscalationSpec | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class PolicySpec(StrictParams):
    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1)
    summary: str | None = None
    enforcement: EnforcementName = "block"
    severity: Severity = Severity.high
    override_by: tuple[RoleName, ...] = ("senior_manager",)
    # Who approves an adjustment a team manager proposes (app.policy.adjustment_approval).
    adjustments_approved_by: tuple[RoleName, ...] = Field(
        default=("asye_coordinator",), min_length=1
    )
    escalation: EscalationSpec = EscalationSpec()
    rules: tuple[RuleSpec, ...] = Field(min_length=1)


def _snake_keys(value: dict[str, str], what: str) -> dict[str, str]:
    bad = [((key,), f"{what} key {key!r} must be lower_snake_case")
           for key in value if not re.fullmatch(r"[a-z][a-z0-9_]*", key)]
    if bad:
        raise ParamProblems(bad)
    return value


def _snake_keys_of(what: str) -> AfterValidator:
    """A table whose keys name `what`s: each key must be lower_snake_case."""
    return AfterValidator(lambda value: _snake_keys(value, what))


class CategoriesSpec(StrictParams):
    categories: Annotated[dict[str, str], _snake_keys_of("category")] = Field(
        default_factory=dict
    )


class SignOffsSpec(StrictParams):
    sign_offs: Annotated[dict[str, str], _snake_keys_of("sign-off")] = Field(
        default_factory=dict
    )


class SeparationSpec(StrictParams):
    """`second_person`: the decisions that need a second person (app.policy.separation).

    Left out, it is every decision: an organisation opts out explicitly, in writing.
    """

    second_person: tuple[Duty, ...] = tuple(Duty)


_SpecT = TypeVar("_SpecT", bound=StrictParams)

# --- turning Pydantic errors into sentences ---------------------------------------------


def dotted(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


def _sentence(error: Mapping[str, Any], where: str, kind: str | None) -> str:
    kind_of = error["type"]
    ctx = error.get("ctx") or {}
    name = error["loc"][-1] if error["loc"] else ""
    got = error.get("input")
    if kind_of == "extra_forbidden":
        return (f"unknown parameter {name!r} for rule kind {kind}" if kind
                else f"unknown key {name!r} at {where}")
    if kind_of == "missing":
        return f"{where} is required"
    if kind_of == "greater_than_equal" and ctx.get("ge") == 0:
        return f"{where} must not be negative (got {got})"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind_of in bounds:
        words, key = bounds[kind_of]
        return f"{where} must be {words} {ctx.get(key)} (got {got})"
    if kind_of in ("literal_error", "enum"):
        return f"{where} must be {ctx.get('expected')} (got {got!r})"
    if kind_of == "string_pattern_mismatch":
        return f"{where} must be lower-case letters, digits, '-' or '_' (got {got!r})"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}"


def validation_reasons(
    exc: ValidationError, *, kind: str | None = None
) -> list[tuple[tuple[str | int, ...], str]]:
    """(location, reason) for every error, splitting `ParamProblems` into their parts."""
    reasons: list[tuple[tuple[str | int, ...], str]] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, ParamProblems):
            for sub, reason in cause.problems:
                reasons.append(((*loc, *sub), f"{dotted((*loc, *sub))}: {reason}"))
            continue
        reasons.append((loc, _sentence(error, dotted(loc), kind)))
    return reasons


# --- reading one directory ---------------------------------------------------------------


@dataclass
class _Source:
    path: Path
    display: str
    data: bytes
    document: dict[str, Any]
    lines: dict[tuple[str | int, ...], int]

    def problem(self, loc: Sequence[str | int], reason: str) -> Problem:
        return Problem(self.display, line_of(self.lines, tuple(loc)), reason)


@dataclass
class LoadResult:
    """What checking a directory found: a usable set, or the problems that stop it."""

    policy_set: PolicySet | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_TOML_LINE = re.compile(r"at line (\d+)")


def _read(path: Path, display: str, problems: list[Problem]) -> _Source | None:
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except OSError as exc:
        problems.append(Problem(display, 0, f"cannot read the file: {exc.strerror}"))
        return None
    except UnicodeDecodeError:
        problems.append(Problem(display, 1, "the file is not UTF-8 text"))
        return None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        line = int(found.group(1)) if found else 1
        problems.append(Problem(display, line, f"not valid TOML: {exc}"))
        return None
    return _Source(path, display, data, document, key_lines(text))


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _escalation(base: Escalation, spec: EscalationSpec | None) -> Escalation:
    if spec is None:
        return base
    chosen = spec.model_fields_set
    return Escalation(
        after_working_days=(
            spec.after_working_days if "after_working_days" in chosen
            else base.after_working_days
        ),
        severe=spec.severe if "severe" in chosen else base.severe,
        to=spec.to if "to" in chosen else base.to,
    )


def _read_optional_spec(
    directory: Path, name: str, spec_type: type[_SpecT], problems: list[Problem]
) -> _SpecT | None:
    """The organisation's own optional file `name`, validated against `spec_type`.

    None when the file is absent, unreadable or wrong (each reason is added to
    `problems`): the caller then falls back to its built-in default.
    """
    path = directory / name
    if not path.exists():
        return None
    source = _read(path, _display(path), problems)
    if source is None:
        return None
    try:
        return spec_type.model_validate(source.document)
    except ValidationError as exc:
        problems.extend(source.problem(loc, reason) for loc, reason in validation_reasons(exc))
        return None


def _load_categories(directory: Path, problems: list[Problem]) -> Categories:
    spec = _read_optional_spec(directory, CATEGORIES_FILE, CategoriesSpec, problems)
    return Categories() if spec is None else Categories.with_extra(spec.categories)


def _load_sign_offs(directory: Path, problems: list[Problem]) -> SignOffKinds:
    """The built-in sign-off kinds plus the organisation's own (`sign-offs.toml`)."""
    spec = _read_optional_spec(directory, SIGN_OFFS_FILE, SignOffsSpec, problems)
    return SignOffKinds() if spec is None else SignOffKinds.with_extra(spec.sign_offs)


def _load_separation(directory: Path, problems: list[Problem]) -> Separation:
    """Which decisions need a second person (`separation.toml`; absent: all of them)."""
    spec = _read_optional_spec(directory, SEPARATION_FILE, SeparationSpec, problems)
    return DEFAULT_SEPARATION if spec is None else Separation(frozenset(spec.second_person))


# --- hand-written words that state numbers -----------------------------------------------

_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)")


def _numbers_in(value: Any, found: set[float]) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        found.add(float(value))
    elif isinstance(value, Mapping):
        for item in value.values():
            _numbers_in(item, found)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _numbers_in(item, found)


def _policy_numbers(policy: Policy) -> set[float]:
    """Every number the policy's parameters and escalation hold, and the programme lengths."""
    found: set[float] = {float(m) for m in PROGRAMME_MONTHS.values()}
    found.add(float(policy.escalation.after_working_days))
    for rule in policy.rules:
        _numbers_in(rule.params.model_dump(mode="python"), found)
        found.add(float(rule.escalation.after_working_days))
    return found


def _stated(number: float, known: set[float]) -> bool:
    """A number in the words matches a parameter as is, or as a percentage of a fraction."""
    return any(abs(number - v) < 1e-9 or abs(number - v * 100) < 1e-6 for v in known)


def wording_warnings(policy: Policy, source: _Source) -> list[Problem]:
    """Titles and summaries are written by hand; a number in them that no parameter has
    is a promise that has drifted from what the engine enforces (a summary still saying
    "6-month" after the bands moved to 4). Reported as warnings, at the line."""
    known = _policy_numbers(policy)
    texts: list[tuple[Loc, str, str | None]] = [
        (("title",), "title", policy.title),
        (("summary",), "summary", policy.summary),
    ]
    texts += [
        (("rules", index, "title"), f"rules[{index}].title", rule.title)
        for index, rule in enumerate(policy.rules)
    ]
    warnings: list[Problem] = []
    for loc, where, text in texts:
        for match in _NUMBER.finditer(text or ""):
            value = float(match.group(1))
            if not _stated(value, known):
                warnings.append(source.problem(
                    loc,
                    f"{where} says {match.group(1)}, but no parameter of this policy is "
                    f"{match.group(1)}: the words NQSWs read no longer match the rules "
                    "(reword it, or check the parameters)",
                ))
    return warnings


def _load_policy(
    source: _Source,
    kinds: KindRegistry,
    categories: Categories,
    problems: list[Problem],
    sign_offs: SignOffKinds | None = None,
) -> Policy | None:
    try:
        spec = PolicySpec.model_validate(source.document)
    except ValidationError as exc:
        problems.extend(source.problem(loc, reason) for loc, reason in validation_reasons(exc))
        return None
    version = content_version(source.data)
    base_escalation = _escalation(Escalation(), spec.escalation)
    rules: list[Rule] = []
    seen: set[str] = set()
    broken = False
    for index, rule_spec in enumerate(spec.rules):
        here = ("rules", index)
        if rule_spec.id in seen:
            problems.append(source.problem((*here, "id"), f"duplicate rule id {rule_spec.id!r}"))
            broken = True
        seen.add(rule_spec.id)
        impl = kinds.get(rule_spec.kind)
        if impl is None:
            failure = kinds.failures.get(rule_spec.kind)
            known = ", ".join(sorted(kinds.kinds))
            reason = failure or f"unknown rule kind {rule_spec.kind!r} (known: {known})"
            problems.append(source.problem((*here, "kind"), reason))
            broken = True
            continue
        try:
            params = impl.Params.model_validate(
                rule_spec.params,
                context={"categories": categories, "sign_offs": sign_offs or SignOffKinds()},
            )
        except ValidationError as exc:
            for loc, reason in validation_reasons(exc, kind=rule_spec.kind):
                problems.append(source.problem((*here, "params", *loc), reason))
            broken = True
            continue
        enforcement = rule_spec.enforcement or spec.enforcement
        rules.append(
            Rule(
                policy_id=spec.id,
                id=rule_spec.id,
                kind=rule_spec.kind,
                impl=impl,
                params=params,
                enforcement=Outcome(enforcement),
                severity=rule_spec.severity or spec.severity,
                override_by=rule_spec.override_by or spec.override_by,
                escalation=_escalation(base_escalation, rule_spec.escalation),
                title=rule_spec.title,
                policy_version=version,
                line=line_of(source.lines, here),
            )
        )
    if broken:
        return None
    return _with_approvers(spec, Policy(
        id=spec.id,
        title=spec.title,
        summary=spec.summary,
        version=version,
        rules=tuple(rules),
        path=source.path,
        enforcement=Outcome(spec.enforcement),
        severity=spec.severity,
        override_by=spec.override_by,
        escalation=base_escalation,
    ))


def _with_approvers(spec: PolicySpec, policy: Policy) -> Policy:
    """The policy, with who approves a proposed adjustment to it kept beside it."""
    from app.policy.adjustment_approval import attach_approvers

    return attach_approvers(policy, spec.adjustments_approved_by)


def _load_active(
    directory: Path,
    known: Mapping[str, _Source],
    unreadable: set[str],
    problems: list[Problem],
) -> dict[str, tuple[str, ...]]:
    path = directory / ACTIVE_FILE
    display = _display(path)
    if not path.exists():
        problems.append(Problem(display, 0, "missing: it says which policies apply to "
                                "which programme (asye, swip)"))
        return {}
    source = _read(path, display, problems)
    if source is None:
        return {}
    for key in source.document:
        if key not in PROGRAMMES:
            problems.append(source.problem(
                (key,), f"unknown programme {key!r} (use {' or '.join(PROGRAMMES)})"
            ))
    active: dict[str, tuple[str, ...]] = {}
    for programme in PROGRAMMES:
        listed = source.document.get(programme, [])
        if not isinstance(listed, list) or not all(isinstance(i, str) for i in listed):
            problems.append(source.problem(
                (programme,), f"{programme} must be a list of policy ids, like [\"stage-caps\"]"
            ))
            continue
        ids = tuple(listed)
        for index, policy_id in enumerate(ids):
            if policy_id in unreadable and policy_id not in known:
                continue
            if policy_id not in known:
                problems.append(source.problem(
                    (programme, index),
                    f"unknown policy {policy_id!r} for {programme} "
                    f"(known: {', '.join(sorted(known)) or 'none'})",
                ))
            elif policy_id in ids[:index]:
                problems.append(source.problem(
                    (programme, index), f"policy {policy_id!r} is listed twice for {programme}"
                ))
        active[programme] = tuple(dict.fromkeys(ids))
    return active


def _programme_fit(
    policies: Mapping[str, Policy],
    sources: Mapping[str, _Source],
    active: Mapping[str, tuple[str, ...]],
    problems: list[Problem],
) -> None:
    """Parameters that stop short of a programme's length leave its NQSWs unprotected."""
    for programme, ids in active.items():
        months = PROGRAMME_MONTHS[Programme(programme)]
        for policy_id in ids:
            policy = policies.get(policy_id)
            if policy is None:
                continue
            for index, rule in enumerate(policy.rules):
                check = getattr(rule.impl, "programme_problems", None)
                if check is None:
                    continue
                for loc, reason in check(rule.params, months):
                    problems.append(sources[policy_id].problem(
                        ("rules", index, "params", *loc),
                        f"active for {programme} ({months} months): {reason}",
                    ))


def _duplicates(sources: list[_Source]) -> tuple[list[_Source], list[Problem]]:
    """Keep one file per policy id and report the others, at each file's `id` line.

    The file kept is the one named for its id (`stage-caps.toml` for "stage-caps"), else
    the one changed least recently: a copy made to start a new policy is the newer file
    and the one whose id still needs changing, so the error is reported there, and the
    file it clashes with is reported too, so that both are found.
    """
    by_id: dict[str, list[_Source]] = {}
    kept: list[_Source] = []
    for source in sources:
        policy_id = source.document.get("id")
        if isinstance(policy_id, str):
            by_id.setdefault(policy_id, []).append(source)
        else:
            kept.append(source)
    problems: list[Problem] = []
    for policy_id, group in by_id.items():
        if len(group) == 1:
            kept.append(group[0])
            continue
        group.sort(key=lambda s: (s.path.stem != policy_id, s.path.stat().st_mtime_ns,
                                  s.display))
        original, copies = group[0], group[1:]
        kept.append(original)
        where = f"{original.display}:{line_of(original.lines, ('id',))}"
        for copy in copies:
            problems.append(copy.problem(
                ("id",), f"policy id {policy_id!r} is already used by {where}: give this "
                "policy an id of its own",
            ))
            problems.append(original.problem(
                ("id",), f"policy id {policy_id!r} is also used by {copy.display}:"
                f"{line_of(copy.lines, ('id',))} (that copy is not loaded)",
            ))
    kept.sort(key=lambda s: s.path.name)
    return kept, problems


def check_directory(directory: Path, kinds: KindRegistry | None = None) -> LoadResult:
    """Read and validate every file in `directory`; never raises for a bad policy."""
    kinds = kinds or discover_rule_kinds()
    problems: list[Problem] = []
    warnings: list[str] = []
    directory = Path(directory)
    if not directory.is_dir():
        return LoadResult(None, [Problem(_display(directory), 0, "no such policy directory")])
    categories = _load_categories(directory, problems)
    sign_offs = _load_sign_offs(directory, problems)
    separation = _load_separation(directory, problems)
    # How long an override's reason must be, how long a request for one waits.
    overrides = OverrideSettings.of(
        _read_optional_spec(directory, OVERRIDES_FILE, OverridesSpec, problems))
    read: list[_Source] = []
    unreadable: set[str] = set()
    for path in sorted(directory.glob("*.toml")):
        if path.name in RESERVED_FILES:
            continue
        source = _read(path, _display(path), problems)
        if source is None:
            unreadable.add(path.stem)  # its own problem is reported; do not cascade
            continue
        read.append(source)
    kept, clashes = _duplicates(read)
    problems.extend(clashes)
    sources: dict[str, _Source] = {}
    policies: dict[str, Policy] = {}
    wording: list[Problem] = []
    for source in kept:
        policy_id = source.document.get("id")
        if isinstance(policy_id, str):
            sources[policy_id] = source
        policy = _load_policy(source, kinds, categories, problems, sign_offs)
        if policy is not None:
            policies[policy.id] = policy
            wording.extend(wording_warnings(policy, source))
    active = _load_active(directory, sources, unreadable, problems)
    _programme_fit(policies, sources, active, problems)
    warnings.extend(str(w) for w in sorted(wording))
    used = {rule.kind for policy in policies.values() for rule in policy.rules}
    warnings.extend(
        message for key, message in kinds.failures.items() if key not in used
    )
    if problems:
        return LoadResult(None, sorted(problems), warnings)
    policy_set = PolicySet(
        policies,
        active,
        categories=categories,
        sign_offs=sign_offs,
        separation=separation,
        kinds=kinds.kinds,
        directory=directory,
        warnings=tuple(warnings),
    )
    attach(policy_set, overrides)
    return LoadResult(policy_set, [], warnings)
