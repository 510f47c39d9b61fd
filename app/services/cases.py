"""Cases: opening, changes of facts (category, complexity) and closing.

A change of category or complexity is never refused: the case is what it is. It is
recorded, audited and handed to `workload_events.case_changed`, which re-evaluates
everyone on the case and opens breaches where the change put them over a limit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.auth.reach import Reach
from app.errors import Conflict, DomainError
from app.models import Allocation, Case
from app.models.base import CaseCategory, Role
from app.repositories import case as case_repository
from app.repositories import org as org_repo
from app.repositories import staff as staff_repo
from app.repositories.case import CaseFilter
from app.schemas.case import CaseCreate, CaseUpdate
from app.services import audit, workload_events
from app.services.changes import apply_changes
from app.services.history import CASE_TERM_FIELDS, change_case_facts

if TYPE_CHECKING:
    from app.policy.registry import PolicySet



def known_categories(policies: PolicySet) -> Collection[str]:
    """The built-in categories plus any the organisation's policies add."""
    categories = getattr(policies, "categories", None)
    if categories is not None:
        return list(categories)
    return [c.value for c in CaseCategory]


def _check_category(category: str, categories: Collection[str]) -> None:
    if category not in categories:
        raise DomainError(
            f"unknown category {category!r} (known: {', '.join(categories)})", field="category"
        )


def create_case(
    *,
    session: Session,
    data: CaseCreate,
    categories: Collection[str],
    actor_id: int | None = None,
) -> Case:
    _check_category(data.category, categories)
    org_repo.require_team(session, data.team_id, field="team_id")
    if case_repository.reference_taken(session, data.reference):
        raise Conflict(f"a case with reference '{data.reference}' already exists",
                       field="reference")
    case = Case(**data.model_dump())
    session.add(case)
    session.flush()
    audit.record(session, action="case.create", entity="case", entity_id=case.id,
                 actor_id=actor_id, after=case, effective_on=case.opened_on)
    return case


def list_cases(
    *,
    session: Session,
    limit: int,
    offset: int,
    on: date,
    category: str | None = None,
    team_id: int | None = None,
    is_open: bool | None = None,
    complexity: int | None = None,
    worker_id: int | None = None,
    scope: Reach | None = None,
) -> tuple[list[Case], int]:
    """Cases by reference; `scope` keeps the list to those the caller may see."""
    filters = CaseFilter(category=category, team_id=team_id, is_open=is_open,
                         complexity=complexity, worker_id=worker_id)
    return case_repository.cases_page(
        session, limit=limit, offset=offset, on=on, filters=filters, scope=scope
    )


def get_case(*, session: Session, case_id: int) -> Case:
    return case_repository.case_or_404(session, case_id)


def current_allocations(
    session: Session, case_ids: Iterable[int], on: date
) -> dict[int, list[Allocation]]:
    """The allocations in force on `on` for these cases, in one query."""
    return case_repository.held_on_cases(session, list(case_ids), on)


def update_case(
    *,
    session: Session,
    case_id: int,
    data: CaseUpdate,
    on: date,
    policies: PolicySet,
    actor_id: int | None = None,
) -> Case:
    """Record a change of facts; everyone on the case is re-evaluated as of `on` against
    `policies`, which also say which categories the organisation recognises."""
    case = get_case(session=session, case_id=case_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    reason = changes.pop("reason", None) or ""
    for required in ("category", "complexity"):
        if required in changes and changes[required] is None:
            raise DomainError(f"{required} cannot be empty", field=required)
    if "category" in changes:
        _check_category(changes["category"], known_categories(policies))
    org_repo.require_team(session, changes.get("team_id"), field="team_id")
    if case.closed_on is not None and ({"category", "complexity"} & changes.keys()):
        raise Conflict(f"case {case.reference} closed on {case.closed_on}", field="category")
    changes = {k: v for k, v in changes.items() if getattr(case, k) != v}
    if not changes:
        return case
    facts = {k: changes.pop(k) for k in CASE_TERM_FIELDS if k in changes}
    before = apply_changes(case, changes) if changes else {}
    if facts:
        before.update(change_case_facts(session, case, facts, on))
    changes.update(facts)
    session.flush()
    _record_for_nqsws(session, case, on, action="case.update", actor_id=actor_id,
                      before=before,
                      after={**changes, "on": on, **({"reason": reason} if reason else {})})
    if facts:
        described = ", ".join(f"{k} {before[k]} -> {facts[k]}" for k in sorted(facts))
        workload_events.case_changed(session, case_id=case_id, on=on, policies=policies,
                                     actor_id=actor_id,
                                     reason=reason or f"case {case.reference}: {described}")
    return case


def _record_for_nqsws(
    session: Session, case: Case, on: date, *, action: str, actor_id: int | None,
    before: Any = None, after: Any = None,
) -> None:
    """Audit a change to a case once for each NQSW working it on `on` (so each NQSW's
    trail shows what happened to their cases), or once unlinked when no NQSW is on it."""
    assert case.id is not None
    workers = [a.worker_id for a in current_allocations(session, [case.id], on).get(case.id, [])]
    nqsws: list[int | None] = [*staff_repo.ids_with_role(session, workers, Role.nqsw.value)]
    for nqsw_id in nqsws or [None]:
        audit.record(session, action=action, entity="case", entity_id=case.id,
                     actor_id=actor_id, nqsw_id=nqsw_id, before=before, after=after,
                     effective_on=on)


def close_case(
    *, session: Session, case_id: int, on: date, policies: PolicySet, reason: str | None = None,
    actor_id: int | None = None,
) -> Case:
    """Close a case on a date; it stays readable, with its allocation history. Everyone on
    it is re-evaluated against `policies`, which may resolve their breaches."""
    case = get_case(session=session, case_id=case_id)
    if case.closed_on is not None:
        raise Conflict(f"case {case.reference} already closed on {case.closed_on}", field="on")
    if on < case.opened_on:
        raise DomainError(f"closing date {on} is before the case opened on {case.opened_on}",
                          field="on")
    _record_for_nqsws(session, case, on, action="case.close", actor_id=actor_id,
                      after={"closed_on": on, **({"reason": reason} if reason else {})})
    case.closed_on = on
    session.flush()
    workload_events.case_changed(session, case_id=case_id, on=on, policies=policies,
                                 actor_id=actor_id,
                                 reason=reason or f"case {case.reference} closed")
    return case
