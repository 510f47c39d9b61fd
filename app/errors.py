"""Domain errors and the handlers that turn them into clear HTTP answers.

Every error body has FastAPI's validation shape, `{"detail": [{"loc", "msg", "type"}]}`,
so a client reads a 422 from a Pydantic check and a 422 from a business rule the same way,
and a 401, 403, 404, 405, 409, 413 or 415 the same way too (docs/api.md, "Conventions").
The token endpoint's errors carry RFC 6749's `error` and `error_description` beside it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.schemas.common import DATE_RANGE_TEXT, is_supported_day


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
    """404: a record the request names does not exist. `field` names where it was named
    (a body field, `["query", name]`); left out, it is the path parameter holding `ident`,
    found when the answer is made (`path_loc`), so the same missing record is reported at
    the same place whichever layer noticed it."""

    status_code = 404
    error_type = "not_found"

    def __init__(self, what: str, ident: object, *, field: str | Sequence[str] | None = None):
        super().__init__(f"{what} {ident} not found", field=field or ["path"])
        self.ident = ident
        self.in_path = field is None

    def located(self, request: Request) -> list[dict[str, Any]]:
        if self.in_path:
            self.loc = path_loc(request, self.ident)
        return self.detail()


def path_loc(request: Request, ident: object) -> list[str]:
    """`["path", name]` for the path parameter that holds `ident` (the only one, if none
    holds it exactly); `["path"]` if the path has no parameters."""
    params = request.path_params
    named = [name for name, value in params.items() if str(value) == str(ident)]
    if named:
        return ["path", named[-1]]
    if params:
        return ["path", list(params)[-1]]
    return ["path"]


class Forbidden(DomainError):
    """403: the person signed in may not make this decision (their role, or a decision
    the organisation wants a second person to make), in the service's one error shape."""

    status_code = 403
    error_type = "forbidden"


class Conflict(DomainError):
    status_code = 409
    error_type = "conflict"


_SQLITE_UNIQUE = re.compile(r"unique constraint failed: (\w+)\.(\w+)")
_POSTGRES_KEY = re.compile(r"key \((?:lower\()?(\w+)\)?\)=\((.*)\) already exists", re.IGNORECASE)
# What a person calls the record a table holds.
_ENTITY_NAMES = {"staff": "staff member", "service_area": "service area", "case": "case"}


def _request_json(request: Request) -> Any:
    """The request's JSON body as the boundary parsed it (app.api.boundary), if it was
    read and parses; None otherwise."""
    if hasattr(request, "_json"):
        return request._json  # noqa: SLF001
    raw = getattr(request, "_body", None)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def _integrity_detail(exc: IntegrityError, request: Request) -> tuple[list[str], str]:
    """The field a uniqueness or reference failure is about, and a sentence for a person
    naming the field and the value ("a case with reference 'AUD-1' already exists")."""
    original = str(exc.orig)
    text = original.lower()
    table = getattr(getattr(exc.orig, "diag", None), "table_name", None)
    field: str | None = None
    value: Any = None
    if sqlite := _SQLITE_UNIQUE.search(text):
        table, field = sqlite.group(1), sqlite.group(2)
    elif postgres := _POSTGRES_KEY.search(original):
        field, value = postgres.group(1), postgres.group(2)
    if field is not None and value is None:
        body = _request_json(request)
        value = body.get(field) if isinstance(body, dict) else None
    loc = ["body", field] if field else ["body"]
    if "unique" in text or "duplicate" in text:
        entity = _ENTITY_NAMES.get(table or "", (table or "record").replace("_", " "))
        if field and value is not None:
            return loc, f"a {entity} with {field} '{value}' already exists"
        what = f"{field} " if field else "this value "
        return loc, f"a {entity} with {what}already exists"
    if "foreign key" in text:
        return loc, "refers to a record that does not exist"
    return loc, "the change conflicts with existing records"


