"""Breaches and their history, read (app/models/breach.py).

Every list, aggregate and export is one statement (two for a page: the rows and the
count) whatever the number of breaches: filters, joins and grouping are in SQL, and the
service folds ageing and weekly series over rows already grouped by the database. A
breach is read with its NQSW's name and team, since every view of one shows them.

"Open on a date D" means opened on or before D and not resolved by D (``resolved_on``
is null or after D): the dashboards can be read as of any date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from app.auth.reach import Reach
from app.models import Breach, BreachEvent, Staff, Team
from app.models.breach import UNRESOLVED_STATUSES, BreachStatus
from app.repositories.account import people_in_reach

SEVERITY_ORDER = ("info", "low", "medium", "high", "severe")
# The orders a list of breaches can be read in, by name ("severity" and "-severity" are
# ranked in SEVERITY_ORDER).
SORTS = {
    "opened_on": (col(Breach.opened_on), col(Breach.id)),
    "-opened_on": (col(Breach.opened_on).desc(), col(Breach.id).desc()),
    "id": (col(Breach.id),),
    "-id": (col(Breach.id).desc(),),
    "status": (col(Breach.status), col(Breach.id)),
    "rule": (col(Breach.policy_id), col(Breach.rule_id), col(Breach.id)),
    "nqsw": (col(Staff.name), col(Breach.id)),
    "team": (col(Team.name), col(Breach.id)),
}
SEVERITY_SORTS = ("severity", "-severity")


@dataclass(frozen=True)
class BreachFilters:
    status: Sequence[str] = ()
    unresolved: bool | None = None
    team_id: int | None = None
    service_area_id: int | None = None
    policy_id: str | None = None
    rule_id: str | None = None
    kind: str | None = None
    severity: Sequence[str] = ()
    staff_id: int | None = None
    resolution_cause: Sequence[str] = ()
    min_age_days: int | None = None
    open_on: date | None = None
    # The caller's reach (app.auth): only breaches of NQSWs within it; None = all.
    scope: Reach | None = None


def _severity_rank() -> Any:
    return case(
        {name: rank for rank, name in enumerate(SEVERITY_ORDER)}, value=col(Breach.severity),
        else_=-1,
    )


def _base_query(columns: Iterable[Any]) -> Any:
    return (
        select(*columns)
        .select_from(Breach)
        .join(Staff, col(Staff.id) == col(Breach.staff_id))
        .outerjoin(Team, col(Team.id) == col(Staff.team_id))
    )


def open_on_condition(on: date) -> Any:
    """SQL condition: the breach is open on `on` (resolution date exclusive)."""
    return and_(
        col(Breach.opened_on) <= on,
        or_(col(Breach.resolved_on).is_(None), col(Breach.resolved_on) > on),
    )


def _filtered(query: Any, filters: BreachFilters, on: date) -> Any:
    if filters.scope is not None:
        visible = people_in_reach(filters.scope, staff_id=Breach.staff_id,
                                  team_id=Staff.team_id)
        if visible is not None:
            query = query.where(visible)
    if filters.status:
        query = query.where(col(Breach.status).in_(list(filters.status)))
    if filters.unresolved is True:
        query = query.where(col(Breach.status).in_(UNRESOLVED_STATUSES))
    elif filters.unresolved is False:
        query = query.where(col(Breach.status) == BreachStatus.resolved.value)
    if filters.team_id is not None:
        query = query.where(col(Staff.team_id) == filters.team_id)
    if filters.service_area_id is not None:
        query = query.where(col(Team.service_area_id) == filters.service_area_id)
    if filters.policy_id:
        query = query.where(col(Breach.policy_id) == filters.policy_id)
    if filters.rule_id:
        query = query.where(col(Breach.rule_id) == filters.rule_id)
    if filters.kind:
        query = query.where(col(Breach.kind) == filters.kind)
    if filters.severity:
        query = query.where(col(Breach.severity).in_(list(filters.severity)))
    if filters.staff_id is not None:
        query = query.where(col(Breach.staff_id) == filters.staff_id)
    if filters.resolution_cause:
        query = query.where(col(Breach.resolution_cause).in_(list(filters.resolution_cause)))
    if filters.min_age_days is not None:
        query = query.where(col(Breach.opened_on) <= on - timedelta(days=filters.min_age_days))
    if filters.open_on is not None:
        query = query.where(open_on_condition(filters.open_on))
    return query


def _with_names() -> tuple[Any, ...]:
    """A breach with its NQSW's name and team: (Breach, name, team id, team name, area id)."""
    return (Breach, Staff.name, Team.id, Team.name, Team.service_area_id)


def page_of_breaches(
    session: Session, *, filters: BreachFilters, on: date, sort: str, limit: int, offset: int
) -> tuple[list[Any], int]:
    """A page of breaches with their NQSW and team, and how many match (two statements).

    `sort` is one of `SORTS` or `SEVERITY_SORTS` (the caller says so to the user); `on`
    is the date `min_age_days` counts back from.
    """
    query = _filtered(_base_query(_with_names()), filters, on)
    count_query = _filtered(_base_query([func.count(col(Breach.id))]), filters, on)
    if sort == "severity":
        order: tuple[Any, ...] = (_severity_rank(), col(Breach.id))
    elif sort == "-severity":
        order = (_severity_rank().desc(), col(Breach.opened_on), col(Breach.id))
    else:
        order = SORTS[sort]
    rows = list(session.exec(query.order_by(*order).limit(limit).offset(offset)).all())
    total = session.exec(count_query).one()
    return rows, int(total[0] if isinstance(total, tuple) else total)


