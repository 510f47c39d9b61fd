"""Individual adjustments: "tailored to the individual", recorded, approved and time-limited.

An adjustment changes one parameter of one policy for one NQSW between two dates (both
included). The person who records it approves it, and must be a senior manager or the
ASYE coordinator; the engine must agree the parameter exists and the new value is valid.
Someone who overrode a limit of that policy for the NQSW, while that breach is
unresolved, may not approve an adjustment that would settle it when the organisation
asks for a second person (app.policy.separation).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.models import Adjustment, Enrolment
from app.models.base import Role
from app.policy.adjustments import applies_as_problem
from app.policy.registry import PolicySet, validate_adjustment
from app.policy.separation import DEFAULT_SEPARATION, Duty
from app.policy.snapshot import AS_AGREED, AppliesAs
from app.repositories import breach as breach_rows
from app.repositories import enrolment as enrolments_repo
from app.repositories import staff as staff_repo
from app.repositories.enrolment import OPEN_STATUSES, latest_enrolment
from app.schemas.adjustment import AdjustmentCreate
from app.services import audit, workload_events
from app.services.breaches import OVERRIDE_ACTIONS
from app.services.reconcile import Cause, Trigger
from app.wording import a_role

APPROVER_ROLES = (Role.senior_manager.value, Role.asye_coordinator.value)


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
    """Both ends included, as the engine reads them."""
    end = adjustment.valid_to
    return adjustment.valid_from <= on and (end is None or on <= end)


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
    separation = getattr(policies, "separation", DEFAULT_SEPARATION)
    if separation.requires(Duty.adjustment_after_override) and _overrode_policy(
        session, staff_id=staff_id, policy_id=data.policy_id, person_id=approver.id
    ):
        raise Forbidden(
            f"you overrode this NQSW's {data.policy_id} limit and that breach is still "
            "unresolved, so another senior manager or the ASYE coordinator must approve "
            "an adjustment to it"
        )
    adjustment = Adjustment(enrolment_id=enrolment.id,  # type: ignore[arg-type]
                            **data.model_dump(), approved_by_id=approver.id)
    session.add(adjustment)
    session.flush()
    audit.record(session, action="adjustment.create", entity="adjustment",
                 entity_id=adjustment.id, actor_id=actor_id, nqsw_id=staff_id, after=adjustment)
    workload_events.staff_changed(session, staff_ids=[staff_id], on=on,
                                  actor_id=actor_id, policies=policies,
                                  trigger=Trigger("individual adjustment approved",
                                                  Cause.adjustment))
    return adjustment


def _overrode_policy(session: Session, *, staff_id: int, policy_id: str, person_id: int) -> bool:
    """Whether this person overrode a rule of the policy for the NQSW and that breach is
    still unresolved (an adjustment to the policy would settle their own override)."""
    return breach_rows.overrode_unresolved(
        session, staff_id=staff_id, policy_id=policy_id, person_id=person_id,
        override_actions=OVERRIDE_ACTIONS,
    )


def list_adjustments(
    *, session: Session, staff_id: int, on: date, in_force: bool | None = None
) -> list[Adjustment]:
    """Every adjustment of every enrolment of this NQSW, newest agreement first."""
    _nqsw_enrolment(session, staff_id)
    return enrolments_repo.adjustments_of(session, staff_id, on=on, in_force=in_force)


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

