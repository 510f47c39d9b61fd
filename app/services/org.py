"""Service areas and teams: creating, renaming, re-parenting and closing them.

Dates: `closed_on` is the first day an area or team is closed. On any earlier day it is
open, so a closure recorded in advance changes nothing until its day comes. Breaches
escalate through these records, so the people named on them must hold the role the
ladder expects: a service area's senior manager is a senior_manager, a team's manager a
team_manager.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from app.errors import Conflict, DomainError, NotFound
from app.models import ServiceArea, Team
from app.models.base import Role
from app.repositories import org as org_repo
from app.repositories import staff as staff_repo
from app.schemas.org import ServiceAreaCreate, ServiceAreaUpdate, TeamCreate, TeamUpdate
from app.services import audit
from app.services.changes import apply_changes


def is_open(record: ServiceArea | Team, on: date) -> bool:
    return record.closed_on is None or record.closed_on > on


def _require_role(
    session: Session, staff_id: int | None, role: Role, *, field: str, on: date
) -> None:
    """The person named in `field` exists (404 naming the field), holds `role` and has not
    left by `on` (422)."""
    if staff_id is None:
        return
    person = staff_repo.person(session, staff_id)
    if person is None:
        raise NotFound("staff member", staff_id, field=field)
    if person.role != role.value:
        wanted = role.value.replace("_", " ")
        raise DomainError(
            f"staff member {staff_id} is a {person.role.replace('_', ' ')}, not a {wanted}",
            field=field,
        )
    if person.leave_date is not None and person.leave_date <= on:
        raise DomainError(f"staff member {staff_id} left on {person.leave_date}", field=field)


def _ensure_name_free(
    session: Session, model: type[ServiceArea] | type[Team], name: str, *, what: str,
    exclude_id: int | None = None,
) -> None:
    """A clear 409 naming the name, ignoring case: "North" and "north" are one area."""
    if org_repo.name_taken(session, model, name, exclude_id=exclude_id):
        raise Conflict(f"a {what} named '{name}' already exists", field="name")


def _require_open(
    session: Session, model: type[ServiceArea] | type[Team], ident: int | None, *, on: date,
    field: str, what: str,
) -> None:
    """A record named as a place to put something must exist (404 naming the field) and be
    open on `on` (422)."""
    if ident is None:
        return
    row = org_repo.area(session, ident) if model is ServiceArea else org_repo.team(session, ident)
    if row is None:
        raise NotFound(what, ident, field=field)
    if not is_open(row, on):
        raise DomainError(f"{what} {ident} ({row.name}) closed on {row.closed_on}",
                          field=field)


def require_open_area(session: Session, area_id: int | None, *, on: date, field: str) -> None:
    """A team can only be placed in a service area that is open on `on`."""
    _require_open(session, ServiceArea, area_id, on=on, field=field, what="service area")


def require_open_team(session: Session, team_id: int | None, *, on: date, field: str) -> None:
    """Staff can only be placed in a team that is open on `on` (also for services/staff)."""
    _require_open(session, Team, team_id, on=on, field=field, what="team")


def create_service_area(
    *, session: Session, data: ServiceAreaCreate, on: date, actor_id: int | None = None
) -> ServiceArea:
    _ensure_name_free(session, ServiceArea, data.name, what="service area")
    _require_role(session, data.senior_manager_id, Role.senior_manager,
                  field="senior_manager_id", on=on)
    area = ServiceArea(**data.model_dump())
    session.add(area)
    session.flush()
    audit.record(session, action="service_area.create", entity="service_area",
                 entity_id=area.id, actor_id=actor_id, after=area, effective_on=on)
    return area


def list_service_areas(
    *, session: Session, limit: int, offset: int, on: date, include_closed: bool = False
) -> tuple[list[ServiceArea], int]:
    """Areas by name: those open on `on`, or every one with `include_closed`."""
    return org_repo.areas_page(session, on=on, include_closed=include_closed, limit=limit,
                               offset=offset)


def update_service_area(
    *, session: Session, area_id: int, data: ServiceAreaUpdate, on: date,
    actor_id: int | None = None,
) -> ServiceArea:
    area = org_repo.area_or_404(session, area_id)
    changes = data.model_dump(exclude_unset=True, exclude={"on"})
    if "name" in changes:
        if changes["name"] is None:
            raise DomainError("name cannot be empty", field="name")
        _ensure_name_free(session, ServiceArea, changes["name"], what="service area",
                          exclude_id=area.id)
    _require_role(session, changes.get("senior_manager_id"), Role.senior_manager,
                  field="senior_manager_id", on=on)
    changes = {k: v for k, v in changes.items() if getattr(area, k) != v}
    if not changes:
        return area
    before = apply_changes(area, changes)
    session.flush()
    audit.record(session, action="service_area.update", entity="service_area",
                 entity_id=area.id, actor_id=actor_id, before=before, after=changes,
                 effective_on=on)
    return area


def close_service_area(
    *, session: Session, area_id: int, on: date, actor_id: int | None = None
) -> ServiceArea:
    area = org_repo.area_or_404(session, area_id)
    if area.closed_on is not None:
        raise DomainError(f"service area already closed on {area.closed_on}", field="on")
    area.closed_on = on
    session.flush()
    audit.record(session, action="service_area.close", entity="service_area",
                 entity_id=area.id, actor_id=actor_id, before={"closed_on": None},
                 after={"closed_on": on}, effective_on=on)
    return area


def create_team(
    *, session: Session, data: TeamCreate, on: date, actor_id: int | None = None
) -> Team:
    _ensure_name_free(session, Team, data.name, what="team")
    require_open_area(session, data.service_area_id, on=on, field="service_area_id")
    _require_role(session, data.manager_id, Role.team_manager, field="manager_id", on=on)
    team = Team(**data.model_dump())
    session.add(team)
    session.flush()
    audit.record(session, action="team.create", entity="team", entity_id=team.id,
                 actor_id=actor_id, after=team, effective_on=on)
    return team


def list_teams(
    *,
    session: Session,
    limit: int,
    offset: int,
    on: date,
    service_area_id: int | None = None,
    include_closed: bool = False,
) -> tuple[list[Team], int]:
    """Teams by name: those open on `on`, or every one with `include_closed`."""
    return org_repo.teams_page(session, on=on, service_area_id=service_area_id,
                               include_closed=include_closed, limit=limit, offset=offset)


def update_team(
    *, session: Session, team_id: int, data: TeamUpdate, on: date, actor_id: int | None = None
) -> Team:
    team = org_repo.team_or_404(session, team_id)
    changes = data.model_dump(exclude_unset=True, exclude={"on"})
    for required in ("name", "service_area_id"):
        if required in changes and changes[required] is None:
            raise DomainError(f"{required} cannot be empty", field=required)
    if "name" in changes:
        _ensure_name_free(session, Team, changes["name"], what="team", exclude_id=team.id)
    if changes.get("service_area_id") not in (None, team.service_area_id):
        require_open_area(session, changes["service_area_id"], on=on, field="service_area_id")
    _require_role(session, changes.get("manager_id"), Role.team_manager, field="manager_id",
                  on=on)
    changes = {k: v for k, v in changes.items() if getattr(team, k) != v}
    if not changes:
        return team
    before = apply_changes(team, changes)
    session.flush()
    audit.record(session, action="team.update", entity="team", entity_id=team.id,
                 actor_id=actor_id, before=before, after=changes, effective_on=on)
    return team


def close_team(*, session: Session, team_id: int, on: date, actor_id: int | None = None) -> Team:
    team = org_repo.team_or_404(session, team_id)
    if team.closed_on is not None:
        raise DomainError(f"team already closed on {team.closed_on}", field="on")
    team.closed_on = on
    session.flush()
    audit.record(session, action="team.close", entity="team", entity_id=team.id,
                 actor_id=actor_id, before={"closed_on": None}, after={"closed_on": on},
                 effective_on=on)
    return team
