"""Service areas and teams: the structure breaches escalate through."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import PageDep
from app.clock import today
from app.db import SessionDep
from app.models import ServiceArea, Team
from app.schemas.common import Page, PathId
from app.schemas.org import (
    CloseRequest,
    ServiceAreaCreate,
    ServiceAreaPublic,
    ServiceAreaUpdate,
    TeamCreate,
    TeamPublic,
    TeamUpdate,
)
from app.services import org
from app.services.common import get_or_404

router = APIRouter(tags=["organisation"])


@router.post("/service-areas", status_code=status.HTTP_201_CREATED)
def create_service_area(body: ServiceAreaCreate, session: SessionDep) -> ServiceAreaPublic:
    area = org.create_service_area(session=session, data=body)
    return ServiceAreaPublic.model_validate(area)


@router.get("/service-areas")
def list_service_areas(
    session: SessionDep, page: PageDep, include_closed: bool = False
) -> Page[ServiceAreaPublic]:
    rows, count = org.list_service_areas(
        session=session, limit=page.limit, offset=page.offset, include_closed=include_closed
    )
    return Page(data=[ServiceAreaPublic.model_validate(r) for r in rows], count=count)


@router.get("/service-areas/{area_id}")
def get_service_area(area_id: PathId, session: SessionDep) -> ServiceAreaPublic:
    return ServiceAreaPublic.model_validate(
        get_or_404(session, ServiceArea, area_id, what="service area")
    )


@router.patch("/service-areas/{area_id}")
def update_service_area(
    area_id: PathId, body: ServiceAreaUpdate, session: SessionDep
) -> ServiceAreaPublic:
    area = org.update_service_area(session=session, area_id=area_id, data=body)
    return ServiceAreaPublic.model_validate(area)


@router.post("/service-areas/{area_id}/close")
def close_service_area(
    area_id: PathId, session: SessionDep, body: CloseRequest | None = None
) -> ServiceAreaPublic:
    on = (body.on if body else None) or today()
    return ServiceAreaPublic.model_validate(
        org.close_service_area(session=session, area_id=area_id, on=on)
    )


@router.post("/teams", status_code=status.HTTP_201_CREATED)
def create_team(body: TeamCreate, session: SessionDep) -> TeamPublic:
    return TeamPublic.model_validate(org.create_team(session=session, data=body))


@router.get("/teams")
def list_teams(
    session: SessionDep,
    page: PageDep,
    service_area_id: Annotated[int | None, Query(description="Only this service area.")] = None,
    include_closed: bool = False,
) -> Page[TeamPublic]:
    rows, count = org.list_teams(
        session=session,
        limit=page.limit,
        offset=page.offset,
        service_area_id=service_area_id,
        include_closed=include_closed,
    )
    return Page(data=[TeamPublic.model_validate(r) for r in rows], count=count)


@router.get("/teams/{team_id}")
def get_team(team_id: PathId, session: SessionDep) -> TeamPublic:
    return TeamPublic.model_validate(get_or_404(session, Team, team_id))


@router.patch("/teams/{team_id}")
def update_team(team_id: PathId, body: TeamUpdate, session: SessionDep) -> TeamPublic:
    return TeamPublic.model_validate(org.update_team(session=session, team_id=team_id, data=body))


@router.post("/teams/{team_id}/close")
def close_team(
    team_id: PathId, session: SessionDep, body: CloseRequest | None = None
) -> TeamPublic:
    on = (body.on if body else None) or today()
    return TeamPublic.model_validate(org.close_team(session=session, team_id=team_id, on=on))
