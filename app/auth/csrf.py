"""Cross-site request forgery: every state-changing browser request must carry our token.

The token is an HMAC, under the service's secret key, of the session cookie (so it is a
per-session synchronizer token that ends with the session and needs no storage), or,
before sign-in, of a random pre-session cookie (so the sign-in form is protected too).
A page puts it in a hidden `csrf_token` field, or htmx sends it as the `X-CSRF-Token`
header (e.g. `hx-headers` on <body>).

The check runs in middleware, in front of every route, so no form can forget it:

- requests with an `Authorization` header are exempt (a bearer token is never sent by a
  browser on its own, so it cannot be forged cross-site), and so is the OAuth2 token
  endpoint, which answers with a token and sets no cookie;
- an API request carrying the session cookie needs the header;
- any other request (the pages) needs the header or the form field, always.

A refusal is a 403: the service's error page for a browser (htmx gets its message
fragment), JSON for an API client.

Multipart forms (uploads) carry it as a field too, read within the upload size limit.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request

from app.auth import sessions
from app.auth.credentials import new_secret, same
from app.settings import Settings

HEADER = "X-CSRF-Token"
FIELD = "csrf_token"
PRE_COOKIE = "ringfence_csrf"
SECURE_PRE_COOKIE = "__Host-ringfence_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT_PATHS = frozenset({"/api/v1/auth/token"})
MAX_FORM_BYTES = 1_000_000

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def pre_cookie_name(settings: Settings) -> str:
    return SECURE_PRE_COOKIE if settings.secure_cookies else PRE_COOKIE


def token_for(secret_key: str, seed: str) -> str:
    mac = hmac.new(secret_key.encode(), b"csrf:" + seed.encode(), hashlib.sha256)
    return mac.hexdigest()


def csrf_token(request: Request) -> str:
    """The token the page being rendered must embed (hidden field or htmx header)."""
    settings: Settings = request.app.state.settings
    seed = _seed(request.cookies, settings) or request.scope.get("state", {}).get("csrf_seed")
    if not seed:
        return ""
    return token_for(_secret(request.app), seed)


def _secret(app: Any) -> str:
    key = getattr(app.state, "csrf_secret", None)
    if key is None:
        key = app.state.settings.resolved_secret_key()
        app.state.csrf_secret = key
    return key


def _seed(cookies: dict[str, str], settings: Settings) -> str | None:
    return cookies.get(sessions.cookie_name(settings)) or cookies.get(pre_cookie_name(settings))


def _cookies(scope: Scope) -> dict[str, str]:
    cookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header carries no token
                continue
    return {key: morsel.value for key, morsel in cookie.items()}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class CSRFMiddleware:
    """Refuse forged state-changing requests; hand out the pre-session cookie on pages."""

    def __init__(self, app: ASGIApp, *, settings: Settings, application: Any) -> None:
        self.app = app
        self.settings = settings
        self.application = application

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        path: str = scope.get("path", "")
        if scope["method"] in UNSAFE_METHODS and not self._exempt(scope, cookies, path):
            receive = await self._verify(scope, receive, send, cookies, path)
            if receive is None:
                return
        if _seed(cookies, self.settings) or path.startswith(("/api/", "/static/")):
            await self.app(scope, receive, send)
            return
        seed = new_secret()
        scope.setdefault("state", {})["csrf_seed"] = seed
        await self.app(scope, receive, self._with_cookie(send, seed))

    def _exempt(self, scope: Scope, cookies: dict[str, str], path: str) -> bool:
        if _header(scope, b"authorization") is not None or path in EXEMPT_PATHS:
            return True
        # Without the session cookie an API call carries no ambient authority to forge.
        return path.startswith("/api/") and sessions.cookie_name(self.settings) not in cookies

    async def _verify(
        self, scope: Scope, receive: Receive, send: Send, cookies: dict[str, str], path: str
    ) -> Receive | None:
        seed = _seed(cookies, self.settings)
        presented = _header(scope, HEADER.lower().encode())
        replay = receive
        if presented is None and not path.startswith("/api/"):
            content_type = _header(scope, b"content-type") or ""
            if content_type.startswith("application/x-www-form-urlencoded"):
                body = await _read_body(receive)
                if body is None:
                    await _refuse(send, 413, "the form is too large")
                    return None
                presented = _form_field(body, FIELD)
                replay = _replay(body, receive)
            elif content_type.startswith("multipart/form-data"):
                # An upload without JavaScript carries its token as a form field too;
                # bounded by the upload limit, as the page itself would be.
                body = await _read_body(receive, self.settings.max_upload_bytes)
                if body is None:
                    await _refuse(send, 413, "the file is too large")
                    return None
                presented = await _multipart_field(scope, body, FIELD)
                replay = _replay(body, receive)
        expected = token_for(_secret(self.application), seed) if seed else None
        if not same(expected, presented):
            if _wants_page(scope, path):
                await _refuse_page(scope, receive, send)
            else:
                await _refuse(send, 403, REFUSED)
            return None
        return replay

    def _with_cookie(self, send: Send, seed: str) -> Send:
        name = pre_cookie_name(self.settings)
        attributes = "Path=/; HttpOnly; SameSite=Lax"
        if self.settings.secure_cookies:
            attributes += "; Secure"

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"set-cookie", f"{name}={seed}; {attributes}".encode()))
                message["headers"] = headers
            await send(message)

        return wrapped


async def _multipart_field(scope: Scope, body: bytes, name: str) -> str | None:
    """One text field of a multipart body (the parser Starlette's forms use), or None."""
    from starlette.datastructures import Headers
    from starlette.formparsers import MultiPartException, MultiPartParser

    async def stream() -> AsyncIterator[bytes]:
        yield body

    try:
        form = await MultiPartParser(Headers(scope=scope), stream()).parse()
    except MultiPartException:
        return None
    try:
        value = form.get(name)
        return value if isinstance(value, str) else None
    finally:
        await form.close()


async def _read_body(receive: Receive, limit: int = MAX_FORM_BYTES) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, original: Receive) -> Receive:
    """Hand the body we read on to the application, then listen to the client again."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


def _form_field(body: bytes, name: str) -> str | None:
    try:
        values = parse_qs(body.decode("utf-8"), keep_blank_values=True).get(name)
    except UnicodeDecodeError:
        return None
    return values[0] if values else None


REFUSED = "this form has expired or did not come from Ringfence: reload the page and try again"


def _wants_page(scope: Scope, path: str) -> bool:
    """A person in a browser (a page's form, or htmx), not an API client."""
    if path.startswith("/api/"):
        return False
    accept = _header(scope, b"accept") or ""
    return "text/html" in accept or _header(scope, b"hx-request") is not None


async def _refuse_page(scope: Scope, receive: Receive, send: Send) -> None:
    """The service's own error page (htmx: its message fragment), not a JSON body."""
    from app.web.errors import error_response

    request = Request(scope, receive)
    message = REFUSED[:1].upper() + REFUSED[1:] + "."
    response = error_response(request, 403, message, title="This form has expired")
    await response(scope, receive, send)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = ('{"detail": "' + message + '"}').encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
