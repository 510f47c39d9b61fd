"""Errors on pages: a message fragment for htmx, a full error page for a browser.

The JSON API keeps its own error bodies; these handlers only answer requests a person
made in a browser (not under /api), and hand everything else to the handler that was
registered before them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.auth.page_guard import PageRefused, SignInRequired
from app.errors import DomainError
from app.web.htmx import is_htmx, redirect

Handler = Callable[[Request, Exception], Awaitable[Response]]

NON_PAGE_PREFIXES = ("/api/", "/static/", "/docs", "/redoc", "/openapi.json", "/healthz")

TITLES = {
    400: "The request could not be understood",
    401: "Sign in to continue",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not available here",
    409: "That change conflicts with another one",
    422: "Some of what was sent could not be used",
}


class NotSignedIn(SignInRequired):
    """A page needs a signed-in person; they are sent to the sign-in page and back."""


class PageForbidden(PageRefused):
    """What the person asked for is not possible for them here (a rule about the record's
    state, e.g. a booking already cancelled). Who may use a page at all is decided before
    the handler runs, by the page access table."""

    def __init__(self, message: str = "Your role does not give you access to this page.") -> None:
        super().__init__(403, message)


def is_page_request(request: Request) -> bool:
    """A person in a browser (or htmx on one of our pages), not an API client."""
    path = request.url.path
    if path.startswith(NON_PAGE_PREFIXES):
        return False
    return is_htmx(request) or "text/html" in request.headers.get("accept", "")


def login_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.method != "GET" or is_htmx(request):
        target = request.headers.get("HX-Current-URL") or "/"
        if "://" in target:
            target = "/" + target.split("://", 1)[1].split("/", 1)[-1]
    return redirect(request, f"/login?next={quote(target, safe='/')}")


def error_response(
    request: Request, status_code: int, message: str, *, title: str | None = None
) -> Response:
    from app.web.templating import render

    title = title or TITLES.get(status_code, "Sorry, there is a problem with the service")
    context: dict[str, object] = {"title": title, "message": message,
                                  "status_code": status_code}
    if getattr(request.state, "viewer", None) is None:
        # Refused before the page loaded its viewer: the header and navigation still show.
        principal = getattr(request.state, "principal", None)
        if principal is not None:
            from app.web.identity import csrf_token_for, header_viewer

            context["viewer"] = header_viewer(principal)
            context["csrf_token"] = csrf_token_for(request)
    if is_htmx(request):
        response = render(request, "pages/error.html", context, block="message",
                          status_code=status_code)
        response.headers["HX-Retarget"] = "#rf-messages"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "pages/error.html", context, status_code=status_code)


UNAVAILABLE_TITLE = "Sorry, the service is unavailable"


def unavailable_page(request: Request) -> Response:
    """The GOV.UK "service unavailable" page (503, Retry-After) while the database cannot be
    reached. It is drawn from the request alone: no header with the person's name, no
    unread count and no CSRF token, since each of those would need the database."""
    from app.outage import retry_after_headers
    from app.web.templating import render

    context: dict[str, object] = {"title": UNAVAILABLE_TITLE, "viewer": None,
                                  "csrf_token": "", "unread_count": 0}
    headers = retry_after_headers(request.app)
    if is_htmx(request):
        response = render(request, "pages/unavailable.html", context, block="message",
                          status_code=503, headers=headers)
        response.headers["HX-Retarget"] = "#rf-messages"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "pages/unavailable.html", context, status_code=503,
                  headers=headers)


def _message_of(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, RequestValidationError):
        parts = []
        for error in exc.errors():
            loc = [str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body")]
            parts.append(f"{' '.join(loc)}: {error.get('msg', 'not valid')}".strip(": "))
        return "; ".join(parts) or "The request was not valid."
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return "If you typed the web address, check it is correct."
        detail = exc.detail
        return detail if isinstance(detail, str) else "The request could not be completed."
    return str(exc)


def install_web_error_handlers(app: FastAPI) -> None:
    """Wrap the existing handlers: pages get HTML, everything else what it got before."""

    def wrap(exc_class: type[Exception], fallback: Handler) -> None:
        async def handler(request: Request, exc: Exception) -> Response:
            if not is_page_request(request):
                return await fallback(request, exc)
            status_code = getattr(exc, "status_code", 422)
            if status_code == 401:
                return login_redirect(request)
            return error_response(request, status_code, _message_of(exc))

        app.add_exception_handler(exc_class, handler)

    existing = app.exception_handlers
    wrap(StarletteHTTPException,
         existing.get(StarletteHTTPException, http_exception_handler))  # type: ignore[arg-type]
    wrap(RequestValidationError,
         existing.get(RequestValidationError,
                      request_validation_exception_handler))  # type: ignore[arg-type]
    if DomainError in existing:
        wrap(DomainError, existing[DomainError])  # type: ignore[arg-type]

    async def not_signed_in(request: Request, _exc: Exception) -> Response:
        return login_redirect(request)

    async def refused(request: Request, exc: Exception) -> Response:
        if isinstance(exc, PageRefused):
            return error_response(request, exc.status_code, exc.message)
        return error_response(request, 403, str(exc))

    # The page guard's answers (app/auth/page_guard.py), and the handlers' own refusals.
    app.add_exception_handler(SignInRequired, not_signed_in)
    app.add_exception_handler(PageRefused, refused)
