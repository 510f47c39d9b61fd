"""Plain rows from statements built once: for the reads that every check and write makes.

Building a SQLAlchemy statement, computing its cache key and turning its result into
ORM objects each cost more than running it on an indexed table. The snapshot loader
(every what-if check, write and sweep) and the access checks (every API request) read
a dozen small result sets per request, so their statements are built once, at import,
with bound parameters, and run here as Core statements: no ORM objects, no
per-call construction, the session's own connection and transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Row
from sqlalchemy.sql import Executable
from sqlmodel import Session, SQLModel


def table(model: type[SQLModel]) -> Table:
    """The Core table behind a model, for statements built once."""
    return model.__table__  # type: ignore[attr-defined]


def read(session: Session, statement: Executable, **params: Any) -> Sequence[Row[Any]]:
    """Every row of a prebuilt statement, in the session's transaction.

    The session's pending changes are flushed first, as an ORM query would (autoflush),
    so a service that changed something sees it here too.
    """
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params).all()


def read_first(session: Session, statement: Executable, **params: Any) -> Row[Any] | None:
    """The first row of a prebuilt statement, or None (see `read`)."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params).first()
