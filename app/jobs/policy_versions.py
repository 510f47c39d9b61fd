"""Recording the policy versions a service starts on, once across all its workers.

Several workers start at once (`ringfence serve --workers 4`), so the check and the
write run in one short transaction of their own, serialised across workers: a
transaction-level advisory lock on PostgreSQL, the database's write lock (BEGIN
IMMEDIATE) on SQLite. The second worker finds the version recorded and writes nothing.
Start-up never fails for this: a database that cannot be written is logged, and the
next start records the version.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.db import is_sqlite
from app.jobs.transaction import transaction
from app.policy.policies import PolicySet
from app.repositories import job_lock as job_locks
from app.services.policy_versions import record_changed, unrecorded

log = logging.getLogger(__name__)

# The advisory lock that serialises starting workers on PostgreSQL ("ringfence policy").
_ADVISORY_KEY = 0x52465056


def record_policy_versions(engine: Engine, policy_set: PolicySet) -> list[str]:
    """Write a `policy.version` event for every loaded policy whose version is not the
    latest one recorded; returns the policy ids written. Never raises."""
    try:
        with Session(engine) as session:
            if not unrecorded(session, policy_set):
                return []  # the common start: one read, no write, no lock
        with transaction(engine) as session:
            if not is_sqlite(engine):
                job_locks.lock_for_transaction(session, _ADVISORY_KEY)
            # Read again, now that this worker holds the lock.
            return record_changed(session, policy_set)
    except SQLAlchemyError as exc:
        log.warning("policy versions not recorded on the audit trail (will retry at the next "
                    "start): %s", exc)
        return []
