"""Reconciling breaches with what the engine finds now: idempotent, batched, never appended.

For each NQSW and effective date:

* a breach-causing finding with an unresolved breach for the same rule keeps it (the
  latest evidence is refreshed; a change of outcome or measure is a history event);
* an unresolved breach whose finding has gone is resolved, with the reason (what
  changed, and what the rule says now);
* a breach-causing finding without a breach opens one and tells the ladder;
* escalation deadlines that have passed climb, and exceptions that have expired
  reopen the breach (the finding still holds, or it would have been resolved);
* a breach remembers when its problem began (`began_on`: the engine's date for the
  finding, else the evaluation's) apart from when it was detected (`opened_on`); a
  finding seen to have begun earlier moves it earlier, with a line of history;
* an evaluation of a day before a breach was detected (a sweep replaying an earlier
  date) never resolves it: if the same problem is found and had begun by then, the
  breach is reported as kept (its latest evidence is not rewound).

A resolved breach says why twice: in prose (`resolution`: what changed and what the
rule says now) and as a machine-readable `resolution_cause` (`ResolutionCause`) for
counting and filtering. The cause comes from the change that triggered the check (a
`Trigger` carries it as an enum value beside its words, and the words are never read
for one, so rewording a message never changes the data), from comparing the evidence
before and after when that tells more (the stage band moved on, an agreement or a
sign-off now applies), and from the rule's kind for the diary rules
(`RuleKind.reads_diary`, `diary_cause`).

Running it twice on the same facts changes nothing the second time. It runs inside
every change (allocations, case changes, programme events) and in the daily sweep.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.clock import now_utc
from app.db import is_sqlite
from app.models import Breach
from app.models.breach import BreachStatus
from app.policy.causes import ResolutionCause
from app.policy.engine import evaluate, with_beginnings
from app.policy.findings import Finding, Outcome
from app.policy.rules import discover_rule_kinds
from app.policy.rules.base import KindTraits, kind_traits
from app.policy.snapshot import Snapshot
from app.repositories import breach as breach_repository
from app.repositories import enrolment as enrolment_repository
from app.repositories import staff as staff_repository
from app.services import audit, escalation
from app.services.escalation import Recipients
from app.services.snapshots import load_snapshots

if TYPE_CHECKING:
    from app.policy.registry import PolicySet


# The name services and the breaches API have always imported; the same enum.
Cause = ResolutionCause


@dataclass(frozen=True, slots=True)
class Trigger:
    """The change that made reconciliation run: words for people, a cause for the data.

    `text` is what a resolution and the breach history say, and may be reworded freely;
    `cause` is what ``breach.resolution_cause`` stores when this change is what lifted a
    breach (None: the change names no cause of its own and the evidence decides);
    `daily`: the daily check found it, and a resolution says so before what happened.

    Every caller names its cause here, where it knows what it changed: the words are
    never searched for one, so rewording a message cannot change the stored data.
    """

    text: str = ""
    cause: ResolutionCause | None = None
    daily: bool = False

    @classmethod
    def daily_check(cls, on: date) -> Trigger:
        """The daily sweep: time alone moved, so the evidence names the cause."""
        return cls(f"Daily check on {on.isoformat()}", None, daily=True)


def traits_of(policies: PolicySet | None, kind: str) -> KindTraits:
    """What a breach's rule kind declares: the loaded policies' kind, else an installed
    one (a breach may outlive the policy that raised it), else the defaults."""
    kinds = getattr(policies, "kinds", None) or {}
    impl = kinds.get(kind) or discover_rule_kinds().get(kind)
    return kind_traits(impl)


def diary_causes(policies: PolicySet | None) -> frozenset[ResolutionCause]:
    """The causes that only a diary rule's own kind of change explains (see `_plausible`)."""
    kinds = {**discover_rule_kinds().kinds, **(getattr(policies, "kinds", None) or {})}
    return frozenset(
        traits.diary_cause for traits in map(kind_traits, kinds.values()) if traits.reads_diary
    )


@dataclass(frozen=True)
class Override:
    """Findings a person went past when allocating, with their reason.

    `approved`: the person holds a role the policy lets override (a block always needs
    one), and the breach is recorded as *overridden*. A warning passed with a reason by
    anyone else keeps its breach open, with the reason and who gave it on record.
    """

    keys: frozenset[tuple[str, str]]
    approver_id: int | None
    reason: str
    allocation_id: int | None = None
    approved: bool = True


