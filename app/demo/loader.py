"""Write a generated organisation into the database, fast and all at once.

The whole organisation goes in one transaction with SQLAlchemy Core `INSERT`
executemany in chunks: no ORM unit of work, no HTTP, no round trip per row. That is
what lets the largest organisation (a third of a million rows) load in well under a
minute on PostgreSQL. Rows carry their own ids, so afterwards PostgreSQL's id
sequences are moved past them; SQLite numbers on from the highest rowid by itself.

Loading refuses to mix with an organisation already in the database: the caller
either skips (`--if-empty`) or wipes first (`--replace`), so running the demo twice
can never duplicate anyone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, func, inspect, select, text
from sqlmodel import SQLModel

import app.models  # noqa: F401  (every table registered on SQLModel.metadata)
from app.db import is_sqlite, write_bind
from app.demo.generator import DemoData

# The tables whose rows make "an organisation": any row in one of them and the demo
# will not load over it.
ORGANISATION_TABLES: tuple[str, ...] = ("service_area", "team", "staff", "case")
CHUNK_ROWS = 5_000


@dataclass
class LoadReport:
    """What was written and how long it took, for the CLI summary and the benchmarks."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    skipped_tables: list[str] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def existing_tables(engine_or_conn: Engine | Connection) -> set[str]:
    return set(inspect(engine_or_conn).get_table_names())


def organisation_exists(engine: Engine) -> bool:
    """True when any part of an organisation (areas, teams, staff, cases) is recorded."""
    present = existing_tables(engine)
    with engine.connect() as conn:
        for name in ORGANISATION_TABLES:
            if name in present and conn.execute(
                select(text("1")).select_from(SQLModel.metadata.tables[name]).limit(1)
            ).first():
                return True
    return False


def wipe(engine: Engine) -> None:
    """Delete every row of every table the migrations made (the schema stays).

    Only for demo and benchmark databases: the CLI refuses it in production mode. The
    staff <-> team cycle has no safe delete order, so PostgreSQL truncates everything in
    one statement and SQLite checks foreign keys only at commit.
    """
    names = sorted(existing_tables(engine) - {"alembic_version"})
    if not names:
        return
    with write_bind(engine).begin() as conn:
        quote = conn.dialect.identifier_preparer.quote
        if is_sqlite(engine):
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for name in names:
                conn.exec_driver_sql(f"DELETE FROM {quote(name)}")
        else:
            conn.exec_driver_sql(
                f"TRUNCATE {', '.join(quote(n) for n in names)} RESTART IDENTITY CASCADE"
            )


def max_ids(conn: Connection, tables: Iterable[str]) -> dict[str, int]:
    """The highest id in each table, so new rows number on without colliding."""
    result: dict[str, int] = {}
    for name in tables:
        table = SQLModel.metadata.tables[name]
        result[name] = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar())
    return result


def _chunks(rows: Sequence[dict[str, Any]], size: int) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _insertable(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows trimmed to the columns the table has (a model may gain columns later)."""
    columns = {c.name for c in table.columns}
    if rows and set(rows[0]) <= columns:
        return rows
    return [{k: v for k, v in row.items() if k in columns} for row in rows]


def _reset_sequences(conn: Connection, tables: Iterable[str]) -> None:
    for name in tables:
        quoted = conn.dialect.identifier_preparer.quote(name)
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{quoted}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {quoted}), 0) + 1, false)"
        )


def insert_rows(
    conn: Connection, data: DemoData, *, chunk_rows: int = CHUNK_ROWS
) -> LoadReport:
    """Insert every generated table that exists here, in order; link the cycles at the end."""
    report = LoadReport()
    present = existing_tables(conn)
    metadata = SQLModel.metadata.tables
    for name, rows in data.rows.items():
        if name not in metadata or name not in present:
            report.skipped_tables.append(name)
            continue
        started = time.perf_counter()
        table = metadata[name]
        statement = table.insert()
        for chunk in _chunks(_insertable(table, rows), chunk_rows):
            conn.execute(statement, list(chunk))
        report.counts[name] = len(rows)
        report.seconds[name] = time.perf_counter() - started
    started = time.perf_counter()
    for name, links in data.links.items():
        if not links:
            continue
        table = metadata[name]
        columns = [k for k in links[0] if k != "id"]
        statement = (
            table.update()
            .where(table.c.id == bindparam("_id"))
            .values({c: bindparam(f"_{c}") for c in columns})
        )
        conn.execute(statement, [{f"_{k}": v for k, v in link.items()} for link in links])
    if conn.dialect.name == "postgresql":
        _reset_sequences(conn, report.counts)
    report.seconds["links"] = time.perf_counter() - started
    return report


def record_load(conn: Connection, data: DemoData, report: LoadReport) -> None:
    """An audit event saying which organisation was generated, from what seed, as of when."""
    audit = SQLModel.metadata.tables["audit_event"]
    conn.execute(audit.insert(), [{
        "at": datetime.now(UTC), "actor_id": None, "action": "demo.load", "entity": "demo",
        "entity_id": data.size, "nqsw_id": None, "before": None,
        "after": {"size": data.size, "seed": data.seed, "as_of": data.as_of.isoformat(),
                  "counts": report.counts},
    }])


def load(engine: Engine, data: DemoData, *, chunk_rows: int = CHUNK_ROWS) -> LoadReport:
    """Write the organisation in one transaction (the caller checked the database is empty)."""
    with write_bind(engine).begin() as conn:
        report = insert_rows(conn, data, chunk_rows=chunk_rows)
        record_load(conn, data, report)
    return report


def generate_and_load(
    engine: Engine, *, size: str, seed: int, as_of: Any, chunk_rows: int = CHUNK_ROWS
) -> tuple[DemoData, LoadReport]:
    """Generate with ids after the ones already used, then load, in one transaction."""
    from app.demo.generator import ALL_TABLES, generate

    with write_bind(engine).begin() as conn:
        started = time.perf_counter()
        present = existing_tables(conn)
        tables = [t for t in ALL_TABLES if t in present and t in SQLModel.metadata.tables]
        data = generate(size, seed=seed, as_of=as_of, id_start=max_ids(conn, tables))
        generated = time.perf_counter() - started
        report = insert_rows(conn, data, chunk_rows=chunk_rows)
        report.seconds = {"generate": generated, **report.seconds}
        record_load(conn, data, report)
    return data, report
