"""Running an import: check the file, plan it, and preview or apply it in one transaction.

An import records reality, so it is never refused by policy: allocations are written as
the export has them, then each NQSW the import touched is reconciled once, as of the
import's date, so the breaches that reality holds open (dated by the engine from when
they began). A preview does exactly the same work inside a savepoint and discards it,
so what it says is what applying would do. Any bad row stops everything: the report
lists every one, by row, column and reason, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app.imports import plan as planning
from app.imports.plan import Plan, Scope
from app.imports.profiles import Profile
from app.imports.readers import ImportFileError, check_file, read_rows
from app.imports.rows import ParsedFile, RowError, parse
from app.models import Allocation, Case, Staff
from app.models.base import utcnow
from app.models.imports import ImportKey, ImportKind, ImportRun, ImportStatus
from app.policy.engine import evaluate
from app.policy.findings import Finding
from app.policy.registry import PolicySet
from app.policy.vocabulary import Role
from app.repositories import imports as repo
from app.repositories import org as org_repo
from app.repositories import staff as staff_repo
from app.services import audit, escalation, history, notify
from app.services.reconcile import (
    Trigger,
    lock_staff,
    opens_breach,
    reconcile_staff,
    unresolved_breaches,
)
from app.services.snapshots import load_snapshots

Progress = Callable[[str, int, int | None], None]
# How far back a preview looks for the day a breach began (change days, latest first).
BEGAN_LOOKBACK = 60


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


@dataclass
class ImportReport:
    kind: ImportKind
    profile: str
    file_name: str
    as_of: date
    dry_run: bool
    close_missing: bool = False
    status: ImportStatus = ImportStatus.failed
    sha256: str = ""
    size: int = 0
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    problem: str | None = None  # the whole file was refused
    consequences: list[dict[str, Any]] = field(default_factory=list)
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value, "profile": self.profile, "file_name": self.file_name,
            "as_of": self.as_of.isoformat(), "dry_run": self.dry_run,
            "close_missing": self.close_missing,
            "status": self.status.value, "sha256": self.sha256, "size": self.size,
            "rows": self.rows, "counts": self.counts, "problem": self.problem,
            "errors": [e.as_dict() for e in self.errors],
            "consequences": self.consequences,
        }


@dataclass(frozen=True)
class ReadExport:
    """A file read and checked row by row, before the database is asked anything."""

    size: int
    sha256: str = ""
    parsed: ParsedFile | None = None
    problem: str | None = None  # the whole file was refused


def read_export(kind: ImportKind, path: Path, profile: Profile, max_bytes: int,
                progress: Progress | None = None) -> ReadExport:
    """Check the file (size, zip bomb, encoding) and read every row through the profile."""
    tell = progress or (lambda stage, done, total: None)
    try:
        facts = check_file(path, max_bytes)
        tell("reading", 0, None)
        parsed = parse(kind, profile, read_rows(path, facts),
                       progress=lambda n: tell("reading", n, None))
    except ImportFileError as exc:
        return ReadExport(_size(path), problem=str(exc))
    tell("checking", parsed.rows, parsed.rows)
    return ReadExport(facts.size, facts.sha256, parsed)


class _Discard(Exception):
    """Leaves the preview's savepoint, discarding everything written inside it."""


