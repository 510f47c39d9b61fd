"""The NQSW's calendar feed: a secret URL that calendar apps subscribe to without logging in."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from app.api.boundary import BoundaryRoute
from app.api.deps import OnDep, PoliciesDep, SettingsDep
from app.api.diary import acting_staff
from app.api.responses import DESCRIPTIONS
from app.db import SessionDep
from app.schemas.common import ErrorResponse, PathId
from app.services import calendar

router = APIRouter(route_class=BoundaryRoute, prefix="/nqsws/{staff_id}", tags=["calendar"])
# Mounted at the site root (not under /api/v1): the feed URL is what people paste into
# Outlook or Google Calendar, and it is authorised by its token alone.
feed_router = APIRouter(tags=["calendar"])


class CalendarTokenPublic(BaseModel):
    """Shown once: only a hash of the token is kept, so a lost URL is replaced, not recovered."""

    url: str
    token: str
    created_at: datetime


@router.post("/calendar-token", status_code=status.HTTP_201_CREATED)
def rotate_calendar_token(
    staff_id: PathId, session: SessionDep, request: Request, settings: SettingsDep
) -> CalendarTokenPublic:
    """A new secret feed URL; the previous URL stops working at once."""
    token, row = calendar.rotate_token(session, staff_id=staff_id,
                                       actor_id=acting_staff(request))
    return CalendarTokenPublic(url=calendar.feed_url(token, settings.base_url), token=token,
                               created_at=row.created_at)


@feed_router.get(
    "/calendar/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}, "description": "RFC 5545 calendar"},
               404: {"model": ErrorResponse, "description": DESCRIPTIONS[404]},
               422: {"model": ErrorResponse, "description": DESCRIPTIONS[422]}},
)
def calendar_feed(
    token: str, session: SessionDep, on: OnDep, policies: PoliciesDep, settings: SettingsDep
) -> Response:
    """Protected time, supervision sessions and review points as an iCalendar feed.

    Never cached (`no-store`): a copy kept by a proxy or a shared cache would go on
    showing the schedule after the URL is revoked or its owner's account switched off.
    Calendar apps poll it (REFRESH-INTERVAL says hourly), so nothing is lost.
    """
    body = calendar.feed(session, token=token, on=on, policies=policies,
                         base_url=settings.base_url, tz=settings.tz)
    return Response(
        content=body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="ringfence.ics"',
            "Cache-Control": "no-store",
            "X-Robots-Tag": "noindex",
        },
    )
