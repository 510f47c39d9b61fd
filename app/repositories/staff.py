"""Staff (app/models/staff.py) and their dated working terms (`StaffTerm`).

A person's team, FTE and contracted hours change on a date: the row holds the terms in
force since the latest change, each earlier period is a `StaffTerm`. `terms_on` is the
one reader of "their terms on a date", so a question about a past day never sees
today's FTE or team.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, not_, or_
from sqlmodel import Session, col, select

from app.models import Enrolment, ServiceArea, Staff, StaffTerm, Team
from app.repositories import history
from app.repositories.base import get, get_or_404, paginate, where_equal

if TYPE_CHECKING:
    from app.auth.reach import Reach


def active_on(on: date) -> ColumnElement[bool]:
    """Employed on `on`: started by then and not yet left (the leave date is the first day gone)."""
    return and_(
        col(Staff.start_date) <= on,
        or_(col(Staff.leave_date).is_(None), col(Staff.leave_date) > on),
    )


def within_reach(scope: Reach | None) -> ColumnElement[bool] | None:
    """Staff records the caller may see (as `app.auth.reach.reaches` decides one record).

    None means no filter: the caller sees everyone (or no principal is involved).
    """
    if scope is None or scope.everything:
        return None
    area_teams = select(Team.id).where(col(Team.service_area_id).in_(sorted(scope.areas)))
    return or_(
        col(Staff.id).in_(sorted(scope.people)),
        col(Staff.team_id).in_(sorted(scope.teams)),
        col(Staff.team_id).in_(area_teams),
    )


def person(session: Session, staff_id: int | None) -> Staff | None:
    return get(session, Staff, staff_id)


def person_or_404(session: Session, staff_id: int) -> Staff:
    return get_or_404(session, Staff, staff_id, what="staff member")


def people_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, Staff]:
    """These people (ids may repeat or be None), in one statement."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.exec(select(Staff).where(col(Staff.id).in_(wanted))).all()
    return {s.id: s for s in rows if s.id is not None}


def email_taken(session: Session, email: str, *, exclude_id: int | None = None) -> bool:
    query = select(Staff.id).where(Staff.email == email)
    if exclude_id is not None:
        query = query.where(Staff.id != exclude_id)
    return session.exec(query.limit(1)).first() is not None


@dataclass(frozen=True)
class StaffFilter:
    """The optional filters of the staff list; one left None does not narrow it.

    `active`: employed (True) or not employed (False) on the list's date; `search`: part
    of a name or an email address."""

    role: str | None = None
    team_id: int | None = None
    active: bool | None = None
    search: str | None = None


def staff_page(
    session: Session, *, on: date, limit: int, offset: int, filters: StaffFilter,
    scope: Reach | None = None,
) -> tuple[list[Staff], int]:
    """Staff by name; `scope` keeps the list to the records the caller may see."""
    query = select(Staff).order_by(col(Staff.name), col(Staff.id))
    visible = within_reach(scope)
    if visible is not None:
        query = query.where(visible)
    query = where_equal(query, (Staff.role, filters.role), (Staff.team_id, filters.team_id))
    if filters.active is not None:
        query = query.where(active_on(on) if filters.active else not_(active_on(on)))
    if filters.search:
        text = filters.search.strip()
        query = query.where(or_(
            col(Staff.name).icontains(text, autoescape=True),
            col(Staff.email).icontains(text, autoescape=True),
        ))
    return paginate(session, query, limit=limit, offset=offset)


def enrolled_nqsws(
    session: Session, *, on: date, team_ids: Iterable[int] | None = None,
    advanced_practitioner_id: int | None = None,
) -> list[Staff]:
    """NQSWs with an enrolment that has started by `on` and who have not left, by name,
    in these teams (or all), or supported by this advanced practitioner."""
    query = (
        select(Staff)
        .join(Enrolment, col(Enrolment.staff_id) == Staff.id)
        .where(col(Enrolment.start_date) <= on)
        .where(or_(col(Staff.leave_date).is_(None), col(Staff.leave_date) > on))
        .order_by(col(Staff.name))
        .distinct()
    )
    if team_ids is not None:
        query = query.where(col(Staff.team_id).in_(list(team_ids)))
    if advanced_practitioner_id is not None:
        query = query.where(Enrolment.advanced_practitioner_id == advanced_practitioner_id)
    return list(session.exec(query).all())


