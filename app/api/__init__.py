"""The JSON API under /api/v1. Each area's router lives in its own module."""

from __future__ import annotations

from fastapi import APIRouter

from app.api import org, staff

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(org.router)
api_router.include_router(staff.router)