RESULT_GROUPS = ("opened", "kept", "resolved", "escalated", "reopened", "overridden",
                 "began_earlier")


@dataclass
class ReconcileResult:
    opened: list[Breach] = field(default_factory=list)
    kept: list[Breach] = field(default_factory=list)
    resolved: list[Breach] = field(default_factory=list)
    escalated: list[Breach] = field(default_factory=list)
    reopened: list[Breach] = field(default_factory=list)
    overridden: list[Breach] = field(default_factory=list)
    # Breaches whose problem was seen to have begun earlier than they said (moved back).
    began_earlier: list[Breach] = field(default_factory=list)
    # The rules an override (or a reason given with a warning) was recorded on.
    overrides_used: set[tuple[str, str]] = field(default_factory=set)

    def merge(self, other: ReconcileResult) -> None:
        for name in RESULT_GROUPS:
            getattr(self, name).extend(getattr(other, name))
        self.overrides_used |= other.overrides_used

    def touched(self) -> list[Breach]:
        seen: dict[int, Breach] = {}
        for group in (self.opened, self.overridden, self.reopened, self.escalated, self.kept):
            for breach in group:
                if breach.id is not None:
                    seen.setdefault(breach.id, breach)
        return list(seen.values())

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in RESULT_GROUPS}

    def found(self) -> list[Breach]:
        """The unresolved breaches this evaluation found (kept or opened), once each."""
        seen: dict[int, Breach] = {}
        for breach in (*self.kept, *self.opened):
            if breach.id is not None and breach.status != BreachStatus.resolved:
                seen.setdefault(breach.id, breach)
        return list(seen.values())


# --- locking -----------------------------------------------------------------------------


def lock_staff(session: Session, staff_ids: Iterable[int]) -> None:
    """Serialise changes to these NQSWs' loads until the transaction ends.

    PostgreSQL: a row lock on every enrolment of these people (their staff rows when
    they have none), taken in id order so that two lockers never deadlock. SQLite: the
    write transaction already holds the database's write lock (BEGIN IMMEDIATE).
    Callers take the lock BEFORE loading snapshots, so what they read is what they write.
    """
    ids = sorted(set(staff_ids))
    if not ids:
        return
    bind = session.get_bind()
    if is_sqlite(bind.engine if hasattr(bind, "engine") else bind):  # type: ignore[arg-type]
        return
    without = sorted(set(ids) - enrolment_repository.lock_enrolments_of(session, ids))
    if without:
        staff_repository.lock_people(session, without)


# --- reading -----------------------------------------------------------------------------


def unresolved_breaches(session: Session, staff_ids: Sequence[int]) -> dict[int, list[Breach]]:
    """Every unresolved breach of these NQSWs, in one query, by person."""
    found: dict[int, list[Breach]] = defaultdict(list)
    for breach in breach_repository.unresolved_of(session, staff_ids):
        found[breach.staff_id].append(breach)
    return found


def rule_of(policies: PolicySet | None, finding: Finding) -> Any | None:
    """The rule behind a finding, if these policies still hold it (a breach may outlive
    the policy that raised it)."""
    if policies is None:
        return None
    try:
        return policies.rule(finding.policy_id, finding.rule_id)
    except (KeyError, AttributeError):
        return None


def opens_breach(policies: PolicySet, finding: Finding) -> bool:
    """Blocks always open a breach; warnings do unless the rule says they only inform."""
    if finding.outcome is Outcome.block:
        return True
    if finding.outcome is Outcome.warn:
        rule = rule_of(policies, finding)
        return bool(getattr(rule, "breach_on_warn", True)) if rule is not None else True
    return False


def evidence_of(finding: Finding) -> dict[str, Any]:
    return audit.jsonable(finding.as_dict())


# --- reconciling ------------------------------------------------------------------------


