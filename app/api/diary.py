"""The protected-time diary of one NQSW, with the entitlement and whether it is on track."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from app.api.deps import OnDep, PageDep, PoliciesDep
from app.auth.dependencies import optional_principal
from app.db import SessionDep
from app.models.diary import ProtectedTime, ProtectedTimeStatus
from app.schemas.common import PathId
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

router = APIRouter(prefix="/nqsws/{staff_id}/diary", tags=["diary"])


def acting_staff(request: Request) -> int | None:
    """Who makes the change, for the audit trail: the signed-in person, if staff."""
    principal = optional_principal(request)
    return principal.staff_id if principal is not None else None


def _public(entry: ProtectedTime, rebooked: dict[int, int] | None = None) -> ProtectedTimePublic:
    view = ProtectedTimePublic.model_validate(entry)
    if rebooked and entry.id in rebooked:
        view.rebooked_by_id = rebooked[entry.id]
    return view


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
    rows, count, rebooked = diary.list_entries(
        session, staff_id=staff_id, limit=page.limit, offset=page.offset,
        status=status_.value if status_ else None, first=from_, last=to,
    )
    summary = diary.summary(session, staff_id=staff_id, on=on, policies=policies)
    return DiaryPage(data=[_public(r, rebooked) for r in rows], count=count,
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
    staff_id: PathId, body: ProtectedTimeCreate, session: SessionDep, on: OnDep, request: Request
) -> ProtectedTimePublic:
    """Book a full day, a half day or some hours (or rebook cancelled or displaced time)."""
    return _public(diary.book(session, staff_id=staff_id, data=body, on=on,
                              actor_id=acting_staff(request)))


@router.get("/{entry_id}")
def get_entry(staff_id: PathId, entry_id: PathId, session: SessionDep) -> ProtectedTimePublic:
    context = diary.load_context(session, staff_id)
    entry = diary.get_entry(session, context, entry_id)
    return _public(entry, diary.rebooked_by(session, [entry_id]))


@router.post("/{entry_id}/move")
def move(
    staff_id: PathId, entry_id: PathId, body: ProtectedTimeMove, session: SessionDep, on: OnDep,
    request: Request,
) -> ProtectedTimePublic:
    """Reschedule a booking to another working day (or another time that day)."""
    return _public(diary.move(session, staff_id=staff_id, entry_id=entry_id, data=body, on=on,
                              actor_id=acting_staff(request)))


@router.post("/{entry_id}/taken")
def mark_taken(
    staff_id: PathId, entry_id: PathId, session: SessionDep, on: OnDep, request: Request,
    body: ProtectedTimeTaken | None = None,
) -> ProtectedTimePublic:
    """Confirm the time was protected and used."""
    when = (body.on if body else None) or on
    return _public(diary.mark_taken(session, staff_id=staff_id, entry_id=entry_id, on=when,
                                    actor_id=acting_staff(request)))


@router.post("/{entry_id}/cancel")
def cancel(
    staff_id: PathId, entry_id: PathId, body: ProtectedTimeCancel, session: SessionDep, on: OnDep,
    request: Request,
) -> ProtectedTimePublic:
    """A team manager cancels booked time, with a reason; the NQSW is told and asked to rebook.

    `cancelled_by_id` defaults to the signed-in person, who must be a team manager.
    """
    return _public(diary.cancel(session, staff_id=staff_id, entry_id=entry_id, data=body, on=on,
                                actor_id=acting_staff(request)))
