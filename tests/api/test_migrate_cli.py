"""`ringfence migrate [REV]` says what it did: from which revision to which, nothing to do,
or why it will not (a revision that does not exist, a downgrade not asked for)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.db import make_engine
from app.migrate import alembic_config
from tests.api.test_settings_cli import one_line, run

SCRIPT = ScriptDirectory.from_config(alembic_config(""))
HEAD = SCRIPT.get_current_head()
OLDER = "0003"


def _version(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def test_migrate_reports_each_step(make_database_url: Callable[..., str], tmp_path: Path) -> None:
    url = make_database_url(migrated=False)
    first = run(tmp_path, "migrate", RINGFENCE_DATABASE_URL=url)
    assert first.returncode == 0, first.stderr
    assert f"upgraded from an empty database to {HEAD} (head)" in first.stderr
    again = run(tmp_path, "migrate", RINGFENCE_DATABASE_URL=url)
    assert again.returncode == 0
    assert f"already at {HEAD} (head): nothing to do" in again.stderr

    refused = run(tmp_path, "migrate", OLDER, RINGFENCE_DATABASE_URL=url)
    assert refused.returncode == 1
    line = one_line(refused)
    assert f"{OLDER} is older than the database's {HEAD}" in line and "--allow-downgrade" in line
    assert _version(url) == HEAD

    back = run(tmp_path, "migrate", OLDER, "--allow-downgrade", RINGFENCE_DATABASE_URL=url)
    assert back.returncode == 0, back.stderr
    assert f"downgraded from {HEAD} to {OLDER}" in back.stderr
    assert _version(url) == OLDER

    forward = run(tmp_path, "migrate", RINGFENCE_DATABASE_URL=url)
    assert f"upgraded from {OLDER} to {HEAD} (head)" in forward.stderr
    assert _version(url) == HEAD


def test_an_unknown_revision_is_an_error(make_database_url: Callable[..., str],
                                         tmp_path: Path) -> None:
    url = make_database_url()
    result = run(tmp_path, "migrate", "9999", RINGFENCE_DATABASE_URL=url)
    assert result.returncode == 1
    assert "there is no revision '9999'" in one_line(result)


def test_a_downgrade_keeps_a_database_with_records_whole(
    make_database_url: Callable[..., str], tmp_path: Path
) -> None:
    """Going back and forward again on a database holding the demo organisation: SQLite
    rebuilds tables in a downgrade while others point at them, which must neither be
    refused nor leave a reference broken."""
    url = make_database_url(migrated=False)
    assert run(tmp_path, "migrate", RINGFENCE_DATABASE_URL=url).returncode == 0
    loaded = run(tmp_path, "demo", "--no-sign-ins", RINGFENCE_DATABASE_URL=url)
    assert loaded.returncode == 0, loaded.stderr
    staff_before = _count(url, "staff")

    back = run(tmp_path, "migrate", OLDER, "--allow-downgrade", RINGFENCE_DATABASE_URL=url)
    assert back.returncode == 0, back.stderr
    forward = run(tmp_path, "migrate", RINGFENCE_DATABASE_URL=url)
    assert forward.returncode == 0, forward.stderr
    assert _version(url) == HEAD
    assert _count(url, "staff") == staff_before


def _count(url: str, table: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()
