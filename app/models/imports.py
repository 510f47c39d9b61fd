"""Imports of a case-management system's exports: each run, and the source's own keys.

An import records reality (staff, cases and allocations kept in Liquidlogic, Mosaic or
Eclipse), so every run is kept with its file's hash, what it found and what it changed:
the same file imported twice can be recognised, and any change can be traced to a file.
`ImportKey` remembers which of our records each source reference became, so a re-import
updates in place and a full export can end what it no longer lists.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field


class ImportKind(StrEnum):
    staff = "staff"
    cases = "cases"
    allocations = "allocations"


class ImportStatus(StrEnum):
    running = "running"
    previewed = "previewed"
    applied = "applied"
    failed = "failed"
    # A preview that has been applied (the import is its own, later run).
    superseded = "superseded"


class ImportRun(SQLModel, table=True):
    """One import of one file: previewed, applied or failed, with its report."""

    __tablename__ = "import_run"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    profile: str = Field(max_length=100)
    file_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64, index=True)
    size: int
    status: str = Field(default=ImportStatus.running.value, max_length=20, index=True)
    as_of: date | None = None
    rows_total: int = Field(default=0)
    rows_done: int = Field(default=0)
    created: int = Field(default=0)
    updated: int = Field(default=0)
    closed: int = Field(default=0)
    unchanged: int = Field(default=0)
    errors: int = Field(default=0)
    report: Any | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    started_by_id: int | None = Field(default=None, foreign_key="staff.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    started_at: datetime = created_at_field()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ImportKey(SQLModel, table=True):
    """Which of our records a source reference (staff number, case or allocation id)
    became: re-imports update it, and a full export ends those it no longer lists."""

    __tablename__ = "import_key"
    __table_args__ = (UniqueConstraint("kind", "source_ref", name="ux_import_key_source"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    source_ref: str = Field(max_length=200)
    entity_id: int = Field(index=True)
    created_at: datetime = created_at_field()
