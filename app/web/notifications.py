"""A person's in-app inbox: every notification written for them, newest first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.models.notification import Notification
from app.services import notify
from app.web.deps import ViewerDep
from app.web.htmx import is_htmx, redirect
from app.web.templating import render

router = APIRouter()

PAGE_SIZE = 50


@router.get("/notifications", include_in_schema=False)
def inbox(
    request: Request, session: SessionDep, viewer: ViewerDep, unread: bool = False,
    page: int = 1,
) -> Response:
    page = max(page, 1)
    rows: list[Notification] = []
    count = 0
    if viewer.staff_id is not None:
        rows, count = notify.list_inbox(session, staff_id=viewer.staff_id, unread_only=unread,
                                        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render(request, "pages/notifications.html", {
        "title": "Notifications",
        "nav_key": "notifications",
        "rows": rows,
        "count": count,
        "unread": unread,
        "page": page,
        "pages": max(1, -(-count // PAGE_SIZE)),
    }, block="inbox")


@router.post("/notifications/{notification_id}/read", include_in_schema=False)
def mark_read(
    notification_id: int, request: Request, session: SessionDep, viewer: ViewerDep
) -> Response:
    if viewer.staff_id is not None:
        item = notify.mark_read(session, staff_id=viewer.staff_id,
                                notification_id=notification_id)
        if is_htmx(request):
            return render(request, "pages/notifications.html",
                          {"n": item, "unread": False}, block="item")
    return redirect(request, "/notifications")


@router.post("/notifications/read-all", include_in_schema=False)
def mark_all_read(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    if viewer.staff_id is not None:
        notify.mark_all_read(session, staff_id=viewer.staff_id)
    return redirect(request, "/notifications")
