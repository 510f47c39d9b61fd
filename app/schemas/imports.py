"""What the API shows of an import run: its file, status, counts and full report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.schemas.common import PublicRecord


class ImportRunPublic(PublicRecord):
    kind: str
    profile: str
    file_name: str
    sha256: str
    size: int
    status: str
    as_of: date | None
    rows_total: int
    rows_done: int
    created: int
    updated: int
    closed: int
    unchanged: int
    errors: int
    report: dict[str, Any] | None
    started_by_id: int | None
    team_id: int | None
    started_at: datetime
    finished_at: datetime | None
