"""Domain errors and the handlers that turn them into clear HTTP answers.

Every error body has FastAPI's validation shape, `{"detail": [{"loc", "msg", "type"}]}`,
so a client reads a 422 from a Pydantic check and a 422 from a business rule the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError


class DomainError(Exception):
    """A request that is well-formed but not acceptable; `field` names what to fix."""

    status_code = 422
    error_type = "value_error"

    def __init__(self, message: str, *, field: str | Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is None:
            self.loc: list[str] = ["body"]
        elif isinstance(field, str):
            self.loc = ["body", field]
        else:
            self.loc = list(field)

    def detail(self) -> list[dict[str, Any]]:
        return [{"loc": self.loc, "msg": self.message, "type": self.error_type}]


class NotFound(DomainError):
    status_code = 404
    error_type = "not_found"

    def __init__(self, what: str, ident: object, *, field: str | Sequence[str] | None = None):
        super().__init__(f"{what} {ident} not found", field=field or ["path", "id"])


class Conflict(DomainError):
    status_code = 409
    error_type = "conflict"


_SQLITE_UNIQUE = re.compile(r"unique constraint failed: \w+\.(\w+)")
_POSTGRES_KEY = re.compile(r"key \((\w+)\)=")


def _integrity_detail(exc: IntegrityError) -> tuple[list[str], str]:
    """The field a uniqueness or reference failure is about, and a sentence for a person."""
    text = str(exc.orig).lower()
    match = _SQLITE_UNIQUE.search(text) or _POSTGRES_KEY.search(text)
    loc = ["body", match.group(1)] if match else ["body"]
    if "unique" in text or "duplicate" in text:
        what = f"{match.group(1)} " if match else "this value "
        return loc, f"a record with {what}already exists"
    if "foreign key" in text:
        return loc, "refers to a record that does not exist"
    return loc, "the change conflicts with existing records"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail()})

    @app.exception_handler(IntegrityError)
    async def _integrity_error(_request: Request, exc: IntegrityError) -> JSONResponse:
        loc, message = _integrity_detail(exc)
        return JSONResponse(
            status_code=409, content={"detail": [{"loc": loc, "msg": message, "type": "conflict"}]}
        )

    @app.exception_handler(DataError)
    async def _data_error(_request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot store (an id beyond its integer range, a NUL byte):
        # bad input, not a server fault.
        return JSONResponse(
            status_code=422,
            content={
                "detail": [
                    {
                        "loc": ["body"],
                        "msg": "a value is out of range or not storable",
                        "type": "value_error",
                    }
                ]
            },
        )

    @app.exception_handler(OverflowError)
    async def _overflow(_request: Request, exc: OverflowError) -> JSONResponse:
        # The last line of defence behind the bounded id types: a number too large for the
        # database driver is bad input.
        return JSONResponse(
            status_code=422,
            content={
                "detail": [
                    {"loc": ["body"], "msg": "a number is too large", "type": "value_error"}
                ]
            },
        )
