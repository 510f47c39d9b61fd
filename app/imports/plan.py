"""What an import would change: created, updated and closed records, and the rows that
stop it, worked out against what the service holds before anything is written.

Every row is resolved (its worker, case and team exist; a team manager imports only
their own team) and compared with the record it names, found by the source's reference
(kept in `import_key`) or, for a record typed in before the first import, by its e-mail
address, case reference or case, worker and start date. Only real differences are
changes, so importing the same file again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session

from app.imports.rows import Record, RowError
from app.models.base import utcnow
from app.models.imports import ImportKind
from app.repositories import imports as repo

STAFF_DATED = ("team_id", "fte", "contracted_hours")
CASE_DATED = ("category", "complexity")


@dataclass
class Plan:
    kind: ImportKind
    as_of: date
    creates: list[dict[str, Any]] = field(default_factory=list)
    # (id, new values, old values) for plain columns, and for dated facts kept in history.
    updates: list[tuple[int, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    dated: list[tuple[int, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    closes: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # Source references to remember: (source_ref, entity id or None for a created row).
    new_keys: list[tuple[str, int | None, Any]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    workers: set[int] = field(default_factory=set)  # whose caseload or terms change
    cases: set[int] = field(default_factory=set)  # whose facts change (their workers too)
    teams: set[int] = field(default_factory=set)

    @property
    def changed(self) -> int:
        return len(self.creates) + len(self.updated_ids) + len(self.closes)

    @property
    def updated_ids(self) -> set[int]:
        return {i for i, _, _ in self.updates} | {i for i, _, _ in self.dated}

    def counts(self) -> dict[str, int]:
        return {"created": len(self.creates), "updated": len(self.updated_ids),
                "closed": len(self.closes), "unchanged": self.unchanged,
                "errors": len(self.errors)}


@dataclass(frozen=True)
class Scope:
    """Whose records this import may touch: the organisation's, or one team's."""

    team_id: int | None = None  # None: the whole organisation (the ASYE coordinator)

    def allows(self, team_id: int | None) -> bool:
        return self.team_id is None or team_id == self.team_id


def _team(record: Any, teams: dict[str, int], scope: Scope, errors: list[RowError],
          column: str, current: int | None) -> tuple[bool, int | None]:
    """The record's team id (or its current one when the export names none)."""
    if record.team is None:
        team_id = current if current is not None else scope.team_id
    else:
        found = teams.get(" ".join(record.team.split()).casefold())
        if found is None:
            errors.append(RowError(record.row, column, f"{record.team!r} is not a team here"))
            return False, None
        team_id = found
    if not scope.allows(team_id) or (current is not None and not scope.allows(current)):
        errors.append(RowError(record.row, column, "is not your team: you may import only "
                                                   "your own team's records"))
        return False, None
    return True, team_id


def _diff(old: Any, new: dict[str, Any], names: Collection[str]) -> tuple[dict[str, Any],
                                                                         dict[str, Any]]:
    after = {n: new[n] for n in names if n in new and new[n] != getattr(old, n)}
    return after, {n: getattr(old, n) for n in after}


def _record(plan: Plan, entity_id: int, values: dict[str, Any], old: Any,
            plain: Collection[str], dated: Collection[str]) -> bool:
    after, before = _diff(old, values, plain)
    if after:
        plan.updates.append((entity_id, after, before))
    later, earlier = _diff(old, values, dated)
    if later:
        plan.dated.append((entity_id, later, earlier))
    return bool(after or later)