def json_safe(value: Any) -> Any:
    """`value` with every float JSON can carry: NaN and the infinities become their names.

    A 422 echoes the bad input back; `{"fte": NaN}` must come back as "NaN", not break
    the response into a 500.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


# A 422 shows the client what it sent, but never more than this much of it: a large body
# is not mirrored back (that would double the cost of a bad request and could reflect
# someone else's data through a shared cache or a log).
EXCERPT_CHARS = 80


def excerpt(value: Any) -> Any:
    """`value` if it is short; otherwise its first EXCERPT_CHARS characters (as JSON text
    for an object or a list), ending in an ellipsis."""
    if isinstance(value, str):
        return value if len(value) <= EXCERPT_CHARS else value[:EXCERPT_CHARS] + "…"
    if isinstance(value, dict | list | tuple):
        text = json.dumps(json_safe(jsonable_encoder(value)), ensure_ascii=False, default=str)
        return value if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"
    return value


def validation_detail(exc: RequestValidationError) -> list[Any]:
    """Pydantic's errors as JSON: the input made safe and cut to an excerpt, a validator's
    exception as its text."""
    errors = []
    for error in exc.errors():
        ctx = error.get("ctx")
        if isinstance(ctx, dict) and isinstance(ctx.get("error"), Exception):
            error = {**error, "ctx": {**ctx, "error": str(ctx["error"])}}
        if "input" in error:
            error = {**error, "input": excerpt(json_safe(error["input"]))}
        errors.append(error)
    return json_safe(jsonable_encoder(errors))  # type: ignore[no-any-return]


Loc = tuple[str | int, ...]


def _dates_in(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Every (location, text) of a string in a JSON value that reads as a date."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _dates_in(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _dates_in(item, (*loc, index))
    elif isinstance(value, str):
        yield loc, value


def _unsupported_date(text: str) -> bool:
    try:
        return not is_supported_day(date.fromisoformat(text.strip()))
    except ValueError:
        # 10000-01-01 and the like do not parse at all, yet are plainly dates.
        return bool(re.fullmatch(r"\d{5,}-\d{2}-\d{2}", text.strip()))


def out_of_range_date_loc(request: Request) -> list[str | int] | None:
    """Where the date is that took date arithmetic past the calendar: a query parameter
    (`on=9999-12-31`) or a body field; None if no such date can be found."""
    for name, text in request.query_params.multi_items():
        if _unsupported_date(text):
            return ["query", name]
    for loc, text in _dates_in(_request_json(request), ("body",)):
        if _unsupported_date(text):
            return list(loc)
    return None


_DATE_OVERFLOW = re.compile(
    r"cannot add .* months|year -?\d+ is out of range|date value out of range"
    r"|out of range for date",
    re.IGNORECASE,
)


def is_date_overflow(exc: Exception) -> bool:
    """A ValueError raised by date arithmetic running off the calendar (year 9999 + months)."""
    return isinstance(exc, OverflowError) or bool(_DATE_OVERFLOW.search(str(exc)))


# The OAuth2 token endpoint (app/api/auth.py): its errors also carry RFC 6749's fields.
TOKEN_PATH = "/api/v1/auth/token"
# RFC 6749 section 5.2: the `error` code for an answer of the token endpoint.
_OAUTH_ERRORS = {401: "invalid_client", 429: "slow_down"}
# The `type` of an HTTP error that did not say one (a 401, an unknown URL, a wrong method).
_HTTP_TYPES = {401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict"}


def error_body(request: Request, status_code: int, detail: list[Any]) -> dict[str, Any]:
    """`{"detail": [...]}`, plus `error` and `error_description` from the token endpoint."""
    content: dict[str, Any] = {"detail": detail}
    if request.url.path == TOKEN_PATH:
        first = detail[0] if detail and isinstance(detail[0], dict) else {}
        content["error"] = _OAUTH_ERRORS.get(status_code, "invalid_request")
        content["error_description"] = str(first.get("msg", "the request is not valid"))
    return content


def _error(request: Request, status_code: int, detail: list[Any],
           headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status_code, content=error_body(request, status_code, detail),
                        headers=dict(headers) if headers else None)


def http_detail(exc: StarletteHTTPException) -> list[Any]:
    """An HTTP error's detail in the one shape: a sentence becomes one item (a 401 is
    about the Authorization header)."""
    if isinstance(exc.detail, list):
        return exc.detail
    loc = ["header", "Authorization"] if exc.status_code == 401 else []
    kind = _HTTP_TYPES.get(exc.status_code, "http_error")
    return [{"loc": loc, "msg": str(exc.detail), "type": kind}]


def _unprocessable(request: Request, loc: Sequence[str | int], message: str) -> JSONResponse:
    return _error(request, 422, [{"loc": list(loc), "msg": message, "type": "value_error"}])


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own shape, with the echoed input made JSON-safe (see `json_safe`).
        return _error(request, 422, validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(request, exc.status_code, http_detail(exc), headers=exc.headers)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        detail = exc.located(request) if isinstance(exc, NotFound) else exc.detail()
        return _error(request, exc.status_code, detail)

    @app.exception_handler(IntegrityError)
    async def _integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        loc, message = _integrity_detail(exc, request)
        return _error(request, 409, [{"loc": loc, "msg": message, "type": "conflict"}])

    @app.exception_handler(DataError)
    async def _data_error(_request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot store (an id beyond its integer range, a NUL byte):
        # bad input, not a server fault.
        return _unprocessable(_request, ["body"], "a value is out of range or not storable")

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        # The last line of defence behind the bounded id and date types: a number too large
        # for the database driver, or a date too far off for date arithmetic, is bad input.
        date_loc = out_of_range_date_loc(request)
        if date_loc is not None:
            return _unprocessable(request, date_loc,
                                  f"the date is out of range: it must be {DATE_RANGE_TEXT}")
        return _unprocessable(request, ["body"], "a number is too large")

    @app.exception_handler(ValueError)
    async def _value_error(request: Request, exc: ValueError) -> JSONResponse:
        # Only date arithmetic running off the calendar is the client's doing; any other
        # ValueError is a fault of ours and stays a 500 (re-raised to the error middleware).
        if not is_date_overflow(exc):
            raise exc
        return _unprocessable(request, out_of_range_date_loc(request) or ["body"],
                              f"the date is out of range: it must be {DATE_RANGE_TEXT}")
