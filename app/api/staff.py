"""Staff: everyone who holds cases, manages, supervises or coordinates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlmodel import Session

from app.api.boundary import BoundaryRoute
from app.api.deps import OnDep, PageDep, PoliciesDep
from app.auth import PrincipalDep
from app.db import SessionDep
from app.models import Staff
from app.models.base import Role
from app.repositories.staff import terms_on
from app.schemas.common import GivenOnQuery, Page, PathId, effective_on
from app.schemas.staff import (
    LeaveRequest,
    NotNul,
    StaffCreate,
    StaffPublic,
    StaffUpdate,
    id_query,
    text_query,
)
from app.services import staff as staff_service

router = APIRouter(route_class=BoundaryRoute, tags=["staff"])


@router.post("/staff", status_code=status.HTTP_201_CREATED)
def create_staff(body: StaffCreate, session: SessionDep, principal: PrincipalDep) -> StaffPublic:
    staff = staff_service.create_staff(session=session, data=body, actor_id=principal.staff_id)
    return StaffPublic.model_validate(staff)


@router.get("/staff")
def list_staff(
    session: SessionDep,
    page: PageDep,
    on: OnDep,
    principal: PrincipalDep,
    role: Annotated[Role | None, Query(description="Only this role.")] = None,
    team_id: Annotated[int | None, id_query("Only this team.")] = None,
    active: Annotated[
        bool | None,
        Query(description="Only those employed (true) or not employed (false) on `on`."),
    ] = None,
    q: Annotated[
        str | None, text_query("Part of a name or an email address.", max_length=200), NotNul
    ] = None,
) -> Page[StaffPublic]:
    rows, count = staff_service.list_staff(
        session=session, limit=page.limit, offset=page.offset, on=on, role=role,
        team_id=team_id, active=active, search=q, scope=principal.reach(on),
    )
    return Page(data=as_of(session, rows, on), count=count)


@router.get("/staff/{staff_id}")
def get_staff(staff_id: PathId, session: SessionDep, on: OnDep) -> StaffPublic:
    """The record with the team, FTE and hours in force on `on` (default today)."""
    return as_of(session, [staff_service.get_staff(session=session, staff_id=staff_id)], on)[0]


def as_of(session: Session, rows: Sequence[Staff], on: date) -> list[StaffPublic]:
    """Staff records as they stood on `on`: a dated change to someone's team, FTE or hours
    (app/services/history.py) shows from its date, not before (one query for the page)."""
    terms = terms_on(session, rows, on)
    return [
        StaffPublic.model_validate(row).model_copy(update={
            "team_id": terms[row.id].team_id, "fte": terms[row.id].fte,
            "contracted_hours": terms[row.id].contracted_hours,
        }) if row.id in terms else StaffPublic.model_validate(row)
        for row in rows
    ]


@router.patch("/staff/{staff_id}")
def update_staff(
    staff_id: PathId, body: StaffUpdate, session: SessionDep, on: OnDep, principal: PrincipalDep,
    policies: PoliciesDep,
) -> StaffPublic:
    """Correct a staff record; `on` is when a change to their team, FTE or hours takes
    effect (the answer shows the record as of `on`)."""
    staff = staff_service.update_staff(session=session, staff_id=staff_id, data=body, on=on,
                                       policies=policies, actor_id=principal.staff_id)
    return as_of(session, [staff], on)[0]


@router.post("/staff/{staff_id}/leave")
def leave(
    staff_id: PathId, session: SessionDep, principal: PrincipalDep, policies: PoliciesDep,
    given_on: GivenOnQuery, body: LeaveRequest | None = None,
) -> StaffPublic:
    """Record the date someone leaves (the first day they are gone; `on` in the query or
    the body, default today); nothing is deleted."""
    on = effective_on(given_on, body.on if body else None)
    staff = staff_service.leave(session=session, staff_id=staff_id, on=on, policies=policies,
                                actor_id=principal.staff_id)
    return StaffPublic.model_validate(staff)
