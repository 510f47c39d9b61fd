"""Cases: opening, changes of facts (category, complexity) and closing.

A change of category or complexity is never refused: the case is what it is. It is
recorded, audited and handed to `workload_events.case_changed`, which re-evaluates
everyone on the case and opens breaches where the change put them over a limit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_
from sqlmodel import Session, col, select

from app.auth.reach import Reach
from app.errors import Conflict, DomainError
from app.models import Allocation, Case, Staff, Team
from app.models.base import CaseCategory, Role
from app.repositories.base import get_or_404, paginate, require_exists
from app.schemas.case import CaseCreate, CaseUpdate
from app.services import audit, workload_events
from app.services.changes import apply_changes
from app.services.history import CASE_TERM_FIELDS, change_case_facts


def known_categories(policies: Any) -> Collection[str]:
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


def open_on(on: date) -> ColumnElement[bool]:
    """Open on `on`: opened by then and not yet closed (the closing date is the first day shut)."""
    return and_(
        col(Case.opened_on) <= on,
        or_(col(Case.closed_on).is_(None), col(Case.closed_on) > on),
    )


def allocation_current_on(on: date) -> ColumnElement[bool]:
    """An allocation in force on `on`: started by then, and its end date not yet reached."""
    return and_(
        col(Allocation.start_date) <= on,
        or_(col(Allocation.end_date).is_(None), col(Allocation.end_date) > on),
    )


def within_reach(scope: Reach | None, on: date) -> ColumnElement[bool] | None:
    """Cases the caller may see: their own, their teams', or worked by their teams' people.

    Mirrors `app.auth.reach.reaches` for one case; None means no filter.
    """
    if scope is None or scope.everything:
        return None
    worked = exists(select(Allocation.id).where(
        col(Allocation.case_id) == col(Case.id),
        col(Allocation.worker_id).in_(sorted(scope.case_people)),
        allocation_current_on(on),
    ))
    return or_(
        col(Case.id).in_(sorted(scope.cases)),
        col(Case.team_id).in_(sorted(scope.teams)),
        worked,
    )


def _ensure_reference_free(session: Session, reference: str) -> None:
    """References are unique ignoring case: "AUD-1" and "aud-1" are the same case file."""
    found = session.exec(
        select(Case.id).where(func.lower(Case.reference) == reference.lower()).limit(1)
    ).first()
    if found is not None:
        raise Conflict(f"a case with reference '{reference}' already exists", field="reference")


def create_case(
    *,
    session: Session,
    data: CaseCreate,
    categories: Collection[str],
    actor_id: int | None = None,
) -> Case:
    _check_category(data.category, categories)
    require_exists(session, Team, data.team_id, field="team_id", what="team")
    _ensure_reference_free(session, data.reference)
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
    query = select(Case).order_by(Case.reference)
    visible = within_reach(scope, on)
    if visible is not None:
        query = query.where(visible)
    if category is not None:
        query = query.where(Case.category == category)
    if team_id is not None:
        query = query.where(Case.team_id == team_id)
    if complexity is not None:
        query = query.where(Case.complexity == complexity)
    if is_open is not None:
        query = query.where(open_on(on) if is_open else ~open_on(on))
    if worker_id is not None:
        query = query.where(exists(
            select(Allocation.id).where(
                col(Allocation.case_id) == col(Case.id),
                Allocation.worker_id == worker_id,
                allocation_current_on(on),
            )
        ))
    return paginate(session, query, limit=limit, offset=offset)


def get_case(*, session: Session, case_id: int) -> Case:
    return get_or_404(session, Case, case_id)


def current_allocations(
    session: Session, case_ids: Iterable[int], on: date
) -> dict[int, list[Allocation]]:
    """The allocations in force on `on` for these cases, in one query."""
    ids = list(case_ids)
    found: dict[int, list[Allocation]] = defaultdict(list)
    if not ids:
        return found
    query = (
        select(Allocation)
        .where(col(Allocation.case_id).in_(ids), allocation_current_on(on))
        .order_by(col(Allocation.case_id), col(Allocation.start_date), col(Allocation.id))
    )
    for allocation in session.exec(query).all():
        found[allocation.case_id].append(allocation)
    return found


def update_case(
    *,
    session: Session,
    case_id: int,
    data: CaseUpdate,
    on: date,
    categories: Collection[str],
    actor_id: int | None = None,
) -> Case:
    """Record a change of facts; everyone on the case is re-evaluated as of `on`."""
    case = get_case(session=session, case_id=case_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    reason = changes.pop("reason", None) or ""
    for required in ("category", "complexity"):
        if required in changes and changes[required] is None:
            raise DomainError(f"{required} cannot be empty", field=required)
    if "category" in changes:
        _check_category(changes["category"], categories)
    require_exists(session, Team, changes.get("team_id"), field="team_id", what="team")
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
        workload_events.case_changed(session, case_id=case_id, on=on, actor_id=actor_id,
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
    nqsws = sorted(set(session.exec(
        select(Staff.id).where(col(Staff.id).in_(workers), Staff.role == Role.nqsw.value)
    ).all())) if workers else []
    for nqsw_id in nqsws or [None]:
        audit.record(session, action=action, entity="case", entity_id=case.id,
                     actor_id=actor_id, nqsw_id=nqsw_id, before=before, after=after,
                     effective_on=on)


def close_case(
    *, session: Session, case_id: int, on: date, reason: str | None = None,
    actor_id: int | None = None,
) -> Case:
    """Close a case on a date; it stays readable, with its allocation history."""
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
    workload_events.case_changed(session, case_id=case_id, on=on, actor_id=actor_id,
                                 reason=reason or f"case {case.reference} closed")
    return case
