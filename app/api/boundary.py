"""The trust boundary of every `/api/v1` route: credentials, then limits, then one parsed body.

Why a wrapper around each route rather than a dependency: FastAPI reads and parses a
route's body *before* it solves dependencies, and it decides whether a body is JSON by its
own reading of the media type. An access check written as a dependency therefore has to
read the body a second time, its own way, and any difference between the two readings
(the letter case of `Content-Type`, a missing header, `+json` subtypes) is a way past it.
Here the order is fixed instead, for every route of an area router built with
`route_class=BoundaryRoute` (`authorize` refuses a request to any route that is not):

1. **Credentials** (401) and the caller's **role** (403), before a byte of the body is
   read (app.auth.dependencies.admit).
2. **Limits**: a body over `max_json_bytes` (forms: the same; uploads: `max_upload_bytes`)
   is 413, refused from its declared length or as soon as the stream passes the limit.
3. **Media type**: a JSON route accepts only `application/json` (any letter case,
   parameters allowed, charset UTF-8 if named); anything else with a body is 415. A form
   route accepts only the two form encodings.
4. **One parse**: the bytes are decoded as strict UTF-8 and parsed once; text that is not
   text (invalid UTF-8, lone surrogates such as `"\\ud800"`, NUL characters) is 422 naming
   the field. The parsed value is handed to FastAPI as the request's JSON, so the handler
   validates exactly the object that the access check read.
5. **What the body names** (403/404/422): who acts and which records it names are checked
   against the caller's reach (app.auth.dependencies.check_request), then the handler runs.

The request's database session is opened here, through the same provider as the session
dependency, so the check and the handler share one session and one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from email.message import Message
from typing import Any

from fastapi import Request, Response, params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from app.api.responses import with_documented_statuses
from app.auth.dependencies import Admitted, admit, check_request
from app.db import open_request_session
from app.settings import Settings

JSON_TYPE = "application/json"
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
UPLOAD_TYPE = "multipart/form-data"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# JSON nests far less than this in any real request; deeper is refused as bad input rather
# than left to exhaust the parser's recursion.
MAX_DEPTH = 32

Handler = Callable[[Request], Awaitable[Response]]


def _problem(status_code: int, loc: list[str | int], msg: str, kind: str,
             headers: dict[str, str] | None = None) -> HTTPException:
    """An answer in the service's one error shape, `{"detail": [{"loc", "msg", "type"}]}`."""
    return HTTPException(status_code, detail=[{"loc": loc, "msg": msg, "type": kind}],
                         headers=headers)


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """The media type of a `Content-Type` header, lower-cased, and its parameters.

    Parsed as RFC 9110 says (type and subtype and parameter names are case-insensitive,
    parameters follow `;`), with the standard library's header parser, so that
    `Application/JSON; Charset="UTF-8"` reads as `application/json` with charset utf-8.
    An absent header is the empty type.
    """
    if not content_type or not content_type.strip():
        return "", {}
    message = Message()
    message["content-type"] = content_type
    kind = message.get_content_type().lower()
    if "/" not in content_type.split(";", 1)[0]:
        # The parser quietly falls back to text/plain for a malformed header.
        return content_type.split(";", 1)[0].strip().lower(), {}
    params = {str(key).lower(): str(value) for key, value in message.get_params()[1:]}
    return kind, params


def body_kind(route: APIRoute) -> str | None:
    """What a route's body is: "json", "form", "upload" (a form with files) or None."""
    field = route.body_field
    if field is None:
        return None
    info = field.field_info
    if isinstance(info, params.File):
        return "upload"
    if isinstance(info, params.Form):
        return "form"
    return "json"


def _limit(settings: Settings, kind: str | None) -> int:
    return settings.max_upload_bytes if kind == "upload" else settings.max_json_bytes


def _too_large(limit: int) -> HTTPException:
    return _problem(413, ["body"], f"the body is larger than the limit of {limit:,} bytes",
                    "body_too_large")