def reconcile_staff(
    session: Session,
    *,
    staff_ids: Iterable[int],
    on: date,
    policies: PolicySet,
    trigger: Trigger,
    actor_id: int | None = None,
    override: Override | None = None,
    snapshots: Mapping[int, Snapshot] | None = None,
    findings: Mapping[int, list[Finding]] | None = None,
) -> ReconcileResult:
    """Bring these NQSWs' breaches in line with the engine's findings on `on`.

    The caller holds the lock on these NQSWs (see `lock_staff`). `snapshots` and
    `findings` may be passed when already computed (the sweep does), else they are
    loaded here in a constant number of queries. `trigger`: the change, carrying its
    `ResolutionCause` (the evidence and the rule may still say more, see
    `resolution_cause`); plain words are refused, since a cause read from words would
    change whenever a message is reworded.
    """
    if not isinstance(trigger, Trigger):
        raise TypeError(f"reconcile_staff needs a Trigger, not {type(trigger).__name__}")
    ids = sorted(set(staff_ids))
    result = ReconcileResult()
    if not ids:
        return result
    change = trigger
    if snapshots is None:
        snapshots = load_snapshots(session, ids, on, policies=policies)
    existing = unresolved_breaches(session, ids)
    involved = [i for i in ids if i in snapshots or existing.get(i)]
    if not involved:
        return result
    recipients = escalation.recipients_for(session, involved)
    for staff_id in involved:
        snapshot = snapshots.get(staff_id)
        if findings is not None and staff_id in findings:
            found = findings[staff_id]
        elif snapshot is not None and policies is not None:
            found = evaluate(snapshot, policies)
        else:
            found = []
        if snapshot is not None and policies is not None:
            found = with_beginnings(snapshot, policies, found)
        _reconcile_one(
            session, staff_id=staff_id, snapshot=snapshot, found=found,
            existing=existing.get(staff_id, []), on=on, policies=policies, trigger=change,
            actor_id=actor_id, override=override, recipients=recipients.get(staff_id),
            result=result,
        )
    unresolved = [b for b in result.kept + result.opened if b.status != BreachStatus.resolved]
    result.escalated.extend(
        escalation.escalate_due(
            session, unresolved, on=on, policies=policies, recipients=recipients
        )
    )
    session.flush()
    return result


def _reconcile_one(
    session: Session,
    *,
    staff_id: int,
    snapshot: Snapshot | None,
    found: list[Finding],
    existing: list[Breach],
    on: date,
    policies: PolicySet,
    trigger: Trigger,
    actor_id: int | None,
    override: Override | None,
    recipients: Recipients | None,
    result: ReconcileResult,
) -> None:
    all_findings = {f.key: f for f in found}
    breaching = {f.key: f for f in found if opens_breach(policies, f)}
    handled: set[tuple[str, str]] = set()
    for breach in existing:
        key = (breach.policy_id, breach.rule_id)
        finding = breaching.get(key)
        same_enrolment = snapshot is not None and breach.enrolment_id == snapshot.enrolment_id
        if breach.opened_on > on:
            # Detected after this evaluation's date (a sweep replaying an earlier day, or a
            # write reconciling a day before a future-dated change). What was found later
            # cannot be resolved from an earlier day; but when the same problem is found
            # here it is the same breach: reported as kept, dated earlier if the problem
            # is now seen to have begun earlier.
            handled.add(key)
            if finding is not None and same_enrolment:
                if _date_earlier(session, breach, began_on(finding, on), on):
                    result.began_earlier.append(breach)
                if breach.began_on <= on:
                    result.kept.append(breach)
            continue
        if finding is None or not same_enrolment:
            now = all_findings.get(key)
            why = resolution_cause(given=trigger.cause, breach=breach, now=now,
                                   snapshot=snapshot, same_enrolment=same_enrolment,
                                   policies=policies)
            reason = _resolution(_explanation(trigger, why), now, snapshot,
                                 same_enrolment, on)
            resolve(session, breach, on=on, reason=reason, actor_id=actor_id,
                    policies=policies, recipients=recipients, cause=why)
            result.resolved.append(breach)
            continue
        handled.add(key)
        if _date_earlier(session, breach, began_on(finding, on), on):
            result.began_earlier.append(breach)
        _refresh(session, breach, finding, on, traits_of(policies, breach.kind))
        if override is not None and key in override.keys:
            _apply_override(session, breach, override, on)
            result.overrides_used.add(key)
            if breach.status == BreachStatus.overridden:
                result.overridden.append(breach)
        elif breach.status == BreachStatus.excepted and _exception_expired(breach, on):
            _reopen(session, breach, on=on, policies=policies, recipients=recipients)
            result.reopened.append(breach)
        result.kept.append(breach)
    if snapshot is None:
        return
    for key, finding in breaching.items():
        if key in handled:
            continue
        applies = override is not None and key in override.keys
        breach = _open(session, snapshot, finding, on=on, policies=policies,
                       override=override if applies else None,
                       recipients=recipients, trigger=trigger.text, actor_id=actor_id)
        if applies:
            result.overrides_used.add(key)
        result.opened.append(breach)
        if breach.status == BreachStatus.overridden:
            result.overridden.append(breach)


