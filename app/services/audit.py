"""Writing the audit trail: every change that matters, in the change's own transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlmodel import Session, SQLModel

from app.clock import today
from app.models import AuditEvent


def jsonable(value: Any) -> Any:
    """A value as stored in a JSON column (an audit event's before/after, a notification's
    context): rows and mappings become dicts, dates and times ISO strings, enums their
    values, decimals floats."""
    if isinstance(value, SQLModel):
        return {k: jsonable(v) for k, v in value.model_dump().items()}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    return value


def snapshot_of(record: SQLModel) -> dict[str, Any]:
    """A JSON-safe copy of a row, for the before/after of an audit event."""
    return jsonable(record)


def record(
    session: Session,
    *,
    action: str,
    entity: str,
    entity_id: object | None = None,
    actor_id: int | None = None,
    nqsw_id: int | None = None,
    before: Any = None,
    after: Any = None,
    effective_on: date | None = None,
) -> AuditEvent:
    """Append one audit event; flushed with the change, committed with the request.

    `effective_on` is the local date the change takes effect (an allocation's start, a
    back-dated pause's first day); it defaults to today, when the change is recorded.
    """
    event = AuditEvent(
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        actor_id=actor_id,
        nqsw_id=nqsw_id,
        before=jsonable(before),
        after=jsonable(after),
        effective_on=effective_on or today(),
    )
    session.add(event)
    return event
