"""Exports for reporting upwards: the breach register, a workload snapshot and compliance
by team, as CSV and XLSX."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.boundary import BoundaryRoute

router = APIRouter(route_class=BoundaryRoute, tags=["exports"])
