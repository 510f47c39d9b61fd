"""Typed dependencies shared by the API routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.policy.registry import PolicySet
from app.schemas.common import OnQuery, Pagination, pagination


def get_policies(request: Request) -> PolicySet:
    """The PolicySet loaded (and validated) at start-up, from the application's state."""
    policies: PolicySet = request.app.state.policies
    return policies


PoliciesDep = Annotated[PolicySet, Depends(get_policies)]
# Every `on=` query date is range-checked (app/schemas/common.py); one definition.
OnDep = OnQuery
PageDep = Annotated[Pagination, Depends(pagination)]
