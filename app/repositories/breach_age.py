"""Breaches read by when their problem began (`Breach.began_on`), not when detected.

The dashboards age a breach from the day its problem began (supervision became overdue,
the allocation that took the load over a cap started), so the list's age filter and
order, the ageing buckets and the team-by-team change over the weeks read `began_on`.
Each function is one statement, whatever the number of breaches, and
takes the same `BreachFilters` as app/repositories/breach.py; its age filter
(`min_age_days`, counted there from detection) is left to the `began_by` cut-off here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col

from app.models import Breach, Team
from app.repositories.breach import (
    SEVERITY_SORTS,
    SORTS,
    BreachFilters,
    _base_query,
    _filtered,
    _severity_rank,
    _with_names,
)

# The list's orders by age: the oldest problem first ("-age", also "began_on"), or the
# most recent first ("age", "-began_on"); ties in detection order.
AGE_SORTS: dict[str, tuple[Any, ...]] = {
    "began_on": (col(Breach.began_on), col(Breach.id)),
    "-began_on": (col(Breach.began_on).desc(), col(Breach.id).desc()),
    "-age": (col(Breach.began_on), col(Breach.id)),
    "age": (col(Breach.began_on).desc(), col(Breach.id).desc()),
}
ALL_SORTS = (*SORTS, *SEVERITY_SORTS, *AGE_SORTS)


def _aged(query: Any, filters: BreachFilters, on: date, began_by: date | None) -> Any:
    """`filters` applied, with the age cut-off on `began_on`: a breach whose problem began
    on or before `began_by`, and that had been detected by `on` (one found only later has
    no age on that day)."""
    query = _filtered(query, replace(filters, min_age_days=None), on)
    if began_by is not None:
        query = query.where(col(Breach.began_on) <= began_by, col(Breach.opened_on) <= on)
    return query


def page_by_age(
    session: Session, *, filters: BreachFilters, on: date, sort: str, limit: int,
    offset: int, began_by: date | None = None,
) -> tuple[list[Any], int]:
    """A page of breaches with their NQSW and team (rows as `page_of_breaches` gives), and
    how many match. `sort` is one of `ALL_SORTS`.

    One statement: each row carries the number matching (a window count), so the count
    costs a second statement only for a page past the end.
    """
    columns = (*_with_names(), func.count().over())
    query = _aged(_base_query(columns), filters, on, began_by)
    if sort == "severity":
        order: tuple[Any, ...] = (_severity_rank(), col(Breach.id))
    elif sort == "-severity":
        order = (_severity_rank().desc(), col(Breach.began_on), col(Breach.id))
    else:
        order = AGE_SORTS.get(sort) or SORTS[sort]
    found = list(session.exec(query.order_by(*order).limit(limit).offset(offset)).all())
    if found:
        return [tuple(row[:-1]) for row in found], int(found[0][-1])
    if not offset:
        return [], 0
    count_query = _aged(_base_query([func.count(col(Breach.id))]), filters, on, began_by)
    total = session.exec(count_query).one()
    return [], int(total[0] if isinstance(total, tuple) else total)


def open_on_by_team_rule_began(
    session: Session, *, filters: BreachFilters, on: date, began_by: date | None = None
) -> list[Any]:
    """Breaches open on `on` (detected by then, not resolved by then), counted per (team
    id, team name, policy, rule, status, severity, date the problem began): one grouped
    statement, so that ageing is folded per distinct date, not per breach."""
    query = _aged(
        _base_query([
            Team.id, Team.name, Breach.policy_id, Breach.rule_id, Breach.status,
            Breach.severity, Breach.began_on, func.count(col(Breach.id)),
        ]),
        filters, on, began_by,
    ).where(
        col(Breach.opened_on) <= on,
        or_(col(Breach.resolved_on).is_(None), col(Breach.resolved_on) > on),
    ).group_by(
        col(Team.id), col(Team.name), col(Breach.policy_id), col(Breach.rule_id),
        col(Breach.status), col(Breach.severity), col(Breach.began_on),
    )
    return list(session.exec(query).all())


def _unresolved_on(day: date) -> Any:
    """SQL: the breach's problem had begun by `day` and was not resolved by then."""
    return and_(
        col(Breach.began_on) <= day,
        or_(col(Breach.resolved_on).is_(None), col(Breach.resolved_on) > day),
    )


def unresolved_by_team_on(
    session: Session, *, filters: BreachFilters, days: tuple[date, ...]
) -> list[Any]:
    """Per team (id, name), how many breaches were unresolved on each of `days` by the
    breach history (begun by the day, not resolved by it): one grouped statement, a
    column per day. `filters` narrows by reach, team, rule and severity; its status and
    date filters do not apply (each day is its own "as of")."""
    if not days:
        return []
    history = replace(filters, status=(), unresolved=None, open_on=None, min_age_days=None,
                      resolution_cause=())
    counts = [func.sum(case((_unresolved_on(day), 1), else_=0)) for day in days]
    query = _filtered(_base_query([Team.id, Team.name, *counts]), history, max(days)).where(
        col(Breach.began_on) <= max(days),
        or_(col(Breach.resolved_on).is_(None), col(Breach.resolved_on) > min(days)),
    ).group_by(col(Team.id), col(Team.name))
    return list(session.exec(query).all())
