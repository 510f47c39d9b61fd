"""Service areas and teams (app/models/org.py): where people are placed and breaches escalate.

`closed_on` is the first day a record is closed; `open_on` is that rule as a SQL
condition, so every list of open areas or teams reads it the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from app.models import ServiceArea, Team
from app.repositories.base import get, get_or_404, paginate, require_exists


def open_on(closed_on: Any, on: date) -> ColumnElement[bool]:
    """Open on `on`: never closed, or closed from a later day."""
    return or_(col(closed_on).is_(None), col(closed_on) > on)


def area(session: Session, area_id: int | None) -> ServiceArea | None:
    return get(session, ServiceArea, area_id)


def team(session: Session, team_id: int | None) -> Team | None:
    return get(session, Team, team_id)


def area_or_404(session: Session, area_id: int) -> ServiceArea:
    return get_or_404(session, ServiceArea, area_id, what="service area")


def team_or_404(session: Session, team_id: int) -> Team:
    return get_or_404(session, Team, team_id)


def require_team(session: Session, team_id: int | None, *, field: str) -> None:
    """A team named by a request must exist: a 422 on `field`, not a 500 from the key."""
    require_exists(session, Team, team_id, field=field, what="team")


def name_taken(
    session: Session, model: type[ServiceArea] | type[Team], name: str, *,
    exclude_id: int | None = None,
) -> bool:
    """Whether another area (or team) has this name, ignoring case: "North" is "north"."""
    query = select(model.id).where(func.lower(col(model.name)) == name.lower())
    if exclude_id is not None:
        query = query.where(col(model.id) != exclude_id)
    return session.exec(query.limit(1)).first() is not None


def areas_page(
    session: Session, *, on: date, include_closed: bool, limit: int, offset: int
) -> tuple[list[ServiceArea], int]:
    """Areas by name: those open on `on`, or every one with `include_closed`."""
    query = select(ServiceArea).order_by(col(ServiceArea.name), col(ServiceArea.id))
    if not include_closed:
        query = query.where(open_on(ServiceArea.closed_on, on))
    return paginate(session, query, limit=limit, offset=offset)


def teams_page(
    session: Session, *, on: date, service_area_id: int | None, include_closed: bool,
    limit: int, offset: int,
) -> tuple[list[Team], int]:
    """Teams by name: those open on `on`, or every one with `include_closed`."""
    query = select(Team).order_by(col(Team.name), col(Team.id))
    if service_area_id is not None:
        query = query.where(Team.service_area_id == service_area_id)
    if not include_closed:
        query = query.where(open_on(Team.closed_on, on))
    return paginate(session, query, limit=limit, offset=offset)


def unclosed_teams(session: Session, ids: Iterable[int] | None = None) -> list[Team]:
    """Teams with no closure recorded (of these, or all), by name: the pages' team choices."""
    query = select(Team).where(col(Team.closed_on).is_(None)).order_by(col(Team.name))
    if ids is not None:
        query = query.where(col(Team.id).in_(list(ids)))
    return list(session.exec(query).all())


def managed_team_ids(session: Session, manager_id: int) -> list[int]:
    """The unclosed teams this person manages (for the page header and navigation)."""
    rows = session.exec(
        select(Team.id).where(Team.manager_id == manager_id, col(Team.closed_on).is_(None))
    ).all()
    return [i for i in rows if i is not None]


def led_area_ids(session: Session, senior_manager_id: int) -> list[int]:
    """The unclosed service areas this person leads as senior manager."""
    rows = session.exec(
        select(ServiceArea.id).where(
            ServiceArea.senior_manager_id == senior_manager_id,
            col(ServiceArea.closed_on).is_(None),
        )
    ).all()
    return [i for i in rows if i is not None]
