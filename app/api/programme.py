"""Programme events for one NQSW: pause, resume, withdraw, complete, child-protection sign-off.

Each event re-evaluates the NQSW at once (a pause moves every stage boundary; a sign-off
lifts the rules it names), so the answer already reflects the event.

A sign-off is a joint decision: one of the two managers it names records it (`POST
.../sign-offs`, their approval), the other approves it (`POST .../sign-offs/{id}/approve`);
only then does it count, from `signed_on`. Either manager may revoke it (`.../revoke`).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request, status
from sqlmodel import Session

from app.api.boundary import BoundaryRoute
from app.api.deps import OnDep, PoliciesDep
from app.api.diary import acting_staff
from app.auth.dependencies import optional_principal
from app.db import SessionDep
from app.models import Enrolment, SignOff
from app.models.diary import ProtectedTime
from app.repositories import enrolment as enrolments_repo
from app.schemas.common import GivenOnQuery, PathId, effective_on
from app.schemas.enrolment import EnrolmentPublic, PauseBrief
from app.schemas.programme import (
    CompleteRequest,
    PauseRequest,
    ProgrammeState,
    ResumeBody,
    ResumeRequest,
    SignOffApproveRequest,
    SignOffRequest,
    SignOffRevokeRequest,
    WithdrawRequest,
)
from app.services import enrolments, programme_events

router = APIRouter(route_class=BoundaryRoute, prefix="/nqsws/{staff_id}", tags=["programme"])


def _state(
    session: Session, enrolment: Enrolment, *, on: date,
    displaced: list[ProtectedTime] | None = None,
    cancelled: list[ProtectedTime] | None = None, restored: list[ProtectedTime] | None = None,
    sign_off: SignOff | None = None,
) -> ProgrammeState:
    """The programme as it stands on `on` (its status from its dates: app.schemas.enrolment)."""
    assert enrolment.id is not None
    sign_offs = programme_events.sign_off_views(session, enrolment.id)
    pauses = programme_events.pauses_of(session, enrolment.id)
    return ProgrammeState(
        enrolment=EnrolmentPublic.model_validate(enrolment).model_copy(
            update={"status": enrolments.status_on(enrolment, pauses, on)}),
        pauses=[PauseBrief.model_validate(p) for p in pauses],
        sign_offs=sign_offs,
        sign_off=next((v for v in sign_offs if sign_off is not None and v.id == sign_off.id),
                      None),
        displaced_protected_time=[e.id for e in displaced or [] if e.id is not None],
        cancelled_protected_time=[e.id for e in cancelled or [] if e.id is not None],
        restored_protected_time=[e.id for e in restored or [] if e.id is not None],
    )


@router.get("/programme")
def get_programme(staff_id: PathId, session: SessionDep, on: OnDep) -> ProgrammeState:
    _, enrolment = programme_events.nqsw_enrolment(session, staff_id)
    return _state(session, enrolment, on=on)


@router.post("/pause")
def pause(
    staff_id: PathId, body: PauseRequest, session: SessionDep, on: OnDep, request: Request,
    policies: PoliciesDep,
) -> ProgrammeState:
    """Stop the programme clock; protected time booked inside the pause is displaced."""
    enrolment, _, displaced = programme_events.pause(
        session, staff_id=staff_id, data=body, on=on, actor_id=acting_staff(request),
        policies=policies,
    )
    return _state(session, enrolment, displaced=displaced, on=on)


@router.post("/resume")
def resume(
    staff_id: PathId, body: ResumeBody, session: SessionDep, on: GivenOnQuery,
    request: Request, policies: PoliciesDep,
) -> ProgrammeState:
    """Restart the clock on the first day back (`resumed_on`, default the request's `on`);
    bookings after it that the pause displaced are booked again (unless rebooked
    meanwhile)."""
    day = effective_on(on, body.on, event_field="resumed_on")
    enrolment, _, restored = programme_events.resume(
        session, staff_id=staff_id, data=ResumeRequest(resumed_on=body.resumed_on or day),
        on=day, actor_id=acting_staff(request), policies=policies,
    )
    return _state(session, enrolment, restored=restored, on=day)


@router.post("/withdraw")
def withdraw(
    staff_id: PathId, body: WithdrawRequest, session: SessionDep, on: GivenOnQuery,
    request: Request, policies: PoliciesDep,
) -> ProgrammeState:
    """End the programme, with the reason, on its last day (`ended_on`, default the
    request's `on`); protected time booked after it is cancelled."""
    day = effective_on(on, body.on, event_field="ended_on")
    enrolment, cancelled = programme_events.withdraw(
        session, staff_id=staff_id, data=body, on=day, actor_id=acting_staff(request),
        policies=policies,
    )
    return _state(session, enrolment, cancelled=cancelled, on=day)


@router.post("/complete")
def complete(
    staff_id: PathId, body: CompleteRequest, session: SessionDep, on: GivenOnQuery,
    request: Request, policies: PoliciesDep,
) -> ProgrammeState:
    """Finish the programme, with its outcome, on its last day (`ended_on`, default the
    request's `on`); protected time booked after it is cancelled."""
    day = effective_on(on, body.on, event_field="ended_on")
    enrolment, cancelled = programme_events.complete(
        session, staff_id=staff_id, data=body, on=day, actor_id=acting_staff(request),
        policies=policies,
    )
    return _state(session, enrolment, cancelled=cancelled, on=day)


@router.post("/sign-offs", status_code=status.HTTP_201_CREATED)
def sign_off(
    staff_id: PathId, body: SignOffRequest, session: SessionDep, on: OnDep, request: Request,
    policies: PoliciesDep,
) -> ProgrammeState:
    """Record a readiness sign-off with your approval, as one of the two managers it names
    (the NQSW's team manager, their service area's senior manager). It counts only once
    the other manager approves it: `sign_off.awaiting` says whose approval it waits for."""
    principal = optional_principal(request)
    record = programme_events.sign_off(
        session, staff_id=staff_id, data=body, on=on, actor_id=acting_staff(request),
        actor_role=principal.role if principal is not None else None,
        policies=policies,
    )
    return _state(session, _enrolment_of(session, record), sign_off=record, on=on)


@router.post("/sign-offs/{sign_off_id}/approve")
def approve_sign_off(
    staff_id: PathId, sign_off_id: PathId, session: SessionDep, on: OnDep, request: Request,
    policies: PoliciesDep, body: SignOffApproveRequest | None = None,
) -> ProgrammeState:
    """The other named manager's approval: the sign-off is in force from `signed_on` and
    the NQSW is re-evaluated at once."""
    record = programme_events.approve_sign_off(
        session, staff_id=staff_id, sign_off_id=sign_off_id, on=on,
        actor_id=acting_staff(request), note=body.note if body is not None else None,
        policies=policies,
    )
    return _state(session, _enrolment_of(session, record), sign_off=record, on=on)


@router.post("/sign-offs/{sign_off_id}/revoke")
def revoke_sign_off(
    staff_id: PathId, sign_off_id: PathId, body: SignOffRevokeRequest, session: SessionDep,
    on: GivenOnQuery, request: Request, policies: PoliciesDep,
) -> ProgrammeState:
    """Withdraw a sign-off, with the reason: the rules it lifted apply again from
    `revoked_on` (default the request's `on`)."""
    day = effective_on(on, body.on, event_field="revoked_on")
    record = programme_events.revoke_sign_off(
        session, staff_id=staff_id, sign_off_id=sign_off_id, data=body, on=day,
        actor_id=acting_staff(request), policies=policies,
    )
    return _state(session, _enrolment_of(session, record), sign_off=record, on=day)


def _enrolment_of(session: Session, record: SignOff) -> Enrolment:
    enrolment = enrolments_repo.enrolment(session, record.enrolment_id)
    assert enrolment is not None
    return enrolment
