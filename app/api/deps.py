"""Typed dependencies shared by the API routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.policy.registry import PolicySet
from app.schemas.common import OnQuery, Pagination, pagination
from app.settings import Settings


def get_policies(request: Request) -> PolicySet:
    """The PolicySet loaded (and validated) at start-up, from the application's state."""
    policies: PolicySet = request.app.state.policies
    return policies


PoliciesDep = Annotated[PolicySet, Depends(get_policies)]


def get_app_settings(request: Request) -> Settings:
    """The Settings the application was created with: two applications in one process
    (tests, a second tenant) each answer with their own, never the environment's."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
# Every `on=` query date is range-checked (app/schemas/common.py); one definition.
OnDep = OnQuery
PageDep = Annotated[Pagination, Depends(pagination)]
