"""Override requests: one by id, a page of them within reach, the ones due to lapse."""

from __future__ import annotations

from datetime import date

from sqlalchemy import case as sql_case
from sqlalchemy import or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from app.models.override import OverrideRequest, OverrideRequestStatus
from app.repositories.base import paginate

PENDING = OverrideRequestStatus.pending.value


def request(session: Session, request_id: int) -> OverrideRequest | None:
    return session.get(OverrideRequest, request_id)


def lock_request(session: Session, request_id: int) -> OverrideRequest | None:
    """The request, locked for a decision, so that two people deciding at once cannot
    both act on it (PostgreSQL; SQLite writes one at a time anyway)."""
    return session.exec(
        select(OverrideRequest).where(OverrideRequest.id == request_id).with_for_update()
    ).first()


def visible(
    *, requested_by_id: int | None, in_reach: ColumnElement[bool] | None
) -> ColumnElement[bool] | None:
    """Requests the person asked for themselves, or about work within their reach
    (`in_reach` None: everything)."""
    if in_reach is None:
        return None
    mine = col(OverrideRequest.requested_by_id) == requested_by_id
    return or_(mine, in_reach)


def requests_page(
    session: Session, *, where: ColumnElement[bool] | None, status: str | None,
    limit: int, offset: int,
) -> tuple[list[OverrideRequest], int]:
    """Pending requests first (the soonest to lapse first), then the rest, newest first."""
    query = select(OverrideRequest)
    if where is not None:
        query = query.where(where)
    if status is not None:
        query = query.where(col(OverrideRequest.status) == status)
    pending_first = sql_case((col(OverrideRequest.status) == PENDING, 0), else_=1)
    query = query.order_by(pending_first, col(OverrideRequest.expires_on),
                           col(OverrideRequest.id).desc())
    return paginate(session, query, limit=limit, offset=offset)


def pending_for(
    session: Session, *, case_id: int, worker_id: int, role: str
) -> OverrideRequest | None:
    """A request for the same allocation still waiting for a decision."""
    return session.exec(
        select(OverrideRequest).where(
            col(OverrideRequest.case_id) == case_id,
            col(OverrideRequest.worker_id) == worker_id,
            col(OverrideRequest.role) == role,
            col(OverrideRequest.status) == PENDING,
        )
    ).first()


def due_to_lapse(session: Session, on: date) -> list[OverrideRequest]:
    """Pending requests whose last day to be decided is before `on`."""
    return list(session.exec(
        select(OverrideRequest).where(
            col(OverrideRequest.status) == PENDING, col(OverrideRequest.expires_on) < on,
        ).order_by(col(OverrideRequest.id))
    ).all())
