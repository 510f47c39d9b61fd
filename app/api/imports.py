"""Imports of staff, cases and allocations from a case-management system's export."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.boundary import BoundaryRoute

router = APIRouter(route_class=BoundaryRoute, tags=["imports"])
