"""Typed dependencies shared by the API routers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from app.schemas.common import OnQuery, Pagination, pagination


def get_policies(request: Request) -> Any:
    """The PolicySet loaded (and validated) at start-up."""
    return request.app.state.policies


PoliciesDep = Annotated[Any, Depends(get_policies)]
# Every `on=` query date is range-checked (app/schemas/common.py); one definition.
OnDep = OnQuery
PageDep = Annotated[Pagination, Depends(pagination)]
