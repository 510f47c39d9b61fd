"""The audit trail as the API shows it: read only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.schemas.common import PublicRecord, RecordId


class AuditEventPublic(PublicRecord):
    at: datetime
    actor_id: RecordId | None
    action: str
    entity: str
    entity_id: str | None
    nqsw_id: RecordId | None
    effective_on: date | None = None
    before: Any | None
    after: Any | None
