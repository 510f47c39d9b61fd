"""What a rule kind is: the Protocol every built-in and plug-in kind satisfies.

A rule kind is any object (usually a module) with:

* ``Params`` — a Pydantic v2 model of its parameters (``extra="forbid"``), validated
  once when the policy file is loaded, with
  ``context={"categories": Categories, "sign_offs": SignOffKinds}``;
* ``evaluate(snapshot, params, context)`` — pure: returns one `Finding` (or a list,
  each with its own rule id) built with ``context.finding(...)``;
* ``describe(params, context)`` — the plain-English promise, rendered from ``params``.

Optionally:

* ``programme_problems(params, months)`` returns ``(loc, reason)`` pairs when the
  parameters do not fit a programme of that many months (bands that stop at month 12
  while SWIP runs 24);
* ``outcomes(params, enforcement)`` returns the breach outcomes the rule can produce
  (``{Outcome.block, Outcome.warn}`` for caps whose bands differ), so that the statement
  says what happens for each; without it, the rule's own enforcement;
* ``reads_caseload = False`` says the findings never change with the caseload (diary
  rules): such a rule never refuses an allocation, and its statement says so;
* ``reads_diary = True`` says the findings are about the NQSW's diary (protected time,
  supervision), so a breach of the rule that lifts with nothing else to explain it
  resolves as ``diary_cause`` (a `ResolutionCause`, ``diary`` unless the kind says
  otherwise), and a diary change is believed as the cause only for such kinds;
* ``measured_by_time = True`` says the finding's measured figure moves with the
  calendar alone (days since supervision, hours behind): the daily check refreshes it
  without writing a line of breach history each day;
* a finding that is not ok may say when its problem began (``context.finding(...,
  began_on=...)``): a rule measured by time knows (the day supervision became overdue);
  for a kind that reads the caseload and does not say, the engine dates it from the
  allocation that took the present load over the line;
* ``measure_load(snapshot, params, context, measures)`` adds what the rule measures of
  the NQSW's load to the typed `WorkloadMeasures` the workload page and API show (the
  stage cap's band, the points, the share), returning the updated copy.

`kind_traits` reads these with their defaults, so that a plug-in which declares none of
them behaves as a caseload rule that moves only when its facts change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from app.policy.categories import BUILTIN_SIGN_OFFS, Categories, SignOffKinds
from app.policy.causes import ResolutionCause
from app.policy.findings import Finding, Outcome, Severity
from app.policy.programme import Clock
from app.policy.snapshot import AdjustmentRecord, CaseLoadItem, Snapshot

if TYPE_CHECKING:
    from app.policy.measures import WorkloadMeasures
    from app.policy.policies import Rule

Loc = tuple[str | int, ...]


@runtime_checkable
class RuleKind(Protocol):
    """The contract of a rule kind (a module or an object with these members)."""

    Params: type[BaseModel]

    def evaluate(
        self, snapshot: Snapshot, params: Any, context: RuleContext
    ) -> Finding | Sequence[Finding]: ...

    def describe(self, params: Any, context: DescribeContext) -> str: ...


class ParamProblems(ValueError):
    """Raised by parameter validators to report one or more problems at precise locations.

    Each location is relative to the field the validator is attached to, so the loader
    can point at the exact line (``bands[2].from_month``) rather than the whole table.
    """

    def __init__(self, problems: Sequence[tuple[Loc, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(reason for _, reason in self.problems))


@dataclass(slots=True)
class RuleContext:
    """Everything a rule may know besides the snapshot: its policy, the clock, the proposal."""

    rule: Rule
    clock: Clock
    signed_off: Mapping[str, date]
    categories: Categories
    proposed: CaseLoadItem | None = None
    adjustments: tuple[AdjustmentRecord, ...] = ()
    sign_offs: SignOffKinds = BUILTIN_SIGN_OFFS

    @property
    def enforcement(self) -> Outcome:
        return self.rule.enforcement

    def is_signed_off(self, kind: str) -> bool:
        return kind in self.signed_off

    def finding(
        self,
        outcome: Outcome,
        reason: str,
        *,
        measured: float | None = None,
        limit: float | None = None,
        details: dict[str, Any] | None = None,
        severity: Severity | None = None,
        rule_id: str | None = None,
        began_on: date | None = None,
    ) -> Finding:
        """A finding stamped with the policy, rule, version and any individual agreement.

        `began_on`: for a finding that is not ok, the day its problem began when the rule
        can tell (the day supervision became overdue); the engine dates caseload findings
        itself, and ignores it on an ok finding."""
        rule = self.rule
        details = details if details is not None else {}
        adjusted_by: tuple[int | None, ...] = ()
        if self.adjustments:
            notes = "; ".join(a.reason for a in self.adjustments if a.reason)
            note = f" (by individual agreement{': ' + notes if notes else ''})"
            reason = f"{reason[:-1]}{note}." if reason.endswith(".") else reason + note
            adjusted_by = tuple(a.adjustment_id for a in self.adjustments)
            details["adjustments"] = [
                {"id": a.adjustment_id, "parameter": a.parameter, "value": a.value}
                for a in self.adjustments
            ]
        if outcome is Outcome.ok:
            severity = Severity.info
        elif severity is None:
            severity = rule.severity
        return Finding(
            policy_id=rule.policy_id,
            rule_id=rule_id or rule.id,
            kind=rule.kind,
            outcome=outcome,
            severity=severity,
            reason=reason,
            measured=measured,
            limit=limit,
            policy_version=rule.policy_version,
            adjusted_by=adjusted_by,
            details=details,
            began_on=began_on if outcome is not Outcome.ok else None,
        )


@dataclass(frozen=True, slots=True)
class DescribeContext:
    """What a statement may mention: the rule's enforcement, the categories, the programme."""

    rule: Rule
    categories: Categories
    programme: str | None = None
    programme_months: int | None = None
    sign_offs: SignOffKinds = BUILTIN_SIGN_OFFS

    @property
    def enforcement(self) -> Outcome:
        return self.rule.enforcement


