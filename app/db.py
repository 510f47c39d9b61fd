"""Database engine and the per-request session.

One transaction per request: the session dependency commits when the handler
returns and rolls back when it raises, so services only `flush()`. On SQLite the
driver's own transaction handling is switched off and we emit BEGIN ourselves:
that makes savepoints work and lets write requests take the write lock up front
(`BEGIN IMMEDIATE`), which is how two concurrent allocations are serialised there.
PostgreSQL serialises them with a row lock on the NQSW instead (see services).

Every engine reports an unreachable database as a disconnect (app.outage), and the
session tells the outage monitor when a request got its answers from the database, which
is how the end of an outage is noticed.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.outage import mark_unreachable_as_disconnect, monitor_of, note_request_start

SQLITE_BEGIN_OPTION = "sqlite_begin"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PG_CONNECT_TIMEOUT_SECONDS = 10
# Set on a session's `info` once it has begun a transaction on a real connection.
DATABASE_USED = "database_used"


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return url.startswith("sqlite")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """An engine for either backend, with the same transactional behaviour."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=NullPool if database in (None, "", ":memory:") else None,
        )
        _configure_sqlite(engine)
        mark_unreachable_as_disconnect(engine)
        return engine
    # An unreachable server fails within seconds with one clear error, rather than hanging
    # start-up or `ringfence migrate` (a URL's own connect_timeout wins).
    connect_args = {} if "connect_timeout" in make_url(url).query else {
        "connect_timeout": PG_CONNECT_TIMEOUT_SECONDS
    }
    # pool_pre_ping: a pooled connection is tested before use, so connections left over
    # from before a database restart are replaced, not handed to a request.
    engine = create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=20, pool_pre_ping=True,
        connect_args=connect_args,
    )
    mark_unreachable_as_disconnect(engine)
    return engine


def write_bind(engine: Engine) -> Engine:
    """The engine to use for a session that will write: SQLite takes its write lock at BEGIN."""
    if is_sqlite(engine):
        return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    return engine


def check_database(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query (used by /healthz)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


@event.listens_for(Session, "after_begin")
def _note_database_used(session: Session, _transaction: Any, _connection: Any) -> None:
    session.info[DATABASE_USED] = True


@contextmanager
def committed(session: Session) -> Iterator[Session]:
    """The session's work committed when the block ends, rolled back if it raises
    (anything at all, so a cancelled request or job leaves no half-written change)."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def get_session(request: Request) -> Iterator[Session]:
    """The request's session: commit on success, roll back on any exception.

    A request that got all its answers from the database, commit included, tells the
    outage monitor, so an outage is seen to end on the first request that succeeds.
    """
    engine: Engine = request.app.state.engine
    monitor = monitor_of(request.app)
    started = note_request_start(request, monitor) if monitor is not None else 0.0
    bind = write_bind(engine) if request.method in UNSAFE_METHODS else engine
    session = Session(bind=bind, expire_on_commit=False)
    try:
        with committed(session):
            yield session
        if monitor is not None and session.info.get(DATABASE_USED):
            monitor.answered(started)
    finally:
        session.close()


def _provider(request: Request) -> Callable[..., Iterator[Session]]:
    """`get_session`, or what the application's dependency overrides put in its place."""
    overrides = getattr(request.app, "dependency_overrides", {}) or {}
    return overrides.get(get_session, get_session)  # type: ignore[no-any-return]


def open_request_session(request: Request) -> AbstractContextManager[Session]:
    """The request's one session as a context manager that commits or rolls back.

    The API's boundary (app.api.boundary) opens it before the body is read, so that the
    access check and the handler share one session and one transaction; `request_session`
    then hands the handler that same session.
    """
    provider = _provider(request)
    takes_request = bool(inspect.signature(provider).parameters)
    generator = provider(request) if takes_request else provider()
    manager = contextmanager(lambda: generator)()

    @contextmanager
    def shared() -> Iterator[Session]:
        with manager as session:
            request.state.db_session = session
            try:
                yield session
            finally:
                request.state.db_session = None

    return shared()


async def request_session(request: Request) -> AsyncIterator[Session]:
    """The session the boundary opened for this request, else a new one from the provider.

    Asynchronous so that handing over the boundary's session costs no trip through the
    thread pool; opening and closing a session of its own (pages) runs there, since
    they talk to the database.
    """
    shared = getattr(request.state, "db_session", None)
    if shared is not None:
        yield shared
        return
    manager = open_request_session(request)
    session = await run_in_threadpool(manager.__enter__)
    try:
        yield session
    except BaseException as exc:
        await run_in_threadpool(manager.__exit__, type(exc), exc, exc.__traceback__)
        raise
    else:
        await run_in_threadpool(manager.__exit__, None, None, None)


# scope="function": commit before the response is sent, so a client that follows a redirect
# (or reads right after a 201) always sees the change.
SessionDep = Annotated[Session, Depends(request_session, scope="function")]
EngineDep = Annotated[Engine, Depends(get_engine)]
