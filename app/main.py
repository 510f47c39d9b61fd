"""The application factory: settings in, a wired FastAPI app out.

Nothing is built at import time, so tests create apps with their own settings and
database without patching the environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError

from app.api import api_router
from app.api.calendar import feed_router as calendar_feed_router
from app.auth.install import install_security
from app.db import check_database, make_engine
from app.errors import install_error_handlers
from app.jobs.policy_versions import record_policy_versions
from app.outage import OUTAGE_TYPE, install_outage_handling, is_outage, retry_after_headers
from app.policy.registry import PolicySet, load_policy_set
from app.settings import PROJECT_ROOT, Settings, get_settings
from app.web import install_web_error_handlers, web_router

STATIC_DIR = PROJECT_ROOT / "app" / "static"
DOCS_OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def load_policies(settings: Settings) -> PolicySet:
    """The validated policy set; a bad policy file stops start-up (PolicyFileError)."""
    return load_policy_set(settings.policy_dir)


def install_api_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from our own vendored copy: it works offline and under our CSP.

    Its Authorize button uses the OAuth2 password flow at /api/v1/auth/token.
    """

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="Ringfence API",
            oauth2_redirect_url=DOCS_OAUTH2_REDIRECT,
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get(DOCS_OAUTH2_REDIRECT, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Refuses to start on a policy it does not fully understand."""
    settings = settings or get_settings()
    engine = make_engine(settings.effective_database_url, echo=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from app.jobs.scheduler import start_scheduler

        scheduler = start_scheduler(app) if settings.scheduler_enabled else None
        yield
        if scheduler is not None:
            scheduler.stop()
        engine.dispose()

    app = FastAPI(
        title="Ringfence",
        version="0.1.0",
        description=(
            "Protects the caseloads, development time and supervision promised to newly "
            "qualified social workers, and makes every breach visible."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=DOCS_OAUTH2_REDIRECT,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.policies = load_policies(settings)
    # Each policy version goes on the audit trail once, when a service first runs on it.
    record_policy_versions(engine, app.state.policies)
    install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(calendar_feed_router)
    app.include_router(web_router)
    install_web_error_handlers(app)
    # An unreachable database is a 503 with Retry-After everywhere, logged once per outage.
    install_outage_handling(app)
    install_security(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_api_docs(app)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness that also proves the database answers (503 with Retry-After if not)."""
        monitor = app.state.outage
        started = monitor.clock()
        try:
            check_database(engine)
        except SQLAlchemyError as exc:
            if is_outage(exc):
                raise  # the outage handler answers, and logs the outage once
            raise HTTPException(
                status_code=503, headers=retry_after_headers(app),
                detail=[{"loc": [], "msg": "the database did not answer the health check",
                         "type": OUTAGE_TYPE}],
            ) from exc
        monitor.answered(started)
        return {"status": "ok"}

    return app
