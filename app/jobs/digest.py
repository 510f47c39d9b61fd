"""Building the daily digest emails in transactions of their own.

Every worker's per-minute delivery run asks for the due day's digests; on PostgreSQL a
transaction-level advisory lock lets one worker build them while the others move on,
and on SQLite the write lock taken at BEGIN queues them. Either way the digest for a
person and a day is written once (app.services.digest skips anyone who has one).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import Engine

from app.clock import now_utc
from app.db import is_sqlite
from app.jobs.transaction import transaction
from app.models import OutboxMessage
from app.repositories import job_lock as job_locks
from app.services.digest import build_digests, due_digest_day
from app.settings import Settings

log = logging.getLogger(__name__)

# Identifies the digest job for PostgreSQL's advisory lock (one builder at a time).
DIGEST_LOCK_KEY = 0x52_46_44_47  # "RFDG"


def build_due_digests(
    engine: Engine, settings: Settings, now: datetime | None = None
) -> list[OutboxMessage]:
    """The scheduled step: build the due day's digests in one short transaction."""
    day = due_digest_day(now or now_utc(), settings)
    if day is None:
        return []
    with transaction(engine) as session:
        if not is_sqlite(engine):
            if not job_locks.try_lock_for_transaction(session, DIGEST_LOCK_KEY):
                return []  # another worker is building them right now
        created = build_digests(session, day, settings=settings)
    if created:
        log.info("queued %s daily digest emails for %s", len(created), day)
    return created


def build_digests_for_day(engine: Engine, day: date, settings: Settings) -> list[OutboxMessage]:
    """Build `day`'s digests now, in one transaction (`ringfence outbox digest`)."""
    with transaction(engine) as session:
        return build_digests(session, day, settings=settings)
