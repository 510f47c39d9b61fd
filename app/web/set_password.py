"""The page a one-time set-password link opens (the link rules live in app.auth.links).

Opening the page changes nothing, so a mail scanner that fetches the link does not use it
up; only sending the form does. The form is protected by the pre-session CSRF token like
the sign-in form. A link that cannot be used says why in words (expired, already used,
replaced or withdrawn, not recognised), and tells the holder what to do next.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import accounts, links
from app.auth.dependencies import client_address
from app.auth.passwords import MIN_LENGTH
from app.db import SessionDep
from app.errors import DomainError
from app.web.forms import FormErrors
from app.web.templating import render

router = APIRouter()

# What the page says about a link that cannot be used, and the answer's status.
UNUSABLE: dict[links.Status, tuple[str, str, int]] = {
    links.Status.EXPIRED: (
        "This link has expired",
        "Links to choose a password work for a limited time. Ask an administrator to send "
        "you a new one.", 410),
    links.Status.USED: (
        "This link has already been used",
        "Each link works once. If you did not choose your password yourself, tell your "
        "manager or your IT security team today, and ask an administrator to reset it.", 410),
    links.Status.WITHDRAWN: (
        "This link no longer works",
        "A newer link may have been sent to you, your password may have been set another "
        "way, or the account may have been switched off. Use the newest email, or ask an "
        "administrator.", 410),
    links.Status.UNKNOWN: (
        "This link is not recognised",
        "Check that you copied the whole link from the email. If it still does not work, "
        "ask an administrator to send you a new one.", 404),
}


def _page(
    request: Request, found: links.Found, *, errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    from app.web.identity import csrf_token_for

    request.state.csrf_token = csrf_token_for(request)
    reset = found.purpose == links.RESET
    return render(request, "pages/set_password.html", {
        "title": "Choose a new password" if reset else "Choose your password",
        "email": found.account.email if found.account is not None else "",
        "errors": errors or FormErrors(),
        "min_length": MIN_LENGTH,
    }, status_code=status_code)


def _unusable(request: Request, found: links.Found) -> Response:
    title, message, status_code = UNUSABLE[found.status]
    return render(request, "pages/set_password_unusable.html",
                  {"title": title, "message": message}, status_code=status_code)


@router.get("/set-password/{token}", include_in_schema=False)
def set_password_form(token: str, request: Request, session: SessionDep) -> Response:
    found = accounts.password_link(session, token)
    if found.status is not links.Status.USABLE:
        links.refuse(session, found, address=client_address(request))
        return _unusable(request, found)
    return _page(request, found)


@router.post("/set-password/{token}", include_in_schema=False)
async def set_password(token: str, request: Request, session: SessionDep) -> Response:
    form = await request.form()
    password = str(form.get("password", ""))
    confirm = str(form.get("confirm_password", ""))
    found = accounts.password_link(session, token)
    if found.status is not links.Status.USABLE:
        links.refuse(session, found, address=client_address(request))
        return _unusable(request, found)
    errors = FormErrors()
    if not password:
        errors.add("password", "Enter a new password")
    elif not confirm:
        errors.add("confirm_password", "Enter the password again to confirm it")
    elif confirm != password:
        errors.add("confirm_password", "The passwords do not match: enter the same password "
                                       "twice")
    if errors:
        return _page(request, found, errors=errors, status_code=422)
    try:
        accounts.set_password_by_link(session, token, password, address=client_address(request),
                                      settings=request.app.state.settings)
    except DomainError as exc:
        errors.add("password", _sentence(exc.message))
        return _page(request, found, errors=errors, status_code=422)
    except accounts.LinkUnusable as exc:
        return _unusable(request, exc.found)
    return RedirectResponse("/login?password_set=1", status_code=303)


def _sentence(message: Any) -> str:
    """The password rules speak in lower case for the API; a page starts a sentence."""
    text = str(message)
    return text[:1].upper() + text[1:]