def run_import(
    session: Session,
    *,
    kind: ImportKind,
    path: Path,
    file_name: str,
    profile: Profile,
    policies: PolicySet,
    as_of: date,
    max_bytes: int,
    close_missing: bool = False,
    dry_run: bool = False,
    actor_id: int | None = None,
    scope: Scope | None = None,
    progress: Progress | None = None,
    read: ReadExport | None = None,
    run_id: int | None = None,
) -> ImportReport:
    """Check, plan and preview or apply one export; records the run with its file's hash.

    `read`: the file already read (`read_export`), so a background preview can read it
    outside the transaction; `run_id`: the run to record into (else a new one)."""
    scope = scope or Scope()
    report = ImportReport(kind, profile.name, file_name, as_of, dry_run, close_missing)
    tell = progress or (lambda stage, done, total: None)
    read = read or read_export(kind, path, profile, max_bytes, tell)
    report.sha256, report.size = read.sha256, read.size
    if read.problem is not None or read.parsed is None:
        report.problem = read.problem
        _record_run(session, report, actor_id, scope, run_id)
        return report
    parsed = read.parsed
    categories = _categories(policies)
    report.rows = parsed.rows
    tell("checking", parsed.rows, parsed.rows)
    work = _plan(session, kind, parsed.records, as_of=as_of, scope=scope,
                 close_missing=close_missing, profile=profile, categories=categories,
                 actor_id=actor_id)
    report.errors = sorted(parsed.errors + work.errors)
    report.counts = work.counts() | {"errors": len(report.errors)}
    if report.errors:
        _record_run(session, report, actor_id, scope, run_id)
        return report
    try:
        with session.begin_nested():
            nqsws, before = _write(session, work, as_of)
            tell("evaluating", 0, len(nqsws))
            report.consequences = consequences(session, nqsws, as_of=as_of, policies=policies,
                                               before=before)
            if dry_run:
                raise _Discard
            _reconcile(session, report, nqsws, policies=policies, actor_id=actor_id)
            _tell_people(session, report, work, actor_id=actor_id)
    except _Discard:
        session.expire_all()
        report.status = ImportStatus.previewed
    else:
        report.status = ImportStatus.applied
    tell("done", report.rows, report.rows)
    _record_run(session, report, actor_id, scope, run_id)
    if report.status is ImportStatus.applied:
        audit.record(session, action="import.apply", entity="import_run",
                     entity_id=report.run_id, actor_id=actor_id, effective_on=as_of,
                     after={"kind": kind.value, "file_name": file_name,
                            "sha256": report.sha256, **report.counts})
    return report


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _categories(policies: PolicySet) -> Collection[str]:
    from app.services.cases import known_categories

    return known_categories(policies)


def _plan(session: Session, kind: ImportKind, records: list[Any], *, as_of: date,
          scope: Scope, close_missing: bool, profile: Profile, categories: Collection[str],
          actor_id: int | None) -> Plan:
    column = profile.mapping(kind).columns
    if kind is ImportKind.staff:
        return planning.plan_staff(session, records, as_of=as_of, scope=scope,
                                   close_missing=close_missing, column=column)
    if kind is ImportKind.cases:
        return planning.plan_cases(session, records, as_of=as_of, scope=scope,
                                   close_missing=close_missing, column=column,
                                   categories=categories)
    return planning.plan_allocations(session, records, as_of=as_of, scope=scope,
                                     close_missing=close_missing, column=column,
                                     worker_match=profile.worker_match, actor_id=actor_id)


MODELS: dict[ImportKind, Any] = {
    ImportKind.staff: Staff, ImportKind.cases: Case, ImportKind.allocations: Allocation,
}


def _write(session: Session, work: Plan, as_of: date) -> tuple[list[int], dict[int, Any]]:
    """Write the plan in bulk; the NQSWs it touches, and their breaches before it."""
    model = MODELS[work.kind]
    workers = set(work.workers)
    if work.kind is ImportKind.cases and work.cases:
        workers |= repo.workers_on_cases(session, work.cases)
    before_ids = staff_repo.ids_with_role(session, workers, Role.nqsw.value)
    lock_staff(session, before_ids)
    before = {k: [(b.policy_id, b.rule_id) for b in v]
              for k, v in unresolved_breaches(session, before_ids).items()}
    if work.dated:
        change = (history.change_staff_terms if work.kind is ImportKind.staff
                  else history.change_case_facts)
        rows = {r.id: r for r in repo.rows_by_id(session, model, [i for i, _, _ in work.dated])}
        for entity_id, after, _ in work.dated:
            change(session, rows[entity_id], after, as_of)
        session.flush()
    repo.update_rows(session, model, [{"id": i, **after} for i, after, _ in work.updates])
    repo.update_rows(session, model, [{"id": i, **values} for i, values in work.closes])
    if work.kind is ImportKind.cases and work.closes:
        # A case closed in the source system is no longer held by anyone from that day.
        running = repo.open_allocation_ids(session, [i for i, _ in work.closes], as_of)
        repo.update_rows(session, Allocation,
                         [{"id": i, "end_date": as_of} for i, _ in running])
        workers |= {w for _, w in running}
    if work.creates:
        repo.insert_rows(session, model, work.creates)
    _remember_keys(session, work)
    if work.kind is ImportKind.allocations:
        workers |= {c["worker_id"] for c in work.creates}
    session.expire_all()
    nqsws = staff_repo.ids_with_role(session, workers, Role.nqsw.value)
    return nqsws, before


