"""Service areas and teams as the API shows them."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from app.schemas.common import Day, Name, PublicRecord, RecordId, RequestBody

ON_IN_BODY = Field(
    default=None,
    description="When the change takes effect (YYYY-MM-DD); may instead be given as the "
                "`on` query parameter; default today.",
)


class ServiceAreaCreate(RequestBody):
    name: Name
    senior_manager_id: RecordId | None = Field(
        default=None, description="A staff member whose role is senior_manager."
    )


class ServiceAreaUpdate(RequestBody):
    name: Name | None = None
    senior_manager_id: RecordId | None = Field(
        default=None, description="A staff member whose role is senior_manager."
    )
    on: Day | None = ON_IN_BODY


class ServiceAreaPublic(PublicRecord):
    name: str
    senior_manager_id: RecordId | None
    closed_on: date | None
    created_at: datetime


class TeamCreate(RequestBody):
    name: Name
    service_area_id: RecordId = Field(description="An open service area.")
    manager_id: RecordId | None = Field(
        default=None, description="A staff member whose role is team_manager."
    )


class TeamUpdate(RequestBody):
    name: Name | None = None
    service_area_id: RecordId | None = Field(default=None, description="An open service area.")
    manager_id: RecordId | None = Field(
        default=None, description="A staff member whose role is team_manager."
    )
    on: Day | None = ON_IN_BODY


class TeamPublic(PublicRecord):
    name: str
    service_area_id: RecordId
    manager_id: RecordId | None
    closed_on: date | None
    created_at: datetime


class CloseRequest(RequestBody):
    """Ending something that history refers to: it is closed on a date, never deleted.

    `on` is the first day it is closed; until then it is open and listed as such.
    """

    on: Day | None = Field(default=None, description="First day closed; default today.")
