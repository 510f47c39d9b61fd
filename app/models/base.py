"""Shared column helpers and vocabularies used by every aggregate."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

# The vocabularies the policies speak in are pure (the engine reads them without the
# database layer); re-exported here for the columns that store them.
from app.policy.vocabulary import PROGRAMME_MONTHS as PROGRAMME_MONTHS
from app.policy.vocabulary import CaseCategory as CaseCategory
from app.policy.vocabulary import Programme as Programme
from app.policy.vocabulary import Role as Role


def utcnow() -> datetime:
    """Timestamps are stored in UTC; local dates are Europe/London (see app.clock)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC and timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def created_at_field() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class EnrolmentStatus(StrEnum):
    active = "active"
    paused = "paused"
    withdrawn = "withdrawn"
    completed = "completed"


class PauseReason(StrEnum):
    health = "health"
    maternity = "maternity"
    other = "other"


class AllocationRole(StrEnum):
    holder = "holder"
    co_worker = "co_worker"
