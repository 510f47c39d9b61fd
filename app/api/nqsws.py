"""NQSWs: the NQSW-centred view of staff and enrolment, with progress in programme time.

Also the enrolments themselves (`/enrolments`). Every answer is as of `on` (default
today): which enrolment is the NQSW's, its status on that day and its progress.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlmodel import Session

from app.api.boundary import BoundaryRoute
from app.api.deps import PageDep, PoliciesDep
from app.auth import PrincipalDep
from app.db import SessionDep
from app.models import Enrolment, Staff
from app.models.base import Programme
from app.policy.policies import PolicySet
from app.repositories.enrolment import pauses_for
from app.repositories.staff import StaffTerms, terms_on
from app.schemas.common import GivenOnQuery, OnQuery, Page, PathId, effective_on
from app.schemas.enrolment import (
    EnrolmentCreate,
    EnrolmentDetail,
    EnrolmentPublic,
    EnrolmentStatusOn,
    EnrolmentUpdate,
    NqswCreate,
    NqswPublic,
    NqswUpdate,
    PauseBrief,
    ProgrammeProgress,
)
from app.schemas.staff import id_query
from app.services import enrolments, programme_events

router = APIRouter(route_class=BoundaryRoute, tags=["nqsws"])

StatusQuery = Annotated[
    EnrolmentStatusOn | None,
    Query(description="Only this status on `on`: not_started, active, paused, withdrawn or "
                      "completed."),
]
ProgrammeQuery = Annotated[Programme | None, Query(description="asye or swip.")]


def enrolment_public(enrolment: Enrolment, status_on: str) -> EnrolmentPublic:
    """The enrolment with its status on the request's date in place of the stored one."""
    return EnrolmentPublic.model_validate(enrolment).model_copy(update={"status": status_on})


def _nqsw(
    staff: Staff, terms: StaffTerms, enrolment: Enrolment, progress: ProgrammeProgress,
    status_on: str,
) -> NqswPublic:
    return NqswPublic(
        id=staff.id,  # type: ignore[arg-type]
        name=staff.name,
        email=staff.email,
        role=staff.role,
        team_id=terms.team_id,
        contracted_hours=terms.contracted_hours,
        fte=terms.fte,
        start_date=staff.start_date,
        leave_date=staff.leave_date,
        enrolment=enrolment_public(enrolment, status_on),
        progress=progress,
    )


def _views(
    session: Session, rows: list[tuple[Staff, Enrolment]], on: date, policies: PolicySet
) -> list[NqswPublic]:
    """NQSW views of many rows as of `on` (team, FTE and hours then in force), with one
    query for all their pauses and one for their terms."""
    pauses = pauses_for(session, (e.id for _, e in rows if e.id is not None))
    terms = terms_on(session, [staff for staff, _ in rows], on)
    views = []
    for staff, enrolment in rows:
        own = pauses.get(enrolment.id, []) if enrolment.id is not None else []
        progress = enrolments.programme_progress(enrolment, own, on, policies)
        views.append(_nqsw(staff, terms[staff.id], enrolment, progress,  # type: ignore[index]
                           enrolments.status_on(enrolment, own, on)))
    return views


def _one(
    session: Session, staff: Staff, enrolment: Enrolment, on: date, policies: PolicySet
) -> NqswPublic:
    return _views(session, [(staff, enrolment)], on, policies)[0]


@router.post("/nqsws", status_code=status.HTTP_201_CREATED)
def create_nqsw(
    body: NqswCreate,
    session: SessionDep,
    on: OnQuery,
    policies: PoliciesDep,
    principal: PrincipalDep,
) -> NqswPublic:
    """Create the NQSW's staff record and their enrolment together, or neither.

    Omit `contracted_hours` to have them worked out from `fte` and the full-time week.
    """
    staff, enrolment = enrolments.create_nqsw(session=session, data=body, on=on,
                                               actor_id=principal.staff_id)
    return _one(session, staff, enrolment, on, policies)


@router.get("/nqsws")
def list_nqsws(
    session: SessionDep,
    page: PageDep,
    on: OnQuery,
    policies: PoliciesDep,
    principal: PrincipalDep,
    team_id: Annotated[int | None, id_query("Only this team.")] = None,
    service_area_id: Annotated[int | None, id_query("Only this service area.")] = None,
    programme: ProgrammeQuery = None,
    status: StatusQuery = None,
    include_left: Annotated[
        bool, Query(description="Also those who had left the organisation by `on`.")
    ] = False,
) -> Page[NqswPublic]:
    """NQSWs whose programme had started by `on` (use status=not_started for later starters)."""
    rows, count = enrolments.list_nqsws(
        session=session, limit=page.limit, offset=page.offset, on=on, team_id=team_id,
        service_area_id=service_area_id, programme=programme, status=status,
        include_left=include_left, scope=principal.reach(on),
    )
    return Page(data=_views(session, rows, on, policies), count=count)


