"""What every repository shares: plain rows from prebuilt statements, a record by id,
a page of a query.

Building a SQLAlchemy statement, computing its cache key and turning its result into
ORM objects each cost more than running it on an indexed table. The snapshot loader
(every what-if check, write and sweep) and the access checks (every API request) read
a dozen small result sets per request, so their statements are built once, at import,
with bound parameters, and run here as Core statements: no ORM objects, no
per-call construction, the session's own connection and transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, func
from sqlalchemy.engine import Row
from sqlalchemy.sql import Executable
from sqlmodel import Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.errors import NotFound

M = TypeVar("M", bound=SQLModel)


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


def get(session: Session, model: type[M], ident: int | None) -> M | None:
    """The record of `model` with this id, or None."""
    if ident is None:
        return None
    return session.get(model, ident)


def get_or_404(session: Session, model: type[M], ident: int, *, what: str | None = None) -> M:
    row = session.get(model, ident)
    if row is None:
        raise NotFound(what or model.__name__.lower().replace("_", " "), ident)
    return row


def require_exists(
    session: Session, model: type[SQLModel], ident: int | None, *, field: str, what: str
) -> None:
    """A record named in a body must exist: a 404 on the field that names it (the API's
    convention for a missing referenced record), not a 500 from the foreign key."""
    if ident is not None and session.get(model, ident) is None:
        raise NotFound(what, ident, field=field)


def where_equal(query: SelectOfScalar[M], *pairs: tuple[Any, object]) -> SelectOfScalar[M]:
    """`query` kept to the rows whose column equals each given value, for the optional
    filters of a list: a (column, value) pair whose value is None does not narrow it."""
    for column, value in pairs:
        if value is not None:
            query = query.where(col(column) == value)
    return query


def paginate(
    session: Session, query: SelectOfScalar[M], *, limit: int, offset: int
) -> tuple[list[M], int]:
    """One page of `query` and the total count of rows it matches."""
    total = session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    rows = list(session.exec(query.limit(limit).offset(offset)).all())
    return rows, int(total)
