"""The protected-time diary of one NQSW, with the entitlement and whether it is on track."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from sqlmodel import Session

from app.api.boundary import BoundaryRoute
from app.api.deps import OnDep, PageDep, PoliciesDep, SettingsDep
from app.auth.dependencies import optional_principal
from app.db import SessionDep
from app.models.diary import ProtectedTime, ProtectedTimeStatus
from app.schemas.common import GivenOnQuery, PathId, effective_on
from app.schemas.diary import (
    DiaryPage,
    DiarySummary,
    EntitlementView,
    ProtectedTimeCancel,
    ProtectedTimeCreate,
    ProtectedTimeMove,
    ProtectedTimePublic,
    ProtectedTimeTaken,
)
from app.services import diary

router = APIRouter(route_class=BoundaryRoute, prefix="/nqsws/{staff_id}/diary", tags=["diary"])


def acting_staff(request: Request) -> int | None:
    """Who makes the change, for the audit trail: the signed-in person (if staff), never
    anyone a body names."""
    principal = optional_principal(request)
    return principal.staff_id if principal is not None else None


def _public(entry: ProtectedTime, extras: dict[int, dict[str, Any]]) -> ProtectedTimePublic:
    view = ProtectedTimePublic.model_validate(entry)
    for key, value in extras.get(entry.id or 0, {}).items():
        setattr(view, key, value)
    return view


def _one(session: Session, staff_id: int, entry: ProtectedTime) -> ProtectedTimePublic:
    return _public(entry, diary.public_extras(session, [entry],
                                              diary.day_hours_of(session, staff_id)))


@router.get("")
def list_diary(
    staff_id: PathId,
    session: SessionDep,
    page: PageDep,
    on: OnDep,
    policies: PoliciesDep,
    status_: Annotated[
        ProtectedTimeStatus | None, Query(alias="status", description="Only this status.")
    ] = None,
    from_: Annotated[date | None, Query(alias="from", description="From this day.")] = None,
    to: Annotated[date | None, Query(description="Up to this day.")] = None,
) -> DiaryPage:
    """The bookings, by date, with the entitlement summary as of `on`."""
    rows, count, _ = diary.list_entries(
        session, staff_id=staff_id, limit=page.limit, offset=page.offset,
        status=status_.value if status_ else None, first=from_, last=to,
    )
    summary = diary.summary(session, staff_id=staff_id, on=on, policies=policies)
    extras = diary.public_extras(session, rows, diary.day_hours_of(session, staff_id))
    return DiaryPage(data=[_public(r, extras) for r in rows], count=count,
                     summary=DiarySummary.model_validate(summary))


@router.get("/summary")
def diary_summary(
    staff_id: PathId, session: SessionDep, on: OnDep, policies: PoliciesDep
) -> DiarySummary:
    return DiarySummary.model_validate(
        diary.summary(session, staff_id=staff_id, on=on, policies=policies)
    )


@router.get("/entitlement")
def get_entitlement(
    staff_id: PathId, session: SessionDep, on: OnDep, policies: PoliciesDep
) -> EntitlementView:
    """How many protected hours the NQSW is owed over the programme and by `on`, and why."""
    return EntitlementView.model_validate(
        diary.entitlement_view(session, staff_id=staff_id, on=on, policies=policies)
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def book(
    staff_id: PathId, body: ProtectedTimeCreate, session: SessionDep, on: OnDep, request: Request,
    policies: PoliciesDep,
) -> ProtectedTimePublic:
    """Book a full day, a half day or some hours (or rebook cancelled or displaced time)."""
    entry = diary.book(session, staff_id=staff_id, data=body, on=on,
                       actor_id=acting_staff(request), policies=policies)
    return _one(session, staff_id, entry)


@router.get("/{entry_id}")
def get_entry(staff_id: PathId, entry_id: PathId, session: SessionDep) -> ProtectedTimePublic:
    context = diary.load_context(session, staff_id)
    entry = diary.get_entry(session, context, entry_id)
    return _public(entry, diary.public_extras(session, [entry], context.day_hours))


@router.post("/{entry_id}/move")
def move(
    staff_id: PathId, entry_id: PathId, body: ProtectedTimeMove, session: SessionDep, on: OnDep,
    request: Request, policies: PoliciesDep,
) -> ProtectedTimePublic:
    """Reschedule a booking that has not happened yet to another working day (or another
    time that day), on or after `on`."""
    entry = diary.move(session, staff_id=staff_id, entry_id=entry_id, data=body, on=on,
                       actor_id=acting_staff(request), policies=policies)
    return _one(session, staff_id, entry)


@router.post("/{entry_id}/taken")
def mark_taken(
    staff_id: PathId, entry_id: PathId, session: SessionDep, on: GivenOnQuery,
    request: Request, policies: PoliciesDep, body: ProtectedTimeTaken | None = None,
) -> ProtectedTimePublic:
    """Confirm the time was protected and used (`taken_on`, default the request's `on`):
    on or after the booked day, and no later than the request's `on`."""
    day = effective_on(on, body.on if body else None, event_field="taken_on")
    entry = diary.mark_taken(session, staff_id=staff_id, entry_id=entry_id, on=day,
                             taken_on=body.taken_on if body else None,
                             actor_id=acting_staff(request), policies=policies)
    return _one(session, staff_id, entry)


@router.post("/{entry_id}/cancel")
def cancel(
    staff_id: PathId, entry_id: PathId, body: ProtectedTimeCancel, session: SessionDep,
    on: GivenOnQuery, request: Request, policies: PoliciesDep, settings: SettingsDep,
) -> ProtectedTimePublic:
    """A team manager cancels booked time, with a reason; the NQSW is told and asked to rebook.

    The person cancelling is the person signed in, who must be a team manager. The
    cancellation is dated `cancelled_on` (default the request's `on`).
    """
    entry = diary.cancel(session, staff_id=staff_id, entry_id=entry_id, data=body,
                         on=effective_on(on, body.on, event_field="cancelled_on"),
                         policies=policies, base_url=settings.base_url,
                         actor_id=acting_staff(request))
    return _one(session, staff_id, entry)
