"""Service areas and teams: the structure breaches escalate through.

Lists answer "what is open on `on`" (default today); a closure recorded for a later day
leaves the record listed until that day. Changes are audited with the person who made
them and the date they take effect.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.boundary import BoundaryRoute
from app.api.deps import PageDep
from app.auth import PrincipalDep
from app.clock import today
from app.db import SessionDep
from app.repositories import org as org_repo
from app.schemas.common import GivenOnQuery, OnQuery, Page, PathId, effective_on
from app.schemas.org import (
    CloseRequest,
    ServiceAreaCreate,
    ServiceAreaPublic,
    ServiceAreaUpdate,
    TeamCreate,
    TeamPublic,
    TeamUpdate,
)
from app.schemas.staff import id_query
from app.services import org

router = APIRouter(route_class=BoundaryRoute, tags=["organisation"])

IncludeClosed = Annotated[
    bool, Query(description="Also those closed on or before `on`.")
]


@router.post("/service-areas", status_code=status.HTTP_201_CREATED)
def create_service_area(
    body: ServiceAreaCreate, session: SessionDep, principal: PrincipalDep
) -> ServiceAreaPublic:
    area = org.create_service_area(session=session, data=body, on=today(),
                                   actor_id=principal.staff_id)
    return ServiceAreaPublic.model_validate(area)


@router.get("/service-areas")
def list_service_areas(
    session: SessionDep, page: PageDep, on: OnQuery, include_closed: IncludeClosed = False
) -> Page[ServiceAreaPublic]:
    """Service areas open on `on` (closed_on empty or later), by name."""
    rows, count = org.list_service_areas(
        session=session, limit=page.limit, offset=page.offset, on=on,
        include_closed=include_closed,
    )
    return Page(data=[ServiceAreaPublic.model_validate(r) for r in rows], count=count)


@router.get("/service-areas/{area_id}")
def get_service_area(area_id: PathId, session: SessionDep) -> ServiceAreaPublic:
    return ServiceAreaPublic.model_validate(
        org_repo.area_or_404(session, area_id)
    )


@router.patch("/service-areas/{area_id}")
def update_service_area(
    area_id: PathId, body: ServiceAreaUpdate, session: SessionDep, principal: PrincipalDep,
    on: GivenOnQuery,
) -> ServiceAreaPublic:
    """Rename the area or change its senior manager, from `on` (query or body)."""
    area = org.update_service_area(session=session, area_id=area_id, data=body,
                                   on=effective_on(on, body.on), actor_id=principal.staff_id)
    return ServiceAreaPublic.model_validate(area)


@router.post("/service-areas/{area_id}/close")
def close_service_area(
    area_id: PathId, session: SessionDep, principal: PrincipalDep, on: GivenOnQuery,
    body: CloseRequest | None = None,
) -> ServiceAreaPublic:
    """Close the area from `on` (the first day closed; query or body; default today).
    Nothing is deleted."""
    return ServiceAreaPublic.model_validate(
        org.close_service_area(session=session, area_id=area_id,
                               on=effective_on(on, body.on if body else None),
                               actor_id=principal.staff_id)
    )


@router.post("/teams", status_code=status.HTTP_201_CREATED)
def create_team(body: TeamCreate, session: SessionDep, principal: PrincipalDep) -> TeamPublic:
    return TeamPublic.model_validate(
        org.create_team(session=session, data=body, on=today(), actor_id=principal.staff_id)
    )


@router.get("/teams")
def list_teams(
    session: SessionDep,
    page: PageDep,
    on: OnQuery,
    service_area_id: Annotated[int | None, id_query("Only this service area.")] = None,
    include_closed: IncludeClosed = False,
) -> Page[TeamPublic]:
    """Teams open on `on` (closed_on empty or later), by name."""
    rows, count = org.list_teams(
        session=session,
        limit=page.limit,
        offset=page.offset,
        on=on,
        service_area_id=service_area_id,
        include_closed=include_closed,
    )
    return Page(data=[TeamPublic.model_validate(r) for r in rows], count=count)


@router.get("/teams/{team_id}")
def get_team(team_id: PathId, session: SessionDep) -> TeamPublic:
    return TeamPublic.model_validate(org_repo.team_or_404(session, team_id))


@router.patch("/teams/{team_id}")
def update_team(
    team_id: PathId, body: TeamUpdate, session: SessionDep, principal: PrincipalDep,
    on: GivenOnQuery,
) -> TeamPublic:
    """Rename the team, move it to another open area or change its manager, from `on`."""
    return TeamPublic.model_validate(
        org.update_team(session=session, team_id=team_id, data=body,
                        on=effective_on(on, body.on), actor_id=principal.staff_id)
    )


@router.post("/teams/{team_id}/close")
def close_team(
    team_id: PathId, session: SessionDep, principal: PrincipalDep, on: GivenOnQuery,
    body: CloseRequest | None = None,
) -> TeamPublic:
    """Close the team from `on` (the first day closed; query or body; default today).
    Nothing is deleted."""
    return TeamPublic.model_validate(
        org.close_team(session=session, team_id=team_id,
                       on=effective_on(on, body.on if body else None),
                       actor_id=principal.staff_id)
    )
