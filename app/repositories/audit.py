"""The audit trail, read (app/models/audit.py). Writing it is app/services/audit.py.

The trail is append-only, so every question here is a read: a page of events for the
audit API, and the events about one NQSW's diary that other features derive facts from
(when a booking was confirmed as taken, how often a calendar item changed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.models import AuditEvent
from app.repositories.base import get_or_404, paginate, where_equal


def event_or_404(session: Session, event_id: int) -> AuditEvent:
    return get_or_404(session, AuditEvent, event_id, what="audit event")


@dataclass(frozen=True)
class EventFilter:
    """The optional filters of the audit list; one left None does not narrow it.

    `action` and each of `action_prefixes` match as prefixes (escaped, so "_" and "%" are
    literal); `effective_from`/`effective_to` are local dates, both included;
    `recorded_from` (included) and `recorded_before` (excluded) are UTC instants.
    """

    actor_id: int | None = None
    action: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    nqsw_id: int | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    recorded_from: datetime | None = None
    recorded_before: datetime | None = None
    action_prefixes: tuple[str, ...] | None = None


def page_of_events(
    session: Session, *, limit: int, offset: int, filters: EventFilter
) -> tuple[list[AuditEvent], int]:
    """Events newest first, and how many match."""
    query = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    query = where_equal(query, (AuditEvent.actor_id, filters.actor_id),
                        (AuditEvent.entity, filters.entity or None),
                        (AuditEvent.entity_id, filters.entity_id),
                        (AuditEvent.nqsw_id, filters.nqsw_id))
    if filters.action:
        query = query.where(col(AuditEvent.action).startswith(filters.action, autoescape=True))
    if filters.action_prefixes is not None:
        query = query.where(or_(*(col(AuditEvent.action).startswith(p, autoescape=True)
                                  for p in filters.action_prefixes)))
    if filters.effective_from is not None:
        query = query.where(col(AuditEvent.effective_on) >= filters.effective_from)
    if filters.effective_to is not None:
        query = query.where(col(AuditEvent.effective_on) <= filters.effective_to)
    if filters.recorded_from is not None:
        query = query.where(col(AuditEvent.at) >= filters.recorded_from)
    if filters.recorded_before is not None:
        query = query.where(col(AuditEvent.at) < filters.recorded_before)
    return paginate(session, query, limit=limit, offset=offset)


def effects_of(
    session: Session, *, action: str, entity: str, entity_ids: Sequence[str]
) -> list[tuple[str | None, date | None, Any]]:
    """(entity_id, effective_on, after) of every `action` event on these entities, oldest
    first, so that a later event about the same entity comes last."""
    if not entity_ids:
        return []
    rows = session.exec(
        select(col(AuditEvent.entity_id), col(AuditEvent.effective_on),
               col(AuditEvent.after)).where(
            AuditEvent.action == action,
            AuditEvent.entity == entity,
            col(AuditEvent.entity_id).in_(list(entity_ids)),
        ).order_by(col(AuditEvent.id))
    ).all()
    return [(entity_id, effective_on, after) for entity_id, effective_on, after in rows]


def every_effect(session: Session, *, action: str, entity: str) -> list[tuple[str | None, Any]]:
    """(entity_id, after) of every `action` event on this kind of entity, oldest first
    (e.g. each policy version recorded: the last one per policy is the latest)."""
    rows = session.exec(
        select(col(AuditEvent.entity_id), col(AuditEvent.after))
        .where(col(AuditEvent.action) == action, col(AuditEvent.entity) == entity)
        .order_by(col(AuditEvent.id))
    ).all()
    return [(entity_id, after) for entity_id, after in rows]


def events_about_nqsw(
    session: Session, nqsw_id: int, entities: Sequence[str]
) -> list[AuditEvent]:
    """Every event about this NQSW on these kinds of entity, oldest first."""
    return list(session.exec(
        select(AuditEvent)
        .where(AuditEvent.nqsw_id == nqsw_id, col(AuditEvent.entity).in_(list(entities)))
        .order_by(col(AuditEvent.id))
    ).all())