def _remember_keys(session: Session, work: Plan) -> None:
    created = [natural for _, entity_id, natural in work.new_keys if entity_id is None]
    found: dict[Any, int] = {}
    if created and work.kind is ImportKind.staff:
        found = repo.ids_by(session, Staff.email, created)  # type: ignore[arg-type]
    elif created and work.kind is ImportKind.cases:
        found = repo.ids_by(session, Case.reference, created)  # type: ignore[arg-type]
    elif created:
        found = repo.allocation_ids(session, created)
    now = utcnow()
    rows = [{"kind": work.kind.value, "source_ref": ref, "created_at": now,
             "entity_id": entity_id if entity_id is not None else found[natural]}
            for ref, entity_id, natural in work.new_keys]
    repo.insert_rows(session, ImportKey, rows)


def consequences(session: Session, nqsw_ids: list[int], *, as_of: date, policies: PolicySet,
                 before: dict[int, list[tuple[str, str]]]) -> list[dict[str, Any]]:
    """Per NQSW, what the import does under the policies: breaches it opens (and the day
    each began in the imported history), keeps and resolves, in the engine's words."""
    if not nqsw_ids:
        return []
    snapshots = load_snapshots(session, nqsw_ids, as_of, policies=policies)
    people = staff_repo.people_by_id(session, nqsw_ids)
    found: dict[int, list[Finding]] = {
        i: [f for f in evaluate(s, policies) if opens_breach(policies, f)]
        for i, s in snapshots.items()
    }
    began = _began(session, found, as_of=as_of, policies=policies)
    result: list[dict[str, Any]] = []
    for staff_id in nqsw_ids:
        person = people.get(staff_id)
        name = person.name if person is not None else f"Staff {staff_id}"
        had = set(before.get(staff_id, []))
        items: list[dict[str, Any]] = []
        for finding in found.get(staff_id, []):
            start = began.get((staff_id, finding.key), as_of)
            opens = finding.key not in had
            what = (f"a breach opens, dated {long_date(start)} when it began" if opens
                    else "the breach already open stays open")
            items.append({"rule_id": finding.rule_id, "policy_id": finding.policy_id,
                          "outcome": finding.outcome.value, "effect": "opens" if opens
                          else "stays", "began_on": start.isoformat(),
                          "reason": finding.reason, "measured": finding.measured,
                          "limit": finding.limit,
                          "sentence": f"After the import, {name}: {finding.reason.rstrip('.')}"
                                      f": {what}."})
        now = {f.key for f in found.get(staff_id, [])}
        for key in sorted(had - now):
            title = escalation.rule_title(policies, key[0], key[1]) or "a policy rule"
            items.append({"rule_id": key[1], "policy_id": key[0], "effect": "resolves",
                          "sentence": f"After the import, {name}: the breach of "
                                      f"\u201c{title}\u201d resolves."})
        if items:
            result.append({"staff_id": staff_id, "name": name, "findings": items})
    return result


