"""Database engine and the per-request session.

One transaction per request: the session dependency commits when the handler
returns and rolls back when it raises, so services only `flush()`. On SQLite the
driver's own transaction handling is switched off and we emit BEGIN ourselves:
that makes savepoints work and lets write requests take the write lock up front
(`BEGIN IMMEDIATE`), which is how two concurrent allocations are serialised there.
PostgreSQL serialises them with a row lock on the NQSW instead (see services).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

SQLITE_BEGIN_OPTION = "sqlite_begin"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PG_CONNECT_TIMEOUT_SECONDS = 10


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
        return engine
    # An unreachable server fails within seconds with one clear error, rather than hanging
    # start-up or `ringfence migrate` (a URL's own connect_timeout wins).
    connect_args = {} if "connect_timeout" in make_url(url).query else {
        "connect_timeout": PG_CONNECT_TIMEOUT_SECONDS
    }
    return create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=20, pool_pre_ping=True,
        connect_args=connect_args,
    )


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


def get_session(request: Request) -> Iterator[Session]:
    """The request's session: commit on success, roll back on any exception."""
    engine: Engine = request.app.state.engine
    bind = write_bind(engine) if request.method in UNSAFE_METHODS else engine
    session = Session(bind=bind, expire_on_commit=False)
    # Services evaluate with the policies this app validated at start-up.
    session.info["policies"] = request.app.state.policies
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": commit before the response is sent, so a client that follows a redirect
# (or reads right after a 201) always sees the change.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
EngineDep = Annotated[Engine, Depends(get_engine)]
