"""Notifications, read and marked: the inbox, and each person's delivery preference
(app/models/notification.py).

Each person sees only their own inbox, so the inbox questions are asked by recipient.
The outbox (`OutboxMessage`) is written with the notification and emptied by the
delivery and digest runs (app/jobs/); what they read and mark is at the end of this
module, and the retry schedule is app/services/outbox.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.models import Notification, NotificationPreference, OutboxMessage
from app.models.notification import Delivery, OutboxStatus
from app.repositories.base import get, paginate


def _inbox(staff_id: int, *, unread_only: bool) -> SelectOfScalar[Notification]:
    query = select(Notification).where(Notification.recipient_id == staff_id)
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    return query


def page_of_inbox(
    session: Session, staff_id: int, *, unread_only: bool, limit: int, offset: int
) -> tuple[list[Notification], int]:
    """A page of this person's notifications, newest first, and how many match."""
    query = _inbox(staff_id, unread_only=unread_only).order_by(
        col(Notification.created_at).desc(), col(Notification.id).desc()
    )
    return paginate(session, query, limit=limit, offset=offset)


def unread_count(session: Session, staff_id: int) -> int:
    """How many of this person's notifications are unread (on every page's header)."""
    query = _inbox(staff_id, unread_only=True)
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())


def notification(session: Session, notification_id: int) -> Notification | None:
    return get(session, Notification, notification_id)


def mark_all_read(session: Session, staff_id: int, at: datetime) -> int:
    """Mark every unread notification of this person read at `at`; how many were."""
    result = session.exec(  # type: ignore[call-overload]
        update(Notification)
        .where(col(Notification.recipient_id) == staff_id, col(Notification.read_at).is_(None))
        .values(read_at=at)
    )
    return int(result.rowcount or 0)


def preference(session: Session, staff_id: int) -> NotificationPreference | None:
    """The person's stored choice, or None when they never chose (an email per event)."""
    return get(session, NotificationPreference, staff_id)


def digest_choosers(session: Session, staff_ids: Iterable[int]) -> set[int]:
    """Who among these people chose one digest a day instead of an email per event."""
    ids = list(staff_ids)
    if not ids:
        return set()
    rows = session.exec(
        select(NotificationPreference.staff_id).where(
            col(NotificationPreference.staff_id).in_(ids),
            col(NotificationPreference.digest).is_(True),
        )
    ).all()
    return set(rows)


# ---- the email outbox ----------------------------------------------------------------------


def due_messages(session: Session, now: datetime, limit: int) -> list[OutboxMessage]:
    """Up to `limit` pending messages due by `now`, the longest waiting first. On
    PostgreSQL they stay locked until the transaction ends and rows another sender holds
    are skipped, so concurrent senders take different messages; SQLite serialises them
    with its write lock."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.pending,
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    return list(session.exec(query).all())


def update_message(session: Session, message_id: int, **values: Any) -> None:
    """Set these columns of one message, without loading it (a send's outcome)."""
    session.exec(  # type: ignore[call-overload]
        update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(**values)
    )


def requeue_failed(session: Session, now: datetime) -> int:
    """Every message given up becomes pending again with a fresh set of attempts, due at
    `now`; how many there were."""
    result = session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(col(OutboxMessage.status) == OutboxStatus.failed)
        .values(status=OutboxStatus.pending, attempts=0, next_attempt_at=now)
    )
    return int(result.rowcount or 0)


def outbox_counts(session: Session, now: datetime) -> tuple[dict[str, int], int]:
    """How many messages there are in each status, and how many pending ones are due."""
    rows = session.exec(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    due = session.exec(
        select(func.count()).where(
            OutboxMessage.status == OutboxStatus.pending,
            col(OutboxMessage.next_attempt_at) <= now,
        )
    ).one()
    return {str(status): int(n) for status, n in rows}, int(due)


# ---- the daily digest ----------------------------------------------------------------------


def awaiting_digest(session: Session, *, before: datetime) -> list[Notification]:
    """Notifications for the digest created before `before` and not yet in one, by
    recipient and age. On PostgreSQL they stay locked until the transaction ends and
    rows another run holds are skipped, so two runs never list one twice."""
    query = (
        select(Notification)
        .where(
            Notification.delivery == Delivery.digest,
            col(Notification.digest_outbox_id).is_(None),
            col(Notification.created_at) < before,
        )
        .order_by(col(Notification.recipient_id), col(Notification.created_at),
                  col(Notification.id))
    )
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    return list(session.exec(query).all())


def digested_on(session: Session, staff_ids: Iterable[int], day: date) -> set[int]:
    """Who among these people already has a digest email for `day`."""
    rows = session.exec(
        select(OutboxMessage.recipient_id).where(
            col(OutboxMessage.recipient_id).in_(list(staff_ids)),
            OutboxMessage.digest_day == day,
        )
    ).all()
    return {r for r in rows if r is not None}
