"""Security headers on every response.

The content security policy lets pages load only the service's own scripts, styles and
images, forbids inline script and framing; nothing but the static assets is cached
(`Cache-Control: no-store` on the pages, the API and the calendar feed). The
interactive API documentation (`/docs`) is Swagger UI, served from our own vendored copy
and started by one inline script: that page gets a policy that allows exactly that script
(by its hash) and Swagger UI's inline styles, nothing more.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from app.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
STATIC_PREFIX = "/static/"
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)

COMMON = {
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"cross-origin-opener-policy": b"same-origin",
    b"cross-origin-resource-policy": b"same-origin",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=(), payment=()",
}


def docs_csp(body: bytes) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(body)
    )
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' {hashes}".strip(),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.hsts = settings.secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path in DOCS_PATHS:
            await self._docs(scope, receive, send)
            return
        # Every answer but the static assets may carry personal data (the pages, the
        # API, the calendar feed, even the sign-in form with its CSRF token): browsers and
        # proxies must not keep a copy. A response that sets its own policy keeps it.
        no_store = not path.startswith(STATIC_PREFIX)
        started = False

        async def wrapped(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = self._headers(message.get("headers", []), CSP, no_store)
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        except Exception:
            if started:
                raise
            # Answer here, so that the error page carries the headers too; the exception
            # still goes on to the server's log.
            from app.auth.install import failure_response

            accept = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                           if k == b"accept"), "")
            response = failure_response(scope.get("method", ""), path, accept)
            await response(scope, receive, wrapped)
            raise

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer the (small) documentation page to hash its inline script."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                assert start is not None
                body = b"".join(chunks)
                start["headers"] = self._headers(
                    [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
                    + [(b"content-length", str(len(body)).encode())],
                    docs_csp(body), False,
                )
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, buffered)

    def _headers(
        self, headers: list[tuple[bytes, bytes]], csp: str, no_store: bool
    ) -> list[tuple[bytes, bytes]]:
        present = {key.lower() for key, _ in headers}
        out = list(headers)
        extra = dict(COMMON)
        extra[b"content-security-policy"] = csp.encode()
        if self.hsts:
            extra[b"strict-transport-security"] = b"max-age=31536000; includeSubDomains"
        if no_store:
            extra[b"cache-control"] = b"no-store"
        for key, value in extra.items():
            if key not in present:
                out.append((key, value))
        return out
