"""Turning an export's rows into records, collecting every problem with its row and column.

Nothing here reads the database: each row is checked on its own (required values, dates,
numbers, codes, e-mail shape, end not before start) and against the rest of the file
(a reference listed twice). What only the database can answer (does this worker or
case exist, is that team yours) is checked by the plan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.imports.profiles import KindMapping, Profile
from app.imports.readers import Cell
from app.models.base import AllocationRole
from app.models.imports import ImportKind
from app.policy.vocabulary import Role

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, order=True)
class RowError:
    """One problem: the spreadsheet row (heading = 1), the column as headed, the reason."""

    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column!r}: {self.reason}"


@dataclass
class Record:
    """One good row: its spreadsheet row, the source's reference, and our fields' values
    (read as attributes: `record.email`, `record.start_date`)."""

    row: int
    source_ref: str
    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class ParsedFile:
    records: list[Any] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return " ".join(str(value).split())


@dataclass
class _Row:
    """One row's cells by field, and the errors found while reading them."""

    at: int
    cells: list[Cell]
    index: dict[str, int]
    mapping: KindMapping
    profile: Profile
    errors: list[RowError]
    ok: bool = True

    def fail(self, name: str, reason: str) -> None:
        self.ok = False
        self.errors.append(RowError(self.at, self.mapping.columns.get(name, name), reason))

    def raw(self, name: str) -> Cell:
        position = self.index.get(name)
        if position is None or position >= len(self.cells):
            return None
        return self.cells[position]

    def text(self, name: str, *, required: bool = False, limit: int = 200) -> str | None:
        value = _text(self.raw(name))
        if not value:
            if required:
                self.fail(name, "is empty; a value is required")
            return None
        if len(value) > limit:
            self.fail(name, f"is longer than {limit} characters")
            return None
        return value

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self.raw(name)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        shown = _text(value)
        if not shown:
            if required:
                self.fail(name, "is empty; a date is required")
            return None
        parsed = self.profile.parse_date(shown)
        if parsed is None:
            self.fail(name, f"{shown!r} is not a date in the form dd/mm/yyyy")
        return parsed

    def number(self, name: str, low: float, high: float) -> float | None:
        shown = _text(self.raw(name))
        if not shown:
            return None
        try:
            value = float(shown)
        except ValueError:
            self.fail(name, f"{shown!r} is not a number")
            return None
        if not low <= value <= high:
            self.fail(name, f"{shown} is outside {low:g} to {high:g}")
            return None
        return value

    def code(self, name: str) -> Any | None:
        shown = self.text(name, required=True)
        if shown is None:
            return None
        ours = self.mapping.code(name, shown)
        if ours is None:
            if not self.mapping.codes.get(name) and name != "complexity":
                return shown  # no code table: the export already speaks our vocabulary
            known = ", ".join(repr(k) for k in self.mapping.codes.get(name, {}))
            self.fail(name, f"{shown!r} is not in the profile's code table ({known})")
        return ours

    def period(self, first: str, last: str) -> tuple[date | None, date | None]:
        """A required first day and an optional last day, not before the first."""
        start = self.day(first, required=True)
        end = self.day(last)
        if end is not None and start is not None and end < start:
            self.fail(last, "is before the start date")
        return start, end


def _staff(row: _Row) -> Record | None:
    number = row.text("staff_number", limit=100)
    name = row.text("name", required=True)
    email = row.text("email", required=True, limit=320)
    if email is not None and not EMAIL.match(email):
        row.fail("email", f"{email!r} is not an e-mail address")
    role = row.code("role")
    if role is not None and role not in {r.value for r in Role}:
        row.fail("role", f"{role!r} is not a role here")
    team = row.text("team")
    fte = row.number("fte", 0.1, 1.0)
    hours = row.number("contracted_hours", 1, 48)
    start, leave = row.period("start_date", "leave_date")
    if not row.ok:
        return None
    assert name and email and role and start
    ref = number or email.lower()
    return Record(row.at, ref, {
        "staff_number": number, "name": name, "email": email.lower(), "role": role,
        "team": team, "fte": fte, "contracted_hours": hours, "start_date": start,
        "leave_date": leave})


def _case(row: _Row) -> Record | None:
    reference = row.text("reference", required=True, limit=64)
    category = row.code("category")
    complexity = row.code("complexity")
    team = row.text("team")
    opened, closed = row.period("opened_on", "closed_on")
    if not row.ok:
        return None
    assert reference and category and complexity and opened
    return Record(row.at, reference, {
        "category": category, "complexity": int(complexity), "team": team,
        "opened_on": opened, "closed_on": closed})


def _allocation(row: _Row) -> Record | None:
    reference = row.text("reference", limit=100)
    case_ref = row.text("case", required=True, limit=64)
    worker = row.text("worker", required=True, limit=320)
    role = row.code("role")
    if role is not None and role not in {r.value for r in AllocationRole}:
        row.fail("role", f"{role!r} is neither holder nor co_worker")
    start, end = row.period("start_date", "end_date")
    if not row.ok:
        return None
    assert case_ref and worker and role and start
    worker_key = worker.lower() if row.profile.worker_match == "email" else worker
    ref = reference or f"{case_ref}/{worker_key}/{start.isoformat()}"
    return Record(row.at, ref, {
        "case_ref": case_ref, "worker_key": worker_key, "role": role, "start_date": start,
        "end_date": end})


PARSERS: dict[ImportKind, Callable[[_Row], Any]] = {
    ImportKind.staff: _staff,
    ImportKind.cases: _case,
    ImportKind.allocations: _allocation,
}


def parse(kind: ImportKind, profile: Profile, rows: Iterable[list[Cell]], *,
          progress: Callable[[int], None] | None = None) -> ParsedFile:
    """Every record the file holds, and every problem found in it (not just the first)."""
    mapping = profile.mapping(kind)
    result = ParsedFile()
    iterator: Iterator[list[Cell]] = iter(rows)
    heading = next(iterator, None)
    if heading is None:
        result.errors.append(RowError(1, "", "the file has no heading row"))
        return result
    wanted = {" ".join(h.split()).casefold(): name for name, h in mapping.columns.items()}
    index: dict[str, int] = {}
    for position, cell in enumerate(heading):
        name = wanted.get(_text(cell).casefold())
        if name is not None and name not in index:
            index[name] = position
    missing = [n for n in mapping.columns if n not in index]
    for name in missing:
        result.errors.append(RowError(1, mapping.columns[name],
                                      "this column is missing from the heading row"))
    if missing:
        return result
    parser = PARSERS[kind]
    seen: dict[str, int] = {}
    number = 1
    for cells in iterator:
        number += 1
        if not any(_text(c) for c in cells):
            continue  # a blank line, often at the end of an export
        result.rows += 1
        row = _Row(number, cells, index, mapping, profile, result.errors)
        record = parser(row)
        if record is not None:
            first = seen.get(record.source_ref)
            if first is not None:
                column = "reference" if kind is not ImportKind.staff else (
                    "staff_number" if record.staff_number else "email")
                row.fail(column, f"{record.source_ref!r} is also on row {first}")
            else:
                seen[record.source_ref] = number
                result.records.append(record)
        if progress is not None and result.rows % 1000 == 0:
            progress(result.rows)
    return result
