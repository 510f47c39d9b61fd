"""The supervision log and programme reviews of one NQSW, with what is due and overdue."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from app.api.boundary import BoundaryRoute
from app.api.deps import OnDep, PageDep, PoliciesDep
from app.api.diary import acting_staff
from app.db import SessionDep
from app.schemas.common import GivenOnQuery, PathId, effective_on
from app.schemas.supervision import (
    ReviewCreate,
    ReviewPointView,
    ReviewsView,
    SupervisionCancel,
    SupervisionCreate,
    SupervisionPage,
    SupervisionPublic,
    SupervisionSchedule,
)
from app.services import supervision

router = APIRouter(route_class=BoundaryRoute, prefix="/nqsws/{staff_id}", tags=["supervision"])


@router.get("/supervision")
def list_supervision(
    staff_id: PathId,
    session: SessionDep,
    page: PageDep,
    on: OnDep,
    policies: PoliciesDep,
    from_: Annotated[date | None, Query(alias="from", description="From this day.")] = None,
    to: Annotated[date | None, Query(description="Up to this day.")] = None,
) -> SupervisionPage:
    """Sessions, latest first, and whether supervision is overdue on `on`."""
    rows, count = supervision.list_sessions(
        session, staff_id=staff_id, limit=page.limit, offset=page.offset, first=from_, last=to
    )
    schedule = supervision.schedule(session, staff_id=staff_id, on=on, policies=policies)
    return SupervisionPage(
        data=[SupervisionPublic.model_validate(r) for r in rows],
        count=count,
        schedule=SupervisionSchedule.model_validate(schedule) if schedule else None,
    )


@router.post("/supervision", status_code=status.HTTP_201_CREATED)
def record_supervision(
    staff_id: PathId, body: SupervisionCreate, session: SessionDep, on: OnDep, request: Request,
    policies: PoliciesDep,
) -> SupervisionPublic:
    """Record a session held or planned, or one that was cancelled (with the reason)."""
    row = supervision.record(session, staff_id=staff_id, data=body, on=on,
                             actor_id=acting_staff(request), policies=policies)
    return SupervisionPublic.model_validate(row)


@router.post("/supervision/{session_id}/cancel")
def cancel_supervision(
    staff_id: PathId, session_id: PathId, body: SupervisionCancel, session: SessionDep,
    on: GivenOnQuery, request: Request, policies: PoliciesDep,
) -> SupervisionPublic:
    """Cancel a planned session, with the reason, dated `cancelled_on` (default the
    request's `on`)."""
    row = supervision.cancel(session, staff_id=staff_id, session_id=session_id, data=body,
                             on=effective_on(on, body.on, event_field="cancelled_on"),
                             actor_id=acting_staff(request), policies=policies)
    return SupervisionPublic.model_validate(row)


@router.get("/reviews")
def list_reviews(
    staff_id: PathId, session: SessionDep, on: OnDep, policies: PoliciesDep
) -> ReviewsView:
    """Review points (3, 6, 9, 12 months; 18 and 24 on SWIP) with due dates moved by pauses."""
    return ReviewsView.model_validate(
        supervision.reviews(session, staff_id=staff_id, on=on, policies=policies)
    )


@router.post("/reviews", status_code=status.HTTP_201_CREATED)
def record_review(
    staff_id: PathId, body: ReviewCreate, session: SessionDep, on: OnDep, policies: PoliciesDep,
    request: Request,
) -> ReviewPointView:
    """Record that a review was held."""
    supervision.record_review(session, staff_id=staff_id, data=body, on=on, policies=policies,
                              actor_id=acting_staff(request))
    view = supervision.reviews(session, staff_id=staff_id, on=on, policies=policies)
    point = next(p for p in view["data"] if p["month"] == body.month)
    return ReviewPointView.model_validate(point)
