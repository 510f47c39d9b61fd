"""The append-only audit trail, written in the same transaction as the change it records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_at_field()
    actor_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    action: str = Field(max_length=80, index=True)
    entity: str = Field(max_length=80)
    entity_id: str | None = Field(default=None, max_length=80)
    nqsw_id: int | None = Field(default=None, index=True)
    # The local date the change takes effect (an allocation's start, a pause's first day),
    # which is what "what happened in March" means; `at` is when it was recorded.
    effective_on: date | None = Field(default=None, index=True)
    before: Any | None = Field(default=None, sa_type=JSON)
    after: Any | None = Field(default=None, sa_type=JSON)
