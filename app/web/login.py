"""Signing in and out of the pages (the account rules live in app.auth)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.db import SessionDep
from app.web.forms import FormErrors
from app.web.htmx import redirect
from app.web.templating import render

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only a path on this service: never an open redirect to somewhere else."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_page(
    request: Request, *, values: dict[str, Any] | None = None,
    errors: FormErrors | None = None, status_code: int = 200,
) -> Response:
    from app.web.identity import csrf_token_for

    request.state.csrf_token = csrf_token_for(request)
    return render(request, "pages/login.html", {
        "title": "Sign in",
        "values": values or {},
        "errors": errors or FormErrors(),
        "next": safe_next(request.query_params.get("next")),
        "signed_out": request.query_params.get("signed_out"),
    }, status_code=status_code)


@router.get("/login", include_in_schema=False)
def login_form(request: Request, session: SessionDep) -> Response:
    from app.web.identity import viewer_from_session

    if viewer_from_session(request, session) is not None:
        return redirect(request, safe_next(request.query_params.get("next")))
    return login_page(request)


@router.post("/login", include_in_schema=False)
async def login(request: Request, session: SessionDep) -> Response:
    from app.auth import accounts, sessions
    from app.auth.dependencies import client_address

    form = await request.form()
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    errors = FormErrors()
    if not email:
        errors.add("email", "Enter your email address")
    if not password:
        errors.add("password", "Enter your password")
    if errors:
        return login_page(request, values={"email": email}, errors=errors, status_code=422)
    outcome = accounts.authenticate(session, email=email, password=password,
                                    address=client_address(request))
    if outcome.account is None:
        if outcome.throttled:
            errors.add("email", f"Too many attempts to sign in. Try again in "
                                f"{outcome.retry_after} seconds")
        else:
            # The same words whatever was wrong, so nobody learns who has an account.
            errors.add("email", "Enter a correct email address and password")
        return login_page(request, values={"email": email}, errors=errors,
                          status_code=429 if outcome.throttled else 401)
    settings = request.app.state.settings
    cookie, _row = sessions.start(session, outcome.account, settings,
                                  address=client_address(request),
                                  user_agent=request.headers.get("user-agent"))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        sessions.cookie_name(settings), cookie, httponly=True, samesite="lax",
        secure=bool(settings.secure_cookies), path="/",
        max_age=int(settings.session_absolute_hours) * 3600,
    )
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: SessionDep) -> Response:
    """Ends the session on the server too, so the old cookie is worthless."""
    from app.auth import sessions
    from app.web.identity import viewer_from_session

    viewer = viewer_from_session(request, session)
    row = getattr(request.state, "login_session", None)
    if row is not None:
        sessions.end(session, row, actor_id=viewer.staff_id if viewer else None,
                     reason="logout")
    settings = request.app.state.settings
    response = redirect(request, "/login?signed_out=1")
    response.delete_cookie(sessions.cookie_name(settings), path="/")
    return response