def _began(session: Session, found: dict[int, list[Finding]], *, as_of: date,
           policies: PolicySet) -> dict[tuple[int, tuple[str, str]], date]:
    """The day each finding began: walking back over the days the NQSW's caseload
    changed, the earliest from which the engine finds it on every such day to `as_of`."""
    wanted = {i: {f.key for f in fs} for i, fs in found.items() if fs}
    began: dict[tuple[int, tuple[str, str]], date] = {
        (i, key): as_of for i, keys in wanted.items() for key in keys}
    if not wanted:
        return began
    days = repo.change_dates(session, wanted, as_of)
    live = {i: set(keys) for i, keys in wanted.items()}
    for step in range(BEGAN_LOOKBACK):
        by_day: dict[date, list[int]] = {}
        for staff_id in list(live):
            changes = days.get(staff_id, [])
            if step < len(changes) and live[staff_id]:
                by_day.setdefault(changes[step], []).append(staff_id)
            else:
                live.pop(staff_id)
        if not by_day:
            break
        for day, ids in by_day.items():
            snapshots = load_snapshots(session, ids, day, policies=policies)
            for staff_id in ids:
                snapshot = snapshots.get(staff_id)
                still = set() if snapshot is None else {
                    f.key for f in evaluate(snapshot, policies) if opens_breach(policies, f)}
                for key in list(live[staff_id]):
                    if key in still:
                        began[(staff_id, key)] = day
                    else:
                        live[staff_id].discard(key)
    return began


def _reconcile(session: Session, report: ImportReport, nqsws: list[int], *,
               policies: PolicySet, actor_id: int | None) -> None:
    if not nqsws:
        return
    trigger = Trigger(f"Imported {report.kind.value} from {report.file_name}")
    result = reconcile_staff(session, staff_ids=nqsws, on=report.as_of, policies=policies,
                             trigger=trigger, actor_id=actor_id)
    report.counts = report.counts | {f"breaches_{k}": v for k, v in result.counts().items()}


def _tell_people(session: Session, report: ImportReport, work: Plan, *,
                 actor_id: int | None) -> None:
    """One summary to the ASYE coordinators and to each affected team's manager."""
    if not (work.changed or report.consequences):
        return
    coordinators = staff_repo.ids_in_post_with_role(session, Role.asye_coordinator.value)
    managers = [t.manager_id for t in org_repo.unclosed_teams(session, sorted(work.teams))
                if t.manager_id is not None]
    counts = report.counts
    lines = [c["sentence"] for person in report.consequences for c in person["findings"]]
    summary = (f"{report.file_name} ({report.kind.value}) was imported as of "
               f"{long_date(report.as_of)}: {counts.get('created', 0)} created, "
               f"{counts.get('updated', 0)} updated, {counts.get('closed', 0)} closed.")
    notify.notify(
        session, recipient_ids=[*coordinators, *managers], kind="import_summary",
        subject=f"Import of {report.kind.value}: {report.file_name}",
        context={"reason": " ".join([summary, *lines])[:3900], "summary": summary,
                 "consequences": lines[:50]},
    )


def _record_run(session: Session, report: ImportReport, actor_id: int | None,
                scope: Scope, run_id: int | None = None) -> None:
    counts = report.counts
    run = repo.run(session, run_id) if run_id is not None else None
    if run is None:
        run = ImportRun(kind=report.kind.value, profile=report.profile,
                        file_name=report.file_name[:255], started_by_id=actor_id,
                        team_id=scope.team_id, sha256="-", size=0)
    run.sha256 = report.sha256 or run.sha256
    run.size = report.size or run.size
    run.status = report.status.value
    run.as_of = report.as_of
    run.rows_total = run.rows_done = report.rows
    run.created, run.updated = counts.get("created", 0), counts.get("updated", 0)
    run.closed, run.unchanged = counts.get("closed", 0), counts.get("unchanged", 0)
    run.errors = len(report.errors) + (1 if report.problem else 0)
    run.report = report.as_dict()
    run.finished_at = utcnow()
    session.add(run)
    session.flush()
    report.run_id = run.id