@dataclass
class _Matcher:
    """Shared bookkeeping of one kind's plan: which source references are new, which
    records the file listed, and which of the previously imported it no longer lists."""

    plan: Plan
    keys: dict[str, int]
    seen: set[int] = field(default_factory=set)

    def create(self, ref: str, row: dict[str, Any], natural: Any, team_id: int | None) -> None:
        self.plan.creates.append({"created_at": utcnow(), **row})
        self.plan.new_keys.append((ref, None, natural))
        if team_id is not None:
            self.plan.teams.add(team_id)

    def update(self, ref: str, existing: Any, values: dict[str, Any], plain: Collection[str],
               dated: Collection[str], teams: Iterable[int | None]) -> bool:
        self.seen.add(existing.id)
        if ref not in self.keys:
            self.plan.new_keys.append((ref, existing.id, None))
        changed = _record(self.plan, existing.id, values, existing, plain, dated)
        if changed:
            self.plan.teams.update(t for t in teams if t is not None)
        else:
            self.plan.unchanged += 1
        return changed

    def close_missing(self, rows: dict[int, Any], team_of: Callable[[Any], int | None],
                      end: str, scope: Scope) -> list[Any]:
        """End (never delete) what earlier imports brought in and this full export omits."""
        closed: list[Any] = []
        as_of = self.plan.as_of
        for entity_id in sorted(set(self.keys.values()) - self.seen):
            row = rows.get(entity_id)
            if row is None or not scope.allows(team_of(row)):
                continue
            ending = getattr(row, end)
            if ending is None or ending > as_of:
                self.plan.closes.append((entity_id, {end: as_of}))
                team = team_of(row)
                if team is not None:
                    self.plan.teams.add(team)
                closed.append(row)
        return closed


def _team_of(row: Any) -> int | None:
    return row.team_id  # type: ignore[no-any-return]


def plan_staff(session: Session, records: list[Record], *, as_of: date, scope: Scope,
               close_missing: bool, column: dict[str, str]) -> Plan:
    plan = Plan(ImportKind.staff, as_of)
    rows = repo.staff_rows(session)
    by_id = {r.id: r for r in rows}
    by_email = {r.email.lower(): r for r in rows}
    match = _Matcher(plan, repo.import_keys(session, ImportKind.staff.value))
    teams = repo.team_ids_by_name(session)
    emails: dict[str, int] = {}
    for record in records:
        existing = by_id.get(match.keys.get(record.source_ref, -1)) or by_email.get(record.email)
        holder = by_email.get(record.email)
        if holder is not None and existing is not None and holder.id != existing.id:
            plan.errors.append(RowError(record.row, column["email"],
                                        f"{record.email} belongs to {holder.name}, another "
                                        "person"))
            continue
        if record.email in emails:
            plan.errors.append(RowError(record.row, column["email"],
                                        f"{record.email} is also on row {emails[record.email]}"))
            continue
        emails[record.email] = record.row
        ok, team_id = _team(record, teams, scope, plan.errors, column.get("team", "team"),
                            existing.team_id if existing is not None else None)
        if not ok:
            continue
        values: dict[str, Any] = {
            "name": record.name, "email": record.email, "role": record.role,
            "team_id": team_id, "start_date": record.start_date,
            "leave_date": record.leave_date,
        }
        if record.fte is not None:
            values["fte"] = record.fte
        if record.contracted_hours is not None:
            values["contracted_hours"] = record.contracted_hours
        if existing is None:
            match.create(record.source_ref, {"fte": 1.0, "contracted_hours": 37.0,
                                             "experienced": False, **values},
                         record.email, team_id)
        elif match.update(record.source_ref, existing, values,
                          ("name", "email", "role", "start_date", "leave_date"), STAFF_DATED,
                          (team_id, existing.team_id)):
            plan.workers.add(existing.id)
    if close_missing:
        left = match.close_missing(by_id, _team_of, "leave_date", scope)
        plan.workers.update(r.id for r in left)
    return plan