def _exception_expired(breach: Breach, on: date) -> bool:
    """An exception holds to the end of its expiry date; the day after, it has lapsed."""
    return breach.exception_expires_on is not None and on > breach.exception_expires_on


# What a resolution says happened, when it was not the change being recorded: a write
# reconciles later dates too, and there the stage may have moved on by itself.
_CAUSE_WORDS = {
    ResolutionCause.stage_moved_on: "the programme moved into its next stage",
    ResolutionCause.paused: "the programme is paused",
    ResolutionCause.sign_off: "a sign-off is now in force",
    ResolutionCause.adjustment: "an individual agreement now applies",
}


def _explanation(trigger: Trigger, why: str) -> str:
    """The change to name in the resolution: the trigger when it is the cause (or nothing
    more specific is known), else the words for what did happen."""
    if (trigger.cause is not None and why == trigger.cause) or why not in _CAUSE_WORDS:
        return trigger.text
    words = _CAUSE_WORDS[ResolutionCause(why)]
    if trigger.daily:  # the sweep found it: say so, then what happened
        return f"{trigger.text.strip().rstrip('.;:')}: {words}"
    return words[0].upper() + words[1:]


def _resolution(
    trigger: str, now: Finding | None, snapshot: Snapshot | None, same_enrolment: bool, on: date
) -> str:
    if snapshot is None:
        what = f"no longer on a programme on {on.isoformat()}"
    elif not same_enrolment:
        what = "the enrolment it was raised on has ended"
    elif now is None:
        what = "the rule no longer applies to this NQSW (policy changed)"
    elif now.outcome is Outcome.ok:
        what = f"now within the rule: {now.reason}"
    else:
        what = f"now only informative: {now.reason}"
    if trigger.strip():
        return f"{trigger.strip().rstrip('.')}; {what}"
    return what[0].upper() + what[1:]


def resolution_cause(
    *,
    given: str | None,
    breach: Breach,
    now: Finding | None,
    snapshot: Snapshot | None,
    same_enrolment: bool,
    policies: PolicySet | None = None,
) -> ResolutionCause:
    """Why the breach resolved, machine-readable.

    What the evidence proves comes first (the programme ended, the rule went, a sign-off
    or an individual agreement now applies), then the change that triggered the check,
    then what time alone does (the stage band moved on), then the rule's kind (a diary
    rule lifts by a change to the diary, `RuleKind.diary_cause`).
    """
    if snapshot is None or not same_enrolment:
        return ResolutionCause.programme_ended
    if now is None:
        return ResolutionCause.policy_changed
    before = breach.latest_evidence or breach.evidence or {}
    before_details = before.get("details") or {} if isinstance(before, dict) else {}
    details = now.details or {}
    if details.get("signed_off_on") and not before_details.get("signed_off_on"):
        return ResolutionCause.sign_off
    if set(now.adjusted_by) - set(before.get("adjusted_by") or []):
        return ResolutionCause.adjustment
    traits = traits_of(policies, breach.kind)
    if given and _plausible(ResolutionCause(given), traits, policies):
        return ResolutionCause(given)
    if snapshot.status == "paused":
        return ResolutionCause.paused
    if ("band" in details or "band" in before_details) and details.get(
            "band") != before_details.get("band"):
        return ResolutionCause.stage_moved_on
    months, months_before = details.get("programme_months"), before_details.get(
        "programme_months")
    if months is not None and months_before is not None and months != months_before:
        return ResolutionCause.stage_moved_on
    if traits.reads_diary:
        return traits.diary_cause
    if now.policy_version and now.policy_version != breach.policy_version:
        return ResolutionCause.policy_changed
    return ResolutionCause.changed


def _plausible(
    cause: ResolutionCause, traits: KindTraits, policies: PolicySet | None
) -> bool:
    """A change to a diary explains only the rules that read that diary."""
    if cause not in diary_causes(policies):
        return True
    return traits.reads_diary and traits.diary_cause == cause


