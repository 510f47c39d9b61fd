"""Emptying the email outbox: send what is due, retry what failed, never lose a message.

Delivery runs outside any request (the scheduler every minute, or `ringfence outbox
deliver`). Each message is claimed in one short transaction and its outcome recorded
in another, with the SMTP conversation in between and no transaction open, so a slow
mail server never holds a database lock. A claim pushes `next_attempt_at` forward by a
lease: if the worker dies mid-send the message becomes due again when the lease ends.
Several workers may run this at once: PostgreSQL hands each one different rows (FOR
UPDATE SKIP LOCKED); SQLite serialises the claims with its write lock. The retry
schedule itself is app.services.outbox's.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from app.clock import now_utc
from app.jobs.digest import build_due_digests
from app.jobs.transaction import transaction
from app.services import mailer
from app.services import outbox as queue
from app.settings import Settings

log = logging.getLogger(__name__)


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


def claim_due(engine: Engine, now: datetime, limit: int = queue.BATCH_SIZE) -> list[queue.Claimed]:
    """Take up to `limit` due messages for this worker, in a transaction of their own."""
    with transaction(engine) as session:
        return queue.claim_due(session, now, limit)


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
        batch = queue.BATCH_SIZE if remaining is None else min(queue.BATCH_SIZE, remaining)
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
    claimed: list[queue.Claimed],
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
                    error = f"cannot reach the mail server: {mailer.describe_error(exc)}"
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
                _count_failure(engine, message, mailer.describe_error(exc), now, counts)
                # Start the next message on a clean connection, whatever state this one is in.
                mailer.close(smtp)
                smtp = None
                continue
            with transaction(engine) as session:
                queue.mark_sent(session, message.id, now)
            counts.sent += 1
    finally:
        mailer.close(smtp)
    return reachable


def _count_failure(
    engine: Engine, message: queue.Claimed, error: str, now: datetime, counts: DeliveryCounts
) -> None:
    with transaction(engine) as session:
        gave_up = queue.mark_failed(session, message, error, now)
    if gave_up:
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
    with transaction(engine) as session:
        return queue.requeue(session, now or now_utc())


def status_counts(engine: Engine, now: datetime | None = None) -> dict[str, int]:
    """How many messages are pending (and how many of those are due), sent and failed."""
    with Session(engine) as session:
        return queue.counts_by_status(session, now or now_utc())


def run_scheduled(
    engine: Engine, settings: Settings, now: datetime | None = None
) -> DeliveryCounts:
    """The scheduler's entry point, every minute: build due digests, then send what is due.

    Never raises: a failure is logged and the next minute tries again.
    """
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
