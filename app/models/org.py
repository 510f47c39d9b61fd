"""Service areas and teams: the shape of the organisation that breaches escalate through."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field


def _manager_field(constraint: str) -> Any:
    """An optional reference to a staff member who manages this unit.

    The FK to staff closes a cycle (staff -> team -> service_area -> staff), so it is
    added after both tables exist (`use_alter`), under the name `constraint`.
    """
    return Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("staff.id", use_alter=True, name=constraint), nullable=True
        ),
    )


class ServiceArea(SQLModel, table=True):
    __tablename__ = "service_area"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    senior_manager_id: int | None = _manager_field("fk_service_area_senior_manager")
    closed_on: date | None = None
    created_at: datetime = created_at_field()


class Team(SQLModel, table=True):
    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    service_area_id: int = Field(foreign_key="service_area.id", index=True)
    manager_id: int | None = _manager_field("fk_team_manager")
    closed_on: date | None = None
    created_at: datetime = created_at_field()
