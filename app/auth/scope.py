"""Filters that keep a list to the caller's reach, for list services to add to their query.

A list route's handler takes `principal: PrincipalDep` and passes
`scope=principal.reach(on)` to its service; the service adds the matching clause:

    visible = access_scope.people(scope, staff_id=Staff.id, team_id=Staff.team_id)
    if visible is not None:
        query = query.where(visible)

`None` means "no filter" (the coordinator; the test suite's all-access principal). The
clauses express exactly the rules of app.auth.reach, so a list never shows what the
single-record routes would refuse.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import false, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from app.auth.reach import Reach
from app.models import Allocation, Enrolment


def people(
    reach: Reach, *, staff_id: Any, team_id: Any | None = None
) -> ColumnElement[bool] | None:
    """Rows about a person (staff, NQSW, enrolment, diary, breach): whose person is in reach."""
    if reach.everything:
        return None
    clauses = [col(staff_id).in_(sorted(reach.people))] if reach.people else []
    if team_id is not None and reach.teams:
        clauses.append(col(team_id).in_(sorted(reach.teams)))
    return or_(*clauses) if clauses else false()


def enrolments(reach: Reach, *, enrolment_id: Any) -> ColumnElement[bool] | None:
    """Rows keyed by enrolment: whose NQSW is in reach (needs the NQSW's team for managers)."""
    if reach.everything:
        return None
    from app.models import Staff

    visible_people = select(Enrolment.id).join(Staff, col(Staff.id) == Enrolment.staff_id)
    condition = people(reach, staff_id=Staff.id, team_id=Staff.team_id)
    return col(enrolment_id).in_(visible_people.where(condition if condition is not None
                                                      else false()))


def cases(reach: Reach, *, case_id: Any, team_id: Any, on: date) -> ColumnElement[bool] | None:
    """Cases (or rows keyed by case): allocated to the caller, of a team in reach, or worked
    on `on` by someone whose cases are in reach."""
    if reach.everything:
        return None
    clauses: list[ColumnElement[bool]] = []
    if reach.cases:
        clauses.append(col(case_id).in_(sorted(reach.cases)))
    if reach.teams:
        clauses.append(col(team_id).in_(sorted(reach.teams)))
    if reach.case_people:
        worked = select(Allocation.case_id).where(
            col(Allocation.worker_id).in_(sorted(reach.case_people)),
            col(Allocation.start_date) <= on,
            or_(col(Allocation.end_date).is_(None), col(Allocation.end_date) >= on),
        )
        clauses.append(col(case_id).in_(worked))
    return or_(*clauses) if clauses else false()


def allocations(
    reach: Reach, *, worker_id: Any, case_id: Any, on: date
) -> ColumnElement[bool] | None:
    """Allocations: of a worker in reach, or on a case in reach."""
    if reach.everything:
        return None
    from app.models import Case

    visible_case = cases(reach, case_id=Case.id, team_id=Case.team_id, on=on)
    by_case = col(case_id).in_(select(Case.id).where(visible_case if visible_case is not None
                                                     else false()))
    workers = sorted(reach.people | reach.case_people)
    by_worker = col(worker_id).in_(workers) if workers else false()
    return or_(by_worker, by_case)
