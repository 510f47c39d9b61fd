"""Alembic environment: runs against Ringfence's configured database, in batch mode on SQLite."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from app.db import is_sqlite, make_engine
from app.settings import get_settings

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().effective_database_url


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=is_sqlite(url),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _foreign_keys(connection, on=False)
    try:
        _migrate(connection)
    finally:
        if sqlite:
            _foreign_keys(connection, on=True)


def _foreign_keys(connection, *, on: bool) -> None:  # type: ignore[no-untyped-def]
    """Switch SQLite's foreign-key enforcement off for a migration and back on after it.

    A batch migration rebuilds a table (copy, drop, rename) while other tables still point
    at it; with enforcement on, SQLite refuses to drop a table that rows reference, so a
    downgrade of a database holding data would fail. SQLite ignores this pragma inside a
    transaction, so it is set between them, and the references are checked once the
    migration has run: a migration that broke one fails instead of leaving it broken.
    """
    if connection.in_transaction():
        connection.commit()
    raw = connection.connection.driver_connection  # outside any BEGIN the engine issues
    if on:
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
