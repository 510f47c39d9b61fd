"""Small read queries the pages need and no service offers (yet).

Pages never write `select()` in a route; when a service grows one of these, the page
switches to it and the query here goes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.models import Allocation, Case, Enrolment, ServiceArea, Staff, Team
from app.services.snapshots import allocation_active_on, case_open_on
from app.web.viewer import Viewer


def viewer_for_staff(session: Session, staff_id: int, *, account_id: int | None = None,
                     role: str | None = None, email: str | None = None) -> Viewer:
    """The person behind a signed-in account, with the teams and areas they answer for."""
    staff = session.get(Staff, staff_id)
    managed = session.exec(
        select(Team.id).where(Team.manager_id == staff_id, col(Team.closed_on).is_(None))
    ).all()
    areas = session.exec(
        select(ServiceArea.id).where(
            ServiceArea.senior_manager_id == staff_id, col(ServiceArea.closed_on).is_(None)
        )
    ).all()
    return Viewer(
        staff_id=staff_id,
        name=staff.name if staff else (email or "Unknown"),
        role=role or (staff.role if staff else "nqsw"),
        email=email or (staff.email if staff else ""),
        team_id=staff.team_id if staff else None,
        managed_team_ids=tuple(i for i in managed if i is not None),
        service_area_ids=tuple(i for i in areas if i is not None),
        account_id=account_id,
    )


def visible_team_ids(session: Session, viewer: Viewer) -> list[int] | None:
    """Teams whose NQSWs this person may list; None means every team (coordinators).

    The person's reach is app.auth's (the principal the page guard signed in), the same
    that decides every record the API and the pages show; without one, no team.
    """
    principal: Any = viewer.extra.get("principal")
    if principal is None:
        return []
    teams = principal.visible_team_ids()
    return None if teams is None else sorted(teams)


def teams(session: Session, ids: Iterable[int] | None = None) -> list[Team]:
    query = select(Team).where(col(Team.closed_on).is_(None)).order_by(Team.name)
    if ids is not None:
        query = query.where(col(Team.id).in_(list(ids)))
    return list(session.exec(query).all())


def nqsw_staff(
    session: Session, *, on: date, team_ids: Iterable[int] | None = None,
    advanced_practitioner_id: int | None = None,
) -> list[Staff]:
    """NQSWs with an enrolment that has started by `on`, in these teams (or all)."""
    query = (
        select(Staff)
        .join(Enrolment, col(Enrolment.staff_id) == Staff.id)
        .where(col(Enrolment.start_date) <= on)
        .where(or_(col(Staff.leave_date).is_(None), col(Staff.leave_date) > on))
        .order_by(Staff.name)
        .distinct()
    )
    if team_ids is not None:
        query = query.where(col(Staff.team_id).in_(list(team_ids)))
    if advanced_practitioner_id is not None:
        query = query.where(Enrolment.advanced_practitioner_id == advanced_practitioner_id)
    return list(session.exec(query).all())


def staff_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, Staff]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.exec(select(Staff).where(col(Staff.id).in_(wanted))).all()
    return {s.id: s for s in rows if s.id is not None}


def latest_enrolment(session: Session, staff_id: int) -> Enrolment | None:
    """The NQSW's most recent enrolment, current or not (to explain a finished one)."""
    return session.exec(
        select(Enrolment)
        .where(Enrolment.staff_id == staff_id)
        .order_by(col(Enrolment.start_date).desc(), col(Enrolment.id).desc())
    ).first()


def caseload(session: Session, staff_id: int, on: date) -> list[tuple[Allocation, Case]]:
    """Allocations active on `on` for this worker, with their cases, oldest first."""
    rows = session.exec(
        select(Allocation, Case)
        .join(Case, col(Case.id) == Allocation.case_id)
        .where(Allocation.worker_id == staff_id, allocation_active_on(on), case_open_on(on))
        .order_by(col(Allocation.start_date), col(Allocation.id))
    ).all()
    return [(a, c) for a, c in rows]


def case_holders(session: Session, case_ids: Iterable[int], on: date) -> dict[int, Staff]:
    """The named holder of each case on `on` (for co-worked cases: who holds it)."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(Allocation, Staff)
        .join(Staff, col(Staff.id) == Allocation.worker_id)
        .where(col(Allocation.case_id).in_(ids), Allocation.role == "holder")
        .where(allocation_active_on(on))
    ).all()
    return {a.case_id: s for a, s in rows}


def case_by_reference(session: Session, reference: str) -> Case | None:
    return session.exec(select(Case).where(Case.reference == reference.strip())).first()


def open_cases_for_teams(
    session: Session, team_ids: Iterable[int] | None, on: date, *, limit: int = 300
) -> list[Case]:
    """Open cases a manager might allocate (newest first), for the form's suggestions."""
    query = (
        select(Case)
        .where(case_open_on(on))
        .order_by(col(Case.opened_on).desc(), col(Case.id).desc())
        .limit(limit)
    )
    if team_ids is not None:
        query = query.where(col(Case.team_id).in_(list(team_ids)))
    return list(session.exec(query).all())


def staff_with_roles(session: Session, roles: Iterable[str]) -> list[Staff]:
    """Current staff holding any of these roles (e.g. who may approve an exception)."""
    return list(session.exec(
        select(Staff).where(col(Staff.role).in_(list(roles)), col(Staff.leave_date).is_(None))
        .order_by(Staff.name)
    ).all())
