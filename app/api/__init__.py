"""The JSON API under /api/v1. Each area's router lives in its own module."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.api import (
    adjustments,
    allocations,
    audit,
    auth,
    breaches,
    calendar,
    cases,
    diary,
    exports,
    imports,
    notifications,
    nqsws,
    org,
    override_requests,
    policies,
    programme,
    staff,
    supervision,
    workload,
)
from app.auth import authorize

# Every route below goes through `authorize` and its access table (app/auth/access_table.py).
api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(authorize)])
api_router.include_router(auth.router)
api_router.include_router(org.router)
api_router.include_router(staff.router)
api_router.include_router(notifications.router)
api_router.include_router(nqsws.router)
api_router.include_router(adjustments.router)
api_router.include_router(cases.router)
api_router.include_router(audit.router)
api_router.include_router(allocations.router)
api_router.include_router(breaches.router)
api_router.include_router(workload.router)
api_router.include_router(policies.router)
api_router.include_router(diary.router)
api_router.include_router(supervision.router)
api_router.include_router(programme.router)
api_router.include_router(calendar.router)
api_router.include_router(override_requests.router)
api_router.include_router(exports.router)
api_router.include_router(imports.router)
