"""Small query helpers every service uses."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select
from sqlmodel.sql.expression import SelectOfScalar

from app.errors import DomainError, NotFound

M = TypeVar("M", bound=SQLModel)


class Forbidden(DomainError):
    """403: the person signed in may not make this decision (their role, or a decision
    the organisation wants a second person to make), in the service's one error shape."""

    status_code = 403
    error_type = "forbidden"


def get_or_404(session: Session, model: type[M], ident: int, *, what: str | None = None) -> M:
    row = session.get(model, ident)
    if row is None:
        raise NotFound(what or model.__name__.lower().replace("_", " "), ident)
    return row


def require_exists(
    session: Session, model: type[SQLModel], ident: int | None, *, field: str, what: str
) -> None:
    """A referenced id must exist: a 422 on the field that names it, not a 500 from the FK."""
    if ident is not None and session.get(model, ident) is None:
        raise DomainError(f"{what} {ident} does not exist", field=field)


def paginate(
    session: Session, query: SelectOfScalar[M], *, limit: int, offset: int
) -> tuple[list[M], int]:
    """One page of `query` and the total count of rows it matches."""
    total = session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    rows = list(session.exec(query.limit(limit).offset(offset)).all())
    return rows, int(total)


def apply_changes(row: SQLModel, changes: dict[str, Any]) -> dict[str, Any]:
    """Set the given fields on `row`; return the previous values for the audit trail."""
    before = {key: getattr(row, key) for key in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    return before
