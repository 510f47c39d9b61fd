"""Wiring the access layer into the application: middleware, error pages, start-up checks.

Production mode refuses to start with a route or page that has no access rule, or while
demo sign-ins still work; it warns when cookies are not marked Secure.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.auth.access_index import build_index
from app.auth.csrf import CSRFMiddleware
from app.auth.headers import SecurityHeadersMiddleware
from app.auth.page_guard import check_page_table
from app.settings import Settings

log = logging.getLogger("ringfence.auth")


class AccessTableIncomplete(RuntimeError):
    """Production refuses to start with a route that has no access rule."""


class DemoAccountsLive(RuntimeError):
    """Production refuses to start while a demo sign-in (known password) still works."""


REMOVE_DEMO = "ringfence users deactivate-demo"


def install_security(app: FastAPI) -> None:
    """Call once, after the routers are included."""
    settings: Settings = app.state.settings
    app.add_middleware(CSRFMiddleware, settings=settings, application=app)
    # Added last, so outermost: even refusals from the CSRF check carry the headers.
    # It also answers unhandled errors, with a reference and without any trace.
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    check_access_table(app, settings)
    check_page_table(app, settings)
    check_production_settings(settings)
    check_demo_accounts(app.state.engine, settings)


def check_production_settings(settings: Settings) -> None:
    """Warn at start-up about settings that are unsafe behind a real deployment."""
    if settings.mode == "production" and not settings.secure_cookies:
        log.warning(
            "RINGFENCE_SECURE_COOKIES is false in production mode: sign-in cookies are sent "
            "without Secure and there is no HSTS. Serve over HTTPS and set "
            "RINGFENCE_SECURE_COOKIES=true."
        )


def demo_accounts_problem(engine: Engine, settings: Settings) -> str | None:
    """One line saying why production may not start with this database, or None.

    Demo sign-ins (app.auth.demo) that are still switched on with a password could be
    used by anyone who has read the documentation. A database not migrated yet has none.
    """
    if settings.mode != "production":
        return None
    from app.auth.demo import live_demo_accounts

    try:
        with Session(engine) as session:
            live = live_demo_accounts(session)
    except SQLAlchemyError:
        return None  # no accounts table yet: nothing anyone could sign in with
    if not live:
        return None
    shown = ", ".join(live[:3]) + (f" and {len(live) - 3} more" if len(live) > 3 else "")
    return (f"refusing to start in production: demo sign-ins with a published password are "
            f"still switched on ({shown}); switch them off with `{REMOVE_DEMO}`")


def check_demo_accounts(engine: Engine, settings: Settings) -> None:
    """At start-up: production refuses to serve while demo sign-ins still work."""
    problem = demo_accounts_problem(engine, settings)
    if problem is not None:
        log.error(problem)
        raise DemoAccountsLive(problem)


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