def breach_with_names(session: Session, breach_id: int) -> Any | None:
    """One breach with its NQSW and team (as `page_of_breaches` rows), or None."""
    return session.exec(_base_query(_with_names()).where(col(Breach.id) == breach_id)).first()


def history_of(session: Session, breach_id: int) -> list[BreachEvent]:
    """Every change to the breach, in the order it happened."""
    return list(session.exec(
        select(BreachEvent).where(col(BreachEvent.breach_id) == breach_id)
        .order_by(col(BreachEvent.id))
    ).all())


def open_on_by_team_rule(session: Session, *, filters: BreachFilters, on: date) -> list[Any]:
    """Breaches open on `on`, counted per (team id, team name, policy, rule, status,
    severity, opening date): one grouped statement."""
    query = _filtered(
        _base_query([
            Team.id, Team.name, Breach.policy_id, Breach.rule_id, Breach.status,
            Breach.severity, Breach.opened_on, func.count(col(Breach.id)),
        ]),
        filters, on,
    ).where(open_on_condition(on)).group_by(
        col(Team.id), col(Team.name), col(Breach.policy_id), col(Breach.rule_id),
        col(Breach.status), col(Breach.severity), col(Breach.opened_on),
    )
    return list(session.exec(query).all())


def opened_and_resolved_since(
    session: Session, *, filters: BreachFilters, on: date, since: date
) -> list[Any]:
    """Breaches opened by `on` and not resolved before `since`, counted per (opening date,
    resolution date): one grouped statement, for weekly series."""
    query = _filtered(
        _base_query([Breach.opened_on, Breach.resolved_on, func.count(col(Breach.id))]),
        filters, on,
    ).where(
        col(Breach.opened_on) <= on,
        or_(col(Breach.resolved_on).is_(None), col(Breach.resolved_on) >= since),
    ).group_by(col(Breach.opened_on), col(Breach.resolved_on))
    return list(session.exec(query).all())


def breach_for_update(session: Session, breach_id: int) -> Breach | None:
    """The breach, locked until the transaction ends (PostgreSQL), so that two people
    acting on it at once are applied one after the other."""
    return session.exec(
        select(Breach).where(col(Breach.id) == breach_id).with_for_update()
    ).first()


def acted_on(
    session: Session, *, breach_id: int, actor_id: int, actions: Sequence[str]
) -> bool:
    """Whether this person recorded one of these actions on the breach, ever."""
    found = session.exec(
        select(BreachEvent.id).where(
            col(BreachEvent.breach_id) == breach_id,
            col(BreachEvent.action).in_(list(actions)),
            col(BreachEvent.actor_id) == actor_id,
        ).limit(1)
    ).first()
    return found is not None


def unresolved_counts_by_staff(session: Session, staff_ids: Sequence[int]) -> dict[int, int]:
    """Unresolved breaches per NQSW, in one statement (people with none are left out)."""
    if not staff_ids:
        return {}
    rows = session.exec(
        select(Breach.staff_id, func.count(col(Breach.id)))
        .where(col(Breach.staff_id).in_(list(staff_ids)),
               col(Breach.status).in_(UNRESOLVED_STATUSES))
        .group_by(col(Breach.staff_id))
    ).all()
    return {staff_id: int(count) for staff_id, count in rows}


def with_unresolved_breaches(session: Session) -> set[int]:
    """Every NQSW with an unresolved breach, by id: the sweep covers them even after their
    programme ends, so that their breaches are resolved."""
    return set(session.exec(
        select(Breach.staff_id).where(col(Breach.status).in_(UNRESOLVED_STATUSES)).distinct()
    ).all())


def unresolved_count(session: Session, staff_id: int, *, opened_by: date) -> int:
    """How many of the NQSW's breaches opened by `opened_by` are unresolved now."""
    return int(session.exec(
        select(func.count(col(Breach.id))).where(
            col(Breach.staff_id) == staff_id,
            col(Breach.status).in_(UNRESOLVED_STATUSES),
            col(Breach.opened_on) <= opened_by,
        )
    ).one())


def overrode_unresolved(
    session: Session, *, staff_id: int, policy_id: str, person_id: int,
    override_actions: Sequence[str],
) -> bool:
    """Whether this person overrode a rule of the policy for the NQSW (as the breach's
    recorded overrider, or by one of `override_actions` in its history) while that
    breach is still unresolved. At most two statements; the second only when the first
    finds nothing."""
    unresolved = (
        select(Breach.id)
        .where(col(Breach.staff_id) == staff_id, col(Breach.policy_id) == policy_id,
               col(Breach.status).in_(UNRESOLVED_STATUSES))
    )
    if session.exec(unresolved.where(col(Breach.override_by_id) == person_id).limit(1)).first():
        return True
    events = unresolved.join(BreachEvent, col(BreachEvent.breach_id) == col(Breach.id)).where(
        col(BreachEvent.action).in_(list(override_actions)),
        col(BreachEvent.actor_id) == person_id,
    )
    return session.exec(events.limit(1)).first() is not None


def unresolved_of(session: Session, staff_ids: Sequence[int]) -> list[Breach]:
    """Every unresolved breach of these people, oldest first, in one query (what a
    reconciliation compares the engine's findings with)."""
    if not staff_ids:
        return []
    return list(session.exec(
        select(Breach)
        .where(col(Breach.staff_id).in_(list(staff_ids)),
               col(Breach.status).in_(UNRESOLVED_STATUSES))
        .order_by(col(Breach.id))
    ).all())
