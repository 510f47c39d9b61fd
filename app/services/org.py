"""Service areas and teams: creating, renaming, re-parenting and closing them."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from app.errors import DomainError
from app.models import ServiceArea, Staff, Team
from app.schemas.org import ServiceAreaCreate, ServiceAreaUpdate, TeamCreate, TeamUpdate
from app.services import audit
from app.services.common import apply_changes, get_or_404, paginate, require_exists


def create_service_area(
    *, session: Session, data: ServiceAreaCreate, actor_id: int | None = None
) -> ServiceArea:
    require_exists(session, Staff, data.senior_manager_id, field="senior_manager_id",
                   what="staff member")
    area = ServiceArea(**data.model_dump())
    session.add(area)
    session.flush()
    audit.record(session, action="service_area.create", entity="service_area",
                 entity_id=area.id, actor_id=actor_id, after=area)
    return area


def list_service_areas(
    *, session: Session, limit: int, offset: int, include_closed: bool = False
) -> tuple[list[ServiceArea], int]:
    query = select(ServiceArea).order_by(ServiceArea.name)
    if not include_closed:
        query = query.where(col(ServiceArea.closed_on).is_(None))
    return paginate(session, query, limit=limit, offset=offset)


def update_service_area(
    *, session: Session, area_id: int, data: ServiceAreaUpdate, actor_id: int | None = None
) -> ServiceArea:
    area = get_or_404(session, ServiceArea, area_id, what="service area")
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise DomainError("name cannot be empty", field="name")
    require_exists(session, Staff, changes.get("senior_manager_id"), field="senior_manager_id",
                   what="staff member")
    before = apply_changes(area, changes)
    session.flush()
    audit.record(session, action="service_area.update", entity="service_area",
                 entity_id=area.id, actor_id=actor_id, before=before, after=changes)
    return area


def close_service_area(
    *, session: Session, area_id: int, on: date, actor_id: int | None = None
) -> ServiceArea:
    area = get_or_404(session, ServiceArea, area_id, what="service area")
    if area.closed_on is not None:
        raise DomainError(f"service area already closed on {area.closed_on}", field="on")
    area.closed_on = on
    session.flush()
    audit.record(session, action="service_area.close", entity="service_area",
                 entity_id=area.id, actor_id=actor_id, after={"closed_on": on})
    return area


def create_team(*, session: Session, data: TeamCreate, actor_id: int | None = None) -> Team:
    require_exists(session, ServiceArea, data.service_area_id, field="service_area_id",
                   what="service area")
    require_exists(session, Staff, data.manager_id, field="manager_id", what="staff member")
    team = Team(**data.model_dump())
    session.add(team)
    session.flush()
    audit.record(session, action="team.create", entity="team", entity_id=team.id,
                 actor_id=actor_id, after=team)
    return team


def list_teams(
    *,
    session: Session,
    limit: int,
    offset: int,
    service_area_id: int | None = None,
    include_closed: bool = False,
) -> tuple[list[Team], int]:
    query = select(Team).order_by(Team.name)
    if service_area_id is not None:
        query = query.where(Team.service_area_id == service_area_id)
    if not include_closed:
        query = query.where(col(Team.closed_on).is_(None))
    return paginate(session, query, limit=limit, offset=offset)


def update_team(
    *, session: Session, team_id: int, data: TeamUpdate, actor_id: int | None = None
) -> Team:
    team = get_or_404(session, Team, team_id)
    changes = data.model_dump(exclude_unset=True)
    for required in ("name", "service_area_id"):
        if required in changes and changes[required] is None:
            raise DomainError(f"{required} cannot be empty", field=required)
    require_exists(session, ServiceArea, changes.get("service_area_id"),
                   field="service_area_id", what="service area")
    require_exists(session, Staff, changes.get("manager_id"), field="manager_id",
                   what="staff member")
    before = apply_changes(team, changes)
    session.flush()
    audit.record(session, action="team.update", entity="team", entity_id=team.id,
                 actor_id=actor_id, before=before, after=changes)
    return team


def close_team(*, session: Session, team_id: int, on: date, actor_id: int | None = None) -> Team:
    team = get_or_404(session, Team, team_id)
    if team.closed_on is not None:
        raise DomainError(f"team already closed on {team.closed_on}", field="on")
    team.closed_on = on
    session.flush()
    audit.record(session, action="team.close", entity="team", entity_id=team.id,
                 actor_id=actor_id, after={"closed_on": on})
    return team