def began_on(finding: Finding, on: date) -> date:
    """When a breach's problem began: the finding's own date when the engine could tell,
    else the evaluation's date; never after it."""
    began = finding.began_on
    return on if began is None or began > on else began


def _date_earlier(session: Session, breach: Breach, began: date, on: date) -> bool:
    """The finding shows the problem began before the breach says: move its beginning
    earlier, with a line of history (True when moved). A later date never moves it on
    (the breach has been running since the earlier one)."""
    if began >= breach.began_on:
        return False
    before = breach.began_on
    breach.began_on = began
    breach.updated_at = now_utc()
    escalation.add_event(
        session, breach, action="began_earlier", on=on, from_status=breach.status,
        note=(f"Seen on {on.isoformat()}: the problem began on {began.isoformat()}, "
              f"not {before.isoformat()}."),
        data={"began_on": began.isoformat(), "before": before.isoformat()},
    )
    audit.record(session, action="breach.began_earlier", entity="breach",
                 entity_id=breach.id, nqsw_id=breach.staff_id, effective_on=on,
                 before={"began_on": before}, after={"began_on": began})
    return True


def _refresh(
    session: Session, breach: Breach, finding: Finding, on: date, traits: KindTraits
) -> None:
    """The finding persists: keep the breach, refresh its latest evidence.

    A kind whose measure grows by itself day by day (`measured_by_time`: days since
    supervision, hours behind) has a new figure refreshed on the breach, but that is not
    a change worth a line in its history; a change of level, severity or limit still is.
    An evaluation of an earlier day than the breach was last seen on (a write reconciles
    several dates of its period) changes nothing: the latest evidence stays the latest,
    and the history does not record the same figures again.
    """
    if on < breach.last_seen_on:
        return
    latest = breach.latest_evidence or {}
    changed = (
        breach.level != finding.outcome.value
        or breach.severity != finding.severity.value
        or latest.get("limit") != finding.limit
        or (latest.get("measured") != finding.measured and not traits.measured_by_time)
    )
    breach.latest_evidence = evidence_of(finding)
    breach.last_seen_on = on
    if changed:
        before = {"level": breach.level, "severity": breach.severity}
        breach.level = finding.outcome.value
        breach.severity = finding.severity.value
        breach.reason = finding.reason[:4000]
        breach.policy_version = finding.policy_version or breach.policy_version
        breach.updated_at = now_utc()
        escalation.add_event(
            session, breach, action="updated", on=on, from_status=breach.status,
            note=finding.reason[:4000],
            data={"before": before, "measured": finding.measured, "limit": finding.limit},
        )


def _open(
    session: Session,
    snapshot: Snapshot,
    finding: Finding,
    *,
    on: date,
    policies: PolicySet,
    override: Override | None,
    recipients: Recipients | None,
    trigger: str,
    actor_id: int | None,
) -> Breach:
    rule_escalation = escalation.rule_escalation(policies, finding.policy_id, finding.rule_id)
    evidence = evidence_of(finding)
    breach = Breach(
        staff_id=snapshot.staff_id,
        enrolment_id=snapshot.enrolment_id,
        policy_id=finding.policy_id,
        rule_id=finding.rule_id,
        kind=finding.kind,
        level=finding.outcome.value,
        severity=finding.severity.value,
        severe=escalation.is_severe(rule_escalation, finding.severity.value),
        status=BreachStatus.open.value,
        policy_version=finding.policy_version,
        reason=finding.reason[:4000],
        opened_on=on,
        began_on=began_on(finding, on),
        last_seen_on=on,
        evidence=evidence,
        latest_evidence=evidence,
    )
    if override is not None:
        if override.approved:
            breach.status = BreachStatus.overridden.value
        breach.override_by_id = override.approver_id
        breach.override_reason = override.reason
        breach.allocation_id = override.allocation_id
    session.add(breach)
    session.flush()
    escalation.add_event(
        session, breach, action="opened", on=on, actor_id=actor_id,
        note=trigger or None, data={"finding": evidence, "began_on": breach.began_on.isoformat()},
    )
    after: dict[str, Any] = {
        "policy_id": breach.policy_id, "rule_id": breach.rule_id, "status": breach.status,
        "level": breach.level, "severity": breach.severity, "opened_on": on,
        "began_on": breach.began_on,
        "policy_version": breach.policy_version, "trigger": trigger,
    }
    if override is not None:
        after.update(override_by_id=override.approver_id, override_reason=override.reason,
                     allocation_id=override.allocation_id)
    audit.record(session, action="breach.open", entity="breach", entity_id=breach.id,
                 actor_id=actor_id, nqsw_id=breach.staff_id, after=after, effective_on=on)
    if override is not None:
        escalation.add_event(
            session, breach, action="overridden" if override.approved else "reason_given",
            on=on, actor_id=override.approver_id, note=override.reason,
            data={"allocation_id": override.allocation_id},
        )
    escalation.start_clock(
        session, breach, on=on, escalation=rule_escalation, recipients=recipients,
        title=escalation.rule_title(policies, breach.policy_id, breach.rule_id))
    return breach


