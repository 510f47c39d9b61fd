"""Dependencies every page shares: the signed-in person and the date being looked at."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError

from app.clock import today
from app.db import SessionDep
from app.web.errors import NotSignedIn
from app.web.viewer import Viewer


def get_viewer(request: Request, session: SessionDep) -> Viewer:
    """The signed-in person, or a trip to the sign-in page (and back afterwards).

    The page guard (app/auth/page_guard.py) has already signed the person in and decided
    that they may use the page; this only loads what the page shows about them.
    """
    from app.web import identity

    viewer = identity.viewer_from_session(request, session)
    if viewer is None:
        raise NotSignedIn()
    request.state.viewer = viewer
    request.state.csrf_token = identity.csrf_token_for(request)
    if viewer.staff_id is not None:
        from app.services.notify import unread_count

        request.state.unread_count = unread_count(session, staff_id=viewer.staff_id)
    return viewer


def page_date(
    request: Request,
    on: Annotated[
        date | None, Query(description="Look at the records as of this date (YYYY-MM-DD).")
    ] = None,
) -> date:
    """The date a page looks at: `on`, or the GOV.UK date boxes `on-day`, `on-month` and
    `on-year` a page's date form sends, or today. Boxes that make no date are refused as
    `on` is, saying what is wrong, rather than quietly showing another day."""
    if on is not None:
        return on
    from app.web.forms import DATE_PARTS, date_message, with_dates

    boxes = {f"on-{part}": request.query_params.get(f"on-{part}", "") for part in DATE_PARTS}
    if not any(boxes.values()):
        return today()
    answer = with_dates(boxes)["on"]
    problem = date_message(answer, "The date")
    if problem:
        raise RequestValidationError([{"type": "date_from_datetime_parsing", "loc": ("query", "on"),
                                       "msg": problem, "input": str(answer)}])
    return date.fromisoformat(str(answer))


def get_policies(request: Request) -> Any:
    return request.app.state.policies


ViewerDep = Annotated[Viewer, Depends(get_viewer)]
OnDep = Annotated[date, Depends(page_date)]
PoliciesDep = Annotated[Any, Depends(get_policies)]
