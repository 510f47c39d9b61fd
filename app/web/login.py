"""Signing in and out of the pages (the account rules live in app.auth).

A sign-in refused by the throttle (app.auth.throttle) is a 429 with `Retry-After`, as on
the API's token endpoint, and the page says in words how long to wait. After a correct
password, someone with a second factor (or who must set one up) is sent on to it
(app/web/second_factor.py) before any session starts.
"""

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
    headers: dict[str, str] | None = None,
) -> Response:
    from app.web.identity import csrf_token_for

    request.state.csrf_token = csrf_token_for(request)
    return render(request, "pages/login.html", {
        "title": "Sign in",
        "values": values or {},
        "errors": errors or FormErrors(),
        "next": safe_next(request.query_params.get("next")),
        "signed_out": request.query_params.get("signed_out"),
        "password_set": request.query_params.get("password_set"),
    }, status_code=status_code, headers=headers)


def wait_in_words(seconds: int) -> str:
    """`45 seconds`, `2 minutes`, `1 hour`: how long to wait, rounded up."""
    if seconds < 90:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = -(-seconds // 60)
    if minutes < 90:
        return f"{minutes} minutes"
    hours = -(-minutes // 60)
    return f"{hours} hour{'' if hours == 1 else 's'}"


@router.get("/login", include_in_schema=False)
def login_form(request: Request, session: SessionDep) -> Response:
    from app.web.identity import viewer_from_session

    if viewer_from_session(request, session) is not None:
        return redirect(request, safe_next(request.query_params.get("next")))
    return login_page(request)


@router.post("/login", include_in_schema=False)
async def login(request: Request, session: SessionDep) -> Response:
    from app.auth import accounts
    from app.auth import second_factor as factor
    from app.auth.dependencies import client_address
    from app.auth.web import page_principal
    from app.web.second_factor import send_to_second_factor, start_page_session

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
    page_principal(request, session)  # a session already open in this browser is replaced
    outcome = accounts.authenticate(
        session, email=email, password=password, address=client_address(request),
        production=request.app.state.settings.mode == "production",
    )
    if outcome.account is not None and factor.required(
            session, outcome.account, request.app.state.settings):
        # No session yet: first the code, or setting a second factor up.
        owes = factor.CODE if factor.has_second_factor(outcome.account) else factor.SET_UP
        return send_to_second_factor(request, outcome.account, owes, target)
    if outcome.account is None:
        if outcome.throttled:
            errors.add("email", f"Too many attempts to sign in. Try again in "
                                f"{wait_in_words(outcome.retry_after)}")
            return login_page(request, values={"email": email}, errors=errors,
                              status_code=429,
                              headers={"Retry-After": str(outcome.retry_after)})
        # The same words whatever was wrong, so nobody learns who has an account.
        errors.add("email", "Enter a correct email address and password")
        return login_page(request, values={"email": email}, errors=errors, status_code=401)
    response = RedirectResponse(target, status_code=303)
    start_page_session(session, request, outcome.account, response)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: SessionDep) -> Response:
    """Ends the session on the server too, so the old cookie is worthless, and clears the
    cookie with the attributes it was set with (a `__Host-` cookie behind HTTPS is only
    replaced by one that is also `Secure`)."""
    from app.auth.web import clear_session_cookie, sign_out

    sign_out(session, request)
    response = redirect(request, "/login?signed_out=1")
    clear_session_cookie(response, request.app.state.settings)
    return response
