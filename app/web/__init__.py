"""Server-rendered pages (Jinja2 + htmx): full pages and fragments from the same templates.

Every page goes through `authorize_page` and its table (app/auth/page_access.py): it is a
dependency of this router, so a page added to any router included here is guarded, and
refused until its rule is written.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.auth.page_guard import authorize_page
from app.web import (
    adjustments,
    allocate,
    breach_detail,
    breaches,
    candidates,
    cases,
    diary,
    enrolment,
    exports,
    home,
    imports,
    login,
    notifications,
    nqsw,
    override_requests,
    programme,
    second_factor,
    set_password,
    supervision,
)
from app.web.errors import install_web_error_handlers

web_router = APIRouter(include_in_schema=False, dependencies=[Depends(authorize_page)])
web_router.include_router(login.router)
web_router.include_router(second_factor.router)
web_router.include_router(set_password.router)
web_router.include_router(home.router)
web_router.include_router(nqsw.router)
web_router.include_router(allocate.router)
web_router.include_router(breaches.router)
# After the dashboard, whose /breaches/export.csv must not be read as a breach id.
web_router.include_router(breach_detail.router)
web_router.include_router(diary.router)
web_router.include_router(supervision.router)
web_router.include_router(programme.router)
web_router.include_router(notifications.router)
web_router.include_router(enrolment.router)
web_router.include_router(cases.router)
web_router.include_router(candidates.router)
web_router.include_router(override_requests.router)
web_router.include_router(adjustments.router)
web_router.include_router(imports.router)
web_router.include_router(exports.router)

__all__ = ["install_web_error_handlers", "web_router"]
