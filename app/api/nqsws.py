"""NQSWs: the NQSW-centred view of staff and enrolment, with progress in programme time."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlmodel import Session

from app.api.deps import OnDep, PageDep, PoliciesDep
from app.auth import PrincipalDep
from app.db import SessionDep
from app.models import Enrolment, Staff
from app.models.base import EnrolmentStatus, Programme
from app.policy.policies import PolicySet
from app.schemas.common import Page, PathId
from app.schemas.enrolment import (
    EnrolmentCreate,
    EnrolmentDetail,
    EnrolmentPublic,
    NqswCreate,
    NqswPublic,
    NqswUpdate,
    PauseBrief,
    ProgrammeProgress,
    SignOffBrief,
)
from app.schemas.staff import id_query
from app.services import enrolments

router = APIRouter(tags=["nqsws"])


def _nqsw(staff: Staff, enrolment: Enrolment, progress: ProgrammeProgress) -> NqswPublic:
    return NqswPublic(
        id=staff.id,  # type: ignore[arg-type]
        name=staff.name,
        email=staff.email,
        role=staff.role,
        team_id=staff.team_id,
        contracted_hours=staff.contracted_hours,
        fte=staff.fte,
        start_date=staff.start_date,
        leave_date=staff.leave_date,
        enrolment=EnrolmentPublic.model_validate(enrolment),
        progress=progress,
    )


def _one(
    session: Session, staff: Staff, enrolment: Enrolment, on: date, policies: PolicySet
) -> NqswPublic:
    assert enrolment.id is not None
    progress = enrolments.progress_for(session, [enrolment], on, policies)[enrolment.id]
    return _nqsw(staff, enrolment, progress)


@router.post("/nqsws", status_code=status.HTTP_201_CREATED)
def create_nqsw(
    body: NqswCreate,
    session: SessionDep,
    on: OnDep,
    policies: PoliciesDep,
    principal: PrincipalDep,
) -> NqswPublic:
    """Create the NQSW's staff record and their enrolment together, or neither."""
    staff, enrolment = enrolments.create_nqsw(session=session, data=body,
                                               actor_id=principal.staff_id)
    return _one(session, staff, enrolment, on, policies)


@router.get("/nqsws")
def list_nqsws(
    session: SessionDep,
    page: PageDep,
    on: OnDep,
    policies: PoliciesDep,
    principal: PrincipalDep,
    team_id: Annotated[int | None, id_query("Only this team.")] = None,
    service_area_id: Annotated[int | None, id_query("Only this service area.")] = None,
    programme: Annotated[Programme | None, Query(description="asye or swip.")] = None,
    status: Annotated[EnrolmentStatus | None, Query(description="Enrolment status.")] = None,
    include_left: Annotated[
        bool, Query(description="Also those who had left the organisation by `on`.")
    ] = False,
) -> Page[NqswPublic]:
    rows, count = enrolments.list_nqsws(
        session=session, limit=page.limit, offset=page.offset, on=on, team_id=team_id,
        service_area_id=service_area_id, programme=programme, status=status,
        include_left=include_left, scope=principal.reach(on),
    )
    progress = enrolments.progress_for(session, [e for _, e in rows], on, policies)
    return Page(data=[_nqsw(s, e, progress[e.id]) for s, e in rows],  # type: ignore[index]
                count=count)


@router.get("/nqsws/{staff_id}")
def get_nqsw(
    staff_id: PathId, session: SessionDep, on: OnDep, policies: PoliciesDep
) -> NqswPublic:
    staff, enrolment = enrolments.get_nqsw(session=session, staff_id=staff_id)
    return _one(session, staff, enrolment, on, policies)


@router.patch("/nqsws/{staff_id}")
def update_nqsw(
    staff_id: PathId,
    body: NqswUpdate,
    session: SessionDep,
    on: OnDep,
    policies: PoliciesDep,
    principal: PrincipalDep,
) -> NqswPublic:
    """Change the assessor, the advanced practitioner or the working pattern (from `on`)."""
    staff, enrolment = enrolments.update_nqsw(session=session, staff_id=staff_id, data=body, on=on,
                                               actor_id=principal.staff_id)
    return _one(session, staff, enrolment, on, policies)


@router.get("/nqsws/{staff_id}/enrolments")
def list_enrolments(staff_id: PathId, session: SessionDep) -> list[EnrolmentPublic]:
    return [EnrolmentPublic.model_validate(e)
            for e in enrolments.list_enrolments(session=session, staff_id=staff_id)]


@router.post("/enrolments", status_code=status.HTTP_201_CREATED)
def enrol(
    body: EnrolmentCreate,
    session: SessionDep,
    on: OnDep,
    policies: PoliciesDep,
    principal: PrincipalDep,
) -> EnrolmentDetail:
    """Enrol an existing staff member (409 if they already have an open enrolment)."""
    enrolment = enrolments.enrol(session=session, data=body, actor_id=principal.staff_id)
    return _detail(session, enrolment, on, policies)


@router.get("/enrolments/{enrolment_id}")
def get_enrolment(
    enrolment_id: PathId, session: SessionDep, on: OnDep, policies: PoliciesDep
) -> EnrolmentDetail:
    enrolment = enrolments.get_enrolment(session=session, enrolment_id=enrolment_id)
    return _detail(session, enrolment, on, policies)


def _detail(
    session: Session, enrolment: Enrolment, on: date, policies: PolicySet
) -> EnrolmentDetail:
    assert enrolment.id is not None
    pauses = enrolments.pauses_for(session, [enrolment.id]).get(enrolment.id, [])
    return EnrolmentDetail(
        **EnrolmentPublic.model_validate(enrolment).model_dump(),
        progress=enrolments.programme_progress(enrolment, pauses, on, policies),
        pauses=[PauseBrief.model_validate(p) for p in pauses],
        sign_offs=[SignOffBrief.model_validate(s)
                   for s in enrolments.sign_offs_for(session, enrolment.id)],
    )
