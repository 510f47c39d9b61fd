"""Individual adjustments to a policy for one NQSW: dated, never deleted; recorded
directly by a senior manager or the coordinator, or proposed by a team manager and then
approved or refused by the role the policy names (or withdrawn by the proposer)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.boundary import BoundaryRoute
from app.api.deps import OnDep, PoliciesDep, SettingsDep
from app.auth import PrincipalDep
from app.clock import today
from app.db import SessionDep
from app.models import Adjustment
from app.schemas.adjustment import (
    AdjustmentCreate,
    AdjustmentEnd,
    AdjustmentPublic,
    AdjustmentRefuse,
    AdjustmentStatus,
    AdjustmentWithdraw,
)
from app.schemas.common import GivenOnQuery, Page, PathId, effective_on
from app.services import adjustments

router = APIRouter(route_class=BoundaryRoute, tags=["adjustments"])

CREATED = status.HTTP_201_CREATED
RECORD_REFUSED: dict[int | str, dict[str, str]] = {403: {"description": (
    "You may not approve it: not a senior manager or coordinator, or it would settle a "
    "limit you overrode for this NQSW and the organisation asks for a second person.")}}
PROPOSE_REFUSED: dict[int | str, dict[str, str]] = {403: {"description": (
    "You may not propose one: not the NQSW's team manager or senior manager.")}}


def _public(adjustment: Adjustment, staff_id: PathId, on: date) -> AdjustmentPublic:
    return AdjustmentPublic(
        id=adjustment.id,  # type: ignore[arg-type]
        staff_id=staff_id,
        enrolment_id=adjustment.enrolment_id,
        policy_id=adjustment.policy_id,
        parameter=adjustment.parameter,
        value=adjustment.value,
        applies_as=adjustment.applies_as,
        reason=adjustment.reason,
        status=adjustment.status,  # type: ignore[arg-type]
        proposed_by_id=adjustment.proposed_by_id,
        approved_by_id=adjustment.approved_by_id,
        decided_by_id=adjustment.decided_by_id,
        decided_at=adjustment.decided_at,
        decision_reason=adjustment.decision_reason,
        valid_from=adjustment.valid_from,
        valid_to=adjustment.valid_to,
        in_force=adjustments.in_force_on(adjustment, on),
        created_at=adjustment.created_at,
    )


@router.post("/nqsws/{staff_id}/adjustments", status_code=CREATED, responses=RECORD_REFUSED)
def create_adjustment(
    staff_id: PathId,
    body: AdjustmentCreate,
    session: SessionDep,
    policies: PoliciesDep,
    on: OnDep,
    principal: PrincipalDep,
) -> AdjustmentPublic:
    """Record a change to one policy parameter for this NQSW, approved by the caller (a
    senior manager or the ASYE coordinator); the NQSW is re-evaluated on `on`."""
    adjustment = adjustments.create_adjustment(session=session, staff_id=staff_id, data=body,
                                               policies=policies, on=on,
                                               actor_id=principal.staff_id)
    return _public(adjustment, staff_id, on)


@router.post("/nqsws/{staff_id}/adjustments/proposals", status_code=CREATED,
             responses=PROPOSE_REFUSED)
def propose_adjustment(
    staff_id: PathId, body: AdjustmentCreate, session: SessionDep, policies: PoliciesDep,
    on: OnDep, principal: PrincipalDep, settings: SettingsDep,
) -> AdjustmentPublic:
    """Propose a change to one policy parameter for this NQSW (the caller proposes it).

    It is pending, and not in force, until someone in the role the policy names (by
    default the ASYE coordinator) approves it; they are told of it."""
    adjustment = adjustments.propose_adjustment(session=session, staff_id=staff_id, data=body,
                                                policies=policies, actor_id=principal.staff_id,
                                                base_url=settings.base_url)
    return _public(adjustment, staff_id, on)


@router.post("/nqsws/{staff_id}/adjustments/{adjustment_id}/approve", responses={
    403: {"description": "You may not approve it: not in the role the policy names, you "
                         "proposed it, or it would settle a limit you overrode for this NQSW."},
    409: {"description": "It is no longer pending, or the programme has ended."}})
def approve_adjustment(
    staff_id: PathId, adjustment_id: PathId, session: SessionDep, policies: PoliciesDep, on:
    OnDep, principal: PrincipalDep, settings: SettingsDep,
) -> AdjustmentPublic:
    """Approve a pending proposal (the caller approves it): in force from now between its
    dates; the NQSW is re-evaluated on `on` and the proposer is told."""
    adjustment = adjustments.approve_adjustment(
        session=session, staff_id=staff_id, adjustment_id=adjustment_id, on=on,
        policies=policies, actor_id=principal.staff_id, base_url=settings.base_url)
    return _public(adjustment, staff_id, on)


@router.post("/nqsws/{staff_id}/adjustments/{adjustment_id}/refuse", responses={
    403: {"description": "You may not decide it: not in the role the policy names, or you "
                         "proposed it."},
    409: {"description": "It is no longer pending."}})
def refuse_adjustment(
    staff_id: PathId, adjustment_id: PathId, body: AdjustmentRefuse, session: SessionDep,
    policies: PoliciesDep, on: OnDep, principal: PrincipalDep, settings: SettingsDep,
) -> AdjustmentPublic:
    """Refuse a pending proposal with a reason; the proposer is told. It is never in force."""
    adjustment = adjustments.refuse_adjustment(
        session=session, staff_id=staff_id, adjustment_id=adjustment_id, reason=body.reason,
        policies=policies, actor_id=principal.staff_id, base_url=settings.base_url,
    )
    return _public(adjustment, staff_id, on)


@router.post("/nqsws/{staff_id}/adjustments/{adjustment_id}/withdraw", responses={
    403: {"description": "Only whoever proposed it may withdraw it."},
    409: {"description": "It is no longer pending."}})
def withdraw_adjustment(
    staff_id: PathId, adjustment_id: PathId, session: SessionDep, policies: PoliciesDep, on:
    OnDep, principal: PrincipalDep, body: AdjustmentWithdraw | None = None,
) -> AdjustmentPublic:
    """The proposer takes back a pending proposal (with an optional reason)."""
    reason = body.reason if body else None
    return _public(adjustments.withdraw_adjustment(
        session=session, staff_id=staff_id, adjustment_id=adjustment_id, policies=policies,
        reason=reason, actor_id=principal.staff_id), staff_id, on)


@router.get("/nqsws/{staff_id}/adjustments")
def list_adjustments(
    staff_id: PathId,
    session: SessionDep,
    on: OnDep,
    in_force: Annotated[
        bool | None, Query(description="Only those in force (true) or not in force on `on`.")
    ] = None,
    status: Annotated[
        list[AdjustmentStatus] | None,
        Query(description="Only those with one of these statuses (repeat to name several): "
                          "pending, approved, refused, withdrawn."),
    ] = None,
) -> Page[AdjustmentPublic]:
    """The NQSW's adjustments and proposals, every one (they are few: no pagination)."""
    rows = adjustments.list_adjustments(session=session, staff_id=staff_id, on=on,
                                        in_force=in_force, statuses=status)
    return Page(data=[_public(a, staff_id, on) for a in rows], count=len(rows))


@router.get("/nqsws/{staff_id}/adjustments/{adjustment_id}")
def get_adjustment(
    staff_id: PathId, adjustment_id: PathId, session: SessionDep, on: OnDep
) -> AdjustmentPublic:
    adjustment = adjustments.get_adjustment(session=session, staff_id=staff_id,
                                            adjustment_id=adjustment_id)
    return _public(adjustment, staff_id, on)


@router.post("/nqsws/{staff_id}/adjustments/{adjustment_id}/end")
def end_adjustment(
    staff_id: PathId,
    adjustment_id: PathId,
    session: SessionDep,
    principal: PrincipalDep,
    policies: PoliciesDep,
    given_on: GivenOnQuery,
    body: AdjustmentEnd | None = None,
) -> AdjustmentPublic:
    """End the adjustment: `on` (query or body) is its last day in force (default today)."""
    now = today()
    last_day = effective_on(given_on, body.on if body else None)
    adjustment = adjustments.end_adjustment(session=session, staff_id=staff_id,
                                            adjustment_id=adjustment_id, last_day=last_day,
                                            on=now, policies=policies,
                                            actor_id=principal.staff_id)
    return _public(adjustment, staff_id, now)
