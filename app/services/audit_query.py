"""Reading the audit trail. There is deliberately nothing here that changes it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from app.errors import DomainError, NotFound
from app.models import AuditEvent
from app.repositories import audit as audit_rows
from app.repositories.audit import EventFilter


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
    recorded_from: date | None = None,
    recorded_to: date | None = None,
    action_prefixes: tuple[str, ...] | None = None,
) -> tuple[list[AuditEvent], int]:
    """Events newest first; `action` matches as a prefix ("case." finds every case event).

    `from_date` and `to_date` (local days, both included) select by the date a change
    takes effect (`effective_on`: an allocation's start, a back-dated pause's first day),
    which is what "what happened in March" means; `recorded_from`/`recorded_to` select by
    when it was recorded. `action_prefixes` keeps a reader to the events of their remit.
    """
    for first, last, name in ((from_date, to_date, "to"),
                              (recorded_from, recorded_to, "recorded_to")):
        if first is not None and last is not None and last < first:
            raise DomainError(f"{name!r} {last} is before its start {first}",
                              field=["query", name])
    filters = EventFilter(
        actor_id=actor_id, action=action, entity=entity, entity_id=entity_id, nqsw_id=nqsw_id,
        effective_from=from_date, effective_to=to_date,
        recorded_from=None if recorded_from is None else _start_of(recorded_from, tz),
        recorded_before=(None if recorded_to is None
                         else _start_of(recorded_to + timedelta(days=1), tz)),
        action_prefixes=action_prefixes,
    )
    return audit_rows.page_of_events(session, limit=limit, offset=offset, filters=filters)


def get_event(
    *, session: Session, event_id: int, action_prefixes: tuple[str, ...] | None = None
) -> AuditEvent:
    """One event; outside the reader's remit it is as unknown as a missing one."""
    event = audit_rows.event_or_404(session, event_id)
    if action_prefixes is not None and not event.action.startswith(action_prefixes):
        raise NotFound("audit event", event_id, field=["path", "event_id"])
    return event
