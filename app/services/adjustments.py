"""Individual adjustments: "tailored to the individual", recorded, approved and time-limited.

An adjustment changes one parameter of one policy for one NQSW between two dates (both
included), and only an approved one is in force. Two ways to one:

* a senior manager or the ASYE coordinator records it directly, and so approves it;
* a team manager (or senior manager) who knows the NQSW proposes it; it waits, pending
  and not in force, until someone in the role the policy names (by default the ASYE
  coordinator; app.policy.adjustment_approval) approves it, or refuses it with a reason;
  the proposer may withdraw it while it waits. Nobody approves their own proposal.

Either way the engine must agree the parameter exists and the new value is valid.
Someone who overrode a limit of that policy for the NQSW, while that breach is
unresolved, may not approve an adjustment that would settle it when the organisation
asks for a second person (app.policy.separation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from enum import StrEnum
from typing import Any, NamedTuple

from sqlmodel import Session

from app.clock import now_utc
from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.models import Adjustment, Enrolment, Staff
from app.models.base import Role
from app.policy.adjustment_approval import approver_roles
from app.policy.adjustments import applies_as_problem, is_valid_on, parameter_words
from app.policy.engine import measure_workload
from app.policy.measures import WorkloadMeasures
from app.policy.registry import PolicySet, validate_adjustment
from app.policy.separation import DEFAULT_SEPARATION, Duty
from app.policy.snapshot import AS_AGREED, AdjustmentRecord, AppliesAs
from app.repositories import breach as breach_rows
from app.repositories import enrolment as enrolments_repo
from app.repositories import org as org_repo
from app.repositories import staff as staff_repo
from app.repositories.enrolment import OPEN_STATUSES, latest_enrolment
from app.schemas.adjustment import AdjustmentCreate
from app.services import audit, notify, workload_events
from app.services.breaches import OVERRIDE_ACTIONS
from app.services.reconcile import Cause, Trigger
from app.services.snapshots import load_snapshot
from app.wording import a_role

APPROVER_ROLES = (Role.senior_manager.value, Role.asye_coordinator.value)
# Who may propose an adjustment for an NQSW within their reach.
PROPOSER_ROLES = (Role.team_manager.value, Role.senior_manager.value)


class Status(StrEnum):
    """Where an adjustment stands; only `approved` can be in force."""

    pending = "pending"
    approved = "approved"
    refused = "refused"
    withdrawn = "withdrawn"


def roles_words(roles: Sequence[str]) -> str:
    """"the ASYE coordinator", "a senior manager or the ASYE coordinator"."""
    words = ["the ASYE coordinator" if r == Role.asye_coordinator.value else a_role(r)
             for r in roles]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def check_against_policy(
    policies: PolicySet, *, policy_id: str, parameter: str, value: Any,
    applies_as: AppliesAs | None = None,
) -> None:
    """Refuse an adjustment the engine could not apply: unknown policy, parameter or value,
    or a pro rata agreement of a figure the rule does not scale by FTE."""
    if policy_id not in policies:
        known = ", ".join(sorted(policies.policies)) or "none"
        raise DomainError(f"unknown policy {policy_id!r} (known: {known})", field="policy_id")
    problems = validate_adjustment(policies, policy_id, parameter, value)
    if problems:
        raise DomainError("; ".join(problems), field="parameter")
    problem = applies_as_problem(policies, policy_id, parameter, applies_as or AS_AGREED)
    if problem:
        raise DomainError(problem, field="applies_as")


def in_force_on(adjustment: Adjustment, on: date) -> bool:
    """Approved, and both ends included, as the engine reads them."""
    end = adjustment.valid_to
    return (adjustment.status == Status.approved
            and adjustment.valid_from <= on and (end is None or on <= end))


def _nqsw_enrolment(session: Session, staff_id: int) -> Enrolment:
    staff = staff_repo.person(session, staff_id)
    enrolment = latest_enrolment(session, staff_id) if staff is not None else None
    if enrolment is None:
        raise NotFound("NQSW", staff_id, field=["path", "staff_id"])
    return enrolment


def create_adjustment(
    *,
    session: Session,
    staff_id: int,
    data: AdjustmentCreate,
    policies: PolicySet,
    on: date,
    actor_id: int | None = None,
) -> Adjustment:
    """Record the agreement; the NQSW is re-evaluated as of `on` (breaches it answers resolve)."""
    enrolment = _nqsw_enrolment(session, staff_id)
    if enrolment.status not in OPEN_STATUSES:
        raise Conflict(
            f"the enrolment is {enrolment.status}; adjustments apply to an active or paused one",
            field=["path", "staff_id"],
        )
    approver = staff_repo.person(session, actor_id)
    if approver is None:
        raise Forbidden("an adjustment is approved by a senior manager or the ASYE "
                        "coordinator signed in as themselves")
    if approver.role not in APPROVER_ROLES:
        raise Forbidden(
            f"you are {a_role(approver.role)}; an adjustment is approved by a senior manager "
            "or the ASYE coordinator"
        )
    check_against_policy(policies, policy_id=data.policy_id, parameter=data.parameter,
                         value=data.value, applies_as=data.applies_as)
    assert approver.id is not None
    _second_person_check(session, policies, staff_id=staff_id, policy_id=data.policy_id,
                         approver_id=approver.id, others=roles_words(APPROVER_ROLES))
    adjustment = Adjustment(enrolment_id=enrolment.id,  # type: ignore[arg-type]
                            **data.model_dump(), status=Status.approved.value,
                            approved_by_id=approver.id, decided_by_id=approver.id,
                            decided_at=now_utc())
    session.add(adjustment)
    session.flush()
    audit.record(session, action="adjustment.create", entity="adjustment",
                 entity_id=adjustment.id, actor_id=actor_id, nqsw_id=staff_id, after=adjustment)
    workload_events.staff_changed(session, staff_ids=[staff_id], on=on,
                                  actor_id=actor_id, policies=policies,
                                  trigger=Trigger("individual adjustment approved",
                                                  Cause.adjustment))
    return adjustment


def _second_person_check(
    session: Session, policies: PolicySet, *, staff_id: int, policy_id: str, approver_id: int,
    others: str,
) -> None:
    """Refuse an approval that would settle the approver's own unresolved override of
    this policy for the NQSW, when the organisation asks for a second person."""
    separation = getattr(policies, "separation", DEFAULT_SEPARATION)
    if separation.requires(Duty.adjustment_after_override) and _overrode_policy(
        session, staff_id=staff_id, policy_id=policy_id, person_id=approver_id
    ):
        raise Forbidden(
            f"you overrode this NQSW's {policy_id} limit and that breach is still "
            f"unresolved, so someone else ({others}) must approve an adjustment to it"
        )


def _overrode_policy(session: Session, *, staff_id: int, policy_id: str, person_id: int) -> bool:
    """Whether this person overrode a rule of the policy for the NQSW and that breach is
    still unresolved (an adjustment to the policy would settle their own override)."""
    return breach_rows.overrode_unresolved(
        session, staff_id=staff_id, policy_id=policy_id, person_id=person_id,
        override_actions=OVERRIDE_ACTIONS,
    )


def list_adjustments(
    *, session: Session, staff_id: int, on: date, in_force: bool | None = None,
    statuses: Sequence[str] | None = None,
) -> list[Adjustment]:
    """Every adjustment of every enrolment of this NQSW, newest agreement first."""
    _nqsw_enrolment(session, staff_id)
    return enrolments_repo.adjustments_of(session, staff_id, on=on, in_force=in_force,
                                          statuses=statuses)


def get_adjustment(*, session: Session, staff_id: int, adjustment_id: int) -> Adjustment:
    adjustment = enrolments_repo.adjustment_of(session, staff_id, adjustment_id)
    if adjustment is None:
        raise NotFound("adjustment", adjustment_id, field=["path", "adjustment_id"])
    return adjustment


def end_adjustment(
    *, session: Session, staff_id: int, adjustment_id: int, last_day: date, on: date,
    policies: PolicySet, actor_id: int | None = None,
) -> Adjustment:
    """End an adjustment after `last_day` (its last day in force); the record stays.

    The NQSW is re-evaluated as of `on`; a later end takes effect through the sweep.
    """
    adjustment = get_adjustment(session=session, staff_id=staff_id, adjustment_id=adjustment_id)
    if adjustment.status != Status.approved:
        raise Conflict(
            f"the adjustment is {adjustment.status}, never in force: only an approved one "
            "is ended (a proposal is withdrawn by whoever proposed it)",
            field=["path", "adjustment_id"],
        )
    if last_day < adjustment.valid_from:
        raise DomainError(
            f"end date {last_day} is before the adjustment started on {adjustment.valid_from}",
            field="on",
        )
    if adjustment.valid_to is not None and adjustment.valid_to <= last_day:
        raise Conflict(f"adjustment already ends on {adjustment.valid_to}", field="on")
    before = {"valid_to": adjustment.valid_to}
    adjustment.valid_to = last_day
    session.flush()
    audit.record(session, action="adjustment.end", entity="adjustment", entity_id=adjustment.id,
                 actor_id=actor_id, nqsw_id=staff_id, before=before,
                 after={"valid_to": last_day})
    workload_events.staff_changed(session, staff_ids=[staff_id], on=on, actor_id=actor_id,
                                  policies=policies,
                                  trigger=Trigger("individual adjustment ended",
                                                  Cause.adjustment))
    return adjustment



# ---- proposals: a team manager proposes, the role the policy names decides -------------


def _open_enrolment(session: Session, staff_id: int, *, verb: str) -> Enrolment:
    enrolment = _nqsw_enrolment(session, staff_id)
    if enrolment.status not in OPEN_STATUSES:
        raise Conflict(
            f"the enrolment is {enrolment.status}; adjustments are {verb} for an active or "
            "paused one",
            field=["path", "staff_id"],
        )
    return enrolment


def _person(session: Session, actor_id: int | None, needed: str) -> Staff:
    person = staff_repo.person(session, actor_id)
    if person is None or person.id is None:
        raise Forbidden(f"{needed}, signed in as themselves")
    return person


def _pending(session: Session, staff_id: int, adjustment_id: int) -> Adjustment:
    """The proposal, locked, while it still waits for a decision."""
    adjustment = enrolments_repo.adjustment_of(session, staff_id, adjustment_id, lock=True)
    if adjustment is None:
        raise NotFound("adjustment", adjustment_id, field=["path", "adjustment_id"])
    if adjustment.status != Status.pending:
        raise Conflict(f"the adjustment is already {adjustment.status}: only a pending "
                       "proposal can be decided or withdrawn", field=["path", "adjustment_id"])
    return adjustment


def _approvers_for(
    session: Session, policies: PolicySet, staff_id: int, policy_id: str
) -> list[int]:
    """Who is told of a proposal: for each role the policy names, the NQSW's own manager
    in that role where the organisation has one (their team manager, their area's senior
    manager), else everyone in post in it (the ASYE coordinator)."""
    nqsw = staff_repo.person(session, staff_id)
    team = org_repo.team(session, nqsw.team_id) if nqsw and nqsw.team_id else None
    area = org_repo.area(session, team.service_area_id) if team else None
    own = {Role.team_manager.value: team.manager_id if team else None,
           Role.senior_manager.value: area.senior_manager_id if area else None}
    found: list[int] = []
    for role in approver_roles(policies, policy_id):
        manager = own.get(role)
        if role in own:
            found.extend([manager] if manager is not None else [])
        else:
            found.extend(staff_repo.ids_in_post_with_role(session, role))
    return found


def _summary(policies: PolicySet, adjustment: Adjustment) -> dict[str, Any]:
    """What an email says the adjustment is, in words (no rule ids, no role codes)."""
    title = (policies.policy(adjustment.policy_id).title
             if adjustment.policy_id in policies else adjustment.policy_id)
    return {
        "policy_title": title,
        "what": parameter_words(policies, adjustment.policy_id, adjustment.parameter),
        "value": adjustment.value,
        "applies_as_words": ("scaled by their FTE (pro rata)"
                             if adjustment.applies_as == "pro_rata"
                             else "the final figure (as agreed)"),
        "valid_from": f"{adjustment.valid_from:%-d %B %Y}",
        "valid_to": f"{adjustment.valid_to:%-d %B %Y}" if adjustment.valid_to else None,
        "agreement_reason": adjustment.reason,
    }


def propose_adjustment(
    *, session: Session, staff_id: int, data: AdjustmentCreate, policies: PolicySet, actor_id:
    int | None = None, base_url: str = "",
) -> Adjustment:
    """Record a proposal: pending, not in force, until the role the policy names decides.

    The engine checks it now, so that the approver is never asked to approve something
    that could not apply; the NQSW's workload does not change until it is approved.
    """
    enrolment = _open_enrolment(session, staff_id, verb="proposed")
    proposer = _person(session, actor_id,
                       "an adjustment is proposed by the NQSW's team manager")
    if proposer.role not in PROPOSER_ROLES:
        raise Forbidden(f"you are {a_role(proposer.role)}; an adjustment is proposed by the "
                        "NQSW's team manager or senior manager")
    check_against_policy(policies, policy_id=data.policy_id, parameter=data.parameter,
                         value=data.value, applies_as=data.applies_as)
    adjustment = Adjustment(enrolment_id=enrolment.id,  # type: ignore[arg-type]
                            **data.model_dump(), status=Status.pending.value,
                            proposed_by_id=proposer.id)
    session.add(adjustment)
    session.flush()
    audit.record(session, action="adjustment.propose", entity="adjustment",
                 entity_id=adjustment.id, actor_id=proposer.id, nqsw_id=staff_id,
                 after=adjustment)
    nqsw = staff_repo.person(session, staff_id)
    recipients = [i for i in _approvers_for(session, policies, staff_id, data.policy_id)
                  if i != proposer.id]
    notify.notify(
        session,
        recipient_ids=recipients,
        kind="adjustment.proposed",
        subject=f"An adjustment for {nqsw.name if nqsw else 'an NQSW'} waits for your decision",
        context={
            **_summary(policies, adjustment),
            "nqsw_name": nqsw.name if nqsw else None,
            "proposed_by_name": proposer.name,
            "link": f"{base_url.rstrip('/')}/nqsws/{staff_id}/adjustments/{adjustment.id}",
        },
        nqsw_id=staff_id,
    )
    return adjustment


def _may_decide(
    session: Session, policies: PolicySet, adjustment: Adjustment, actor_id: int | None,
    verb: str,
) -> Staff:
    """The signed-in person, if they may approve or refuse this proposal: in a role the
    policy names, and not its proposer."""
    roles = approver_roles(policies, adjustment.policy_id)
    decider = _person(session, actor_id, f"a proposed adjustment is {verb} by "
                                         f"{roles_words(roles)}")
    if decider.role not in roles:
        raise Forbidden(f"you are {a_role(decider.role)}; a proposed adjustment to this "
                        f"policy is {verb} by {roles_words(roles)}")
    if decider.id == adjustment.proposed_by_id:
        raise Forbidden(f"you proposed this adjustment, so someone else "
                        f"({roles_words(roles)}) decides it; you may withdraw it instead")
    return decider


def approve_adjustment(
    *, session: Session, staff_id: int, adjustment_id: int, policies: PolicySet, on: date,
    actor_id: int | None = None, base_url: str = "",
) -> Adjustment:
    """Approve a proposal: from now it is in force between its dates, and the NQSW is
    re-evaluated as of `on` (breaches it answers resolve)."""
    _open_enrolment(session, staff_id, verb="approved")
    adjustment = _pending(session, staff_id, adjustment_id)
    approver = _may_decide(session, policies, adjustment, actor_id, "approved")
    assert approver.id is not None
    # The policy may have changed since it was proposed: the engine must still agree.
    check_against_policy(policies, policy_id=adjustment.policy_id,
                         parameter=adjustment.parameter, value=adjustment.value,
                         applies_as=adjustment.applies_as)  # type: ignore[arg-type]
    _second_person_check(session, policies, staff_id=staff_id,
                         policy_id=adjustment.policy_id, approver_id=approver.id,
                         others=roles_words(approver_roles(policies, adjustment.policy_id)))
    _decide(session, adjustment, Status.approved, approver, None, staff_id)
    _tell_proposer(session, policies, adjustment, approver, staff_id, base_url)
    workload_events.staff_changed(session, staff_ids=[staff_id], on=on,
                                  actor_id=approver.id, policies=policies,
                                  trigger=Trigger("individual adjustment approved",
                                                  Cause.adjustment))
    return adjustment


def refuse_adjustment(
    *, session: Session, staff_id: int, adjustment_id: int, reason: str, policies: PolicySet,
    actor_id: int | None = None, base_url: str = "",
) -> Adjustment:
    """Refuse a proposal, with the reason the proposer is told; it is never in force."""
    adjustment = _pending(session, staff_id, adjustment_id)
    decider = _may_decide(session, policies, adjustment, actor_id, "refused")
    _decide(session, adjustment, Status.refused, decider, reason, staff_id)
    _tell_proposer(session, policies, adjustment, decider, staff_id, base_url)
    return adjustment


def withdraw_adjustment(
    *, session: Session, staff_id: int, adjustment_id: int, policies: PolicySet, reason: str |
    None = None, actor_id: int | None = None,
) -> Adjustment:
    """The proposer takes their proposal back before it is decided; it stays on record."""
    adjustment = _pending(session, staff_id, adjustment_id)
    person = _person(session, actor_id, "a proposal is withdrawn by whoever proposed it")
    if person.id != adjustment.proposed_by_id:
        raise Forbidden("only whoever proposed an adjustment may withdraw it; the approver "
                        "refuses it instead, with a reason")
    _decide(session, adjustment, Status.withdrawn, person, reason, staff_id)
    return adjustment


_ACTIONS = {Status.approved: "approve", Status.refused: "refuse",
            Status.withdrawn: "withdraw"}


def _decide(
    session: Session, adjustment: Adjustment, status: Status, person: Staff,
    reason: str | None, staff_id: int,
) -> None:
    """Close a pending proposal (approved, refused or withdrawn) in this person's name,
    on the audit trail."""
    adjustment.status = status.value
    adjustment.decided_by_id = person.id
    adjustment.decided_at = now_utc()
    adjustment.decision_reason = reason
    if status == Status.approved:
        adjustment.approved_by_id = person.id
    session.flush()
    audit.record(session, action=f"adjustment.{_ACTIONS[status]}", entity="adjustment",
                 entity_id=adjustment.id, actor_id=person.id, nqsw_id=staff_id,
                 before={"status": Status.pending.value},
                 after={"status": status.value, "decided_by_id": person.id,
                        "reason": reason})


def _tell_proposer(
    session: Session, policies: PolicySet, adjustment: Adjustment, decider: Staff,
    staff_id: int, base_url: str,
) -> None:
    if adjustment.proposed_by_id is None:
        return
    nqsw = staff_repo.person(session, staff_id)
    name = nqsw.name if nqsw else "an NQSW"
    approved = adjustment.status == Status.approved
    notify.notify(
        session,
        recipient_ids=[adjustment.proposed_by_id],
        kind="adjustment.decided",
        subject=(f"Your proposed adjustment for {name} was "
                 f"{'approved' if approved else 'refused'}"),
        context={
            **_summary(policies, adjustment),
            "nqsw_name": name,
            "approved": approved,
            "decided_by_name": decider.name,
            "reason": adjustment.decision_reason,
            "link": f"{base_url.rstrip('/')}/nqsws/{staff_id}/adjustments/{adjustment.id}",
        },
        nqsw_id=staff_id,
    )


# ---- what an adjustment means for the NQSW on a date: the engine's own figures ----------


class Meaning(NamedTuple):
    """The figure an adjustment sets for the NQSW on a date, as the engine computes it:
    `what` ("case cap" or "points allowance"), the figure, how it was reached in words
    (`note`: "as agreed, not pro rata for 0.8 FTE") and the band it belongs to."""

    what: str
    figure: float
    note: str
    band: str


def _meaning_in(measures: WorkloadMeasures, adjustment_id: int | None) -> Meaning | None:
    band, points = measures.band, measures.points
    if band is not None and adjustment_id is not None and band.adjustment_id == adjustment_id:
        return Meaning("case cap", band.cap_for_fte, band.cap_note, band.label)
    if (points is not None and points.allowance is not None and adjustment_id is not None
            and points.adjustment_id == adjustment_id):
        return Meaning("points allowance", points.allowance, points.allowance_note, "")
    return None


def todays_meanings(
    session: Session, *, policies: PolicySet, staff_id: int, on: date,
    rows: Sequence[Adjustment],
) -> tuple[WorkloadMeasures | None, dict[int, Meaning]]:
    """The NQSW's measures on `on`, and per adjustment the figure it sets that day: for
    one in force, the figure the engine applies; for a proposal, the figure the engine
    would apply were it approved (the same engine, with the proposal added). Nothing for
    one that sets no figure that day (another stage's cap, an ended agreement)."""
    snapshot = load_snapshot(session, staff_id, on, policies=policies)
    if snapshot is None:
        return None, {}
    measures = measure_workload(snapshot, policies)
    found: dict[int, Meaning] = {}
    for row in rows:
        if row.id is None:
            continue
        if row.status == Status.approved and in_force_on(row, on):
            meaning = _meaning_in(measures, row.id)
        elif row.status == Status.pending and is_valid_on(_record(row), on):
            if_approved = replace(snapshot, adjustments=(*snapshot.adjustments, _record(row)))
            meaning = _meaning_in(measure_workload(if_approved, policies), row.id)
        else:
            meaning = None
        if meaning is not None:
            found[row.id] = meaning
    return measures, found


def _record(row: Adjustment) -> AdjustmentRecord:
    return AdjustmentRecord(policy_id=row.policy_id, parameter=row.parameter, value=row.value,
                            reason=row.reason, valid_from=row.valid_from, valid_to=row.valid_to,
                            adjustment_id=row.id,
                            applies_as=row.applies_as)  # type: ignore[arg-type]
