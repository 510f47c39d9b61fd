"""Allocations: the check runs on every write that can grow an NQSW's load."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.boundary import BoundaryRoute
from app.api.deps import PageDep, PoliciesDep
from app.auth import PrincipalDep
from app.clock import today
from app.db import SessionDep
from app.models.base import AllocationRole
from app.schemas.allocation import (
    AllocationCheck,
    AllocationCreate,
    AllocationEnd,
    AllocationPublic,
    AllocationUpdate,
    AllocationWritten,
    BreachRef,
    CheckResult,
    FindingPublic,
)
from app.schemas.common import GivenOnQuery, Page, PathId, QueryId, effective_on
from app.services import allocation_judge, allocation_list, allocation_move, allocation_write
from app.services.allocation_types import WriteResult

router = APIRouter(route_class=BoundaryRoute, tags=["allocations"])


def _written(result: WriteResult) -> AllocationWritten:
    base = AllocationPublic.model_validate(result.allocation).model_dump()
    return AllocationWritten(
        **base,
        outcome=result.decision.outcome.value,
        findings=[FindingPublic(**view) for view in result.decision.finding_views()],
        breaches=[
            BreachRef(id=b.id, policy_id=b.policy_id, rule_id=b.rule_id, status=b.status,
                      level=b.level, severity=b.severity)
            for b in result.breaches() if b.id is not None
        ],
        ended_allocation_id=result.ended_allocation_id,
        ended_holder_allocation_id=result.ended_holder_allocation_id,
    )


@router.post(
    "/allocations",
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"description": "An override by someone whose role the policy does not allow "
                              "to override (the override is always the caller's)."},
        409: {"description": "Refused by a firm limit, or a duplicate. A refusal's `detail` "
                              "lists what the allocation causes first (`policy_block`, "
                              "`policy_warn`), then what was already the case without it "
                              "(`policy_pre_existing`, `pre_existing: true`)."},
    },
)
def create_allocation(
    body: AllocationCreate, session: SessionDep, policies: PoliciesDep, principal: PrincipalDep
) -> AllocationWritten:
    """Allocate a case after the policy check: refused (409) on a block without override.

    The check covers the whole period from `start_date` to `end_date` (open-ended by
    default): each date where an outcome can change (other allocations starting, stage
    boundaries, agreements beginning or ending). Each finding says the date it is for.
    The allocation, and any override, is recorded in the name of the person signed in.
    """
    result = allocation_write.create_allocation(
        session,
        policies=policies,
        case_id=body.case_id,
        worker_id=body.worker_id,
        role=body.role.value,
        start_date=body.start_date or today(),
        end_date=body.end_date,
        override_reason=body.override_reason,
        allocated_by_id=principal.staff_id,
    )
    return _written(result)


@router.post("/allocations/check")
def check_allocation(
    body: AllocationCheck, session: SessionDep, policies: PoliciesDep, given_on: GivenOnQuery
) -> CheckResult:
    """What-if: would this allocation be allowed from `on` (to `end_date`)? Writes nothing.

    `caused` and `pre_existing` split the findings that are not ok as a refusal does:
    what the allocation would cause or make worse, and what is already so without it.
    """
    on = effective_on(given_on, body.on)
    decision = allocation_judge.check_allocation(
        session, policies=policies, case_id=body.case_id, worker_id=body.worker_id,
        role=body.role.value, on=on, end=body.end_date,
    )
    groups = decision.grouped()
    return CheckResult(
        outcome=decision.outcome.value,
        current_outcome=decision.current_outcome.value,
        enrolled=decision.enrolled,
        on=on,
        findings=[FindingPublic(**view) for view in decision.finding_views()],
        caused=[FindingPublic(**view) for view in decision.finding_views(groups.caused)],
        pre_existing=[FindingPublic(**view)
                      for view in decision.finding_views(groups.pre_existing)],
    )


@router.get("/allocations")
def list_allocations(
    session: SessionDep,
    page: PageDep,
    principal: PrincipalDep,
    worker_id: QueryId = None,
    case_id: QueryId = None,
    role: AllocationRole | None = None,
    on: Annotated[
        date | None, Query(description="Only allocations active on this date (YYYY-MM-DD).")
    ] = None,
) -> Page[AllocationPublic]:
    rows, count = allocation_list.list_allocations(
        session, limit=page.limit, offset=page.offset, worker_id=worker_id, case_id=case_id,
        role=role.value if role else None, on=on, scope=principal.reach(on),
    )
    return Page(data=[AllocationPublic.model_validate(r) for r in rows], count=count)


@router.get("/allocations/{allocation_id}")
def get_allocation(allocation_id: PathId, session: SessionDep) -> AllocationPublic:
    return AllocationPublic.model_validate(allocation_list.get_allocation(session, allocation_id))


@router.patch(
    "/allocations/{allocation_id}",
    responses={409: {"description": "Refused by a firm limit (`detail` as for `POST "
                                    "/allocations`: what the change causes first, then "
                                    "what was already the case), or a conflicting "
                                    "allocation."}},
)
def update_allocation(
    allocation_id: PathId, body: AllocationUpdate, session: SessionDep, policies: PoliciesDep,
    principal: PrincipalDep, given_on: GivenOnQuery,
) -> AllocationWritten:
    """Reassign, change role or move the end date; growing a load runs the check.

    A co-worker becomes the named holder in one request: `{"role": "holder", "on": ...,
    "end_current_holder": true}` ends the current holder's allocation on `on` and makes
    this one the holder, checked like any allocation (refused: nothing changes).
    """
    changes = body.model_dump(exclude_unset=True,
                              exclude={"on", "override_reason", "end_current_holder"})
    if "role" in changes and changes["role"] is not None:
        changes["role"] = AllocationRole(changes["role"]).value
    result = allocation_move.update_allocation(
        session, policies=policies, allocation_id=allocation_id, changes=changes,
        on=effective_on(given_on, body.on), override_reason=body.override_reason,
        actor_id=principal.staff_id, end_current_holder=body.end_current_holder,
    )
    return _written(result)


@router.post("/allocations/{allocation_id}/end")
def end_allocation(
    allocation_id: PathId, session: SessionDep, policies: PoliciesDep, principal: PrincipalDep,
    given_on: GivenOnQuery, body: AllocationEnd | None = None,
) -> AllocationWritten:
    """End an allocation from `on` (query or body; default today). It is kept, never
    deleted."""
    body = body or AllocationEnd()
    result = allocation_move.end_allocation(
        session, policies=policies, allocation_id=allocation_id,
        on=effective_on(given_on, body.on),
        reason=body.reason, actor_id=principal.staff_id,
    )
    return _written(result)
