"""Shared column helpers and vocabularies used by every aggregate."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


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


class Role(StrEnum):
    nqsw = "nqsw"
    advanced_practitioner = "advanced_practitioner"
    social_worker = "social_worker"
    team_manager = "team_manager"
    senior_manager = "senior_manager"
    asye_coordinator = "asye_coordinator"
    admin = "admin"


class Programme(StrEnum):
    asye = "asye"
    swip = "swip"


PROGRAMME_MONTHS: dict[Programme, int] = {Programme.asye: 12, Programme.swip: 24}


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


class CaseCategory(StrEnum):
    """The built-in categories; an organisation may add more in `policies/categories.toml`."""

    early_help = "early_help"
    child_in_need = "child_in_need"
    child_protection_plan = "child_protection_plan"
    care_proceedings = "care_proceedings"
    looked_after = "looked_after"
    care_leaver = "care_leaver"
    court_work = "court_work"
    other = "other"
