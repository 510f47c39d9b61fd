"""An NQSW's workload on a date: every measure, every rule's finding."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.boundary import BoundaryRoute
from app.api.deps import OnDep, PoliciesDep
from app.db import SessionDep
from app.schemas.common import PathId
from app.schemas.workload import Workload
from app.services import allocation_workload as service

router = APIRouter(route_class=BoundaryRoute, tags=["workload"])


@router.get("/nqsws/{staff_id}/workload")
def get_workload(
    staff_id: PathId, session: SessionDep, policies: PoliciesDep, on: OnDep
) -> Workload:
    """Case count, weighted points, share of benchmark, stage and band, per-rule findings."""
    return Workload.model_validate(
        service.workload(session, policies=policies, staff_id=staff_id, on=on)
    )
