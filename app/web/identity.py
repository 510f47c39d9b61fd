"""The bridge from the account session (app.auth) to the person pages are rendered for.

Who may see what is decided by app.auth before a page's handler runs (the page guard and
its table, app/auth/page_access.py); a page keeps the request's `Principal` beside the
`Viewer`, so that its lists ask the principal what is within the person's reach.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlmodel import Session

from app.auth.principal import Principal
from app.repositories import org as org_repository
from app.repositories import staff as staff_repository
from app.web.viewer import Viewer


def viewer_for(session: Session, principal: Principal) -> Viewer:
    """The person behind a principal, with the teams and areas they answer for."""
    if principal.staff_id is None:
        viewer = header_viewer(principal)
    else:
        viewer = viewer_for_staff(
            session, principal.staff_id, account_id=principal.account_id,
            role=principal.role, email=principal.email,
        )
    viewer.extra["principal"] = principal
    return viewer


def viewer_for_staff(session: Session, staff_id: int, *, account_id: int | None = None,
                     role: str | None = None, email: str | None = None) -> Viewer:
    """The person behind a signed-in account, with the teams and areas they answer for."""
    staff = staff_repository.person(session, staff_id)
    managed = org_repository.managed_team_ids(session, staff_id)
    areas = org_repository.led_area_ids(session, staff_id)
    return Viewer(
        staff_id=staff_id,
        name=staff.name if staff else (email or "Unknown"),
        role=role or (staff.role if staff else "nqsw"),
        email=email or (staff.email if staff else ""),
        team_id=staff.team_id if staff else None,
        managed_team_ids=tuple(managed),
        service_area_ids=tuple(areas),
        account_id=account_id,
    )


def visible_team_ids(viewer: Viewer) -> list[int] | None:
    """Teams whose NQSWs this person may list; None means every team (coordinators).

    The person's reach is app.auth's (the principal the page guard signed in), the same
    that decides every record the API and the pages show; without one, no team.
    """
    principal = principal_of(viewer)
    if principal is None:
        return []
    teams = principal.visible_team_ids()
    return None if teams is None else sorted(teams)


def header_viewer(principal: Principal) -> Viewer:
    """Enough of the person for the page header and navigation, without the database
    (for an error page answered before the page loaded its viewer)."""
    viewer = Viewer(staff_id=principal.staff_id, name=principal.name or principal.email,
                    role=principal.role or "admin", email=principal.email,
                    account_id=principal.account_id)
    viewer.extra["principal"] = principal
    return viewer


def viewer_from_session(request: Request, session: Session) -> Viewer | None:
    """The signed-in person (session cookie, or a bearer token), or None: for the public
    pages (sign-in), which the guard does not sign anyone in for."""
    from app.auth.dependencies import authenticate

    principal = getattr(request.state, "principal", None) or authenticate(request, session)
    if principal is None:
        return None
    request.state.principal = principal
    return viewer_for(session, principal)


def principal_of(viewer: Viewer) -> Any | None:
    return viewer.extra.get("principal")


def csrf_token_for(request: Request) -> str:
    from app.auth.csrf import csrf_token

    return csrf_token(request)
