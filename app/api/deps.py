"""Typed dependencies shared by the API routers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from app.clock import today
from app.schemas.common import Pagination, pagination


def get_policies(request: Request) -> Any:
    """The PolicySet loaded (and validated) at start-up."""
    return request.app.state.policies


def effective_date(
    on: Annotated[
        date | None,
        Query(description="Effective date (YYYY-MM-DD, Europe/London); default today."),
    ] = None,
) -> date:
    return on or today()


PoliciesDep = Annotated[Any, Depends(get_policies)]
OnDep = Annotated[date, Depends(effective_date)]
PageDep = Annotated[Pagination, Depends(pagination)]
