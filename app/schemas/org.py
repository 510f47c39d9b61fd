"""Service areas and teams as the API shows them."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from app.schemas.common import Name, RecordId


class ServiceAreaCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    senior_manager_id: RecordId | None = None


class ServiceAreaUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    senior_manager_id: RecordId | None = None


class ServiceAreaPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    senior_manager_id: RecordId | None
    closed_on: date | None
    created_at: datetime


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    service_area_id: RecordId
    manager_id: RecordId | None = None


class TeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    service_area_id: RecordId | None = None
    manager_id: RecordId | None = None


class TeamPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    service_area_id: RecordId
    manager_id: RecordId | None
    closed_on: date | None
    created_at: datetime


class CloseRequest(BaseModel):
    """Ending something that history refers to: it is closed on a date, never deleted."""

    model_config = ConfigDict(extra="forbid")

    on: date | None = None
