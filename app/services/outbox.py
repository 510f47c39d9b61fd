"""The email outbox's states and its retry schedule, in the caller's transaction.

A queued email is *pending* until it is sent, and is retried with exponential backoff,
1, 2, 4 ... minutes, capped at `LONGEST_RETRY` (2 hours), for `RETRY_FOR` (3 days)
before it is given up (kept as *failed*, never deleted; `ringfence outbox requeue`
sends it again). So a mail server that is down from Friday evening to Monday morning
loses nothing: the emails go out within two hours of it coming back. `MAX_ATTEMPTS` is
derived from that schedule (43 attempts).

These functions only flush: delivery (app.jobs.outbox) decides where each transaction
ends, so that the SMTP conversation happens with none open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from app.models.notification import OutboxStatus
from app.repositories import notification as notification_rows

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=2)
# How long a message keeps being retried before it is given up: a weekend outage and more.
RETRY_FOR = timedelta(days=3)
# A claimed message becomes due again after this, should its sender die mid-send.
CLAIM_LEASE = timedelta(minutes=5)
BATCH_SIZE = 50
ERROR_MAX = 2000


@dataclass(frozen=True)
class Claimed:
    """A claimed message, detached from its session so the send holds no transaction."""

    id: int
    to_address: str
    subject: str
    text: str
    html: str | None
    attempts: int


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failures: 1, 2, 4 ... minutes, at most 2 h."""
    if attempts < 1:
        return timedelta(0)
    return min(FIRST_RETRY * (2 ** min(attempts - 1, 16)), LONGEST_RETRY)


def attempts_within(window: timedelta) -> int:
    """How many attempts the backoff schedule makes before `window` has passed since the
    first: the last one is the first at or after the window's end."""
    attempts, waited = 1, timedelta(0)
    while waited < window:
        waited += backoff(attempts)
        attempts += 1
    return attempts


MAX_ATTEMPTS = attempts_within(RETRY_FOR)


def claim_due(session: Session, now: datetime, limit: int = BATCH_SIZE) -> list[Claimed]:
    """Take up to `limit` due messages, count the attempt and lease them for `CLAIM_LEASE`.

    On PostgreSQL the rows are locked and rows another sender holds are skipped, so
    concurrent senders claim different messages; SQLite serialises them with its
    write lock.
    """
    claimed: list[Claimed] = []
    for row in notification_rows.due_messages(session, now, limit):
        row.attempts += 1
        row.next_attempt_at = now + CLAIM_LEASE
        assert row.id is not None
        claimed.append(
            Claimed(row.id, row.to_address, row.subject, row.text, row.html, row.attempts)
        )
    session.flush()
    return claimed


def mark_sent(session: Session, message_id: int, now: datetime) -> None:
    """The message reached the mail server."""
    notification_rows.update_message(session, message_id, status=OutboxStatus.sent, sent_at=now)


def mark_failed(session: Session, claimed: Claimed, error: str, now: datetime) -> bool:
    """Note the error and schedule the retry; True when this was the last attempt."""
    gave_up = claimed.attempts >= MAX_ATTEMPTS
    values: dict[str, object] = {
        "last_error": error[:ERROR_MAX],
        "next_attempt_at": now + backoff(claimed.attempts),
    }
    if gave_up:
        values["status"] = OutboxStatus.failed
    notification_rows.update_message(session, claimed.id, **values)
    return gave_up


def requeue(session: Session, now: datetime) -> int:
    """Give every message that was given up a fresh set of attempts; how many there were."""
    return notification_rows.requeue_failed(session, now)


def counts_by_status(session: Session, now: datetime) -> dict[str, int]:
    """How many messages are pending (and how many of those are due), sent and failed."""
    by_status, due = notification_rows.outbox_counts(session, now)
    counts = {status.value: 0 for status in OutboxStatus}
    counts.update(by_status)
    counts["due"] = due
    return counts
