"""What the pages need from the access layer: who is signed in, signing in and out, CSRF.

The HTML itself belongs to app/web; these are the services and dependencies behind it.
A page that needs a person uses `CurrentPageUser`; without a live session it answers 401,
which the pages' error handler turns into a redirect to `/login?next=...` (an htmx
request gets `HX-Redirect`). State-changing forms are protected by app.auth.csrf's
middleware before any route runs; a page only has to embed `csrf_token(request)` in a
hidden `csrf_token` field (or send it as the `X-CSRF-Token` header from htmx).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from sqlmodel import Session

from app.auth import accounts, sessions
from app.auth.csrf import csrf_token
from app.auth.dependencies import authenticate, client_address, unauthorised
from app.auth.principal import Principal
from app.db import SessionDep
from app.models import LoginSession
from app.repositories import account as repo
from app.settings import Settings

__all__ = [
    "CurrentPageUser",
    "clear_session_cookie",
    "csrf_token",
    "current_page_user",
    "page_principal",
    "set_session_cookie",
    "sign_in",
    "sign_out",
]


def page_principal(request: Request, session: Session) -> Principal | None:
    """The signed-in person behind the page's cookie (or a bearer token), or None."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        principal = authenticate(request, session)
        request.state.principal = principal
    return principal


def current_page_user(request: Request, session: SessionDep) -> Principal:
    """A page's dependency: the principal, or 401 (a trip to /login for a browser)."""
    principal = page_principal(request, session)
    if principal is None:
        raise unauthorised()
    return principal


CurrentPageUser = Annotated[Principal, Depends(current_page_user)]


def sign_in(
    session: Session, request: Request, *, email: str, password: str
) -> tuple[accounts.SignIn, str | None]:
    """Check the password (throttled, audited) and start a session on success.

    Returns the outcome and the new cookie value (None on failure). The caller must
    answer failures with a response rather than an exception, so that the failed
    attempt is committed and counted.
    """
    outcome = accounts.authenticate(
        session, email=email, password=password, address=client_address(request),
        production=request.app.state.settings.mode == "production",
    )
    if outcome.account is None:
        return outcome, None
    previous = getattr(request.state, "login_session", None)
    if isinstance(previous, LoginSession):
        sessions.end(session, previous, actor_id=None, reason="replaced")
    cookie, _row = sessions.start(
        session, outcome.account, request.app.state.settings,
        address=client_address(request), user_agent=request.headers.get("user-agent"),
    )
    return outcome, cookie


def sign_out(session: Session, request: Request) -> None:
    """End the request's page session on the server (the cookie is then worthless)."""
    page_principal(request, session)
    row = getattr(request.state, "login_session", None)
    if isinstance(row, LoginSession):
        account = repo.account(session, row.account_id)
        sessions.end(session, row, actor_id=account.staff_id if account else None,
                     reason="logout")


def set_session_cookie(response: Response, settings: Settings, value: str) -> None:
    """HttpOnly, SameSite=Lax, Secure (and `__Host-`) behind HTTPS; it lasts no longer
    than the session's absolute limit."""
    response.set_cookie(
        sessions.cookie_name(settings), value, httponly=True, samesite="lax",
        secure=bool(settings.secure_cookies), path="/",
        max_age=int(settings.session_absolute_hours) * 3600,
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    # A `__Host-` cookie is only replaced by one with the same attributes (Secure, Path=/).
    response.delete_cookie(
        sessions.cookie_name(settings), path="/", secure=bool(settings.secure_cookies),
        httponly=True, samesite="lax",
    )