def current_with_roles(session: Session, roles: Iterable[str]) -> list[Staff]:
    """Staff who have not left, holding any of these roles (e.g. who may approve an exception)."""
    return list(session.exec(
        select(Staff).where(col(Staff.role).in_(list(roles)), col(Staff.leave_date).is_(None))
        .order_by(col(Staff.name))
    ).all())


def managers_of(
    session: Session, staff_ids: Iterable[int]
) -> list[tuple[int, str, int | None, str | None, int | None, int | None, int | None]]:
    """Each person's (id, name, team id, team name, team manager id, service area id,
    senior manager id), in one statement: whom a breach of theirs reaches. The team and
    area columns are None for someone without a team (or a team without an area)."""
    ids = sorted(set(staff_ids))
    if not ids:
        return []
    rows = session.exec(
        select(  # type: ignore[call-overload]
            col(Staff.id), col(Staff.name), col(Team.id), col(Team.name), col(Team.manager_id),
            col(ServiceArea.id), col(ServiceArea.senior_manager_id),
        )
        .select_from(Staff)
        .outerjoin(Team, col(Team.id) == col(Staff.team_id))
        .outerjoin(ServiceArea, col(ServiceArea.id) == col(Team.service_area_id))
        .where(col(Staff.id).in_(ids))
    ).all()
    return [tuple(row) for row in rows]


def ids_with_role(session: Session, ids: Iterable[int], role: str) -> list[int]:
    """Which of these people hold this role, sorted by id (no statement for nobody)."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    rows = session.exec(
        select(Staff.id).where(col(Staff.id).in_(wanted), col(Staff.role) == role)
    ).all()
    return sorted({i for i in rows if i is not None})


def ids_in_post_with_role(session: Session, role: str) -> list[int]:
    """Everyone holding this role who has not left, by id."""
    rows = session.exec(
        select(Staff.id).where(col(Staff.role) == role, col(Staff.leave_date).is_(None))
    ).all()
    return [r for r in rows if r is not None]


# ---- dated terms -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaffTerms:
    """A person's working terms on one date."""

    team_id: int | None
    fte: float
    contracted_hours: float


def terms_on(session: Session, people: Iterable[Staff], on: date) -> dict[int, StaffTerms]:
    """Each person's terms on `on`, in one statement: the period covering it, else the row."""
    rows = {p.id: p for p in people if p.id is not None}
    found = {
        pid: StaffTerms(team_id=p.team_id, fte=p.fte, contracted_hours=p.contracted_hours)
        for pid, p in rows.items()
    }
    if not rows:
        return found
    earlier = session.exec(
        select(StaffTerm).where(
            col(StaffTerm.staff_id).in_(sorted(rows)),
            col(StaffTerm.valid_from) <= on,
            col(StaffTerm.valid_to) > on,
        )
    ).all()
    for period in earlier:
        found[period.staff_id] = StaffTerms(
            team_id=period.team_id, fte=period.fte, contracted_hours=period.contracted_hours
        )
    return found


def term_periods(session: Session, staff_id: int) -> list[StaffTerm]:
    """Every earlier period of a person's terms, oldest first (the row holds the latest)."""
    return history.periods(session, StaffTerm, staff_id)


def lock_people(session: Session, staff_ids: Sequence[int]) -> None:
    """Row-lock these people's staff rows, in id order so that two lockers never deadlock
    (for those with no enrolment to lock)."""
    session.exec(
        select(Staff.id).where(col(Staff.id).in_(list(staff_ids))).order_by(col(Staff.id))
        .with_for_update()
    ).all()
