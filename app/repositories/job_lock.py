"""Locks that let one worker at a time do a piece of background work (app/jobs/), and
the `JobLock` rows that record when a daily job last ran (app/models/breach.py).

PostgreSQL has advisory locks: one held for a transaction (`try_lock_for_transaction`,
`lock_for_transaction`, released when it ends) or for a connection (`try_lock`,
`unlock`, released with the connection should its worker die). SQLite has none; the
jobs rely on its write lock there and on `JobLock` rows with an expiry.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlmodel import Session

from app.models.breach import JobLock

_TRY_XACT = text("SELECT pg_try_advisory_xact_lock(:key)")
_XACT = text("SELECT pg_advisory_xact_lock(:key)")
_TRY = text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")


def try_lock_for_transaction(session: Session, key: int) -> bool:
    """Take the advisory lock `key` until the transaction ends, unless another worker
    holds it (PostgreSQL): False means someone else is doing this work right now."""
    return bool(session.connection().execute(_TRY_XACT, {"key": key}).scalar())


def lock_for_transaction(session: Session, key: int) -> None:
    """Wait for the advisory lock `key` and hold it until the transaction ends (PostgreSQL)."""
    session.connection().execute(_XACT, {"key": key})


def try_lock(connection: Connection, key: int) -> bool:
    """Take the advisory lock `key` for this connection unless another holds it
    (PostgreSQL); the caller commits, so that no transaction stays open while it works."""
    return bool(connection.execute(_TRY, {"key": key}).scalar())


def unlock(connection: Connection, key: int) -> None:
    """Release the connection's advisory lock `key` (the caller commits)."""
    connection.execute(_UNLOCK, {"key": key})


def job_lock(session: Session, name: str) -> JobLock | None:
    """The named job's lock row, if the job ever ran or was locked."""
    return session.get(JobLock, name)
