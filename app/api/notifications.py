"""The signed-in person's own inbox and notification preferences (`/me/...`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from app.api.boundary import BoundaryRoute
from app.api.deps import PageDep
from app.auth import PrincipalDep
from app.db import SessionDep
from app.schemas.common import PathId
from app.schemas.notification import (
    InboxPage,
    NotificationPreferencePublic,
    NotificationPreferenceUpdate,
    NotificationPublic,
    ReadAllResult,
)
from app.services import notify

router = APIRouter(route_class=BoundaryRoute, prefix="/me", tags=["notifications"])


def current_staff_id(principal: PrincipalDep) -> int:
    """The signed-in person's staff id; the inbox only ever shows their own rows.

    Notifications are addressed to staff members, so an account that is not one has none.
    """
    if principal.staff_id is None:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="this account is not a staff member's, so it has no notifications",
        )
    return int(principal.staff_id)


MeDep = Annotated[int, Depends(current_staff_id)]


@router.get("/notifications")
def list_notifications(
    session: SessionDep,
    me: MeDep,
    page: PageDep,
    unread: Annotated[bool, Query(description="Only notifications not yet read.")] = False,
) -> InboxPage:
    rows, count = notify.list_inbox(
        session, staff_id=me, unread_only=unread, limit=page.limit, offset=page.offset
    )
    return InboxPage(
        data=[NotificationPublic.model_validate(r) for r in rows],
        count=count,
        unread=notify.unread_count(session, staff_id=me),
    )


@router.post("/notifications/read-all")
def read_all_notifications(session: SessionDep, me: MeDep) -> ReadAllResult:
    return ReadAllResult(marked=notify.mark_all_read(session, staff_id=me))


@router.post("/notifications/{notification_id}/read")
def read_notification(
    notification_id: PathId, session: SessionDep, me: MeDep
) -> NotificationPublic:
    return NotificationPublic.model_validate(
        notify.mark_read(session, staff_id=me, notification_id=notification_id)
    )


@router.get("/notification-preferences")
def get_notification_preferences(session: SessionDep, me: MeDep) -> NotificationPreferencePublic:
    return NotificationPreferencePublic.model_validate(notify.get_preference(session, staff_id=me))


@router.put("/notification-preferences")
def put_notification_preferences(
    body: NotificationPreferenceUpdate, session: SessionDep, me: MeDep
) -> NotificationPreferencePublic:
    return NotificationPreferencePublic.model_validate(
        notify.set_preference(session, staff_id=me, digest=body.digest)
    )