def plan_cases(session: Session, records: list[Record], *, as_of: date, scope: Scope,
               close_missing: bool, column: dict[str, str],
               categories: Collection[str]) -> Plan:
    plan = Plan(ImportKind.cases, as_of)
    rows = repo.case_rows(session)
    by_ref = {r.reference: r for r in rows}
    match = _Matcher(plan, repo.import_keys(session, ImportKind.cases.value))
    teams = repo.team_ids_by_name(session)
    for record in records:
        if record.category not in categories:
            plan.errors.append(RowError(record.row, column["category"],
                                        f"{record.category!r} is not a case category here"))
            continue
        existing = by_ref.get(record.source_ref)
        ok, team_id = _team(record, teams, scope, plan.errors, column.get("team", "team"),
                            existing.team_id if existing is not None else None)
        if not ok:
            continue
        values: dict[str, Any] = {
            "reference": record.source_ref, "category": record.category,
            "complexity": record.complexity, "team_id": team_id,
            "opened_on": record.opened_on, "closed_on": record.closed_on,
        }
        if existing is None:
            match.create(record.source_ref, values, record.source_ref, team_id)
        elif match.update(record.source_ref, existing, values,
                          ("team_id", "opened_on", "closed_on"), CASE_DATED,
                          (team_id, existing.team_id)):
            plan.cases.add(existing.id)
    if close_missing:
        closed = match.close_missing({r.id: r for r in rows}, _team_of, "closed_on", scope)
        plan.cases.update(r.id for r in closed)
    return plan


def plan_allocations(session: Session, records: list[Record], *, as_of: date,
                     scope: Scope, close_missing: bool, column: dict[str, str],
                     worker_match: str, actor_id: int | None) -> Plan:
    plan = Plan(ImportKind.allocations, as_of)
    cases = {r.reference: r for r in repo.case_rows(session)}
    case_team = {r.id: r.team_id for r in cases.values()}
    staff = repo.staff_rows(session)
    if worker_match == "email":
        workers = {r.email.lower(): r for r in staff}
    else:
        by_id = {r.id: r for r in staff}
        workers = {ref: by_id[i] for ref, i in
                   repo.import_keys(session, ImportKind.staff.value).items() if i in by_id}
    existing_rows = repo.allocation_rows(session)
    allocations = {r.id: r for r in existing_rows}
    natural = {(r.case_id, r.worker_id, r.start_date): r for r in existing_rows}
    match = _Matcher(plan, repo.import_keys(session, ImportKind.allocations.value))
    for record in records:
        case = cases.get(record.case_ref)
        worker = workers.get(record.worker_key)
        if case is None:
            plan.errors.append(RowError(record.row, column["case"],
                                        f"no case {record.case_ref!r}: import the cases first"))
        if worker is None:
            plan.errors.append(RowError(record.row, column["worker"],
                                        f"no worker {record.worker_key!r}: import the staff "
                                        "first"))
        if case is None or worker is None:
            continue
        if not scope.allows(case.team_id):
            plan.errors.append(RowError(record.row, column["case"],
                                        "is not your team's case: you may import only your "
                                        "own team's records"))
            continue
        if record.start_date < case.opened_on:
            plan.errors.append(RowError(
                record.row, column["start_date"],
                f"is before the case opened on {case.opened_on.strftime('%d/%m/%Y')}"))
            continue
        existing = allocations.get(match.keys.get(record.source_ref, -1)) or natural.get(
            (case.id, worker.id, record.start_date))
        values: dict[str, Any] = {
            "case_id": case.id, "worker_id": worker.id, "role": record.role,
            "start_date": record.start_date, "end_date": record.end_date,
        }
        if existing is None:
            match.create(record.source_ref, {"allocated_by_id": actor_id,
                                             "override_reason": None, **values},
                         (case.id, worker.id, record.start_date), case.team_id)
            plan.workers.add(worker.id)
        elif match.update(record.source_ref, existing, values,
                          ("case_id", "worker_id", "role", "start_date", "end_date"), (),
                          (case.team_id,)):
            plan.workers.update({worker.id, existing.worker_id})
    if close_missing:
        ended = match.close_missing(allocations, lambda r: case_team.get(r.case_id),
                                    "end_date", scope)
        plan.workers.update(r.worker_id for r in ended)
    return plan
