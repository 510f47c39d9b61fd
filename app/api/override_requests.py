"""Override requests: a team manager blocked by a firm limit asks; a senior manager decides."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.boundary import BoundaryRoute

router = APIRouter(route_class=BoundaryRoute, tags=["override-requests"])
