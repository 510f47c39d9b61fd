"""Reading the audit trail. There is deliberately nothing here that changes it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.errors import DomainError
from app.models import AuditEvent
from app.services.common import get_or_404, paginate


def _start_of(day: date, tz: ZoneInfo) -> datetime:
    """Midnight of a local (Europe/London) day, as the UTC instant the trail stores."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def list_events(
    *,
    session: Session,
    limit: int,
    offset: int,
    tz: ZoneInfo,
    actor_id: int | None = None,
    action: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    nqsw_id: int | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
) -> tuple[list[AuditEvent], int]:
    """Events newest first; `action` matches as a prefix ("case." finds every case event).

    `from_date` and `to_date` are local days, both included.
    """
    if from_date is not None and to_date is not None and to_date < from_date:
        raise DomainError(f"'to' {to_date} is before 'from' {from_date}", field=["query", "to"])
    query = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if action:
        query = query.where(col(AuditEvent.action).startswith(action, autoescape=True))
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if nqsw_id is not None:
        query = query.where(AuditEvent.nqsw_id == nqsw_id)
    if from_date is not None:
        query = query.where(col(AuditEvent.at) >= _start_of(from_date, tz))
    if to_date is not None:
        query = query.where(col(AuditEvent.at) < _start_of(to_date + timedelta(days=1), tz))
    return paginate(session, query, limit=limit, offset=offset)


def get_event(*, session: Session, event_id: int) -> AuditEvent:
    return get_or_404(session, AuditEvent, event_id, what="audit event")
