"""Individual adjustments to a policy for one NQSW: approved, dated, never deleted."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.boundary import BoundaryRoute
from app.api.deps import OnDep, PoliciesDep
from app.auth import PrincipalDep
from app.clock import today
from app.db import SessionDep
from app.models import Adjustment
from app.schemas.adjustment import AdjustmentCreate, AdjustmentEnd, AdjustmentPublic
from app.schemas.common import GivenOnQuery, Page, PathId, effective_on
from app.services import adjustments

router = APIRouter(route_class=BoundaryRoute, tags=["adjustments"])


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
        approved_by_id=adjustment.approved_by_id,
        valid_from=adjustment.valid_from,
        valid_to=adjustment.valid_to,
        in_force=adjustments.in_force_on(adjustment, on),
        created_at=adjustment.created_at,
    )


@router.post(
    "/nqsws/{staff_id}/adjustments",
    status_code=status.HTTP_201_CREATED,
    responses={403: {"description": "You may not approve it: not a senior manager or "
                                    "coordinator, or it would settle a limit you overrode "
                                    "for this NQSW and the organisation asks for a second "
                                    "person."}},
)
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


@router.get("/nqsws/{staff_id}/adjustments")
def list_adjustments(
    staff_id: PathId,
    session: SessionDep,
    on: OnDep,
    in_force: Annotated[
        bool | None, Query(description="Only those in force (true) or not in force on `on`.")
    ] = None,
) -> Page[AdjustmentPublic]:
    """The NQSW's adjustments, every one (they are few: no pagination)."""
    rows = adjustments.list_adjustments(session=session, staff_id=staff_id, on=on,
                                        in_force=in_force)
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
