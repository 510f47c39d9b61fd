"""A bad setting, an unreachable or unmigrated database: one clear line, never a traceback.

Each case runs the real `ringfence` command in a child process from an empty working
directory (so no `.env` applies), as an operator would meet it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.auth.install import demo_accounts_problem
from app.db import make_engine
from app.migrate import alembic_config, upgrade
from app.settings import PROJECT_ROOT, Settings

RINGFENCE = str(Path(sys.executable).with_name("ringfence"))


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RINGFENCE_")}
    clean.update({"RINGFENCE_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "80", **env})
    return subprocess.run([RINGFENCE, *args], cwd=tmp_path, env=clean, capture_output=True,
                          text=True, timeout=120, check=False)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failure prints (after anything on stdout)."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


BAD_SETTINGS = [
    ({"RINGFENCE_SWEEP_TIME": "25:00"}, "RINGFENCE_SWEEP_TIME", "HH:MM"),
    ({"RINGFENCE_SWEEP_TIME": "abc"}, "RINGFENCE_SWEEP_TIME", "HH:MM"),
    ({"RINGFENCE_DATA_DIR": "/proc/nope"}, "RINGFENCE_DATA_DIR", "cannot create"),
    ({"RINGFENCE_DATA_DIR": str(PROJECT_ROOT / "pyproject.toml")}, "RINGFENCE_DATA_DIR",
     "not a directory"),
    ({"RINGFENCE_DATABASE_URL": "sqlitex://x"}, "RINGFENCE_DATABASE_URL", "not supported"),
    ({"RINGFENCE_DATABASE_URL": "postgresql+asyncpg://u:pw@localhost/x"},
     "RINGFENCE_DATABASE_URL", "postgresql+psycopg"),
    ({"RINGFENCE_DATABASE_URL": "not a url"}, "RINGFENCE_DATABASE_URL", "not a database URL"),
    ({"RINGFENCE_SECRET_KEY": "too-short"}, "RINGFENCE_SECRET_KEY", "at least 32"),
    ({"RINGFENCE_MODE": "production"}, "RINGFENCE_SECRET_KEY", "production"),
    ({"RINGFENCE_MODE": "production", "RINGFENCE_SECRET_KEY": "k" * 40},
     "RINGFENCE_DATABASE_URL", "production"),
    ({"RINGFENCE_FULL_TIME_HOURS": "0"}, "RINGFENCE_FULL_TIME_HOURS", "greater than 0"),
    ({"RINGFENCE_TIMEZONE": "Mars/Olympus"}, "RINGFENCE_TIMEZONE", "unknown time zone"),
]


@pytest.mark.parametrize(("env", "name", "words"), BAD_SETTINGS,
                         ids=[f"{n}={list(e.values())[-1]}" for e, n, _ in BAD_SETTINGS])
def test_a_bad_setting_stops_with_one_line_naming_it(
    tmp_path: Path, env: dict[str, str], name: str, words: str
) -> None:
    # `serve` is where a bad sweep time used to crash uvicorn; both read settings alike.
    serve = ("serve", "--port", "1") if name == "RINGFENCE_SWEEP_TIME" else None
    for command in (("migrate",), *([serve] if serve else [])):
        result = run(tmp_path, *command, **env)
        assert result.returncode == 2, (command, result.stderr)
        line = one_line(result)
        assert line.startswith(f"ringfence: bad setting {name}:"), line
        assert words in line, line
        assert "pw@" not in line  # a URL's password is never echoed


def test_migrate_against_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://ringfence:secret-pw@127.0.0.1:1/ringfence"
    result = run(tmp_path, "migrate", RINGFENCE_DATABASE_URL=url)
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith("ringfence: cannot use the database at postgresql+psycopg://***@")
    assert "secret-pw" not in line


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    result = run(tmp_path, "serve", "--port", "1", RINGFENCE_DATABASE_URL=empty)
    assert result.returncode == 1
    assert "has no Ringfence schema yet; run `ringfence migrate`" in one_line(result)

    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(""))
    head = script.get_revision(script.get_current_head())
    behind = f"sqlite:///{tmp_path / 'behind.db'}"
    upgrade(behind, str(head.down_revision))
    result = run(tmp_path, "serve", "--port", "1", RINGFENCE_DATABASE_URL=behind)
    assert result.returncode == 1
    line = one_line(result)
    assert f"is at revision {head.down_revision}, not {head.revision}" in line
    assert "run `ringfence migrate`" in line


def test_serve_refuses_an_unreachable_database(tmp_path: Path) -> None:
    url = "postgresql+psycopg://ringfence:pw@127.0.0.1:1/ringfence"
    result = run(tmp_path, "serve", "--port", "1", RINGFENCE_DATABASE_URL=url)
    assert result.returncode == 1
    assert one_line(result).startswith("ringfence: cannot use the database at")


def test_demo_as_of_out_of_range_is_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    result = run(tmp_path, "demo", "--as-of", "9999-12-31", RINGFENCE_DATABASE_URL=db)
    assert result.returncode == 2
    assert one_line(result).startswith("ringfence: bad --as-of: 9999-12-31 is out of range")


def test_production_serve_refuses_live_demo_sign_ins_in_one_line(tmp_path: Path) -> None:
    """A database that once held the demo is not served in production until its published
    sign-ins are switched off."""
    db = f"sqlite:///{tmp_path / 'once-demo.db'}"
    upgrade(db)
    assert run(tmp_path, "users", "demo-accounts", "--ensure",
               RINGFENCE_DATABASE_URL=db).returncode == 0
    production = {"RINGFENCE_MODE": "production", "RINGFENCE_SECRET_KEY": "s" * 48,
                  "RINGFENCE_DATABASE_URL": db}
    result = run(tmp_path, "serve", "--port", "1", **production)
    assert result.returncode == 2
    line = one_line(result)
    assert "demo sign-ins" in line and "ringfence users deactivate-demo" in line
    assert run(tmp_path, "users", "deactivate-demo", **production).returncode == 0
    engine = make_engine(db)
    try:
        settings = Settings(mode="production", secret_key="s" * 48, database_url=db,
                            data_dir=tmp_path / "var")  # type: ignore[call-arg]
        assert demo_accounts_problem(engine, settings) is None
    finally:
        engine.dispose()
