"""Emptying the email outbox: send what is due, retry what failed, never lose a message.

Delivery runs outside any request (the scheduler every minute, or `ringfence outbox
deliver`). Each message is claimed in one short transaction and its outcome recorded
in another, with the SMTP conversation in between and no transaction open, so a slow
mail server never holds a database lock. A claim pushes `next_attempt_at` forward by a
lease: if the worker dies mid-send the message becomes due again when the lease ends.
Several workers may run this at once: PostgreSQL hands each one different rows (FOR
UPDATE SKIP LOCKED); SQLite serialises the claims with its write lock.

Retries back off exponentially, 1, 2, 4 ... minutes, capped at `LONGEST_RETRY` (2 hours),
and go on for `RETRY_FOR` (3 days) before a message is given up (kept as *failed*, never
deleted; `ringfence outbox requeue` sends it again). So a mail server that is down from
Friday evening to Monday morning loses nothing: the emails go out within two hours of
it coming back. `MAX_ATTEMPTS` is derived from that schedule (43 attempts).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from app.clock import now_utc
from app.db import is_sqlite, write_bind
from app.models import OutboxMessage
from app.models.notification import OutboxStatus
from app.services import mailer
from app.settings import Settings

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=2)
# How long a message keeps being retried before it is given up: a weekend outage and more.
RETRY_FOR = timedelta(days=3)
CLAIM_LEASE = timedelta(minutes=5)
BATCH_SIZE = 50
ERROR_MAX = 2000


@dataclass
class DeliveryCounts:
    """What one delivery run did, for the CLI and the logs."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed


@dataclass(frozen=True)
class _Claimed:
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


def claim_due(engine: Engine, now: datetime, limit: int = BATCH_SIZE) -> list[_Claimed]:
    """Take up to `limit` due messages for this worker and count the attempt."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.pending,
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    if not is_sqlite(engine):
        query = query.with_for_update(skip_locked=True)
    with Session(write_bind(engine), expire_on_commit=False) as session:
        rows = list(session.exec(query).all())
        claimed: list[_Claimed] = []
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = now + CLAIM_LEASE
            assert row.id is not None
            claimed.append(
                _Claimed(row.id, row.to_address, row.subject, row.text, row.html, row.attempts)
            )
        session.commit()
    return claimed


def _record_sent(engine: Engine, message_id: int, now: datetime) -> None:
    with Session(write_bind(engine)) as session:
        session.exec(  # type: ignore[call-overload]
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .values(status=OutboxStatus.sent, sent_at=now)
        )
        session.commit()


def _record_failure(engine: Engine, claimed: _Claimed, error: str, now: datetime) -> bool:
    """Note the error and schedule the retry; True when this was the last attempt."""
    gave_up = claimed.attempts >= MAX_ATTEMPTS
    values: dict[str, object] = {
        "last_error": error[:ERROR_MAX],
        "next_attempt_at": now + backoff(claimed.attempts),
    }
    if gave_up:
        values["status"] = OutboxStatus.failed
    with Session(write_bind(engine)) as session:
        session.exec(  # type: ignore[call-overload]
            update(OutboxMessage).where(col(OutboxMessage.id) == claimed.id).values(**values)
        )
        session.commit()
    return gave_up


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        ]
        return "recipient refused: " + "; ".join(parts)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return f"{type(exc).__name__}: {exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}"


def deliver_due(
    engine: Engine, settings: Settings, now: datetime | None = None, *, limit: int | None = None
) -> DeliveryCounts:
    """Send every message due at `now` (UTC), at most `limit`; return what happened.

    With SMTP disabled nothing is claimed: messages wait, pending, until it is enabled.
    """
    now = now or now_utc()
    counts = DeliveryCounts()
    if not settings.smtp_enabled:
        return counts
    remaining = limit
    while remaining is None or remaining > 0:
        batch = BATCH_SIZE if remaining is None else min(BATCH_SIZE, remaining)
        claimed = claim_due(engine, now, batch)
        if not claimed:
            break
        if remaining is not None:
            remaining -= len(claimed)
        if not _send_batch(engine, settings, claimed, now, counts):
            break  # the server is unreachable: the rest waits for the next run
    return counts


def _send_batch(
    engine: Engine,
    settings: Settings,
    claimed: list[_Claimed],
    now: datetime,
    counts: DeliveryCounts,
) -> bool:
    """Send one claimed batch over one connection; False if the server could not be reached."""
    smtp: smtplib.SMTP | None = None
    reachable = True
    try:
        for index, message in enumerate(claimed):
            if smtp is None:
                try:
                    smtp = mailer.connect(settings)
                except Exception as exc:
                    error = f"cannot reach the mail server: {_describe(exc)}"
                    for left in claimed[index:]:
                        _count_failure(engine, left, error, now, counts)
                    reachable = False
                    break
            try:
                smtp.send_message(
                    mailer.compose(
                        sender=settings.smtp_sender,
                        to_address=message.to_address,
                        subject=message.subject,
                        text=message.text,
                        html=message.html,
                        message_id=mailer.message_id_for(message.id, settings.smtp_sender),
                    )
                )
            except Exception as exc:
                _count_failure(engine, message, _describe(exc), now, counts)
                # Start the next message on a clean connection, whatever state this one is in.
                mailer.close(smtp)
                smtp = None
                continue
            _record_sent(engine, message.id, now)
            counts.sent += 1
    finally:
        mailer.close(smtp)
    return reachable


def _count_failure(
    engine: Engine, message: _Claimed, error: str, now: datetime, counts: DeliveryCounts
) -> None:
    if _record_failure(engine, message, error, now):
        counts.failed += 1
        log.error("email %s to %s given up after %s attempts: %s",
                  message.id, message.to_address, message.attempts, error)
    else:
        counts.retrying += 1
        log.warning("email %s to %s not sent (attempt %s), will retry: %s",
                    message.id, message.to_address, message.attempts, error)
    counts.errors.append(f"{message.id}: {error}")


def requeue_failed(engine: Engine, now: datetime | None = None) -> int:
    """Give messages that were given up on a fresh set of attempts (after fixing SMTP)."""
    now = now or now_utc()
    with Session(write_bind(engine)) as session:
        result = session.exec(  # type: ignore[call-overload]
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.failed)
            .values(status=OutboxStatus.pending, attempts=0, next_attempt_at=now)
        )
        session.commit()
        return int(result.rowcount or 0)


def status_counts(engine: Engine, now: datetime | None = None) -> dict[str, int]:
    """How many messages are pending (and how many of those are due), sent and failed."""
    now = now or now_utc()
    with Session(engine) as session:
        rows = session.exec(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
        due = session.exec(
            select(func.count()).where(
                OutboxMessage.status == OutboxStatus.pending,
                col(OutboxMessage.next_attempt_at) <= now,
            )
        ).one()
    counts = {status.value: 0 for status in OutboxStatus}
    counts.update({str(status): int(n) for status, n in rows})
    counts["due"] = int(due)
    return counts


def run_scheduled(
    engine: Engine, settings: Settings, now: datetime | None = None
) -> DeliveryCounts:
    """The scheduler's entry point, every minute: build due digests, then send what is due.

    Never raises: a failure is logged and the next minute tries again.
    """
    from app.services.digest import build_due_digests

    now = now or now_utc()
    try:
        build_due_digests(engine, settings, now)
    except Exception:
        log.exception("building daily digests failed; will try again")
    try:
        return deliver_due(engine, settings, now)
    except Exception:
        log.exception("email delivery run failed; will try again")
        return DeliveryCounts()