@router.get("/nqsws/{staff_id}")
def get_nqsw(
    staff_id: PathId, session: SessionDep, on: OnQuery, policies: PoliciesDep
) -> NqswPublic:
    """The NQSW with their enrolment as of `on`: the latest started by then, else the next."""
    staff, enrolment = enrolments.get_nqsw_on(session=session, staff_id=staff_id, on=on)
    return _one(session, staff, enrolment, on, policies)


@router.patch("/nqsws/{staff_id}")
def update_nqsw(
    staff_id: PathId,
    body: NqswUpdate,
    session: SessionDep,
    on: GivenOnQuery,
    policies: PoliciesDep,
    principal: PrincipalDep,
) -> NqswPublic:
    """Change the assessor, the advanced practitioner, the working pattern, or correct the
    programme or its start date, from `on` (query or body)."""
    day = effective_on(on, body.on)
    staff, enrolment = enrolments.update_nqsw(session=session, staff_id=staff_id, data=body,
                                               on=day, policies=policies,
                                               actor_id=principal.staff_id)
    return _one(session, staff, enrolment, day, policies)


@router.get("/nqsws/{staff_id}/enrolments")
def list_nqsw_enrolments(
    staff_id: PathId, session: SessionDep, page: PageDep, on: OnQuery
) -> Page[EnrolmentPublic]:
    """Every enrolment of the NQSW, oldest first, each with its status on `on`."""
    rows, count = enrolments.enrolments_of(session=session, staff_id=staff_id,
                                           limit=page.limit, offset=page.offset)
    return _enrolment_page(session, rows, count, on)


@router.post("/enrolments", status_code=status.HTTP_201_CREATED)
def enrol(
    body: EnrolmentCreate,
    session: SessionDep,
    on: OnQuery,
    policies: PoliciesDep,
    principal: PrincipalDep,
) -> EnrolmentDetail:
    """Enrol an existing staff member (409 if they already have an open enrolment).

    Re-evaluated as of `on`: cases they already hold now count against the NQSW caps.
    """
    enrolment = enrolments.enrol(session=session, data=body, on=on, policies=policies,
                                 actor_id=principal.staff_id)
    return _detail(session, enrolment, on, policies)


@router.get("/enrolments")
def list_enrolments(
    session: SessionDep,
    page: PageDep,
    on: OnQuery,
    principal: PrincipalDep,
    staff_id: Annotated[int | None, id_query("Only this person's enrolments.")] = None,
    programme: ProgrammeQuery = None,
    status: StatusQuery = None,
) -> Page[EnrolmentPublic]:
    """Enrolments started by `on` (or with `status` on `on`), oldest first."""
    rows, count = enrolments.list_enrolments(
        session=session, limit=page.limit, offset=page.offset, on=on, staff_id=staff_id,
        programme=programme, status=status, scope=principal.reach(on),
    )
    return _enrolment_page(session, rows, count, on)


@router.get("/enrolments/{enrolment_id}")
def get_enrolment(
    enrolment_id: PathId, session: SessionDep, on: OnQuery, policies: PoliciesDep
) -> EnrolmentDetail:
    enrolment = enrolments.get_enrolment(session=session, enrolment_id=enrolment_id)
    return _detail(session, enrolment, on, policies)


@router.patch("/enrolments/{enrolment_id}")
def update_enrolment(
    enrolment_id: PathId,
    body: EnrolmentUpdate,
    session: SessionDep,
    on: GivenOnQuery,
    policies: PoliciesDep,
    principal: PrincipalDep,
) -> EnrolmentDetail:
    """Correct the programme, start date, assessor or advanced practitioner; the NQSW is
    re-evaluated from `on` (query or body)."""
    day = effective_on(on, body.on)
    enrolment = enrolments.update_enrolment(session=session, enrolment_id=enrolment_id,
                                            data=body, on=day, policies=policies,
                                            actor_id=principal.staff_id)
    return _detail(session, enrolment, day, policies)


def _enrolment_page(
    session: Session, rows: list[Enrolment], count: int, on: date
) -> Page[EnrolmentPublic]:
    """A page of enrolments, each with its status on `on`."""
    statuses = enrolments.statuses_on(session, rows, on)
    return Page(data=[enrolment_public(e, statuses[e.id]) for e in rows],  # type: ignore[index]
                count=count)


def _detail(
    session: Session, enrolment: Enrolment, on: date, policies: PolicySet
) -> EnrolmentDetail:
    assert enrolment.id is not None
    pauses = pauses_for(session, [enrolment.id]).get(enrolment.id, [])
    return EnrolmentDetail(
        **enrolment_public(enrolment, enrolments.status_on(enrolment, pauses, on)).model_dump(),
        progress=enrolments.programme_progress(enrolment, pauses, on, policies),
        pauses=[PauseBrief.model_validate(p) for p in pauses],
        sign_offs=programme_events.sign_off_views(session, enrolment.id),
    )
