"""The second factor's pages: the code asked for after a correct password, and setting up
an authenticator app (app.auth.second_factor holds the rules).

Between the password and the code the browser holds only a pending ticket (a short-lived
signed cookie), never a session: a session starts once the code is right, or, for someone
who must set a second factor up first, once it is confirmed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.auth import second_factor as factor
from app.auth import sessions
from app.auth.dependencies import client_address
from app.db import SessionDep
from app.models import Account, LoginSession
from app.repositories import account as account_repo
from app.settings import Settings
from app.web.forms import FormErrors
from app.web.templating import render

router = APIRouter()

SET_UP_PATH = "/second-factor"
CODE_PATH = "/login/code"


def pending_cookie_name(settings: Settings) -> str:
    return ("__Host-" if settings.secure_cookies else "") + factor.PENDING_COOKIE


def start_page_session(session: Session, request: Request, account: Account,
                       response: Response) -> None:
    """A new session for this browser (ending the one it had), its cookie set on
    `response`, and the pending ticket cleared."""
    from app.auth.web import page_principal, set_session_cookie

    settings: Settings = request.app.state.settings
    page_principal(request, session)
    previous = getattr(request.state, "login_session", None)
    if isinstance(previous, LoginSession):
        sessions.end(session, previous, actor_id=None, reason="replaced")
    cookie, _row = sessions.start(
        session, account, settings, address=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )
    set_session_cookie(response, settings, cookie)
    clear_pending(response, settings)


def send_to_second_factor(request: Request, account: Account, owes: str,
                          target: str) -> Response:
    """After a correct password: on to the code (or to setting one up), holding a ticket."""
    from urllib.parse import quote

    settings: Settings = request.app.state.settings
    where = CODE_PATH if owes == factor.CODE else SET_UP_PATH
    response = RedirectResponse(f"{where}?next={quote(target, safe='/')}", status_code=303)
    response.set_cookie(
        pending_cookie_name(settings), factor.pending_ticket(account, owes, settings),
        httponly=True, samesite="lax", secure=bool(settings.secure_cookies), path="/",
        max_age=factor.PENDING_SECONDS,
    )
    return response


def clear_pending(response: Response, settings: Settings) -> None:
    response.delete_cookie(pending_cookie_name(settings), path="/",
                           secure=bool(settings.secure_cookies), httponly=True, samesite="lax")


def _ticket(request: Request, session: Session) -> tuple[Account, str] | None:
    settings: Settings = request.app.state.settings
    return factor.read_ticket(session, request.cookies.get(pending_cookie_name(settings)),
                              settings)


def _page(request: Request, template: str, context: dict[str, Any], *,
          status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    from app.web.identity import csrf_token_for
    from app.web.login import safe_next

    request.state.csrf_token = csrf_token_for(request)
    context.setdefault("errors", FormErrors())
    context.setdefault("next", safe_next(request.query_params.get("next")))
    return render(request, template, context, status_code=status_code, headers=headers)


# ---- the code after the password -----------------------------------------------------------


@router.get(CODE_PATH, include_in_schema=False)
def code_form(request: Request, session: SessionDep) -> Response:
    if _ticket(request, session) is None:
        return RedirectResponse("/login", status_code=303)
    return _page(request, "pages/second_factor_code.html", {"title": "Enter your code"})


@router.post(CODE_PATH, include_in_schema=False)
async def code_given(request: Request, session: SessionDep) -> Response:
    from app.web.login import safe_next, wait_in_words

    form = await request.form()
    code = str(form.get("code", "")).strip()
    target = safe_next(str(form.get("next", "")))
    found = _ticket(request, session)
    if found is None or found[1] != factor.CODE:
        # The ticket has expired (or never was): start again from the password.
        return RedirectResponse("/login?next=" + target, status_code=303)
    account = found[0]
    errors = FormErrors()
    context: dict[str, Any] = {"title": "Enter your code", "errors": errors, "next": target}
    if not code:
        errors.add("code", "Enter the 6-digit code from your authenticator app")
        return _page(request, "pages/second_factor_code.html", context, status_code=422)
    outcome = factor.check(session, account, code, address=client_address(request))
    if outcome.throttled:
        errors.add("code", f"Too many wrong codes. Try again in "
                           f"{wait_in_words(outcome.retry_after)}")
        return _page(request, "pages/second_factor_code.html", context, status_code=429,
                     headers={"Retry-After": str(outcome.retry_after)})
    if not outcome.ok:
        errors.add("code", "Enter the current code from your authenticator app, or an unused "
                           "recovery code (a code works only once)")
        return _page(request, "pages/second_factor_code.html", context, status_code=401)
    response = RedirectResponse(target, status_code=303)
    start_page_session(session, request, account, response)
    return response


# ---- setting it up -------------------------------------------------------------------------


def _setting_up(request: Request, session: Session) -> tuple[Account | None, bool]:
    """Whose second factor this page sets up: the signed-in person's, or that of someone
    whose password was right but who must set one up before their session starts (True)."""
    from app.auth.web import page_principal
    from app.web.identity import viewer_from_session

    principal = page_principal(request, session)
    if principal is not None:
        # The page header and navigation of a signed-in person.
        request.state.viewer = viewer_from_session(request, session)
        return account_repo.account(session, principal.account_id), False
    found = _ticket(request, session)
    if found is not None and found[1] == factor.SET_UP:
        return found[0], True
    return None, False


def _set_up_context(account: Account, pending: bool) -> dict[str, Any]:
    return {
        "title": "Set up a second factor", "pending": pending,
        "secret": account.totp_secret, "uri": factor.provisioning_uri(account),
        "email": account.email,
    }


@router.get(SET_UP_PATH, include_in_schema=False)
def set_up_form(request: Request, session: SessionDep) -> Response:
    account, pending = _setting_up(request, session)
    if account is None:
        return RedirectResponse(f"/login?next={SET_UP_PATH}", status_code=303)
    if factor.has_second_factor(account):
        return _page(request, "pages/second_factor_on.html", {
            "title": "Your second factor", "confirmed_at": account.totp_confirmed_at})
    factor.begin_set_up(session, account)
    return _page(request, "pages/second_factor.html", _set_up_context(account, pending))


@router.post(SET_UP_PATH, include_in_schema=False)
async def set_up_confirm(request: Request, session: SessionDep) -> Response:
    from app.web.login import safe_next, wait_in_words

    account, pending = _setting_up(request, session)
    if account is None:
        return RedirectResponse(f"/login?next={SET_UP_PATH}", status_code=303)
    if factor.has_second_factor(account) or account.totp_secret is None:
        return RedirectResponse(SET_UP_PATH, status_code=303)
    form = await request.form()
    code = str(form.get("code", "")).strip()
    target = safe_next(str(form.get("next", "")))
    errors = FormErrors()
    context = {**_set_up_context(account, pending), "errors": errors, "next": target}
    if not code:
        errors.add("code", "Enter the 6-digit code your authenticator app shows")
        return _page(request, "pages/second_factor.html", context, status_code=422)
    ok, codes, wait = factor.confirm_set_up(session, account, code,
                                            address=client_address(request))
    if wait:
        errors.add("code", f"Too many wrong codes. Try again in {wait_in_words(wait)}")
        return _page(request, "pages/second_factor.html", context, status_code=429,
                     headers={"Retry-After": str(wait)})
    if not ok:
        errors.add("code", "Enter the code your authenticator app shows now for Ringfence")
        return _page(request, "pages/second_factor.html", context, status_code=422)
    response = _page(request, "pages/second_factor_codes.html", {
        "title": "Your recovery codes", "codes": codes, "next": target})
    # Shown once: never kept by the browser's cache.
    response.headers["Cache-Control"] = "no-store"
    if pending:
        start_page_session(session, request, account, response)
    return response
