"""Programme events for one NQSW: pause, resume, withdraw, complete, child-protection sign-off.

Each event re-evaluates the NQSW at once (a pause moves every stage boundary; a sign-off
lifts the rules it names), so the answer already reflects the event.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from sqlmodel import Session

from app.api.deps import OnDep
from app.api.diary import acting_staff
from app.db import SessionDep
from app.models import Enrolment
from app.models.diary import ProtectedTime
from app.schemas.common import PathId
from app.schemas.enrolment import EnrolmentPublic, PauseBrief, SignOffBrief
from app.schemas.programme import (
    CompleteRequest,
    PauseRequest,
    ProgrammeState,
    ResumeRequest,
    SignOffRequest,
    WithdrawRequest,
)
from app.services import enrolments, programme_events

router = APIRouter(prefix="/nqsws/{staff_id}", tags=["programme"])


def _state(
    session: Session, enrolment: Enrolment, *, displaced: list[ProtectedTime] | None = None,
    cancelled: list[ProtectedTime] | None = None, restored: list[ProtectedTime] | None = None,
) -> ProgrammeState:
    assert enrolment.id is not None
    return ProgrammeState(
        enrolment=EnrolmentPublic.model_validate(enrolment),
        pauses=[PauseBrief.model_validate(p)
                for p in programme_events.pauses_of(session, enrolment.id)],
        sign_offs=[SignOffBrief.model_validate(s)
                   for s in enrolments.sign_offs_for(session, enrolment.id)],
        displaced_protected_time=[e.id for e in displaced or [] if e.id is not None],
        cancelled_protected_time=[e.id for e in cancelled or [] if e.id is not None],
        restored_protected_time=[e.id for e in restored or [] if e.id is not None],
    )


@router.get("/programme")
def get_programme(staff_id: PathId, session: SessionDep) -> ProgrammeState:
    _, enrolment = programme_events.nqsw_enrolment(session, staff_id)
    return _state(session, enrolment)


@router.post("/pause")
def pause(
    staff_id: PathId, body: PauseRequest, session: SessionDep, on: OnDep, request: Request
) -> ProgrammeState:
    """Stop the programme clock; protected time booked inside the pause is displaced."""
    enrolment, _, displaced = programme_events.pause(
        session, staff_id=staff_id, data=body, on=on, actor_id=acting_staff(request)
    )
    return _state(session, enrolment, displaced=displaced)


@router.post("/resume")
def resume(
    staff_id: PathId, body: ResumeRequest, session: SessionDep, on: OnDep, request: Request
) -> ProgrammeState:
    """Restart the clock on the first day back; bookings after it that the pause displaced
    are booked again (unless rebooked meanwhile)."""
    enrolment, _, restored = programme_events.resume(
        session, staff_id=staff_id, data=body, on=on, actor_id=acting_staff(request)
    )
    return _state(session, enrolment, restored=restored)


@router.post("/withdraw")
def withdraw(
    staff_id: PathId, body: WithdrawRequest, session: SessionDep, on: OnDep, request: Request
) -> ProgrammeState:
    enrolment, cancelled = programme_events.withdraw(
        session, staff_id=staff_id, data=body, on=on, actor_id=acting_staff(request)
    )
    return _state(session, enrolment, cancelled=cancelled)


@router.post("/complete")
def complete(
    staff_id: PathId, body: CompleteRequest, session: SessionDep, on: OnDep, request: Request
) -> ProgrammeState:
    enrolment, cancelled = programme_events.complete(
        session, staff_id=staff_id, data=body, on=on, actor_id=acting_staff(request)
    )
    return _state(session, enrolment, cancelled=cancelled)


@router.post("/sign-offs", status_code=status.HTTP_201_CREATED)
def sign_off(
    staff_id: PathId, body: SignOffRequest, session: SessionDep, on: OnDep, request: Request
) -> ProgrammeState:
    """A readiness sign-off approved by a team manager and a senior manager together."""
    programme_events.sign_off(session, staff_id=staff_id, data=body, on=on,
                              actor_id=acting_staff(request))
    _, enrolment = programme_events.nqsw_enrolment(session, staff_id)
    return _state(session, enrolment)
