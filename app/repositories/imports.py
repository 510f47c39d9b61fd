"""Queries and bulk writes for imports of case-management exports.

An export can hold 50,000 cases and as many allocations, so what the service already
holds is read in a few wide statements (not one per row), and rows are written with
executemany in chunks rather than one ORM round trip each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from app.models import Allocation, Case, Staff, Team
from app.models.imports import ImportKey, ImportRun
from app.repositories.base import read, table

_STAFF = table(Staff)
_CASE = table(Case)
_ALLOCATION = table(Allocation)

CHUNK = 1000


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def staff_rows(session: Session) -> list[Any]:
    """Everyone, with the columns an import compares."""
    c = _STAFF.c
    return list(read(session, columns(
        c.id, c.name, c.email, c.role, c.team_id, c.fte, c.contracted_hours, c.start_date,
        c.leave_date,
    )))


def case_rows(session: Session) -> list[Any]:
    c = _CASE.c
    return list(read(session, columns(
        c.id, c.reference, c.category, c.complexity, c.team_id, c.opened_on, c.closed_on,
    )))


def allocation_rows(session: Session) -> list[Any]:
    c = _ALLOCATION.c
    return list(read(session, columns(
        c.id, c.case_id, c.worker_id, c.role, c.start_date, c.end_date,
    )))


def team_ids_by_name(session: Session) -> dict[str, int]:
    """Teams by their name folded to lower case (exports are not careful with case)."""
    rows = session.exec(select(Team.id, Team.name)).all()
    return {" ".join(name.split()).casefold(): team_id for team_id, name in rows
            if team_id is not None}


def import_keys(session: Session, kind: str) -> dict[str, int]:
    rows = session.exec(
        select(ImportKey.source_ref, ImportKey.entity_id).where(col(ImportKey.kind) == kind)
    ).all()
    return dict(rows)


def workers_on_cases(session: Session, case_ids: Iterable[int]) -> set[int]:
    """Everyone who has ever held or co-worked these cases."""
    found: set[int] = set()
    wanted = sorted(set(case_ids))
    for part in _chunks(wanted):
        found.update(session.exec(
            select(Allocation.worker_id).where(col(Allocation.case_id).in_(part)).distinct()
        ).all())
    return found


def open_allocation_ids(session: Session, case_ids: Iterable[int], on: date) -> list[Any]:
    """Allocations of these cases still running after `on`: (id, worker_id)."""
    found: list[Any] = []
    for part in _chunks(sorted(set(case_ids))):
        found.extend(session.exec(
            select(Allocation.id, Allocation.worker_id).where(
                col(Allocation.case_id).in_(part),
                (col(Allocation.end_date).is_(None)) | (col(Allocation.end_date) > on),
            )
        ).all())
    return found


def change_dates(session: Session, worker_ids: Iterable[int], until: date) -> dict[int, list[date]]:
    """The days each worker's caseload changed up to `until`, latest first: starts, and the
    day after each end."""
    dates: dict[int, set[date]] = {}
    for part in _chunks(sorted(set(worker_ids))):
        c = _ALLOCATION.c
        rows = read(session, columns(c.worker_id, c.start_date, c.end_date).where(
            c.worker_id.in_(part)))
        for worker_id, start, end in rows:
            days = dates.setdefault(worker_id, set())
            if start <= until:
                days.add(start)
            if end is not None and end + timedelta(days=1) <= until:
                days.add(end + timedelta(days=1))
    return {w: sorted(d, reverse=True) for w, d in dates.items()}


def insert_rows(session: Session, model: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows with executemany, a chunk at a time."""
    table = model.__table__
    for part in _chunks(rows):
        session.execute(insert(table), list(part))


def update_rows(session: Session, model: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Update many rows by id with executemany; rows sharing a set of columns go together."""
    table = model.__table__
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(k for k in row if k != "id")), []).append(row)
    for names, group in groups.items():
        statement = update(table).where(table.c.id == bindparam("_id")).values(
            {name: bindparam(f"_{name}") for name in names}
        )
        for part in _chunks(group):
            session.execute(statement, [{f"_{k}": v for k, v in row.items()} for row in part])


def ids_by(session: Session, column: Any, values: Iterable[str]) -> dict[str, int]:
    """Ids of the rows whose `column` (a unique text column) has these values."""
    found: dict[str, int] = {}
    model_id = column.class_.id
    for part in _chunks(sorted(set(values))):
        found.update(session.exec(select(column, model_id).where(column.in_(part))).all())
    return found


def allocation_ids(session: Session, keys: Iterable[tuple[int, int, date]]) -> dict[Any, int]:
    """Ids of allocations by (case_id, worker_id, start_date)."""
    wanted = set(keys)
    cases = sorted({k[0] for k in wanted})
    found: dict[Any, int] = {}
    for part in _chunks(cases):
        c = _ALLOCATION.c
        for row in read(session, columns(c.id, c.case_id, c.worker_id, c.start_date).where(
                c.case_id.in_(part))):
            key = (row[1], row[2], row[3])
            if key in wanted:
                found[key] = row[0]
    return found


def rows_by_id(session: Session, model: Any, ids: Iterable[int]) -> list[Any]:
    """ORM rows (for a dated change that keeps history), a chunk at a time."""
    found: list[Any] = []
    for part in _chunks(sorted(set(ids))):
        found.extend(session.exec(select(model).where(col(model.id).in_(part))).all())
    return found


def run(session: Session, run_id: int) -> ImportRun | None:
    return session.get(ImportRun, run_id)


def runs_page(session: Session, *, team_id: int | None, limit: int = 20) -> list[ImportRun]:
    statement = select(ImportRun).order_by(col(ImportRun.id).desc()).limit(limit)
    if team_id is not None:
        statement = statement.where(col(ImportRun.team_id) == team_id)
    return list(session.exec(statement).all())


def applied_with_hash(session: Session, sha256: str, kind: str) -> int:
    return int(session.exec(select(func.count()).select_from(ImportRun).where(
        col(ImportRun.sha256) == sha256, col(ImportRun.kind) == kind,
        col(ImportRun.status) == "applied",
    )).one())


def set_progress(session: Session, run_id: int, rows_done: int) -> None:
    """How many rows a running import has read, for the page that polls it."""
    table = ImportRun.__table__  # type: ignore[attr-defined]
    session.execute(update(table).where(table.c.id == run_id).values(rows_done=rows_done))


def run_exists(session: Session, run_id: int) -> bool:
    return run(session, run_id) is not None
