"""Server-rendered pages (Jinja2 + htmx): full pages and fragments from the same templates."""

from __future__ import annotations

from fastapi import APIRouter

from app.web import (
    allocate,
    breaches,
    diary,
    home,
    login,
    notifications,
    nqsw,
    programme,
    supervision,
)
from app.web.errors import install_web_error_handlers

web_router = APIRouter(include_in_schema=False)
web_router.include_router(login.router)
web_router.include_router(home.router)
web_router.include_router(nqsw.router)
web_router.include_router(allocate.router)
web_router.include_router(breaches.router)
web_router.include_router(diary.router)
web_router.include_router(supervision.router)
web_router.include_router(programme.router)
web_router.include_router(notifications.router)

__all__ = ["install_web_error_handlers", "web_router"]
