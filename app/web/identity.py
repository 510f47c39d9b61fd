"""The bridge from the account session (app.auth) to the person pages are rendered for.

Scope decisions stay with app.auth: the page keeps the request's `Principal` beside the
`Viewer` and asks it what the person may see.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlmodel import Session

from app.web import queries
from app.web.viewer import Viewer


def viewer_from_session(request: Request, session: Session) -> Viewer | None:
    """The signed-in person (session cookie, or a bearer token), or None."""
    from app.auth.dependencies import authenticate

    principal = authenticate(request, session)
    if principal is None:
        return None
    request.state.principal = principal
    if principal.staff_id is None:
        viewer = Viewer(staff_id=None, name=principal.name or principal.email,
                        role=principal.role or "admin", email=principal.email,
                        account_id=principal.account_id)
    else:
        viewer = queries.viewer_for_staff(
            session, principal.staff_id, account_id=principal.account_id,
            role=principal.role, email=principal.email,
        )
    viewer.extra["principal"] = principal
    return viewer


def principal_of(viewer: Viewer) -> Any | None:
    return viewer.extra.get("principal")


def csrf_token_for(request: Request) -> str:
    from app.auth.csrf import csrf_token

    return csrf_token(request)
