"""Cases and allocations: who holds or co-works what, and from when to when."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field


class Case(SQLModel, table=True):
    __tablename__ = "case"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(index=True, unique=True, max_length=64)
    category: str = Field(max_length=40, index=True)
    complexity: int = Field(ge=1, le=4)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    opened_on: date
    closed_on: date | None = None
    created_at: datetime = created_at_field()


class Allocation(SQLModel, table=True):
    """A worker's part in a case over a period; allocations end, they are never deleted."""

    __tablename__ = "allocation"
    __table_args__ = (Index("ix_allocation_worker_period", "worker_id", "start_date", "end_date"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    worker_id: int = Field(foreign_key="staff.id")
    role: str = Field(max_length=20)
    start_date: date
    end_date: date | None = None
    allocated_by_id: int | None = Field(default=None, foreign_key="staff.id")
    override_reason: str | None = Field(default=None, max_length=2000)
    created_at: datetime = created_at_field()
