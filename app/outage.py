"""When the database cannot be reached: a 503 that says so, and one log line per outage.

An unreachable database is not a fault in the service: every request answers
503 Service Unavailable with `Retry-After` (the API in the service's error shape, a page
with the GOV.UK "Sorry, the service is unavailable" page), and the log gets one line when
the outage starts and one when it ends, instead of a traceback for every request.

What counts as unreachable is decided once, where the database errors are raised
(`mark_unreachable_as_disconnect`, installed on every engine by `app.db.make_engine`):
a failure to connect at all, the server going away under a connection (closed, admin
shutdown, crash), or an SQLite file that cannot be opened. SQLAlchemy then treats it as a
disconnect: it discards the pooled connections that went stale with it, and the error it
raises carries `connection_invalidated`, which `is_outage` reads. A lock timeout, a
cancelled statement or a programming error is none of these and stays what it was (a 500
with a reference, or whatever its own handler answers).

The service recovers without a restart: once the database answers again, new
connections are made (PostgreSQL's pooled connections are pinged before use, and dropped
when they fail) and the next request succeeds.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

log = logging.getLogger("ringfence.outage")

OUTAGE_MESSAGE = (
    "the service is temporarily unavailable: the database cannot be reached; "
    "try again shortly"
)
OUTAGE_TYPE = "service_unavailable"

# PostgreSQL's answers that mean "no connection can be had or kept": class 08 (connection
# exception) and the operator's interventions that end every session (admin and crash
# shutdown, and "the database system is starting up / shutting down"). A cancelled
# statement (57014) and a lock that could not be taken (55P03) are not among them.
_PG_CONNECTION_CLASS = "08"
_PG_CONNECTION_STATES = frozenset({"57P01", "57P02", "57P03"})
_REASON_LENGTH = 300


def is_connection_failure(error: BaseException, *, connecting: bool) -> bool:
    """Whether a driver error means the database cannot be reached.

    `connecting` is true when the error came from opening a connection (or the pool's
    ping of a pooled one): there any PostgreSQL operational error means no connection
    (refused, server starting or shutting down, too many clients, credentials refused),
    and the client library often gives it no SQLSTATE. On an open connection only the
    server's own connection states count (a connection the driver knows to be closed or
    broken is already a disconnect to SQLAlchemy), so a client-side error about a
    statement is never taken for an outage.
    """
    if isinstance(error, sqlite3.Error):
        name = getattr(error, "sqlite_errorname", "")
        return name == "SQLITE_CANTOPEN" or "unable to open database file" in str(error)
    try:
        import psycopg
    except ImportError:  # PostgreSQL support not installed: no PostgreSQL errors either
        return False
    if not isinstance(error, psycopg.OperationalError):
        return False
    if connecting:
        return True
    state = error.sqlstate or ""
    return state.startswith(_PG_CONNECTION_CLASS) or state in _PG_CONNECTION_STATES


def mark_unreachable_as_disconnect(engine: Engine) -> None:
    """Have SQLAlchemy treat an unreachable database as a disconnect.

    PostgreSQL's driver reports a refused connection, or a server shutting down, as an
    ordinary operational error; marked as a disconnect, SQLAlchemy discards every pooled
    connection that was open before it (so none goes stale after the server comes back)
    and the raised error says `connection_invalidated`, which is how `is_outage` knows.
    """

    @event.listens_for(engine, "handle_error")
    def _unreachable(context: ExceptionContext) -> None:
        if context.is_disconnect:
            return
        connecting = context.connection is None or context.is_pre_ping
        if is_connection_failure(context.original_exception, connecting=connecting):
            context.is_disconnect = True


def is_outage(exc: BaseException) -> bool:
    """The error is the database being unreachable, not a fault in a request."""
    if isinstance(exc, DisconnectionError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def one_line_reason(exc: BaseException) -> str:
    """The driver's own words, on one line, without SQLAlchemy's background link."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = " ".join(str(cause).split()) or type(cause).__name__
    return text if len(text) <= _REASON_LENGTH else text[: _REASON_LENGTH - 1] + "…"


class OutageMonitor:
    """Whether the database is down, since when, and how many requests were refused.

    It lives on `app.state.outage`, one per worker process. The first refusal of an
    outage logs one line; the first request that began after the outage started and got
    its answers from the database ends it with one more line; nothing in between is
    logged. Requests still failing from an outage that has just ended are refused but do
    not open a new one.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._recovered_at: float | None = None
        self._refused = 0

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def refused(self, exc: BaseException, started: float | None) -> None:
        """A request was refused because the database could not be reached."""
        with self._lock:
            if self._down_since is None:
                if (started is not None and self._recovered_at is not None
                        and started < self._recovered_at):
                    return  # a straggler of the outage that has just ended
                self._down_since = self.clock()
                self._refused = 1
                log.error("database unreachable: %s", one_line_reason(exc))
                return
            self._refused += 1

    def answered(self, started: float) -> None:
        """Work that began at `started` (monotonic clock) got its answers from the database."""
        if self._down_since is None:  # the usual case, without taking the lock
            return
        with self._lock:
            if self._down_since is None or started < self._down_since:
                return
            now = self.clock()
            seconds = round(now - self._down_since)
            log.info("database reachable again after %d s, %d requests refused",
                     seconds, self._refused)
            self._down_since = None
            self._recovered_at = now
            self._refused = 0


def monitor_of(app: Any) -> OutageMonitor | None:
    return getattr(app.state, "outage", None)


def note_request_start(request: Request, monitor: OutageMonitor) -> float:
    """Stamp when this request first asked for the database: a refusal of a request that
    began before the last outage ended belongs to that outage, not a new one."""
    started = monitor.clock()
    request.state.database_started = started
    return started


def retry_after_headers(app: Any) -> dict[str, str]:
    """How long a client is asked to wait before trying again (a setting)."""
    return {"Retry-After": str(app.state.settings.outage_retry_after_seconds)}


def unavailable_json(app: Any) -> JSONResponse:
    """The API's 503, in the service's one error shape."""
    return JSONResponse(
        status_code=503,
        content={"detail": [{"loc": [], "msg": OUTAGE_MESSAGE, "type": OUTAGE_TYPE}]},
        headers=retry_after_headers(app),
    )


def _make_visible(logger: logging.Logger) -> None:
    """uvicorn configures only its own loggers, so on a served app nothing would print the
    recovery line (INFO); give the outage lines a handler of their own when nobody else
    has configured logging."""
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def install_outage_handling(app: FastAPI) -> None:
    """Answer an unreachable database with 503 everywhere; call after the other handlers."""
    from app.web.errors import is_page_request, unavailable_page

    monitor = OutageMonitor()
    app.state.outage = monitor
    _make_visible(log)

    async def _database_error(request: Request, exc: Exception) -> Response:
        if not is_outage(exc):
            raise exc  # not an outage: the error middleware answers it as before
        monitor.refused(exc, getattr(request.state, "database_started", None))
        if is_page_request(request):
            return unavailable_page(request)
        return unavailable_json(request.app)

    # The classes a lost or refused connection is raised as; any other database error
    # (a constraint, a bad value, a programming error) keeps its own handling.
    for error_class in (OperationalError, InterfaceError, DisconnectionError):
        app.add_exception_handler(error_class, _database_error)