class KindMeasures(BaseModel):
    """What one rule measures of a load, stamped with the rule it comes from.

    `active`: whether the rule's policy applies to the NQSW's programme; an inactive
    scheme is still measured so that a manager can see where the NQSW would stand.
    """

    model_config = ConfigDict(frozen=True)

    policy_id: str
    rule_id: str
    active: bool


@dataclass(frozen=True, slots=True)
class MeasureContext:
    """What `measure_load` may know besides the snapshot: the rule, its status, the clock."""

    rule: Rule
    clock: Clock
    active: bool

    def stamp(self) -> dict[str, Any]:
        """The fields every `KindMeasures` carries, for ``Measures(**context.stamp(), ...)``."""
        return {"policy_id": self.rule.policy_id, "rule_id": self.rule.id,
                "active": self.active}


class MeasureLoad(Protocol):
    """The optional `measure_load` member of a rule kind."""

    def __call__(
        self, snapshot: Snapshot, params: Any, context: MeasureContext,
        measures: WorkloadMeasures,
    ) -> WorkloadMeasures: ...


@dataclass(frozen=True, slots=True)
class KindTraits:
    """What the rest of the service needs to know about a kind, its defaults filled in.

    The defaults describe a caseload rule: it reads the caseload, not the diary; its
    measure changes only when its facts do; it adds nothing to the workload measures.
    """

    reads_caseload: bool = True
    reads_diary: bool = False
    diary_cause: ResolutionCause = ResolutionCause.diary
    measured_by_time: bool = False
    measure_load: MeasureLoad | None = None


DEFAULT_TRAITS = KindTraits()


def kind_traits(kind: object | None) -> KindTraits:
    """The traits a kind (module or object) declares; an unknown kind gets the defaults.

    Read once per kind and kept: the engine asks for every rule of every day it judges
    (a hundred times in one what-if check), and a kind's traits do not change while the
    process runs.
    """
    if kind is None:
        return DEFAULT_TRAITS
    try:
        return _TRAITS[id(kind)][1]
    except KeyError:
        traits = _read_traits(kind)
        _TRAITS[id(kind)] = (kind, traits)  # the kind is kept so that its id stays its own
        return traits


_TRAITS: dict[int, tuple[object, KindTraits]] = {}


def _read_traits(kind: object) -> KindTraits:
    hook = getattr(kind, "measure_load", None)
    return KindTraits(
        reads_caseload=bool(getattr(kind, "reads_caseload", True)),
        reads_diary=bool(getattr(kind, "reads_diary", False)),
        diary_cause=ResolutionCause(getattr(kind, "diary_cause", ResolutionCause.diary)),
        measured_by_time=bool(getattr(kind, "measured_by_time", False)),
        measure_load=hook if callable(hook) else None,
    )
