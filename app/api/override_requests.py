"""Override requests: a team manager blocked by a firm limit asks; a senior manager decides.

Whoever acts is the person signed in: the requester of a new request, the decider of an
approval or refusal, the requester of a withdrawal. A request names an NQSW and a case
within the requester's reach (the access table checks both); the rest is the service's:
who may decide (the roles the policy lets override the limits), and that nobody decides
their own request.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.boundary import BoundaryRoute
from app.api.deps import PageDep, PoliciesDep
from app.auth import PrincipalDep
from app.clock import today
from app.db import SessionDep
from app.models.override import OverrideRequest, OverrideRequestStatus
from app.schemas.common import Page, PathId
from app.schemas.override_request import (
    OverrideDecision,
    OverrideRequestCreate,
    OverrideRequestPublic,
)
from app.services import override_requests as service

router = APIRouter(route_class=BoundaryRoute, tags=["override-requests"])

ASK_RESPONSES: dict[int | str, dict[str, str]] = {
    409: {"description": "No firm limit refuses this allocation, you may override it "
                         "yourself, nobody may, or a request for it is already waiting."},
}
DECISION_RESPONSES: dict[int | str, dict[str, str]] = {
    403: {"description": "You asked for it yourself, or your role may not override the "
                         "limits it is about."},
    404: {"description": "No such request within your reach."},
    409: {"description": "Already decided, withdrawn or lapsed; or (approving) the "
                         "allocation is now refused for something you may not override."},
}


def _public(session: SessionDep, row: OverrideRequest) -> OverrideRequestPublic:
    return OverrideRequestPublic(**service.view(session, row))


@router.post("/override-requests", status_code=status.HTTP_201_CREATED, responses=ASK_RESPONSES)
def create_override_request(
    body: OverrideRequestCreate, session: SessionDep, policies: PoliciesDep,
    principal: PrincipalDep,
) -> OverrideRequestPublic:
    """Ask for an override of the firm limit that refuses this allocation, with a reason
    (at least the policy's minimum length). The people who may override it are told."""
    row = service.create_request(
        session, policies=policies, case_id=body.case_id, worker_id=body.worker_id,
        role=body.role.value, starts_on=body.starts_on or today(), reason=body.reason,
        requester_id=principal.staff_id,
    )
    return _public(session, row)


@router.get("/override-requests")
def list_override_requests(
    session: SessionDep, page: PageDep, principal: PrincipalDep,
    status: OverrideRequestStatus | None = None,
) -> Page[OverrideRequestPublic]:
    """Requests the caller asked for or about work within their reach; pending first."""
    rows, count = service.list_requests(
        session, viewer_id=principal.staff_id, reach=principal.reach(today()),
        status=status.value if status else None, limit=page.limit, offset=page.offset,
    )
    return Page(data=[_public(session, r) for r in rows], count=count)


@router.get("/override-requests/{request_id}", responses={404: DECISION_RESPONSES[404]})
def get_override_request(
    request_id: PathId, session: SessionDep, principal: PrincipalDep
) -> OverrideRequestPublic:
    row = service.get_request(session, request_id, viewer_id=principal.staff_id,
                              reach=principal.reach(today()))
    return _public(session, row)


@router.post("/override-requests/{request_id}/approve", responses=DECISION_RESPONSES)
def approve_override_request(
    request_id: PathId, body: OverrideDecision, session: SessionDep, policies: PoliciesDep,
    principal: PrincipalDep,
) -> OverrideRequestPublic:
    """Approve with your own reason: the allocation is checked again as things stand and
    made as your override (the breach records you and your reason)."""
    service.get_request(session, request_id, viewer_id=principal.staff_id,
                        reach=principal.reach(today()))
    row = service.approve(session, policies=policies, request_id=request_id,
                          approver_id=principal.staff_id, reason=body.reason)
    return _public(session, row)


@router.post("/override-requests/{request_id}/refuse", responses=DECISION_RESPONSES)
def refuse_override_request(
    request_id: PathId, body: OverrideDecision, session: SessionDep, principal: PrincipalDep,
) -> OverrideRequestPublic:
    """Refuse, saying why: the requester is told."""
    service.get_request(session, request_id, viewer_id=principal.staff_id,
                        reach=principal.reach(today()))
    row = service.refuse(session, request_id=request_id, decider_id=principal.staff_id,
                         reason=body.reason)
    return _public(session, row)


@router.post("/override-requests/{request_id}/withdraw", responses=DECISION_RESPONSES)
def withdraw_override_request(
    request_id: PathId, session: SessionDep, principal: PrincipalDep,
) -> OverrideRequestPublic:
    """The requester takes their request back while it waits."""
    service.get_request(session, request_id, viewer_id=principal.staff_id,
                        reach=principal.reach(today()))
    row = service.withdraw(session, request_id=request_id, requester_id=principal.staff_id)
    return _public(session, row)
