"""Reading allocations: one by id, or a page of them within the caller's reach."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from app.auth.reach import Reach
from app.clock import today
from app.models import Allocation
from app.repositories import case as case_repository
from app.repositories.account import allocations_in_reach
from app.repositories.case import AllocationFilter


def list_allocations(
    session: Session,
    *,
    limit: int,
    offset: int,
    worker_id: int | None = None,
    case_id: int | None = None,
    role: str | None = None,
    on: date | None = None,
    scope: Reach | None = None,
) -> tuple[list[Allocation], int]:
    """`scope`: the caller's reach (app.auth); only allocations within it. None = all."""
    visible = None
    if scope is not None:
        visible = allocations_in_reach(scope, worker_id=Allocation.worker_id,
                                       case_id=Allocation.case_id, on=on or today())
    filters = AllocationFilter(worker_id=worker_id, case_id=case_id, role=role, on=on)
    return case_repository.allocations_page(
        session, limit=limit, offset=offset, filters=filters, visible=visible
    )


def get_allocation(session: Session, allocation_id: int) -> Allocation:
    return case_repository.allocation_or_404(session, allocation_id)