def _apply_override(session: Session, breach: Breach, override: Override, on: date) -> None:
    """An allocation made the breach worse, past it with a reason: record who and why.

    An approved override (a role the policy allows) stops the breach climbing; a reason
    given with a warning by anyone else is kept on the breach, which stays as it was.
    """
    before = breach.status
    if override.approved:
        breach.status = BreachStatus.overridden.value
    breach.override_by_id = override.approver_id
    breach.override_reason = override.reason
    breach.allocation_id = override.allocation_id or breach.allocation_id
    breach.updated_at = now_utc()
    escalation.add_event(
        session, breach, action="overridden" if override.approved else "reason_given",
        on=on, from_status=before, actor_id=override.approver_id, note=override.reason,
        data={"allocation_id": override.allocation_id},
    )
    audit.record(session, action="breach.override" if override.approved else "breach.reason",
                 entity="breach", entity_id=breach.id, actor_id=override.approver_id,
                 nqsw_id=breach.staff_id, effective_on=on,
                 before={"status": before},
                 after={"status": breach.status, "override_reason": override.reason,
                        "allocation_id": override.allocation_id})


def _reopen(
    session: Session, breach: Breach, *, on: date, policies: PolicySet,
    recipients: Recipients | None,
) -> None:
    """An exception lapsed while the finding still holds: the breach is open again."""
    before = breach.status
    breach.status = BreachStatus.open.value
    breach.escalation_level = 0
    breach.escalated_at = None
    breach.escalated_on = None
    breach.updated_at = now_utc()
    escalation.add_event(
        session, breach, action="reopened", on=on, from_status=before,
        note=f"The exception expired on {breach.exception_expires_on} and the finding still "
        "holds.",
    )
    audit.record(session, action="breach.reopen", entity="breach", entity_id=breach.id,
                 nqsw_id=breach.staff_id, effective_on=on,
                 before={"status": before, "exception_expires_on": breach.exception_expires_on},
                 after={"status": breach.status, "reopened_on": on})
    rule_escalation = escalation.rule_escalation(policies, breach.policy_id, breach.rule_id)
    escalation.start_clock(
        session, breach, on=on, escalation=rule_escalation, recipients=recipients,
        kind="breach.reopened",
        title=escalation.rule_title(policies, breach.policy_id, breach.rule_id))


def resolve(
    session: Session,
    breach: Breach,
    *,
    on: date,
    reason: str,
    actor_id: int | None = None,
    policies: PolicySet | None = None,
    recipients: Recipients | None = None,
    cause: str | None = None,
) -> None:
    before = breach.status
    breach.status = BreachStatus.resolved.value
    breach.resolved_at = now_utc()
    breach.resolved_on = max(on, breach.opened_on)
    breach.resolution = reason[:2000]
    breach.resolution_cause = str(cause or ResolutionCause.changed)
    breach.updated_at = breach.resolved_at
    escalation.add_event(session, breach, action="resolved", on=on, from_status=before,
                         actor_id=actor_id, note=breach.resolution,
                         data={"cause": breach.resolution_cause})
    audit.record(session, action="breach.resolve", entity="breach", entity_id=breach.id,
                 actor_id=actor_id, nqsw_id=breach.staff_id, effective_on=breach.resolved_on,
                 before={"status": before}, after={"status": breach.status,
                                                   "resolved_on": breach.resolved_on,
                                                   "resolution": breach.resolution,
                                                   "resolution_cause": breach.resolution_cause})
    rule_escalation = escalation.rule_escalation(policies, breach.policy_id, breach.rule_id)
    escalation.tell_resolved(session, breach, recipients, rule_escalation,
                             title=escalation.rule_title(policies, breach.policy_id,
                                                         breach.rule_id))