def _check_media_type(request: Request, kind: str | None) -> None:
    """415 unless the body is sent as the route expects it."""
    if kind is None:
        return
    declared, params = media_type(request.headers.get("content-type"))
    if kind == "json":
        charset = params.get("charset", "utf-8").lower()
        if declared == JSON_TYPE and charset in ("utf-8", "utf8"):
            return
        expected = "application/json (UTF-8)"
    elif kind == "upload":
        if declared == UPLOAD_TYPE:
            return
        expected = UPLOAD_TYPE
    else:
        if declared in FORM_TYPES:
            return
        expected = "application/x-www-form-urlencoded or multipart/form-data"
    said = f"not {declared}" if declared else "with a Content-Type header saying so"
    raise _problem(415, ["header", "content-type"], f"send the body as {expected}, {said}",
                   "unsupported_media_type")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it is known to be over `limit`: from its
    declared length before any of it is read, else once the stream passes the limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # noqa: SLF001  (Starlette's cache: read once, by everyone)
    return body


def _invalid(loc: tuple[str | int, ...], msg: str, kind: str, excerpt: str) -> None:
    raise RequestValidationError([{"type": kind, "loc": loc, "msg": msg, "input": excerpt}])


def _check_text(value: Any, loc: tuple[str | int, ...], depth: int = 0) -> None:
    """Every string (and key) in a parsed body is storable text: no lone surrogates (JSON
    can spell them, `"\\ud800"`, but no database can store them) and no NUL characters
    (PostgreSQL cannot store them; refusing them everywhere keeps both databases alike)."""
    if depth > MAX_DEPTH:
        _invalid(("body",), f"the body nests more than {MAX_DEPTH} levels deep", "too_deep",
                 "")
    if isinstance(value, str):
        _check_string(value, loc)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_string(key, (*loc, key) if _storable(key) else loc)
            _check_text(item, (*loc, key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, (*loc, index), depth + 1)


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _check_string(text: str, loc: tuple[str | int, ...]) -> None:
    if _storable(text):
        return
    shown = text[:40].encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    if "\x00" in text:
        _invalid(loc, "the text contains a NUL character", "string_nul", shown)
    _invalid(loc, "the text contains a lone surrogate (\\ud800 to \\udfff), which is not a "
                  "character", "string_unicode", shown)


def parse_json(raw: bytes) -> Any:
    """The body as JSON, parsed once; 422 for bytes that are not UTF-8 JSON text."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _invalid(("body",), f"the body is not valid UTF-8 (byte {exc.start})",
                 "unicode_decode", "")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        _invalid(("body", exc.pos), f"JSON decode error: {exc.msg}", "json_invalid", "")
    except RecursionError:
        _invalid(("body",), f"the body nests more than {MAX_DEPTH} levels deep",
                 "too_deep", "")
    _check_text(value, ("body",))
    return value


def guard(route: APIRoute, handler: Handler) -> Handler:
    """`handler` behind the boundary (see the module docstring for the order)."""
    kind = body_kind(route)

    async def guarded(request: Request) -> Response:
        settings: Settings = request.app.state.settings
        manager = open_request_session(request)
        # One trip through the thread pool to open the session and admit the caller.
        session, admitted = await run_in_threadpool(_open_and_admit, manager, request)
        try:
            body: Any = None
            if request.method in BODY_METHODS:
                raw = await read_body(request, _limit(settings, kind))
                if raw:
                    _check_media_type(request, kind)
                    if kind == "json":
                        body = parse_json(raw)
                        request._json = body  # noqa: SLF001  (the one parse, shared)
            await run_in_threadpool(check_request, request, session, admitted, body)
            response = await handler(request)
        except BaseException as exc:
            await run_in_threadpool(manager.__exit__, type(exc), exc, exc.__traceback__)
            raise
        await run_in_threadpool(manager.__exit__, None, None, None)
        return response

    return guarded


def _open_and_admit(
    manager: AbstractContextManager[Session], request: Request
) -> tuple[Session, Admitted]:
    """Open the request's session (through the session provider, whatever the
    application's dependency overrides say it is) and admit the caller on it; a refusal
    closes the session before it is raised."""
    session = manager.__enter__()
    try:
        return session, admit(request, session)
    except BaseException as exc:
        manager.__exit__(type(exc), exc, exc.__traceback__)
        raise


class BoundaryRoute(APIRoute):
    """An API route behind the boundary: every area router under /api/v1 is built with
    `APIRouter(route_class=BoundaryRoute)`, and `authorize` (the API router's dependency)
    refuses any request that did not come through it, so a route built otherwise fails
    closed rather than open. Each documents the refusals it can answer with
    (app.api.responses) beside what it declares itself."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["responses"] = with_documented_statuses(
            path, kwargs.get("methods"), endpoint, kwargs.get("responses"))
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Handler:
        return guard(self, super().get_route_handler())
