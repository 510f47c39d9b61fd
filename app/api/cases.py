"""Cases: opened, changed as facts change, closed; never deleted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.boundary import BoundaryRoute
from app.api.deps import OnDep, PageDep, PoliciesDep
from app.auth import PrincipalDep
from app.db import SessionDep
from app.models.base import AllocationRole
from app.schemas.candidates import CandidatesPublic
from app.schemas.case import (
    AllocationBrief,
    CaseCloseRequest,
    CaseCreate,
    CaseDetail,
    CasePublic,
    CaseUpdate,
)
from app.schemas.common import GivenOnQuery, Page, PathId, effective_on
from app.schemas.staff import NotNul, id_query, text_query
from app.services import candidates, cases

router = APIRouter(route_class=BoundaryRoute, tags=["cases"])


@router.post("/cases", status_code=status.HTTP_201_CREATED)
def create_case(
    body: CaseCreate, session: SessionDep, policies: PoliciesDep, principal: PrincipalDep
) -> CasePublic:
    case = cases.create_case(session=session, data=body,
                             categories=cases.known_categories(policies),
                             actor_id=principal.staff_id)
    return CasePublic.model_validate(case)


@router.get("/cases")
def list_cases(
    session: SessionDep,
    page: PageDep,
    on: OnDep,
    principal: PrincipalDep,
    category: Annotated[
        str | None, text_query("Only this category.", max_length=40), NotNul
    ] = None,
    team_id: Annotated[int | None, id_query("Only this team.")] = None,
    is_open: Annotated[
        bool | None, Query(alias="open", description="Only cases open (true) or not open on `on`.")
    ] = None,
    complexity: Annotated[
        int | None, Query(ge=1, le=4, description="Only this complexity.")
    ] = None,
    worker_id: Annotated[
        int | None, id_query("Only cases this worker holds or co-works on `on`.")
    ] = None,
) -> Page[CasePublic]:
    rows, count = cases.list_cases(
        session=session, limit=page.limit, offset=page.offset, on=on, category=category,
        team_id=team_id, is_open=is_open, complexity=complexity, worker_id=worker_id,
        scope=principal.reach(on),
    )
    return Page(data=[CasePublic.model_validate(r) for r in rows], count=count)


@router.get("/cases/{case_id}")
def get_case(case_id: PathId, session: SessionDep, on: OnDep) -> CaseDetail:
    """The case and who holds or co-works it on `on`."""
    case = cases.get_case(session=session, case_id=case_id)
    allocations = cases.current_allocations(session, [case_id], on).get(case_id, [])
    return CaseDetail(
        **CasePublic.model_validate(case).model_dump(),
        on=on,
        allocations=[AllocationBrief.model_validate(a) for a in allocations],
    )


@router.get("/cases/{case_id}/candidates")
def case_candidates(
    case_id: PathId,
    session: SessionDep,
    on: OnDep,
    policies: PoliciesDep,
    role: Annotated[
        AllocationRole, Query(description="The role the case would be allocated in.")
    ] = AllocationRole.holder,
) -> CandidatesPublic:
    """Who could take this case: every case-holding worker of its team in post on `on`,
    with what allocating it to them from `on` would cause (the what-if check's outcome and
    reasons) and their load (the workload's figures), best candidates first (`order`)."""
    found = candidates.candidates(session, policies=policies, case_id=case_id, on=on,
                                  role=role.value)
    return CandidatesPublic.of(found)


@router.patch("/cases/{case_id}")
def update_case(
    case_id: PathId,
    body: CaseUpdate,
    session: SessionDep,
    on: OnDep,
    policies: PoliciesDep,
    principal: PrincipalDep,
) -> CasePublic:
    """A change of facts as of `on`: recorded and re-evaluated, never refused by policy."""
    case = cases.update_case(session=session, case_id=case_id, data=body, on=on,
                             policies=policies, actor_id=principal.staff_id)
    return CasePublic.model_validate(case)


@router.post("/cases/{case_id}/close")
def close_case(
    case_id: PathId, session: SessionDep, principal: PrincipalDep, policies: PoliciesDep,
    given_on: GivenOnQuery, body: CaseCloseRequest | None = None,
) -> CasePublic:
    """Close the case from `on` (query or body; default today)."""
    on = effective_on(given_on, body.on if body else None)
    case = cases.close_case(session=session, case_id=case_id, on=on, policies=policies,
                            reason=body.reason if body else None,
                            actor_id=principal.staff_id)
    return CasePublic.model_validate(case)
