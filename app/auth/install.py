"""Wiring the access layer into the application: middleware, error pages, start-up check."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.auth.access_index import build_index
from app.auth.csrf import CSRFMiddleware
from app.auth.headers import SecurityHeadersMiddleware
from app.auth.page_guard import check_page_table
from app.settings import Settings

log = logging.getLogger("ringfence.auth")


class AccessTableIncomplete(RuntimeError):
    """Production refuses to start with a route that has no access rule."""


def install_security(app: FastAPI) -> None:
    """Call once, after the routers are included."""
    settings: Settings = app.state.settings
    app.add_middleware(CSRFMiddleware, settings=settings, application=app)
    # Added last, so outermost: even refusals from the CSRF check carry the headers.
    # It also answers unhandled errors, with a reference and without any trace.
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    check_access_table(app, settings)
    check_page_table(app, settings)


def check_access_table(app: FastAPI, settings: Settings) -> None:
    index = build_index(app)
    problems = [f"no access rule for {key}" for key in index.missing]
    problems += [f"list not filtered by scope yet: {key}" for key in index.lists_without_principal]
    if index.missing and settings.mode == "production":
        raise AccessTableIncomplete("; ".join(problems))
    for problem in problems:
        log.warning(problem)


def failure_response(method: str, path: str, accept: str) -> Response:
    """A failure says that it happened and gives a reference to find it in the log; the
    trace itself goes to the log, never into the response."""
    reference = uuid.uuid4().hex[:12]
    log.error("unhandled error %s on %s %s", reference, method, path, exc_info=True)
    message = f"Sorry, something went wrong on our side (reference {reference})."
    if path.startswith("/api/") or "text/html" not in accept:
        return JSONResponse(status_code=500, content={"detail": message})
    return HTMLResponse(
        status_code=500,
        content=(
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<title>Sorry, there is a problem with the service</title></head><body>"
            f"<h1>Sorry, there is a problem with the service</h1><p>{message}</p>"
            "<p><a href=\"/\">Go to the start page</a></p></body></html>"
        ),
    )

