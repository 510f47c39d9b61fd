"""Staff: everyone who holds cases, manages, supervises or coordinates."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from app.models.base import created_at_field


class Staff(SQLModel, table=True):
    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(index=True, unique=True, max_length=320)
    role: str = Field(index=True, max_length=40)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    contracted_hours: float = Field(default=37.0)
    fte: float = Field(default=1.0)
    start_date: date
    leave_date: date | None = None
    experienced: bool = Field(
        default=False, description="Counts as an experienced worker for workload benchmarks."
    )
    created_at: datetime = created_at_field()
